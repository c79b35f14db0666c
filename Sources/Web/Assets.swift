import Foundation
import Hummingbird

/// The files of `Public/`, embedded in the binary at build time, ready to serve.
struct Assets: Sendable {
    struct File: Sendable {
        let bytes: ByteBuffer
        let contentType: String
        let etag: String
    }

    let files: [String: File]

    /// The service worker, which gets the build's version and the app shell's files.
    static let serviceWorker = "sw.js"

    /// Decodes the embedded files once, at start-up.
    init(embedded: [String: String] = EmbeddedAssets.files) {
        var decoded: [String: Data] = [:]
        for (path, base64) in embedded {
            guard let data = Data(base64Encoded: base64) else { continue }
            decoded[path] = data
        }
        if let worker = decoded[Self.serviceWorker] {
            decoded[Self.serviceWorker] = Self.filledIn(worker, files: decoded)
        }
        var files: [String: File] = [:]
        for (path, data) in decoded {
            files[path] = File(
                bytes: ByteBuffer(bytes: data), contentType: Self.contentType(for: path),
                etag: "\"\(Self.fingerprint(data))\"")
        }
        self.files = files
    }

    /// What the chat page needs to start without a network: the page itself, its scripts and
    /// styles, icons and manifest (not the setup page's or the admin panel's).
    static func shell(_ paths: some Sequence<String>) -> [String] {
        let kinds: Set<String> = ["js", "css", "png", "svg", "webmanifest"]
        let others: Set<String> = [serviceWorker, "setup.js", "admin.css", "icon-maskable.svg"]
        return ["/"]
            + paths.filter {
                kinds.contains($0.split(separator: ".").last.map(String.init) ?? "") && !others.contains($0)
            }
            .sorted().map { "/" + $0 }
    }

    /// The service worker with its version (a fingerprint of every other file) and its shell list.
    static func filledIn(_ worker: Data, files: [String: Data]) -> Data {
        let version = fingerprint(
            Data(
                files.filter { $0.key != serviceWorker }.sorted { $0.key < $1.key }.flatMap {
                    [UInt8]($0.key.utf8) + [UInt8]($0.value)
                }))
        let list = shell(files.keys).map { "'\($0)'" }.joined(separator: ", ")
        let text = String(decoding: worker, as: UTF8.self)
            .replacingOccurrences(of: "'__VERSION__'", with: "'\(version)'")
            .replacingOccurrences(of: "['__SHELL__']", with: "[\(list)]")
        return Data(text.utf8)
    }

    /// The response for the file at `path` (relative to `Public/`), 304 when the client has it, nil when missing.
    func response(for path: String, request: Request) -> Response? {
        guard let file = files[path] else { return nil }
        if request.headers[.ifNoneMatch] == file.etag {
            return Response(status: .notModified, headers: [.eTag: file.etag])
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: file.contentType, .eTag: file.etag, .cacheControl: "no-cache",
                .contentLength: String(file.bytes.readableBytes),
            ],
            body: .init(byteBuffer: file.bytes))
    }

    static func contentType(for path: String) -> String {
        switch path.split(separator: ".").last.map({ $0.lowercased() }) {
        case "html": "text/html; charset=utf-8"
        case "js", "mjs": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "ico": "image/x-icon"
        case "json": "application/json"
        case "webmanifest": "application/manifest+json"
        case "txt": "text/plain; charset=utf-8"
        default: "application/octet-stream"
        }
    }

    /// A 64-bit FNV-1a of the bytes, in hex: enough to tell versions of a file apart.
    static func fingerprint(_ data: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}

/// Serves embedded assets for any GET that no route answered: `/app.js` is `Public/app.js`.
struct AssetMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let assets: Assets

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    )
        async throws -> Response
    {
        let path = request.uri.path
        if request.method == .get, !path.hasPrefix("/api/"), !path.contains(".."),
            let response = assets.response(for: String(path.dropFirst()), request: request)
        {
            return response
        }
        return try await next(request, context)
    }
}
