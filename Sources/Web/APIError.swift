import Foundation
import HTTPTypes
import Hummingbird
import Services

/// An error as the API reports it: a status and `{"error": {"code", "message"}}`.
public struct APIError: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    /// Seconds for a `Retry-After` header (429, 503).
    public let retryAfter: Int?

    /// An error with an explicit status and code.
    public init(_ status: HTTPResponse.Status, code: String, message: String, retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    /// The one mapping of ``ServiceError`` to HTTP statuses.
    public init(_ error: ServiceError) {
        let status: HTTPResponse.Status
        var retryAfter: Int?
        switch error {
        case .invalidUsername, .usernameReserved, .passwordTooShort, .passwordTooLong, .passwordTooCommon,
            .invalidDeviceName, .invalidField, .invalidInviteOptions, .invalidRoom:
            status = .badRequest
        case .roomNotFound: status = .notFound
        case .notAMember: status = .forbidden
        case .tooManyRooms, .tooManyMembers: status = .conflict
        case .tooLarge: status = .contentTooLarge
        case .linkInvalid: status = .notFound
        case .linkExpired, .linkUsed: status = .gone
        case .linkDenied: status = .forbidden
        case .linkPending: status = .accepted
        case .tooManyDevices: status = .conflict
        case .tooManySubscriptions: status = .badRequest
        case .backupFailed, .restoreFailed: status = .internalServerError
        case .unsupportedType, .typeMismatch: status = .unsupportedMediaType
        case .quotaExceeded: status = .contentTooLarge
        case .emptyBody: status = .badRequest
        case .rangeNotSatisfiable: status = .rangeNotSatisfiable
        case .usernameTaken: status = .conflict
        case .registrationClosed, .inviteRequired, .inviteInvalid, .forbidden, .accountDisabled: status = .forbidden
        case .inviteExpired, .inviteUsedUp, .inviteRevoked, .setupUnavailable: status = .gone
        case .invalidCredentials, .unauthorized: status = .unauthorized
        case .notFound, .callNotFound, .notInCall: status = .notFound
        case .invalidRule, .invalidQuery: status = .badRequest
        case .blockedByRule, .muted, .notYours, .wrongPassword: status = .forbidden
        case .alreadyReported, .invalidDecision: status = .conflict
        case .rateLimited(let seconds):
            status = .tooManyRequests
            retryAfter = seconds
        case .busy(let seconds):
            status = .serviceUnavailable
            retryAfter = seconds
        case .storageFull: status = HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage")
        case .internal: status = .internalServerError
        }
        self.init(status, code: error.code, message: error.message, retryAfter: retryAfter)
    }

    /// The generic error for a status that no handler described (unknown route, wrong method…).
    public init(status: HTTPResponse.Status) {
        switch status {
        case .notFound: self.init(status, code: "not_found", message: "There is nothing at this address.")
        case .methodNotAllowed:
            self.init(status, code: "method_not_allowed", message: "This address does not take that method.")
        case .contentTooLarge: self.init(status, code: "too_large", message: "The request body is too large.")
        case .unauthorized: self.init(ServiceError.unauthorized)
        default:
            if status.code >= 500 {
                self.init(status, code: "internal_error", message: ServiceError.internal("").message)
            } else {
                self.init(status, code: "bad_request", message: status.reasonPhrase)
            }
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try JSONEncoder().encode(ErrorBody(error: .init(code: code, message: message)))
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// `{"error": {"code", "message"}}`.
private struct ErrorBody: Encodable {
    struct Detail: Encodable {
        let code: String
        let message: String
    }
    let error: Detail
}
