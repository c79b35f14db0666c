import Foundation
import Services
import Storage
import Synchronization

/// One socket's conversation with the relay: reads the client's frames and answers them.
///
/// Frames are handled one at a time, in order. Every bad frame gets an `error` frame with a
/// specific code and changes nothing; the socket stays open. What touches the database or the
/// rules is the ``Relay`` service's; what goes out to other sockets goes through the ``RelayHub``.
public final class RelaySession: Sendable {
    let relay: Relay
    let hub: RelayHub
    public let connection: RelayConnection
    private let frameBucket: Mutex<TokenBucket>
    /// ICE candidates this device may still send (`HEARTH_CALL_CANDIDATES_PER_SECOND`).
    private let candidateBucket: Mutex<TokenBucket>

    private init(relay: Relay, hub: RelayHub, connection: RelayConnection) {
        self.relay = relay
        self.hub = hub
        self.connection = connection
        let rate = Double(relay.limits.framesPerSecond)
        frameBucket = Mutex(TokenBucket(capacity: rate * 2, rate: rate, now: hub.clock()))
        let candidates = Double(relay.calls.settings.candidatesPerSecond)
        candidateBucket = Mutex(TokenBucket(capacity: candidates, rate: candidates, now: hub.clock()))
    }

    /// Opens a relay session for an authenticated device's new socket, or says why the socket
    /// is to be closed at once (the server shuts down, or too many sockets are open).
    public static func open(_ session: Session, relay: Relay, hub: RelayHub) async -> Result<RelaySession, CloseRefusal>
    {
        await hub.connect(session, contacts: relay.contacts(of:)).map {
            let opened = RelaySession(relay: relay, hub: hub, connection: $0)
            relay.calls.connected(opened.device)
            return opened
        }
    }

    /// The part of a frame's handling that waits on the database, for the caller to await before
    /// it hands over the socket's next frame.
    public typealias Remainder = @Sendable () async -> Void

    /// Handles one text frame. Most frames are answered at once and this returns nil; a frame
    /// that needs the database first (`sync`, `read`, `typing`) returns the rest of its work.
    public func receive(text: String) -> Remainder? {
        guard frameBucket.withLock({ $0.take(now: hub.clock()) }) else {
            // The refused frame's `id`, when it has one, tells the client which send to retry.
            reply(code: "rate_limited", message: "Too many frames; slow down.", id: Self.clientID(in: text))
            return nil
        }
        let frame: RelayFrames.Inbound
        do {
            frame =
                try InboundReader.read(text) ?? JSONDecoder().decode(RelayFrames.Inbound.self, from: Data(text.utf8))
        } catch let error as DecodingError {
            let (code, message) = Self.describe(error)
            reply(code: code, message: message, id: Self.clientID(in: text))
            return nil
        } catch {
            reply(code: "malformed_json", message: "The frame is not valid JSON.")
            return nil
        }
        switch frame.type {
        case "send": handleSend(frame)
        case "react", "edit", "delete": handleChange(frame)
        case "sync": return { await self.handleSync(frame) }
        case "read": return { await self.handleRead(frame) }
        case "typing": return { await self.handleTyping(frame) }
        case "ping": connection.send(RelayFrames.encode(["type": "pong", "id": frame.id ?? ""]))
        case "call": return { await self.handleCall(frame) }
        case "rtc": handleRTC(frame, size: text.utf8.count)
        default:
            reply(code: "unknown_type", message: "Unknown frame type '\(frame.type.prefix(32))'.", id: frame.id)
        }
        return nil
    }

    /// Answers a binary frame: the protocol is text only.
    func receiveBinary() {
        reply(code: "unsupported_frame", message: "Send JSON in text frames; binary frames are not used.")
    }

    /// Replays everything after `seq` in the user's rooms, then goes live (the `?after=` of the socket URL).
    func sync(after seq: Int64) async {
        await runSync(after: seq)
    }

    /// The socket has closed: leaves any call and the hub.
    public func close() async {
        await relay.calls.disconnected(
            deviceID: connection.deviceID, userID: connection.userID, username: connection.username)
        await hub.disconnected(connection, contacts: relay.contacts(of:))
    }

    // MARK: Frames

    /// Checks a `send`'s fields and the sender's message rate, then hands it to the relay's writer,
    /// which screens it by the moderation rules (off the event loops) and commits it.
    private func handleSend(_ frame: RelayFrames.Inbound) {
        let limits = relay.limits
        guard let id = checkedID(frame) else { return }
        guard let room = frame.room else {
            return reply(code: "missing_field", message: "A send needs a `room`.", id: id)
        }
        guard let body = frame.body else {
            return reply(code: "missing_field", message: "A send needs a `body`.", id: id)
        }
        let attachments = frame.attachments ?? []
        guard attachments.count <= limits.attachmentsPerMessage else {
            return reply(
                code: "invalid_field", message: "At most \(limits.attachmentsPerMessage) attachments per message.",
                id: id)
        }
        guard checkBody(body, id: id, blankAllowed: !attachments.isEmpty) else { return }
        if let replyTo = frame.replyTo, replyTo <= 0 {
            return reply(code: "invalid_field", message: "`replyTo` must be the seq of a message.", id: id)
        }
        guard allowSend(id: id) else { return }
        relay.submit(
            from: connection.sender, origin: connection, roomID: room, clientID: id, body: body,
            attachments: attachments, replyTo: frame.replyTo)
    }

