import Foundation
import Hummingbird
import Services
import Storage

/// Rooms, their members and their history.
struct RoomsController: Sendable {
    let rooms: Rooms
    let authenticator: SessionAuthenticator

    /// JSON bodies of these routes are small.
    static let bodyLimit = 64 * 1024

    func addRoutes(to api: RouterGroup<AppRequestContext>) {
        let api = api.signedIn(authenticator)
        api.get("rooms", use: list)
        api.post("rooms", use: create)
        api.get("rooms/{id}", use: show)
        api.patch("rooms/{id}", use: rename)
        api.post("rooms/{id}/members", use: addMember)
        api.patch("rooms/{id}/members/{username}", use: setAdmin)
        api.patch("rooms/{id}/settings", use: settings)
        api.delete("rooms/{id}/members/{username}", use: removeMember)
        api.get("rooms/{id}/messages", use: history)
        api.get("rooms/{id}/messages/{seq}/receipts", use: receipts)
    }

    struct CreateBody: Decodable {
        let name: String?
        let members: [String]
        let direct: Bool?
    }

    struct MemberBody: Decodable {
        let username: String
    }

    struct RenameBody: Decodable {
        let name: String
    }

    struct AdminBody: Decodable {
        let admin: Bool
    }

    struct SettingsBody: Decodable {
        let mute: String?
        let pinned: Bool?
        let archived: Bool?
    }

    /// `PATCH /api/v1/rooms/{id}/settings` `{mute?: "1h"|"8h"|"1w"|"always"|"off", pinned?, archived?}`
    /// — this member's own settings for the chat, synced to their devices: `{settings: {mutedUntil,
    /// pinned, archived}}`.
    @Sendable func settings(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let body = try await request.decodeJSON(SettingsBody.self, limit: Self.bodyLimit)
        guard body.mute != nil || body.pinned != nil || body.archived != nil else {
            throw ServiceError.invalidField("Give at least one of mute, pinned and archived.")
        }
        let mute = try body.mute.map { text in
            guard let mute = Rooms.Mute(rawValue: text) else {
                throw ServiceError.invalidField("mute must be 1h, 8h, 1w, always or off.")
            }
            return mute
        }
        let settings = try await rooms.updateSettings(
            try context.roomID(), mute: mute, pinned: body.pinned, archived: body.archived, by: session.user)
        return try .json(["settings": ChatSettingsJSON(settings)])
    }

    /// `PATCH /api/v1/rooms/{id}` `{name}` — renames a group (its room admins or a server admin).
    @Sendable func rename(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let body = try await request.decodeJSON(RenameBody.self, limit: Self.bodyLimit)
        let info = try await rooms.rename(try context.roomID(), to: body.name, by: session.user)
        return try .json(["room": RoomJSON(info)])
    }

    /// `PATCH /api/v1/rooms/{id}/members/{username}` `{admin}` — appoints a room admin, or makes
    /// one a member again (its room admins or a server admin).
    @Sendable func setAdmin(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let body = try await request.decodeJSON(AdminBody.self, limit: Self.bodyLimit)
        let info = try await rooms.setAdmin(
            try context.roomID(), username: context.parameters.get("username") ?? "", admin: body.admin,
            by: session.user)
        return try .json(["room": RoomJSON(info)])
    }

