import Foundation
import HearthTestSupport
import Services
import Storage
import Testing

@testable import Web

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Incoming webhooks over a live server: made by a group's admins, posted to in the formats
/// tools send, screened by the rules like anyone's messages, limited, revoked.
@Suite struct WebhookTests {
    /// POSTs raw `body` with `headers` to `url`: the status and the decoded object.
    func post(_ url: String, _ body: String, headers: [String: String]) async throws -> (Int, [String: Any]) {
        try await post(url, Data(body.utf8), headers: headers)
    }

    func post(_ url: String, _ body: Data, headers: [String: String]) async throws -> (Int, [String: Any]) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.upload(for: request, from: body)
        return (
            (response as? HTTPURLResponse)?.statusCode ?? 0,
            (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
        )
    }

    @Test func aDoorbellPostsIntoTheFamilyGroup() async throws {
        try await withLiveApp { family in
            let mum = try await family.signIn("mum", role: .admin)
            let dad = try await family.signIn("dad")
            _ = try await family.signIn("kid")
            let room = try await family.group("Family", owner: "dad", members: ["mum", "kid"])
            let kidToken = try await family.signIn("kid")
            let dadSocket = try await family.socket(dad)

            // Only the group's admins (dad made it) and server admins make webhooks.
            let refused = try await family.call(
                "POST", "/api/v1/rooms/\(room)/webhooks", json: ["name": "Doorbell"], token: kidToken)
            #expect(refused.status == 403 && Family.errorCode(refused.json) == "forbidden")
            // Its picture: one of dad's own uploaded images, checked as a profile's is.
            let text = try await family.upload(Data("not a picture\n".utf8), type: "text/plain", token: dad)
            let textID = try #require((text.json["attachment"] as? [String: Any])?["id"] as? String)
            let notAPicture = try await family.call(
                "POST", "/api/v1/rooms/\(room)/webhooks", json: ["name": "Doorbell", "avatar": textID], token: dad)
            #expect(notAPicture.status == 400 && Family.errorCode(notAPicture.json) == "invalid_field")
            let picture = try await family.upload(AttachmentTests.png, type: "image/png", token: dad)
            let pictureID = try #require((picture.json["attachment"] as? [String: Any])?["id"] as? String)
            let made = try await family.call(
                "POST", "/api/v1/rooms/\(room)/webhooks", json: ["name": "Doorbell", "avatar": pictureID], token: dad)
            #expect(made.status == 201, "\(made.json)")
            let url = try #require(made.json["url"] as? String)
            let hook = try #require(made.json["webhook"] as? [String: Any])
            #expect(made.json["id"] as? Int == hook["id"] as? Int && made.json["id"] != nil)
            let bot = try #require(hook["username"] as? String)
            #expect(url.contains("/api/v1/hooks/") && bot.hasPrefix("hook-"))
            let local =
                "http://127.0.0.1:\(family.port)"
                + (url.components(separatedBy: "/api/v1").last.map { "/api/v1" + $0 } ?? "")
            // Its bot joins the room, named after it and marked as a bot.
            let roomFrame = try await dadSocket.next("room")
            let members = (roomFrame["room"] as? [String: Any])?["members"] as? [[String: Any]] ?? []
            let member = try #require(members.first { $0["username"] as? String == bot })
            #expect(member["displayName"] as? String == "Doorbell" && member["bot"] as? Bool == true)
            #expect(member["avatar"] as? String == pictureID)

            // Slack's JSON, Apprise's, and plain text with a title: each a message from the bot.
            let formats: [(String, [String: String], String)] = [
                (
                    #"{"text": "Someone is at the door", "username": "ignored"}"#, ["Content-Type": "application/json"],
                    "Someone is at the door"
                ),
                (
                    #"{"version": "1.0", "title": "Backup", "message": "Nightly backup done", "type": "success"}"#,
                    ["Content-Type": "application/json"], "✅ Backup\nNightly backup done"
                ),
                (
                    "Washing machine finished", ["Content-Type": "text/plain", "Title": "Laundry"],
                    "Laundry\nWashing machine finished"
                ),
                ("plain curl -d text", ["Content-Type": "application/x-www-form-urlencoded"], "plain curl -d text"),
            ]
            for (body, headers, expected) in formats {
                let (status, answer) = try await post(local, body, headers: headers)
                #expect(status == 200 && answer["ok"] as? Bool == true, "\(answer)")
                let message = try await dadSocket.next("message")
                #expect(message["body"] as? String == expected)
                #expect((message["from"] as? [String: Any])?["username"] as? String == bot)
            }

            // Bad input: a sentence each, nothing posted.
            let bad: [(String, [String: String], Int, String)] = [
                ("   ", ["Content-Type": "text/plain"], 400, "invalid_field"),
                (#"{"text": "cut\u0000here"}"#, ["Content-Type": "application/json"], 400, "invalid_field"),
                (#"{"color": "red"}"#, ["Content-Type": "application/json"], 400, "invalid_field"),
                ("{not json", ["Content-Type": "application/json"], 400, "invalid_field"),
                (String(repeating: "x", count: 70_000), ["Content-Type": "text/plain"], 400, "invalid_field"),
                ("--b\r\n", ["Content-Type": "multipart/form-data; boundary=b"], 400, "invalid_field"),
                ("--b--\r\n", ["Content-Type": "multipart/form-data"], 400, "invalid_field"),
            ]
            for (body, headers, status, code) in bad {
                let (got, answer) = try await post(local, body, headers: headers)
                #expect(got == status && Family.errorCode(answer) == code, "\(body.prefix(20)): \(answer)")
            }
            // A wrong secret is a 404 whatever the body: nothing says a room exists.
            let (wrong, _) = try await post(
                "http://127.0.0.1:\(family.port)/api/v1/hooks/" + String(repeating: "A", count: 43), "hi",
                headers: ["Content-Type": "text/plain"])
            #expect(wrong == 404)

            // The rules screen it like anyone: a blocked word is refused, a held one waits.
            for (pattern, action) in [("burglar", "block"), ("parcel", "hold")] {
                let rule = try await family.call(
                    "POST", "/api/v1/admin/rules", json: ["kind": "word", "pattern": pattern, "action": action],
                    token: mum)
                #expect(rule.status == 201)
            }
            let (blocked, blockedAnswer) = try await post(
                local, "a burglar!", headers: ["Content-Type": "text/plain"])
            #expect(blocked == 403 && Family.errorCode(blockedAnswer) == "blocked_by_rule")
            let (held, heldAnswer) = try await post(local, "parcel arrived", headers: ["Content-Type": "text/plain"])
            #expect(held == 200 && heldAnswer["held"] as? Bool == true)

            // Listed for members; renamed; revoked: the URL then gets 404 and the bot leaves.
            let listed = try await family.call("GET", "/api/v1/rooms/\(room)/webhooks", token: kidToken)
            #expect((listed.json["webhooks"] as? [[String: Any]])?.first?["name"] as? String == "Doorbell")
            let id = try #require(hook["id"] as? Int)
            let renamed = try await family.call(
                "PATCH", "/api/v1/rooms/\(room)/webhooks/\(id)", json: ["name": "Front door"], token: mum)
            #expect((renamed.json["webhook"] as? [String: Any])?["name"] as? String == "Front door")
            #expect(try await family.call("DELETE", "/api/v1/rooms/\(room)/webhooks/\(id)", token: dad).status == 204)
            let (gone, _) = try await post(local, "still there?", headers: ["Content-Type": "text/plain"])
            #expect(gone == 404)
            let after = try await family.call("GET", "/api/v1/rooms/\(room)/webhooks", token: dad)
            #expect((after.json["webhooks"] as? [Any])?.isEmpty == true)
            await dadSocket.close()
        }
    }

    @Test func eachWebhookHasItsOwnRate() async throws {
        try await withLiveApp({ configuration in
            configuration.limits.webhookMessagesPerMinute = 2
        }) { family in
            let mum = try await family.signIn("mum")
            _ = try await family.signIn("dad")
            let room = try await family.group("Home", owner: "mum", members: ["dad"])
            let made = try await family.call(
                "POST", "/api/v1/rooms/\(room)/webhooks", json: ["name": "Monitor"], token: mum)
            let url = try #require(made.json["url"] as? String)
            let local = "http://127.0.0.1:\(family.port)/api/v1" + (url.components(separatedBy: "/api/v1").last ?? "")
            var statuses: [Int] = []
            for n in 0..<3 {
                statuses.append(try await post(local, "ping \(n)", headers: ["Content-Type": "text/plain"]).0)
            }
            #expect(statuses == [200, 200, 429])
        }
    }

    /// A `multipart/form-data` body of `fields` and `files` (name, file name, type, bytes).
    static func form(_ fields: [(String, String)], files: [(String, String, String?, Data)]) -> (Data, String) {
        let boundary = "hearth-test-\(UUID().uuidString)"
        var body = Data()
        for (name, value) in fields {
            body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        for (name, filename, type, data) in files {
            body += Data(
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\n".utf8)
            if let type { body += Data("Content-Type: \(type)\r\n".utf8) }
            body += Data("\r\n".utf8) + data + Data("\r\n".utf8)
        }
        body += Data("--\(boundary)--\r\n".utf8)
        return (body, "multipart/form-data; boundary=\(boundary)")
    }

    @Test func aCameraPostsAPhotoThroughItsWebhook() async throws {
        try await withLiveApp({ configuration in
            configuration.limits.attachmentMaxBytes = 600 * 1024
        }) { family in
            let mum = try await family.signIn("mum")
            let dad = try await family.signIn("dad")
            let room = try await family.group("Home", owner: "mum", members: ["dad"])
            let made = try await family.call(
                "POST", "/api/v1/rooms/\(room)/webhooks", json: ["name": "Garden camera"], token: mum)
            let url = try #require(made.json["url"] as? String)
            let local = "http://127.0.0.1:\(family.port)/api/v1" + (url.components(separatedBy: "/api/v1").last ?? "")
            let dadSocket = try await family.socket(dad)

            // A photo with a caption (curl -F file=@… -F text=…), sent in small pieces the reader joins.
            let big = AttachmentTests.png + Data(repeating: 0, count: 300 * 1024)
            let (body, type) = Self.form([("text", "Fox on the lawn")], files: [("file", "fox.png", "image/png", big)])
            let (status, answer) = try await post(local, body, headers: ["Content-Type": type])
            #expect(status == 200 && answer["ok"] as? Bool == true, "\(answer)")
            var message = try await dadSocket.next("message")
            #expect(message["body"] as? String == "Fox on the lawn")
            var files = message["attachments"] as? [[String: Any]] ?? []
            #expect(files.count == 1 && files.first?["contentType"] as? String == "image/png")
            #expect(files.first?["name"] as? String == "fox.png" && files.first?["size"] as? Int == big.count)
            // Dad can open it: it was shared in his room.
            let id = try #require(files.first?["id"] as? String)
            let download = try await family.call("GET", "/api/v1/attachments/\(id)", token: dad)
            #expect(download.status == 200)

            // Apprise's form:// fields, two files (file01, file02), one sent untyped and sniffed.
            let (both, bothType) = Self.form(
                [("version", "1.0"), ("title", "Motion"), ("message", "Two frames"), ("type", "warning")],
                files: [
                    ("file01", "a.png", "image/png", AttachmentTests.png),
                    ("file02", "b.png", nil, AttachmentTests.png),
                ])
            let (bothStatus, bothAnswer) = try await post(local, both, headers: ["Content-Type": bothType])
            #expect(bothStatus == 200, "\(bothAnswer)")
            message = try await dadSocket.next("message")
            #expect(message["body"] as? String == "⚠️ Motion\nTwo frames")
            files = message["attachments"] as? [[String: Any]] ?? []
            #expect(files.map { $0["contentType"] as? String } == ["image/png", "image/png"])

            // A file alone is a message too.
            let (alone, aloneType) = Self.form([], files: [("file", "c.png", "image/png", AttachmentTests.png)])
            #expect(try await post(local, alone, headers: ["Content-Type": aloneType]).0 == 200)
            message = try await dadSocket.next("message")
            #expect(message["body"] as? String == "" && (message["attachments"] as? [Any])?.count == 1)

            // The same limits as any upload, each refusal a sentence, nothing posted.
            let program = Data([0x7F, 0x45, 0x4C, 0x46]) + Data(repeating: 1, count: 64)
            let refusals: [(fields: [(String, String)], files: [(String, String, String?, Data)], Int, String)] = [
                ([("text", "x")], [("file", "fox.png", "image/png", program)], 415, "type_mismatch"),
                ([("text", "x")], [("file", "tool", nil, program)], 415, "unsupported_type"),
                (
                    [("text", "x")], [("file", "huge.png", "image/png", AttachmentTests.png + Data(count: 700 * 1024))],
                    413, "too_large"
                ),
                ([("text", "x")], [("file", "empty.png", "image/png", Data())], 400, "empty_body"),
                ([("colour", "red")], [], 400, "invalid_field"),
                (
                    [("text", "x")],
                    (0..<11).map { ("file\($0)", "\($0).png", "image/png", AttachmentTests.png) }, 400,
                    "invalid_field"
                ),
                ([("text", String(repeating: "x", count: 70_000))], [], 400, "invalid_field"),
                // Many fields, each small, together over the limit.
                ((0..<40).map { ("f\($0)", String(repeating: "y", count: 2_000)) }, [], 400, "invalid_field"),
            ]
            for (fields, files, expected, code) in refusals {
                let (refused, refusedType) = Self.form(fields, files: files)
                let (got, answer) = try await post(local, refused, headers: ["Content-Type": refusedType])
                #expect(got == expected && Family.errorCode(answer) == code, "\(fields) \(files.count): \(answer)")
            }
            // Nothing of those reached dad: the next message is the one posted now.
            #expect(try await post(local, "after", headers: ["Content-Type": "text/plain"]).0 == 200)
            message = try await dadSocket.next("message")
            #expect(message["body"] as? String == "after")
            await dadSocket.close()
        }
    }

    @Test func outgoingWebhooksAreCheckedWhenSaved() async throws {
        try await withLiveApp({ configuration in
            configuration.outgoingWebhooks.perRoom = 2
            configuration.outgoingWebhooks.allowPrivate = ["127.0.0.1"]
        }) { family in
            let mum = try await family.signIn("mum")
            let kid = try await family.signIn("kid")
            let room = try await family.group("Home", owner: "mum", members: ["kid"])
            let path = "/api/v1/rooms/\(room)/outgoing-webhooks"
            // Only the group's admins: a member may neither add one nor see their addresses.
            let byKid = try await family.call(
                "POST", path, json: ["name": "x", "url": "http://127.0.0.1:9/"], token: kid)
            #expect(byKid.status == 403)
            #expect(try await family.call("GET", path, token: kid).status == 403)

            // Each refusal says why, and nothing is made.
            let refusals: [(String, String)] = [
                ("ftp://127.0.0.1/hook", "http:// or https://"),
                ("not a url", "http:// or https://"),
                ("http://mum:secret@127.0.0.1:9/", "user name or password"),
                ("http://nowhere.invalid/hook", "cannot be found"),
                ("http://10.1.2.3/hook", "10.1.2.3 is a private address"),
                ("http://169.254.169.254/latest/meta-data", "private address"),
                ("http://[::1]:8123/api/webhook/x", "private address"),
                ("http://[::ffff:192.168.1.5]/", "private address"),
            ]
            for (url, words) in refusals {
                let answer = try await family.call("POST", path, json: ["name": "Lights", "url": url], token: mum)
                let message = (answer.json["error"] as? [String: Any])?["message"] as? String ?? ""
                #expect(answer.status == 400 && message.contains(words), "\(url): \(message)")
            }
            let blank = try await family.call(
                "POST", path, json: ["name": " ", "url": "http://127.0.0.1:9/"], token: mum)
            #expect(blank.status == 400)

            // Allowed: the address in HEARTH_WEBHOOK_ALLOW_PRIVATE. The secret is shown once.
            let made = try await family.call(
                "POST", path, json: ["name": "Lights", "url": "http://127.0.0.1:9/hook", "commandsOnly": true],
                token: mum)
            #expect(made.status == 201 && (made.json["secret"] as? String)?.hasPrefix("whsec_") == true)
            let hook = try #require(made.json["webhook"] as? [String: Any])
            #expect(hook["commandsOnly"] as? Bool == true && hook["secret"] == nil)
            let id = try #require(hook["id"] as? Int)
            // Changed: a private address is refused there too; the mode and name change.
            let moved = try await family.call(
                "PATCH", "\(path)/\(id)", json: ["url": "http://192.168.1.9/"], token: mum)
            #expect(moved.status == 400)
            let changed = try await family.call(
                "PATCH", "\(path)/\(id)", json: ["name": "Kitchen", "commandsOnly": false], token: mum)
            let after = changed.json["webhook"] as? [String: Any]
            #expect(after?["name"] as? String == "Kitchen" && after?["commandsOnly"] as? Bool == false)
            #expect(after?["url"] as? String == "http://127.0.0.1:9/hook")
            // At most HEARTH_OUTGOING_WEBHOOKS_PER_ROOM.
            _ = try await family.call("POST", path, json: ["name": "Two", "url": "http://127.0.0.1:9/2"], token: mum)
            let third = try await family.call(
                "POST", path, json: ["name": "Three", "url": "http://127.0.0.1:9/3"], token: mum)
            #expect(third.status == 400)
            let listed = try await family.call("GET", path, token: mum)
            #expect((listed.json["webhooks"] as? [[String: Any]])?.map { $0["name"] as? String } == ["Kitchen", "Two"])
            // Removed: gone from the list; removing it again is a 404.
            #expect(try await family.call("DELETE", "\(path)/\(id)", token: mum).status == 204)
            #expect(try await family.call("DELETE", "\(path)/\(id)", token: mum).status == 404)
            let left = try await family.call("GET", path, token: mum)
            #expect((left.json["webhooks"] as? [Any])?.count == 1)
        }
    }
}
