import Foundation

/// `/api/v1/ws` spoken byte by byte over a plain socket, for frames a WebSocket library will not
/// send: unmasked, with reserved bits, stray continuations, text that is not UTF-8. Blocking:
/// use it inside ``onOwnThread(_:)``.
final class RawWebSocket {
    struct Frame: Equatable {
        let opcode: UInt8
        let payload: [UInt8]
        var text: String { String(decoding: payload, as: UTF8.self) }
    }

    let fd: Int32
    /// Bytes read and not yet taken as frames.
    private var received: [UInt8] = []

    /// Connects and upgrades with `token`; throws unless the answer is `101`.
    init(port: Int, token: String, query: String = "") throws {
        fd = try rawConnection(port: port)
        do {
            try sendAll(
                fd,
                "GET /api/v1/ws\(query) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer \(token)\r\n\r\n")
            let end = Array("\r\n\r\n".utf8)
            while true {
                if let range = received.firstRange(of: end) {
                    let answer = String(decoding: received[..<range.lowerBound], as: UTF8.self)
                    guard answer.hasPrefix("HTTP/1.1 101") else { throw SocketError("no upgrade: \(answer)") }
                    received.removeSubrange(..<range.upperBound)
                    break
                }
                guard try fill() else { throw SocketError("closed before the upgrade answer") }
            }
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    /// Sends one frame: masked, as a client must, unless `masked` is false.
    func send(opcode: UInt8, _ payload: [UInt8], fin: Bool = true, reserved: UInt8 = 0, masked: Bool = true) throws {
        var frame: [UInt8] = [(fin ? 0x80 : 0) | (reserved << 4) | opcode]
        let maskBit: UInt8 = masked ? 0x80 : 0
        switch payload.count {
        case ..<126: frame.append(maskBit | UInt8(payload.count))
        case ..<65_536: frame += [maskBit | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        default: frame += [maskBit | 127] + (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xFF) }
        }
        if masked {
            let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
            frame += mask + payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        } else {
            frame += payload
        }
        var offset = 0
        while offset < frame.count {
            let sent = frame[offset...].withUnsafeBytes {
                Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else { throw SocketError("send failed: errno \(errno)") }
            offset += sent
        }
    }

    func sendText(_ text: String, fin: Bool = true) throws { try send(opcode: 0x1, Array(text.utf8), fin: fin) }

    /// The server's next frame; nil once the connection has closed.
    func next() throws -> Frame? {
        while true {
            if let frame = takeFrame() { return frame }
            guard try fill() else { return nil }
        }
    }

    /// Reads up to the server's close frame and returns its code; nil if the connection ended
    /// without one (or the close frame had no code).
    func closeCode() throws -> Int? {
        while let frame = try next() {
            if frame.opcode == 0x8 {
                return frame.payload.count >= 2 ? Int(frame.payload[0]) << 8 | Int(frame.payload[1]) : nil
            }
        }
        return nil
    }

    /// Whether the server has closed the TCP connection: reads (and drops) frames until it does,
    /// or until the socket's 30-second receive timeout.
    func hungUp() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
        }
    }

    /// Reads more bytes; false when the peer has closed.
    private func fill() throws -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count >= 0 else { throw SocketError("recv failed: errno \(errno)") }
        received += buffer.prefix(count)
        return count > 0
    }

    /// One whole frame from the bytes received, if they hold one (server frames are unmasked).
    private func takeFrame() -> Frame? {
        guard received.count >= 2 else { return nil }
        var length = Int(received[1] & 0x7F)
        var start = 2
        if length == 126 {
            guard received.count >= 4 else { return nil }
            length = Int(received[2]) << 8 | Int(received[3])
            start = 4
        } else if length == 127 {
            guard received.count >= 10 else { return nil }
            length = received[2..<10].reduce(0) { $0 << 8 | Int($1) }
            start = 10
        }
        guard received.count >= start + length else { return nil }
        let frame = Frame(opcode: received[0] & 0x0F, payload: Array(received[start..<start + length]))
        received.removeFirst(start + length)
        return frame
    }
}
