import Age
import ArgumentParser
import Foundation
import Histogram
import Synchronization

/// `HearthBench pm`: U online users each sending direct messages to 10 neighbours at a fixed
/// rate, in steps of increasing total rate. The send time travels in the body, so the receiving
/// client measures time-to-delivery on the same clock.
struct PMScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pm",
        abstract: "Direct messages between U online users at stepped rates: delivered/s, lost, duplicated, TTD.")

    @OptionGroup var options: BenchOptions
    @Option(help: "Online users, one socket each.") var users = 1000
    @Option(help: "Direct-chat neighbours per user.") var neighbours = 10
    @Option(help: "Total send rates to step through, messages per second, comma-separated.")
    var rates = "1000,2000,5000,10000,20000"
    @Option(help: "Seconds each step sends for.") var seconds = 10.0
    @Option(help: "MiB of ballast (64 KiB blobs) added to the database before the run, to make backups big.")
    var ballastMib = 0
    @Option(help: "Run `hearth backup` of the whole database during this step (1-based); 0 for none.")
    var backupAtStep = 0
    @Flag(help: "Load 1,000 word rules and 50 regex rules (as `HearthBench rules` does) before sending.")
    var rules = false
    @Option(help: "Pad each message with this many bytes of ordinary words (the rules see them).")
    var padding = 0
    @Flag(
        help: """
            Mix changes into the load: of every 50 frames a user sends, 5 are reactions (added, then \
            taken back) and 1 an edit, each to that user's newest acked message; the rest are sends. \
            TTD is still measured on the messages.
            """)
    var changes = false
    @Flag(
        help: """
            Run against `HearthBench echo-server` instead of hearth: a trivial relay with no database, \
            to show what the load generator and the sockets alone allow on this machine.
            """)
    var echo = false

    func run() async throws {
        let stepRates = rates.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !stepRates.isEmpty, users > 2 * neighbours else {
            throw ValidationError("give at least one rate, and more than twice as many users as neighbours")
        }
        guard !echo || (!rules && ballastMib == 0 && backupAtStep == 0 && !changes) else {
            throw ValidationError("--echo measures the relay alone: no rules, ballast or backup")
        }
        let server =
            echo
            ? try BenchServer(
                binary: Bundle.main.executablePath ?? "HearthBench", environment: [:], arguments: [],
                command: ["echo-server"])
            : try BenchServer.forLoad(
                binary: options.binary,
                environment: ["HEARTH_MESSAGES_PER_MINUTE": "10000000", "HEARTH_FRAMES_PER_SECOND": "1000000"],
                arguments: ["--hash-threads", "2"])
        defer { server.stop() }
        if ballastMib > 0 {
            print("Adding \(ballastMib) MiB of ballast…")
            try BackupScenario.shell(
                "python3 -c \"import sqlite3,os,sys; c=sqlite3.connect(sys.argv[1], timeout=60); "
                    + "c.execute('create table ballast(b blob)'); "
                    + "[c.execute('insert into ballast values (?)', (os.urandom(65536),)) for _ in range(\(ballastMib * 16))]; "
                    + "c.commit()\" '\(server.data.appending(path: "hearth.sqlite").path)'")
        }
        print(
            echo
                ? "Against echo-server (no database)…"
                : "Setting up \(users) users and \(users * neighbours) direct rooms…")
        let load = try await PMLoad(
            server: server, users: users, neighbours: neighbours, padding: padding, echo: echo, changes: changes
        ) { tokens in
            guard rules else { return }
            print("Loading 1,000 word rules and 50 regex rules…")
            try server.hearth(["user", "role", "pm0", "admin"])
            for draft in BenchRules.drafts(words: 1000, regexes: 50) {
                _ = try await server.postJSON(
                    "/api/v1/admin/rules", ["kind": draft.kind, "pattern": draft.pattern, "action": draft.action],
                    token: tokens[0], expect: [201])
            }
        }

        var steps: [[String: Double]] = []
        print(
            "rate/s   sent  acked  received  lost  dup  delivered/s  ttd_p50  ttd_p95  ttd_p99  ttd_max (ms)"
                + "  server_cpu  bench_cpu (cores)  disk_kib/msg")
        for (stepIndex, rate) in stepRates.enumerated() {
            let (serverCPU, benchCPU) = (server.cpuSeconds(), BenchServer.ownCPUSeconds())
            let written = server.writtenBytes()
            let recipient = X25519Identity.generate().recipient.string
            let backup: Task<Double, any Error>? =
                stepIndex + 1 == backupAtStep
                ? Task.detached {
                    let started = Date()
                    try BackupScenario.shell(
                        "'\(server.binary)' backup --out '\(server.data.path)/bench-backup.age' "
                            + "--recipient \(recipient) "
                            + "--data '\(server.data.path)' > /dev/null")
                    return Date().timeIntervalSince(started)
                } : nil
            let (sendSeconds, summary) = try await load.step(stepIndex, rate: rate, seconds: seconds)
            var step = summary
            if let backup {
                step["backup_seconds"] = try await backup.value
                print(
                    "(a backup of the whole database ran during this step: \(String(format: "%.1f", step["backup_seconds"] ?? 0)) s)"
                )
            }
            step["server_cpu_cores"] = (server.cpuSeconds() - serverCPU) / sendSeconds
            step["bench_cpu_cores"] = (BenchServer.ownCPUSeconds() - benchCPU) / sendSeconds
            // What the server wrote to storage per message received in the step: WAL and
            // checkpoints grow with the indexes (docs/PERFORMANCE.md, `pm`).
            step["server_disk_kib_per_msg"] = (server.writtenBytes() - written) / 1024 / max(1, step["received"] ?? 0)
            steps.append(step)
            print(
                String(
                    format: "%6d %6.0f %6.0f %9.0f %5.0f %4.0f %12.0f %8.1f %8.1f %8.1f %8.1f %11.2f %10.2f %13.1f",
                    rate,
                    step["sent"] ?? 0, step["acked"] ?? 0, step["received"] ?? 0, step["lost"] ?? 0,
                    step["duplicated"] ?? 0, step["delivered_per_s"] ?? 0, step["ttd_ms_p50"] ?? 0,
                    step["ttd_ms_p95"] ?? 0, step["ttd_ms_p99"] ?? 0, step["ttd_ms_max"] ?? 0,
                    step["server_cpu_cores"] ?? 0, step["bench_cpu_cores"] ?? 0, step["server_disk_kib_per_msg"] ?? 0))
        }
        let best = steps.filter { ($0["ttd_ms_p99"] ?? .infinity) <= 50 && $0["lost"] == 0 && $0["duplicated"] == 0 }
            .compactMap { $0["delivered_per_s"] }.max()
        print(
            "Highest delivered rate with TTD p99 ≤ 50 ms and nothing lost: \(best.map { String(format: "%.0f/s", $0) } ?? "none")"
        )
        print("Server RSS: \(String(format: "%.1f", server.rssMiB())) MiB")
        try options.save([
            "users": users, "neighbours": neighbours, "rules": rules ? 1050 : 0, "padding": padding, "steps": steps,
            "best_delivered_per_s": best ?? 0,
        ])
        await load.close()
    }
}

