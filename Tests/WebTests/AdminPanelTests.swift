import Foundation
import HTTPTypes
import HearthTestSupport
import Hummingbird
import HummingbirdTesting
import Storage
import Testing

@testable import Services
@testable import Web

/// The admin panel through the router: sign-in, roles, CSRF, escaping, and every page and action.
@Suite struct AdminPanelTests {
    /// A browser of the panel: keeps the session cookie and reads the CSRF token off pages.
    struct Browser {
        let api: APIClient
        var cookie = ""
        var csrf = ""

        func get(_ path: String) async throws -> APIResponse {
            try await api.send(.get, path, headers: cookie.isEmpty ? [:] : [.cookie: cookie])
        }

        func post(_ path: String, _ fields: [String: String], csrf token: String? = nil) async throws -> APIResponse {
            var fields = fields
            fields["_csrf"] = token ?? csrf
            let body = fields.map { key, value in
                "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
            }.joined(separator: "&")
            var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            if !cookie.isEmpty { headers[.cookie] = cookie }
            return try await api.send(.post, path, raw: body, headers: headers)
        }

        /// Signs in through the form; keeps the cookie and the page's CSRF token.
        mutating func signIn(_ username: String) async throws -> APIResponse {
            let answer = try await post("/admin/login", ["username": username, "password": TestServices.password])
            if let setCookie = answer.headers[.setCookie], setCookie.hasPrefix("hearth_admin=") {
                cookie = String(setCookie.split(separator: ";")[0])
                let page = try await get("/admin")
                csrf = Self.csrf(in: page.text) ?? ""
            }
            return answer
        }

        static func csrf(in html: String) -> String? {
            guard let range = html.range(of: "name=\"_csrf\" value=\"") else { return nil }
            return String(html[range.upperBound...].prefix { $0 != "\"" })
        }

        /// Follows a 303 and returns the page it leads to.
        func follow(_ answer: APIResponse) async throws -> APIResponse {
            guard answer.status == .seeOther, let location = answer.headers[.location] else { return answer }
            return try await get(location)
        }
    }

    func withPanel(
        _ body: @escaping @Sendable (inout Browser, TestServices) async throws -> Void
    ) async throws {
        try await withApp { api, env in
            for (name, role) in [("mum", User.Role.admin), ("moe", .moderator), ("kid", .member), ("dad", .member)] {
                _ = try await env.accounts.createUser(username: name, password: TestServices.password, role: role)
            }
            var browser = Browser(api: api)
            try await body(&browser, env)
        }
    }

