import ArgumentParser
import Foundation

/// `HearthBench peers`: the reference-peer workload (`Peers/peers.py`, Python clients): Hearth
/// and Debian's Prosody under the same load, for CPU per delivered message and memory per idle
/// socket. It needs Python's `websocket-client` and, for `--prosody`, Debian's `prosody` package.
struct PeersScenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peers",
        abstract:
            "Hearth and Debian's Prosody under one workload (10 pairs × 2,000 messages, 64 in flight; 2,000 idle sockets)."
    )

    @OptionGroup var options: BenchOptions
    @Flag(help: "Also run Debian's prosody (as root: it runs as Debian's `prosody` user).") var prosody = false
    @Flag(help: "Run Prosody alone, not Hearth.") var prosodyOnly = false

    func run() throws {
        // The script is in this package's sources, next to this file: HearthBench runs from a checkout.
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Peers/peers.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            ["python3", script.path] + (prosodyOnly ? [] : ["--hearth", options.binary])
            + (prosody || prosodyOnly ? ["--prosody"] : []) + (options.json.map { ["--json", $0] } ?? [])
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ExitCode(process.terminationStatus) }
    }
}
