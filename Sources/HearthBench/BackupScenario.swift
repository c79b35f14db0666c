import Age
import ArgumentParser
import Foundation

/// `HearthBench backup`: age encryption and decryption throughput against Debian's `age` on the
/// same 1 GiB file in the same run, and the peak memory of `hearth backup` on a 1 GiB database.
struct BackupScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Encrypt/decrypt throughput vs age on a 1 GiB file; peak RSS of hearth backup on a 1 GiB database.")

    @OptionGroup var options: BenchOptions
    @Option(help: "Size of the test file and database, in MiB.") var mebibytes = 1024

    func run() async throws {
        let binary = options.binary
        let folder = FileManager.default.temporaryDirectory.appending(path: "hearth-bench-backup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let bytes = Double(mebibytes) * 1_048_576
        var results: [String: Double] = [:]

        // 1. A file of random bytes, and a key.
        let plain = folder.appending(path: "plain.bin")
        try shell("head -c \(mebibytes)M /dev/urandom > '\(plain.path)'")
        let identity = X25519Identity.generate()
        let keyFile = folder.appending(path: "key.txt")
        try Data("\(identity.string)\n".utf8).write(to: keyFile)

        // 2. Encrypt and decrypt with Hearth's Age module (in this process) and with age.
        let ours = folder.appending(path: "ours.age")
        results["hearth_encrypt_mib_s"] = try measure(bytes) {
            let input = try FileHandle(forReadingFrom: plain)
            _ = FileManager.default.createFile(atPath: ours.path, contents: nil)
            let output = try FileHandle(forWritingTo: ours)
            try Age.encrypt(FileInput(input), to: [.x25519(identity.recipient)]) { try output.write(contentsOf: $0) }
            try output.close()
        }
        results["hearth_decrypt_mib_s"] = try measure(bytes) {
            let input = try FileHandle(forReadingFrom: ours)
            try Age.decrypt(FileInput(input), identities: [.x25519(identity)]) { _ in }
        }
        let theirs = folder.appending(path: "theirs.age")
        results["age_encrypt_mib_s"] = try measure(bytes) {
            try shell("age -r \(identity.recipient.string) -o '\(theirs.path)' '\(plain.path)'")
        }
        results["age_decrypt_mib_s"] = try measure(bytes) {
            try shell("age -d -i '\(keyFile.path)' -o /dev/null '\(theirs.path)'")
        }
        results["hearth_decrypt_cli_mib_s"] = try measure(bytes) {
            try shell("'\(binary)' decrypt --identity '\(keyFile.path)' '\(ours.path)' > /dev/null")
        }
        results["encrypt_vs_age"] = (results["hearth_encrypt_mib_s"] ?? 0) / max(1, results["age_encrypt_mib_s"] ?? 1)
        results["decrypt_vs_age"] = (results["hearth_decrypt_mib_s"] ?? 0) / max(1, results["age_decrypt_mib_s"] ?? 1)
        try? FileManager.default.removeItem(at: theirs)
        try? FileManager.default.removeItem(at: ours)
        try? FileManager.default.removeItem(at: plain)

        // 3. A 1 GiB Hearth database, backed up by the CLI: time and peak RSS (GNU time).
        let data = folder.appending(path: "data")
        try shell("'\(binary)' registration open --data '\(data.path)'")
        try shell(
            "python3 -c \"import sqlite3,os,sys; c=sqlite3.connect(sys.argv[1]); c.execute('create table ballast(b blob)'); "
                + "[c.execute('insert into ballast values (?)', (os.urandom(65536),)) for _ in range(\(mebibytes * 16))]; c.commit()\" "
                + "'\(data.appending(path: "hearth.sqlite").path)'")
        let backup = folder.appending(path: "backup.age")
        let timing = folder.appending(path: "time.txt")
        let start = Date()
        try shell(
            "/usr/bin/time -f '%M' -o '\(timing.path)' '\(binary)' backup --out '\(backup.path)' "
                + "--recipient \(identity.recipient.string) --data '\(data.path)' > /dev/null")
        results["backup_seconds"] = Date().timeIntervalSince(start)
        results["backup_peak_rss_mib"] =
            (Double(try String(contentsOf: timing, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
                ?? 0)
            / 1024
        let idle = folder.appending(path: "idle.txt")
        try shell("/usr/bin/time -f '%M' -o '\(idle.path)' '\(binary)' registration --data '\(data.path)' > /dev/null")
        results["cli_baseline_rss_mib"] =
            (Double(try String(contentsOf: idle, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0)
            / 1024
        results["backup_extra_rss_mib"] = (results["backup_peak_rss_mib"] ?? 0) - (results["cli_baseline_rss_mib"] ?? 0)

        print("HearthBench backup — \(mebibytes) MiB")
        print(Stats.table(results))
        try options.save(results)
    }

    /// MiB per second of `body` over `bytes`.
    func measure(_ bytes: Double, _ body: () throws -> Void) throws -> Double {
        let start = Date()
        try body()
        return bytes / 1_048_576 / Date().timeIntervalSince(start)
    }

    func shell(_ command: String) throws {
        try Self.shell(command)
    }

    static func shell(_ command: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchError("failed: \(command)") }
    }
}
