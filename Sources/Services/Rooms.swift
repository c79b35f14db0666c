import Foundation
import Logging
import Storage

/// Direct chats and groups: creating them, their members, listings and history.
public final class Rooms: ContextualService {
    /// A room as its members see it.
    public struct Info: Sendable, Equatable {
        public let room: Room
        public let members: [RoomMember]
    }

    /// A room in a user's list: with its newest message, how many are unread, and their own
    /// settings for it.
    public struct Summary: Sendable {
        public let info: Info
        public let lastMessage: Message?
        public let unread: Int
        public let settings: ChatSettings
    }

    let limits: HearthConfiguration.RelayLimits
    /// Writes the system lines of room changes ("mum added sam") into the message sequence.
    let writer: MessageWriter
    let context: ServiceContext

    init(context: ServiceContext, limits: HearthConfiguration.RelayLimits, writer: MessageWriter) {
        self.context = context
        self.limits = limits
        self.writer = writer
    }

    /// Creates a group named `name` with the creator and `usernames`, or — with `direct` — finds or
    /// creates the one direct room between the creator and the single other username.
    /// Returns the room and whether it was created now.
    public func create(by creator: User, name: String?, usernames: [String], direct: Bool) async throws -> (Info, Bool)
    {
        let limits = limits
        let now = now
        let trimmed = direct ? "" : try checkedName(name)
        let result: (Info, Bool) = try await run {
            try await database.write { store in
                var others: [User] = []
                for username in Set(usernames.map { $0.lowercased() }) where username != creator.username {
                    guard let user = try store.user(named: username), !user.disabled else {
                        throw ServiceError.notFound("User \(username)")
                    }
                    others.append(user)
                }
                if direct {
                    guard others.count == 1, usernames.count == 1 else {
                        throw ServiceError.invalidRoom("a direct chat is with exactly one other person")
                    }
                    let pair = [creator.id, others[0].id].sorted()
                    let key = "\(pair[0]):\(pair[1])"
                    if let existing = try store.room(directKey: key) {
                        return (Info(room: existing, members: try store.members(roomID: existing.id)), false)
                    }
                    try Self.checkRoomLimits(store, userIDs: pair, limits: limits)
                    let room = try store.insertRoom(
                        kind: .direct, name: nil, ownerID: nil, directKey: key, memberIDs: pair, now: now)
                    return (Info(room: room, members: try store.members(roomID: room.id)), true)
                }
                let memberIDs = [creator.id] + others.map(\.id)
                guard memberIDs.count <= limits.membersPerRoom else {
                    throw ServiceError.tooManyMembers(limit: limits.membersPerRoom)
                }
                try Self.checkRoomLimits(store, userIDs: memberIDs, limits: limits)
                let room = try store.insertRoom(
                    kind: .group, name: trimmed, ownerID: creator.id, directKey: nil, memberIDs: memberIDs, now: now)
                return (Info(room: room, members: try store.members(roomID: room.id)), true)
            }
        }
        if result.1 {
            logger.info("room created", metadata: ["room": "\(result.0.room.id)", "kind": "\(result.0.room.kind)"])
            // Every member's devices learn of the new chat at once, before its first message.
            let members = result.0.members.map(\.userID)
            live.roomChanged(result.0, to: members, joined: members)
        }
        return result
    }

    static func checkRoomLimits(_ store: Store, userIDs: [Int64], limits: HearthConfiguration.RelayLimits) throws {
        for userID in userIDs where try store.roomCount(userID: userID) >= limits.roomsPerUser {
            throw ServiceError.tooManyRooms(limit: limits.roomsPerUser)
        }
    }

