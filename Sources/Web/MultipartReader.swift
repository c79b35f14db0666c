import Foundation
import MultipartKit
import NIOCore
import Services

/// Reads a `multipart/form-data` request body part by part, streaming each part's bytes as they
/// arrive: a file part is never held whole in memory.
///
/// MultipartKit's `MultipartParser` does the parsing (boundaries, headers, bodies split across
/// reads); this turns its callbacks into parts a caller pulls in order. Boundaries and headers
/// count against `overheadLimit`, so a request cannot make the server hold an endless header; a
/// field's bytes are held only through ``partData(limit:)``, whose caller keeps all the fields
/// within the same limit.
final class MultipartReader<Body: AsyncSequence> where Body.Element == ByteBuffer {
    /// One part's headers, as sent (names lowercased).
    struct Part {
        let headers: [String: String]

        /// The `name` of its `Content-Disposition: form-data`.
        var name: String? { parameter("name") }
        /// The file name it was sent with, if it is a file.
        var filename: String? { parameter("filename") }
        var contentType: String? { headers["content-type"] }

        private func parameter(_ key: String) -> String? {
            guard let disposition = headers["content-disposition"] else { return nil }
            for piece in disposition.split(separator: ";").dropFirst() {
                let pair = piece.split(separator: "=", maxSplits: 1)
                guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == key else {
                    continue
                }
                var value = pair[1].trimmingCharacters(in: .whitespaces)
                if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                    value = String(value.dropFirst().dropLast())
                }
                return value
            }
            return nil
        }
    }

    private enum Event {
        case header(String, String)
        case body([UInt8])
        case end
    }

    private let parser: MultipartParser
    private var iterator: Body.AsyncIterator
    private var events: [Event] = []
    private var next = 0
    private var finished = false
    /// Whether the current part's body has been read to its end.
    private var partOpen = false
    private var overhead = 0
    private let overheadLimit: Int

    /// The boundary of a `multipart/form-data` content type, or nil when it is not one.
    static func boundary(of contentType: String) -> String? {
        let pieces = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard pieces.first?.lowercased() == "multipart/form-data" else { return nil }
        for piece in pieces.dropFirst() where piece.lowercased().hasPrefix("boundary=") {
            var value = String(piece.dropFirst("boundary=".count))
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast())
            }
            return (1...70).contains(value.count) ? value : nil
        }
        return nil
    }

    init(boundary: String, body: Body, overheadLimit: Int) {
        parser = MultipartParser(boundary: boundary)
        iterator = body.makeAsyncIterator()
        self.overheadLimit = overheadLimit
        parser.onHeader = { [unowned self] name, value in events.append(.header(name.lowercased(), value)) }
        parser.onBody = { [unowned self] buffer in events.append(.body(Array(buffer: buffer))) }
        parser.onPartComplete = { [unowned self] in events.append(.end) }
    }

    /// The next event, reading more of the body when none is waiting; nil at the body's end.
    private func nextEvent() async throws -> Event? {
        while next == events.count {
            events.removeAll(keepingCapacity: true)
            next = 0
            guard !finished, let buffer = try await iterator.next() else {
                finished = true
                return nil
            }
            do {
                try parser.execute(buffer)
            } catch {
                throw ServiceError.invalidField("The multipart/form-data body is malformed.")
            }
            let fileBytes = events.reduce(0) { total, event in
                if case .body(let bytes) = event { return total + bytes.count }
                return total
            }
            overhead += buffer.readableBytes - fileBytes
            guard overhead <= overheadLimit else {
                throw ServiceError.invalidField("The form's fields and headers are larger than \(overheadLimit) bytes.")
            }
        }
        defer { next += 1 }
        return events[next]
    }

    /// The next part's headers, skipping what is left of the one before; nil after the last.
    func nextPart() async throws -> Part? {
        while partOpen {
            guard let event = try await nextEvent() else { break }
            if case .end = event { partOpen = false }
        }
        var headers: [String: String] = [:]
        while let event = try await nextEvent() {
            switch event {
            case .header(let name, let value):
                headers[name] = value
            case .body(let bytes):
                // The first bytes of the body: put them back for the part's reader.
                next -= 1
                events[next] = .body(bytes)
                partOpen = true
                return Part(headers: headers)
            case .end:
                // A part with no body at all.
                next -= 1
                partOpen = true
                return Part(headers: headers)
            }
        }
        guard headers.isEmpty else { throw ServiceError.invalidField("The multipart/form-data body ends mid-part.") }
        return nil
    }

    /// The current part's next bytes; nil at its end.
    func nextBytes() async throws -> [UInt8]? {
        guard partOpen else { return nil }
        guard let event = try await nextEvent() else {
            throw ServiceError.invalidField("The multipart/form-data body ends mid-part.")
        }
        switch event {
        case .body(let bytes): return bytes
        case .end:
            partOpen = false
            return nil
        case .header:
            throw ServiceError.invalidField("The multipart/form-data body is malformed.")
        }
    }

    /// The current part's bytes, as a sequence (for a file streamed into storage).
    var partBytes: PartBytes { PartBytes(reader: self) }

    /// The current part's whole body, which must fit in `limit` bytes (a form field).
    func partData(limit: Int) async throws -> [UInt8] {
        var data: [UInt8] = []
        while let bytes = try await nextBytes() {
            data += bytes
            guard data.count <= limit else {
                throw ServiceError.invalidField("A form's fields may hold \(overheadLimit) bytes in all.")
            }
        }
        return data
    }

    struct PartBytes: AsyncSequence {
        typealias Element = [UInt8]
        let reader: MultipartReader

        struct AsyncIterator: AsyncIteratorProtocol {
            let reader: MultipartReader
            mutating func next() async throws -> [UInt8]? { try await reader.nextBytes() }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(reader: reader) }
    }
}
