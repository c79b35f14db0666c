import Foundation

/// Everything a Hearth operation can refuse, with the stable `code` clients see and a sentence for people.
///
/// The Web layer maps each case to one HTTP status; the CLI prints `message`.
public enum ServiceError: Error, Equatable, Sendable {
    case invalidUsername(String)
    case usernameReserved
    case usernameTaken
    case passwordTooShort(minimum: Int)
    case passwordTooLong(maximumBytes: Int)
    case passwordTooCommon
    case invalidDeviceName(String)
    case invalidField(String)
    case registrationClosed
    case inviteRequired
    case inviteInvalid
    case inviteExpired
    case inviteUsedUp
    case inviteRevoked
    case invalidInviteOptions(String)
    case invalidCredentials
    /// A change that needs the current password was given a wrong one.
    case wrongPassword
    case accountDisabled
    case unauthorized
    case forbidden
    case notFound(String)
    case setupUnavailable
    /// Too many attempts; retry after the given number of seconds.
    case rateLimited(retryAfter: Int)
    /// The password hashing queue is full; retry after the given number of seconds.
    case busy(retryAfter: Int)
    case storageFull
    case roomNotFound
    case notAMember
    case tooManyRooms(limit: Int)
    case tooManyMembers(limit: Int)
    case invalidRoom(String)
    case tooLarge(limit: Int)
    case linkInvalid
    case linkExpired
    case linkUsed
    case linkDenied
    case linkPending
    case tooManyDevices(limit: Int)
    case tooManySubscriptions(limit: Int)
    case unsupportedType(String)
    case typeMismatch(String)
    case quotaExceeded(limit: Int64)
    case emptyBody
    case rangeNotSatisfiable(size: Int64)
    case backupFailed(String)
    case restoreFailed(String)
    case invalidRule(String)
    /// A moderation rule blocked the message; the rule's own message, when it has one.
    case blockedByRule(String?)
    /// The sender is muted until the given time (milliseconds since the epoch).
    case muted(until: Int64)
    case alreadyReported
    /// Editing (or, for members, deleting) a message someone else sent.
    case notYours
    case invalidDecision(String)
    /// A search that cannot be read (the sentence says why and how to write it).
    case invalidQuery(String)
    /// A call signal for a call that is not on (it ended, or never began), or not the sender's.
    case callNotFound
    /// WebRTC signalling to a device that is not in the call.
    case notInCall
    case `internal`(String)

    /// The snake_case code of error bodies (docs/ADMIN.md, *Error codes*).
    public var code: String {
        switch self {
        case .invalidUsername: "invalid_username"
        case .usernameReserved: "username_reserved"
        case .usernameTaken: "username_taken"
        case .passwordTooShort: "password_too_short"
        case .passwordTooLong: "password_too_long"
        case .passwordTooCommon: "password_too_common"
        case .invalidDeviceName: "invalid_device_name"
        case .invalidField: "invalid_field"
        case .registrationClosed: "registration_closed"
        case .inviteRequired: "invite_required"
        case .inviteInvalid: "invite_invalid"
        case .inviteExpired: "invite_expired"
        case .inviteUsedUp: "invite_used_up"
        case .inviteRevoked: "invite_revoked"
        case .invalidInviteOptions: "invalid_invite_options"
        case .invalidCredentials: "invalid_credentials"
        case .wrongPassword: "wrong_password"
        case .accountDisabled: "account_disabled"
        case .unauthorized: "unauthorized"
        case .forbidden: "forbidden"
        case .notFound: "not_found"
        case .setupUnavailable: "setup_unavailable"
        case .rateLimited: "rate_limited"
        case .busy: "busy"
        case .storageFull: "storage_full"
        case .roomNotFound: "room_not_found"
        case .notAMember: "not_a_member"
        case .tooManyRooms: "too_many_rooms"
        case .tooManyMembers: "too_many_members"
        case .invalidRoom: "invalid_room"
        case .tooLarge: "too_large"
        case .linkInvalid: "link_invalid"
        case .linkExpired: "link_expired"
        case .linkUsed: "link_used"
        case .linkDenied: "link_denied"
        case .linkPending: "link_pending"
        case .tooManyDevices: "too_many_devices"
        case .tooManySubscriptions: "too_many_subscriptions"
        case .unsupportedType: "unsupported_type"
        case .typeMismatch: "type_mismatch"
        case .quotaExceeded: "quota_exceeded"
        case .emptyBody: "empty_body"
        case .rangeNotSatisfiable: "range_not_satisfiable"
        case .backupFailed: "backup_failed"
        case .restoreFailed: "restore_failed"
        case .invalidRule: "invalid_rule"
        case .blockedByRule: "blocked_by_rule"
        case .muted: "muted"
        case .alreadyReported: "already_reported"
        case .notYours: "not_yours"
        case .invalidDecision: "invalid_decision"
        case .invalidQuery: "invalid_query"
        case .callNotFound: "unknown_call"
        case .notInCall: "not_in_call"
        case .internal: "internal_error"
        }
    }

