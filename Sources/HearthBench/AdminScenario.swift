import ArgumentParser
import Foundation
import Histogram

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `HearthBench admin`: how long the admin panel takes to render its busiest pages on a large
/// database — 10,000 users, 1,000,000 messages over 30 days and 100,000 audit entries by
/// default, written straight into the database before the timed requests.
struct AdminScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin", abstract: "Admin panel render times (dashboard, users, audit log) on a seeded database.")

    @OptionGroup var options: BenchOptions
    @Option(help: "Users to seed.") var users = 10_000
    @Option(help: "Messages to seed (spread over 30 days, in 1,000 rooms).") var messages = 1_000_000
    @Option(help: "Audit log entries to seed.") var auditEntries = 100_000
    @Option(help: "Requests per page.") var requests = 300

    func run() async throws {
        let server = try BenchServer.forLoad(binary: options.binary)
        defer { server.stop() }
        let password = server.data.appending(path: "bench-password")
        try "benchmark admin password\n".write(to: password, atomically: true, encoding: .utf8)
        try server.hearth(["user", "add", "boss", "--admin", "--password-file", password.path])
        print("Seeding \(users) users, \(messages) messages and \(auditEntries) audit entries…")
        let started = Date()
        try BackupScenario.shell(
            "python3 - '\(server.data.appending(path: "hearth.sqlite").path)' \(users) \(messages) \(auditEntries) <<'EOF'\n"
                + Self.seedScript + "\nEOF")
        print(String(format: "Seeded in %.0f s.", Date().timeIntervalSince(started)))

        let cookie = try await signIn(server)
        print("page                      p50 ms   p99 ms   max ms")
        var results: [String: Any] = ["users": users, "messages": messages, "audit_entries": auditEntries]
        for (name, path) in [
            ("dashboard", "/admin"), ("users", "/admin/users"), ("users search", "/admin/users?q=user12"),
            ("audit log", "/admin/audit"), ("audit, filtered", "/admin/audit?action=user_&actor=cli"),
            ("review queue", "/admin/reports"),
        ] {
            var histogram = Histogram<UInt64>(
                highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
            for _ in 0..<requests {
                var request = URLRequest(url: URL(string: server.url + path)!)
                request.setValue(cookie, forHTTPHeaderField: "Cookie")
                let start = DispatchTime.now().uptimeNanoseconds
                let (_, response) = try await server.session.data(for: request)
                _ = histogram.record(DispatchTime.now().uptimeNanoseconds - start)
                guard (response as? HTTPURLResponse)?.statusCode == 200 else { throw BenchError("\(path) failed") }
            }
            let p50 = Double(histogram.valueAtPercentile(50)) / 1e6
            let p99 = Double(histogram.valueAtPercentile(99)) / 1e6
            let max = Double(histogram.max) / 1e6
            print(
                name.padding(toLength: 24, withPad: " ", startingAt: 0)
                    + String(format: "%8.2f %8.2f %8.2f", p50, p99, max))
            results[name] = ["p50_ms": p50, "p99_ms": p99, "max_ms": max]
        }
        print("Goal: p99 under 20 ms.")
        try options.save(results)
    }

    /// Signs in through the form and returns the session cookie.
    func signIn(_ server: BenchServer) async throws -> String {
        final class NoRedirect: NSObject, URLSessionTaskDelegate {
            func urlSession(
                _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
            ) { completionHandler(nil) }
        }
        let session = URLSession(configuration: .ephemeral, delegate: NoRedirect(), delegateQueue: nil)
        var request = URLRequest(url: URL(string: server.url + "/admin/login")!)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data("username=boss&password=benchmark+admin+password".utf8)
        let (_, response) = try await session.data(for: request)
        guard let header = (response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Set-Cookie"),
            header.hasPrefix("hearth_admin=")
        else { throw BenchError("sign-in failed") }
        return String(header.split(separator: ";")[0])
    }

    static let seedScript = """
        import sqlite3, sys, time
        path, users, messages, audit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
        db = sqlite3.connect(path, timeout=60)
        now = int(time.time() * 1000)
        hash = '$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g'
        db.executemany('INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)',
                       ((f'user{i:05d}', hash, 'member', now - i * 1000) for i in range(users)))
        first = db.execute('SELECT min(id) FROM users WHERE username LIKE ?', ('user%',)).fetchone()[0]
        db.executemany('INSERT INTO rooms (kind, name, owner_id, created_at) VALUES (?, ?, ?, ?)',
                       (('group', f'Room {i}', first + i % users, now) for i in range(1000)))
        room = db.execute('SELECT min(id) FROM rooms').fetchone()[0]
        span = 30 * 86400 * 1000
        start_seq = db.execute("SELECT max((SELECT value FROM counters WHERE name = 'seq'), "
                               "coalesce((SELECT max(seq) FROM messages), 0))").fetchone()[0]
        db.executemany(
            'INSERT INTO messages (seq, room_id, sender_id, client_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?)',
            ((start_seq + i + 1, room + i % 1000, first + i % users, f'seed-{i}', f'message number {i} of the seed',
              now - span + i * span // messages) for i in range(messages)))
        db.executemany('INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)',
                       ((now - span + i * span // audit, 'cli', ['user_created', 'rule_hit', 'invite_created'][i % 3],
                         f'user{i % users:05d}', 'seeded') for i in range(audit)))
        db.commit()
        """
}
