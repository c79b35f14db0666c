import ArgumentParser
import Foundation
import Histogram
import Synchronization

/// `HearthBench fanout`: groups of growing size, each with a few members sending at once; how
/// long until a message has reached every other member.
struct FanoutScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanout",
        abstract: "Group messages to every member: time until all members have each message, per group size.")

    @OptionGroup var options: BenchOptions
    @Option(help: "Group sizes (members, all online), comma-separated.") var sizes = "10,100,1000"
    @Option(help: "Members sending at the same time.") var senders = 4
    @Option(help: "Messages per second from each sender.") var rate = 2.0
    @Option(help: "Seconds each group size sends for.") var seconds = 10.0

    func run() async throws {
        let groupSizes = sizes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard let largest = groupSizes.max(), groupSizes.allSatisfy({ $0 > senders }), senders >= 1, rate > 0 else {
            throw ValidationError("give group sizes larger than --senders, and a positive rate")
        }
        let server = try BenchServer.forLoad(
            binary: options.binary,
            environment: [
                "HEARTH_MESSAGES_PER_MINUTE": "10000000", "HEARTH_FRAMES_PER_SECOND": "1000000",
                "HEARTH_MEMBERS_PER_ROOM": "\(largest)",
            ],
            arguments: ["--hash-threads", "2"])
        defer { server.stop() }
        print("Setting up \(largest) users and \(groupSizes.count) groups…")
        let tokens = try await server.registerUsers(largest, prefix: "fan")
        var rooms: [Int: Int64] = [:]
        for size in groupSizes {
            rooms[size] = try await server.createGroup(
                "fanout \(size)", members: (1..<size).map { "fan\($0)" }, token: tokens[0])
        }
        let recorder = FanoutRecorder()
        let sockets = try await recorder.connect(tokens, to: server)

        var results: [[String: Double]] = []
        print(
            "members  messages  complete  deliveries/s  all_p50  all_p95  all_p99  all_max  each_p99 (ms)"
                + "  server_cpu  bench_cpu (cores)")
        for size in groupSizes {
            let room = rooms[size] ?? 0
            recorder.reset(recipients: size - 1)
            let (serverCPU, benchCPU) = (server.cpuSeconds(), BenchServer.ownCPUSeconds())
            let count = Int(rate * seconds)
            let start = DispatchTime.now().uptimeNanoseconds
            await withTaskGroup(of: Void.self) { group in
                for sender in 0..<senders {
                    let socket = sockets[sender]
                    group.addTask {
                        let interval = 1e9 / rate
                        await paced(
                            count: count, every: interval, offset: interval * Double(sender) / Double(senders),
                            from: start
                        ) { n in
                            let sent = DispatchTime.now().uptimeNanoseconds
                            let frame =
                                "{\"type\":\"send\",\"id\":\"\(size)-\(sender)-\(n)\",\"room\":\(room),"
                                + "\"body\":\"\(size):\(sender):\(n):\(sent)\"}"
                            if (try? await socket.send(frame)) != nil { recorder.sent() }
                        }
                    }
                }
            }
            let sendSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            try await recorder.waitUntilAllComplete()
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            var result = recorder.summary(seconds: elapsed)
            result["members"] = Double(size)
            result["server_cpu_cores"] = (server.cpuSeconds() - serverCPU) / elapsed
            result["bench_cpu_cores"] = (BenchServer.ownCPUSeconds() - benchCPU) / elapsed
            result["send_seconds"] = sendSeconds
            results.append(result)
            print(
                String(
                    format: "%7d %9.0f %8.1f%% %13.0f %8.1f %8.1f %8.1f %8.1f %9.1f %11.2f %10.2f", size,
                    result["messages"] ?? 0, 100 * (result["complete_share"] ?? 0), result["deliveries_per_s"] ?? 0,
                    result["all_ms_p50"] ?? 0, result["all_ms_p95"] ?? 0, result["all_ms_p99"] ?? 0,
                    result["all_ms_max"] ?? 0, result["each_ms_p99"] ?? 0, result["server_cpu_cores"] ?? 0,
                    result["bench_cpu_cores"] ?? 0))
        }
        let best = results.filter { ($0["all_ms_p95"] ?? .infinity) <= 100 && $0["complete_share"] == 1 }
            .compactMap { $0["members"] }.max()
        print(
            "Largest group with every message at every member and p95 ≤ 100 ms: "
                + (best.map { String(format: "%.0f members", $0) } ?? "none"))
        try options.save([
            "senders": senders, "rate_per_sender": rate, "seconds": seconds, "groups": results,
            "largest_group_p95_100ms": best ?? 0,
        ])
        for socket in sockets { await socket.close() }
    }
}

