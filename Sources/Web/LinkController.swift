import Credentials
import Foundation
import Hummingbird
import Services
import Storage

/// Device linking by QR code: create, draw, claim, decide, wait.
struct LinkController: Sendable {
    let linking: Linking
    let authenticator: SessionAuthenticator
    /// The largest claim body (`authBodyBytes`).
    let bodyLimit: Int
    /// The URL people reach the server at, which link codes' QR codes point to.
    let publicURL: @Sendable () async -> String

    /// How long one `wait` request is held open before answering `202 pending`.
    static let waitTimeout: Duration = .seconds(25)

    func addRoutes(to api: RouterGroup<AppRequestContext>) {
        // The new device has no session yet: it claims, then waits with its pending token.
        api.post("devices/link/{code}/claim", use: claim)
        api.get("devices/link/{code}/wait", use: wait)
        let signedIn = api.signedIn(authenticator)
        signedIn.post("devices/link", use: create)
        signedIn.get("devices/link/{code}/qr.svg", use: qrSVG)
        signedIn.get("devices/link/{code}/qr.png", use: qrPNG)
        signedIn.post("devices/link/{code}/approve") { request, context in
            try await decide(request, context, approve: true)
        }
        signedIn.post("devices/link/{code}/deny") { request, context in
            try await decide(request, context, approve: false)
        }
    }

    struct CodeJSON: Encodable {
        let code: String
        let url: String
        let expiresAt: Int64
    }

    struct ClaimBody: Decodable {
        let deviceName: String?
        /// `"cookie"`: the browser gets the (pending) session as an HttpOnly cookie.
        let session: String?
    }

    struct ClaimJSON: Encodable {
        let status: String
        let token: String?
    }

    /// `POST /api/v1/devices/link` — from a signed-in device: `{code, url, expiresAt}` to show as a QR.
    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let code = try await linking.create(for: session)
        return try .json(CodeJSON(code: code.code, url: code.url, expiresAt: code.expiresAt), status: .created)
    }

    /// `GET /api/v1/devices/link/{code}/qr.svg` — the link URL as a QR code, for its creator.
    @Sendable func qrSVG(_ request: Request, context: AppRequestContext) async throws -> Response {
        let qr = try await qrCode(request, context)
        return Response(
            status: .ok, headers: [.contentType: "image/svg+xml", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: qr.svg())))
    }

    /// `GET /api/v1/devices/link/{code}/qr.png` — the same as a PNG.
    @Sendable func qrPNG(_ request: Request, context: AppRequestContext) async throws -> Response {
        let qr = try await qrCode(request, context)
        return Response(
            status: .ok, headers: [.contentType: "image/png", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: qr.png())))
    }

    private func qrCode(_ request: Request, _ context: AppRequestContext) async throws -> QRCode {
        let session = try context.signedIn()
        let code = context.parameters.get("code") ?? ""
        try await linking.checkOwner(code: code, user: session.user)
        return try QRCode(await publicURL() + "/link/" + code)
    }

    /// `POST /api/v1/devices/link/{code}/claim` `{deviceName}` — the new device (no session yet)
    /// claims the code: `202 {status:"pending", token}`, or `200 {status:"approved", token}` for a
    /// recovery link. With `session: "cookie"` the token is set as the cookie instead.
    @Sendable func claim(_ request: Request, context: AppRequestContext) async throws -> Response {
        let code = context.parameters.get("code") ?? ""
        let body = try await request.decodeJSON(ClaimBody.self, limit: bodyLimit)
        let claim = try await linking.claim(
            code: code, deviceName: body.deviceName, client: context.client(request))
        let cookie = body.session == "cookie"
        var response = try Response.json(
            ClaimJSON(status: claim.approved ? "approved" : "pending", token: cookie ? nil : claim.token),
            status: claim.approved ? .ok : .accepted)
        if cookie { response.setCookie(authenticator.cookie(token: claim.token)) }
        return response
    }

    /// `POST /api/v1/devices/link/{code}/approve` and `…/deny` — a signed-in device of the same user decides: 204.
    @Sendable func decide(_ request: Request, _ context: AppRequestContext, approve: Bool) async throws -> Response {
        let session = try context.signedIn()
        try await linking.decide(code: context.parameters.get("code") ?? "", approve: approve, by: session)
        return Response(status: .noContent)
    }

    /// `GET /api/v1/devices/link/{code}/wait` — the claiming device (its pending token as Bearer or
    /// cookie) waits: `200 {user, device, token}` once approved, `403 link_denied`, `410 link_expired`,
    /// or `202 link_pending` after 25 seconds (ask again).
    @Sendable func wait(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let token = authenticator.token(in: request) else { throw ServiceError.unauthorized }
        let outcome = try await linking.wait(
            code: context.parameters.get("code") ?? "", token: token, timeout: Self.waitTimeout)
        switch outcome {
        case .pending:
            throw APIError(ServiceError.linkPending)
        case .approved(let user, let device):
            let cookie = request.headers[.authorization] == nil
            return try .json(SignedInResponse(user: .init(user), device: .init(device), token: cookie ? nil : token))
        }
    }
}
