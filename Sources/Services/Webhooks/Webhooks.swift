import Credentials
import Foundation
import Storage
import Synchronization

/// Incoming webhooks: programs that post into a group through a secret URL.
///
/// Each webhook speaks as a bot user of its own, a member of its room with one device that never
/// signs in, so what it posts goes through the one message writer like anyone's: the moderation
/// rules screen it, it gets the next seq, it syncs and shows in history with the webhook's name
/// (the bot's display name) and a bot badge. Only the secret's SHA-256 is stored; the URL is
/// shown once, when made.
public final class Webhooks: ContextualService {
    let writer: MessageWriter
    let limits: HearthConfiguration.Limits
    let relayLimits: HearthConfiguration.RelayLimits
    private let buckets = Mutex([Int64: TokenBucket]())
    let context: ServiceContext

    init(
        context: ServiceContext, writer: MessageWriter, limits: HearthConfiguration.Limits,
        relayLimits: HearthConfiguration.RelayLimits
    ) {
        self.context = context
        self.writer = writer
        self.limits = limits
        self.relayLimits = relayLimits
    }

    /// How many files one post may carry (as many as any message).
    public var filesPerMessage: Int { relayLimits.attachmentsPerMessage }

    /// A webhook and, when just made, its secret (shown once).
    public struct Created: Sendable {
        public let webhook: Webhook
        public let secret: String
    }

    /// Makes a webhook for a group (its room admins and server admins): a bot user named after it
    /// joins the room. `name` is what its messages are shown as (1–64 characters, one line);
    /// `avatar`, if given, is one of the actor's own image uploads, checked as a profile's is.
    public func create(in roomID: Int64, name: String, avatar: String? = nil, by actor: User) async throws -> Created {
        let name = try Self.checkName(name)
        let secret = SecretToken.generate()
        let hash = SecretToken.digest(secret)
        let deviceToken = SecretToken.digest(SecretToken.generate())
        let now = now
        let perRoom = limits.webhooksPerRoom
        let avatarMaxBytes = limits.avatarMaxBytes
        let webhook = try await run {
            try await database.write { store -> Webhook in
                _ = try Rooms.managedGroup(store, roomID, by: actor)
                guard try store.webhooks(roomID: roomID).count < perRoom else {
                    throw ServiceError.invalidField("A room may have \(perRoom) webhooks; revoke one first.")
                }
                if let avatar {
                    try Profiles.checkAvatar(avatar, ownerID: actor.id, maxBytes: avatarMaxBytes, store: store)
                }
                var bot = User(
                    username: "hook-" + SecretToken.generateCode().prefix(10).lowercased(), passwordHash: "!",
                    role: .member, createdAt: now)
                bot = try store.insertUser(bot)
                try store.setBot(userID: bot.id)
                try store.setProfile(userID: bot.id, displayName: name, avatar: avatar)
                let device = try store.insertDevice(
                    userID: bot.id, name: "webhook", userAgent: nil, ip: nil, tokenHash: deviceToken, now: now)
                _ = try store.addMember(roomID: roomID, userID: bot.id, now: now)
                let webhook = try store.insertWebhook(
                    roomID: roomID, userID: bot.id, deviceID: device.id, name: name, secretHash: hash,
                    createdBy: actor.id, now: now)
                try store.audit(
                    AuditActor(user: actor, ip: nil), "webhook_created", target: "room \(roomID)", detail: name,
                    now: now)
                return webhook
            }
        }
        if let info = try? await roomInfo(roomID) {
            live.roomChanged(info, to: info.members.map(\.userID), joined: [webhook.userID])
        }
        logger.info("webhook created", metadata: ["room": "\(roomID)", "webhook": "\(webhook.id)"])
        return Created(webhook: webhook, secret: secret)
    }

    /// A group's webhooks, for its members.
    public func list(in roomID: Int64, by actor: User) async throws -> [Webhook] {
        try await run {
            try await database.read { store in
                guard try store.isMember(roomID: roomID, userID: actor.id) || actor.role >= .admin else {
                    throw ServiceError.roomNotFound
                }
                return try store.webhooks(roomID: roomID)
            }
        }
    }

    /// Every webhook of the server with its room's name (the admin panel's list).
    public func all() async throws -> [(webhook: Webhook, roomName: String?)] {
        try await run { try await database.read { try $0.allWebhooks() } }
    }

    /// The users that speak for webhooks, revoked ones' included (the panel tells them from bot accounts).
    public func botIDs() async throws -> Set<Int64> {
        try await run { try await database.read { try $0.webhookBotIDs() } }
    }

    /// Renames a webhook (its room admins and server admins).
    public func rename(_ id: Int64, in roomID: Int64, to name: String, by actor: User) async throws -> Webhook {
        let name = try Self.checkName(name)
        return try await run {
            try await database.write { store in
                _ = try Rooms.managedGroup(store, roomID, by: actor)
                guard let webhook = try store.webhook(id: id), webhook.roomID == roomID, webhook.revokedAt == nil else {
                    throw ServiceError.notFound("Webhook")
                }
                try store.renameWebhook(id: id, to: name)
                guard let renamed = try store.webhook(id: id) else { throw ServiceError.notFound("Webhook") }
                return renamed
            }
        }
    }

