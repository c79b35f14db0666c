import Credentials
import Foundation
import Hummingbird
import Services
import Storage

/// The admin panel: server-rendered pages under `/admin` for admins and moderators (docs/ADMIN.md).
///
/// Every page works without JavaScript. Every POST carries the session's CSRF token; every
/// destructive action goes through a confirmation page; the services write the audit log.
struct AdminController: Sendable {
    let services: AppServices
    let templates: PageTemplates
    let auth: AdminAuth
    /// The chat's own session, which lets an admin into the panel with only their password.
    let chatAuthenticator: SessionAuthenticator
    let pendingKeys = PendingBackupKeys()

    /// Rows per page of every list.
    static let pageSize = 50

    init(services: AppServices, templates: PageTemplates, secure: Bool) {
        self.services = services
        self.templates = templates
        auth = AdminAuth(services: services, secure: secure)
        chatAuthenticator = SessionAuthenticator(sessions: services.sessions, secure: secure)
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("admin", use: dashboard)
        router.post("admin/login", use: signIn)
        router.post("admin/logout") { request, context in
            try await act(request, context, role: .moderator) { user, _ in
                try? await services.sessions.logout(user.session)
                var response = Response.redirect(to: "/admin", type: .normal)
                response.setCookie(auth.expiredCookie())
                return response
            }
        }
        router.get("admin/settings", use: settings)
        router.post("admin/settings", use: saveSettings)
        router.post("admin/settings/push", use: savePushSettings)
        router.get("reset/{code}", use: resetPage)
        router.post("reset/{code}", use: reset)
        addPeopleRoutes(to: router)
        addWebhookRoutes(to: router)
        addModerationRoutes(to: router)
        addBackupRoutes(to: router)
    }

    // MARK: Page plumbing

    /// Renders a page for a signed-in user of at least `role`; sends everyone else to sign in
    /// (or, for members, a 403 page).
    func page(
        _ request: Request, _ context: AppRequestContext, role: User.Role,
        _ render: (AdminUser) async throws -> Response
    ) async throws -> Response {
        switch try await auth.user(request, context: context) {
        case .member: return templates.page("denied", ["title": "Not for you"], status: .forbidden)
        case .signedOut: return .redirect(to: "/admin", type: .normal)
        case .signedIn(let user):
            guard user.session.user.role >= role else { return denied(user) }
            return try await render(user)
        }
    }

    /// Runs a form action: checks the session, the role and the CSRF token first (403 otherwise).
    /// A refused input comes back as a message on `back`.
    func act(
        _ request: Request, _ context: AppRequestContext, role: User.Role, back: String? = nil,
        _ action: (AdminUser, AdminForm) async throws -> Response
    ) async throws -> Response {
        let outcome = try await auth.user(request, context: context)
        let form = try await AdminForm(request)
        guard case .signedIn(let user) = outcome else {
            return templates.page("denied", ["title": "Not for you"], status: .forbidden)
        }
        guard AdminAuth.checkCSRF(form, user) else {
            return confirmation(
                user, heading: "That form had expired",
                explanation: "Nothing was changed. Go back, reload the page and try again.", back: "/admin",
                status: .forbidden)
        }
        guard user.session.user.role >= role else { return denied(user) }
        do {
            return try await action(user, form)
        } catch let problem as AdminProblem {
            return redirect(back ?? request.uri.path, problem: problem.message, for: user)
        } catch let error as ServiceError where error.code != "internal_error" {
            return redirect(back ?? request.uri.path, problem: error.message, for: user)
        }
    }

    /// A 303 to `path` that shows `notice` (or `problem`) once.
    func redirect(_ path: String, notice: String? = nil, problem: String? = nil, for user: AdminUser) -> Response {
        guard let text = notice ?? problem else { return .redirect(to: path, type: .normal) }
        let key = auth.flashes.add(text, problem: problem != nil, for: user)
        return .redirect(to: path + (path.contains("?") ? "&" : "?") + "flash=" + key, type: .normal)
    }

