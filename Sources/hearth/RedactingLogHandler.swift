import Credentials
import Logging

/// Wraps the log handler every command writes with: each message and metadata value passes
/// through ``SecretToken/redacting(_:)`` first, so no token, link code, reset code or invite
/// code reaches a log line, at any level, whatever part of the server wrote it.
struct RedactingLogHandler: LogHandler {
    var wrapped: any LogHandler

    var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    func log(
        level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String,
        function: String, line: UInt
    ) {
        wrapped.log(
            level: level, message: "\(SecretToken.redacting(message.description))",
            metadata: metadata?.mapValues(Self.redacting), source: source, file: file, function: function, line: line)
    }

    static func redacting(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let text): .string(SecretToken.redacting(text))
        case .stringConvertible(let convertible): .string(SecretToken.redacting(convertible.description))
        case .array(let values): .array(values.map(redacting))
        case .dictionary(let values): .dictionary(values.mapValues(redacting))
        }
    }
}
