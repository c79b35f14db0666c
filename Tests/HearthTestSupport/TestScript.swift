import Foundation

/// The Python scripts in Tests/Scripts: browser runs (Selenium and headless Chromium), attacks,
/// held-open sockets, TLS and prompt checks, sample files, each for a test that started what it needs.
public enum TestScript {
    /// Where the script `name` is.
    public static func url(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "../Scripts/\(name)")
            .standardizedFileURL
    }

    /// Runs `name` with `arguments` and returns what it printed; throws ``Failed`` with that
    /// output when it does not succeed.
    @discardableResult
    public static func run(_ name: String, _ arguments: [String]) throws -> String {
        let script = url(name)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path] + arguments
        process.currentDirectoryURL = script.deletingLastPathComponent()
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failed(script: name, output: text) }
        return text
    }

    /// A script that exited with a failure, and what it printed.
    public struct Failed: Error, CustomStringConvertible {
        public let script: String
        public let output: String
        public var description: String { "\(script) failed:\n\(output)" }
    }
}
