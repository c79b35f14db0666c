import Hummingbird
import Logging
import Services

/// Turns every error into a specific response: JSON under `/api` (and for `/healthz`), a short
/// page elsewhere. Internal errors are logged with their detail and answered without it.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let templates: PageTemplates

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    )
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            let apiError = Self.apiError(for: error)
            if apiError.status.code >= 500 {
                context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            if request.uri.path.hasPrefix("/api/") || request.uri.path == "/healthz" {
                return try apiError.response(from: request, context: context)
            }
            return templates.page(
                "error",
                ["title": apiError.status.reasonPhrase, "code": apiError.status.code, "message": apiError.message],
                status: apiError.status)
        }
    }

    static func apiError(for error: any Error) -> APIError {
        switch error {
        case let error as APIError: return error
        case let error as ServiceError: return APIError(error)
        case let error as any HTTPResponseError: return APIError(status: error.status)
        default: return APIError(ServiceError.translating(error))
        }
    }
}
