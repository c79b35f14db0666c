import Hummingbird
import Logging

/// Logs one line per request: method, path (never the query, which may hold a code), status,
/// duration and the request id, which the response also carries as `X-Request-Id`.
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
            "\(request.method) \(request.uri.path) \(response.status.code)",
            metadata: [
                "ms": "\((milliseconds * 10).rounded() / 10)",
                "client": "\(context.clientAddress ?? "-")",
            ])
        return response
    }
}
