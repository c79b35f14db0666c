import Foundation
import Testing

/// The Python scripts in Tests/Scripts: browser runs (Selenium and headless Chromium), attacks,
/// held-open sockets, TLS and prompt checks, each against a server the test started.
enum TestScript {
    /// Where the script `name` is.
    static func url(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "../Scripts/\(name)")
            .standardizedFileURL
    }

    /// Runs `name` with `arguments`, expects it to succeed, and returns what it printed.
    static func run(_ name: String, _ arguments: [String]) throws -> String {
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
        #expect(process.terminationStatus == 0, "\(text)")
        return text
    }
}
