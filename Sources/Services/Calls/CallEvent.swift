import Foundation

/// Something that happened to a call, for the devices it concerns (the `call` frame,
/// docs/PROTOCOL.md *Calls*). Calls carry no content: nothing of them is stored but the line a
/// call leaves in its room when it ends, and a count per day.
public struct CallEvent: Sendable, Equatable {
    public enum Action: String, Sendable {
        /// Someone calls: every online device of every other member rings.
        case ring
        /// A device took the call (to the devices already in it: expect its offer).
        case accept
        /// To a device that just took or joined the call: the devices already in it, to call.
        case joined
        /// Another device of the same user took the call, or declined it: stop ringing.
        case answeredElsewhere = "answered_elsewhere"
        case decline
        /// A device left the call, or the call ended (`reason` says why).
        case hangup
        /// The one called is in another call.
        case busy
    }

    /// A device in the call, and whose it is.
    public struct Participant: Sendable, Equatable {
        public let userID: Int64
        public let username: String
        public let deviceID: Int64

        public init(userID: Int64, username: String, deviceID: Int64) {
            self.userID = userID
            self.username = username
            self.deviceID = deviceID
        }
    }

    public let callID: String
    public let roomID: Int64
    public let action: Action
    public let video: Bool
    /// Who did it (the caller for a ring), when someone did.
    public let from: Participant?
    /// For `joined`: the devices in the call.
    public var participants: [Participant] = []
    /// For a `hangup` that ends the call: `ended` (the last but one left), `timeout` (no answer),
    /// `cancelled` (the caller hung up first), `declined`, `busy`.
    public var reason: String? = nil
}