    func denied(_ user: AdminUser) -> Response {
        confirmation(
            user, heading: "Admins only", explanation: "This page is for the server's admins.", back: "/admin",
            status: .forbidden)
    }

    /// The page that asks before a destructive action (or, without `action`, just explains):
    /// what happens, a button that posts to `action`, and a way back.
    func confirmation(
        _ user: AdminUser, request: Request? = nil, heading: String, explanation: String, button: String? = nil,
        action: String? = nil, back: String, askReason: Bool = false, status: HTTPResponse.Status = .ok
    ) -> Response {
        var page = base(user, heading, request: request)
        page["heading"] = heading
        page["explanation"] = explanation
        page["button"] = button
        page["action"] = action
        page["back"] = back
        page["askReason"] = askReason
        return templates.page("confirm", page, status: status)
    }

    /// What every page of a signed-in user shows: the navigation, the user, the CSRF token, and
    /// a message left by the last action.
    func base(_ user: AdminUser, _ title: String, request: Request? = nil) -> [String: Any] {
        let pages: [(String, String, Bool)] = [
            ("/admin", "Dashboard", false), ("/admin/users", "People", false), ("/admin/invites", "Invites", true),
            ("/admin/devices", "Devices", true), ("/admin/rooms", "Rooms", true), ("/admin/rules", "Rules", true),
            ("/admin/reports", "Review queue", false), ("/admin/backups", "Backups", true),
            ("/admin/audit", "Audit log", true), ("/admin/settings", "Settings", true),
        ]
        let current = request?.uri.path ?? ""
        let nav: [[String: Any]] = pages.filter { !$0.2 || user.isAdmin }.map { href, label, _ in
            [
                "href": href, "label": label,
                "current": href == current || (href != "/admin" && current.hasPrefix(href + "/")),
            ]
        }
        var context: [String: Any] = [
            "title": title, "csrf": user.csrf, "isAdmin": user.isAdmin,
            "admin": [
                "nav": nav, "username": user.username, "role": user.session.user.role.rawValue, "csrf": user.csrf,
                "zone": AdminFormat.zone,
            ],
        ]
        if let flash = auth.flashes.take(request?.uri.queryParameters.get("flash"), for: user) {
            context[flash.problem ? "problem" : "notice"] = flash.text
        }
        return context
    }

    /// `?before=` / `?after=` of a list page.
    func cursor(_ request: Request, _ name: String = "before") -> Int64? {
        request.uri.queryParameters.get(name).flatMap(Int64.init).flatMap { $0 > 0 ? $0 : nil }
    }

    /// The next page's link when this one is full.
    func nextLink(
        _ path: String, count: Int, cursor: String?, name: String = "before", extra: [String: String] = [:]
    )
        -> String?
    {
        guard count == Self.pageSize, let cursor else { return nil }
        var components = URLComponents()
        components.path = path
        components.queryItems =
            extra.filter { !$0.value.isEmpty }.sorted { $0.key < $1.key }.map {
                URLQueryItem(name: $0.key, value: $0.value)
            }
            + [URLQueryItem(name: name, value: cursor)]
        return components.string
    }

    // MARK: Sign-in and dashboard

