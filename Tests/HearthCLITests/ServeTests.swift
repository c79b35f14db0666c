import Foundation
import HearthTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `hearth serve` as a real child process on loopback.
@Suite(.serialized) struct ServeTests {
    static let password = "a long family password"

    @Test func firstRunSetupThenInviteThenRegisterAndSignIn() async throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let server = try ServerProcess(data: temp.data)
        defer { server.stop() }

        // The one-time setup link and its QR code.
        #expect(server.stdout.contains("No admin account exists yet"))
        #expect(server.stdout.contains("\(server.url)/setup?token="))
        #expect(server.stdout.contains("█"))
        let token = try #require(server.setupToken)
        let (pageStatus, _, page) = try await server.request("GET", "/setup?token=\(token)")
        #expect(pageStatus == 200)
        #expect(page.contains("Create admin account"))

        let (setupStatus, setup, _) = try await server.request(
            "POST", "/api/v1/setup", json: ["token": token, "username": "mum", "password": Self.password])
        #expect(setupStatus == 201)
        #expect((setup["user"] as? [String: Any])?["role"] as? String == "admin")
        let (reuseStatus, _, _) = try await server.request(
            "POST", "/api/v1/setup", json: ["token": token, "username": "eve", "password": Self.password])
        #expect(reuseStatus == 410)

        // The invite URL printed by the CLI points at the running server.
        let invite = try hearth(["invite", "create", "--data", temp.data])
        #expect(invite.status == 0, "\(invite.stderr)")
        let inviteURL = String(invite.stdout.split(separator: "\n")[0])
        #expect(inviteURL.hasPrefix("\(server.url)/invite/"))
        let code = String(inviteURL.split(separator: "/").last ?? "")
        let (invitePage, _, _) = try await server.request("GET", "/invite/\(code)")
        #expect(invitePage == 200)

        let (registerStatus, registered, _) = try await server.request(
            "POST", "/api/v1/register", json: ["username": "kid", "password": Self.password, "invite": code])
        #expect(registerStatus == 201)
        let (loginStatus, login, _) = try await server.request(
            "POST", "/api/v1/login", json: ["username": "kid", "password": Self.password])
        #expect(loginStatus == 200)
        let kidToken = try #require(login["token"] as? String)
        let (meStatus, me, _) = try await server.request("GET", "/api/v1/me", token: kidToken)
        #expect(meStatus == 200)
        #expect((me["user"] as? [String: Any])?["username"] as? String == "kid")
        #expect(registered["token"] as? String != kidToken)

        // CLI commands act on the running server's data at once: disabling the kid ends their
        // sessions, and the server closes their open socket (told by SIGUSR1).
        #expect(try hearth(["user", "list", "--data", temp.data]).stdout.contains("kid"))
        let socket = try SocketWatcher(url: server.url, token: kidToken, directory: temp.url)
        #expect(try hearth(["user", "disable", "kid", "--data", temp.data]).status == 0)
        let (afterDisable, _, _) = try await server.request("GET", "/api/v1/me", token: kidToken)
        #expect(afterDisable == 401)
        #expect(socket.closeCode() == "4001")

        // Everything lives in the one file.
        #expect(FileManager.default.fileExists(atPath: temp.data + "/hearth.sqlite"))
        #expect(server.stop() == 0)

        // A restart with an admin prints no setup link.
        let again = try ServerProcess(data: temp.data)
        defer { again.stop() }
        #expect(!again.stdout.contains("setup?token="))
        #expect(again.stop() == 0)
    }

    @Test func theBinaryRunsAloneFromAnotherFolder() async throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let copy = temp.url.appending(path: "bin/hearth")
        try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: try HearthBinary.url, to: copy)
        let workdir = temp.url.appending(path: "elsewhere")
        try FileManager.default.createDirectory(at: workdir, withIntermediateDirectories: true)

        // No --data: the default ./hearth-data in the working folder.
        let server = try ServerProcess(data: "", executable: copy, directory: workdir)
        defer { server.stop() }
        #expect(FileManager.default.fileExists(atPath: workdir.path + "/hearth-data/hearth.sqlite"))
        let (status, _, page) = try await server.request("GET", "/")
        #expect(status == 200)
        #expect(page.contains("data-testid=\"login-submit\""))
        let (scriptStatus, _, script) = try await server.request("GET", "/app.js")
        #expect(scriptStatus == 200 && script.contains("import"))
        let (health, body, _) = try await server.request("GET", "/healthz")
        #expect(health == 200 && body["status"] as? String == "ok")
        #expect(server.stop() == 0)
    }

    @Test func theCLIWorksWhileTheServerWrites() async throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let passwordFile = try temp.file("pw", Self.password)
        #expect(try hearth(["registration", "open", "--data", temp.data]).status == 0)
        let server = try ServerProcess(data: temp.data, extra: ["--argon2-memory", "1024", "--argon2-iterations", "1"])
        defer { server.stop() }

        // Registrations through the server and accounts from the CLI, interleaved.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for index in 0..<4 {
                    let (status, _, body) = try await server.request(
                        "POST", "/api/v1/register", json: ["username": "web\(index)", "password": Self.password])
                    #expect(status == 201, "\(body)")
                }
            }
            group.addTask {
                for index in 0..<4 {
                    let result = try hearth([
                        "user", "add", "cli\(index)", "--password-file", passwordFile, "--data", temp.data,
                    ])
                    #expect(result.status == 0, "\(result.stderr)")
                }
            }
            try await group.waitForAll()
        }
        let list = try hearth(["user", "list", "--data", temp.data])
        #expect(list.stdout.split(separator: "\n").count == 9)
        #expect(server.stop() == 0)
    }
}

/// A WebSocket held open by Tests/Scripts/socket_closes.py, reporting the close code it gets.
struct SocketWatcher {
    let process = Process()
    let output = Pipe()

    init(url: String, token: String, directory: URL) throws {
        let ready = directory.appending(path: "socket-ready")
        let script = TestScript.url("socket_closes.py")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", script.path, url.replacingOccurrences(of: "http://", with: "ws://") + "/api/v1/ws", token,
            ready.path,
        ]
        process.standardOutput = output
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: ready.path), Date() < deadline, process.isRunning {
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    /// The close code printed by the script once the server closed the socket.
    func closeCode() -> String {
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
