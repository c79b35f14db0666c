import Foundation
import HearthTestSupport
import Services
import Storage
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Moderation over a live server: rules on real sockets, the review queue, reports, mutes and the audit log.
@Suite struct ModerationTests {
    /// Mum is the admin, Moe a moderator; Kid and Dad share a group room and have sockets.
    struct Household {
        let family: Family
        let mum: String
        let mo: String
        let kidToken: String
        let dadToken: String
        let kid: TestSocket
        let dad: TestSocket
        let room: Int64

        func rule(
            _ kind: String, _ pattern: String, _ action: String, extra: [String: Any] = [:]
        ) async throws
            -> Int
        {
            let created = try await family.call(
                "POST", "/api/v1/admin/rules",
                json: ["kind": kind, "pattern": pattern, "action": action].merging(extra) { $1 }, token: mum)
            #expect(created.status == 201, "\(created.json)")
            return try #require((created.json["rule"] as? [String: Any])?["id"] as? Int)
        }

        func deleteRule(_ id: Int) async throws {
            #expect(try await family.call("DELETE", "/api/v1/admin/rules/\(id)", token: mum).status == 204)
        }

        /// Sends from Kid's socket; returns the ack or error frame.
        func send(
            _ body: String, id: String = UUID().uuidString, attachments: [String] = []
        ) async throws
            -> [String: Any]
        {
            var frame: [String: Any] = ["type": "send", "id": id, "room": room, "body": body]
            if !attachments.isEmpty { frame["attachments"] = attachments }
            try await kid.send(frame)
            while true {
                let reply = try await kid.next()
                if reply["id"] as? String == id, ["ack", "error"].contains(reply["type"] as? String) { return reply }
            }
        }

        /// The next message Dad receives: after a refused or held send, the marker proves nothing came before it.
        func dadReceives() async throws -> String? {
            try await dad.next("message")["body"] as? String
        }

        /// Sends a harmless message and checks it is the next one Dad receives: nothing refused
        /// or held slipped through before it.
        func expectNothingElseReachedDad(_ label: String = "") async throws {
            let text = "marker \(UUID().uuidString.prefix(8))"
            let ack = try await send(text)
            #expect(ack["type"] as? String == "ack")
            #expect(try await dadReceives() == text, "\(label)")
        }

        func queue(decided: Bool = false) async throws -> [[String: Any]] {
            let answer = try await family.call("GET", "/api/v1/admin/queue\(decided ? "?decided=true" : "")", token: mo)
            #expect(answer.status == 200)
            return answer.json["items"] as? [[String: Any]] ?? []
        }

        func audit(_ query: String) async throws -> [[String: Any]] {
            let answer = try await family.call("GET", "/api/v1/admin/audit?\(query)", token: mum)
            #expect(answer.status == 200)
            return answer.json["entries"] as? [[String: Any]] ?? []
        }

        func upload(_ text: String) async throws -> String {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(family.port)/api/v1/attachments")!)
            request.httpMethod = "POST"
            request.setValue("text/plain", forHTTPHeaderField: "Content-Type")
            request.setValue("Bearer \(kidToken)", forHTTPHeaderField: "Authorization")
            let (body, _) = try await URLSession.shared.upload(for: request, from: Data(text.utf8))
            let json = try JSONSerialization.jsonObject(with: body) as? [String: Any]
            return try #require((json?["attachment"] as? [String: Any])?["id"] as? String)
        }
    }

    func withHousehold(_ body: @escaping @Sendable (Household) async throws -> Void) async throws {
        try await withLiveApp { family in
            let mum = try await family.signIn("mum", role: .admin)
            let mo = try await family.signIn("moe", role: .moderator)
            let kidToken = try await family.signIn("kid")
            let dadToken = try await family.signIn("dad")
            let room = try await family.group("Kitchen", owner: "mum", members: ["kid", "dad"])
            let household = Household(
                family: family, mum: mum, mo: mo, kidToken: kidToken, dadToken: dadToken,
                kid: try await family.socket(kidToken), dad: try await family.socket(dadToken), room: room)
            try await body(household)
            await household.kid.close()
            await household.dad.close()
        }
    }

    static let errorCode = Family.errorCode

