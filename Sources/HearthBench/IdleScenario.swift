import ArgumentParser
import Foundation
import Histogram
import Synchronization

/// `HearthBench idle`: many authenticated connections held open; memory per connection, ping
/// round trips, and the connect+auth rate while they ramp up.
struct IdleScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idle", abstract: "Hold N authenticated WebSocket connections; RSS per connection, ping p99.")

    @OptionGroup var options: BenchOptions
    @Option(help: "Connections to hold.") var connections = 5000
    @Option(help: "Connections per account (each account is one device token).") var perUser = 10
    @Option(help: "Connections opened at once during the ramp.") var concurrency = 64
    @Option(help: "Ping round trips to time once all are connected.") var pings = 2000

    func run() async throws {
        let server = try BenchServer.forLoad(binary: options.binary)
        defer { server.stop() }
        let users = (connections + perUser - 1) / perUser
        let tokens = try await server.registerUsers(users, prefix: "idle")
        try await Task.sleep(for: .seconds(1))
        let rssBefore = server.rssMiB()

        let pongs = PongWaiter()
        let start = ContinuousClock.now
        var sockets: [BenchSocket] = []
        sockets.reserveCapacity(connections)
        try await withThrowingTaskGroup(of: BenchSocket.self) { group in
            var next = 0
            func add(_ group: inout ThrowingTaskGroup<BenchSocket, any Error>) {
                let token = tokens[next / perUser]
                next += 1
                group.addTask {
                    try await BenchSocket.connect(url: server.webSocketURL, token: token) { frame in
                        pongs.received(frame)
                    }
                }
            }
            while next < min(concurrency, connections) { add(&group) }
            while let socket = try await group.next() {
                sockets.append(socket)
                if next < connections { add(&group) }
            }
        }
        let rampSeconds = AuthScenario.milliseconds(ContinuousClock.now - start) / 1000
        try await Task.sleep(for: .seconds(2))
        let rssAfter = server.rssMiB()

        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        for index in 0..<pings {
            let socket = sockets[(index * 7919) % sockets.count]
            let id = "p\(index)"
            let begin = DispatchTime.now().uptimeNanoseconds
            try await pongs.wait(for: id) { try await socket.send("{\"type\":\"ping\",\"id\":\"\(id)\"}") }
            _ = histogram.record(DispatchTime.now().uptimeNanoseconds - begin)
        }
        let alive = sockets.filter { !$0.isClosed }.count

        let results: [String: Double] = [
            "connections": Double(sockets.count),
            "connections_alive_at_end": Double(alive),
            "connect_auth_per_s": Double(sockets.count) / rampSeconds,
            "server_rss_before_mib": rssBefore,
            "server_rss_after_mib": rssAfter,
            "rss_per_connection_kib": (rssAfter - rssBefore) * 1024 / Double(max(1, sockets.count)),
            "ping_ms_p50": Double(histogram.valueAtPercentile(50)) / 1e6,
            "ping_ms_p99": Double(histogram.valueAtPercentile(99)) / 1e6,
            "ping_ms_max": Double(histogram.max) / 1e6,
        ]
        print("HearthBench idle — \(sockets.count) connections over \(users) accounts")
        print(Stats.table(results))
        try options.save(results)
        for socket in sockets { await socket.close() }
    }
}

/// Matches `pong` frames to the pings waiting for them.
final class PongWaiter: Sendable {
    private let waiting = Mutex<[String: CheckedContinuation<Void, Never>]>([:])

    /// Sends with `send` and returns once the pong with this id arrived.
    func wait(for id: String, send: () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in self.waiting.withLock { $0[id] = continuation } }
            }
            // Register before sending, so a fast pong is not missed.
            while waiting.withLock({ $0[id] == nil }) { await Task.yield() }
            try await send()
            try await group.waitForAll()
        }
    }

    func received(_ frame: String) {
        guard FrameFields.has("\"type\":\"pong\"", in: frame), let id = FrameFields.string("id", in: frame) else {
            return
        }
        let continuation = waiting.withLock { $0.removeValue(forKey: String(id)) }
        continuation?.resume()
    }
}
