import Foundation
import Hummingbird
import Services
import Storage

/// Profiles: one's own display name and avatar, and everyone's avatar images.
struct ProfileController: Sendable {
    let profiles: Profiles
    let attachments: Attachments
    let authenticator: SessionAuthenticator

    /// JSON bodies of these routes are small.
    static let bodyLimit = 16 * 1024

    func addRoutes(to api: RouterGroup<AppRequestContext>) {
        let api = api.signedIn(authenticator)
        api.patch("me", use: update)
        api.get("avatars/{id}", use: avatar)
    }

    /// `{displayName?, avatar?}`: a field left out stays as it is; null (or an empty name) clears it.
    struct UpdateBody: Decodable {
        let displayName: Profiles.Change<String>
        let avatar: Profiles.Change<String>

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            func change(_ key: CodingKeys) throws -> Profiles.Change<String> {
                guard container.contains(key) else { return .keep }
                return .set(try container.decodeNil(forKey: key) ? nil : container.decode(String.self, forKey: key))
            }
            displayName = try change(.displayName)
            avatar = try change(.avatar)
        }

        enum CodingKeys: String, CodingKey { case displayName, avatar }
    }

    /// `PATCH /api/v1/me {displayName?, avatar?}` — the signed-in user's own profile; `avatar` is
    /// the id of an image they uploaded (`POST /api/v1/attachments`). `200 {user}`; everyone who
    /// shares a room with them gets a `profile` frame.
    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let body = try await request.decodeJSON(UpdateBody.self, limit: Self.bodyLimit)
        if case .keep = body.displayName, case .keep = body.avatar {
            throw ServiceError.invalidField("Give displayName, avatar or both.")
        }
        let user = try await profiles.update(session.user, displayName: body.displayName, avatar: body.avatar)
        return try .json(["user": UserJSON(user)])
    }

    /// `GET /api/v1/avatars/{id}` — a user's avatar image, to anyone signed in; 404 for an id that
    /// is nobody's avatar (any other upload included).
    @Sendable func avatar(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.signedIn()
        let file = try await profiles.avatar(context.parameters.get("id") ?? "")
        return try AttachmentsController.response(for: file, from: attachments, request: request, context: context)
    }
}
