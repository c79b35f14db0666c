import Credentials
import Foundation
import Hummingbird
import Services

/// Invites from the chat: what the first-run card's "Invite your family" makes.
struct InvitesController: Sendable {
    let invites: Invites
    let authenticator: SessionAuthenticator
    let inviteURL: @Sendable (Invites.Created) async -> String

    func addRoutes(to api: RouterGroup<AppRequestContext>) {
        api.signedIn(authenticator, role: .admin).post("admin/invites", use: create)
    }

    struct CreateBody: Decodable {
        let uses: Int?
        let days: Int?
        let admin: Bool?
    }

    struct CreatedJSON: Encodable {
        let url: String
        /// The link as a QR code: an SVG `data:` URL, for an `<img>`.
        let qr: String
        let uses: Int
        let expiresAt: Int64?
    }

    /// `POST /api/v1/admin/invites` `{uses?, days?, admin?}` — an invite link (shown this once)
    /// and its QR code: `201 {url, qr, uses, expiresAt}`.
    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let body = try await request.decodeJSON(CreateBody.self, limit: 8 * 1024)
        let uses = body.uses ?? 10
        let created = try await invites.create(
            uses: uses, lifetime: TimeInterval(body.days ?? 7) * 86_400, admin: body.admin ?? false,
            by: AuditActor(user: session.user, ip: context.client(request).ip))
        let url = await inviteURL(created)
        let svg = try QRCode(url).svg()
        return try .json(
            CreatedJSON(
                url: url, qr: "data:image/svg+xml;base64," + Data(svg.utf8).base64EncodedString(), uses: uses,
                expiresAt: created.invite.expiresAt),
            status: .created)
    }
}
