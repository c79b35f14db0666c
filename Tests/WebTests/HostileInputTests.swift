import Foundation
import HTTPTypes
import HearthTestSupport
import PropertyBased
import Services
import Storage
import Synchronization
import Testing

/// Property-based hostile input: random, malformed and oversized frames and bodies never crash
/// the server, never get a 5xx or an `internal_error`, and never store anything.
@Suite struct HostileInputTests {
    /// A small deterministic generator, seeded by the property library's input (so a failure's
    /// seed reproduces it).
    struct Noise {
        var random: SeededRandom

        init(seed: UInt64) { random = SeededRandom(seed: seed) }

        mutating func next() -> UInt64 { random.next() }

        mutating func below(_ bound: Int) -> Int { random.below(bound) }

        mutating func string(maxLength: Int) -> String {
            let length = below(maxLength + 1)
            var scalars = String.UnicodeScalarView()
            for _ in 0..<length {
                switch below(6) {
                case 0: scalars.append(Unicode.Scalar(UInt8(below(32))))  // control characters
                case 1: scalars.append(Unicode.Scalar(UInt32(0x1F600 + below(80))) ?? "x")  // emoji
                case 2: scalars.append(Unicode.Scalar(UInt32(0x0300 + below(112))) ?? "x")  // combining marks
                case 3: scalars.append(["\"", "\\", "/", "<", ">", "&", "'", "{", "}", "[", "]"][below(11)])
                default: scalars.append(Unicode.Scalar(UInt8(32 + below(95))))
                }
            }
            return String(scalars)
        }

        static let keys = ["type", "id", "room", "body", "after", "seq", "attachments", "code", "__proto__", ""]
        static let types = ["send", "sync", "read", "typing", "ping", "SEND", "", "message", "ack", "error"]

        /// A JSON value of any shape, up to `depth` levels.
        mutating func value(depth: Int) -> String {
            switch below(depth > 0 ? 9 : 7) {
            case 0: return "null"
            case 1: return below(2) == 0 ? "true" : "false"
            case 2: return String(Int64(bitPattern: next()))
            case 3: return ["1e308", "-1e400", "99999999999999999999999999", "-0", "0.5", "1E-7", "-1"][below(7)]
            case 4, 5: return json(string(maxLength: below(4) == 0 ? 2000 : 20))
            case 6: return json(Self.types[below(Self.types.count)])
            case 7: return "[" + (0..<below(4)).map { _ in value(depth: depth - 1) }.joined(separator: ",") + "]"
            default: return object(depth: depth - 1)
            }
        }

        mutating func object(depth: Int) -> String {
            var fields: [String] = []
            if below(4) != 0 { fields.append("\"type\":" + json(Self.types[below(Self.types.count)])) }
            for _ in 0..<below(6) {
                let key = below(3) == 0 ? string(maxLength: 10) : Self.keys[below(Self.keys.count)]
                fields.append(json(key) + ":" + value(depth: depth))
            }
            return "{" + fields.joined(separator: ",") + "}"
        }

        /// A hostile text frame: structured nonsense, broken JSON, deep nesting, or plain text.
        mutating func frame() -> String {
            switch below(8) {
            case 0: return String(object(depth: 3).dropLast(below(5) + 1))  // truncated
            case 1:
                let depth = 100 + below(2000)
                return String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            case 2: return string(maxLength: 300)
            case 3: return value(depth: 3)
            default: return object(depth: 3)
            }
        }

        func json(_ text: String) -> String {
            let data =
                (try? JSONSerialization.data(withJSONObject: [text], options: [.fragmentsAllowed]))
                ?? Data("[\"\"]".utf8)
            return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
        }
    }

    static let frameCodes: Set = [
        "malformed_json", "invalid_field", "missing_field", "unknown_type", "invalid_id", "room_not_found",
        "not_a_member", "too_large", "not_found", "unsupported_frame", "rate_limited",
    ]

