import ArgumentParser
import Foundation
import Histogram
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `HearthBench login`: a flood of wrong-password sign-ins at stepped rates while the `pm` load
/// runs, with real Argon2 parameters: how fast sign-ins are answered, how many are shed (`429`
/// throttled, `503` hashing queue full), and what the flood does to live delivery. Each flood
/// step is compared with the baseline steps (rate 0) around it, not with the first step alone:
/// live delivery changes over a run as the database grows, and one baseline step may itself
/// have had a stall.
struct LoginScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Wrong-password sign-in floods beside live messaging: sign-in latency, shed share, live TTD.")

    @OptionGroup var options: BenchOptions
    @Option(help: "Online users of the live load.") var users = 1000
    @Option(help: "Live messages per second (30% of the 5,000/s `pm` reaches).") var live = 1500
    @Option(
        help: """
            Sign-in attempts per second to step through, comma-separated; 0 is a baseline step, \
            and each flood step is compared with the baseline steps just before and after it.
            """)
    var floods = "0,5,0,20,0,50,0,100,0,200,0"
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
        print(
            "flood/s  attempts   401    429    503  other  login_p50  login_p99 (ms)  live/s  ttd_p50  ttd_p99 (ms)"
                + "  server_cpu  hashing_cpu  bench_cpu (cores)")
        for (index, rate) in rates.enumerated() {
            let cpuBefore = (
                server: server.cpuSeconds(), hashing: server.threadCPUSeconds(named: "argon2-hash"),
                bench: BenchServer.ownCPUSeconds()
            )
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
            // Cores used over the step: the whole server, its hashing threads alone, this benchmark.
            result["server_cpu_cores"] = (server.cpuSeconds() - cpuBefore.server) / sendSeconds
            result["hashing_cpu_cores"] =
                (server.threadCPUSeconds(named: "argon2-hash") - cpuBefore.hashing) / sendSeconds
            result["bench_cpu_cores"] = (BenchServer.ownCPUSeconds() - cpuBefore.bench) / sendSeconds
            results.append(result)
            print(
                String(
                    format: "%7d %9.0f %5.0f %6.0f %6.0f %6.0f %10.1f %10.1f %15.0f %8.1f %8.1f %11.2f %12.2f %10.2f",
                    rate, result["attempts"] ?? 0, result["status_401"] ?? 0, result["status_429"] ?? 0,
                    result["status_503"] ?? 0, result["status_other"] ?? 0, result["login_ms_p50"] ?? 0,
                    result["login_ms_p99"] ?? 0, result["live_per_s"] ?? 0, result["ttd_ms_p50"] ?? 0,
                    result["ttd_ms_p99"] ?? 0, result["server_cpu_cores"] ?? 0, result["hashing_cpu_cores"] ?? 0,
                    result["bench_cpu_cores"] ?? 0))
        }
        Self.compareWithBaselines(&results)
        for step in results {
            guard let ratio = step["ttd_vs_baseline"], let baseline = step["ttd_baseline_ms_p99"] else { continue }
            print(
                String(
                    format: "%7.0f/s: live TTD p99 %.1f ms against %.1f ms in the baseline steps around it: %.2f×",
                    step["flood_per_s"] ?? 0, step["ttd_ms_p99"] ?? 0, baseline, ratio))
        }
        let ratios = results.compactMap { $0["ttd_vs_baseline"] }
        if let worst = ratios.max() {
            print(
                String(
                    format:
                        "Live TTD p99 against the baseline steps around each flood step: %.2f× at worst, "
                        + "goal ≤ 2× met in %d of %d flood steps.",
                    worst, ratios.filter { $0 <= 2 }.count, ratios.count))
        }
        try options.save(["users": users, "live_per_s": live, "one_address": oneAddress, "steps": results])
        await load.close()
    }
}

extension LoginScenario {
    /// Sets `ttd_baseline_ms_p99` and `ttd_vs_baseline` on each flood step: the mean live TTD
    /// p99 of the baseline steps (rate 0) just before and just after it (whichever there are),
    /// and the step's own p99 over that.
    static func compareWithBaselines(_ results: inout [[String: Double]]) {
        let isBaseline = { (step: [String: Double]) in (step["flood_per_s"] ?? 0) == 0 }
        for index in results.indices where !isBaseline(results[index]) {
            let around = [
                results[..<index].last(where: isBaseline), results[(index + 1)...].first(where: isBaseline),
            ].compactMap { $0?["ttd_ms_p99"] }
            guard !around.isEmpty else { continue }
            let baseline = around.reduce(0, +) / Double(around.count)
            results[index]["ttd_baseline_ms_p99"] = baseline
            results[index]["ttd_vs_baseline"] = (results[index]["ttd_ms_p99"] ?? 0) / max(baseline, 0.001)
        }
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