    /// The rooms `user` is in, most recently active first.
    public func list(for user: User) async throws -> [Summary] {
        try await run {
            try await database.read { store in
                try store.rooms(userID: user.id).map { room in
                    let members = try store.members(roomID: room.id)
                    let lastRead = members.first { $0.userID == user.id }?.lastReadSeq ?? 0
                    return Summary(
                        info: Info(room: room, members: members), lastMessage: try store.lastMessage(roomID: room.id),
                        unread: try store.unreadCount(roomID: room.id, userID: user.id, after: lastRead),
                        settings: try store.chatSettings(roomID: room.id, userID: user.id) ?? ChatSettings())
                }
            }
        }
    }

    /// One room, if `user` is in it (``ServiceError/roomNotFound`` otherwise, so ids reveal nothing).
    public func info(_ roomID: Int64, for user: User) async throws -> Info {
        try await run {
            try await database.read { store in
                guard let room = try store.room(id: roomID), try store.isMember(roomID: roomID, userID: user.id) else {
                    throw ServiceError.roomNotFound
                }
                return Info(room: room, members: try store.members(roomID: roomID))
            }
        }
    }

    /// Renames a group; its room admins or a server admin may.
    public func rename(_ roomID: Int64, to name: String, by actor: User) async throws -> Info {
        let name = try checkedName(name)
        let info: Info = try await run {
            try await database.write { store in
                var room = try Self.managedGroup(store, roomID, by: actor)
                try store.renameRoom(id: roomID, to: name)
                room.name = name
                return Info(room: room, members: try store.members(roomID: roomID))
            }
        }
        try await announce(info, "\(actor.username) renamed the group to “\(name)”", by: actor)
        return info
    }

    /// How long a member may mute a chat for (`PATCH /api/v1/rooms/{id}/settings {mute}`).
    public enum Mute: String, Sendable, CaseIterable {
        case hour = "1h", eightHours = "8h", week = "1w", always, off

        /// The stored end of the mute: nil for off, the last millisecond of year 9999 for always.
        func until(now: Int64) -> Int64? {
            switch self {
            case .hour: now + 3_600_000
            case .eightHours: now + 8 * 3_600_000
            case .week: now + 7 * 86_400_000
            case .always: Rooms.mutedForever
            case .off: nil
            }
        }
    }

    /// The `mutedUntil` of a chat muted for good.
    public static let mutedForever: Int64 = 253_402_300_799_999

    /// Changes one member's own settings for a chat (`PATCH /api/v1/rooms/{id}/settings`): a mute
    /// (no pushes from it but mentions until then), pinned, archived; what is not given stays.
    /// Every device of theirs online gets the new settings at once.
    public func updateSettings(
        _ roomID: Int64, mute: Mute?, pinned: Bool?, archived: Bool?, by user: User
    ) async throws -> ChatSettings {
        let now = now
        let settings = try await run {
            try await database.write { store in
                guard var settings = try store.chatSettings(roomID: roomID, userID: user.id) else {
                    throw try store.room(id: roomID) == nil ? ServiceError.roomNotFound : ServiceError.notAMember
                }
                if let mute { settings.mutedUntil = mute.until(now: now) }
                if let pinned { settings.pinned = pinned }
                if let archived { settings.archived = archived }
                try store.setChatSettings(settings, roomID: roomID, userID: user.id)
                return settings
            }
        }
        live.settingsChanged(roomID: roomID, settings, to: user.id)
        return settings
    }

    /// Adds `username` to a group; its room admins or a server admin may.
    public func addMember(_ roomID: Int64, username: String, by actor: User) async throws -> Info {
        let now = now
        let limits = limits
        let (info, added): (Info, User?) = try await run {
            try await database.write { store in
                let room = try Self.managedGroup(store, roomID, by: actor)
                guard let user = try store.user(named: username), !user.disabled else {
                    throw ServiceError.notFound("User \(username.lowercased())")
                }
                guard try !store.isMember(roomID: roomID, userID: user.id) else {
                    return (Info(room: room, members: try store.members(roomID: roomID)), nil)
                }
                guard try store.memberCount(roomID: roomID) < limits.membersPerRoom else {
                    throw ServiceError.tooManyMembers(limit: limits.membersPerRoom)
                }
                try Self.checkRoomLimits(store, userIDs: [user.id], limits: limits)
                try store.addMember(roomID: roomID, userID: user.id, now: now)
                return (Info(room: room, members: try store.members(roomID: roomID)), user)
            }
        }
        if let added {
            logger.info("member added", metadata: ["room": "\(roomID)"])
            try await announce(info, "\(actor.username) added \(added.username)", by: actor, joined: [added.id])
        }
        return info
    }

