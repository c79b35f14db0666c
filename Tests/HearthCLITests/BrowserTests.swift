import Credentials
import Foundation
import HearthTestSupport
import Testing

/// The first run as a user meets it: headless Chromium (Debian's `chromium` and `chromium-driver`,
/// driven by Selenium) opens the setup link, then an invite link, signs out and in again.
@Suite struct BrowserTests {
    @Test func firstRunInARealBrowser() async throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let server = try ServerProcess(data: temp.data)
        defer { server.stop() }
        let token = try #require(server.setupToken)
        let invite = try hearth(["invite", "create", "--data", temp.data])
        let inviteURL = String(invite.stdout.split(separator: "\n").first ?? "")

        let text = try TestScript.run("first_run.py", [server.url, token, inviteURL])
        #expect(text.hasSuffix("OK\n"), "\(text)")
        #expect(try hearth(["user", "list", "--data", temp.data]).stdout.contains("kid"))
    }

    @Test func linkingAPhoneInRealBrowsers() async throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let password = try temp.file("pw", "a long family password")
        #expect(
            try hearth(["user", "add", "mum", "--admin", "--password-file", password, "--data", temp.data]).status == 0)
        let server = try ServerProcess(data: temp.data)
        defer { server.stop() }
        let text = try TestScript.run("link_flow.py", [server.url, "mum", "a long family password"])
        #expect(text.hasSuffix("OK\n"), "\(text)")
    }

    @Test func twoPeopleChatThroughCutsAndReloads() async throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let password = try temp.file("pw", "a long family password")
        for name in ["mum", "dad"] {
            #expect(try hearth(["user", "add", name, "--password-file", password, "--data", temp.data]).status == 0)
        }
        let image = temp.url.appending(path: "photo.png")
        try Data(try QRCode("a photo of the garden").png(scale: 12)).write(to: image)
        let server = try ServerProcess(data: temp.data)
        defer { server.stop() }
        let shots =
            ProcessInfo.processInfo.environment["HEARTH_SCREENSHOTS"] ?? temp.url.appending(path: "screens").path
        let text = try TestScript.run(
            "chat.py", [server.url, "a long family password", image.path, shots, temp.data])
        #expect(text.hasSuffix("OK\n"), "\(text)")
        print(text)
    }

    @Test func conversationsInRealBrowsers() async throws {
        try Self.familyScript(
            "conversation.py", users: ["mum", "dad", "kid", "gran"], roles: ["gran": "moderator", "mum": "admin"])
    }

    @Test func theInstallableAppWorksOfflineAndShowsPushes() async throws {
        print(try Self.binaryScript("pwa.py", users: ["mum", "dad"]))
    }

    /// A new build's service worker is offered ("A new version of Hearth is ready") and, on
    /// Reload, takes over with only its own cache left.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx")))
    func aNewVersionIsOfferedAndTakesOver() async throws {
        print(try Self.binaryScript("update_prompt.py", users: ["mum"]))
    }

    @Test func searchFindsAnOldMessageAndOpensTheChatThere() async throws {
        try Self.familyScript("search.py", users: ["mum", "dad"], withData: true)
    }

    @Test func aNameAndAPictureReachTheFamily() async throws {
        try Self.familyScript("profiles.py", users: ["mum", "dad"], roles: ["mum": "admin"])
    }

    /// A voice note recorded with Chromium's fake microphone, sent, and played in the other
    /// browser; cancelled ones are not sent; a video (made by ffmpeg) plays inline.
    @Test func voiceNotesAndVideosInRealBrowsers() async throws {
        let samples = try TempDirectory()
        defer { samples.remove() }
        try TestScript.run("make_samples.py", [samples.url.path])
        try Self.familyScript(
            "voice_note.py", users: ["mum", "dad"], arguments: [samples.url.appending(path: "clip.mp4").path])
    }

    /// A webhook added in the group's settings, posted to, shown with its bot badge, revoked.
    @Test func aWebhookFromTheGroupSettings() async throws {
        // Outgoing webhooks may call the test's receiver on 127.0.0.2, not the rest of loopback.
        try Self.familyScript(
            "webhook_ui.py", users: ["mum", "dad"], environment: ["HEARTH_WEBHOOK_ALLOW_PRIVATE": "127.0.0.2"])
    }

    /// Two Chromiums with fake cameras call each other: both connections reach `connected` and
    /// bytes flow; hang-up ends it on both sides and the chat shows the call's line.
    @Test func aVideoCallBetweenTwoBrowsers() async throws {
        print(try Self.familyScript("call_ui.py", users: ["mum", "dad"]))
    }

    /// Four browsers in one group call: a mesh of six connections, three tiles each, the speaker
    /// view, and the server's CPU while media flow (near zero: they do not pass through it).
    @Test func aGroupCallOfFour() throws {
        print(try Self.familyScript("call_group.py", users: ["mum", "dad", "kid", "gran"]))
    }

    /// The same call through a real TURN server: Debian's coturn on loopback with
    /// `use-auth-secret`, hearth minting credentials with the same secret, and both browsers
    /// allowed only relay candidates. It connects through coturn; with a wrong secret it does not.
    @Test func aCallThroughCoturnWithMintedCredentials() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let secret = "hearth-coturn-\(UUID().uuidString)"
        let port = try freePort()
        let turn = Process()
        turn.executableURL = URL(fileURLWithPath: "/usr/bin/turnserver")
        turn.arguments = [
            "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", "--listening-port=\(port)",
            "--min-port=\(port + 1)", "--max-port=\(port + 200)", "--use-auth-secret",
            "--static-auth-secret=\(secret)", "--realm=hearth.test", "--allow-loopback-peers", "--no-tls",
            "--no-dtls", "--no-cli", "--fingerprint", "--log-file=stdout", "--simple-log",
        ]
        let logFile = try temp.file("coturn.log", "")
        turn.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
        turn.standardError = FileHandle.nullDevice
        try turn.run()
        defer {
            // coturn takes its time over SIGTERM; the test's server is of no further use.
            kill(turn.processIdentifier, SIGKILL)
            turn.waitUntilExit()
        }
        let deadline = Date().addingTimeInterval(10)
        while !isListening(port: port), Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        #expect(isListening(port: port), "coturn did not start")
        let uri = "turn:127.0.0.1:\(port)"
        let right = try temp.file("turn-secret", secret)
        print(
            try Self.familyScript(
                "call_ui.py", users: ["mum", "dad"], arguments: ["relay"],
                environment: ["HEARTH_TURN_URI": uri, "HEARTH_TURN_SECRET_FILE": right]))
        let wrong = try temp.file("wrong-secret", "not-the-secret-coturn-has-\(UUID().uuidString)")
        print(
            try Self.familyScript(
                "call_ui.py", users: ["mum", "dad"], arguments: ["norelay"],
                environment: ["HEARTH_TURN_URI": uri, "HEARTH_TURN_SECRET_FILE": wrong]))
    }

    @Test func pinArchiveAndMuteFromTheChatsMenu() async throws {
        try Self.familyScript("chat_list.py", users: ["mum", "dad", "gran"])
    }

    /// Every page of the chat and of the panel at 360–430 px and 1280 px, light and dark: nothing
    /// wider than the screen, no serious or critical axe-core finding, dialogs that keep focus.
    @Test func everyPageFitsAPhoneAndPassesAxe() async throws {
        print(
            try Self.familyScript(
                "every_page.py", users: ["mum", "dad", "kid", "gran"], roles: ["mum": "admin", "gran": "moderator"]))
    }

    @Test func runningTheServerFromTheAdminPanel() async throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let password = try temp.file("pw", "a long family password")
        for (name, flags) in [("mum", ["--admin"]), ("kid", [])] {
            #expect(
                try hearth(["user", "add", name, "--password-file", password, "--data", temp.data] + flags).status == 0)
        }
        // A folder that does not exist yet: the panel makes it.
        let backups = temp.url.appending(path: "usb/hearth")
        let key = temp.url.appending(path: "key.txt").path
        let server = try ServerProcess(data: temp.data)
        defer { server.stop() }
        // Screenshots go to $HEARTH_SCREENSHOTS when set, to look at; else they are thrown away.
        let shots =
            ProcessInfo.processInfo.environment["HEARTH_SCREENSHOTS"] ?? temp.url.appending(path: "screens").path
        let text = try TestScript.run(
            "admin_panel.py", [server.url, "mum", "a long family password", backups.path, key, shots])
        #expect(text.hasSuffix("OK\n"), "\(text)")
        // The backup the panel made opens with the key the panel offered for download.
        let files = try FileManager.default.contentsOfDirectory(atPath: backups.path).filter { $0.hasSuffix(".age") }
        #expect(files.count == 1)
        let restored = try hearth(
            [
                "restore", backups.appending(path: files.first ?? "").path, "--identity", key, "--data",
                temp.url.appending(path: "restored").path, "--yes",
            ])
        #expect(restored.status == 0, "\(restored.stderr)")
    }

    /// Runs `script HEARTH_BINARY DATA PASSWORD SCREENSHOTS` (a script that starts `hearth serve`
    /// itself) over a data directory with `users`, and expects it to print OK; returns its output.
    @discardableResult
    static func binaryScript(_ script: String, users: [String]) throws -> String {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let password = try temp.file("pw", "a long family password")
        for name in users {
            #expect(try hearth(["user", "add", name, "--password-file", password, "--data", temp.data]).status == 0)
        }
        let shots =
            ProcessInfo.processInfo.environment["HEARTH_SCREENSHOTS"] ?? temp.url.appending(path: "screens").path
        let text = try TestScript.run(script, [try HearthBinary.url.path, temp.data, "a long family password", shots])
        #expect(text.hasSuffix("OK\n"), "\(text)")
        return text
    }

    /// Runs `script URL PASSWORD SCREENSHOTS [DATA] [ARGUMENTS…]` against a `hearth serve` whose `users` share
    /// the family password (with `roles` by name), and expects it to print OK; returns its output.
    /// Screenshots go to $HEARTH_SCREENSHOTS when set, to look at; else they are thrown away.
    @discardableResult
    static func familyScript(
        _ script: String, users: [String], roles: [String: String] = [:], withData: Bool = false,
        arguments: [String] = [], environment: [String: String] = [:]
    ) throws -> String {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let password = try temp.file("pw", "a long family password")
        for name in users {
            #expect(try hearth(["user", "add", name, "--password-file", password, "--data", temp.data]).status == 0)
        }
        for (name, role) in roles.sorted(by: { $0.key < $1.key }) {
            #expect(try hearth(["user", "role", name, role, "--data", temp.data]).status == 0)
        }
        let server = try ServerProcess(data: temp.data, environment: environment)
        defer { server.stop() }
        let shots =
            ProcessInfo.processInfo.environment["HEARTH_SCREENSHOTS"] ?? temp.url.appending(path: "screens").path
        let text = try TestScript.run(
            script, [server.url, "a long family password", shots] + (withData ? [temp.data] : []) + arguments)
        #expect(text.hasSuffix("OK\n"), "\(text)")
        return text
    }
}
