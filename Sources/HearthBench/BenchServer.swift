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

    /// Starts `binary serve` with `arguments` after the data dir, address and log level, or
    /// `binary` with `command` instead (a server that prints the same start line and answers
    /// `/healthz`, such as `HearthBench echo-server`).
    init(binary: String, environment: [String: String], arguments: [String], command: [String]? = nil) throws {
        self.binary = binary
        self.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        data = FileManager.default.temporaryDirectory.appending(path: "hearth-bench-\(UUID().uuidString)")
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 64
        session = URLSession(configuration: configuration)

        let start = ContinuousClock.now
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments =
            command
            ?? ["serve", "--data", data.path, "--host", "127.0.0.1", "--port", "0", "--log-level", "warning"]
            + arguments
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

    /// A server for load scenarios: cheap Argon2 (accounts are set up by the hundred), open
    /// registration, and the registration throttle, the per-address connection limit (every
    /// simulated client is 127.0.0.1) and the per-device and per-user socket caps (`idle` opens
    /// ten sockets per token) lifted; `environment` adds more settings.
    static func forLoad(
        binary: String, environment: [String: String] = [:], arguments: [String] = []
    ) throws
        -> BenchServer
    {
        let server = try BenchServer(
            binary: binary,
            environment: environment.merging([
                "HEARTH_THROTTLE_REGISTER": "1000000", "HEARTH_MAX_CONNECTIONS_PER_ADDRESS": "1000000",
                "HEARTH_SOCKETS_PER_DEVICE": "1000000", "HEARTH_SOCKETS_PER_USER": "1000000",
            ]) { $1 },
            arguments: ["--argon2-memory", "1024", "--argon2-iterations", "1"] + arguments)
        try server.hearth(["registration", "open"])
        return server
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
        procValue("status", "VmRSS:") / 1024
    }

    /// The number after `key` in the server's `/proc/PID/<file>` (lines of `key value [unit]`),
    /// 0 where that is not readable.
    private func procValue(_ file: String, _ key: String) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/\(file)", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key) }),
            let value = Double(line.dropFirst(key.count).split(whereSeparator: \.isWhitespace).first ?? "")
        else { return 0 }
        return value
    }

    /// CPU seconds (user + system) the server process has used so far, from /proc.
    func cpuSeconds() -> Double {
        Self.cpuSeconds(stat: "/proc/\(process.processIdentifier)/stat")
    }

    /// CPU seconds the server's threads whose name starts with `prefix` have used so far, from
    /// /proc/PID/task: `argon2-hash` for the password hashing (its threads name themselves).
    func threadCPUSeconds(named prefix: String) -> Double {
        let tasks = "/proc/\(process.processIdentifier)/task"
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: tasks)) ?? []
        return threads.filter { thread in
            (try? String(contentsOfFile: "\(tasks)/\(thread)/comm", encoding: .utf8))?.hasPrefix(prefix) ?? false
        }
        .map { Self.cpuSeconds(stat: "\(tasks)/\($0)/stat") }.reduce(0, +)
    }

    /// User + system CPU seconds from a process's or thread's `stat` file, 0 where unreadable.
    private static func cpuSeconds(stat path: String) -> Double {
        guard let stat = try? String(contentsOfFile: path, encoding: .utf8), let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Bytes the server process has caused to be written to storage so far (`write_bytes` of
    /// /proc/PID/io: its WAL, its checkpoints, everything), 0 where that is not readable.
    func writtenBytes() -> Double {
        procValue("io", "write_bytes:")
    }

    /// CPU seconds this benchmark process has used so far.
    static func ownCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
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
        _ = try await postJSON(path, body, expect: [expect])
    }

    /// POSTs JSON (with a bearer token when given), checks the status, returns the decoded answer.
    func postJSON(
        _ path: String, _ body: [String: Any], token: String? = nil, expect: Set<Int>
    ) async throws
        -> [String: Any]
    {
        guard let endpoint = URL(string: url + path) else { throw BenchError("bad URL") }
        var request = URLRequest(url: endpoint)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
        let (data, response) = try await session.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard expect.contains(status) else {
            throw BenchError("\(path) answered \(status): \(String(decoding: data, as: UTF8.self))")
        }
        return (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    /// Creates a group owned by `token`'s user with `members` (usernames); returns its id.
    func createGroup(_ name: String, members: [String], token: String) async throws -> Int64 {
        let answer = try await postJSON(
            "/api/v1/rooms", ["name": name, "members": members], token: token, expect: [201])
        guard let id = ((answer["room"] as? [String: Any])?["id"] as? NSNumber)?.int64Value else {
            throw BenchError("no room id in \(answer)")
        }
        return id
    }

    /// The WebSocket URL of the server.
    var webSocketURL: String { url.replacingOccurrences(of: "http://", with: "ws://") + "/api/v1/ws" }

    /// Registers `count` accounts named `prefix0…` (16 at a time) and returns their tokens in order.
    func registerUsers(_ count: Int, prefix: String) async throws -> [String] {
        try await withThrowingTaskGroup(of: (Int, String).self) { group in
            var tokens = [String](repeating: "", count: count)
            var next = 0
            func add(_ group: inout ThrowingTaskGroup<(Int, String), any Error>) {
                let index = next
                next += 1
                group.addTask {
                    let answer = try await self.postJSON(
                        "/api/v1/register", ["username": "\(prefix)\(index)", "password": "benchmark family password"],
                        expect: [201])
                    return (index, answer["token"] as? String ?? "")
                }
            }
            while next < min(16, count) { add(&group) }
            while let (index, token) = try await group.next() {
                tokens[index] = token
                if next < count { add(&group) }
            }
            return tokens
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
