import Foundation
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
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appending(path: "../Browser/age_passphrase.py").standardizedFileURL.path
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

        // Restore on a new machine; a second restore keeps the first database aside.
        let newData = temp.url.appending(path: "restored").path
        let restored = try hearth(["restore", backup, "--identity", key, "--data", newData])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(try hearth(["user", "list", "--data", newData]).stdout.contains("mum"))
        let again = try hearth(["restore", sealed, "--passphrase-file", passphrase, "--data", newData])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("pre-restore-"))
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
        #expect(try hearth(["restore", backup, "--identity", key, "--data", temp.data]).status == 0)
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