    /// `GET /admin` — the dashboard, or the sign-in form.
    @Sendable func dashboard(_ request: Request, context: AppRequestContext) async throws -> Response {
        switch try await auth.user(request, context: context) {
        case .member: return templates.page("denied", ["title": "Not for you"], status: .forbidden)
        case .signedOut(let notice):
            var page: [String: Any] = ["title": "Sign in"]
            if let notice { page["notice"] = notice }
            // Signed in to the chat as an admin or moderator: only the password again (a step-up;
            // the panel keeps its own shorter session and cookie).
            if let chat = try? await chatAuthenticator.session(request, context: context),
                chat.user.role >= .moderator
            {
                page["stepUp"] = chat.user.username
                page["username"] = chat.user.username
            }
            var response = templates.page("signin", page)
            if notice != nil { response.setCookie(auth.expiredCookie()) }
            return response
        case .signedIn(let user):
            let status = try await services.status()
            var tile: [String: Any] = [
                "health": "Healthy", "healthClass": "good", "version": status.version,
                "uptime": AdminFormat.duration(status.now.timeIntervalSince(status.startedAt)),
                "users": status.users, "disabledUsers": status.disabledUsers, "usersOnline": status.usersOnline,
                "devicesOnline": status.devicesOnline, "devicesSignedIn": status.devicesSignedIn,
                "messagesLastDay": status.messagesLastDay, "messagesLastWeek": status.messagesLastWeek,
                "openQueueItems": status.openQueueItems, "queueClass": status.openQueueItems > 0 ? "warn" : "good",
                "databaseSize": AdminFormat.bytes(status.databaseBytes),
                "freeDisk": status.freeDiskBytes.map(AdminFormat.bytes) ?? "unknown",
                "backupClass": status.backupNeedsAttention ? "bad" : "good", "isAdmin": user.isAdmin,
                "callsToday": try await services.calls.endedToday(), "callsNow": services.calls.active,
            ]
            if let age = status.backupAge, let last = status.lastGoodBackup {
                tile["backupAge"] = AdminFormat.duration(age) + " ago"
                tile["backupDetail"] =
                    status.lastBackupFailed
                    ? "The latest run failed: see Backups."
                    : "\(AdminFormat.bytes(last.size ?? 0)), \(last.kind)"
                        + (status.backupNeedsAttention
                            ? " — older than \(AdminFormat.duration(status.backupWarningAge))" : "")
            } else {
                tile["backupAge"] = "Never"
                tile["backupDetail"] = "No backup has been made yet."
            }
            if (status.freeDiskBytes ?? Int64.max) < 512 * 1024 * 1024 {
                tile["health"] = "Disk almost full"
                tile["healthClass"] = "bad"
            }
            var page = base(user, "Dashboard", request: request)
            page["status"] = tile
            return templates.page("dashboard", page)
        }
    }

