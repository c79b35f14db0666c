import ArgumentParser
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `HearthBench attachments`: upload and download throughput of a 25 MiB file on loopback, and
/// the server's peak memory during 10 concurrent uploads.
struct AttachmentScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attachments",
        abstract: "Upload/download throughput of a 25 MiB file; server peak RSS during concurrent uploads.")

    @OptionGroup var options: BenchOptions
    @Option(help: "File size in MiB.") var mebibytes = 25
    @Option(help: "Concurrent uploads for the memory measurement.") var concurrent = 10

    func run() async throws {
        let server = try BenchServer.forLoad(binary: options.binary)
        defer { server.stop() }
        let tokens = try await server.registerUsers(concurrent, prefix: "files")
        var content = Data("ID3".utf8)
        content.append(Data((0..<(mebibytes * 1_048_576 - 3)).map { UInt8(truncatingIfNeeded: $0 &* 31) }))
        let file = content
        var results: [String: Double] = [:]

        // 1. One upload, then one download, timed.
        let start = Date()
        let id = try await upload(server, file, token: tokens[0])
        results["upload_mib_s"] = Double(mebibytes) / Date().timeIntervalSince(start)
        let downloadStart = Date()
        let downloaded = try await download(server, id, token: tokens[0])
        results["download_mib_s"] = Double(mebibytes) / Date().timeIntervalSince(downloadStart)
        guard downloaded == file else { throw BenchError("the downloaded file differs") }

        // 2. Concurrent uploads while sampling the server's RSS.
        let before = server.rssMiB()
        let sampler = Task {
            var peak = 0.0
            while !Task.isCancelled {
                peak = max(peak, server.rssMiB())
                try? await Task.sleep(for: .milliseconds(20))
            }
            return peak
        }
        let concurrentStart = Date()
        try await withThrowingTaskGroup(of: String.self) { group in
            for token in tokens { group.addTask { try await upload(server, file, token: token) } }
            try await group.waitForAll()
        }
        results["concurrent_upload_total_mib_s"] =
            Double(mebibytes * concurrent) / Date().timeIntervalSince(concurrentStart)
        sampler.cancel()
        let peak = await sampler.value
        results["server_rss_before_mib"] = before
        results["server_rss_peak_during_uploads_mib"] = peak
        results["server_rss_per_upload_mib"] = (peak - before) / Double(concurrent)

        print("HearthBench attachments — \(mebibytes) MiB file, \(concurrent) concurrent uploads")
        print(Stats.table(results))
        try options.save(results)
    }

    func upload(_ server: BenchServer, _ data: Data, token: String) async throws -> String {
        var request = URLRequest(url: URL(string: server.url + "/api/v1/attachments?name=bench.mp3")!)
        request.httpMethod = "POST"
        request.setValue("audio/mpeg", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let (body, response) = try await server.session.upload(for: request, from: data)
        guard (response as? HTTPURLResponse)?.statusCode == 201,
            let object = try JSONSerialization.jsonObject(with: body) as? [String: Any],
            let id = (object["attachment"] as? [String: Any])?["id"] as? String
        else { throw BenchError("upload failed: \(String(decoding: body, as: UTF8.self))") }
        return id
    }

    func download(_ server: BenchServer, _ id: String, token: String) async throws -> Data {
        var request = URLRequest(url: URL(string: server.url + "/api/v1/attachments/\(id)")!)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        return try await server.session.data(for: request).0
    }
}