    @Test func hostileFramesGetSpecificErrorsAndStoreNothing() async throws {
        try await withLiveApp { family in
            // Mallory is in no room, so no frame of hers can store a message.
            let socket = try await family.socket(try await family.signIn("mallory"))
            let tried = Counter()
            await propertyCheck(count: 400, input: Gen.int(in: 0...Int.max)) { seed in
                var noise = Noise(seed: UInt64(seed))
                let frame = noise.frame()
                do {
                    try await socket.sendText(frame)
                    let marker = "marker-\(seed)"
                    try await socket.send(["type": "ping", "id": marker])
                    while true {
                        let reply = try await socket.next()
                        if reply["type"] as? String == "pong", reply["id"] as? String == marker { break }
                        switch reply["type"] as? String {
                        case "error":
                            let code = reply["code"] as? String ?? ""
                            #expect(Self.frameCodes.contains(code), "\(code) for \(frame.prefix(200))")
                        case "pong", "synced", "presence": break
                        default: Issue.record("unexpected \(reply) for \(frame.prefix(200))")
                        }
                    }
                    tried.add()
                } catch {
                    Issue.record("the socket failed on \(frame.prefix(200)): \(error)")
                }
            }
            // Binary frames are refused too, and the socket is still there.
            try await socket.sendBinary()
            #expect(try await socket.next("error")["code"] as? String == "unsupported_frame")
            #expect(tried.value == 400)
            let stored = try await family.env.services.database.read { try $0.lastSeq() }
            #expect(stored == 0)
            await socket.close()
        }
    }

    @Test func aTextFrameThatIsNotUTF8ClosesTheSocketWith1007AndStoresNothing() async throws {
        try await withLiveApp { family in
            let token = try await family.signIn("mum")
            _ = try await family.signIn("kid")
            let room = try await family.directRoom("mum", "kid")
            let port = family.port
            // Overlong, lone continuation, truncated, surrogate, and past U+10FFFF.
            let invalid: [[UInt8]] = [
                [0xC0, 0xAF], [0x80], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
            ]
            for bytes in invalid {
                let payload =
                    Array(#"{"type":"send","id":"u","room":\#(room),"body":"bad "#.utf8) + bytes + Array(#""}"#.utf8)
                let code = try await onOwnThread {
                    try closeCodeAfterRawTextFrame(port: port, token: token, payload: payload)
                }
                #expect(code == 1007, "\(bytes): close code \(code.map(String.init) ?? "none")")
            }
            #expect(try await family.env.services.database.read { try $0.lastSeq() } == 0)
            // Valid UTF-8 on the same route goes through.
            let socket = try await family.socket(token)
            try await socket.send(["type": "send", "id": "ok", "room": room, "body": "good ü"])
            #expect(try await socket.next("ack")["id"] as? String == "ok")
            await socket.close()
        }
    }

    @Test func hostileBodiesGetSpecificErrorsAndStoreNothing() async throws {
        try await withApp { api, env in
            _ = try await env.accounts.createUser(username: "mum", password: TestServices.password, role: .admin)
            let token = try await env.sessions.login(
                username: "mum", password: TestServices.password, deviceName: nil, client: TestServices.home
            ).token
            let routes = [
                "/api/v1/register", "/api/v1/login", "/api/v1/rooms", "/api/v1/reports", "/api/v1/admin/rules",
                "/api/v1/admin/rules/test", "/api/v1/devices/link/abc/claim", "/api/v1/setup",
            ]
            await propertyCheck(count: 400, input: Gen.int(in: 0...Int.max)) { seed in
                var noise = Noise(seed: UInt64(seed))
                let route = routes[noise.below(routes.count)]
                let body = noise.below(3) == 0 ? noise.frame() : noise.object(depth: 3)
                do {
                    let answer = try await api.send(.post, route, raw: body, token: token)
                    #expect(answer.status.code < 500, "\(answer.status) for \(route) \(body.prefix(200))")
                    if answer.status.code >= 400 {
                        #expect(
                            answer.errorCode != nil && answer.errorCode != "internal_error",
                            "\(route) \(body.prefix(200))")
                    }
                } catch {
                    Issue.record("\(route) failed on \(body.prefix(200)): \(error)")
                }
            }
            let (users, rooms, rules) = try await env.services.database.read { store in
                (try store.users().count, try store.roomCount(userID: 1), try store.rules().count)
            }
            #expect(users == 1 && rooms == 0 && rules == 0)
        }
    }
}

/// A count shared with a property's closure.
final class Counter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

/// Opens `/api/v1/ws` over a plain socket, sends one masked text frame carrying `payload` as is
/// (a WebSocket client library would refuse to send bytes that are not UTF-8), and returns the
/// code of the close frame the server answers with.
func closeCodeAfterRawTextFrame(port: Int, token: String, payload: [UInt8]) throws -> Int? {
    let socket = try RawWebSocket(port: port, token: token)
    try socket.send(opcode: 0x1, payload)
    return try socket.closeCode()
}
