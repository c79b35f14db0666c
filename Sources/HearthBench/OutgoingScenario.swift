import ArgumentParser
import Foundation
import Synchronization

/// `HearthBench outgoing`: a group's messages sent on to an outgoing webhook's receiver on
/// loopback (this command runs it: it answers `204` and notes when each message arrives). Each
/// rate runs twice on one server, before the group has a hook and after: what the hook costs the
/// server per message, and how long a message takes from its send to the receiver.
struct OutgoingScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outgoing",
        abstract: "Outgoing webhook deliveries to a local receiver: send→receiver latency, server CPU per delivery.")

    @OptionGroup var options: BenchOptions
    @Option(help: "Members of the group, all online (the first sends).") var members = 2
    @Option(help: "Messages per second, comma-separated.") var rates = "100,200,500,1000"
    @Option(help: "Seconds each rate sends for.") var seconds = 10.0

    func run() async throws {
        let steps = rates.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !steps.isEmpty, members >= 2 else { throw ValidationError("give rates and at least 2 members") }
        // The message's number, from `"body":"o123"` in the delivery.
        let receiver = try LocalReceiver(status: .noContent) { _, body in
            let text = String(buffer: body)
            guard let start = text.range(of: "\"body\":\"o") else { return nil }
            return Int64(text[start.upperBound...].prefix { $0.isNumber })
        }
        defer { receiver.stop() }
        let server = try BenchServer.forLoad(
            binary: options.binary,
            environment: [
                "HEARTH_MESSAGES_PER_MINUTE": "10000000", "HEARTH_FRAMES_PER_SECOND": "1000000",
                "HEARTH_WEBHOOK_ALLOW_PRIVATE": "127.0.0.1", "HEARTH_MEMBERS_PER_ROOM": "\(members + 10)",
            ],
            arguments: ["--hash-threads", "2"])
        defer { server.stop() }
        print("Setting up \(members) members and a group…")
        let tokens = try await server.registerUsers(members, prefix: "out")
        let roomID = try await server.createGroup(
            "Home", members: (1..<members).map { "out\($0)" }, token: tokens[0])
        let received = Atomic<Int>(0)
        var sockets: [BenchSocket] = []
        for token in tokens {
            sockets.append(
                try await BenchSocket.connect(url: server.webSocketURL, token: token) { frame in
                    if FrameFields.has("\"type\":\"message\"", in: frame) { received.add(1, ordering: .relaxed) }
                })
        }
        try await Task.sleep(for: .seconds(1))

        print("hook   rate/s  sent  delivered  deliveries/s  hook_p50  hook_p99 (ms)  server_cpu (cores)  µs/message")
        var results: [[String: Double]] = []
        var counter = 0
        for hooked in [false, true] {
            if hooked {
                _ = try await server.postJSON(
                    "/api/v1/rooms/\(roomID)/outgoing-webhooks", ["name": "Bench", "url": receiver.url + "/hook"],
                    token: tokens[0], expect: [201])
            }
            for rate in steps {
                let total = Int(rate * seconds)
                let (cpu0, got0, arrived0) = (server.cpuSeconds(), received.load(ordering: .relaxed), receiver.count)
                receiver.resetLatencies()
                let start = DispatchTime.now().uptimeNanoseconds
                let first = counter
                counter += total
                await paced(count: total, every: 1e9 / rate, from: start) { n in
                    let index = first + n
                    receiver.sent(key: Int64(index))
                    try? await sockets[0].send(
                        "{\"type\":\"send\",\"id\":\"o\(index)\",\"room\":\(roomID),\"body\":\"o\(index)\"}")
                }
                // Until every other member has every message and the receiver every delivery (or 30 s).
                let expected = total * (members - 1)
                for _ in 0..<300 {
                    let done =
                        received.load(ordering: .relaxed) - got0 >= expected
                        && (!hooked || receiver.count - arrived0 >= total)
                    if done { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                let cpu = server.cpuSeconds() - cpu0
                let arrived = receiver.count - arrived0
                let latency = receiver.latencies()
                let perMessage = cpu / Double(total) * 1e6
                let row: [String: Double] = [
                    "hook": hooked ? 1 : 0, "rate": rate, "sent": Double(total), "delivered": Double(arrived),
                    "deliveries_per_second": Double(arrived) / elapsed, "hook_p50_ms": latency.p50,
                    "hook_p99_ms": latency.p99, "server_cpu_cores": cpu / elapsed, "server_us_per_message": perMessage,
                ]
                results.append(row)
                print(
                    String(
                        format: "%-5@  %6.0f  %5d  %9d  %12.0f  %8.1f  %13.1f  %18.2f  %10.1f", hooked ? "yes" : "no",
                        rate, total, arrived, Double(arrived) / elapsed, latency.p50, latency.p99, cpu / elapsed,
                        perMessage))
            }
        }
        for socket in sockets { await socket.close() }
        try options.save(results)
    }
}
