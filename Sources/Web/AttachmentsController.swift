import Credentials
import Foundation
import Hummingbird
import Services
import Storage

/// Uploading and downloading attachments.
struct AttachmentsController: Sendable {
    let attachments: Attachments
    let authenticator: SessionAuthenticator

    func addRoutes(to api: RouterGroup<AppRequestContext>) {
        let api = api.signedIn(authenticator)
        api.post("attachments", use: upload)
        api.get("attachments/{id}", use: download)
    }

    struct AttachmentJSON: Encodable {
        let id: String
        let size: Int64
        let contentType: String
        let sha256: String
        let name: String?
        let width: Int?
        let height: Int?
        let durationMs: Int?

        init(_ attachment: Attachment) {
            id = attachment.publicID
            size = attachment.size
            contentType = attachment.contentType
            sha256 = (attachment.sha256 ?? Data()).hexString
            name = attachment.filename
            width = attachment.width
            height = attachment.height
            durationMs = attachment.durationMs
        }
    }

    /// `POST /api/v1/attachments?name=FILE[&duration=MS]` — the raw body with its `Content-Type`,
    /// streamed into the database: `201 {attachment:{id, size, contentType, sha256, name, width,
    /// height, durationMs}}`. `duration` is how long a sound or video lasts (a voice note's, as
    /// recorded).
    @Sendable func upload(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        guard let contentType = request.headers[.contentType] else {
            throw APIError(.unsupportedMediaType, code: "unsupported_type", message: "Send the file's Content-Type.")
        }
        let declared = request.headers[.contentLength].flatMap(Int.init)
        var duration: Int?
        if let text = request.uri.queryParameters.get("duration") {
            guard let value = Int(text) else {
                throw ServiceError.invalidField("A duration is a whole number of milliseconds, from 1 to a day's.")
            }
            duration = value
        }
        let body = request.body.map { [UInt8](buffer: $0) }
        let attachment = try await attachments.upload(
            owner: session.user, contentType: contentType, filename: request.uri.queryParameters.get("name"),
            declaredLength: declared, durationMs: duration, body: body)
        return try .json(["attachment": AttachmentJSON(attachment)], status: .created)
    }

    /// `GET /api/v1/attachments/{id}` — the file, to members of the room it was shared in (404 to
    /// everyone else), streamed, with a strong ETag and single `Range` requests.
    @Sendable func download(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let attachment = try await attachments.open(context.parameters.get("id") ?? "", for: session.user)
        return try Self.response(for: attachment, from: attachments, request: request, context: context)
    }

    /// A stored file as a response: streamed from the database, with its type, a strong ETag
    /// (`If-None-Match` gets 304), long private caching, and one `Range` (206, or 416 outside it).
    static func response(
        for attachment: Attachment, from attachments: Attachments, request: Request, context: AppRequestContext
    ) throws -> Response {
        let etag = "\"" + AttachmentJSON(attachment).sha256 + "\""
        var headers: HTTPFields = [
            .contentType: attachment.contentType, .eTag: etag, .acceptRanges: "bytes",
            .cacheControl: "private, max-age=31536000, immutable",
            .contentDisposition: Self.disposition(attachment),
        ]
        if request.headers[.ifNoneMatch] == etag { return Response(status: .notModified, headers: [.eTag: etag]) }
        var status = HTTPResponse.Status.ok
        var range: ClosedRange<Int64>?
        if let header = request.headers[.range] {
            guard let parsed = Self.parseRange(header, size: attachment.size) else {
                headers[.contentRange] = "bytes */\(attachment.size)"
                var response = try APIError(ServiceError.rangeNotSatisfiable(size: attachment.size))
                    .response(from: request, context: context)
                response.headers[.contentRange] = "bytes */\(attachment.size)"
                return response
            }
            range = parsed
            status = .partialContent
            headers[.contentRange] = "bytes \(parsed.lowerBound)-\(parsed.upperBound)/\(attachment.size)"
        }
        let length = range.map { $0.upperBound - $0.lowerBound + 1 } ?? attachment.size
        headers[.contentLength] = String(length)
        let bytesRange = range
        let body = ResponseBody(contentLength: Int(length)) { writer in
            try await attachments.read(attachment, range: bytesRange) { bytes in
                try await writer.write(ByteBuffer(bytes: bytes))
            }
            try await writer.finish(nil)
        }
        return Response(status: status, headers: headers, body: body)
    }

    /// `inline` for what browsers show safely, `attachment` for the rest, with the file name.
    static func disposition(_ attachment: Attachment) -> String {
        let type = attachment.contentType
        let inline = type.hasPrefix("image/") || type.hasPrefix("audio/") || type.hasPrefix("video/")
        let kind = inline ? "inline" : "attachment"
        guard let name = attachment.filename, !name.isEmpty else { return kind }
        let ascii = String(name.map { $0.isASCII && $0 != "\"" && $0 != "\\" ? $0 : "_" })
        let encoded = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ascii
        return "\(kind); filename=\"\(ascii)\"; filename*=UTF-8''\(encoded)"
    }

    /// One `bytes=` range within `size`, or nil when it is malformed or out of bounds.
    static func parseRange(_ header: String, size: Int64) -> ClosedRange<Int64>? {
        guard header.hasPrefix("bytes="), size > 0 else { return nil }
        let spec = header.dropFirst(6)
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return nil }
        let first = spec[..<dash].trimmingCharacters(in: .whitespaces)
        let last = spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces)
        if first.isEmpty {
            guard let suffix = Int64(last), suffix > 0 else { return nil }
            return max(0, size - suffix)...(size - 1)
        }
        guard let start = Int64(first), start < size else { return nil }
        if last.isEmpty { return start...(size - 1) }
        guard let end = Int64(last), end >= start else { return nil }
        return start...min(end, size - 1)
    }
}