/// The `pm` load, reusable beside other measurements: U online users, each in direct rooms with
/// its next `neighbours` users, sending at a given total rate.
struct PMLoad: Sendable {
    let recorder = Recorder()
    let sockets: [BenchSocket]
    let rooms: [[Int64]]
    let neighbours: Int
    /// Ordinary words before the payload; `|` is never in them.
    let pad: String
    /// Whether reactions and edits are mixed into the sends (`pm --changes`).
    let changes: Bool

    /// Registers the users, makes the rooms, runs `prepare` with the users' tokens, then
    /// connects every user and waits a second.
    init(
        server: BenchServer, users: Int, neighbours: Int, padding: Int = 0, echo: Bool = false, changes: Bool = false,
        prepare: ([String]) async throws -> Void = { _ in }
    ) async throws {
        let tokens: [String]
        if echo {
            // The echo server's accounts are its tokens, and a room is the recipient's number.
            tokens = (0..<users).map { "echo-\($0)" }
            rooms = (0..<users).map { user in (1...neighbours).map { Int64((user + $0) % users) } }
        } else {
            tokens = try await server.registerUsers(users, prefix: "pm")
            rooms = try await Self.makeRooms(server: server, tokens: tokens, neighbours: neighbours)
        }
        self.neighbours = neighbours
        self.changes = changes
        pad = padding > 0 ? BenchRules.text(bytes: padding, seed: 1) + "|" : ""
        try await prepare(tokens)
        var sockets: [BenchSocket] = []
        let recorder = recorder
        let rooms = rooms
        for (user, token) in tokens.enumerated() {
            let own = rooms[user]
            sockets.append(
                try await BenchSocket.connect(url: server.webSocketURL, token: token) {
                    recorder.frame($0, user: user, rooms: own)
                })
        }
        self.sockets = sockets
        try await Task.sleep(for: .seconds(1))
    }

