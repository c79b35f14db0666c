import ArgumentParser
import Foundation
import Histogram

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `HearthBench search`: how long `GET /api/v1/search` takes over a large history — 1,000,000
/// messages in 100 rooms by default, written straight into the database while the server runs
/// (it indexes them as it does messages sent live: in batches, and the rest before the first
/// search, which is timed apart) — and how big the index is.
struct SearchScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Search times (p50/p95) over a seeded history, and the index's size.")

    @OptionGroup var options: BenchOptions
    @Option(help: "Messages to seed (in 100 rooms, all of which the searching user is in).") var messages = 1_000_000
    @Option(help: "Requests per kind of query.") var requests = 200

    func run() async throws {
        let server = try BenchServer.forLoad(binary: options.binary)
        defer { server.stop() }
        let password = server.data.appending(path: "bench-password")
        try "benchmark family password\n".write(to: password, atomically: true, encoding: .utf8)
        try server.hearth(["user", "add", "mum", "--password-file", password.path])
        print("Seeding \(messages) messages in 100 rooms…")
        let started = Date()
        let database = server.data.appending(path: "hearth.sqlite").path
        try BackupScenario.shell(
            "python3 - '\(database)' \(messages) <<'EOF'\n" + Self.seedScript + "\nEOF")
        print(String(format: "Seeded in %.0f s.", Date().timeIntervalSince(started)))
        let answer = try await server.postJSON(
            "/api/v1/login", ["username": "mum", "password": "benchmark family password"], expect: [200])
        let token = answer["token"] as? String ?? ""
        var results: [String: Any] = ["messages": messages]
        // The first search takes in what the server has not indexed yet (most of the seed).
        var first = URLRequest(url: URL(string: server.url + "/api/v1/search?q=dinner")!)
        first.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let catchUp = Date()
        _ = try await server.session.data(for: first)
        print(
            String(format: "The first search (the index catching up) took %.1f s.", Date().timeIntervalSince(catchUp)))
        results["first_search_s"] = Date().timeIntervalSince(catchUp)
        let sizesFile = server.data.appending(path: "sizes.txt")
        try BackupScenario.shell(
            "python3 - '\(database)' > '\(sizesFile.path)' <<'EOF'\n" + Self.sizeScript + "\nEOF")
        let sizes = try String(contentsOf: sizesFile, encoding: .utf8)
            .split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        let share = sizes.count == 2 && sizes[0] > 0 ? (sizes[0] - sizes[1]) / sizes[0] : 0
        results["database_mib"] = sizes.first.map { $0 / 1_048_576 } ?? 0
        results["index_share"] = share

        print("query                         matches   p50 ms   p95 ms   max ms")
        for (name, queries) in [
            ("a rare word", (0..<50).map { "w\(($0 * 97) % 20_000)" }),
            ("a common word", ["dinner", "home", "love", "tonight", "school"]),
            ("two words", ["dinner tonight", "school bus", "love you"]),
            ("a prefix", (0..<50).map { "w\(($0 * 31) % 2_000)*" }),
            ("a phrase", ["\"see you\"", "\"at home\"", "\"the dog\""]),
            ("one room, a common word", ["dinner&room=5", "home&room=7"]),
        ] {
            var histogram = Histogram<UInt64>(
                highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
            var found = 0
            for index in 0..<requests {
                let query = queries[index % queries.count]
                let parts = query.split(separator: "&", maxSplits: 1)
                let q = String(parts[0]).addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                var request = URLRequest(
                    url: URL(string: server.url + "/api/v1/search?q=\(q)" + (parts.count > 1 ? "&" + parts[1] : ""))!)
                request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
                let start = DispatchTime.now().uptimeNanoseconds
                let (data, response) = try await server.session.data(for: request)
                _ = histogram.record(DispatchTime.now().uptimeNanoseconds - start)
                guard (response as? HTTPURLResponse)?.statusCode == 200,
                    let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
                else { throw BenchError("search \(query) failed") }
                found += (json["results"] as? [Any])?.count ?? 0
            }
            let p50 = Double(histogram.valueAtPercentile(50)) / 1e6
            let p95 = Double(histogram.valueAtPercentile(95)) / 1e6
            let max = Double(histogram.max) / 1e6
            print(
                name.padding(toLength: 30, withPad: " ", startingAt: 0)
                    + String(format: "%7.1f %8.2f %8.2f %8.2f", Double(found) / Double(requests), p50, p95, max))
            results[name] = ["p50_ms": p50, "p95_ms": p95, "max_ms": max, "results_per_page": found / requests]
        }
        print(
            String(
                format:
                    "Database %.0f MiB, of which the search index %.0f%% (goal: under 60%%). Goal: p95 under 50 ms.",
                (sizes.first ?? 0) / 1_048_576, share * 100))
        try options.save(results)
    }

    /// 1,000,000 family messages of 3–14 words: common words (most of each message) and a long
    /// tail of rarer ones (`w0`…`w19999`, each in about 250 messages), as chat text runs.
    static let seedScript = """
        import random, sqlite3, sys, time
        path, messages = sys.argv[1], int(sys.argv[2])
        random.seed(7)
        common = ('the a to you and i is it for on at in of we are be me my with home dinner tonight school '
                  'love see bus dog cat mum dad kid gran soon late now ok yes no thanks please where what when '
                  'can will got get back need bring call pick up from car shop milk bread pizza football game '
                  'homework bed night morning weekend happy birthday photo look great').split()
        db = sqlite3.connect(path, timeout=60)
        mum = db.execute("SELECT id FROM users WHERE username = 'mum'").fetchone()[0]
        now = int(time.time() * 1000)
        db.executemany('INSERT INTO rooms (kind, name, owner_id, created_at) VALUES (?, ?, ?, ?)',
                       (('group', f'Room {i}', mum, now) for i in range(100)))
        first = db.execute('SELECT min(id) FROM rooms').fetchone()[0]
        db.executemany('INSERT INTO room_members (room_id, user_id, added_at) VALUES (?, ?, ?)',
                       ((first + i, mum, now) for i in range(100)))
        start = db.execute("SELECT max((SELECT value FROM counters WHERE name = 'seq'), "
                           "coalesce((SELECT max(seq) FROM messages), 0))").fetchone()[0]
        span = 365 * 86400 * 1000
        def body(i):
            words = [random.choice(common) for _ in range(random.randint(2, 12))]
            words.insert(random.randrange(len(words) + 1), f'w{random.randrange(20000)}')
            return ' '.join(words)
        db.executemany(
            'INSERT INTO messages (seq, room_id, sender_id, client_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?)',
            ((start + i + 1, first + i % 100, mum, f'seed-{i}', body(i), now - span + i * span // messages)
             for i in range(messages)))
        db.execute("UPDATE counters SET value = ? WHERE name = 'seq'", (start + messages,))
        db.commit()
        """

    /// The database's size, and its size without the search index (a copy, the index dropped and
    /// vacuumed), in bytes.
    static let sizeScript = """
        import os, sqlite3, sys, tempfile
        def used(db):
            pages, free, size = (db.execute(f'PRAGMA {p}').fetchone()[0]
                                 for p in ('page_count', 'freelist_count', 'page_size'))
            return (pages - free) * size
        source = sqlite3.connect(sys.argv[1], timeout=60)
        with tempfile.TemporaryDirectory() as folder:
            copy = sqlite3.connect(os.path.join(folder, 'copy.sqlite'))
            source.backup(copy)
            whole = used(copy)
            copy.execute('DROP TABLE messages_search')
            copy.commit()
            copy.execute('VACUUM')
            print(whole, used(copy))
        """
}