    /// Checks a `react`, `edit` or `delete` frame's fields, then hands it to the relay's writer,
    /// which checks it against the message (edits through the moderation rules) and commits it.
    private func handleChange(_ frame: RelayFrames.Inbound) {
        guard let id = checkedID(frame) else { return }
        guard let room = frame.room, let seq = frame.seq else {
            return reply(code: "missing_field", message: "A \(frame.type) needs `room` and `seq`.", id: id)
        }
        let change: Relay.Change
        switch frame.type {
        case "react":
            guard let emoji = frame.emoji, let on = frame.on else {
                return reply(code: "missing_field", message: "A react needs `emoji` and `on`.", id: id)
            }
            guard Reactions.isAllowed(emoji) else {
                return reply(
                    code: "invalid_field", message: "`emoji` must be a single emoji, such as 👍 or ❤️.", id: id)
            }
            change = .react(emoji: emoji, on: on)
        case "edit":
            guard let body = frame.body else {
                return reply(code: "missing_field", message: "An edit needs a `body`.", id: id)
            }
            guard checkBody(body, id: id, blankAllowed: false) else { return }
            change = .edit(body: body)
        default:
            change = .delete
        }
        guard allowSend(id: id) else { return }
        relay.submit(
            change, from: connection.sender, role: connection.role, origin: connection, roomID: room, seq: seq,
            clientID: id)
    }

    /// The frame's client id; nil, after saying why, when it has no usable one.
    private func checkedID(_ frame: RelayFrames.Inbound) -> String? {
        let maxLength = relay.limits.maxClientIDLength
        guard let id = frame.id else {
            reply(code: "missing_field", message: "A \(frame.type.prefix(32)) needs an `id`.")
            return nil
        }
        guard !id.isEmpty, id.count <= maxLength else {
            reply(code: "invalid_id", message: "The `id` must be 1 to \(maxLength) characters.", id: id)
            return nil
        }
        return id
    }

    /// Whether `body` is text a message may carry: not blank (unless `blankAllowed`, for a message
    /// with files), no NUL, within `maxBodyBytes`. Says why when not.
    private func checkBody(_ body: String, id: String, blankAllowed: Bool) -> Bool {
        // Any character that is not white space (a scan that stops at the first one, unlike
        // `trimmingCharacters`, which copies the text through NSString).
        guard blankAllowed || body.unicodeScalars.contains(where: { !$0.properties.isWhitespace }) else {
            reply(code: "invalid_field", message: "The `body` must not be empty.", id: id)
            return false
        }
        // SQLite is given text as C strings, which end at a NUL: the rest would be lost.
        guard !body.utf8.contains(0) else {
            reply(code: "invalid_field", message: "The `body` must not contain a NUL character (U+0000).", id: id)
            return false
        }
        guard body.utf8.count <= relay.limits.maxBodyBytes else {
            reply(.tooLarge(limit: relay.limits.maxBodyBytes), id: id)
            return false
        }
        return true
    }

    /// Takes one message (or change) from the user's budget; says so when they are over it.
    private func allowSend(id: String) -> Bool {
        guard relay.allowSend(userID: connection.userID) else {
            reply(
                code: "rate_limited",
                message: "At most \(relay.limits.messagesPerMinute) messages a minute; wait a moment.", id: id)
            return false
        }
        return true
    }

    private func handleSync(_ frame: RelayFrames.Inbound) async {
        guard let after = frame.after else { return reply(code: "missing_field", message: "A sync needs `after`.") }
        guard after >= 0 else { return reply(code: "invalid_field", message: "`after` must be 0 or more.") }
        await runSync(after: after)
    }

    private func runSync(after: Int64) async {
        let pageSize = relay.limits.syncPageSize
        let userID = connection.userID
        connection.beginSync()
        var cursor = after
        do {
            paging: while true {
                let page = try await relay.stream(forUser: userID, after: cursor, limit: pageSize)
                for item in page {
                    guard await connection.sendFromSync(item) else { break paging }
                    cursor = item.seq
                }
                if page.count < pageSize { break }
            }
        } catch {
            _ = connection.finishSync()
            return reply(ServiceError.translating(error))
        }
        let head = connection.finishSync()
        connection.send(RelayFrames.encode(RelayFrames.Synced(seq: max(head, after))))
    }

    private func handleRead(_ frame: RelayFrames.Inbound) async {
        guard let roomID = frame.room, let seq = frame.seq else {
            return reply(code: "missing_field", message: "A read needs `room` and `seq`.")
        }
        do {
            guard let members = try await relay.markRead(roomID: roomID, userID: connection.userID, seq: seq) else {
                return
            }
            let receipt = RelayFrames.receipt(room: roomID, user: connection.username, seq: seq, kind: "read")
            hub.broadcast(receipt, to: members, except: connection)
        } catch {
            reply(error)
        }
    }

