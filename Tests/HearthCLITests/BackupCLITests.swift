import Foundation
import HearthTestSupport
import Testing

/// `hearth backup`, `restore`, `keygen` and `decrypt` as a user runs them, with Debian's age.
@Suite struct BackupCLITests {
    static let password = "a long family password\n"

    func run(_ tool: String, _ arguments: [String], directory: URL? = nil) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    func usernames(in sqlite: String) throws -> String {
        try run(
            "python3",
            [
                "-c",
                "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select group_concat(username) from users').fetchone()[0])",
                sqlite,
            ]
        ).stdout
    }

    @Test func backupsOpenWithDebiansAgeAndItsFilesWithOurs() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let passwordFile = try temp.file("pw", Self.password)
        #expect(try hearth(["user", "add", "mum", "--password-file", passwordFile, "--data", temp.data]).status == 0)

        // keygen: the identity file is private and never overwritten; the recipient is printed.
        let key = temp.url.appending(path: "key.txt").path
        let keygen = try hearth(["keygen", "--out", key])
        let recipient = keygen.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(recipient.hasPrefix("age1"))
        #expect((try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int) == 0o600)
        #expect(try hearth(["keygen", "--out", key]).status != 0)

        // Our backup → Debian's age → a database sqlite opens.
        let backup = temp.url.appending(path: "hearth.age").path
        let made = try hearth(["backup", "--out", backup, "--recipient", recipient, "--data", temp.data])
        #expect(made.status == 0, "\(made.stderr)")
        let plain = temp.url.appending(path: "plain.sqlite").path
        #expect(try run("age", ["-d", "-i", key, "-o", plain, backup]).status == 0)
        #expect(try usernames(in: plain) == "mum\n")

        // Debian's age → hearth decrypt.
        let theirs = temp.url.appending(path: "theirs.age").path
        let note = try temp.file("note.txt", "hello from age\n")
        #expect(try run("age", ["-r", recipient, "-o", theirs, note]).status == 0)
        let decrypted = try hearth(["decrypt", "--identity", key, theirs])
        #expect(decrypted.stdout == "hello from age\n")