    @Test func everyKindWithEveryActionOverRealSockets() async throws {
        try await withHousehold { home in
            let attachment = { try await home.upload("shopping list") }
            // kind, pattern, a message that triggers it, and whether it goes with an attachment.
            let kinds: [(String, String, String, Bool)] = [
                ("word", "darn", "oh DARN it", false),
                ("regex", "fr[e3]{2}\\s+money", "get FR3E money", false),
                ("link", "spam.example", "see https://win.spam.example/now", false),
                ("attachment_type", "text/*", "the list", true),
                ("rate", "2/60s", "third in a minute", false),
            ]
            for (kind, pattern, trigger, withFile) in kinds {
                for action in ["block", "mask", "hold", "flag"] {
                    if action == "mask", kind == "attachment_type" || kind == "rate" { continue }
                    let rule = try await home.rule(kind, pattern, action, extra: ["message": "Not here, please."])
                    if kind == "rate" {
                        _ = try await home.send("one")
                        _ = try await home.send("two")
                        #expect(try await home.dadReceives() == "one")
                        #expect(try await home.dadReceives() == "two")
                    }
                    let files = withFile ? [try await attachment()] : []
                    let reply = try await home.send(trigger, attachments: files)
                    let label = "\(kind) \(action)"
                    switch action {
                    case "block":
                        #expect(reply["type"] as? String == "error", "\(label)")
                        #expect(
                            reply["code"] as? String == (kind == "rate" ? "rate_limited" : "blocked_by_rule"),
                            "\(label)")
                        if kind != "rate" { #expect(reply["message"] as? String == "Not here, please.") }
                        try await home.deleteRule(rule)
                        try await home.expectNothingElseReachedDad(label)
                    case "mask":
                        #expect(reply["type"] as? String == "ack")
                        let masked = try #require(reply["body"] as? String, "\(label)")
                        #expect(masked.contains("***") && !masked.lowercased().contains("darn"), "\(label)")
                        #expect(try await home.dadReceives() == masked, "\(label)")
                        try await home.deleteRule(rule)
                    case "hold":
                        #expect(reply["type"] as? String == "ack" && reply["held"] as? Bool == true, "\(label)")
                        try await home.deleteRule(rule)
                        try await home.expectNothingElseReachedDad(label)
                        let item = try #require(try await home.queue().first, "\(label)")
                        #expect(item["reason"] as? String == "held")
                        #expect(
                            try await home.family.call(
                                "POST", "/api/v1/admin/queue/\(item["id"] as? Int ?? 0)/delete", token: home.mo
                            ).status == 204)
                    default:
                        #expect(reply["type"] as? String == "ack" && reply["held"] == nil, "\(label)")
                        #expect(try await home.dadReceives() == trigger, "\(label)")
                        let item = try #require(try await home.queue().first, "\(label)")
                        #expect(item["reason"] as? String == "flagged")
                        #expect((item["rules"] as? [String])?.first?.contains(kind) == true)
                        #expect(
                            try await home.family.call(
                                "POST", "/api/v1/admin/queue/\(item["id"] as? Int ?? 0)/dismiss", token: home.mo
                            ).status == 204)
                        try await home.deleteRule(rule)
                    }
                    #expect(try await home.queue().isEmpty, "\(label)")
                }
            }
            // Every rule hit went to the audit log.
            #expect(try await home.audit("action=rule_hit&limit=200").count >= 17)
        }
    }

    @Test func theStrictestActionWinsAndEveryMatchIsLogged() async throws {
        try await withHousehold { home in
            _ = try await home.rule("word", "darn", "mask")
            _ = try await home.rule("word", "darn", "flag")
            let hold = try await home.rule("link", "*", "hold")
            let reply = try await home.send("darn, see www.example.org")
            #expect(reply["held"] as? Bool == true)
            #expect(reply["body"] as? String == "***, see www.example.org")
            let hits = try await home.audit("action=rule_hit")
            #expect(hits.count == 3)
            #expect(hits.allSatisfy { ($0["detail"] as? String)?.hasSuffix("message hold") == true })
            let item = try #require(try await home.queue().first)
            #expect((item["rules"] as? [String])?.count == 3)
            // A block beats everything: nothing is stored.
            _ = try await home.rule("regex", "example\\.org", "block")
            #expect(try await home.send("darn, see www.example.org")["code"] as? String == "blocked_by_rule")
            try await home.deleteRule(hold)
            try await home.expectNothingElseReachedDad()
        }
    }

    @Test func aHeldMessageReachesAnAlreadySyncedDeviceOnceApproved() async throws {
        try await withHousehold { home in
            _ = try await home.rule("word", "party", "hold")
            let held = try await home.send("party at ours?")
            let heldSeq = try #require(held["seq"] as? Int)
            // Dad's phone gets a later message and syncs past the held message's place: it is not there.
            _ = try await home.send("later")
            #expect(try await home.dadReceives() == "later")
            try await home.dad.send(["type": "sync", "after": 0])
            let head = try #require(try await home.dad.next("synced")["seq"] as? Int)
            #expect(head >= heldSeq)
            #expect(!home.dad.pending.contains { $0.contains("party") })
            let history = try await home.family.call("GET", "/api/v1/rooms/\(home.room)/messages", token: home.dadToken)
            #expect((history.json["messages"] as? [[String: Any]])?.map { $0["body"] as? String } == ["later"])
            // Held messages are invisible to members, reports included.
            let messageID = try #require(try await home.queue().first?["message"] as? [String: Any])["id"] as? Int
            let report = try await home.family.call(
                "POST", "/api/v1/reports", json: ["messageId": messageID ?? 0, "reason": "?"], token: home.dadToken)
            #expect(report.status == 404)

            let item = try #require(try await home.queue().first)
            let dismiss = try await home.family.call(
                "POST", "/api/v1/admin/queue/\(item["id"] as? Int ?? 0)/dismiss", token: home.mo)
            #expect(dismiss.status == 409)
            #expect(Self.errorCode(dismiss.json) == "invalid_decision")
            let approve = try await home.family.call(
                "POST", "/api/v1/admin/queue/\(item["id"] as? Int ?? 0)/approve", json: ["note": "fine"], token: home.mo
            )
            #expect(approve.status == 204)
            // The synced device gets it live, at a new seq past its cursor; so does a device that syncs later.
            let live = try await home.dad.next("message")
            #expect(live["body"] as? String == "party at ours?")
            // The same message the held ack named: its sender's devices replace the held one.
            #expect(live["id"] as? Int == held["messageId"] as? Int && live["id"] != nil)
            let newSeq = try #require(live["seq"] as? Int)
            #expect(newSeq > head)
            let later = try await home.family.socket(try await home.family.signIn("dad", device: "tablet"))
            try await later.send(["type": "sync", "after": head])
            #expect(try await later.next("message")["seq"] as? Int == newSeq)
            await later.close()
            // Deciding twice is refused; the decision is in the audit log with its note.
            let again = try await home.family.call(
                "POST", "/api/v1/admin/queue/\(item["id"] as? Int ?? 0)/approve", token: home.mo)
            #expect(again.status == 409)
            let approved = try #require(try await home.audit("action=message_approved").first)
            #expect(approved["actor"] as? String == "moe" && approved["detail"] as? String == "fine")
            #expect(try await home.queue(decided: true).first?["state"] as? String == "approved")
            // A held message deleted is gone altogether, but its decision stays, with who sent it where.
            _ = try await home.send("party again?")
            let second = try #require(try await home.queue().first)
            let deleted = try await home.family.call(
                "POST", "/api/v1/admin/queue/\(second["id"] as? Int ?? 0)/delete", token: home.mo)
            #expect(deleted.status == 204)
            let gone = try #require(try await home.queue(decided: true).first)
            #expect(gone["state"] as? String == "deleted" && gone["roomName"] as? String != nil)
            let sender = (gone["message"] as? [String: Any])?["from"] as? [String: Any]
            #expect(sender?["username"] as? String == "kid")
        }
    }

    @Test func reportsQueueTheMessageAndDeletingReachesConnectedClients() async throws {
        try await withHousehold { home in
            _ = try await home.send("before")
            let rude = try await home.send("you are rude")
            _ = try await home.send("after")
            for expected in ["before", "you are rude", "after"] { #expect(try await home.dadReceives() == expected) }
            let messageID =
                try await home.family.call(
                    "GET", "/api/v1/rooms/\(home.room)/messages", token: home.dadToken
                ).json["messages"].flatMap {
                    ($0 as? [[String: Any]])?.first { $0["body"] as? String == "you are rude" }
                }?[
                    "id"] as? Int
            let report = ["messageId": messageID ?? 0, "reason": "Not nice to me"] as [String: Any]
            #expect(
                try await home.family.call("POST", "/api/v1/reports", json: report, token: home.dadToken).status == 201)
            let twice = try await home.family.call("POST", "/api/v1/reports", json: report, token: home.dadToken)
            #expect(twice.status == 409)
            #expect(Self.errorCode(twice.json) == "already_reported")
            // Someone outside the room cannot report it, or learn it exists.
            let stranger = try await home.family.signIn("stranger")
            #expect(try await home.family.call("POST", "/api/v1/reports", json: report, token: stranger).status == 404)
            let empty = try await home.family.call(
                "POST", "/api/v1/reports", json: ["messageId": messageID ?? 0, "reason": "  "], token: home.dadToken)
            #expect(Self.errorCode(empty.json) == "invalid_field")

            let item = try #require(try await home.queue().first)
            #expect(item["reason"] as? String == "reported")
            #expect((item["reports"] as? [[String: Any]])?.first?["by"] as? String == "dad")
            #expect((item["before"] as? [[String: Any]])?.map { $0["body"] as? String } == ["before"])
            #expect((item["after"] as? [[String: Any]])?.map { $0["body"] as? String } == ["after"])
            let delete = try await home.family.call(
                "POST", "/api/v1/admin/queue/\(item["id"] as? Int ?? 0)/delete", json: ["note": "rude"], token: home.mo)
            #expect(delete.status == 204)
            for socket in [home.dad, home.kid] {
                let deleted = try await socket.next("deleted")
                #expect(deleted["seq"] as? Int == rude["seq"] as? Int && deleted["room"] as? Int == Int(home.room))
                #expect((deleted["eventSeq"] as? Int ?? 0) > (rude["seq"] as? Int ?? 0))
            }
            // Deleted for everyone, as a member's own deletion: the text is gone, the place stays.
            let history = try await home.family.call("GET", "/api/v1/rooms/\(home.room)/messages", token: home.dadToken)
            let messages = try #require(history.json["messages"] as? [[String: Any]])
            #expect(messages.map { $0["body"] as? String } == ["after", "", "before"])
            #expect(messages[1]["deleted"] as? Bool == true)
            #expect(try await home.queue().isEmpty)
            // The decision stays in the queue's history, the message shown deleted, without its text.
            let decided = try #require(try await home.queue(decided: true).first)
            #expect(decided["state"] as? String == "deleted")
            #expect((decided["message"] as? [String: Any])?["deleted"] as? Bool == true)
            #expect((decided["message"] as? [String: Any])?["body"] as? String == "")
            #expect(try await home.audit("action=message_reported").first?["actor"] as? String == "dad")
            #expect(try await home.audit("action=message_deleted").first?["detail"] as? String == "rude")
        }
    }

    @Test func aMuteRefusesSendsUntilItExpires() async throws {
        try await withHousehold { home in
            let mute = try await home.family.call(
                "POST", "/api/v1/admin/users/kid/mute", json: ["minutes": 5, "reason": "cool off"], token: home.mo)
            #expect(mute.status == 200)
            let refused = try await home.send("let me talk")
            #expect(refused["code"] as? String == "muted")
            // When it ends travels as a time, for the client to say in the reader's own zone.
            #expect(
                (refused["until"] as? Int).map(Int64.init) == Int64(
                    (home.family.env.clock.now.timeIntervalSince1970 * 1000).rounded()) + 300_000)
            #expect(!(refused["message"] as? String ?? "").contains("T0"))
            home.family.env.clock.advance(301)
            #expect(try await home.send("sorry")["type"] as? String == "ack")
            #expect(try await home.dadReceives() == "sorry")
            // Unmuting ends a mute early; moderators cannot mute admins, moderators or themselves.
            _ = try await home.family.call(
                "POST", "/api/v1/admin/users/kid/mute", json: ["minutes": 60], token: home.mo)
            #expect(try await home.send("x")["code"] as? String == "muted")
            #expect(try await home.family.call("DELETE", "/api/v1/admin/users/kid/mute", token: home.mo).status == 204)
            #expect(try await home.send("back")["type"] as? String == "ack")
            let admin = try await home.family.call(
                "POST", "/api/v1/admin/users/mum/mute", json: ["minutes": 5], token: home.mo)
            #expect(admin.status == 403)
            let tooLong = try await home.family.call(
                "POST", "/api/v1/admin/users/kid/mute", json: ["minutes": 60 * 24 * 365], token: home.mo)
            #expect(Self.errorCode(tooLong.json) == "invalid_field")
            #expect(try await home.audit("action=user_muted").count == 2)
            #expect(try await home.audit("action=user_unmuted").count == 1)
            // Disabling from the queue closes the account's sockets at once.
            let disable = try await home.family.call(
                "POST", "/api/v1/admin/users/kid/disable", json: ["reason": "spam"], token: home.mo)
            #expect(disable.status == 204)
            #expect(try await home.kid.closeCode() != nil)
            #expect(try await home.audit("action=user_disabled").first?["detail"] as? String == "spam")
        }
    }

    @Test func membersAndModeratorsAreKeptToTheirRoles() async throws {
        try await withHousehold { home in
            let adminRoutes: [(String, String)] = [
                ("GET", "/api/v1/admin/rules"), ("POST", "/api/v1/admin/rules"), ("GET", "/api/v1/admin/rules/1"),
                ("PUT", "/api/v1/admin/rules/1"), ("DELETE", "/api/v1/admin/rules/1"),
                ("POST", "/api/v1/admin/rules/test"), ("GET", "/api/v1/admin/audit"),
                ("POST", "/api/v1/admin/users/kid/enable"), ("PUT", "/api/v1/admin/users/kid/role"),
            ]
            let moderatorRoutes: [(String, String)] = [
                ("GET", "/api/v1/admin/queue"), ("POST", "/api/v1/admin/queue/1/approve"),
                ("GET", "/api/v1/admin/users"), ("POST", "/api/v1/admin/users/dad/mute"),
                ("DELETE", "/api/v1/admin/users/dad/mute"), ("POST", "/api/v1/admin/users/dad/disable"),
            ]
            for (method, path) in adminRoutes + moderatorRoutes {
                let answer = try await home.family.call(method, path, json: [:], token: home.kidToken)
                #expect(answer.status == 403, "\(method) \(path)")
                #expect(Self.errorCode(answer.json) == "forbidden")
            }
            for (method, path) in adminRoutes {
                #expect(try await home.family.call(method, path, json: [:], token: home.mo).status == 403)
            }
            #expect(try await home.family.call("GET", "/api/v1/admin/queue").status == 401)
        }
    }

    @Test func badRulesGetInvalidRuleAndNothingIsSaved() async throws {
        try await withHousehold { home in
            let bad: [[String: Any]] = [
                ["kind": "regex", "pattern": "(?<!not )spam", "action": "block"],
                ["kind": "regex", "pattern": "(x)\\1", "action": "block"],
                ["kind": "regex", "pattern": "[unclosed", "action": "block"],
                ["kind": "sentiment", "pattern": "angry", "action": "block"],
                ["kind": "word", "pattern": "darn", "action": "shout"],
                ["kind": "word", "pattern": "", "action": "block"],
                ["kind": "rate", "pattern": "0/60s", "action": "block"],
                ["kind": "word", "pattern": "darn", "action": "block", "scope": 9999],
            ]
            for rule in bad {
                let answer = try await home.family.call("POST", "/api/v1/admin/rules", json: rule, token: home.mum)
                #expect(answer.status == 400, "\(rule)")
                #expect(Self.errorCode(answer.json) == "invalid_rule", "\(rule)")
            }
            let wrongType = try await home.family.call(
                "POST", "/api/v1/admin/rules", json: ["kind": 1, "pattern": "x", "action": "block"], token: home.mum)
            #expect(Self.errorCode(wrongType.json) == "invalid_field")
            let rules = try await home.family.call("GET", "/api/v1/admin/rules", token: home.mum)
            #expect((rules.json["rules"] as? [Any])?.isEmpty == true)
            #expect(try await home.audit("action=rule_").isEmpty)
        }
    }

    @Test func aDryRunSaysWhatWouldHappen() async throws {
        try await withHousehold { home in
            _ = try await home.rule("word", "heck", "mask")
            _ = try await home.rule("attachment_type", "video/*", "hold")
            let masked = try await home.family.call(
                "POST", "/api/v1/admin/rules/test", json: ["body": "What the HECK"], token: home.mum)
            #expect(masked.json["outcome"] as? String == "masked")
            #expect(masked.json["body"] as? String == "What the ***")
            #expect((masked.json["matched"] as? [[String: Any]])?.first?["kind"] as? String == "word")
            let held = try await home.family.call(
                "POST", "/api/v1/admin/rules/test", json: ["body": "clip", "attachmentTypes": ["video/mp4"]],
                token: home.mum)
            #expect(held.json["outcome"] as? String == "held")
            let clean = try await home.family.call(
                "POST", "/api/v1/admin/rules/test", json: ["body": "hello"], token: home.mum)
            #expect(clean.json["outcome"] as? String == "delivered")
            #expect((clean.json["matched"] as? [Any])?.isEmpty == true)
            // Updating a rule changes what the running matcher does at once.
            let rules = try await home.family.call("GET", "/api/v1/admin/rules", token: home.mum)
            let id = try #require((rules.json["rules"] as? [[String: Any]])?.first?["id"] as? Int)
            let update = try await home.family.call(
                "PUT", "/api/v1/admin/rules/\(id)", json: ["kind": "word", "pattern": "heck", "action": "block"],
                token: home.mum)
            #expect(update.status == 200)
            #expect(try await home.send("heck")["code"] as? String == "blocked_by_rule")
        }
    }

    @Test func everyAdminChangeLeavesAnAuditRow() async throws {
        try await withHousehold { home in
            let env = home.family.env
            let mum = try await env.accounts.user(named: "mum")
            let actor = AuditActor(user: mum, ip: "192.168.1.2")
            _ = try await env.accounts.createUser(username: "gran", password: TestServices.password, role: .member)
            try await env.accounts.resetPassword(username: "gran", password: "another long password", by: actor)
            try await env.accounts.setRole(username: "gran", to: .moderator, by: actor)
            try await env.accounts.disable(username: "gran", by: actor)
            try await env.accounts.enable(username: "gran", by: actor)
            try await env.accounts.delete(username: "gran", by: actor)
            let invite = try await env.invites.create(by: actor)
            try await env.invites.revoke(code: invite.code, by: actor)
            try await env.registration.setMode(.closed, by: actor)
            let rule = try await home.rule("word", "darn", "flag")
            _ = try await home.family.call(
                "PUT", "/api/v1/admin/rules/\(rule)", json: ["kind": "word", "pattern": "darn", "action": "mask"],
                token: home.mum)
            try await home.deleteRule(rule)
            let role = try await home.family.call(
                "PUT", "/api/v1/admin/users/dad/role", json: ["role": "moderator"], token: home.mum)
            #expect(role.status == 204)
            let lastAdmin = try await home.family.call(
                "PUT", "/api/v1/admin/users/mum/role", json: ["role": "member"], token: home.mum)
            #expect(Self.errorCode(lastAdmin.json) == "invalid_field")

            let actions = try await home.audit("limit=200").compactMap { $0["action"] as? String }
            for action in [
                "user_created", "password_reset", "role_changed", "user_disabled", "user_enabled", "user_deleted",
                "invite_created", "invite_revoked", "setting_changed", "rule_created", "rule_updated", "rule_deleted",
            ] {
                #expect(actions.contains(action), "\(action)")
            }
            // Filters and paging.
            let byMum = try await home.audit("actor=mum&limit=3")
            #expect(byMum.count == 3 && byMum.allSatisfy { $0["actor"] as? String == "mum" })
            let page = try await home.family.call("GET", "/api/v1/admin/audit?actor=mum&limit=3", token: home.mum)
            let next = try #require(page.json["next"] as? Int)
            let older = try await home.audit("actor=mum&before=\(next)")
            #expect(older.allSatisfy { ($0["id"] as? Int ?? .max) < next })
            #expect(try await home.audit("target=gran").count >= 6)
            #expect(try await home.audit("action=role_changed").first?["ip"] as? String != nil)
        }
    }
}
