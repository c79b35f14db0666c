import Foundation
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The `hearth` binary SwiftPM built next to this test bundle.
enum HearthBinary {
    static var url: URL {
        get throws {
            var directory = Bundle.main.bundleURL
            for _ in 0..<4 {
                let candidate = directory.appending(path: "hearth")
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
                directory = directory.deletingLastPathComponent()
            }
            throw CLIFailure("no hearth binary near \(Bundle.main.bundleURL.path); run `swift build` first")
        }
    }
}

struct CLIFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// What a finished command printed.
struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// A temporary folder for one test, removed at the end.
struct TempDirectory {
    let url = FileManager.default.temporaryDirectory.appending(path: "hearth-cli-\(UUID().uuidString)")

    init() throws {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    var data: String { url.appending(path: "data").path }

    /// Writes `text` to a file in the folder and returns its path.
    func file(_ name: String, _ text: String) throws -> String {
        let file = url.appending(path: name)
        try Data(text.utf8).write(to: file)
        return file.path
    }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// Runs `hearth` with `arguments` to completion.
func hearth(
    _ arguments: [String], executable: URL? = nil, directory: URL? = nil, stdin: String? = nil,
    environment: [String: String] = [:]
) throws -> CommandResult {
    let process = Process()
    process.executableURL = try executable ?? HearthBinary.url
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe()
    let err = Pipe()
    let input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(
        status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
        stderr: String(decoding: stderr, as: UTF8.self))
}

/// A `hearth serve` child process on 127.0.0.1 and a free port.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    private let output = TextBuffer()
    private let errors = TextBuffer()
    /// `http://127.0.0.1:PORT`.
    private(set) var url = ""

    init(
        data: String, executable: URL? = nil, directory: URL? = nil, extra: [String] = [],
        environment: [String: String] = [:]
    ) throws {
        process.executableURL = try executable ?? HearthBinary.url
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.arguments =
            ["serve", "--host", "127.0.0.1", "--port", "0"] + (data.isEmpty ? [] : ["--data", data]) + extra
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let output = output
        let errors = errors
        out.fileHandleForReading.readabilityHandler = { output.append($0.availableData) }
        err.fileHandleForReading.readabilityHandler = { errors.append($0.availableData) }
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let line = stdout.split(separator: "\n").first(where: { $0.hasPrefix("Hearth is running at ") }) {
                url = String(line.dropFirst("Hearth is running at ".count).prefix { $0 != " " })
                // The rest of the announcement is written in the same call; wait for its end.
                if !stdout.contains("No admin account") || stdout.contains("The link works once") { return }
            }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        stop()
        throw CLIFailure("hearth serve did not start: \(stdout) \(stderr)")
    }

    var stdout: String { output.text }
    var stderr: String { errors.text }

    /// The one-time setup token printed at start, if any.
    var setupToken: String? {
        stdout.split(separator: "\n").first { $0.contains("/setup?token=") }
            .map { String($0.split(separator: "=").last ?? "") }
    }

    /// Sends SIGTERM and waits (at most ten seconds) for the exit status.
    @discardableResult
    func stop() -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        process.terminate()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            return nil
        }
        return process.terminationStatus
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

    /// Sends a request and returns the status and the parsed JSON object (empty when not JSON).
    func request(
        _ method: String, _ path: String, json: [String: Any]? = nil, token: String? = nil
    )
        async throws -> (Int, [String: Any], String)
    {
        var request = URLRequest(url: try #require(URL(string: url + path)))
        request.httpMethod = method
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return (status, object, String(decoding: data, as: UTF8.self))
    }
}

/// Text a child process writes, collected as it arrives.
final class TextBuffer: Sendable {
    private let storage = Mutex("")

    var text: String { storage.withLock { $0 } }

    func append(_ data: Data) {
        storage.withLock { $0 += String(decoding: data, as: UTF8.self) }
    }
}
