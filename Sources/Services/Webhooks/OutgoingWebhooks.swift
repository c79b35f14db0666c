import Credentials
import Foundation
import Storage
import Synchronization

/// Outgoing webhooks: a group's new messages (or only its commands, those starting with `/`)
/// POSTed as JSON to a program's URL — a bot on another machine, Home Assistant on the LAN —
/// signed with HMAC-SHA256 so the program knows they come from here.
///
/// A delivery is queued by the message writer in the transaction that stores its message
/// (``OutgoingPlanner``), so a crash loses neither, and sent by ``runDeliveries()`` with retries and
/// backoff; each leaves a line in the hook's delivery log. Messages from bots (webhooks' and bot
/// accounts') are not sent, so two programs cannot answer each other forever.
public final class OutgoingWebhooks: ContextualService {
    let context: ServiceContext
    let settings: HearthConfiguration.OutgoingWebhookSettings
    let planner: OutgoingPlanner
    /// When finished deliveries were last pruned from the log (ms).
    let lastPruned = Mutex<Int64>(0)

    /// The settings key of the private addresses the admin panel allows.
    static let allowKey = "outgoing_webhook_allow_private"
    /// How long the delivery log keeps a finished delivery.
    static let logLifetime: Int64 = 7 * 86_400_000
    /// The longest wait between two tries.
    static let longestRetry: TimeInterval = 6 * 3600

    init(context: ServiceContext, settings: HearthConfiguration.OutgoingWebhookSettings, planner: OutgoingPlanner) {
        self.context = context
        self.settings = settings
        self.planner = planner
    }

    /// A hook and, when just made, its signing secret (shown once).
    public struct Created: Sendable {
        public let hook: OutgoingWebhook
        public let secret: String
    }

    /// A hook with the last line of its delivery log, if any.
    public struct Listed: Sendable {
        public let hook: OutgoingWebhook
        public let roomName: String?
        public let last: WebhookDelivery?
    }

    // MARK: Made, changed and removed by a group's admins

    /// Makes an outgoing webhook for a group (its room admins and server admins). `url` must pass
    /// the ``AddressPolicy``; `commandsOnly` sends only messages that start with `/`.
    public func create(
        in roomID: Int64, name: String, url: String, commandsOnly: Bool, by actor: User
    ) async throws -> Created {
        let name = try Webhooks.checkName(name)
        let checked = try await AddressPolicy.check(url, allowed: try await allowedPrivate())
        let secret = "whsec_" + SecretToken.generate()
        let now = now
        let perRoom = settings.perRoom
        // Known to the writer before it is stored: a message in between costs a query, never a miss.
        planner.add(roomID: roomID)
        let hook = try await run {
            try await database.write { store -> OutgoingWebhook in
                _ = try Rooms.managedGroup(store, roomID, by: actor)
                guard try store.outgoingWebhooks(roomID: roomID).count < perRoom else {
                    throw ServiceError.invalidField("A room may have \(perRoom) outgoing webhooks; remove one first.")
                }
                let hook = try store.insertOutgoingWebhook(
                    roomID: roomID, name: name, url: checked.absoluteString, secret: secret,
                    commandsOnly: commandsOnly, createdBy: actor.id, now: now)
                try store.audit(
                    AuditActor(user: actor, ip: nil), "outgoing_webhook_created", target: "room \(roomID)",
                    detail: "\(name) → \(checked.host ?? "")", now: now)
                return hook
            }
        }
        logger.info("outgoing webhook created", metadata: ["room": "\(roomID)", "hook": "\(hook.id)"])
        return Created(hook: hook, secret: secret)
    }

    /// A group's outgoing webhooks with their last deliveries, for its room admins and server
    /// admins (their addresses may carry secrets of their own).
    public func list(in roomID: Int64, by actor: User) async throws -> [Listed] {
        try await run {
            try await database.read { store in
                let room = try Rooms.managedGroup(store, roomID, by: actor)
                return try store.outgoingWebhooks(roomID: roomID).map {
                    Listed(
                        hook: $0, roomName: room.name, last: try store.webhookDeliveries(hookID: $0.id, limit: 1).first)
                }
            }
        }
    }

    /// Changes a hook's name, address or mode (its room admins and server admins).
    public func update(
        _ id: Int64, in roomID: Int64, name: String?, url: String?, commandsOnly: Bool?, by actor: User
    ) async throws -> OutgoingWebhook {
        let name = try name.map(Webhooks.checkName)
        var checked: URL?
        if let url { checked = try await AddressPolicy.check(url, allowed: try await allowedPrivate()) }
        return try await run { [checked] in
            try await database.write { store in
                _ = try Rooms.managedGroup(store, roomID, by: actor)
                guard var hook = try store.outgoingWebhook(id: id), hook.roomID == roomID, hook.revokedAt == nil else {
                    throw ServiceError.notFound("Webhook")
                }
                if let name { hook.name = name }
                if let checked { hook.url = checked.absoluteString }
                if let commandsOnly { hook.commandsOnly = commandsOnly }
                try store.updateOutgoingWebhook(hook)
                return hook
            }
        }
    }

