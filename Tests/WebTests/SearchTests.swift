import Foundation
import HearthTestSupport
import Services
import Storage
import Testing

@testable import Web

/// `GET /api/v1/search` over real sockets and HTTP: words, prefixes, phrases and accents; newest
/// first with highlights; edits, deletions, held messages and removed members; every bad input.
@Suite struct SearchTests {
    /// Sends `body` to `room` from `socket` and returns its seq.
    static func send(_ socket: TestSocket, _ room: Int64, _ body: String) async throws -> Int {
        let id = UUID().uuidString
        try await socket.send(["type": "send", "id": id, "room": room, "body": body])
        while true {
            let frame = try await socket.next()
            if frame["id"] as? String == id { return try #require(frame["seq"] as? Int) }
        }
    }

    static func search(_ family: Family, _ token: String, _ query: String) async throws -> (Int, [String: Any]) {
        var components = URLComponents()
        components.queryItems = query.split(separator: "&").map {
            let pair = $0.split(separator: "=", maxSplits: 1).map(String.init)
            return URLQueryItem(name: pair[0], value: pair.count > 1 ? pair[1] : "")
        }
        let answer = try await family.call(
            "GET", "/api/v1/search?" + (components.percentEncodedQuery ?? ""), token: token)
        return (answer.status, answer.json)
    }

    static func bodies(_ json: [String: Any]) -> [String] {
        (json["results"] as? [[String: Any]] ?? []).compactMap { $0["body"] as? String }
    }

    @Test func wordsPrefixesPhrasesAndAccentsNewestFirstWithHighlights() async throws {
        try await withLiveApp { family in
            let mumToken = try await family.signIn("mum")
            let mum = try await family.socket(mumToken)
            let dadToken = try await family.signIn("dad")
            let room = try await family.group("Family", owner: "mum", members: ["dad"])
            let other = try await family.directRoom("mum", "dad")
            _ = try await Self.send(mum, room, "The garden needs watering")
            _ = try await Self.send(mum, room, "Dinner at the café at 7?")
            _ = try await Self.send(mum, other, "Gardening gloves are in the shed 🧤")
            let newest = try await Self.send(mum, room, "where's the GARDEN hose?")

            // A word, any case, newest first, with where it matched (UTF-16 offsets).
            let (status, garden) = try await Self.search(family, dadToken, "q=garden")
            #expect(status == 200)
            #expect(Self.bodies(garden) == ["where's the GARDEN hose?", "The garden needs watering"])
            let first = try #require((garden["results"] as? [[String: Any]])?.first)
            #expect(first["seq"] as? Int == newest && first["room"] as? Int == Int(room))
            #expect(first["from"] as? String == "mum" && first["ts"] is Int)
            #expect(first["highlights"] as? [[Int]] == [[12, 18]])
            #expect(garden["next"] is NSNull)
            // A prefix, across rooms; the emoji before it does not shift the offsets of what follows.
            let (_, prefix) = try await Self.search(family, dadToken, "q=gard*")
            #expect(Self.bodies(prefix).count == 3)
            // A phrase, and accents ignored both ways.
            #expect(
                Self.bodies(try await Self.search(family, dadToken, "q=\"needs watering\"").1) == [
                    "The garden needs watering"
                ])
            #expect(Self.bodies(try await Self.search(family, dadToken, "q=\"watering needs\"").1).isEmpty)
            #expect(Self.bodies(try await Self.search(family, dadToken, "q=cafe").1) == ["Dinner at the café at 7?"])
            // Punctuation is just a separator; OR and NOT join words.
            #expect(Self.bodies(try await Self.search(family, dadToken, "q=where's hose?").1).count == 1)
            #expect(Self.bodies(try await Self.search(family, dadToken, "q=dinner OR gloves").1).count == 2)
            #expect(Self.bodies(try await Self.search(family, dadToken, "q=garden NOT hose").1).count == 1)
            // One room, one sender, pages.
            #expect(Self.bodies(try await Self.search(family, dadToken, "q=gard*&room=\(other)").1).count == 1)
            #expect(Self.bodies(try await Self.search(family, dadToken, "q=gard*&from=dad").1).isEmpty)
            let (_, page) = try await Self.search(family, dadToken, "q=gard*&limit=2")
            #expect(Self.bodies(page).count == 2)
            let next = try #require(page["next"] as? Int)
            let (_, rest) = try await Self.search(family, dadToken, "q=gard*&limit=2&before=\(next)")
            #expect(Self.bodies(rest) == ["The garden needs watering"])
            // A result opens with the history around it.
            let around = try await family.call(
                "GET", "/api/v1/rooms/\(room)/messages?around=\(newest - 1)&limit=2", token: dadToken)
            let shown = (around.json["messages"] as? [[String: Any]])?.compactMap { $0["body"] as? String }
            #expect(shown?.count == 2)
        }
    }

