import Foundation
import Testing

@testable import Web

/// RFC 6455 as the relay socket speaks it (``RelaySocketHandler``): fragments, control frames,
/// the closing handshake, keep-alive pings, protocol errors, and the order of frames that queue
/// behind a slow one. Raw sockets, so that every byte is the test's choice.
@Suite struct WebSocketProtocolTests {
    @Test func fragmentsAreJoinedAndAPingBetweenThemIsAnswered() async throws {
        try await withLiveApp { family in
            let token = try await family.signIn("mum")
            let port = family.port
            let (pong, reply) = try await onOwnThread {
                let socket = try RawWebSocket(port: port, token: token)
                try socket.sendText(#"{"type":"pi"#, fin: false)
                try socket.send(opcode: 0x9, Array("are you there".utf8))
                try socket.send(opcode: 0x0, Array(#"ng","id":"#.utf8), fin: false)
                try socket.send(opcode: 0x0, Array(#""joined"}"#.utf8))
                return (try socket.next(), try socket.next())
            }
            #expect(pong == RawWebSocket.Frame(opcode: 0xA, payload: Array("are you there".utf8)))
            #expect(reply?.opcode == 0x1)
            #expect(reply?.text.contains(#""id":"joined""#) == true && reply?.text.contains("pong") == true)
        }
    }

    /// Each breaks RFC 6455 §5: the socket closes with 1002 and nothing is done.
    @Test(arguments: ["unmasked", "reserved bit", "stray continuation", "unknown opcode", "text inside a message"])
    func aFrameThatBreaksTheProtocolClosesWith1002(_ fault: String) async throws {
        try await withLiveApp { family in
            let token = try await family.signIn("mum")
            let port = family.port
            let ping = Array(#"{"type":"ping","id":"x"}"#.utf8)
            let code = try await onOwnThread {
                let socket = try RawWebSocket(port: port, token: token)
                switch fault {
                case "unmasked": try socket.send(opcode: 0x1, ping, masked: false)
                case "reserved bit": try socket.send(opcode: 0x1, ping, reserved: 0b100)
                case "stray continuation": try socket.send(opcode: 0x0, ping)
                case "unknown opcode": try socket.send(opcode: 0x3, ping)
                default:
                    try socket.send(opcode: 0x1, Array(ping.prefix(5)), fin: false)
                    try socket.send(opcode: 0x1, ping)
                }
                return try socket.closeCode()
            }
            #expect(code == 1002, "\(fault)")
        }
    }

    @Test func aMessageOverTheLimitAcrossFragmentsClosesWith1009() async throws {
        try await withLiveApp { family in
            let token = try await family.signIn("mum")
            let port = family.port
            let half = family.env.services.configuration.relay.maxFrameBytes / 2 + 1
            let code = try await onOwnThread {
                let socket = try RawWebSocket(port: port, token: token)
                // Each fragment is under the frame limit; the message is over it.
                try socket.send(opcode: 0x1, Array(repeating: UInt8(ascii: " "), count: half), fin: false)
                try socket.send(opcode: 0x0, Array(repeating: UInt8(ascii: " "), count: half))
                return try socket.closeCode()
            }
            #expect(code == 1009)
        }
    }

    /// One frame over the limit is refused from its header; the rest of it is read and dropped,
    /// so the client gets 1009 and the closing handshake, not a TCP reset.
    @Test func oneFrameOverTheLimitClosesWith1009AndNoReset() async throws {
        try await withLiveApp { family in
            let token = try await family.signIn("mum")
            let port = family.port
            let limit = family.env.services.configuration.relay.maxFrameBytes
            let (code, hungUp) = try await onOwnThread {
                let socket = try RawWebSocket(port: port, token: token)
                // Four times the limit: far more than the server reads before it refuses the frame.
                try socket.send(opcode: 0x1, Array(repeating: UInt8(ascii: " "), count: limit * 4))
                let code = try socket.closeCode()
                try socket.send(opcode: 0x8, [0x03, 0xE8])
                return (code, socket.hungUp())
            }
            #expect(code == 1009)
            #expect(hungUp)
        }
    }

    /// The server answers a close frame with its own and hangs up: 1000 for a valid one, 1002
    /// for a code no endpoint may send, a one-byte payload, or a reason that is not UTF-8.
    @Test(arguments: [
        ([UInt8](), 1000), ([0x03, 0xE8] + Array("bye".utf8), 1000), ([0x0F, 0xA0], 1000),
        ([0x03, 0xED], 1002), ([0x03], 1002), ([0x03, 0xE8, 0xC0, 0xAF], 1002),
    ])
    func aClientsCloseIsAnsweredAndTheConnectionEnds(_ payload: [UInt8], _ answer: Int) async throws {
        try await withLiveApp { family in
            let token = try await family.signIn("mum")
            let port = family.port
            let (code, hungUp) = try await onOwnThread {
                let socket = try RawWebSocket(port: port, token: token)
                try socket.send(opcode: 0x8, payload)
                return (try socket.closeCode(), socket.hungUp())
            }
            #expect(code == answer, "\(payload)")
            #expect(hungUp)
            // And the device has left the hub.
            let hub = family.hub
            let deadline = Date().addingTimeInterval(10)
            while !hub.connectedDeviceIDs().isEmpty, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(hub.connectedDeviceIDs().isEmpty)
        }
    }

    @Test func aClientThatAnswersNoPingIsDroppedWith1001() async throws {
        try await withLiveApp({ $0.relay.pingInterval = 1 }) { family in
            let token = try await family.signIn("mum")
            let port = family.port
            // A library client answers pings by itself and stays.
            let answering = try await family.socket(token)
            let (pings, code) = try await onOwnThread {
                let socket = try RawWebSocket(port: port, token: token)
                var pings = 0
                while let frame = try socket.next() {
                    if frame.opcode == 0x9 { pings += 1 }
                    if frame.opcode == 0x8 {
                        return (
                            pings, frame.payload.count >= 2 ? Int(frame.payload[0]) << 8 | Int(frame.payload[1]) : nil
                        )
                    }
                }
                return (pings, nil)
            }
            #expect(pings == 1)
            #expect(code == 1001)
            try await answering.send(["type": "ping", "id": "still"])
            #expect(try await answering.next("pong")["id"] as? String == "still")
            await answering.close()
        }
    }

    /// A `sync` waits on the database; frames sent right behind it queue (more than the socket
    /// reads ahead, so reading stops and starts again) and are answered after it, in order.
    @Test func framesBehindASyncAreAnsweredAfterItInOrder() async throws {
        try await withLiveApp { family in
            let token = try await family.signIn("mum")
            let kid = try await family.socket(try await family.signIn("kid"))
            let room = try await family.directRoom("mum", "kid")
            try await kid.send(["type": "send", "id": "k1", "room": room, "body": "hello"])
            _ = try await kid.next("ack")
            let count = SocketInbox.readAheadLimit * 4
            let port = family.port
            let answers = try await onOwnThread {
                let socket = try RawWebSocket(port: port, token: token)
                try socket.sendText(#"{"type":"sync","after":0}"#)
                for index in 0..<count { try socket.sendText(#"{"type":"ping","id":"p\#(index)"}"#) }
                var answers: [String] = []
                while answers.count < count + 2, let frame = try socket.next() {
                    guard frame.opcode == 0x1, let type = TestSocket.type(of: frame.text), type != "presence" else {
                        continue
                    }
                    guard type == "pong" else {
                        answers.append(type)
                        continue
                    }
                    answers.append(String(frame.text.components(separatedBy: #""id":""#)[1].prefix { $0 != "\"" }))
                }
                return answers
            }
            #expect(answers == ["message", "synced"] + (0..<count).map { "p\($0)" })
            await kid.close()
        }
    }
}