    /// Removes a hook: nothing more is sent, and what waited in the queue is dropped.
    public func revoke(_ id: Int64, in roomID: Int64, by actor: User) async throws {
        let now = now
        try await run {
            try await database.write { store in
                _ = try Rooms.managedGroup(store, roomID, by: actor)
                guard let hook = try store.outgoingWebhook(id: id), hook.roomID == roomID, hook.revokedAt == nil else {
                    throw ServiceError.notFound("Webhook")
                }
                try store.revokeOutgoingWebhook(id: id, now: now)
                try store.audit(
                    AuditActor(user: actor, ip: nil), "outgoing_webhook_revoked", target: "room \(roomID)",
                    detail: hook.name, now: now)
            }
        }
        try? await database.read { [planner] in try planner.load($0) }
    }

    /// A hook's delivery log, newest first (its room admins and server admins).
    public func deliveries(
        _ id: Int64, in roomID: Int64, by actor: User, limit: Int = 50
    ) async throws
        -> [WebhookDelivery]
    {
        try await run {
            try await database.read { store in
                _ = try Rooms.managedGroup(store, roomID, by: actor)
                guard let hook = try store.outgoingWebhook(id: id), hook.roomID == roomID else {
                    throw ServiceError.notFound("Webhook")
                }
                return try store.webhookDeliveries(hookID: hook.id, limit: limit)
            }
        }
    }

    // MARK: The admin panel

    /// Every hook of the server with its room and last delivery.
    public func all() async throws -> [Listed] {
        try await run {
            try await database.read { store in
                try store.allOutgoingWebhooks().map {
                    Listed(
                        hook: $0.hook, roomName: $0.roomName,
                        last: try store.webhookDeliveries(hookID: $0.hook.id, limit: 1).first)
                }
            }
        }
    }

    /// One hook, its room's name and its delivery log (newest first), for the panel.
    public func log(_ id: Int64, limit: Int = 100) async throws -> (Listed, [WebhookDelivery]) {
        try await run {
            try await database.read { store in
                guard let hook = try store.outgoingWebhook(id: id) else { throw ServiceError.notFound("Webhook") }
                let log = try store.webhookDeliveries(hookID: id, limit: limit)
                return (Listed(hook: hook, roomName: try store.room(id: hook.roomID)?.name, last: log.first), log)
            }
        }
    }

    /// Removes a hook from the panel (server admins).
    public func revoke(_ id: Int64, by actor: User) async throws {
        let roomID = try await run {
            try await database.read { store in
                guard let hook = try store.outgoingWebhook(id: id) else { throw ServiceError.notFound("Webhook") }
                return hook.roomID
            }
        }
        try await revoke(id, in: roomID, by: actor)
    }

    /// Deliveries waiting to be sent.
    public func queueDepth() async throws -> Int {
        try await run { try await database.read { try $0.pendingWebhookDeliveries() } }
    }

    // MARK: Private addresses

    /// The private addresses, networks and host names hooks may call: `HEARTH_WEBHOOK_ALLOW_PRIVATE`'s
    /// and the admin panel's together.
    public func allowedPrivate() async throws -> [String] {
        settings.allowPrivate + (try await panelAllowList())
    }

    /// The entries the admin panel allows (without `HEARTH_WEBHOOK_ALLOW_PRIVATE`'s).
    public func panelAllowList() async throws -> [String] {
        let stored = try await run { try await database.read { try $0.setting(Self.allowKey) } }
        return (stored ?? "").split(separator: "\n").map(String.init)
    }

    /// Replaces the panel's allow-list (one entry per line or comma); each entry is checked.
    public func setPanelAllowList(_ text: String, by actor: AuditActor) async throws -> [String] {
        let entries = text.split(whereSeparator: { $0 == "," || $0.isNewline || $0 == " " })
            .map { String($0) }.filter { !$0.isEmpty }
        if let reason = entries.lazy.compactMap(AddressPolicy.checkEntry).first {
            throw ServiceError.invalidField(reason)
        }
        let now = now
        try await run {
            try await database.write { store in
                try store.setSetting(Self.allowKey, to: entries.joined(separator: "\n"))
                try store.audit(
                    actor, "setting_changed", target: "private addresses webhooks may call",
                    detail: entries.isEmpty ? "none" : entries.joined(separator: ", "), now: now)
            }
        }
        return entries
    }
}
