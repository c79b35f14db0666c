import Foundation
import Testing

@Suite struct CLITests {
    static let password = "a long family password\n"

    @Test func userCommandsManageAccounts() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let passwordFile = try temp.file("pw", Self.password)
        let added = try hearth(["user", "add", "Mum", "--admin", "--password-file", passwordFile, "--data", temp.data])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stdout == "Created admin mum.\n")
        // The password can also come on stdin.
        let piped = try hearth(
            ["user", "add", "kid", "--password-file", "-", "--data", temp.data], stdin: Self.password)
        #expect(piped.status == 0, "\(piped.stderr)")

        let list = try hearth(["user", "list", "--data", temp.data])
        let lines = list.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("USERNAME"))
        #expect(lines[1].hasPrefix("kid ") && lines[1].contains("member") && lines[1].contains("active"))
        #expect(lines[2].hasPrefix("mum ") && lines[2].contains("admin"))

        #expect(try hearth(["user", "disable", "kid", "--data", temp.data]).stdout.hasPrefix("Disabled kid"))
        #expect(try hearth(["user", "list", "--data", temp.data]).stdout.contains("disabled"))
        #expect(try hearth(["user", "enable", "kid", "--data", temp.data]).status == 0)
        #expect(
            try hearth(["user", "role", "kid", "moderator", "--data", temp.data]).stdout == "kid is now a moderator.\n")
        #expect(try hearth(["user", "list", "--data", temp.data]).stdout.contains("moderator"))
        let badRole = try hearth(["user", "role", "kid", "boss", "--data", temp.data])
        #expect(badRole.status != 0 && badRole.stderr.contains("unknown role 'boss'"))
        let lastAdmin = try hearth(["user", "role", "mum", "member", "--data", temp.data])
        #expect(lastAdmin.status != 0 && lastAdmin.stderr.contains("only admin"))
        let newPassword = try temp.file("pw2", "another long password")
        let reset = try hearth(["user", "reset-password", "kid", "--password-file", newPassword, "--data", temp.data])
        #expect(reset.status == 0, "\(reset.stderr)")
        #expect(try hearth(["user", "delete", "kid", "--data", temp.data]).status == 0)
        #expect(!(try hearth(["user", "list", "--data", temp.data]).stdout.contains("kid")))
    }

    @Test func errorsAreOneLineOnStderrWithANonZeroStatus() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let weak = try temp.file("weak", "password123")
        let good = try temp.file("good", "a long family password")
        #expect(try hearth(["user", "add", "gran", "--password-file", good, "--data", temp.data]).status == 0)
        let cases: [[String]] = [
            ["user", "add", "gran", "--password-file", good],
            ["user", "add", "GRAN", "--password-file", good],
            ["user", "role", "gran", "boss"],
            ["user", "reset-password", "nobody", "--password-file", good],
            ["user", "disable", "nobody"],
            ["user", "add", "mum", "--password-file", weak],
            ["user", "add", "admin", "--password-file", weak],
            ["user", "add", "mum", "--password-file", temp.url.appending(path: "missing").path],
            ["invite", "create", "--expires", "soon"],
            ["invite", "create", "--uses", "0"],
            ["invite", "revoke", "nosuchcode"],
            ["registration", "sometimes"],
        ]
        for arguments in cases {
            let result = try hearth(arguments + ["--data", temp.data])
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stdout.isEmpty, "\(arguments)")
            #expect(result.stderr.hasPrefix("Error: "), "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
            // A sentence for people, never a database's own words.
            for raw in ["SQLite", "constraint", "UNIQUE", "internal error", "errno"] {
                #expect(!result.stderr.contains(raw), "\(arguments): \(result.stderr)")
            }
        }
        #expect(
            try hearth(["user", "add", "gran", "--password-file", good, "--data", temp.data]).stderr.contains("taken"))
        #expect(try hearth(["user", "list", "--data", temp.data]).stdout.split(separator: "\n").count == 2)
    }

    @Test func inviteCommandsPrintAURLAndAQRCode() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let created = try hearth([
            "invite", "create", "--uses", "3", "--expires", "2d", "--public-url", "https://hearth.example.org/",
            "--data", temp.data,
        ])
        #expect(created.status == 0, "\(created.stderr)")
        let lines = created.stdout.split(separator: "\n")
        let url = String(lines[0])
        #expect(url.hasPrefix("https://hearth.example.org/invite/"))
        let code = String(url.split(separator: "/").last ?? "")
        #expect(code.count == 26)
        #expect(lines.contains { $0.contains("█") })
        #expect(created.stdout.contains("Lets 3 people register until"))

        #expect(created.stdout.contains("only time the code is shown"))

        // The list shows ids, never codes: only their hashes are stored.
        let list = try hearth(["invite", "list", "--data", temp.data])
        #expect(!list.stdout.contains(code))
        #expect(list.stdout.contains("0/3") && list.stdout.contains("active"))
        let database = temp.url.appending(path: "data/hearth.sqlite").path
        #expect(try !Data(contentsOf: URL(fileURLWithPath: database)).contains(Data(code.utf8)))
        // Revoked by the link it was given as; a second invite by its id.
        #expect(try hearth(["invite", "revoke", url, "--data", temp.data]).status == 0)
        #expect(try hearth(["invite", "list", "--data", temp.data]).stdout.contains("revoked"))
        #expect(try hearth(["invite", "create", "--data", temp.data]).status == 0)
        #expect(try hearth(["invite", "revoke", "2", "--data", temp.data]).stdout.contains("Revoked invite 2."))
        let unknown = try hearth(["invite", "revoke", "99", "--data", temp.data])
        #expect(unknown.status != 0 && unknown.stderr.contains("That invite was not found"), "\(unknown.stderr)")
    }

    @Test func aRecoveryLinkIsPrintedWithItsQRCode() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let passwordFile = try temp.file("pw", Self.password)
        #expect(try hearth(["user", "add", "gran", "--password-file", passwordFile, "--data", temp.data]).status == 0)
        let link = try hearth(["user", "link", "gran", "--public-url", "http://hearth.lan:8080", "--data", temp.data])
        #expect(link.status == 0, "\(link.stderr)")
        let url = String(link.stdout.split(separator: "\n").first ?? "")
        #expect(url.hasPrefix("http://hearth.lan:8080/link/") && url.count == "http://hearth.lan:8080/link/".count + 43)
        #expect(link.stdout.contains("█"))
        #expect(link.stdout.contains("works once"))
        let unknown = try hearth(["user", "link", "nobody", "--data", temp.data])
        #expect(unknown.status != 0 && unknown.stderr.contains("not found"))
    }

    @Test func registrationModeIsShownAndSet() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        #expect(try hearth(["registration", "--data", temp.data]).stdout == "invite\n")
        #expect(try hearth(["registration", "closed", "--data", temp.data]).status == 0)
        #expect(try hearth(["registration", "--data", temp.data]).stdout == "closed\n")
    }

    @Test func theDataDirComesFromTheEnvironment() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let result = try hearth(["registration", "open"], environment: ["HEARTH_DATA": temp.data])
        #expect(result.status == 0)
        #expect(FileManager.default.fileExists(atPath: temp.data + "/hearth.sqlite"))
        #expect(try hearth(["registration", "--data", temp.data]).stdout == "open\n")
    }

    @Test func aDatabaseFromANewerSchemaIsRefusedClearly() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        #expect(try hearth(["user", "list", "--data", temp.data]).status == 0)
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = [
            "python3", "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); "
                + "c.execute(\"INSERT INTO grdb_migrations VALUES ('9999_future')\"); c.commit()",
            temp.data + "/hearth.sqlite",
        ]
        try python.run()
        python.waitUntilExit()
        #expect(python.terminationStatus == 0)
        let refused = try hearth(["user", "list", "--data", temp.data])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("newer version of Hearth"))
    }

    @Test func everyCommandHasHelp() throws {
        for command in [
            [], ["serve"], ["user"], ["user", "add"], ["user", "list"], ["user", "disable"], ["user", "enable"],
            ["user", "delete"], ["user", "reset-password"], ["user", "link"], ["user", "role"], ["invite"],
            ["invite", "create"],
            ["invite", "list"],
            ["invite", "revoke"], ["registration"], ["backup"], ["restore"], ["backup-schedule"], ["keygen"],
            ["decrypt"],
        ] {
            let result = try hearth(command + ["--help"])
            #expect(result.status == 0, "\(command)")
            #expect(result.stdout.contains("USAGE: hearth"), "\(command)")
        }
    }
}
