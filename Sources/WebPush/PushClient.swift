import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One push to send (RFC 8030 §5): an encrypted body for a subscription's endpoint, and how the
/// push service should treat it.
public struct PushMessage: Sendable {
    public enum Urgency: String, Sendable { case veryLow = "very-low", low, normal, high }

    public var endpoint: URL
    /// The `aes128gcm` body (``PushEncryption``).
    public var body: Data
    /// How long the push service keeps it for a device that is offline, in seconds.
    public var timeToLive: Int
    public var urgency: Urgency
    /// A later push with the same topic replaces one the device has not received yet (at most 32
    /// base64url characters).
    public var topic: String?

    public init(endpoint: URL, body: Data, timeToLive: Int, urgency: Urgency, topic: String?) {
        self.endpoint = endpoint
        self.body = body
        self.timeToLive = timeToLive
        self.urgency = urgency
        self.topic = topic
    }
}

/// What a push service answered.
public struct PushResponse: Sendable {
    public let status: Int
    /// `Retry-After`, in seconds from now (a number, or an HTTP date), when given.
    public let retryAfter: Int?
    /// The start of the body, for the log when the push was refused.
    public let detail: String
}

/// Sends pushes over HTTP with async-http-client: one connection pool, no redirects followed, a
/// deadline per request. One per process; ``shutdown()`` before it goes.
public final class PushClient: Sendable {
    private let http: HTTPClient
    private let timeout: TimeAmount

    /// `timeout` bounds each request, connecting included: a push service that hangs costs that
    /// much and no more.
    public init(timeout: Duration) {
        self.timeout = TimeAmount(timeout)
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: self.timeout, read: self.timeout))
        configuration.httpVersion = .automatic
        configuration.connectionPool = .init(idleTimeout: .seconds(60))
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Sends `message` with `authorization`, a VAPID header (``VAPIDKey/authorization(for:subject:expiresAt:)``),
    /// which may serve many pushes to the same push service until it expires.
    public func send(_ message: PushMessage, authorization: String, now: Date) async throws -> PushResponse {
        var request = HTTPClientRequest(url: message.endpoint.absoluteString)
        request.method = .POST
        request.headers.add(name: "Authorization", value: authorization)
        request.headers.add(name: "TTL", value: String(message.timeToLive))
        request.headers.add(name: "Urgency", value: message.urgency.rawValue)
        if let topic = message.topic { request.headers.add(name: "Topic", value: topic) }
        request.headers.add(name: "Content-Encoding", value: "aes128gcm")
        request.headers.add(name: "Content-Type", value: "application/octet-stream")
        request.headers.add(name: "Content-Length", value: String(message.body.count))
        request.body = .bytes(ByteBuffer(bytes: message.body))
        let response = try await http.execute(request, timeout: timeout)
        var detail = ""
        if !(200..<300).contains(Int(response.status.code)) {
            let bytes = try await response.body.collect(upTo: 4096)
            detail = String(decoding: bytes.readableBytesView.prefix(200), as: UTF8.self)
        }
        return PushResponse(
            status: Int(response.status.code),
            retryAfter: response.headers.first(name: "Retry-After").flatMap { Self.seconds(retryAfter: $0, now: now) },
            detail: detail)
    }

    public func shutdown() async throws {
        try await http.shutdown()
    }

    /// `Retry-After` (RFC 9110 §10.2.3): delay-seconds, or an HTTP date.
    static func seconds(retryAfter value: String, now: Date) -> Int? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed) { return max(0, seconds) }
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "GMT")
        format.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = format.date(from: trimmed) else { return nil }
        return max(0, Int(date.timeIntervalSince(now).rounded(.up)))
    }
}

/// Where pushes may go.
public enum PushEndpoint {
    /// The longest endpoint URL taken.
    public static let maximumLength = 2048

    /// `text` as an endpoint: an absolute `https` URL; `http` only to a loopback address, and only
    /// when `allowLoopbackHTTP` (for tests against a local push service).
    public static func check(_ text: String, allowLoopbackHTTP: Bool) throws(WebPushError) -> URL {
        guard text.utf8.count <= maximumLength else {
            throw .invalidEndpoint("the endpoint is longer than \(maximumLength) characters")
        }
        guard let url = URL(string: text), let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(), let host = components.host, !host.isEmpty
        else { throw .invalidEndpoint("the endpoint must be an absolute https:// URL") }
        guard components.user == nil, components.password == nil else {
            throw .invalidEndpoint("the endpoint must not carry a user name or password")
        }
        switch scheme {
        case "https": return url
        case "http" where allowLoopbackHTTP && ["127.0.0.1", "::1", "[::1]", "localhost"].contains(host.lowercased()):
            return url
        case "http":
            throw .invalidEndpoint(
                "the endpoint must be https:// (http:// only to loopback, where the server allows it)")
        default:
            throw .invalidEndpoint("the endpoint must be an https:// URL, not \(scheme):")
        }
    }
}
