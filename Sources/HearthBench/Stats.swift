import Foundation

/// Latency samples and their summaries.
enum Stats {
    /// The `p`th percentile (nearest rank) of `samples`.
    static func percentile(_ samples: [Double], _ p: Double) -> Double {
        guard !samples.isEmpty else { return 0 }
        let sorted = samples.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }

    /// Runs `requests` calls on each of `clients` concurrent tasks; returns every latency in ms and the wall time.
    static func timed(
        clients: Int, requests: Int, _ call: @escaping @Sendable (Int, Int) async throws -> Void
    ) async throws -> (latencies: [Double], seconds: Double) {
        let start = ContinuousClock.now
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for client in 0..<clients {
                group.addTask {
                    var times: [Double] = []
                    for index in 0..<requests {
                        let begin = ContinuousClock.now
                        try await call(client, index)
                        times.append(AuthScenario.milliseconds(ContinuousClock.now - begin))
                    }
                    return times
                }
            }
            return try await group.reduce(into: [Double]()) { $0 += $1 }
        }
        return (latencies, AuthScenario.milliseconds(ContinuousClock.now - start) / 1000)
    }

    /// Writes results as pretty JSON.
    static func write(_ results: Any, to path: String) throws {
        let data = try JSONSerialization.data(withJSONObject: results, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: path))
    }

    /// `name  value` lines, sorted by name.
    static func table(_ results: [String: Double]) -> String {
        let width = results.keys.map(\.count).max() ?? 0
        return results.keys.sorted().map { key in
            key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + String(format: "%.1f", results[key] ?? 0)
        }.joined(separator: "\n")
    }
}

/// Runs `body` `count` times at a fixed pace: the n-th call at `start + offset + n × interval`
/// nanoseconds on the uptime clock. It sleeps until a call is due, and runs at once every call
/// due within the next `slack` nanoseconds (a sleep per call at thousands a second would cost
/// the load generator more than the calls) and every late one.
func paced(
    count: Int, every interval: Double, offset: Double = 0, from start: UInt64, slack: UInt64 = 1_000_000,
    _ body: (Int) async -> Void
) async {
    for n in 0..<count {
        let due = start + UInt64(offset + interval * Double(n))
        let now = DispatchTime.now().uptimeNanoseconds
        if due > now + slack { try? await Task.sleep(nanoseconds: due - now) }
        await body(n)
    }
}