    /// `GET /api/v1/rooms` — the user's rooms with their newest message and unread count.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let summaries = try await rooms.list(for: session.user)
        return try .json(["rooms": summaries.map(RoomJSON.init)])
    }

    /// `POST /api/v1/rooms` — creates a group, or finds or creates the direct room with one person:
    /// 201 when created, 200 for an existing direct room; `{room}`.
    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let body = try await request.decodeJSON(CreateBody.self, limit: Self.bodyLimit)
        let (info, created) = try await rooms.create(
            by: session.user, name: body.name, usernames: body.members, direct: body.direct ?? false)
        return try .json(["room": RoomJSON(info)], status: created ? .created : .ok)
    }

    /// `GET /api/v1/rooms/{id}` — one room and its members.
    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let info = try await rooms.info(try context.roomID(), for: session.user)
        return try .json(["room": RoomJSON(info)])
    }

    /// `POST /api/v1/rooms/{id}/members` `{username}` — adds a member (the group's owner or an admin).
    @Sendable func addMember(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let body = try await request.decodeJSON(MemberBody.self, limit: Self.bodyLimit)
        let info = try await rooms.addMember(try context.roomID(), username: body.username, by: session.user)
        return try .json(["room": RoomJSON(info)])
    }

    /// `DELETE /api/v1/rooms/{id}/members/{username}` — removes a member, or leaves.
    @Sendable func removeMember(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let username = context.parameters.get("username") ?? ""
        let info = try await rooms.removeMember(try context.roomID(), username: username, by: session.user)
        return try .json(["room": RoomJSON(info)])
    }

    /// `GET /api/v1/rooms/{id}/messages?before=SEQ&limit=N` — history, newest first; with
    /// `around=SEQ` instead of `before`, the messages around that one (where a search result opens).
    @Sendable func history(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let before = try request.positiveQuery("before")
        let around = try request.positiveQuery("around")
        guard before == nil || around == nil else {
            throw APIError(.badRequest, code: "invalid_field", message: "Give `before` or `around`, not both.")
        }
        let limit = try request.positiveQuery("limit").map { Int(clamping: $0) }
        let messages =
            if let around {
                try await rooms.history(try context.roomID(), for: session.user, around: around, limit: limit)
            } else {
                try await rooms.history(try context.roomID(), for: session.user, before: before, limit: limit)
            }
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: MessageJSON.page(messages))))
    }

    struct ReceiptsJSON: Encodable {
        let read: [String]
        let delivered: [String]
        let waiting: [String]
    }

    /// `GET /api/v1/rooms/{id}/messages/{seq}/receipts` — who has read the message, who has it
    /// on a device but has not read it, and who has neither (every member but its sender).
    @Sendable func receipts(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        guard let seq = context.parameters.get("seq").flatMap(Int64.init), seq > 0 else {
            throw ServiceError.notFound("That message")
        }
        let receipts = try await rooms.receipts(try context.roomID(), seq: seq, for: session.user)
        return try .json(ReceiptsJSON(read: receipts.read, delivered: receipts.delivered, waiting: receipts.waiting))
    }
}

/// A room as the API shows it.
struct RoomJSON: Encodable {
    /// A member: their profile (``ProfileJSON``), how far they have read, whether they manage
    /// the group, and `bot: true` for a program.
    struct Member: Encodable {
        let profile: ProfileJSON
        let lastReadSeq: Int64
        let admin: Bool
        let bot: Bool

        func encode(to encoder: any Encoder) throws {
            try profile.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(lastReadSeq, forKey: .lastReadSeq)
            try container.encode(admin, forKey: .admin)
            if bot { try container.encode(bot, forKey: .bot) }
        }

        enum CodingKeys: String, CodingKey { case lastReadSeq, admin, bot }
    }

    let id: Int64
    let kind: String
    let name: String?
    let owner: Int64?
    let members: [Member]
    let lastMessage: MessageJSON.Embedded?
    let unread: Int?
    /// The signed-in member's own settings for it (in their room list only).
    let settings: ChatSettingsJSON?

    init(_ info: Rooms.Info) {
        id = info.room.id
        kind = info.room.kind.rawValue
        name = info.room.name
        owner = info.room.ownerID
        members = info.members.map {
            Member(
                profile: ProfileJSON(
                    id: $0.userID, username: $0.username, displayName: $0.displayName, avatar: $0.avatar),
                lastReadSeq: $0.lastReadSeq, admin: $0.admin, bot: $0.bot)
        }
        lastMessage = nil
        unread = nil
        settings = nil
    }

    init(_ summary: Rooms.Summary) {
        let base = RoomJSON(summary.info)
        id = base.id
        kind = base.kind
        name = base.name
        owner = base.owner
        members = base.members
        lastMessage = summary.lastMessage.map(MessageJSON.Embedded.init)
        unread = summary.unread
        settings = ChatSettingsJSON(summary.settings)
    }
}

/// A member's own settings for a chat: `{mutedUntil, pinned, archived}`, `mutedUntil` in ms or null.
struct ChatSettingsJSON: Encodable {
    let mutedUntil: Int64?
    let pinned: Bool
    let archived: Bool

    init(_ settings: ChatSettings) {
        mutedUntil = settings.mutedUntil
        pinned = settings.pinned
        archived = settings.archived
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(mutedUntil, forKey: .mutedUntil)  // null when not muted, not left out
        try container.encode(pinned, forKey: .pinned)
        try container.encode(archived, forKey: .archived)
    }

    enum CodingKeys: String, CodingKey { case mutedUntil, pinned, archived }
}
