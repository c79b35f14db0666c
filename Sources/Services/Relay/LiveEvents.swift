import Storage
import Synchronization

/// What the services announce to the devices online now, and the little they ask of them.
///
/// Services say what happened in domain terms — a message was published, a session ended, a
/// member left — and never see a socket or a frame. The relay's socket side (`RelayHub`, in the
/// Web module) implements this protocol: it writes the wire format and knows which sockets are
/// open. Commands that serve no sockets (the CLI) use ``LiveEvents/none``.
public protocol LiveEvents: Sendable {
    /// A message became visible to `memberIDs`: newly sent, or approved by a moderator. `answer`
    /// is the ack for the socket that sent it, when it came from one.
    func published(_ message: Message, to memberIDs: [Int64], answering answer: SendAnswer?)
    /// The writer has handed over everything one commit published: what the live side gathered
    /// meanwhile (delivery receipts, one per room and recipient) goes out now.
    func batchPublished()
    /// The answer to a send that publishes nothing: held for review, the repeat of a send already
    /// stored, or a refusal.
    func answer(_ answer: SendAnswer)
    /// A message changed (a reaction, an edit, a deletion for everyone), under the event's own
    /// seq; `answer` is the ack for the socket that asked for the change.
    func changed(_ event: MessageEvent, to memberIDs: [Int64], answering answer: SendAnswer?)
    /// A moderator deleted a message from the review queue: the devices of `memberIDs` drop it.
    func deleted(roomID: Int64, seq: Int64, to memberIDs: [Int64])
    /// A new device scanned one of `userID`'s link codes and waits for approval.
    func linkRequested(_ request: LinkRequest, to userID: Int64)
    /// A device's session ended (signed out, revoked, expired): its sockets close.
    func sessionEnded(deviceID: Int64)
    /// Every session of a user ended (disabled, deleted, password reset): their sockets close.
    func sessionsEnded(userID: Int64)
    /// A member left or was removed from a room: per-room live state about them goes.
    func memberLeft(userID: Int64, roomID: Int64)
    /// A room was created, renamed, or its members changed: `userIDs` (its members, and whoever
    /// just left it) get its new state; `joined` are its new members, who now share it with the
    /// others.
    func roomChanged(_ room: Rooms.Info, to userIDs: [Int64], joined: [Int64])
    /// A member changed their own settings for a chat: their devices get them.
    func settingsChanged(roomID: Int64, _ settings: ChatSettings, to userID: Int64)
    /// A user changed their display name or avatar: `userIDs` (they and everyone who shares a
    /// room with them) get the new profile.
    func profileChanged(_ user: User, to userIDs: [Int64])
    /// Something happened to a call: `deviceIDs` (ringing, or in it) are told.
    func call(_ event: CallEvent, to deviceIDs: Set<Int64>)
    /// The devices with a socket open now.
    func connectedDeviceIDs() -> Set<Int64>
    /// The devices of `userIDs` with a socket open now.
    func connectedDeviceIDs(ofUsers userIDs: Set<Int64>) -> Set<Int64>
    /// How many users and devices have a socket open now.
    func onlineCounts() -> (users: Int, devices: Int)
}

extension LiveEvents where Self == NoLiveEvents {
    /// For a process that serves no sockets: nobody is online, so there is no one to tell.
    public static var none: NoLiveEvents { NoLiveEvents() }
}

/// The live side of a process without sockets, such as a CLI command.
public struct NoLiveEvents: LiveEvents {
    public func published(_ message: Message, to memberIDs: [Int64], answering answer: SendAnswer?) {}
    public func batchPublished() {}
    public func answer(_ answer: SendAnswer) {}
    public func changed(_ event: MessageEvent, to memberIDs: [Int64], answering answer: SendAnswer?) {}
    public func deleted(roomID: Int64, seq: Int64, to memberIDs: [Int64]) {}
    public func linkRequested(_ request: LinkRequest, to userID: Int64) {}
    public func sessionEnded(deviceID: Int64) {}
    public func sessionsEnded(userID: Int64) {}
    public func memberLeft(userID: Int64, roomID: Int64) {}
    public func roomChanged(_ room: Rooms.Info, to userIDs: [Int64], joined: [Int64]) {}
    public func settingsChanged(roomID: Int64, _ settings: ChatSettings, to userID: Int64) {}
    public func profileChanged(_ user: User, to userIDs: [Int64]) {}
    public func call(_ event: CallEvent, to deviceIDs: Set<Int64>) {}
    public func connectedDeviceIDs() -> Set<Int64> { [] }
    public func connectedDeviceIDs(ofUsers userIDs: Set<Int64>) -> Set<Int64> { [] }
    public func onlineCounts() -> (users: Int, devices: Int) { (0, 0) }
}

/// The socket a send came from, to which its answer goes; the socket side decides what it is.
public protocol SendOrigin: AnyObject, Sendable {}

/// Who sends a message: what the moderation rules look at, and whose device it is.
public struct Sender: Sendable {
    public let userID: Int64
    public let username: String
    public let deviceID: Int64
    /// When the account was created: `newAccountDays` rules look at it.
    public let accountCreatedAt: Int64

    public init(userID: Int64, username: String, deviceID: Int64, accountCreatedAt: Int64) {
        self.userID = userID
        self.username = username
        self.deviceID = deviceID
        self.accountCreatedAt = accountCreatedAt
    }

    public init(_ session: Session) {
        self.init(
            userID: session.user.id, username: session.user.username, deviceID: session.device.id,
            accountCreatedAt: session.user.createdAt)
    }
}

/// How a send ended, for the socket it came from.
public struct SendAnswer: Sendable {
    public enum Outcome: Sendable {
        /// Stored under `seq` at `ts`. `body` is the stored text when the rules masked part of it
        /// (nil when stored as sent); `held` says a moderator must approve it first.
        /// `messageID` is the stored message's id, for a send (nil for a change).
        case stored(seq: Int64, ts: Int64, body: String?, held: Bool, messageID: Int64? = nil)
        case refused(ServiceError)
    }

    public let origin: any SendOrigin
    /// The client's id for the send.
    public let clientID: String
    public let outcome: Outcome
}

/// A device waiting for one of the user's devices to approve it (QR linking).
public struct LinkRequest: Sendable {
    public let code: String
    public let deviceName: String
    public let userAgent: String
    public let ip: String
}

/// A send whose answer a caller waits for (a webhook's HTTP request, not a socket): the writer
/// resumes it exactly once with the send's outcome, when it has one.
final class AwaitedSend: SendOrigin {
    private let continuation: Mutex<CheckedContinuation<SendAnswer.Outcome, Never>?>

    init(_ continuation: CheckedContinuation<SendAnswer.Outcome, Never>) {
        self.continuation = Mutex(continuation)
    }

    func resume(_ outcome: SendAnswer.Outcome) {
        continuation.withLock { waiting in
            waiting?.resume(returning: outcome)
            waiting = nil
        }
    }
}
