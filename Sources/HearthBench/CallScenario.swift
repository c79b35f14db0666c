import ArgumentParser
import Foundation
import Histogram
import Synchronization

/// `HearthBench calls`: how long a ring takes to reach the one called, alone and with `pm` load
/// running beside it. Pairs of users each have a direct chat; one of each pair rings the other,
/// who is online, and the time from the `ring` frame's send to its arrival on the callee's socket
/// is recorded; the caller then hangs up (the call leaves its line) and the pair rings again.
struct CallScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calls",
        abstract: "Ring to the callee's socket: latency alone and beside pm load.")

    @OptionGroup var options: BenchOptions
    @Option(help: "Users sending pm load (each with 10 neighbours).") var users = 1000
    @Option(help: "pm load rates in messages per second, comma-separated (0: no load).") var loads = "0,5000"
    @Option(help: "Pairs of users ringing each other.") var pairs = 20
    @Option(help: "Rings per second, all pairs together.") var rings = 20
    @Option(help: "Seconds each step runs for.") var seconds = 10.0

    func run() async throws {
        let steps = loads.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !steps.isEmpty, pairs >= 1, rings >= 1 else { throw ValidationError("give loads, pairs and rings") }
        let server = try BenchServer.forLoad(
            binary: options.binary,
            environment: [
                "HEARTH_MESSAGES_PER_MINUTE": "10000000", "HEARTH_FRAMES_PER_SECOND": "1000000",
                "HEARTH_CALL_RING_SECONDS": "600",
            ],
            arguments: ["--hash-threads", "2"])
        defer { server.stop() }
        print("Setting up \(users) users for pm load and \(pairs) calling pairs…")
        let load = try await PMLoad(server: server, users: users, neighbours: 10)
        let tokens = try await server.registerUsers(pairs * 2, prefix: "ring")
        var rooms: [Int64] = []
        for pair in 0..<pairs {
            let made = try await server.postJSON(
                "/api/v1/rooms", ["members": ["ring\(pair * 2 + 1)"], "direct": true], token: tokens[pair * 2],
                expect: [200, 201])
            guard let room = ((made["room"] as? [String: Any])?["id"] as? NSNumber)?.int64Value else {
                throw BenchError("no room id in \(made)")
            }
            rooms.append(room)
        }
        let recorder = RingRecorder()
        var callers: [BenchSocket] = []
        var callees: [BenchSocket] = []
        for pair in 0..<pairs {
            callers.append(try await BenchSocket.connect(url: server.webSocketURL, token: tokens[pair * 2]) { _ in })
            callees.append(
                try await BenchSocket.connect(url: server.webSocketURL, token: tokens[pair * 2 + 1]) { frame in
                    recorder.frame(frame)
                })
        }
        try await Task.sleep(for: .seconds(1))

        print(
            "pm load/s  rings  rung  ring_p50  ring_p95  ring_p99  ring_max (ms)  pm_ttd_p99 (ms)  server_cpu (cores)")
        var results: [[String: Double]] = []
        var counter = 0
        for (index, rate) in steps.enumerated() {
            recorder.reset()
            let cpu0 = server.cpuSeconds()
            let started = DispatchTime.now().uptimeNanoseconds
            let loadTask = Task { () -> [String: Double] in
                guard rate > 0 else {
                    try? await Task.sleep(for: .seconds(seconds))
                    return [:]
                }
                return (try? await load.step(index, rate: rate, seconds: seconds).1) ?? [:]
            }
            let total = Int(Double(rings) * seconds)
            let first = counter
            counter += total
            await paced(count: total, every: 1e9 / Double(rings), from: started) { n in
                let number = first + n
                let pair = number % pairs
                let call = "bench-call-\(number)"
                // The pair's last call first ends (its line is written), then the next rings.
                if number >= pairs {
                    try? await callers[pair].send(
                        "{\"type\":\"call\",\"call\":\"bench-call-\(number - pairs)\",\"action\":\"hangup\"}")
                }
                recorder.sent(call)
                try? await callers[pair].send(
                    "{\"type\":\"call\",\"call\":\"\(call)\",\"room\":\(rooms[pair]),\"action\":\"ring\",\"video\":true}"
                )
            }
            let step = await loadTask.value
            try await Task.sleep(for: .seconds(1))
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            let summary = recorder.summary()
            var row = summary
            row["pm_rate"] = Double(rate)
            row["rings"] = Double(total)
            row["pm_ttd_ms_p99"] = step["ttd_ms_p99"] ?? 0
            row["server_cpu_cores"] = (server.cpuSeconds() - cpu0) / elapsed
            results.append(row)
            print(
                String(
                    format: "%9d  %5d  %4.0f  %8.2f  %8.2f  %8.2f  %13.2f  %15.1f  %18.2f", rate, total,
                    row["rung"] ?? 0, row["ring_ms_p50"] ?? 0, row["ring_ms_p95"] ?? 0, row["ring_ms_p99"] ?? 0,
                    row["ring_ms_max"] ?? 0, row["pm_ttd_ms_p99"] ?? 0, row["server_cpu_cores"] ?? 0))
        }
        for socket in callers + callees { await socket.close() }
        await load.close()
        try options.save(results)
    }
}

/// When each ring was sent, and how long it took to reach the callee.
final class RingRecorder: Sendable {
    private struct State {
        var sent: [String: UInt64] = [:]
        var latencies = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var rung = 0
    }

    private let state = Mutex(State())

    func reset() { state.withLock { $0 = State() } }

    func sent(_ call: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        state.withLock { $0.sent[call] = now }
    }

    func frame(_ frame: String) {
        guard FrameFields.has("\"action\":\"ring\"", in: frame), let call = FrameFields.string("call", in: frame) else {
            return
        }
        let now = DispatchTime.now().uptimeNanoseconds
        state.withLock { state in
            guard let sent = state.sent.removeValue(forKey: String(call)), now > sent else { return }
            state.latencies.record((now - sent) / 1000)
            state.rung += 1
        }
    }

    func summary() -> [String: Double] {
        state.withLock { state in
            func ms(_ p: Double) -> Double { Double(state.latencies.valueAtPercentile(p)) / 1000 }
            return [
                "rung": Double(state.rung), "ring_ms_p50": ms(50), "ring_ms_p95": ms(95), "ring_ms_p99": ms(99),
                "ring_ms_max": Double(state.latencies.max) / 1000,
            ]
        }
    }
}