        // Passphrases, both ways, through a terminal for Debian's age.
        let passphrase = try temp.file("passphrase", "correct horse battery staple\n")
        let sealed = temp.url.appending(path: "sealed.age").path
        #expect(
            try hearth(["backup", "--out", sealed, "--passphrase-file", passphrase, "--data", temp.data]).status == 0)
        let script = TestScript.url("age_passphrase.py").path
        let opened = temp.url.appending(path: "opened.sqlite").path
        let ageDecrypt = try run("python3", [script, "decrypt", sealed, opened, "correct horse battery staple"])
        #expect(ageDecrypt.status == 0, "\(ageDecrypt.stdout) \(ageDecrypt.stderr)")
        #expect(try usernames(in: opened) == "mum\n")
        let theirSealed = temp.url.appending(path: "their-sealed.age").path
        #expect(try run("python3", [script, "encrypt", note, theirSealed, "correct horse battery staple"]).status == 0)
        #expect(try hearth(["decrypt", "--passphrase-file", passphrase, theirSealed]).stdout == "hello from age\n")
        let wrong = try temp.file("wrong", "not it\n")
        let refused = try hearth(["decrypt", "--passphrase-file", wrong, theirSealed])
        #expect(refused.status != 0 && refused.stderr.contains("wrong key or passphrase"))

        // Restore on a new machine. It shows what the backup holds and asks first: age says
        // nothing of who made a file, so without a terminal to ask in it needs --yes.
        let newData = temp.url.appending(path: "restored").path
        let unasked = try hearth(["restore", backup, "--identity", key, "--data", newData])
        #expect(unasked.status != 0 && unasked.stderr.contains("--yes"), "\(unasked.stderr)")
        #expect(unasked.stdout.contains("users:           1"), "\(unasked.stdout)")
        #expect(!FileManager.default.fileExists(atPath: newData + "/hearth.sqlite"))
        let restored = try hearth(["restore", backup, "--identity", key, "--data", newData, "--yes"])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(restored.stdout.contains("made:") && !restored.stdout.contains("not recorded (a backup"))
        #expect(restored.stdout.contains("messages:        0"))
        #expect(try hearth(["user", "list", "--data", newData]).stdout.contains("mum"))
        // A second restore keeps the first database aside, and no scratch file of either stays.
        let again = try hearth(["restore", sealed, "--passphrase-file", passphrase, "--data", newData, "--yes"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("pre-restore-"))
        let scratch = try FileManager.default.contentsOfDirectory(atPath: newData).filter { $0.hasPrefix(".restore-") }
        #expect(scratch.isEmpty, "\(scratch)")
    }

    @Test func restoreAsksAtTheTerminalAndChangesNothingWhenTheAnswerIsNo() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let passwordFile = try temp.file("pw", Self.password)
        #expect(try hearth(["user", "add", "mum", "--password-file", passwordFile, "--data", temp.data]).status == 0)
        let key = temp.url.appending(path: "key.txt").path
        let recipient = try hearth(["keygen", "--out", key]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let backup = temp.url.appending(path: "b.age").path
        #expect(try hearth(["backup", "--out", backup, "--recipient", recipient, "--data", temp.data]).status == 0)
        let script = TestScript.url("restore_prompt.py").path
        let binary = try HearthBinary.url.path
        let newData = temp.url.appending(path: "restored").path
        let no = try run("python3", [script, binary, backup, key, newData, "n"])
        #expect(no.status != 0 && no.stdout.contains("Not restored"), "\(no.stdout)")
        #expect(no.stdout.contains("users:           1"))
        #expect(!FileManager.default.fileExists(atPath: newData + "/hearth.sqlite"))
        let yes = try run("python3", [script, binary, backup, key, newData, "y"])
        #expect(yes.status == 0 && yes.stdout.contains("Restored"), "\(yes.stdout)")
        #expect(try hearth(["user", "list", "--data", newData]).stdout.contains("mum"))
    }

    @Test func aWeakBackupPassphraseIsRefusedUnlessSaidSo() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let out = temp.url.appending(path: "x.age").path
        let short = try hearth(["backup", "--out", out, "--passphrase-file", "-", "--data", temp.data], stdin: "x\n")
        #expect(short.status != 0 && short.stderr.contains("too weak"), "\(short.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
        let common = try hearth(
            ["backup", "--out", out, "--passphrase-file", "-", "--data", temp.data], stdin: "password123\n")
        #expect(common.status != 0 && common.stderr.contains("too common"), "\(common.stderr)")
        let anyway = try hearth(
            ["backup", "--out", out, "--passphrase-file", "-", "--weak-passphrase", "--data", temp.data],
            stdin: "x\n")
        #expect(anyway.status == 0, "\(anyway.stderr)")
        #expect(FileManager.default.fileExists(atPath: out))
    }

    @Test func restoreIsRefusedWhileTheServerRuns() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let key = temp.url.appending(path: "key.txt").path
        let recipient = try hearth(["keygen", "--out", key]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let server = try ServerProcess(data: temp.data)
        defer { server.stop() }
        // A backup while serving works…
        let backup = temp.url.appending(path: "b.age").path
        #expect(try hearth(["backup", "--out", backup, "--recipient", recipient, "--data", temp.data]).status == 0)
        // …a restore does not, and a second server cannot start on the same data dir.
        let refused = try hearth(["restore", backup, "--identity", key, "--data", temp.data])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("stop it first"))
        #expect(throws: (any Error).self) { _ = try ServerProcess(data: temp.data) }
        #expect(server.stop() == 0)
        #expect(try hearth(["restore", backup, "--identity", key, "--data", temp.data, "--yes"]).status == 0)
    }

    @Test func backupMistakesAreOneLineErrors() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let cases: [[String]] = [
            ["backup", "--out", temp.url.appending(path: "x.age").path],
            ["backup", "--out", temp.url.appending(path: "x.age").path, "--recipient", "age1nope"],
            [
                "backup", "--out", "/nonexistent/x.age", "--recipient",
                "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq",
            ],
            ["restore", "/nonexistent.age", "--identity", "/nonexistent.key"],
            ["restore", temp.url.path, "--identity", "/etc/hostname"],
            ["backup", "--out", temp.url.appending(path: "y.age").path, "--passphrase-file", "/etc/hostname"],
            ["decrypt", "/etc/hostname"],
        ]
        for arguments in cases {
            let result = try hearth(arguments + (arguments[0] == "decrypt" ? [] : ["--data", temp.data]))
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stderr.hasPrefix("Error: "), "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
        }
    }
}
