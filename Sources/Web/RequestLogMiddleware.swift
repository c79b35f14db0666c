import Credentials
import Hummingbird
import Logging

/// Logs one line per request: method, path (never the query, which may hold a code), status,
/// duration and the request id, which the response also carries as `X-Request-Id`. The path
/// segment after `invite`, `invites`, `link`, `reset`, `key` and `hooks` is a secret code and is logged as
/// `[redacted]`; `hearth` also redacts anything shaped like a token from every log line.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    )
        async throws -> Response
    {
        let start = ContinuousClock.now
        var response = try await next(request, context)
        response.headers[.xRequestID] = context.id
        let elapsed = ContinuousClock.now - start
        let milliseconds = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
        context.logger.info(
            "\(request.method) \(Self.redacted(path: request.uri.path)) \(response.status.code)",
            metadata: [
                "ms": "\((milliseconds * 10).rounded() / 10)",
                "client": "\(context.clientAddress ?? "-")",
            ])
        return response
    }

    /// Segments after which a path carries a secret code: `/invite/CODE`, `/link/CODE`,
    /// `/reset/CODE`, `/api/v1/devices/link/CODE/…`, `/admin/invites/CODE/revoke`,
    /// `/admin/backups/key/TOKEN`.
    static let secretAfter: Set<Substring> = ["invite", "invites", "link", "reset", "key", "hooks"]

    /// `path` with the segment after each of ``secretAfter`` replaced by `[redacted]`.
    static func redacted(path: String) -> String {
        var segments = path.split(separator: "/", omittingEmptySubsequences: false)
        for index in segments.indices.dropFirst() where secretAfter.contains(segments[index - 1]) {
            if !segments[index].isEmpty { segments[index] = Substring(SecretToken.redactedMark) }
        }
        return segments.joined(separator: "/")
    }
}
