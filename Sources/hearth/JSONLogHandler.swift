import Foundation
import Logging
import Services

/// Log lines a machine can read (`--log-format json`): one JSON object per line on stderr, with
/// `time` (UTC, milliseconds), `level`, `label`, `source`, `message` and, when there is any,
/// `metadata` (the logger's and the line's, merged; nested values as JSON arrays and objects).
/// Wrapped in ``RedactingLogHandler`` like the text format, so no secret reaches it either.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    /// Where the lines go; one write per line, so lines from several threads never interleave.
    let write: @Sendable (String) -> Void

    init(label: String, write: @escaping @Sendable (String) -> Void = JSONLogHandler.standardError) {
        self.label = label
        self.write = write
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(
        level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String, file: String,
        function: String, line: UInt
    ) {
        var out = "{\"time\":"
        JSONText.appendString(Self.timestamp(Date()), to: &out)
        out += ",\"level\":"
        JSONText.appendString(level.rawValue, to: &out)
        out += ",\"label\":"
        JSONText.appendString(label, to: &out)
        out += ",\"source\":"
        JSONText.appendString(source, to: &out)
        out += ",\"message\":"
        JSONText.appendString(message.description, to: &out)
        let merged = extra.map { metadata.merging($0) { $1 } } ?? metadata
        if !merged.isEmpty {
            out += ",\"metadata\":"
            Self.append(.dictionary(merged), to: &out)
        }
        out += "}\n"
        write(out)
    }

    static func append(_ value: Logger.Metadata.Value, to out: inout String) {
        switch value {
        case .string(let text): JSONText.appendString(text, to: &out)
        case .stringConvertible(let convertible): JSONText.appendString(convertible.description, to: &out)
        case .array(let values):
            out += "["
            for (index, element) in values.enumerated() {
                if index > 0 { out += "," }
                append(element, to: &out)
            }
            out += "]"
        case .dictionary(let values):
            out += "{"
            for (index, key) in values.keys.sorted().enumerated() {
                if index > 0 { out += "," }
                JSONText.appendString(key, to: &out)
                out += ":"
                append(values[key] ?? .string(""), to: &out)
            }
            out += "}"
        }
    }

    /// `2026-12-05T12:40:03.153Z`.
    static func timestamp(_ date: Date) -> String {
        date.formatted(
            .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    @Sendable static func standardError(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}