    /// Removes `username` from a group: its room admins or a server admin may remove anyone,
    /// anyone may leave. The removed member stops receiving the room at once and keeps what they
    /// had. The last room admin cannot go while others stay: they appoint another first.
    public func removeMember(_ roomID: Int64, username: String, by actor: User) async throws -> Info {
        let name = username.lowercased()
        let (info, removed): (Info, User) = try await run {
            try await database.write { store in
                guard let room = try store.room(id: roomID),
                    try store.isMember(roomID: roomID, userID: actor.id) || actor.role >= .admin
                else { throw ServiceError.roomNotFound }
                guard room.kind == .group else {
                    throw ServiceError.invalidRoom("members of a direct chat cannot change")
                }
                let members = try store.members(roomID: roomID)
                guard let user = try store.user(named: name),
                    let member = members.first(where: { $0.userID == user.id })
                else { throw ServiceError.notFound("Member \(name)") }
                if user.id != actor.id { try Self.checkRoomAdmin(actor, members: members) }
                try Self.checkAnAdminStays(members, without: member.userID)
                try store.removeMember(roomID: roomID, userID: user.id)
                return (Info(room: room, members: try store.members(roomID: roomID)), user)
            }
        }
        live.memberLeft(userID: removed.id, roomID: roomID)
        logger.info("member removed", metadata: ["room": "\(roomID)"])
        // The one who went learns the room's new state (without them), then nothing more of it.
        live.roomChanged(info, to: [removed.id], joined: [])
        let text =
            removed.id == actor.id ? "\(actor.username) left" : "\(actor.username) removed \(removed.username)"
        try await announce(info, text, by: actor)
        return info
    }

    /// Makes a member a room admin, or not; its room admins or a server admin may. The last room
    /// admin stays one while others are in the group.
    public func setAdmin(_ roomID: Int64, username: String, admin: Bool, by actor: User) async throws -> Info {
        let name = username.lowercased()
        let (info, changed): (Info, Bool) = try await run {
            try await database.write { store in
                let room = try Self.managedGroup(store, roomID, by: actor)
                let members = try store.members(roomID: roomID)
                guard let member = members.first(where: { $0.username == name }) else {
                    throw ServiceError.notFound("Member \(name)")
                }
                if !admin { try Self.checkAnAdminStays(members, without: member.userID) }
                let changed = try store.setRoomAdmin(roomID: roomID, userID: member.userID, admin)
                return (Info(room: room, members: try store.members(roomID: roomID)), changed)
            }
        }
        if changed {
            let text =
                admin ? "\(actor.username) made \(name) a group admin" : "\(actor.username) made \(name) a member"
            try await announce(info, text, by: actor)
        }
        return info
    }

    /// Tells the room's members its new state, then writes the change's line into its timeline.
    private func announce(_ info: Info, _ text: String, by actor: User, joined: [Int64] = []) async throws {
        live.roomChanged(info, to: info.members.map(\.userID), joined: joined)
        try await post(text, in: info, by: actor)
    }

    private func post(_ text: String, in info: Info, by actor: User) async throws {
        try await run { try await writer.post(text, in: info.room.id, by: actor) }
    }

