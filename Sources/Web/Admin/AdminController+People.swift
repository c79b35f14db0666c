import Credentials
import Foundation
import Hummingbird
import Services
import Storage

/// People, their devices, invites and rooms.
extension AdminController {
    func addPeopleRoutes(to router: Router<AppRequestContext>) {
        router.get("admin/users", use: users)
        router.post("admin/users", use: createUser)
        router.get("admin/users/{name}", use: user)
        router.post("admin/users/{name}/{action}", use: userAction)
        router.get("admin/users/{name}/{action}", use: confirmUserAction)
        router.get("admin/invites", use: invites)
        router.post("admin/invites", use: createInvite)
        router.get("admin/invites/{id}/revoke", use: confirmRevokeInvite)
        router.post("admin/invites/{id}/revoke", use: revokeInvite)
        router.get("admin/devices", use: devices)
        router.get("admin/devices/{id}/revoke", use: confirmRevokeDevice)
        router.post("admin/devices/{id}/revoke", use: revokeDevice)
        router.get("admin/rooms", use: rooms)
        router.get("admin/avatars/{id}", use: avatar)
        router.post("admin/bots", use: createBot)
    }

    /// `GET /admin/avatars/{id}` — a user's avatar, for the panel's pages (whose cookie the API does not take).
    @Sendable func avatar(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context, role: .moderator) { _ in
            let file = try await services.profiles.avatar(context.parameters.get("id") ?? "")
            return try AttachmentsController.response(
                for: file, from: services.attachments, request: request, context: context)
        }
    }

    // MARK: Users

    /// `GET /admin/users?q=&after=` — people by name, 50 a page.
    @Sendable func users(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context, role: .moderator) { user in
            let query = request.uri.queryParameters.get("q") ?? ""
            let after = request.uri.queryParameters.get("after")
            let found = try await services.accounts.users(search: query, after: after, limit: Self.pageSize)
            var page = base(user, "People", request: request)
            page["query"] = query
            let hooks = try await services.webhooks.botIDs()
            page["users"] = found.map { Self.row($0, webhookBots: hooks) }
            page["next"] = nextLink(
                "/admin/users", count: found.count, cursor: found.last?.username, name: "after", extra: ["q": query])
            return templates.page("users", page)
        }
    }

    /// A person as the panel's lists show them; `webhookBots` tells a webhook's bot from a bot account.
    static func row(_ user: User, webhookBots: Set<Int64>) -> [String: Any] {
        let role = user.bot ? (webhookBots.contains(user.id) ? "bot (webhook)" : "bot") : user.role.rawValue
        var row: [String: Any] = [
            "username": user.username, "role": role,
            "joined": AdminFormat.date(user.createdAt),
            "state": user.disabled ? "disabled" : "active",
        ]
        if let name = user.displayName { row["displayName"] = name }
        if let avatar = user.avatar { row["avatar"] = "/admin/avatars/\(avatar)" }
        return row
    }

    /// `POST /admin/bots` (`username`, `displayName`) — adds a bot account and shows its token once.
    @Sendable func createBot(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await act(request, context, role: .admin, back: "/admin/users") { admin, form in
            let created = try await services.accounts.createBot(
                username: form.text("username") ?? "", displayName: form.text("displayName"), by: admin.actor)
            return try secret(
                admin, heading: "The bot \(created.user.username) is ready",
                explanation:
                    "Give the program this token, shown only now: it signs in with it to the same API and WebSocket "
                    + "as the chat (docs/PROTOCOL.md). It works until you give the bot a new one "
                    + "(`hearth bot token \(created.user.username)`) or disable it.",
                link: created.token,
                validity: "Add the bot to a group by its username, like anyone: it sees only the groups it is in.",
                back: "/admin/users", label: "Token", qr: false)
        }
    }

    /// `POST /admin/users` (`username`, `password`, `role`) — adds an account.
    @Sendable func createUser(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await act(request, context, role: .admin, back: "/admin/users") { admin, form in
            guard let role = form.text("role").flatMap(User.Role.init(rawValue:)) else {
                throw AdminProblem("Choose a role.")
            }
            let created = try await services.accounts.createUser(
                username: form.text("username") ?? "", password: form["password"] ?? "", role: role, by: admin.actor)
            return redirect("/admin/users/\(created.username)", notice: "Added \(created.username).", for: admin)
        }
    }

    /// `GET /admin/users/{name}` — one person: devices and every action.
    @Sendable func user(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context, role: .moderator) { admin in
            let person = try await services.accounts.user(named: context.parameters.get("name") ?? "")
            let devices = try await services.sessions.devices(of: person).filter { $0.revokedAt == nil }
            let hooks = try await services.webhooks.botIDs()
            var details = Self.row(person, webhookBots: hooks)
            // A bot account's token can be replaced here (a webhook's bot has none).
            details["bot"] = person.bot
            details["isTokenBot"] = person.bot && !hooks.contains(person.id)
            let now = services.now().timeIntervalSince1970 * 1000
            if let muted = person.mutedUntil, Double(muted) > now { details["mutedUntil"] = AdminFormat.date(muted) }
            details["disabled"] = person.disabled
            details["isMember"] = person.role == .member
            details["isModerator"] = person.role == .moderator
            details["isAdminRole"] = person.role == .admin
            details["canModerate"] = person.id != admin.session.user.id && (admin.isAdmin || person.role == .member)
            details["devices"] = devices.map { device in
                [
                    "id": device.id, "name": device.name + (device.pending ? " (waiting for approval)" : ""),
                    "lastSeen": AdminFormat.date(device.lastSeenAt), "ip": device.ip ?? "", "canRevoke": admin.isAdmin,
                ] as [String: Any]
            }
            // Push: each subscription's device, its last delivery and its last error.
            let names = Dictionary(devices.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
            details["pushes"] = try await services.push.subscriptions(of: person.id).map { subscription in
                [
                    "device": names[subscription.deviceID] ?? "a signed-out device",
                    "service": URL(string: subscription.endpoint)?.host ?? subscription.endpoint,
                    "since": AdminFormat.date(subscription.createdAt),
                    "lastSuccess": subscription.lastSuccessAt.map(AdminFormat.date) ?? "never",
                    "lastError": subscription.lastError.map { error in
                        "\(error) (\(subscription.lastErrorAt.map(AdminFormat.date) ?? ""))"
                    } ?? "",
                ] as [String: Any]
            }
            var page = base(admin, person.username, request: request)
            page["person"] = details
            return templates.page("user", page)
        }
    }

    /// `GET /admin/users/{name}/disable|delete` — asks before a destructive action.
    @Sendable func confirmUserAction(_ request: Request, context: AppRequestContext) async throws -> Response {
        let name = context.parameters.get("name") ?? ""
        let action = context.parameters.get("action") ?? ""
        let texts: [String: (String, String, String, User.Role)] = [
            "disable": (
                "Disable \(name)?",
                "They are signed out everywhere at once and cannot sign in until an admin enables the account.",
                "Disable account", .moderator
            ),
            "delete": (
                "Delete \(name)?",
                "The account and its devices are removed for good. Messages they sent stay, without a name. This cannot be undone.",
                "Delete account", .admin
            ),
        ]
        guard let (heading, explanation, button, role) = texts[action] else {
            throw ServiceError.notFound("That page")
        }
        return try await page(request, context, role: role) { admin in
            _ = try await services.accounts.user(named: name)
            return confirmation(
                admin, request: request, heading: heading, explanation: explanation, button: button,
                action: "/admin/users/\(name)/\(action)", back: "/admin/users/\(name)", askReason: true)
        }
    }

    /// `POST /admin/users/{name}/{action}` — mute, unmute, disable (moderators, on members);
    /// enable, role, reset, recovery, token (a bot account's), delete (admins).
    @Sendable func userAction(_ request: Request, context: AppRequestContext) async throws -> Response {
        let name = context.parameters.get("name") ?? ""
        let action = context.parameters.get("action") ?? ""
        let back = "/admin/users/\(name)"
        let moderatorActions: Set = ["mute", "unmute", "disable"]
        return try await act(
            request, context, role: moderatorActions.contains(action) ? .moderator : .admin, back: back
        ) {
            admin, form in
            let role = admin.session.user.role
            switch action {
            case "mute":
                let minutes = try form.number("minutes", label: "Minutes") ?? 60
                let until = try await services.moderation.mute(
                    username: name, for: TimeInterval(minutes) * 60, reason: form.text("reason"), by: admin.actor,
                    role: role)
                return redirect(back, notice: "\(name) is muted until \(AdminFormat.date(until)).", for: admin)
            case "unmute":
                try await services.moderation.unmute(username: name, by: admin.actor, role: role)
                return redirect(back, notice: "\(name) may send again.", for: admin)
            case "disable":
                let ended = try await services.accounts.disable(
                    username: name, reason: form.text("reason"), by: admin.actor, role: role)
                return redirect(back, notice: "Disabled \(name); \(ended) session(s) ended.", for: admin)
            case "enable":
                try await services.accounts.enable(username: name, by: admin.actor)
                return redirect(back, notice: "Enabled \(name).", for: admin)
            case "role":
                guard let newRole = form.text("role").flatMap(User.Role.init(rawValue:)) else {
                    throw AdminProblem("Choose a role.")
                }
                try await services.accounts.setRole(username: name, to: newRole, by: admin.actor)
                return redirect(back, notice: "\(name) is now \(newRole.rawValue).", for: admin)
            case "reset":
                let (code, expires) = try await services.accounts.createPasswordReset(username: name, by: admin.actor)
                let link = await services.publicURL() + "/reset/" + code
                return try secret(
                    admin, heading: "Password reset link for \(name)",
                    explanation: "Give this to \(name) (or let them scan it). It lets them choose a new password once; "
                        + "their devices are signed out when they do.",
                    link: link, validity: "Works once, until \(AdminFormat.date(expires)).", back: back)
            case "recovery":
                let code = try await services.linking.createRecovery(username: name, by: admin.actor)
                return try secret(
                    admin, heading: "Sign-in link for \(name)",
                    explanation: "Scanning this signs \(name) in on a new device, without a password. "
                        + "Only show it to them in person.",
                    link: code.url, validity: "Works once, until \(AdminFormat.date(code.expiresAt)).", back: back)
            case "token":
                let renewed = try await services.accounts.newBotToken(username: name, by: admin.actor)
                return try secret(
                    admin, heading: "A new token for \(name)",
                    explanation: "Give the program this token, shown only now. The old one has stopped working.",
                    link: renewed.token, validity: "It works until you give the bot a new one or disable it.",
                    back: back, label: "Token", qr: false)
            case "delete":
                try await services.accounts.delete(username: name, by: admin.actor)
                return redirect("/admin/users", notice: "Deleted \(name).", for: admin)
            default:
                throw ServiceError.notFound("That action")
            }
        }
    }

    /// A page that shows a one-time link and its QR code (or, with `qr: false`, a token to copy).
    func secret(
        _ user: AdminUser, heading: String, explanation: String, link: String, validity: String, back: String,
        label: String = "Link", qr: Bool = true
    ) throws -> Response {
        var page = base(user, heading)
        page["heading"] = heading
        page["explanation"] = explanation
        page["link"] = link
        page["label"] = label
        if qr { page["qr"] = "data:image/svg+xml;base64," + Data(try QRCode(link).svg().utf8).base64EncodedString() }
        page["validity"] = validity
        page["back"] = back
        return templates.page("secret", page)
    }

    // MARK: Invites

    /// `GET /admin/invites?before=` — invites, newest first.
    @Sendable func invites(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context, role: .admin) { user in
            let before = cursor(request)
            let list = try await services.invites.list(before: before, limit: Self.pageSize)
            var page = base(user, "Invites", request: request)
            page["invites"] = list.map { invite in
                let status = services.invites.status(of: invite)
                return [
                    "id": invite.id, "created": AdminFormat.date(invite.createdAt), "uses": invite.uses,
                    "maxUses": invite.maxUses, "admin": invite.admin,
                    "expires": invite.expiresAt.map(AdminFormat.date) ?? "never", "state": status.rawValue,
                    "open": status == .active,
                ] as [String: Any]
            }
            page["next"] = nextLink("/admin/invites", count: list.count, cursor: list.last.map { String($0.id) })
            return templates.page("invites", page)
        }
    }

    /// `POST /admin/invites` (`uses`, `days`, `admin`) — creates an invite and shows its link and QR.
    @Sendable func createInvite(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await act(request, context, role: .admin, back: "/admin/invites") { user, form in
            let uses = try form.number("uses", label: "Uses") ?? 1
            let days = try form.number("days", label: "Days") ?? 7
            let created = try await services.invites.create(
                uses: uses, lifetime: TimeInterval(days) * 86_400, admin: form["admin"] == "1", by: user.actor)
            let invite = created.invite
            return try secret(
                user, heading: "Invite created",
                explanation: "Send this link, or let them scan the code with their phone's camera. "
                    + "It opens Hearth with the invite filled in. This is the only time it is shown: "
                    + "Hearth keeps only a fingerprint of it, so copy it now.",
                link: await services.inviteURL(created),
                validity:
                    "\(uses) use\(uses == 1 ? "" : "s"), until \(invite.expiresAt.map(AdminFormat.date) ?? "revoked").",
                back: "/admin/invites")
        }
    }

    /// `GET /admin/invites/{id}/revoke` — asks first.
    @Sendable func confirmRevokeInvite(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context, role: .admin) { user in
            let id = try Self.inviteID(context)
            return confirmation(
                user, request: request, heading: "Revoke this invite?",
                explanation: "Nobody can register with it afterwards. Accounts already made with it stay.",
                button: "Revoke invite", action: "/admin/invites/\(id)/revoke", back: "/admin/invites")
        }
    }

    /// `POST /admin/invites/{id}/revoke`.
    @Sendable func revokeInvite(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await act(request, context, role: .admin, back: "/admin/invites") { user, _ in
            try await services.invites.revoke(id: try Self.inviteID(context), by: user.actor)
            return redirect("/admin/invites", notice: "Invite revoked.", for: user)
        }
    }

    private static func inviteID(_ context: AppRequestContext) throws -> Int64 {
        guard let id = context.parameters.get("id").flatMap(Int64.init) else {
            throw ServiceError.notFound("That invite")
        }
        return id
    }

    // MARK: Devices and rooms

    /// `GET /admin/devices?before=` — every signed-in device.
    @Sendable func devices(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context, role: .admin) { user in
            let before = cursor(request)
            let list = try await services.sessions.activeDevices(before: before, limit: Self.pageSize)
            var page = base(user, "Devices", request: request)
            page["devices"] = list.map { owned in
                [
                    "id": owned.device.id, "username": owned.username, "name": owned.device.name,
                    "pending": owned.device.pending, "lastSeen": AdminFormat.date(owned.device.lastSeenAt),
                    "ip": owned.device.ip ?? "",
                ] as [String: Any]
            }
            page["next"] = nextLink("/admin/devices", count: list.count, cursor: list.last.map { String($0.device.id) })
            return templates.page("devices", page)
        }
    }

    /// `GET /admin/devices/{id}/revoke` — asks first.
    @Sendable func confirmRevokeDevice(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context, role: .admin) { user in
            let id = context.parameters.get("id").flatMap(Int64.init) ?? 0
            let device = try await services.sessions.signedInDevice(id: id)
            return confirmation(
                user, request: request, heading: "Sign out “\(device.name)”?",
                explanation: "It is signed out at once and its connection closes. Whoever holds it must sign in again.",
                button: "Sign it out", action: "/admin/devices/\(id)/revoke", back: "/admin/devices")
        }
    }

    /// `POST /admin/devices/{id}/revoke` — signs a device out everywhere at once.
    @Sendable func revokeDevice(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await act(request, context, role: .admin, back: "/admin/devices") { user, _ in
            let id = context.parameters.get("id").flatMap(Int64.init) ?? 0
            try await services.sessions.revokeDevice(id, by: user.actor)
            return redirect("/admin/devices", notice: "Device signed out.", for: user)
        }
    }

    /// `GET /admin/rooms?before=` — rooms with members and message counts.
    @Sendable func rooms(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context, role: .admin) { user in
            let before = cursor(request)
            let list = try await services.rooms.overviews(before: before, limit: Self.pageSize)
            var page = base(user, "Rooms", request: request)
            page["rooms"] = list.map { overview in
                [
                    "name": overview.room.name ?? "(direct chat)", "kind": overview.room.kind.rawValue,
                    "members": overview.members, "messages": overview.messages,
                    "created": AdminFormat.date(overview.room.createdAt),
                ] as [String: Any]
            }
            page["next"] = nextLink("/admin/rooms", count: list.count, cursor: list.last.map { String($0.room.id) })
            try await addWebhooks(to: &page)
            return templates.page("rooms", page)
        }
    }
}
