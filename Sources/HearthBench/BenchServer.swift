import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A `hearth serve` child process on 127.0.0.1 over a temporary data dir, for one benchmark run.
final class BenchServer: @unchecked Sendable {
    let binary: String
    let data: URL
    let process = Process()
    let environment: [String: String]
    private(set) var url = ""
    /// From spawning the process to the first `200` from `/healthz`.
    private(set) var startMilliseconds = 0.0
    let session: URLSession

    init(binary: String, environment: [String: String], arguments: [String]) throws {
        self.binary = binary
        self.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        data = FileManager.default.temporaryDirectory.appending(path: "hearth-bench-\(UUID().uuidString)")
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 64
        session = URLSession(configuration: configuration)

        let start = ContinuousClock.now
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments =
            ["serve", "--data", data.path, "--host", "127.0.0.1", "--port", "0", "--log-level", "warning"] + arguments
        process.environment = self.environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        while !text.contains("Hearth is running at ") || !text.contains("\n") {
            let chunk = out.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw BenchError("hearth serve exited: \(text)") }
            text += String(decoding: chunk, as: UTF8.self)
        }
        let line = text.split(separator: "\n").first { $0.hasPrefix("Hearth is running at ") } ?? ""
        url = String(line.dropFirst("Hearth is running at ".count).prefix { $0 != " " })
        out.fileHandleForReading.readabilityHandler = { _ = $0.availableData }
        while true {
            if let healthy = try? Self.healthz(url), healthy { break }
            guard process.isRunning else { throw BenchError("hearth serve exited before /healthz answered") }
            Thread.sleep(forTimeInterval: 0.002)
        }
        startMilliseconds = AuthScenario.milliseconds(ContinuousClock.now - start)
    }

    /// A synchronous `GET /healthz` with a raw socket-free URLSession call.
    static func healthz(_ url: String) throws -> Bool {
        guard let endpoint = URL(string: url + "/healthz") else { return false }
        let semaphore = DispatchSemaphore(value: 0)
        let result = Box()
        URLSession.shared.dataTask(with: endpoint) { _, response, _ in
            result.ok = (response as? HTTPURLResponse)?.statusCode == 200
            semaphore.signal()
        }.resume()
        semaphore.wait()
        return result.ok
    }

    final class Box: @unchecked Sendable { var ok = false }

    /// Resident memory of the server process in MiB, from /proc.
    func rssMiB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kib = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kib / 1024
    }

    /// Runs a `hearth` CLI command on the server's data dir.
    func hearth(_ arguments: [String]) throws {
        let command = Process()
        command.executableURL = URL(fileURLWithPath: binary)
        command.arguments = arguments + ["--data", data.path]
        command.standardOutput = FileHandle.nullDevice
        try command.run()
        command.waitUntilExit()
        guard command.terminationStatus == 0 else { throw BenchError("hearth \(arguments) failed") }
    }

    /// POSTs JSON and checks the status.
    func post(_ path: String, _ body: [String: String], expect: Int) async throws {
        guard let endpoint = URL(string: url + path) else { throw BenchError("bad URL") }
        var request = URLRequest(url: endpoint)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
        let (data, response) = try await session.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == expect else {
            throw BenchError("\(path) answered \(status): \(String(decoding: data, as: UTF8.self))")
        }
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: data)
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
