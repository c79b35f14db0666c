import Foundation
import Hummingbird
import NIOCore

extension Request {
    /// The query parameter `name` as a positive whole number (a seq, a limit, an id); nil when it
    /// is absent, `400 invalid_field` when it is anything else.
    func positiveQuery(_ name: String) throws -> Int64? {
        guard let text = uri.queryParameters.get(name) else { return nil }
        guard let value = Int64(text), value > 0 else {
            throw APIError(.badRequest, code: "invalid_field", message: "`\(name)` must be a positive number.")
        }
        return value
    }

    /// Decodes a JSON body of at most `limit` bytes, with a specific error for each way it can be wrong:
    /// `unsupported_media_type`, `too_large`, `malformed_json`, `missing_field`, `invalid_field`.
    func decodeJSON<T: Decodable>(_ type: T.Type, limit: Int) async throws -> T {
        let contentType = headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") else {
            throw APIError(
                .unsupportedMediaType, code: "unsupported_media_type",
                message: "Send the body as JSON, with Content-Type: application/json.")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, code: "too_large", message: "The body may be at most \(limit) bytes.")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw Self.apiError(for: error)
        }
    }

    static func apiError(for error: DecodingError) -> APIError {
        func field(_ path: [any CodingKey]) -> String {
            path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let name = field(context.codingPath + [key])
            return APIError(.badRequest, code: "missing_field", message: "The field `\(name)` is required.")
        case .typeMismatch(let type, let context) where context.codingPath.isEmpty:
            return APIError(
                .badRequest, code: "invalid_field", message: "The body must be a JSON \(describe(type)).")
        case .typeMismatch(let type, let context):
            return APIError(
                .badRequest, code: "invalid_field",
                message: "The field `\(field(context.codingPath))` must be a \(describe(type)).")
        case .valueNotFound(_, let context):
            return APIError(
                .badRequest, code: "invalid_field",
                message: "The field `\(field(context.codingPath))` must not be null.")
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return APIError(.badRequest, code: "malformed_json", message: "The body is not valid JSON.")
        case .dataCorrupted(let context):
            return APIError(
                .badRequest, code: "invalid_field", message: "The field `\(field(context.codingPath))` is invalid.")
        @unknown default:
            return APIError(.badRequest, code: "malformed_json", message: "The body is not valid JSON.")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "string"
        case is Bool.Type: "boolean"
        case is Int.Type, is Int64.Type, is Double.Type: "number"
        case is [Any].Type: "array"
        default: "object"
        }
    }
}

extension Response {
    /// A JSON response of an encodable value.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try JSONEncoder().encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