    @Test func signingInShowsTheDashboardAndMembersGet403() async throws {
        try await withPanel { browser, _ in
            let form = try await browser.get("/admin")
            #expect(
                form.status == .ok && form.text.contains("name=\"username\"") && form.text.contains("name=\"password\"")
            )
            #expect(try await browser.get("/admin/users").status == .seeOther)
            let wrong = try await browser.post("/admin/login", ["username": "mum", "password": "not it at all"])
            #expect(wrong.status == .unauthorized && wrong.text.contains("Wrong username or password"))
            var member = browser
            #expect(try await member.signIn("kid").status == .forbidden)
            #expect(member.cookie.isEmpty)

            let signedIn = try await browser.signIn("mum")
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.headers[.setCookie]?.contains("HttpOnly") == true)
            #expect(signedIn.headers[.setCookie]?.contains("SameSite=Strict") == true)
            let dashboard = try await browser.get("/admin")
            #expect(dashboard.text.contains("Last good backup") && dashboard.text.contains("Never"))
            #expect(dashboard.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            #expect(dashboard.headers[.contentSecurityPolicy]?.contains("unsafe-inline") == false)
            #expect(dashboard.headers[.xContentTypeOptions] == "nosniff")
            #expect(!browser.csrf.isEmpty)
            #expect(dashboard.text.contains("href=\"/\">Chat</a>"))
        }
    }

    /// An admin signed in to the chat opens the panel with only their password; a member's chat
    /// session gets "Not for you"; the panel's session is no device of theirs.
    @Test func theChatSessionLetsAnAdminInWithThePasswordAlone() async throws {
        try await withPanel { browser, env in
            let chat = try await env.sessions.login(
                username: "mum", password: TestServices.password, deviceName: "Laptop", client: TestServices.home)
            let cookie: HTTPFields = [.cookie: "hearth_session=\(chat.token)"]
            let stepUp = try await browser.api.send(.get, "/admin", headers: cookie)
            #expect(stepUp.text.contains("You are signed in to the chat as <strong>mum</strong>"))
            #expect(stepUp.text.contains("type=\"hidden\" name=\"username\" value=\"mum\""))
            let kid = try await env.sessions.login(
                username: "kid", password: TestServices.password, deviceName: nil, client: TestServices.home)
            let member = try await browser.api.send(.get, "/admin", headers: [.cookie: "hearth_session=\(kid.token)"])
            #expect(member.status == .forbidden && !member.text.contains("signed in to the chat"))
            // Invites from the chat's first-run card: admins only.
            let refused = try await browser.api.send(
                .post, "/api/v1/admin/invites", json: [:] as [String: Any],
                headers: [.authorization: "Bearer \(kid.token)"])
            #expect(refused.status == .forbidden)
            let invite = try await browser.api.send(
                .post, "/api/v1/admin/invites", json: ["uses": 3] as [String: Any],
                headers: [.authorization: "Bearer \(chat.token)"])
            #expect(invite.status == .created && (invite.json["url"] as? String)?.contains("/invite/") == true)
            #expect((invite.json["qr"] as? String)?.hasPrefix("data:image/svg+xml;base64,") == true)
            #expect(try await env.invites.list().first?.maxUses == 3)
            #expect(try await browser.signIn("mum").status == .seeOther)
            let devices = try await browser.api.send(
                .get, "/api/v1/devices", headers: [.authorization: "Bearer \(chat.token)"])
            let names = (devices.json["devices"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            #expect(names == ["Laptop"], "\(names)")
        }
    }

    @Test func everyPageRendersForAnAdmin() async throws {
        try await withPanel { browser, env in
            _ = try await browser.signIn("mum")
            let room = try await env.services.rooms.create(
                by: try await env.accounts.user(named: "mum"), name: "Kitchen", usernames: ["kid"], direct: false)
            _ = try await env.services.moderation.createRule(
                RuleDraft(kind: "word", pattern: "darn", action: "flag"), by: .cli)
            _ = room
            for path in [
                "/admin", "/admin/users", "/admin/users/kid", "/admin/invites", "/admin/devices", "/admin/rooms",
                "/admin/rules", "/admin/rules/1", "/admin/reports", "/admin/reports?decided=true", "/admin/backups",
                "/admin/audit", "/admin/audit?action=user_&actor=cli", "/admin/settings", "/admin/users/kid/delete",
                "/admin/users/kid/disable", "/admin/rules/1/delete",
            ] {
                let page = try await browser.get(path)
                #expect(page.status == .ok, "\(path)")
                #expect(page.text.hasPrefix("<!doctype html>") && page.text.contains("</html>"), "\(path)")
                #expect(page.headers[.cacheControl] == "no-store", "\(path)")
            }
            #expect(try await browser.get("/admin/rooms").text.contains("Kitchen"))
            #expect(try await browser.get("/admin/users/nobody").status == .notFound)
        }
    }

    @Test func longListsArePaged() async throws {
        try await withPanel { browser, env in
            _ = try await browser.signIn("mum")
            for index in 1...60 {
                _ = try await env.services.moderation.createRule(
                    RuleDraft(kind: "word", pattern: "word\(index)", action: "flag"), by: .cli)
                _ = try await env.invites.create()
            }
            let rules = try await browser.get("/admin/rules").text
            #expect(rules.contains("word50") && !rules.contains("word51<"))
            #expect(rules.contains("href=\"/admin/rules?after=50\""))
            #expect(try await browser.get("/admin/rules?after=50").text.contains("word60"))
            let invites = try await browser.get("/admin/invites").text
            let next = try #require(
                invites.range(of: "/admin/invites?before=").map { invites[$0.lowerBound...].prefix { $0 != "\"" } })
            #expect(try await browser.get(String(next)).text.contains("<td>"))
            let audit = try await browser.get("/admin/audit").text
            #expect(audit.contains("/admin/audit?before="))
        }
    }

    @Test func postsWithoutTheRightCSRFTokenAreRefused() async throws {
        try await withPanel { browser, env in
            _ = try await browser.signIn("mum")
            for token in ["", "0123", String(repeating: "a", count: 64)] {
                let answer = try await browser.post("/admin/users/kid/disable", [:], csrf: token)
                #expect(answer.status == .forbidden)
            }
            #expect(try await env.accounts.user(named: "kid").disabled == false)
            // A form posted from another site is refused whatever it carries.
            var headers: HTTPFields = [
                .contentType: "application/x-www-form-urlencoded", .cookie: browser.cookie,
                .origin: "https://evil.example",
            ]
            let crossSite = try await browser.api.send(
                .post, "/admin/users/kid/disable", raw: "_csrf=\(browser.csrf)", headers: headers)
            #expect(crossSite.status == .forbidden)
            headers[.cookie] = nil
            let crossSiteLogin = try await browser.api.send(
                .post, "/admin/login", raw: "username=mum&password=x", headers: headers)
            #expect(crossSiteLogin.status == .forbidden)
            #expect(try await env.accounts.user(named: "kid").disabled == false)
            // Another session's token does not work either.
            var other = Browser(api: browser.api)
            _ = try await other.signIn("moe")
            #expect(try await browser.post("/admin/users/kid/disable", [:], csrf: other.csrf).status == .forbidden)
            let done = try await browser.follow(try await browser.post("/admin/users/kid/disable", ["reason": "test"]))
            #expect(done.text.contains("Disabled kid"))
            #expect(try await env.accounts.user(named: "kid").disabled)
        }
    }

    @Test func valuesAreEscaped() async throws {
        try await withPanel { browser, env in
            _ = try await browser.signIn("mum")
            // Usernames cannot hold markup; room names, device names and rule patterns can.
            _ = try await env.services.rooms.create(
                by: try await env.accounts.user(named: "mum"), name: "<script>alert(1)</script>", usernames: [],
                direct: false)
            _ = try await env.sessions.login(
                username: "kid", password: TestServices.password, deviceName: "<img src=x onerror=alert(2)>",
                client: TestServices.home)
            _ = try await env.services.moderation.createRule(
                RuleDraft(kind: "regex", pattern: "<b>\"x\"</b>", action: "flag"), by: .cli)
            let rooms = try await browser.get("/admin/rooms").text
            #expect(
                !rooms.contains("<script>alert(1)</script>") && rooms.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            let devices = try await browser.get("/admin/devices").text
            #expect(!devices.contains("<img src=x") && devices.contains("&lt;img src=x onerror=alert(2)&gt;"))
            let rules = try await browser.get("/admin/rules").text
            #expect(!rules.contains("<b>\"x\"</b>") && rules.contains("&lt;b&gt;&quot;x&quot;&lt;/b&gt;"))
        }
    }

    @Test func moderatorsWorkTheQueueButNotTheServer() async throws {
        try await withPanel { browser, env in
            _ = try await browser.signIn("moe")
            for path in ["/admin/invites", "/admin/rules", "/admin/backups", "/admin/audit", "/admin/settings"] {
                #expect(try await browser.get(path).status == .forbidden, "\(path)")
            }
            for path in ["/admin", "/admin/users", "/admin/users/kid", "/admin/reports"] {
                #expect(try await browser.get(path).status == .ok, "\(path)")
            }
            #expect(
                try await browser.post("/admin/rules", ["kind": "word", "pattern": "x", "action": "block"]).status
                    == .forbidden)
            let mute = try await browser.follow(try await browser.post("/admin/users/kid/mute", ["minutes": "30"]))
            #expect(mute.text.contains("kid is muted until"))
            let admin = try await browser.follow(try await browser.post("/admin/users/mum/mute", ["minutes": "30"]))
            #expect(admin.text.contains("You are not allowed to do that."))
            #expect(try await env.accounts.user(named: "mum").mutedUntil == nil)
        }
    }

    @Test func theQueueIsWorkedFromThePanel() async throws {
        try await withPanel { browser, env in
            _ = try await browser.signIn("moe")
            let mum = try await env.accounts.user(named: "mum")
            let (info, _) = try await env.services.rooms.create(
                by: mum, name: "Kitchen", usernames: ["kid"], direct: false)
            let phone = try await env.sessions.login(
                username: "mum", password: TestServices.password, deviceName: nil, client: TestServices.home)
            let message = try await env.services.database.write { store in
                _ = try store.insertMessage(
                    seq: 1, roomID: info.room.id, senderID: mum.id, deviceID: phone.device.id, clientID: "c1",
                    body: "hello <there>", now: 1)
                return store.lastInsertedRowID
            }
            let kid = try await env.sessions.login(
                username: "kid", password: TestServices.password, deviceName: nil, client: TestServices.home)
            _ = try await env.services.moderation.report(
                messageID: message, reason: "rude", by: Session(user: kid.user, device: kid.device), ip: nil)
            let queue = try await browser.get("/admin/reports")
            #expect(queue.text.contains("kid</a> reported it: “rude”") && queue.text.contains("hello &lt;there&gt;"))
            // Each choice says what it does.
            #expect(queue.text.contains("Close this without judging the message"))
            #expect(try await browser.get("/admin/reports/1/delete").text.contains("Delete this message?"))
            let deleted = try await browser.follow(
                try await browser.post("/admin/reports/1/delete", ["reason": "rude"]))
            #expect(deleted.text.contains("Message deleted."))
            // Deleted for everyone: the text is gone, the row says so.
            let stored = try await env.services.database.read { try $0.message(id: message) }
            #expect(stored?.body == "" && stored?.deletedAt != nil)
            // The decision stays in the queue's history, without the text.
            let decided = try await browser.get("/admin/reports?decided=true").text
            #expect(decided.contains("Deleted by moe") && decided.contains("(deleted)"), "\(decided)")
            #expect(!decided.contains("hello &lt;there&gt;"))
        }
    }

    @Test func adminActionsChangeTheServerAndTheAuditLog() async throws {
        try await withPanel { browser, env in
            _ = try await browser.signIn("mum")
            // Invites: the link and its QR code are shown once.
            let invite = try await browser.post("/admin/invites", ["uses": "3", "days": "2"])
            #expect(
                invite.status == .ok && invite.text.contains("/invite/")
                    && invite.text.contains("data:image/svg+xml;base64,"))
            #expect(try await env.invites.list().first?.maxUses == 3)
            let bad = try await browser.follow(try await browser.post("/admin/invites", ["uses": "0", "days": "2"]))
            #expect(bad.text.contains("class=\"problem\""))
            // People: add, change role, reset link, delete.
            let added = try await browser.follow(
                try await browser.post(
                    "/admin/users", ["username": "gran", "password": TestServices.password, "role": "member"]))
            #expect(added.text.contains("Added gran."))
            _ = try await browser.post("/admin/users/gran/role", ["role": "moderator"])
            #expect(try await env.accounts.user(named: "gran").role == .moderator)
            let reset = try await browser.post("/admin/users/gran/reset", [:])
            let link = try #require(
                reset.text.range(of: "/reset/").map { reset.text[$0.upperBound...].prefix { $0 != "\"" } })
            // The link lets gran choose a password once.
            let form = try await browser.api.send(.get, "/reset/\(link)")
            #expect(form.status == .ok && form.text.contains("A new password for gran"))
            let short = try await browser.api.send(
                .post, "/reset/\(link)", raw: "password=short",
                headers: [.contentType: "application/x-www-form-urlencoded"])
            #expect(short.status == .badRequest && short.text.contains("at least 10"))
            let set = try await browser.api.send(
                .post, "/reset/\(link)", raw: "password=a+brand+new+passphrase",
                headers: [.contentType: "application/x-www-form-urlencoded"])
            #expect(set.status == .ok && set.text.contains("Your new password is set"))
            #expect(try await browser.api.send(.get, "/reset/\(link)").status == .gone)
            _ = try await env.sessions.login(
                username: "gran", password: "a brand new passphrase", deviceName: nil, client: TestServices.home)
            _ = try await browser.post("/admin/users/gran/delete", [:])
            #expect((try? await env.accounts.user(named: "gran")) == nil)
            // Rules and the dry run.
            let rule = try await browser.follow(
                try await browser.post("/admin/rules", ["kind": "word", "pattern": "heck", "action": "mask"]))
            #expect(rule.text.contains("Rule #1 added"))
            let badRule = try await browser.follow(
                try await browser.post("/admin/rules", ["kind": "regex", "pattern": "spam(?=\\d)", "action": "block"]))
            #expect(badRule.text.contains("lookahead and lookbehind"))
            // A refused rule comes back as it was typed, to be mended, not typed again.
            #expect(badRule.status == .badRequest && badRule.text.contains("value=\"spam(?=\\d)\""))
            #expect(badRule.text.contains("<option value=\"regex\" selected>"))
            // A rule is kept to a room chosen by its name.
            let family = try await env.services.rooms.create(
                by: try await env.accounts.user(named: "mum"), name: "Family", usernames: ["kid"], direct: false)
            let rulesForm = try await browser.get("/admin/rules").text
            #expect(rulesForm.contains("<option value=\"\(family.0.room.id)\">Family (2 members)</option>"))
            let scoped = try await browser.follow(
                try await browser.post(
                    "/admin/rules",
                    ["kind": "word", "pattern": "homework", "action": "flag", "scope": "\(family.0.room.id)"]))
            #expect(scoped.text.contains("Rule #2 added"))
            let test = try await browser.post("/admin/rules/test", ["body": "what the HECK"])
            #expect(test.text.contains("masked") && test.text.contains("what the ***"))
            // Settings.
            let settings = try await browser.follow(
                try await browser.post(
                    "/admin/settings", ["registration": "closed", "publicURL": "http://hearth.lan:8080"]))
            #expect(settings.text.contains("Settings saved."))
            #expect(try await env.registration.mode() == .closed)
            #expect(await env.services.publicURL() == "http://hearth.lan:8080")
            // Notifications: the most they may show, and the queue's health.
            let push = try await browser.follow(try await browser.post("/admin/settings/push", ["preview": "sender"]))
            #expect(push.text.contains("Notification settings saved.") && push.text.contains("Waiting to go: 0"))
            #expect(try await env.services.push.serverPreview() == .sender)
            let badPush = try await browser.follow(try await browser.post("/admin/settings/push", ["preview": "all"]))
            #expect(badPush.text.contains("Choose what a notification may show."))
            #expect(try await env.services.push.serverPreview() == .sender)
            // A person's page shows each device's subscription, with its last delivery.
            let kid = try await env.sessions.login(
                username: "kid", password: TestServices.password, deviceName: "Kid's phone", client: TestServices.home)
            _ = try await env.services.push.subscribe(
                Session(user: kid.user, device: kid.device), endpoint: "https://push.example.net/wpush/abc",
                p256dh: "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
                auth: "BTBZMqHH6r4Tts7J_aSIgg")
            let kidPage = try await browser.get("/admin/users/kid").text
            #expect(kidPage.contains("Kid&#39;s phone") || kidPage.contains("Kid's phone"))
            #expect(kidPage.contains("push.example.net") && kidPage.contains("never"))

            let audit = try await browser.get("/admin/audit?actor=mum").text
            for action in [
                "invite_created", "user_created", "role_changed", "password_reset_link_created", "user_deleted",
                "rule_created", "setting_changed",
            ] {
                #expect(audit.contains(action), "\(action)")
            }
            #expect(audit.contains("notification previews"))
            // A webhook made and revoked reads as a sentence naming its group; its bot is listed
            // among the people as one.
            let group = try await env.services.rooms.create(
                by: env.accounts.user(named: "mum"), name: "Family", usernames: [], direct: false
            ).0.room.id
            let mum = try await env.accounts.user(named: "mum")
            let hook = try await env.services.webhooks.create(in: group, name: "Doorbell", by: mum)
            // The Rooms page lists it; revoking it there asks first.
            let rooms = try await browser.get("/admin/rooms").text
            #expect(rooms.contains("Doorbell") && rooms.contains("/admin/webhooks/\(hook.webhook.id)/revoke"))
            let renamed = try await browser.follow(
                try await browser.post("/admin/webhooks/\(hook.webhook.id)/rename", ["name": "Front door"]))
            #expect(
                renamed.text.contains("Webhook renamed “Front door”.") && renamed.text.contains("value=\"Front door\""))
            let unnamed = try await browser.follow(
                try await browser.post("/admin/webhooks/\(hook.webhook.id)/rename", ["name": "  "]))
            #expect(
                unnamed.text.contains("A webhook&#39;s name is one line") || unnamed.text.contains("A webhook’s name"))
            let asked = try await browser.get("/admin/webhooks/\(hook.webhook.id)/revoke").text
            #expect(asked.contains("Revoke this webhook?"))
            let revoked = try await browser.follow(
                try await browser.post("/admin/webhooks/\(hook.webhook.id)/revoke", [:]))
            #expect(revoked.text.contains("Webhook “Front door” revoked.") && revoked.text.contains("No webhooks."))
            let people = try await browser.get("/admin/users").text
            #expect(people.contains("bot (webhook)") && people.contains("Front door"))
            // A bot from the panel: its token shown once, and good for the API.
            let bot = try await browser.post("/admin/bots", ["username": "weatherbot", "displayName": "Weather"])
            #expect(bot.text.contains("The bot weatherbot is ready") && bot.text.contains("Token"))
            let token = try #require(
                bot.text.range(of: "id=\"secret-link\" class=\"link\" readonly value=\"").map {
                    String(bot.text[$0.upperBound...].prefix { $0 != "\"" })
                })
            let session = try await env.sessions.authenticate(token: token, client: TestServices.home)
            #expect(session.user.username == "weatherbot" && session.user.bot && session.user.displayName == "Weather")
            // Listed as a bot (not a webhook's); its page gives it a new token, and the old one stops.
            #expect(try await browser.get("/admin/users").text.contains(">bot<"))
            let botPage = try await browser.get("/admin/users/weatherbot").text
            #expect(botPage.contains("Give it a new token") && !botPage.contains("password reset link"))
            let renewed = try await browser.post("/admin/users/weatherbot/token", [:])
            #expect(renewed.text.contains("A new token for weatherbot"))
            await #expect(throws: ServiceError.self) {
                _ = try await env.sessions.authenticate(token: token, client: TestServices.home)
            }
            // A webhook's bot has no token to replace.
            await #expect(throws: ServiceError.self) {
                _ = try await env.services.accounts.newBotToken(username: hook.webhook.username)
            }
            #expect(!(try await browser.get("/admin/users/\(hook.webhook.username)").text.contains("new token")))
            let sentences = try await browser.get("/admin/audit").text
            #expect(sentences.contains("added the webhook “Doorbell” to <a href=\"/admin/rooms\">Family</a>"))
            #expect(sentences.contains("revoked the webhook “Front door” of <a href=\"/admin/rooms\">Family</a>"))
            #expect(sentences.contains("chose a new password with a reset link"))
            #expect(sentences.contains("<a href=\"/admin/users/kid\">kid</a>"))
        }
    }

    @Test func outgoingWebhooksHaveADeliveryLogAndAnAllowList() async throws {
        try await withPanel { browser, env in
            _ = try await browser.signIn("mum")
            let mum = try await env.accounts.user(named: "mum")
            let group = try await env.services.rooms.create(by: mum, name: "Family", usernames: [], direct: false)
                .0.room.id
            let hooks = env.services.outgoingWebhooks
            // Home Assistant on the LAN is refused until the panel allows its address.
            await #expect(throws: ServiceError.self) {
                _ = try await hooks.create(
                    in: group, name: "Home Assistant", url: "http://192.168.1.20:8123/api/webhook/abc",
                    commandsOnly: false, by: mum)
            }
            let bad = try await browser.follow(
                try await browser.post("/admin/webhooks/allow", ["allow": "not a host!"]))
            #expect(bad.text.contains("is not an address, a network like 192.168.1.0/24, or a host name"))
            let allowed = try await browser.follow(
                try await browser.post("/admin/webhooks/allow", ["allow": "192.168.1.20\nhomeassistant.local"]))
            #expect(allowed.text.contains("Outgoing webhooks may call 192.168.1.20, homeassistant.local."))
            #expect(allowed.text.contains(">192.168.1.20\nhomeassistant.local</textarea>"))
            let made = try await hooks.create(
                in: group, name: "Home Assistant", url: "http://192.168.1.20:8123/api/webhook/abc",
                commandsOnly: true, by: mum)
            // Its deliveries, as the sender records them, in its log.
            try await env.services.database.write { store in
                try store.enqueueWebhookDelivery(hookID: made.hook.id, seq: 7, payload: Data("{}".utf8), now: 1_000)
                let id = try #require(try store.webhookDeliveries(hookID: made.hook.id, limit: 1).first).id
                try store.recordWebhookAttempt(
                    id: id, state: .failed, status: 404, latencyMs: 12, error: "Answered 404: no such webhook",
                    retryAt: nil, now: 2_000)
            }
            let rooms = try await browser.get("/admin/rooms").text
            #expect(
                rooms.contains("Home Assistant") && rooms.contains("192.168.1.20") && rooms.contains("commands (/…)"))
            #expect(rooms.contains("failed: Answered 404: no such webhook"))
            let log = try await browser.get("/admin/outgoing/\(made.hook.id)").text
            #expect(log.contains("#7") && log.contains("12 ms") && log.contains("Answered 404: no such webhook"))
            #expect(log.contains("http://192.168.1.20:8123/api/webhook/abc") && !log.contains(made.secret))
            // Removed from the panel, after asking.
            let asked = try await browser.get("/admin/outgoing/\(made.hook.id)/revoke").text
            #expect(asked.contains("Remove this outgoing webhook?"))
            let removed = try await browser.follow(
                try await browser.post("/admin/outgoing/\(made.hook.id)/revoke", [:]))
            #expect(
                removed.text.contains("Outgoing webhook “Home Assistant” removed.")
                    && removed.text.contains("No outgoing webhooks."))
            let sentences = try await browser.get("/admin/audit").text
            #expect(sentences.contains("added the outgoing webhook “Home Assistant → 192.168.1.20” to"))
            #expect(sentences.contains("removed the outgoing webhook “Home Assistant” of"))
            #expect(sentences.contains("private addresses webhooks may call"))
        }
    }

    @Test func callsShowOnlyAsCountsPerDay() async throws {
        try await withPanel { browser, env in
            _ = try await browser.signIn("mum")
            let today = Calls.day(env.services.now())
            try await env.services.database.write { store in
                try store.countCall(day: today, seconds: 400)
                try store.countCall(day: today, seconds: 200)
                try store.countCall(day: "2026-11-30", seconds: 0)
            }
            let dashboard = try await browser.get("/admin").text
            #expect(dashboard.contains("<h2>Calls</h2><p class=\"big\">2</p><p>ended today · 0 on now</p>"))
            let audit = try await browser.get("/admin/audit").text
            #expect(
                audit.contains(
                    "<td data-label=\"Day\">\(today)</td><td data-label=\"Calls\">2</td><td data-label=\"Minutes\">10</td>"
                ))
            #expect(audit.contains("2026-11-30") && audit.contains("who called whom"))
        }
    }

    @Test func aBackupKeyIsOfferedOnceAndBackupsRunFromThePanel() async throws {
        try await withPanel { browser, env in
            _ = try await browser.signIn("mum")
            let folder = env.directory.appending(path: "usb")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let noSchedule = try await browser.follow(try await browser.post("/admin/backups/run", [:]))
            #expect(noSchedule.text.contains("Create a backup key (step 1)"))
            let recipient = "age1eqa5v055memx93lyjm02ss2z07jhdj2pkg2putstuz96ecasz3vsj25hyk"
            let saved = try await browser.follow(
                try await browser.post(
                    "/admin/backups/schedule",
                    ["hours": "24", "directory": folder.path, "keep": "3", "recipients": recipient]))
            #expect(saved.text.contains("Schedule saved."))
            let key = try await browser.post("/admin/backups/key", [:])
            let token = try #require(
                key.text.range(of: "/admin/backups/key/").map { key.text[$0.upperBound...].prefix { $0 != "\"" } })
            let file = try await browser.get("/admin/backups/key/\(token)")
            #expect(file.status == .ok && file.text.contains("AGE-SECRET-KEY-1"))
            #expect(file.headers[.contentDisposition]?.contains("attachment") == true)
            #expect(try await browser.get("/admin/backups/key/\(token)").status == .notFound)
            // Not used until the admin shows they saved it: the last 4 characters of the key.
            #expect(try await env.services.backups.schedule()?.recipients.count == 1)
            let secret = try #require(file.text.split(separator: "\n").first { $0.hasPrefix("AGE-SECRET-KEY-1") })
            let wrong = try await browser.post(
                "/admin/backups/key/confirm",
                ["token": String(token), "ending": secret.hasSuffix("QQQQ") ? "PPPP" : "QQQQ"])
            #expect(wrong.text.contains("not the last 4 characters"))
            #expect(try await env.services.backups.schedule()?.recipients.count == 1)
            let confirmed = try await browser.follow(
                try await browser.post(
                    "/admin/backups/key/confirm", ["token": String(token), "ending": secret.suffix(4).lowercased()]))
            #expect(confirmed.text.contains("The key is saved"))
            #expect(try await env.services.backups.schedule()?.recipients.count == 2)
            let again = try await browser.follow(
                try await browser.post(
                    "/admin/backups/key/confirm", ["token": String(token), "ending": String(secret.suffix(4))]))
            #expect(again.text.contains("no longer waiting"))
            let ran = try await browser.follow(try await browser.post("/admin/backups/run", [:]))
            #expect(ran.text.contains("Backup written"))
            #expect(
                try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".age") }.count
                    == 1)
            #expect(try await browser.get("/admin").text.contains("manual"))
        }
    }

    @Test func theRemainingActionsWorkToo() async throws {
        try await withPanel { browser, env in
            _ = try await browser.signIn("mum")
            // Disable, then enable; mute, then unmute.
            _ = try await browser.post("/admin/users/kid/disable", [:])
            let enabled = try await browser.follow(try await browser.post("/admin/users/kid/enable", [:]))
            #expect(enabled.text.contains("Enabled kid."))
            #expect(try await env.accounts.user(named: "kid").disabled == false)
            _ = try await browser.post("/admin/users/kid/mute", ["minutes": "10"])
            #expect(try await browser.get("/admin/users/kid").text.contains("muted until"))
            _ = try await browser.post("/admin/users/kid/unmute", [:])
            #expect(try await env.accounts.user(named: "kid").mutedUntil == nil)
            // A sign-in link for a new device, with its QR code.
            let recovery = try await browser.post("/admin/users/kid/recovery", [:])
            #expect(recovery.text.contains("/link/") && recovery.text.contains("data:image/svg+xml;base64,"))
            // Sign out one of kid's devices, through the confirmation page.
            let phone = try await env.sessions.login(
                username: "kid", password: TestServices.password, deviceName: "Kid's phone", client: TestServices.home)
            #expect(try await browser.get("/admin/devices").text.contains("Kid&#39;s phone"))
            #expect(try await browser.get("/admin/devices/\(phone.device.id)/revoke").text.contains("Sign it out"))
            let revoked = try await browser.follow(
                try await browser.post("/admin/devices/\(phone.device.id)/revoke", [:]))
            #expect(revoked.text.contains("Device signed out."))
            await #expect(throws: ServiceError.unauthorized) {
                try await env.sessions.authenticate(token: phone.token, client: TestServices.home)
            }
            // Revoke an invite, through the confirmation page.
            let invite = try await env.invites.create()
            let id = invite.invite.id
            #expect(try await browser.get("/admin/invites/\(id)/revoke").text.contains("Revoke this invite?"))
            _ = try await browser.post("/admin/invites/\(id)/revoke", [:])
            #expect(try await env.invites.list().first?.revokedAt != nil)
            // Edit a rule, then delete it.
            _ = try await browser.post("/admin/rules", ["kind": "word", "pattern": "darn", "action": "flag"])
            let edited = try await browser.follow(
                try await browser.post("/admin/rules/1", ["kind": "link", "pattern": "example.com", "action": "hold"]))
            #expect(edited.text.contains("Rule #1 saved"))
            #expect(try await env.services.moderation.rule(id: 1).kind == .link)
            _ = try await browser.post("/admin/rules/1/delete", [:])
            #expect(try await env.services.moderation.rules().isEmpty)
            // Turn scheduled backups off.
            let folder = env.directory.appending(path: "usb")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            _ = try await browser.post(
                "/admin/backups/schedule",
                [
                    "hours": "12", "directory": folder.path, "keep": "2",
                    "recipients": "age1eqa5v055memx93lyjm02ss2z07jhdj2pkg2putstuz96ecasz3vsj25hyk",
                ])
            #expect(try await env.services.backups.schedule()?.keep == 2)
            _ = try await browser.post("/admin/backups/schedule/off", [:])
            #expect(try await env.services.backups.schedule() == nil)
            let actions = try await browser.get("/admin/audit?actor=mum").text
            for action in [
                "user_enabled", "user_unmuted", "recovery_link_created", "device_revoked", "invite_revoked",
                "rule_updated", "rule_deleted",
            ] {
                #expect(actions.contains(action), "\(action)")
            }
        }
    }

    @Test func aBusySessionEndsTwelveHoursAfterSignIn() async throws {
        try await withPanel { browser, env in
            _ = try await browser.signIn("mum")
            for _ in 0..<36 {  // a request every 20 minutes: never idle
                env.clock.advance(20 * 60)
                #expect(try await browser.get("/admin/users").status == .ok)
            }
            env.clock.advance(20 * 60)  // 12 h 20 min after signing in
            let page = try await browser.get("/admin")
            #expect(page.text.contains("signed out 12 h after signing in"))
            #expect(try await browser.get("/admin/users").status == .seeOther)
        }
    }

    @Test func anIdleSessionEnds() async throws {
        try await withPanel { browser, env in
            _ = try await browser.signIn("mum")
            #expect(try await browser.get("/admin/users").status == .ok)
            env.clock.advance(31 * 60)
            let page = try await browser.get("/admin")
            #expect(page.text.contains("signed out after 30 min without activity"))
            #expect(try await browser.get("/admin/users").status == .seeOther)
            // Signing out from the panel ends the session too.
            _ = try await browser.signIn("mum")
            _ = try await browser.post("/admin/logout", [:])
            #expect(try await browser.get("/admin/users").status == .seeOther)
        }
    }
}

extension APIResponse {
    var text: String { String(decoding: body, as: UTF8.self) }
}
