import Foundation
import HearthTestSupport
import Testing

/// `hearth serve --tls-cert --tls-key`: HTTPS and WSS without a proxy, with a real certificate
/// made by `openssl` and real clients (Python's ssl and websocket-client) that verify it.
@Suite struct TLSTests {
    @Test func servesHTTPSAndWSSWithSecureHostCookies() async throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let (certificate, key) = try makeTestCertificate(in: temp.url)
        let password = try temp.file("pw", "a long family password")
        #expect(try hearth(["user", "add", "mum", "--password-file", password, "--data", temp.data]).status == 0)
        let server = try ServerProcess(data: temp.data, extra: ["--tls-cert", certificate, "--tls-key", key])
        defer { server.stop() }
        #expect(server.url.hasPrefix("https://127.0.0.1:"))
        let text = try TestScript.run(
            "tls_check.py", [server.url, certificate, "mum", "a long family password"])
        #expect(text.hasSuffix("OK\n"), "\(text)")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx")))
    func behindNginxConfiguredAsTheReadmeSays() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let (certificate, key) = try makeTestCertificate(in: temp.url)
        let password = try temp.file("pw", "a long family password")
        #expect(try hearth(["user", "add", "mum", "--password-file", password, "--data", temp.data]).status == 0)
        let (proxyPort, hearthPort) = (try freePort(), try freePort())
        // The announced URL is the public one, so hearth's own port is chosen here (the last
        // --port wins).
        let server = try ServerProcess(
            data: temp.data,
            extra: [
                "--port", "\(hearthPort)", "--trusted-proxy", "127.0.0.1", "--public-url",
                "https://127.0.0.1:\(proxyPort)",
            ])
        defer { server.stop() }
        #expect(server.url == "https://127.0.0.1:\(proxyPort)")
        // The README's nginx block, with this test's ports and certificate.
        let readme = try String(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "../../README.md"),
            encoding: .utf8)
        let block =
            try #require(readme.components(separatedBy: "nginx:\n\n```\n").dropFirst().first)
            .components(separatedBy: "```").first ?? ""
        let site = block.replacingOccurrences(of: "listen 443 ssl;", with: "listen 127.0.0.1:\(proxyPort) ssl;")
            .replacingOccurrences(of: "/etc/letsencrypt/live/chat.example.org/fullchain.pem", with: certificate)
            .replacingOccurrences(of: "/etc/letsencrypt/live/chat.example.org/privkey.pem", with: key)
            .replacingOccurrences(of: "127.0.0.1:8080", with: "127.0.0.1:\(hearthPort)")
        #expect(site.contains("127.0.0.1:\(hearthPort)") && site.contains(certificate), "\(site)")
        let directory = temp.url.path
        let configuration = try temp.file(
            "nginx.conf",
            """
            worker_processes 1;
            pid \(directory)/nginx.pid;
            error_log \(directory)/nginx-error.log;
            events {}
            http {
                access_log off;
                client_body_temp_path \(directory);
                proxy_temp_path \(directory);
            \(site)
            }
            """)
        let nginx = Process()
        nginx.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
        nginx.arguments = ["-c", configuration, "-g", "daemon off;"]
        try nginx.run()
        defer {
            nginx.terminate()
            nginx.waitUntilExit()
        }
        let deadline = Date().addingTimeInterval(20)
        while !isListening(port: proxyPort), Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        let text = try TestScript.run(
            "tls_check.py", ["https://127.0.0.1:\(proxyPort)", certificate, "mum", "a long family password"])
        #expect(text.hasSuffix("OK\n"), "\(text)")
    }

    @Test func badCertificateFilesStopServeWithTheFileNamed() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let (certificate, key) = try makeTestCertificate(in: temp.url)
        let (_, otherKey) = try makeTestCertificate(in: temp.url, name: "other")
        let notPEM = try temp.file("notes.txt", "not a certificate")
        let cases: [([String], String)] = [
            (["--tls-cert", certificate], "--tls-cert needs --tls-key"),
            (["--tls-key", key], "--tls-key needs --tls-cert"),
            (["--tls-cert", temp.url.appending(path: "missing.pem").path, "--tls-key", key], "missing.pem"),
            (["--tls-cert", notPEM, "--tls-key", key], "notes.txt"),
            (["--tls-cert", certificate, "--tls-key", notPEM], "notes.txt"),
            (["--tls-cert", certificate, "--tls-key", otherKey], "does not belong to the certificate"),
        ]
        for (arguments, message) in cases {
            let result = try hearth(
                ["serve", "--data", temp.data, "--host", "127.0.0.1", "--port", "0"] + arguments)
            #expect(result.status != 0, "\(arguments) started the server")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }
}

/// A TCP port nothing listens on now (the kernel's pick; free again once this returns).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard bound else { throw CLIFailure("no free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
func isListening(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}
