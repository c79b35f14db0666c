import ArgumentParser
import Foundation
import Histogram
import Synchronization

/// `HearthBench storm`: every client drops its connection once within a few seconds, misses
/// 0–100 messages while away, and comes back with `?after=<cursor>`: how long until each has
/// caught up (its `synced` frame; every missed message must have arrived), and what the storm
/// does to live delivery meanwhile.
struct StormScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storm",
        abstract: "All clients reconnect within seconds after missing 0–100 messages: catch-up time, live TTD.")

    @OptionGroup var options: BenchOptions
    @Option(help: "Clients (users, one socket each).") var users = 1000
    @Option(help: "Seconds over which the clients drop off, one after another.") var spread = 10.0
    @Option(help: "Most messages a client misses while away (each misses 0…this many).") var missed = 100
    @Option(help: "Live messages per second between connected clients during the storm.") var live = 500

    func run() async throws {
        guard users >= 4, users % 2 == 0 else { throw ValidationError("give an even number of users, at least 4") }
        let server = try BenchServer.forLoad(
            binary: options.binary,
            environment: ["HEARTH_MESSAGES_PER_MINUTE": "10000000", "HEARTH_FRAMES_PER_SECOND": "1000000"],
            arguments: ["--hash-threads", "2"])
        defer { server.stop() }
        print("Setting up \(users) users in \(users / 2) direct rooms…")
        let tokens = try await server.registerUsers(users, prefix: "storm")
        // Each user's partner is half the ring away, so partners are never away at once.
        let half = users / 2
        var partnerRooms = [Int64](repeating: 0, count: users)
        for user in 0..<half {
            let answer = try await server.postJSON(
                "/api/v1/rooms", ["members": ["storm\(user + half)"], "direct": true], token: tokens[user],
                expect: [200, 201])
            let room = ((answer["room"] as? [String: Any])?["id"] as? NSNumber)?.int64Value ?? 0
            partnerRooms[user] = room
            partnerRooms[user + half] = room
        }
        let rooms = partnerRooms
        let (users, spread, liveRate, url) = (users, spread, self.live, server.webSocketURL)
        let live = StormLive()
        let clients = (0..<users).map { StormClient(index: $0, live: live) }
        for client in clients {
            try await client.connect(url: server.webSocketURL, token: tokens[client.index], after: nil)
        }
        try await Task.sleep(for: .seconds(1))

        // Live load: connected clients message their partners at an even pace.
        let liveCount = Int(Double(liveRate) * (spread + 5))
        let liveTask = Task {
            await paced(count: liveCount, every: 1e9 / Double(liveRate), from: DispatchTime.now().uptimeNanoseconds) {
                n in
                let sender = clients[n % users]
                await sender.send(
                    "{\"type\":\"send\",\"id\":\"l\(n)\",\"room\":\(rooms[sender.index]),"
                        + "\"body\":\"live|\(n)|\(DispatchTime.now().uptimeNanoseconds)\"}")
            }
        }

        // The storm: client i drops at i × spread / users, its partner sends it 0…missed
        // messages, and it comes back half a second after dropping.
        print("Storm: \(users) clients drop and come back within \(spread) s…")
        var random = SystemRandomNumberGenerator()
        let misses = (0..<users).map { _ in Int.random(in: 0...missed, using: &random) }
        let stormStart = DispatchTime.now().uptimeNanoseconds
        await withTaskGroup(of: Void.self) { group in
            for client in clients {
                group.addTask {
                    let due = stormStart + UInt64(spread * 1e9 * Double(client.index) / Double(users))
                    let now = DispatchTime.now().uptimeNanoseconds
                    if due > now { try? await Task.sleep(nanoseconds: due - now) }
                    await client.drop()
                    let partner = clients[(client.index + half) % users]
                    for n in 0..<misses[client.index] {
                        await partner.send(
                            "{\"type\":\"send\",\"id\":\"m\(client.index)-\(n)\",\"room\":\(rooms[client.index]),"
                                + "\"body\":\"missed|\(client.index)|\(n)\"}")
                    }
                    try? await Task.sleep(for: .milliseconds(500))
                    try? await client.connect(url: url, token: tokens[client.index], after: client.cursor)
                }
            }
        }
        let caughtUpDeadline = Date().addingTimeInterval(30)
        while Date() < caughtUpDeadline, !clients.allSatisfy(\.caughtUp) {
            try await Task.sleep(for: .milliseconds(20))
        }
        let stormSeconds = Double(DispatchTime.now().uptimeNanoseconds - stormStart) / 1e9
        liveTask.cancel()
        await liveTask.value
        // Missed messages acked late (their sender still sending when the client came back)
        // arrive live after `synced`: give them five seconds.
        let drainDeadline = Date().addingTimeInterval(5)
        while Date() < drainDeadline, clients.contains(where: { $0.result.2 > 0 }) {
            try await Task.sleep(for: .milliseconds(20))
        }

        var catchUp = Histogram<UInt64>(highestTrackableValue: 120_000_000_000, numberOfSignificantValueDigits: .three)
        var caughtUp = 0
        var missing = 0
        var lastCaughtUp: UInt64 = 0
        for client in clients {
            let (nanos, at, absent) = client.result
            missing += absent
            if let nanos, let at {
                caughtUp += 1
                _ = catchUp.record(nanos)
                lastCaughtUp = max(lastCaughtUp, at)
            }
        }
        let liveSummary = live.summary()
        let acked = (0..<users).reduce(0) { $0 + live.ackedMissed(of: $1) }
        let results: [String: Double] = [
            "clients": Double(users), "caught_up": Double(caughtUp), "missed_messages": Double(acked),
            "missed_not_received": Double(missing),
            "all_caught_up_s": lastCaughtUp > stormStart ? Double(lastCaughtUp - stormStart) / 1e9 : 0,
            "storm_s": stormSeconds, "catchup_ms_p50": Double(catchUp.valueAtPercentile(50)) / 1e6,
            "catchup_ms_p99": Double(catchUp.valueAtPercentile(99)) / 1e6, "catchup_ms_max": Double(catchUp.max) / 1e6,
            "live_received": liveSummary.count, "live_ttd_ms_p50": liveSummary.p50, "live_ttd_ms_p99": liveSummary.p99,
        ]
        print(
            String(
                format:
                    "clients %d, caught up %d, messages sent to them while away (acked) %d, of them never received %d\n"
                    + "all caught up %.2f s after the first drop (drops spread over %.0f s)\n"
                    + "catch-up per client (reconnect → synced) p50 %.1f ms, p99 %.1f ms, max %.1f ms\n"
                    + "live messages received %d, TTD p50 %.1f ms, p99 %.1f ms",
                users, caughtUp, acked, missing, results["all_caught_up_s"] ?? 0, spread,
                results["catchup_ms_p50"] ?? 0, results["catchup_ms_p99"] ?? 0, results["catchup_ms_max"] ?? 0,
                Int(liveSummary.count), liveSummary.p50, liveSummary.p99))
        try options.save(results)
        for client in clients { await client.close() }
    }
}