    /// `POST /admin/login` (`username`, `password`) — signs in an admin or moderator, throttled
    /// like the API; members get 403.
    @Sendable func signIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await AdminForm(request)
        let username = form.text("username") ?? ""
        let signedIn: SignedIn
        do {
            signedIn = try await services.sessions.login(
                username: username, password: form["password"] ?? "", deviceName: "Admin panel",
                client: context.client(request), kind: .adminPanel)
        } catch let error as ServiceError {
            let status = APIError(error).status
            return templates.page(
                "signin", ["title": "Sign in", "problem": error.message, "username": username], status: status)
        }
        guard signedIn.user.role >= .moderator else {
            try? await services.sessions.logout(Session(user: signedIn.user, device: signedIn.device))
            return templates.page("denied", ["title": "Not for you"], status: .forbidden)
        }
        var response = Response.redirect(to: "/admin", type: .normal)
        response.setCookie(auth.cookie(token: signedIn.token))
        return response
    }

    // MARK: Settings

    /// `GET /admin/settings` — registration mode, public URL, and the limits in force.
    @Sendable func settings(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context, role: .admin) { user in
            let mode = try await services.registration.mode()
            let labels: [(Registration.Mode, String)] = [
                (.invite, "With an invite (recommended)"), (.open, "Anyone who can reach the server"),
                (.closed, "Nobody: admins add accounts"),
            ]
            let configuration = services.configuration
            let limits: [(String, String)] = [
                ("Longest message", AdminFormat.bytes(Int64(configuration.relay.maxBodyBytes))),
                ("Messages per user per minute", "\(configuration.relay.messagesPerMinute)"),
                ("Largest attachment", AdminFormat.bytes(Int64(configuration.limits.attachmentMaxBytes))),
                ("Attachment space per user", AdminFormat.bytes(configuration.limits.attachmentQuotaBytes)),
                ("Devices per user", "\(configuration.limits.devicesPerUser)"),
                ("Members per room", "\(configuration.relay.membersPerRoom)"),
                ("Admin panel idle timeout", AdminFormat.duration(configuration.sessions.adminIdleTimeout)),
                ("Admin panel session lifetime", AdminFormat.duration(configuration.sessions.adminMaxAge)),
                ("Unused devices signed out after", AdminFormat.duration(configuration.sessions.idleTimeout)),
                ("Devices sign in again after", AdminFormat.duration(configuration.sessions.maxAge)),
                ("Backup warning after", AdminFormat.duration(configuration.backupWarningAge)),
            ]
            var page = base(user, "Settings", request: request)
            page["modes"] = labels.map { ["value": $0.0.rawValue, "label": $0.1, "selected": $0.0 == mode] }
            page["publicURL"] = await services.publicURL()
            page["fixedURL"] = configuration.publicURL != nil
            page["limits"] = limits.map { ["name": $0.0, "value": $0.1] }
            let preview = try await services.push.serverPreview()
            let previews: [(HearthConfiguration.PushSettings.Preview, String)] = [
                (.full, "Who wrote, and the message"), (.sender, "Only who wrote"), (.none, "Only “New message”"),
            ]
            page["previews"] = previews.map { ["value": $0.0.rawValue, "label": $0.1, "selected": $0.0 == preview] }
            let queue = try await services.push.queueHealth()
            page["pushWaiting"] = queue.waiting
            page["pushRetrying"] = queue.retrying > 0 ? queue.retrying : nil
            page["pushDevices"] = Set(try await services.push.subscriptions(of: nil).map(\.deviceID)).count
            return templates.page("settings", page)
        }
    }

    /// `POST /admin/settings` (`registration`, `publicURL`).
    @Sendable func saveSettings(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await act(request, context, role: .admin, back: "/admin/settings") { user, form in
            guard let mode = form.text("registration").flatMap(Registration.Mode.init(rawValue:)) else {
                throw AdminProblem("Choose who may join.")
            }
            if mode != (try await services.registration.mode()) {
                try await services.registration.setMode(mode, by: user.actor)
            }
            if services.configuration.publicURL == nil, let url = form.text("publicURL"),
                url != (await services.publicURL())
            {
                guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil
                else { throw AdminProblem("The address must start with http:// or https:// and name a host.") }
                try await services.recordPublicURL(url, by: user.actor)
            }
            return redirect("/admin/settings", notice: "Settings saved.", for: user)
        }
    }

    /// `POST /admin/settings/push` (`preview`): the most a notification may show.
    @Sendable func savePushSettings(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await act(request, context, role: .admin, back: "/admin/settings") { user, form in
            guard let preview = form.text("preview").flatMap(HearthConfiguration.PushSettings.Preview.init(rawValue:))
            else { throw AdminProblem("Choose what a notification may show.") }
            try await services.push.setServerPreview(preview, by: user.actor)
            return redirect("/admin/settings", notice: "Notification settings saved.", for: user)
        }
    }

    // MARK: Password reset links (public pages)

    /// `GET /reset/{code}` — the form where someone sets a new password with an admin's link.
    @Sendable func resetPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        let code = context.parameters.get("code") ?? ""
        do {
            let user = try await services.accounts.passwordResetUser(code: code)
            return templates.page("reset", ["title": "New password", "user": user.username, "code": code])
        } catch let error as ServiceError where error == .linkInvalid || error == .linkExpired {
            return templates.page("reset", ["title": "Link not valid", "gone": true], status: .gone)
        }
    }

    /// `POST /reset/{code}` (`password`) — sets the new password and signs out every device.
    @Sendable func reset(_ request: Request, context: AppRequestContext) async throws -> Response {
        let code = context.parameters.get("code") ?? ""
        let form = try await AdminForm(request)
        do {
            _ = try await services.accounts.resetPassword(
                code: code, password: form["password"] ?? "", client: context.client(request))
            return templates.page("reset", ["title": "Password set", "done": true])
        } catch let error as ServiceError where error == .linkInvalid || error == .linkExpired {
            return templates.page("reset", ["title": "Link not valid", "gone": true], status: .gone)
        } catch let error as ServiceError {
            let user = try? await services.accounts.passwordResetUser(code: code)
            return templates.page(
                "reset",
                ["title": "New password", "user": user?.username ?? "", "code": code, "problem": error.message],
                status: .badRequest)
        }
    }
}