/// For each group message: how many members have it, and when the last one got it.
final class FanoutRecorder: Sendable {
    private struct Progress {
        var sent: UInt64
        var count = 0
        var last: UInt64 = 0
    }

    private struct State {
        var recipients = 0
        var sent = 0
        var messages: [Substring: Progress] = [:]
        var each = Histogram<UInt64>(highestTrackableValue: 120_000_000_000, numberOfSignificantValueDigits: .three)
        var deliveries = 0
    }

    private let state = Mutex(State())

    func reset(recipients: Int) { state.withLock { $0 = State(recipients: recipients) } }

    /// Opens a socket for each of `tokens` whose frames this recorder reads, and gives the server
    /// a second to settle.
    func connect(_ tokens: [String], to server: BenchServer) async throws -> [BenchSocket] {
        var sockets: [BenchSocket] = []
        for token in tokens {
            sockets.append(try await BenchSocket.connect(url: server.webSocketURL, token: token) { self.frame($0) })
        }
        try await Task.sleep(for: .seconds(1))
        return sockets
    }

    /// Waits until every message sent has reached every recipient, for at most `timeout` seconds.
    func waitUntilAllComplete(timeout: TimeInterval = 10) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline, !allComplete { try await Task.sleep(for: .milliseconds(20)) }
    }

    func sent() { state.withLock { $0.sent += 1 } }

    /// Whether every message sent so far has reached every recipient.
    var allComplete: Bool {
        state.withLock { state in
            state.messages.count == state.sent && state.messages.values.allSatisfy { $0.count >= state.recipients }
        }
    }

    func frame(_ frame: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        guard FrameFields.has("\"type\":\"message\"", in: frame), let body = FrameFields.string("body", in: frame)
        else { return }
        let parts = body.split(separator: ":")
        guard parts.count == 4, let sent = UInt64(parts[3]) else { return }
        let key = body.dropLast(parts[3].count)
        let latency = now > sent ? now - sent : 0
        state.withLock { state in
            var progress = state.messages[key] ?? Progress(sent: sent)
            progress.count += 1
            progress.last = max(progress.last, latency)
            state.messages[key] = progress
            state.deliveries += 1
            _ = state.each.record(latency)
        }
    }

    func summary(seconds: Double) -> [String: Double] {
        state.withLock { state in
            var all = Histogram<UInt64>(highestTrackableValue: 120_000_000_000, numberOfSignificantValueDigits: .three)
            var complete = 0
            for progress in state.messages.values where progress.count >= state.recipients {
                complete += 1
                _ = all.record(progress.last)
            }
            return [
                "messages": Double(state.sent),
                "complete_share": state.sent == 0 ? 0 : Double(complete) / Double(state.sent),
                "deliveries": Double(state.deliveries), "deliveries_per_s": Double(state.deliveries) / seconds,
                "all_ms_p50": Double(all.valueAtPercentile(50)) / 1e6,
                "all_ms_p95": Double(all.valueAtPercentile(95)) / 1e6,
                "all_ms_p99": Double(all.valueAtPercentile(99)) / 1e6, "all_ms_max": Double(all.max) / 1e6,
                "each_ms_p99": Double(state.each.valueAtPercentile(99)) / 1e6,
            ]
        }
    }
}
