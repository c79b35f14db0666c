import Credentials
import Crypto
import Foundation
import Hummingbird
import Services
import Storage
import Synchronization

/// A signed-in admin or moderator, for one request.
struct AdminUser: Sendable {
    let session: Session
    /// The form token every POST must carry: derived from the session, so only pages of this
    /// session know it.
    let csrf: String
    let actor: AuditActor

    var isAdmin: Bool { session.user.role >= .admin }
    var username: String { session.user.username }
}

/// Admin panel sessions: a separate HttpOnly, SameSite=Strict cookie for `/admin`, an idle
/// timeout, CSRF tokens, and one-shot messages shown after an action.
struct AdminAuth: Sendable {
    let services: AppServices
    let secure: Bool
    /// The panel's cookie: `hearth_admin` for `/admin` over plain HTTP; under HTTPS
    /// `__Host-hearth_admin`, which the prefix requires to be for the whole site.
    var cookieName: String { secure ? "__Host-hearth_admin" : "hearth_admin" }
    private var cookiePath: String { secure ? "/" : "/admin" }
    let flashes = FlashMessages()

    enum Outcome {
        case signedIn(AdminUser)
        case signedOut(notice: String?)
        /// A member's session: the panel is not for them.
        case member
    }

    /// Who is signed in to the panel.
    func user(_ request: Request, context: AppRequestContext) async throws -> Outcome {
        guard let token = request.cookies[cookieName]?.value, !token.isEmpty else {
            // A member signed in to the chat client gets a clear "not for you".
            if let chat = request.cookies[SessionAuthenticator.cookieName(secure: secure)]?.value,
                let session = try? await services.sessions.authenticate(token: chat, client: context.client(request)),
                session.user.role < .moderator
            {
                return .member
            }
            return .signedOut(notice: nil)
        }
        let session: Session
        do {
            session = try await services.sessions.authenticate(token: token, client: context.client(request))
        } catch ServiceError.unauthorized {
            return .signedOut(notice: nil)
        }
        let limits = services.configuration.sessions
        let now = services.now().timeIntervalSince1970 * 1000
        if now - Double(session.device.lastSeenAt) > limits.adminIdleTimeout * 1000 {
            try? await services.sessions.logout(session)
            return .signedOut(
                notice: "You were signed out after \(AdminFormat.duration(limits.adminIdleTimeout)) without activity.")
        }
        if now - Double(session.device.createdAt) > limits.adminMaxAge * 1000 {
            try? await services.sessions.logout(session)
            return .signedOut(
                notice:
                    "You were signed out \(AdminFormat.duration(limits.adminMaxAge)) after signing in. Sign in again.")
        }
        guard session.user.role >= .moderator else { return .member }
        return .signedIn(
            AdminUser(
                session: session, csrf: Self.csrfToken(for: token),
                actor: AuditActor(user: session.user, ip: context.clientAddress)))
    }

    /// The CSRF token of a session token.
    static func csrfToken(for token: String) -> String {
        Array(SHA256.hash(data: Data("hearth-admin-csrf\u{0}\(token)".utf8))).hexString
    }

    /// Whether a form carries this session's token (compared in constant time).
    static func checkCSRF(_ form: AdminForm, _ user: AdminUser) -> Bool {
        guard let sent = form["_csrf"], sent.utf8.count == user.csrf.utf8.count else { return false }
        return zip(sent.utf8, user.csrf.utf8).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    func cookie(token: String) -> Cookie {
        Cookie(name: cookieName, value: token, path: cookiePath, secure: secure, httpOnly: true, sameSite: .strict)
    }

    func expiredCookie() -> Cookie {
        Cookie(
            name: cookieName, value: "", maxAge: 0, path: cookiePath, secure: secure, httpOnly: true,
            sameSite: .strict)
    }
}

/// Messages shown once on the page an action redirects to, kept on the server so a link cannot
/// put words on an admin's screen.
final class FlashMessages: Sendable {
    struct Flash: Sendable {
        let deviceID: Int64
        let text: String
        let problem: Bool
        let expires: Date
    }

    private let messages = Mutex([String: Flash]())

    /// Stores a message for `user`'s next page; returns its key.
    func add(_ text: String, problem: Bool = false, for user: AdminUser) -> String {
        let key = UUID().uuidString
        messages.withLock { messages in
            let now = Date()
            if messages.count > 1000 { messages = messages.filter { $0.value.expires > now } }
            messages[key] = Flash(
                deviceID: user.session.device.id, text: text, problem: problem, expires: now.addingTimeInterval(300))
        }
        return key
    }

    /// Takes the message behind `key`, if it is `user`'s.
    func take(_ key: String?, for user: AdminUser) -> Flash? {
        guard let key else { return nil }
        return messages.withLock { messages in
            guard let flash = messages[key], flash.deviceID == user.session.device.id, flash.expires > Date() else {
                return nil
            }
            messages[key] = nil
            return flash
        }
    }
}
