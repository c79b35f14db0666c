import Foundation
import Hummingbird
import NIOCore

/// The fields of an HTML form post (`application/x-www-form-urlencoded`).
struct AdminForm: Sendable {
    let fields: [String: String]

    /// Largest form body accepted.
    static let limit = 64 * 1024

    subscript(_ name: String) -> String? { fields[name] }

    /// A field with surrounding spaces removed; nil when missing or blank.
    func text(_ name: String) -> String? {
        let value = fields[name]?.trimmingCharacters(in: .whitespacesAndNewlines)
        return value?.isEmpty == false ? value : nil
    }

    /// A whole number field; nil when blank, an error when it is not a number.
    func number(_ name: String, label: String) throws -> Int? {
        guard let text = text(name) else { return nil }
        guard let value = Int(text) else { throw AdminProblem("\(label) must be a whole number.") }
        return value
    }

    init(fields: [String: String]) {
        self.fields = fields
    }

    /// Reads and decodes a request's form body.
    init(_ request: Request) async throws {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type", message: "Send the form as a form.")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: Self.limit)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, code: "too_large", message: "The form may be at most 64 KiB.")
        }
        do {
            // Hummingbird's decoder: `+` and percent escapes undone; names are plain in our forms.
            self.init(
                fields: try URLEncodedFormDecoder().decode(
                    [String: String].self, from: String(decoding: buffer.readableBytesView, as: UTF8.self)))
        } catch {
            throw APIError(.badRequest, code: "invalid_form", message: "The form could not be read; reload the page.")
        }
    }
}

/// A form value the panel refuses, with the sentence to show.
struct AdminProblem: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
