import ArgumentParser
import Foundation
import Histogram
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `HearthBench login`: a flood of wrong-password sign-ins at stepped rates while the `pm` load
/// runs, with real Argon2 parameters: how fast sign-ins are answered, how many are shed (`429`
/// throttled, `503` hashing queue full), and what the flood does to live delivery.
struct LoginScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Wrong-password sign-in floods beside live messaging: sign-in latency, shed share, live TTD.")

    @OptionGroup var options: BenchOptions
    @Option(help: "Online users of the live load.") var users = 1000
    @Option(help: "Live messages per second (30% of the 5,000/s `pm` reaches).") var live = 1500
    @Option(help: "Sign-in attempts per second to step through, comma-separated; 0 is the baseline.")
    var floods = "0,5,20,50,100,200"
    @Option(help: "Seconds per step.") var seconds = 10.0
    @Flag(help: "Send the whole flood from one address (default: a different address per attempt).")
    var oneAddress = false

    func run() async throws {
        let rates = floods.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !rates.isEmpty else { throw ValidationError("give at least one flood rate") }
        // Default Argon2 and one hashing thread, as `serve` runs out of the box; the flood's
        // addresses arrive in X-Forwarded-For, believed from the benchmark's own address.
        let server = try BenchServer(
            binary: options.binary,
            environment: [
                "HEARTH_MESSAGES_PER_MINUTE": "10000000", "HEARTH_FRAMES_PER_SECOND": "1000000",
                "HEARTH_THROTTLE_REGISTER": "1000000", "HEARTH_MAX_CONNECTIONS_PER_ADDRESS": "1000000",
            ],
            arguments: ["--trusted-proxy", "127.0.0.1"])
        defer { server.stop() }
        try server.hearth(["registration", "open"])
        print("Setting up \(users) users (real Argon2: this takes a while)…")
        let load = try await PMLoad(server: server, users: users, neighbours: 10)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 1024
        configuration.timeoutIntervalForRequest = 120
        let session = URLSession(configuration: configuration)

        var results: [[String: Double]] = []
        print("flood/s  attempts   401    429    503  other  login_p50  login_p99 (ms)  live/s  ttd_p50  ttd_p99 (ms)")
        for (index, rate) in rates.enumerated() {
            let flood = FloodRecorder()
            let floodTask = Task {
                guard rate > 0 else { return }
                await withTaskGroup(of: Void.self) { group in
                    await paced(
                        count: Int(Double(rate) * seconds), every: 1e9 / Double(rate),
                        from: DispatchTime.now().uptimeNanoseconds
                    ) { n in
                        let address = oneAddress ? "203.0.113.7" : "10.\(n / 65_536 % 256).\(n / 256 % 256).\(n % 256)"
                        group.addTask {
                            await flood.attempt(server: server, session: session, number: n, address: address)
                        }
                    }
                }
            }
            let (sendSeconds, step) = try await load.step(index, rate: live, seconds: seconds)
            await floodTask.value
            var result = flood.summary()
            result["flood_per_s"] = Double(rate)
            result["live_per_s"] = step["delivered_per_s"] ?? 0
            result["ttd_ms_p50"] = step["ttd_ms_p50"] ?? 0
            result["ttd_ms_p99"] = step["ttd_ms_p99"] ?? 0
            result["lost"] = step["lost"] ?? 0
            result["send_seconds"] = sendSeconds
            results.append(result)
            print(
                String(
                    format: "%7d %9.0f %5.0f %6.0f %6.0f %6.0f %10.1f %10.1f %15.0f %8.1f %8.1f", rate,
                    result["attempts"] ?? 0, result["status_401"] ?? 0, result["status_429"] ?? 0,
                    result["status_503"] ?? 0, result["status_other"] ?? 0, result["login_ms_p50"] ?? 0,
                    result["login_ms_p99"] ?? 0, result["live_per_s"] ?? 0, result["ttd_ms_p50"] ?? 0,
                    result["ttd_ms_p99"] ?? 0))
        }
        if let baseline = results.first?["ttd_ms_p99"],
            let worst = results.dropFirst().map({ $0["ttd_ms_p99"] ?? 0 }).max()
        {
            print(
                String(
                    format: "Live TTD p99: %.1f ms without a flood, at worst %.1f ms with one (%.1f×; goal ≤ 2×).",
                    baseline, worst, worst / max(baseline, 0.001)))
        }
        try options.save(["users": users, "live_per_s": live, "one_address": oneAddress, "steps": results])
        await load.close()
    }
}

/// Status counts and latency of the flood's sign-in attempts.
final class FloodRecorder: Sendable {
    private struct State {
        var statuses: [Int: Int] = [:]
        var latency = Histogram<UInt64>(highestTrackableValue: 600_000_000_000, numberOfSignificantValueDigits: .three)
    }

    private let state = Mutex(State())

    /// One wrong-password sign-in for an account that does not exist, from `address`.
    func attempt(server: BenchServer, session: URLSession, number: Int, address: String) async {
        guard let url = URL(string: server.url + "/api/v1/login") else { return }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue(address, forHTTPHeaderField: "X-Forwarded-For")
        request.httpBody = Data(#"{"username":"intruder\#(number % 1000)","password":"guess number \#(number)"}"#.utf8)
        let start = DispatchTime.now().uptimeNanoseconds
        let status = ((try? await session.data(for: request))?.1 as? HTTPURLResponse)?.statusCode ?? 0
        let elapsed = DispatchTime.now().uptimeNanoseconds - start
        state.withLock { state in
            state.statuses[status, default: 0] += 1
            _ = state.latency.record(elapsed)
        }
    }

    func summary() -> [String: Double] {
        state.withLock { state in
            let attempts = state.statuses.values.reduce(0, +)
            let known = [401, 429, 503]
            return [
                "attempts": Double(attempts), "status_401": Double(state.statuses[401] ?? 0),
                "status_429": Double(state.statuses[429] ?? 0), "status_503": Double(state.statuses[503] ?? 0),
                "status_other": Double(state.statuses.filter { !known.contains($0.key) }.values.reduce(0, +)),
                "shed_share": attempts == 0
                    ? 0 : Double((state.statuses[429] ?? 0) + (state.statuses[503] ?? 0)) / Double(attempts),
                "login_ms_p50": Double(state.latency.valueAtPercentile(50)) / 1e6,
                "login_ms_p99": Double(state.latency.valueAtPercentile(99)) / 1e6,
            ]
        }
    }
}
