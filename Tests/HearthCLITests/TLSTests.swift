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
        let text = try BrowserTests.runScript(
            "tls_check.py", [server.url, certificate, "mum", "a long family password"])
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