    /// Revokes a webhook: its URL stops working at once and its bot leaves the room (what it
    /// posted stays).
    public func revoke(_ id: Int64, in roomID: Int64, by actor: User) async throws {
        let now = now
        let webhook = try await run {
            try await database.write { store in
                _ = try Rooms.managedGroup(store, roomID, by: actor)
                guard let webhook = try store.webhook(id: id), webhook.roomID == roomID, webhook.revokedAt == nil else {
                    throw ServiceError.notFound("Webhook")
                }
                try store.revokeWebhook(id: id, now: now)
                _ = try store.removeMember(roomID: roomID, userID: webhook.userID)
                try store.audit(
                    AuditActor(user: actor, ip: nil), "webhook_revoked", target: "room \(roomID)", detail: webhook.name,
                    now: now)
                return webhook
            }
        }
        if let info = try? await roomInfo(roomID) {
            live.roomChanged(info, to: info.members.map(\.userID) + [webhook.userID], joined: [])
        }
    }

    /// A webhook found by its secret, allowed to post now: what ``post(_:body:attachments:)``
    /// posts as, and whose bot user owns the files it sends.
    public struct Caller: Sendable {
        public let webhook: Webhook
        public let bot: User
    }

    /// The webhook whose secret is `secret`, if it may post now. An unknown or revoked secret is
    /// ``ServiceError/notFound(_:)`` (nothing says the room exists); past
    /// `webhookMessagesPerMinute`, ``ServiceError/rateLimited(retryAfter:)``. Called before the
    /// request's body is read, so neither costs the server a byte of it.
    public func open(secret: String) async throws -> Caller {
        let hash = SecretToken.digest(secret)
        let found = try await run {
            try await database.read { store -> Caller? in
                guard let webhook = try store.webhook(secretHash: hash), let bot = try store.user(id: webhook.userID)
                else { return nil }
                return Caller(webhook: webhook, bot: bot)
            }
        }
        guard let found else { throw ServiceError.notFound("Webhook") }
        guard allowPost(found.webhook.id) else {
            throw ServiceError.rateLimited(retryAfter: 60 / max(1, limits.webhookMessagesPerMinute) + 1)
        }
        return found
    }

    /// Posts `body`, with the files the bot has just uploaded, as the webhook: the message's seq
    /// once stored, and whether the rules held it for review.
    public func post(
        _ caller: Caller, body: String, attachments: [String] = []
    ) async throws -> (seq: Int64, held: Bool) {
        let text = body.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty || !attachments.isEmpty else {
            throw ServiceError.invalidField("The message is empty; send some text.")
        }
        guard text.utf8.count <= relayLimits.maxBodyBytes else {
            throw ServiceError.invalidField("The message is longer than \(relayLimits.maxBodyBytes) bytes.")
        }
        // SQLite is given text as C strings, which end at a NUL: the rest would be lost.
        guard !text.utf8.contains(0) else {
            throw ServiceError.invalidField("The message must not contain a NUL character (U+0000).")
        }
        guard attachments.count <= relayLimits.attachmentsPerMessage else {
            throw ServiceError.invalidField("At most \(relayLimits.attachmentsPerMessage) files per message.")
        }
        let webhook = caller.webhook
        let sender = Sender(
            userID: caller.bot.id, username: caller.bot.username, deviceID: webhook.deviceID,
            accountCreatedAt: caller.bot.createdAt)
        let outcome = await withCheckedContinuation { continuation in
            writer.submit(
                MessageWriter.Send(
                    sender: sender, origin: AwaitedSend(continuation), roomID: webhook.roomID,
                    clientID: UUID().uuidString, body: text, attachments: attachments))
        }
        // "Last posted" to the minute: a write of its own for every post would cost more than the post.
        let now = now
        if now - (webhook.lastUsedAt ?? 0) >= 60_000 {
            try? await database.write { try $0.touchWebhook(id: webhook.id, now: now) }
        }
        switch outcome {
        case .stored(let seq, _, _, let held, _): return (seq, held)
        case .refused(let error): throw error
        }
    }

    private func allowPost(_ id: Int64) -> Bool {
        let now = clock()
        let perMinute = Double(limits.webhookMessagesPerMinute)
        return buckets.withLock { buckets in
            buckets[id, default: TokenBucket(capacity: perMinute, rate: perMinute / 60, now: now)].take(now: now)
        }
    }

    private func roomInfo(_ roomID: Int64) async throws -> Rooms.Info {
        try await run {
            try await database.read { store in
                guard let room = try store.room(id: roomID) else { throw ServiceError.roomNotFound }
                return Rooms.Info(room: room, members: try store.members(roomID: roomID))
            }
        }
    }

    static func checkName(_ name: String) throws -> String {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...64).contains(trimmed.count),
            !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { throw ServiceError.invalidField("A webhook's name is one line of 1 to 64 characters.") }
        return trimmed
    }
}