/// Live delivery times during the storm, at clients that were connected when the message left;
/// and how many messages for each away client the server acked (only those must arrive: a send
/// from a partner that is itself dropping may never have left).
final class StormLive: Sendable {
    private let histogram = Mutex(
        Histogram<UInt64>(highestTrackableValue: 120_000_000_000, numberOfSignificantValueDigits: .three))
    private let acked = Mutex([Int: Int]())

    func ackedMissed(for client: Int) { acked.withLock { $0[client, default: 0] += 1 } }

    func ackedMissed(of client: Int) -> Int { acked.withLock { $0[client] ?? 0 } }

    func record(_ nanos: UInt64) { histogram.withLock { _ = $0.record(nanos) } }

    func summary() -> (count: Double, p50: Double, p99: Double) {
        histogram.withLock {
            (Double($0.totalCount), Double($0.valueAtPercentile(50)) / 1e6, Double($0.valueAtPercentile(99)) / 1e6)
        }
    }
}

/// One storm client: its socket, its cursor, and what it should get back after reconnecting.
final class StormClient: Sendable {
    private struct State {
        var socket: BenchSocket?
        var cursor: Int64 = 0
        var connectedAt: UInt64 = 0
        var missedReceived = 0
        var reconnectedAt: UInt64?
        var caughtUpAfter: UInt64?
        var caughtUpAt: UInt64?
    }

    let index: Int
    let live: StormLive
    private let state = Mutex(State())

    init(index: Int, live: StormLive) {
        self.index = index
        self.live = live
    }

    var cursor: Int64 { state.withLock { $0.cursor } }

    /// Whether it never dropped, or has caught up since it came back.
    var caughtUp: Bool { state.withLock { $0.reconnectedAt == nil || $0.caughtUpAfter != nil } }

    /// Catch-up time, when it happened, and how many acked missed messages never arrived.
    var result: (UInt64?, UInt64?, Int) {
        let acked = live.ackedMissed(of: index)
        return state.withLock { ($0.caughtUpAfter, $0.caughtUpAt, max(0, acked - $0.missedReceived)) }
    }

    func connect(url: String, token: String, after: Int64?) async throws {
        let started = DispatchTime.now().uptimeNanoseconds
        state.withLock { state in
            if after != nil { state.reconnectedAt = started }
        }
        let socket = try await BenchSocket.connect(url: url + (after.map { "?after=\($0)" } ?? ""), token: token) {
            [self] frame in self.frame(frame)
        }
        state.withLock {
            $0.socket = socket
            $0.connectedAt = started
        }
    }

    func drop() async {
        let socket = state.withLock { state in
            defer { state.socket = nil }
            return state.socket
        }
        await socket?.close()
    }

    func send(_ frame: String) async {
        guard let socket = state.withLock({ $0.socket }) else { return }
        try? await socket.send(frame)
    }

    func close() async { await drop() }

    private func frame(_ frame: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        if FrameFields.has("\"type\":\"ack\"", in: frame), let id = FrameFields.string("id", in: frame),
            id.hasPrefix("m"),
            let target = Int(id.dropFirst().prefix { $0 != "-" })
        {
            live.ackedMissed(for: target)
            return
        }
        if FrameFields.has("\"type\":\"synced\"", in: frame) {
            state.withLock { state in
                guard let reconnected = state.reconnectedAt, state.caughtUpAfter == nil else { return }
                state.caughtUpAfter = now - reconnected
                state.caughtUpAt = now
            }
            return
        }
        guard FrameFields.has("\"type\":\"message\"", in: frame), let body = FrameFields.string("body", in: frame)
        else { return }
        let seq = FrameFields.number("seq", in: frame) ?? 0
        let parts = body.split(separator: "|")
        state.withLock { state in
            state.cursor = max(state.cursor, seq)
            if parts.first == "missed", parts.count == 3, Int(parts[1]) == index { state.missedReceived += 1 }
            if parts.first == "live", parts.count == 3, let sent = UInt64(parts[2]), sent >= state.connectedAt,
                state.socket != nil
            {
                live.record(now > sent ? now - sent : 0)
            }
        }
    }
}