    @Test func editsDeletionsHeldMessagesAndRemovedMembersAreFollowed() async throws {
        try await withLiveApp { family in
            let mumToken = try await family.signIn("mum", role: .admin)
            let mum = try await family.socket(mumToken)
            let kidToken = try await family.signIn("kid")
            let kid = try await family.socket(kidToken)
            let room = try await family.group("Family", owner: "mum", members: ["kid"])
            let seq = try await Self.send(mum, room, "pizza tonight")
            // Found at once (a search first takes in what the index has not yet)…
            #expect(Self.bodies(try await Self.search(family, kidToken, "q=pizza").1) == ["pizza tonight"])
            // …and an edit of an indexed message re-indexes it: the old words gone, the new ones found.
            try await mum.send(["type": "edit", "id": "e1", "room": room, "seq": seq, "body": "pasta tonight"])
            _ = try await kid.next("edited")
            #expect(Self.bodies(try await Self.search(family, kidToken, "q=pizza").1).isEmpty)
            #expect(Self.bodies(try await Self.search(family, kidToken, "q=pasta").1) == ["pasta tonight"])
            // A deletion removes it.
            try await mum.send(["type": "delete", "id": "x1", "room": room, "seq": seq])
            _ = try await kid.next("deleted")
            #expect(Self.bodies(try await Self.search(family, kidToken, "q=pasta").1).isEmpty)
            // A held message is found by nobody until approved.
            let rule = try await family.call(
                "POST", "/api/v1/admin/rules", json: ["kind": "word", "pattern": "poker", "action": "hold"],
                token: mumToken)
            #expect(rule.status == 201)
            _ = try await Self.send(kid, room, "poker night?")
            #expect(Self.bodies(try await Self.search(family, kidToken, "q=poker").1).isEmpty)
            #expect(Self.bodies(try await Self.search(family, mumToken, "q=poker").1).isEmpty)
            let queue = try await family.call("GET", "/api/v1/admin/queue", token: mumToken)
            let item = try #require((queue.json["items"] as? [[String: Any]])?.first?["id"] as? Int)
            #expect(
                try await family.call("POST", "/api/v1/admin/queue/\(item)/approve", token: mumToken).status == 204)
            _ = try await mum.next("message")
            #expect(Self.bodies(try await Self.search(family, mumToken, "q=poker").1) == ["poker night?"])
            // A removed member no longer finds the room's messages, and may not name it.
            #expect(
                try await family.call("DELETE", "/api/v1/rooms/\(room)/members/kid", token: mumToken).status == 200)
            #expect(Self.bodies(try await Self.search(family, kidToken, "q=poker").1).isEmpty)
            let (status, json) = try await Self.search(family, kidToken, "q=poker&room=\(room)")
            #expect(status == 404 && (json["error"] as? [String: Any])?["code"] as? String == "room_not_found")
        }
    }

    @Test func badSearchesGetSpecificErrors() async throws {
        try await withLiveApp { family in
            let token = try await family.signIn("mum")
            for (query, status, code) in [
                ("q=", 400, "invalid_query"), ("q=   ", 400, "invalid_query"), ("q=(((", 400, "invalid_query"),
                ("q=" + String(repeating: "a", count: 257), 400, "invalid_query"),
                ("q=\"unclosed", 400, "invalid_query"), ("q=*", 400, "invalid_query"), ("q=???", 400, "invalid_query"),
                ("q=a&room=999", 404, "room_not_found"), ("q=a&from=nobody", 404, "not_found"),
                ("q=a&limit=0", 400, "invalid_field"), ("q=a&before=x", 400, "invalid_field"),
            ] {
                let (answer, json) = try await Self.search(family, token, query)
                let error = json["error"] as? [String: Any]
                #expect(answer == status && error?["code"] as? String == code, "\(query)")
                // A sentence, never SQLite's own words.
                let message = error?["message"] as? String ?? ""
                #expect(!message.isEmpty && !message.contains("fts5") && !message.contains("SQL"), "\(query)")
            }
            // What looks like FTS5 syntax is taken as words: no error, and nothing reaches SQLite raw.
            for query in ["q=body:x", "q=NEAR(a b)", "q=a AND", "q=(a", "q=^x", "q=a-b", "q=OR a NOT"] {
                #expect(try await Self.search(family, token, query).0 == 200, "\(query)")
            }
        }
    }
}
