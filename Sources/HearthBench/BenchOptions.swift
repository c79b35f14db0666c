import ArgumentParser
import Foundation

/// Options every scenario takes.
struct BenchOptions: ParsableArguments {
    @Option(help: "Path to the hearth binary (default: the one next to HearthBench).") var hearth: String?
    @Option(help: "Write the results as JSON to this file.") var json: String?

    /// The hearth binary to start.
    var binary: String { hearth ?? Bundle.main.bundleURL.appending(path: "hearth").path }

    /// Writes `results` to `--json` when given.
    func save(_ results: Any) throws {
        if let json { try Stats.write(results, to: json) }
    }
}
