import ArgumentParser
import Credentials
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `HearthBench auth`: Argon2id cost, register and login latency under concurrency, cold start,
/// idle memory and binary size of a real server.
struct AuthScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth",
        abstract: "Register and sign-in latency with concurrent clients, Argon2id hash time, start-up and idle memory.")

    @OptionGroup var options: BenchOptions

    @Option(help: "Concurrent clients.") var clients = 10
    @Option(help: "Registrations, then sign-ins, per client.") var requests = 20
    @Option(help: "Argon2id hashes to time at the default parameters.") var hashes = 20
    @Option(help: "Hashing threads for the server (--hash-threads).") var hashThreads = 1

    func run() async throws {
        let binary = options.binary
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw ValidationError("no hearth binary at \(binary); build it (swift build -c release) or pass --hearth")
        }
        var results: [String: Double] = [:]

        // 1. Argon2id at the defaults, in this process, one at a time.
        let hasher = try PasswordHasher(configuration: .init(parameters: .default))
        var hashTimes: [Double] = []
        for index in 0..<hashes {
            let start = ContinuousClock.now
            _ = try await hasher.hash("benchmark password \(index)")
            hashTimes.append(Self.milliseconds(ContinuousClock.now - start))
        }
        results["argon2_hash_ms_p50"] = Stats.percentile(hashTimes, 50)
        results["argon2_hash_ms_max"] = hashTimes.max() ?? 0

        // 2. Cold start to the first 200 from /healthz, and idle RSS.
        let server = try BenchServer(
            binary: binary, environment: ["HEARTH_THROTTLE_REGISTER": "1000000"],
            arguments: ["--hash-threads", String(hashThreads), "--hash-queue", String(max(32, clients * 2))])
        defer { server.stop() }
        results["cold_start_to_healthz_ms"] = server.startMilliseconds
        try await Task.sleep(for: .seconds(1))
        results["idle_rss_mib"] = server.rssMiB()
        results["binary_mib"] =
            Double(
                (try FileManager.default.attributesOfItem(atPath: binary)[.size] as? Int) ?? 0) / 1_048_576

        // 3. Registrations, then sign-ins, from concurrent clients.
        try server.hearth(["registration", "open"])
        let password = "benchmark family password"
        let register = try await Stats.timed(clients: clients, requests: requests) { client, index in
            try await server.post(
                "/api/v1/register", ["username": "bench\(client)x\(index)", "password": password], expect: 201)
        }
        let login = try await Stats.timed(clients: clients, requests: requests) { client, index in
            try await server.post(
                "/api/v1/login", ["username": "bench\(client)x\(index)", "password": password], expect: 200)
        }
        for (name, times) in [("register", register), ("login", login)] {
            results["\(name)_ms_p50"] = Stats.percentile(times.latencies, 50)
            results["\(name)_ms_p99"] = Stats.percentile(times.latencies, 99)
            results["\(name)_per_s"] = Double(times.latencies.count) / times.seconds
        }
        results["rss_after_load_mib"] = server.rssMiB()

        print("HearthBench auth — \(clients) clients × \(requests) requests, \(hashThreads) hashing thread(s)")
        print(Stats.table(results))
        try options.save(results)
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}