    /// A group that `actor` may manage: one of its room admins, or a server admin.
    static func managedGroup(_ store: Store, _ roomID: Int64, by actor: User) throws -> Room {
        guard let room = try store.room(id: roomID),
            try store.isMember(roomID: roomID, userID: actor.id) || actor.role >= .admin
        else { throw ServiceError.roomNotFound }
        guard room.kind == .group else { throw ServiceError.invalidRoom("members of a direct chat cannot change") }
        try checkRoomAdmin(actor, members: try store.members(roomID: roomID))
        return room
    }

    static func checkRoomAdmin(_ actor: User, members: [RoomMember]) throws {
        guard actor.role >= .admin || members.contains(where: { $0.userID == actor.id && $0.admin }) else {
            throw ServiceError.forbidden
        }
    }

    /// Refuses a change that would leave a group with members but no room admin.
    static func checkAnAdminStays(_ members: [RoomMember], without userID: Int64) throws {
        let staying = members.filter { $0.userID != userID }
        guard staying.isEmpty || staying.contains(where: \.admin) else {
            throw ServiceError.invalidRoom("a group needs an admin: make someone else one first")
        }
    }

    /// A group name: 1 to `roomNameMaxCharacters` characters, no control characters.
    func checkedName(_ name: String?) throws(ServiceError) -> String {
        let trimmed = (name ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= limits.roomNameMaxCharacters,
            !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw ServiceError.invalidRoom("a group needs a name of 1 to \(limits.roomNameMaxCharacters) characters")
        }
        return trimmed
    }

    /// A page of a room's history, newest first: messages before `before`, at most `limit`.
    public func history(_ roomID: Int64, for user: User, before: Int64?, limit: Int?) async throws -> [Message] {
        let limit = min(max(limit ?? 50, 1), limits.historyMaxLimit)
        return try await run {
            try await database.read { store in
                guard try store.isMember(roomID: roomID, userID: user.id) else { throw ServiceError.roomNotFound }
                return try store.history(roomID: roomID, before: before, limit: limit)
            }
        }
    }

    /// The messages around `seq` in a room the user is in, newest first: about half older than it
    /// (it included), half newer.
    public func history(_ roomID: Int64, for user: User, around seq: Int64, limit: Int?) async throws -> [Message] {
        let limit = min(max(limit ?? 50, 2), limits.historyMaxLimit)
        return try await run {
            try await database.read { store in
                guard try store.isMember(roomID: roomID, userID: user.id) else { throw ServiceError.roomNotFound }
                let newer = try store.history(roomID: roomID, after: seq, limit: limit / 2)
                let older = try store.history(roomID: roomID, before: seq + 1, limit: limit - newer.count)
                return newer.reversed() + older
            }
        }
    }

    /// Who has read and who has received a message, for its sender's message info.
    public struct Receipts: Sendable {
        public let read: [String]
        /// Received on some device but not read yet.
        public let delivered: [String]
        /// Neither yet.
        public let waiting: [String]
    }

    /// The receipts of the message at `seq` in a room the user is in: every member but its sender.
    public func receipts(_ roomID: Int64, seq: Int64, for user: User) async throws -> Receipts {
        try await run {
            try await database.read { store in
                guard try store.isMember(roomID: roomID, userID: user.id) else { throw ServiceError.roomNotFound }
                guard let message = try store.message(roomID: roomID, seq: seq), !message.system else {
                    throw ServiceError.notFound("That message")
                }
                let others = try store.receiptMarks(roomID: roomID).filter { $0.userID != message.senderID }
                return Receipts(
                    read: others.filter { $0.read >= seq }.map(\.username),
                    delivered: others.filter { $0.read < seq && $0.delivered >= seq }.map(\.username),
                    waiting: others.filter { $0.read < seq && $0.delivered < seq }.map(\.username))
            }
        }
    }

    /// Every room with its member and message counts, newest first, `limit` at a time before the
    /// id `before` (the admin panel).
    public func overviews(before: Int64?, limit: Int) async throws -> [RoomOverview] {
        try await run { try await database.read { try $0.roomOverviews(before: before, limit: limit) } }
    }
}