    /// A sentence that says what is wrong and what to do.
    public var message: String {
        switch self {
        case .invalidUsername(let reason): "Usernames are 3–32 characters of a-z, 0-9, '.', '_' and '-': \(reason)."
        case .usernameReserved: "That username is reserved; please pick another."
        case .usernameTaken: "That username is taken; please pick another."
        case .passwordTooShort(let minimum): "Passwords need at least \(minimum) characters."
        case .passwordTooLong(let maximum): "Passwords may be at most \(maximum) bytes long."
        case .passwordTooCommon: "That password is too common or too easy to guess; please pick another."
        case .invalidDeviceName(let reason): "Invalid device name: \(reason)."
        case .invalidField(let reason): reason
        case .registrationClosed: "Registration is closed on this server; ask the admin for an account."
        case .inviteRequired: "This server needs an invite to register; ask a member for an invite link."
        case .inviteInvalid: "That invite code does not exist; check the link you were sent."
        case .inviteExpired: "That invite has expired; ask for a new one."
        case .inviteUsedUp: "That invite has been used up; ask for a new one."
        case .inviteRevoked: "That invite was revoked; ask for a new one."
        case .invalidInviteOptions(let reason): "Invalid invite options: \(reason)."
        case .invalidCredentials: "Wrong username or password."
        case .wrongPassword: "That is not your current password; nothing was changed."
        case .accountDisabled: "This account is disabled; ask the admin."
        case .unauthorized: "Sign in first: this needs a valid session."
        case .forbidden: "You are not allowed to do that."
        case .notFound(let what): "\(what) was not found."
        case .setupUnavailable:
            "Setup is no longer available: an admin exists, or the setup link is not the current one."
        case .rateLimited(let seconds): "Too many attempts; try again \(Words.wait(seconds: seconds))."
        case .busy(let seconds): "The server is busy; try again \(Words.wait(seconds: seconds))."
        case .storageFull: "The server's disk is full; nothing was saved. Tell the admin."
        case .roomNotFound: "That room does not exist."
        case .notAMember: "You are not a member of that room."
        case .tooManyRooms(let limit): "Someone would be in more than \(limit) rooms."
        case .tooManyMembers(let limit): "A room may have at most \(limit) members."
        case .invalidRoom(let reason): "Invalid room: \(reason)."
        case .tooLarge(let limit): "That is too large; the limit is \(limit) bytes."
        case .linkInvalid: "That link code does not exist; scan the code shown on your other device again."
        case .linkExpired: "That link code has expired; ask for a new one on your other device."
        case .linkUsed: "That link code was already used; ask for a new one on your other device."
        case .linkDenied: "Your other device said no to this request."
        case .linkPending: "Waiting for your other device to approve."
        case .unsupportedType(let type):
            "\(Words.kinds(of: type)) can't be shared here."
        case .typeMismatch(let type):
            "This file says it is \(Words.kind(of: type)), but what is inside is something else; it was not shared."
        case .quotaExceeded(let limit): "You have used your \(limit / 1_048_576) MiB for files; delete some first."
        case .emptyBody: "The upload is empty."
        case .rangeNotSatisfiable(let size): "That range is outside the file's \(size) bytes."
        case .backupFailed(let reason): "The backup failed: \(reason)."
        case .restoreFailed(let reason): "Nothing was restored: \(reason)."
        case .invalidRule(let reason): "Invalid rule: \(reason)."
        case .blockedByRule(let message): message ?? "This message was blocked by a rule of this server."
        case .muted:
            "A moderator muted you for a while; your messages are not sent until the mute ends."
        case .alreadyReported: "You have already reported this message; a moderator will look at it."
        case .notYours: "That is someone else's message: only its sender may change it."
        case .invalidDecision(let reason): reason
        case .invalidQuery(let reason): reason
        case .callNotFound: "There is no such call: it ended, or it never began."
        case .notInCall: "That device is not in this call."
        case .tooManyDevices(let limit):
            "You have \(limit) devices signed in, the most allowed; sign one out first (Devices, on another device)."
        case .tooManySubscriptions(let limit):
            "This device has \(limit) push subscriptions, the most allowed; remove one first."
        case .internal: "Something went wrong on the server; it has been logged."
        }
    }
}