    private func handleTyping(_ frame: RelayFrames.Inbound) async {
        guard let roomID = frame.room else { return reply(code: "missing_field", message: "Typing needs a `room`.") }
        guard hub.allowTyping(userID: connection.userID, roomID: roomID) else { return }
        do {
            let recipients = try await relay.typingRecipients(roomID: roomID, userID: connection.userID)
            let typing = RelayFrames.encode(RelayFrames.Typing(room: roomID, user: connection.username))
            hub.broadcast(typing, to: recipients)
        } catch {
            reply(error)
        }
    }

    // MARK: Calls

    /// This socket's device, as a call names it.
    private var device: CallEvent.Participant {
        CallEvent.Participant(userID: connection.userID, username: connection.username, deviceID: connection.deviceID)
    }

    /// `call`: ring, accept, decline, hangup or busy (docs/PROTOCOL.md, *Calls*).
    private func handleCall(_ frame: RelayFrames.Inbound) async {
        guard let callID = frame.call, let action = frame.action else {
            return reply(code: "missing_field", message: "A call needs `call` and `action`.", id: frame.id)
        }
        let calls = relay.calls
        do {
            switch action {
            case "ring":
                guard let room = frame.room else {
                    return reply(code: "missing_field", message: "A ring needs a `room`.", id: frame.id)
                }
                let rang = try await calls.ring(callID: callID, roomID: room, video: frame.video ?? false, from: device)
                if case .ringing(let devices) = rang {
                    connection.send(
                        RelayFrames.encode(
                            RelayFrames.Ringing(id: frame.id, call: callID, room: room, devices: devices)))
                }
            case "accept": try calls.accept(callID: callID, from: device)
            case "decline": try await calls.decline(callID: callID, from: device)
            case "hangup": try await calls.hangup(callID: callID, from: device)
            case "busy": try await calls.busy(callID: callID, from: device)
            default:
                reply(
                    code: "invalid_field", message: "`action` is ring, accept, decline, hangup or busy.", id: frame.id)
            }
        } catch {
            reply(ServiceError.translating(error), id: frame.id)
        }
    }

    /// `rtc`: an SDP offer or answer, or an ICE candidate, for another device of the same call.
    private func handleRTC(_ frame: RelayFrames.Inbound, size: Int) {
        guard let callID = frame.call, let to = frame.to else {
            return reply(code: "missing_field", message: "An rtc frame needs `call` and `to`.", id: frame.id)
        }
        guard (frame.sdp == nil) != (frame.candidate == nil) else {
            return reply(
                code: "invalid_field", message: "An rtc frame carries one `sdp` or one `candidate`.", id: frame.id)
        }
        let limit = relay.calls.settings.signalBytes
        guard size <= limit else {
            return reply(ServiceError.tooLarge(limit: limit), id: frame.id)
        }
        if frame.candidate != nil, !candidateBucket.withLock({ $0.take(now: hub.clock()) }) {
            let rate = relay.calls.settings.candidatesPerSecond
            return reply(code: "rate_limited", message: "At most \(rate) ICE candidates a second.", id: frame.id)
        }
        do {
            try relay.calls.checkSignal(callID: callID, from: connection.deviceID, to: to)
        } catch {
            return reply(ServiceError.translating(error), id: frame.id)
        }
        hub.send(
            RelayFrames.encode(
                RelayFrames.RTCFrame(
                    call: callID, from: connection.username, fromDevice: connection.deviceID, sdp: frame.sdp,
                    candidate: frame.candidate)), toDevices: [to])
    }

    // MARK: Errors

    private func reply(_ error: ServiceError, id: String? = nil) {
        connection.send(RelayFrames.error(error, id: id))
    }

    private func reply(code: String, message: String, id: String? = nil) {
        connection.send(RelayFrames.error(code: code, message: message, id: id))
    }

    /// The client id of a frame that failed to decode, if it has a readable one.
    static func clientID(in text: String) -> String? {
        guard text.utf8.count <= 65_536, let data = text.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let id = object["id"] as? String, id.count <= 64
        else { return nil }
        return id
    }

    static func describe(_ error: DecodingError) -> (String, String) {
        func field(_ path: [any CodingKey]) -> String { path.map(\.stringValue).joined(separator: ".") }
        switch error {
        case .keyNotFound(let key, _): return ("missing_field", "The frame needs `\(key.stringValue)`.")
        case .typeMismatch(_, let context) where context.codingPath.isEmpty:
            return ("invalid_field", "A frame is a JSON object.")
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return ("invalid_field", "The field `\(field(context.codingPath))` has the wrong type.")
        case .dataCorrupted(let context) where !context.codingPath.isEmpty:
            return ("invalid_field", "The field `\(field(context.codingPath))` is invalid.")
        default: return ("malformed_json", "The frame is not valid JSON.")
        }
    }
}
