import Foundation
import Hummingbird
import Services
import Storage

/// Registration, sign-in, sign-out, the current session, and first-admin setup.
struct AuthController: Sendable {
    let registration: Registration
    let sessions: Sessions
    let authenticator: SessionAuthenticator
    /// The largest body of these routes (`authBodyBytes`).
    let bodyLimit: Int

    func addRoutes(to api: RouterGroup<AppRequestContext>) {
        api.post("register", use: register)
        api.get("invites/{code}", use: invitation)
        api.post("login", use: login)
        api.post("setup", use: setup)
        api.post("setup/status", use: setupStatus)
        api.signedIn(authenticator)
            .post("logout", use: logout)
            .get("me", use: me)
            .put("me/password", use: changePassword)
    }

    struct InvitationJSON: Encodable {
        let invitedBy: String?
        let admin: Bool
        let expiresAt: Int64?
    }

    /// `GET /api/v1/invites/{code}` — what the invite page says before someone registers:
    /// `{invitedBy, admin, expiresAt}`, or the error registering with it would get.
    @Sendable func invitation(_ request: Request, context: AppRequestContext) async throws -> Response {
        let found = try await registration.invitation(code: context.parameters.get("code") ?? "")
        return try .json(InvitationJSON(invitedBy: found.invitedBy, admin: found.admin, expiresAt: found.expiresAt))
    }

    struct RegisterBody: Decodable {
        let username: String
        let password: String
        let invite: String?
        let deviceName: String?
        /// `"cookie"`: set the session as an HttpOnly cookie instead of returning the token.
        let session: String?
    }

    struct LoginBody: Decodable {
        let username: String
        let password: String
        let deviceName: String?
        let session: String?
    }

    struct SetupBody: Decodable {
        let token: String
        let username: String
        let password: String
        let deviceName: String?
        let session: String?
    }

    struct SetupStatusBody: Decodable {
        let token: String
    }

    /// `POST /api/v1/register` — creates an account and signs it in: 201 `{user, device, token}`.
    @Sendable func register(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body = try await request.decodeJSON(RegisterBody.self, limit: bodyLimit)
        let signedIn = try await registration.register(
            username: body.username, password: body.password, invite: body.invite, deviceName: body.deviceName,
            client: context.client(request))
        return try respond(signedIn, status: .created, cookie: body.session == "cookie")
    }

    /// `POST /api/v1/login` — signs in with a password as a new device: 200 `{user, device, token}`.
    @Sendable func login(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body = try await request.decodeJSON(LoginBody.self, limit: bodyLimit)
        let signedIn = try await sessions.login(
            username: body.username, password: body.password, deviceName: body.deviceName,
            client: context.client(request))
        return try respond(signedIn, status: .ok, cookie: body.session == "cookie")
    }

    /// `POST /api/v1/logout` — ends this device's session and clears the cookie: 204.
    @Sendable func logout(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        try await sessions.logout(session)
        var response = Response(status: .noContent)
        response.setCookie(authenticator.expiredCookie())
        return response
    }

    struct PasswordBody: Decodable {
        let current: String
        let new: String
        let signOutOthers: Bool?
    }

    /// `PUT /api/v1/me/password` `{current, new, signOutOthers?}` — changes one's own password:
    /// `200 {signedOut}` (how many other devices were signed out; none unless asked).
    @Sendable func changePassword(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let body = try await request.decodeJSON(PasswordBody.self, limit: bodyLimit)
        let signedOut = try await sessions.changePassword(
            session, current: body.current, new: body.new, signOutOthers: body.signOutOthers ?? false,
            client: context.client(request))
        return try .json(["signedOut": signedOut])
    }

    /// `GET /api/v1/me` — the signed-in user and this device.
    @Sendable func me(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        return try .json(MeResponse(user: .init(session.user), device: .init(session.device)))
    }

    /// `POST /api/v1/setup` — with the one-time setup token, creates the first admin and signs them in: 201.
    @Sendable func setup(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body = try await request.decodeJSON(SetupBody.self, limit: bodyLimit)
        let signedIn = try await registration.completeSetup(
            token: body.token, username: body.username, password: body.password, deviceName: body.deviceName,
            client: context.client(request))
        return try respond(signedIn, status: .created, cookie: body.session == "cookie")
    }

    /// `POST /api/v1/setup/status` — whether a setup token is still good: `{available}`.
    @Sendable func setupStatus(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body = try await request.decodeJSON(SetupStatusBody.self, limit: bodyLimit)
        let available = try await registration.setupIsAvailable(token: body.token)
        return try .json(["available": available])
    }

    private func respond(_ signedIn: SignedIn, status: HTTPResponse.Status, cookie: Bool) throws -> Response {
        let body = SignedInResponse(
            user: .init(signedIn.user), device: .init(signedIn.device), token: cookie ? nil : signedIn.token)
        var response = try Response.json(body, status: status)
        if cookie { response.setCookie(authenticator.cookie(token: signedIn.token)) }
        return response
    }
}

/// A user as the API shows them to themselves: their profile (``ProfileJSON``) and `role`.
struct UserJSON: Encodable {
    let profile: ProfileJSON
    let role: String

    init(_ user: User) {
        profile = ProfileJSON(user)
        role = user.role.rawValue
    }

    func encode(to encoder: any Encoder) throws {
        try profile.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(role, forKey: .role)
    }

    enum CodingKeys: String, CodingKey { case role }
}

/// A user as others see them: `{id, username, displayName, avatar}`; `avatar` is the id for
/// `GET /api/v1/avatars/{id}`; both are null (not left out) when unset.
struct ProfileJSON: Encodable {
    let id: Int64
    let username: String
    let displayName: String?
    let avatar: String?

    init(id: Int64, username: String, displayName: String?, avatar: String?) {
        self.id = id
        self.username = username
        self.displayName = displayName
        self.avatar = avatar
    }

    init(_ user: User) {
        self.init(id: user.id, username: user.username, displayName: user.displayName, avatar: user.avatar)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(username, forKey: .username)
        try container.encode(displayName, forKey: .displayName)
        try container.encode(avatar, forKey: .avatar)
    }

    enum CodingKeys: String, CodingKey { case id, username, displayName, avatar }
}

/// A device as the API shows it.
struct DeviceJSON: Encodable {
    let id: Int64
    let name: String

    init(_ device: Device) {
        id = device.id
        name = device.name
    }
}

/// `{user, device, token}`; the token is left out when it went into a cookie.
struct SignedInResponse: Encodable {
    let user: UserJSON
    let device: DeviceJSON
    let token: String?
}

/// `{user, device}`.
struct MeResponse: Encodable {
    let user: UserJSON
    let device: DeviceJSON
}
