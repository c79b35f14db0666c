import ArgumentParser
import Foundation
import GRDB
import Logging
import Services
import Storage
import Web

/// `HearthBench writer`: the durable write path alone, in this process, with no sockets. Three
/// ways of storing the same kind of rows in one database (WAL, `synchronous=FULL`):
///
/// - **group commit**: `send` frames from many devices go through the relay as the socket
///   handler passes them (parse, checks, rules, the one writer that commits whatever is queued
///   in one transaction), timed until the last ack;
/// - **one transaction per message**: each row committed on its own, as a naive server would;
/// - **raw batch**: plain prepared-statement inserts, 1,000 rows per transaction — the ceiling.
struct WriterScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "writer",
        abstract: "Group commit against one transaction per message and against raw batch inserts.")

    @OptionGroup var options: BenchOptions
    @Option(help: "Messages through group commit and the raw batch.") var messages = 50_000
    @Option(help: "Devices sending at once through group commit.") var senders = 100
    @Option(help: "Messages committed one transaction each (each waits for its fsync).") var single = 2_000

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(
            path: "hearth-bench-writer-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = HearthConfiguration(dataDirectory: directory)
        configuration.hashing.parameters = .init(memoryKiB: 1024, iterations: 1, parallelism: 1)
        configuration.relay.messagesPerMinute = 100_000_000
        configuration.relay.framesPerSecond = 100_000_000
        configuration.relay.outboxFrames = messages + 1
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let hub = RelayHub(limits: configuration.relay, logger: logger)
        let services = try AppServices(configuration: configuration, live: hub, logger: logger)

        print("Setting up \(senders) devices, each in a direct room with one offline user…")
        let password = "benchmark family password"
        let sink = try await services.accounts.createUser(username: "sink", password: password, role: .member)
        var sessions: [RelaySession] = []
        var rooms: [Int64] = []
        for index in 0..<senders {
            let user = try await services.accounts.createUser(
                username: "writer\(index)", password: password, role: .member)
            let token = try await services.sessions.login(
                username: user.username, password: password, deviceName: "bench",
                client: Client(ip: "127.0.0.1", userAgent: nil))
            let session = try await services.sessions.authenticate(
                token: token.token, client: Client(ip: "127.0.0.1", userAgent: nil))
            let relaySession = try await RelaySession.open(session, relay: services.relay, hub: hub).get()
            sessions.append(relaySession)
            rooms.append(
                try await services.rooms.create(by: user, name: nil, usernames: [sink.username], direct: true).0.room.id
            )
        }

        // Group commit, through the relay.
        let perSender = messages / senders
        let body = String(repeating: "x", count: 100)
        let start = ContinuousClock.now
        let groupCount = await withTaskGroup(of: Int.self) { group in
            for (index, session) in sessions.enumerated() {
                let room = rooms[index]
                group.addTask {
                    for n in 0..<perSender {
                        _ = session.receive(
                            text: "{\"type\":\"send\",\"id\":\"g\(n)\",\"room\":\(room),\"body\":\"\(body)\"}")
                    }
                    return 0
                }
                group.addTask {
                    var count = 0
                    while count < perSender {
                        let frames = await session.connection.outbox.next()
                        if frames.isEmpty { break }
                        count += frames.filter { $0.text.contains("\"type\":\"ack\"") }.count
                    }
                    return count
                }
            }
            return await group.reduce(0, +)
        }
        let groupSeconds = (ContinuousClock.now - start).seconds
        guard groupCount == perSender * senders else {
            throw BenchError("only \(groupCount) of \(perSender * senders) sends were acked")
        }

        // One transaction per message.
        let sender = sessions[0].connection
        let room = rooms[0]
        let singleStart = ContinuousClock.now
        for n in 0..<single {
            try await services.database.write { store in
                let seq = try store.lastSeq() + 1
                _ = try store.insertMessage(
                    seq: seq, roomID: room, senderID: sender.userID, deviceID: sender.deviceID, clientID: "s\(n)",
                    body: body, now: Int64(Date().timeIntervalSince1970 * 1000))
            }
        }
        let singleSeconds = (ContinuousClock.now - singleStart).seconds

        // Raw batch inserts of the same rows, through plain SQLite statements.
        var raw = Configuration()
        raw.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let queue = try DatabaseQueue(path: services.database.url.path, configuration: raw)
        let rawStart = ContinuousClock.now
        var seq = try await queue.read { db in try Int64.fetchOne(db, sql: "SELECT max(seq) FROM messages") ?? 0 }
        for batch in stride(from: 0, to: messages, by: 1000) {
            let first = seq
            try await queue.write { db in
                let insert = try db.makeStatement(
                    sql: """
                        INSERT INTO messages (seq, room_id, sender_id, device_id, client_id, body, held, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, 0, ?)
                        """)
                for n in 0..<min(1000, messages - batch) {
                    try insert.execute(arguments: [
                        first + Int64(n) + 1, room, sender.userID, sender.deviceID, "r\(batch + n)", body,
                        Int64(Date().timeIntervalSince1970 * 1000),
                    ])
                }
            }
            seq += Int64(min(1000, messages - batch))
        }
        let rawSeconds = (ContinuousClock.now - rawStart).seconds
        let integrity = try await queue.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
        try queue.close()

        let groupRate = Double(groupCount) / groupSeconds
        let singleRate = Double(single) / singleSeconds
        let rawRate = Double(messages) / rawSeconds
        print("path                                 messages   seconds     msgs/s   vs raw")
        for (name, count, seconds, rate) in [
            ("group commit (relay, \(senders) devices)", groupCount, groupSeconds, groupRate),
            ("one transaction per message", single, singleSeconds, singleRate),
            ("raw batch (1,000 per transaction)", messages, rawSeconds, rawRate),
        ] {
            print(
                name.padding(toLength: 36, withPad: " ", startingAt: 0)
                    + String(format: "%9d %9.2f %10.0f %7.0f%%", count, seconds, rate, 100 * rate / rawRate))
        }
        print("Goal: group commit at least 50% of the raw batch ceiling. integrity_check: \(integrity ?? "?")")
        try options.save([
            "messages": messages, "senders": senders, "group_commit_per_s": groupRate,
            "single_transaction_per_s": singleRate, "raw_batch_per_s": rawRate, "group_vs_raw": groupRate / rawRate,
        ])
        for session in sessions { await session.close() }
    }
}

extension Duration {
    /// This duration in seconds.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
