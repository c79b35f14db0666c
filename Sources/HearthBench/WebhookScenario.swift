import ArgumentParser
import Foundation
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `HearthBench webhook`: an incoming webhook posted to at growing rates; how long until each
/// post has reached every member of its group.
struct WebhookScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook",
        abstract: "Incoming webhook posts to one group: time until every member has each, per rate.")

    @OptionGroup var options: BenchOptions
    @Option(help: "Members of the group, all online.") var members = 10
    @Option(help: "Posts per second, comma-separated.") var rates = "50,100,200,400,800"
    @Option(help: "Seconds each rate posts for.") var seconds = 10.0
    @Option(help: "HTTP clients posting at once (each paced at rate / clients).") var clients = 16

    func run() async throws {
        let steps = rates.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !steps.isEmpty, members >= 1, clients >= 1 else { throw ValidationError("give rates, members, clients") }
        let server = try BenchServer.forLoad(
            binary: options.binary,
            environment: [
                "HEARTH_WEBHOOK_MESSAGES_PER_MINUTE": "100000000", "HEARTH_MEMBERS_PER_ROOM": "\(members + 10)",
            ],
            arguments: ["--hash-threads", "2"])
        defer { server.stop() }
        print("Setting up \(members) members, a group and its webhook…")
        let tokens = try await server.registerUsers(members, prefix: "home")
        let roomID = try await server.createGroup(
            "Home", members: (1..<members).map { "home\($0)" }, token: tokens[0])
        let made = try await server.postJSON(
            "/api/v1/rooms/\(roomID)/webhooks", ["name": "Bench"], token: tokens[0], expect: [201])
        // The secret from the URL, at the address this benchmark reaches the server.
        guard let secret = (made["url"] as? String)?.split(separator: "/").last,
            let hookURL = URL(string: server.url + "/api/v1/hooks/" + secret)
        else { throw BenchError("no webhook URL") }
        let recorder = FanoutRecorder()
        let sockets = try await recorder.connect(tokens, to: server)

        var results: [[String: Double]] = []
        print(
            "rate/s  achieved/s  posted  refused  complete  all_p50  all_p95  all_p99  all_max (ms)  server_cpu"
                + "  bench_cpu (cores)")
        for rate in steps {
            recorder.reset(recipients: members)
            let refused = SharedCount()
            let (serverCPU, benchCPU) = (server.cpuSeconds(), BenchServer.ownCPUSeconds())
            let count = Int(rate * seconds / Double(clients))
            let start = DispatchTime.now().uptimeNanoseconds
            let session = server.session
            await withTaskGroup(of: Void.self) { group in
                for client in 0..<clients {
                    group.addTask {
                        let interval = 1e9 * Double(clients) / rate
                        await paced(
                            count: count, every: interval, offset: interval * Double(client) / Double(clients),
                            from: start
                        ) { n in
                            let sent = DispatchTime.now().uptimeNanoseconds
                            var request = URLRequest(url: hookURL)
                            request.httpMethod = "POST"
                            request.setValue("text/plain", forHTTPHeaderField: "Content-Type")
                            request.httpBody = Data("\(Int(rate)):\(client):\(n):\(sent)".utf8)
                            recorder.sent()
                            let status = (try? await session.data(for: request)).flatMap {
                                ($0.1 as? HTTPURLResponse)?.statusCode
                            }
                            if status != 200 { refused.add() }
                        }
                    }
                }
            }
            let sendSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            try await recorder.waitUntilAllComplete()
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            var result = recorder.summary(seconds: elapsed)
            result["rate"] = rate
            // What the clients reached: each waits for its answer before its next post.
            result["achieved_per_s"] = (result["messages"] ?? 0) / sendSeconds
            result["refused"] = Double(refused.value)
            result["server_cpu_cores"] = (server.cpuSeconds() - serverCPU) / elapsed
            result["bench_cpu_cores"] = (BenchServer.ownCPUSeconds() - benchCPU) / elapsed
            results.append(result)
            print(
                String(
                    format: "%6.0f %11.0f %7.0f %8.0f %8.1f%% %8.1f %8.1f %8.1f %12.1f %11.2f %10.2f", rate,
                    result["achieved_per_s"] ?? 0, result["messages"] ?? 0, result["refused"] ?? 0,
                    100 * (result["complete_share"] ?? 0),
                    result["all_ms_p50"] ?? 0, result["all_ms_p95"] ?? 0, result["all_ms_p99"] ?? 0,
                    result["all_ms_max"] ?? 0, result["server_cpu_cores"] ?? 0, result["bench_cpu_cores"] ?? 0))
        }
        // A rate counts only if the clients kept up with it (within 5%).
        let best = results.filter {
            ($0["all_ms_p99"] ?? .infinity) <= 50 && $0["complete_share"] == 1 && $0["refused"] == 0
                && ($0["achieved_per_s"] ?? 0) >= 0.95 * ($0["rate"] ?? 0)
        }.compactMap { $0["rate"] }.max()
        print(
            "Highest rate with every post at every member, p99 ≤ 50 ms: "
                + (best.map { String(format: "%.0f posts/s", $0) } ?? "none"))
        try options.save([
            "members": members, "clients": clients, "seconds": seconds, "rates": results, "best_rate": best ?? 0,
        ])
        for socket in sockets { await socket.close() }
    }
}

/// A count several tasks add to.
final class SharedCount: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