    /// Sends at `rate` messages per second in all for `seconds`, then waits (at most five
    /// seconds) for everything acked to arrive. Returns the sending time and the step's figures.
    func step(_ stepIndex: Int, rate: Int, seconds: Double) async throws -> (Double, [String: Double]) {
        recorder.reset()
        let users = sockets.count
        // Message n goes out at start + n / rate, from user n mod U to that user's next
        // neighbour in turn, so each user sends every U / rate seconds. A few sender tasks
        // share the schedule (one task per user cost the generator a wake-up per message).
        let total = Int(Double(rate) * seconds)
        let interval = 1e9 / Double(rate)
        let shards = 8
        let start = DispatchTime.now().uptimeNanoseconds
        await withTaskGroup(of: Void.self) { group in
            for shard in 0..<shards {
                group.addTask {
                    let count = (total - shard + shards - 1) / shards
                    await paced(
                        count: count, every: interval * Double(shards), offset: interval * Double(shard), from: start
                    ) { k in
                        let n = shard + k * shards
                        let (round, user) = n.quotientAndRemainder(dividingBy: users)
                        let room = rooms[user][round % neighbours]
                        if changes, let change = change(stepIndex, user: user, round: round) {
                            if (try? await sockets[user].send(change)) != nil { recorder.changeSent() }
                            return
                        }
                        let sent = DispatchTime.now().uptimeNanoseconds
                        let frame =
                            "{\"type\":\"send\",\"id\":\"\(stepIndex)-\(user)-\(round)\",\"room\":\(room),"
                            + "\"body\":\"\(pad)\(stepIndex):\(user):\(round):\(sent)\"}"
                        if (try? await sockets[user].send(frame)) != nil { recorder.sent() }
                    }
                }
            }
        }
        let sendSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let drainDeadline = Date().addingTimeInterval(5)
        while Date() < drainDeadline {
            let (acked, received) = recorder.counts
            if acked == recorder.sentCount && received >= acked { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        return (sendSeconds, recorder.summary(rate: rate, seconds: sendSeconds))
    }

    func close() async {
        for socket in sockets { await socket.close() }
    }

    /// The change a user sends instead of round `round`'s message, if any: of every 50 rounds, 5
    /// reactions (👍 on, then off, alternately) and 1 edit, to the user's newest acked message.
    func change(_ stepIndex: Int, user: Int, round: Int) -> String? {
        let slot = round % 50
        guard slot % 10 == 5 || slot == 49, let (room, seq) = recorder.newest(of: user) else { return nil }
        let id = "c\(stepIndex)-\(user)-\(round)"
        if slot == 49 {
            return "{\"type\":\"edit\",\"id\":\"\(id)\",\"room\":\(room),\"seq\":\(seq),\"body\":\"edited \(round)\"}"
        }
        let on = (round / 10) % 2 == 0
        return "{\"type\":\"react\",\"id\":\"\(id)\",\"room\":\(room),\"seq\":\(seq),\"emoji\":\"👍\",\"on\":\(on)}"
    }

    /// Direct rooms between each user and the next `neighbours` users: `rooms[user][k]`.
    static func makeRooms(server: BenchServer, tokens: [String], neighbours: Int) async throws -> [[Int64]] {
        let users = tokens.count
        var rooms = [[Int64]](repeating: [Int64](repeating: 0, count: neighbours), count: users)
        try await withThrowingTaskGroup(of: (Int, Int, Int64).self) { group in
            var pairs = (0..<users).flatMap { user in (1...neighbours).map { (user, $0) } }.makeIterator()
            func add(_ group: inout ThrowingTaskGroup<(Int, Int, Int64), any Error>) -> Bool {
                guard let (user, k) = pairs.next() else { return false }
                group.addTask {
                    let answer = try await server.postJSON(
                        "/api/v1/rooms", ["members": ["pm\((user + k) % users)"], "direct": true], token: tokens[user],
                        expect: [200, 201])
                    let id = ((answer["room"] as? [String: Any])?["id"] as? NSNumber)?.int64Value ?? 0
                    return (user, k - 1, id)
                }
                return true
            }
            for _ in 0..<16 where add(&group) {}
            while let (user, index, id) = try await group.next() {
                rooms[user][index] = id
                _ = add(&group)
            }
        }
        return rooms
    }
}

/// Counts what the clients sent, had acked and received, and times each delivery.
final class Recorder: Sendable {
    private struct State {
        var sent = 0
        var changesSent = 0
        var changesAcked = 0
        /// Each user's newest acked message: its room and seq (for `pm --changes`).
        var newest: [Int: (room: Int64, seq: Int64)] = [:]
        var acked = 0
        var received = 0
        var duplicated = 0
        var seen = Set<Substring>()
        var histogram = Histogram<UInt64>(
            highestTrackableValue: 120_000_000_000, numberOfSignificantValueDigits: .three)
    }

    private let state = Mutex(State())

    func reset() { state.withLock { $0 = State() } }

    func sent() { state.withLock { $0.sent += 1 } }

    func changeSent() { state.withLock { $0.changesSent += 1 } }

    func newest(of user: Int) -> (room: Int64, seq: Int64)? { state.withLock { $0.newest[user] } }

    var sentCount: Int { state.withLock { $0.sent } }
    var counts: (acked: Int, received: Int) { state.withLock { ($0.acked, $0.received) } }

    /// Takes one frame that reached `user`, whose direct rooms are `rooms`.
    func frame(_ frame: String, user: Int, rooms: [Int64]) {
        let now = DispatchTime.now().uptimeNanoseconds
        if frame.hasPrefix("{\"id\":"), FrameFields.has("\"type\":\"ack\"", in: frame) {
            // A change's id starts with `c`; a message's is `step-user-round`, and its round
            // says its room.
            if frame.hasPrefix("{\"id\":\"c") {
                state.withLock { $0.changesAcked += 1 }
                return
            }
            let id = FrameFields.string("id", in: frame) ?? ""
            let round = id.split(separator: "-").last.flatMap { Int($0) }
            let seq = FrameFields.number("seq", in: frame)
            state.withLock { state in
                state.acked += 1
                if let round, let seq, !rooms.isEmpty { state.newest[user] = (rooms[round % rooms.count], seq) }
            }
            return
        }
        guard FrameFields.has("\"type\":\"message\"", in: frame), let text = FrameFields.string("body", in: frame)
        else { return }
        let body = text.split(separator: "|").last ?? Substring(text)
        let parts = body.split(separator: ":")
        guard parts.count == 4, let sent = UInt64(parts[3]) else { return }
        let key = body.dropLast(parts[3].count)
        state.withLock { state in
            if state.seen.insert(key).inserted {
                state.received += 1
                _ = state.histogram.record(now > sent ? now - sent : 0)
            } else {
                state.duplicated += 1
            }
        }
    }

    func summary(rate: Int, seconds: Double) -> [String: Double] {
        state.withLock { state in
            [
                "rate": Double(rate), "sent": Double(state.sent), "acked": Double(state.acked),
                "received": Double(state.received), "lost": Double(max(0, state.acked - state.received)),
                "changes_sent": Double(state.changesSent), "changes_acked": Double(state.changesAcked),
                "duplicated": Double(state.duplicated), "delivered_per_s": Double(state.received) / seconds,
                "ttd_ms_p50": Double(state.histogram.valueAtPercentile(50)) / 1e6,
                "ttd_ms_p95": Double(state.histogram.valueAtPercentile(95)) / 1e6,
                "ttd_ms_p99": Double(state.histogram.valueAtPercentile(99)) / 1e6,
                "ttd_ms_max": Double(state.histogram.max) / 1e6,
            ]
        }
    }
}
