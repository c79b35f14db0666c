import Foundation
import Storage

/// What people see of each other: the name a user goes by and their avatar.
public final class Profiles: ContextualService {
    let limits: HearthConfiguration.Limits
    let context: ServiceContext

    /// Image types an avatar may be (what every browser draws).
    static let avatarTypes: Set<String> = ["image/jpeg", "image/png", "image/webp", "image/gif"]

    init(context: ServiceContext, limits: HearthConfiguration.Limits) {
        self.context = context
        self.limits = limits
    }

    /// A change to one field of a profile: left as it is, or set (nil clears it).
    public enum Change<Value: Sendable>: Sendable {
        case keep
        case set(Value?)
    }

    /// Changes the signed-in user's own profile (`PATCH /api/v1/me`) and tells everyone who shares
    /// a room with them, and their own devices. `avatar` is the public id of one of the user's own
    /// finished, unshared image uploads, at most `avatarMaxBytes`; the avatar it replaces is
    /// deleted. A display name is trimmed; an empty one clears it.
    public func update(_ user: User, displayName: Change<String>, avatar: Change<String>) async throws -> User {
        // nil: keep the name; .some(nil): clear it.
        var newName: String?? = nil
        if case .set(let given) = displayName {
            newName = .some(try Self.checkDisplayName(given, limit: limits.displayNameMaxCharacters))
        }
        let maxBytes = limits.avatarMaxBytes
        let updated = try await run { [newName] in
            try await database.write { store -> User in
                guard let current = try store.user(id: user.id) else { throw ServiceError.notFound("User") }
                var newAvatar = current.avatar
                if case .set(let given) = avatar, given != current.avatar {
                    if let given { try Self.checkAvatar(given, ownerID: user.id, maxBytes: maxBytes, store: store) }
                    newAvatar = given
                }
                try store.setProfile(userID: user.id, displayName: newName ?? current.displayName, avatar: newAvatar)
                if let old = current.avatar, old != newAvatar, let file = try store.attachment(publicID: old) {
                    try store.deleteAttachment(id: file.id)
                }
                guard let updated = try store.user(id: user.id) else { throw ServiceError.notFound("User") }
                return updated
            }
        }
        let contacts = try await run { try await database.read { try $0.contacts(userID: user.id) } }
        live.profileChanged(updated, to: contacts + [user.id])
        return updated
    }

    /// Refuses `publicID` as an avatar unless it is one of `ownerID`'s own finished uploads, shared
    /// in no message and nobody's avatar yet, an image every browser draws, at most `maxBytes`.
    static func checkAvatar(_ publicID: String, ownerID: Int64, maxBytes: Int, store: Store) throws {
        guard let file = try store.attachment(publicID: publicID), file.ownerID == ownerID, file.complete,
            file.messageID == nil, try !store.isAvatar(publicID: publicID)
        else { throw ServiceError.notFound("Image") }
        guard avatarTypes.contains(file.contentType) else {
            throw ServiceError.invalidField(
                "An avatar must be a photo or picture (JPEG, PNG, WebP or GIF); this is \(Words.kind(of: file.contentType))."
            )
        }
        guard file.size <= maxBytes else {
            throw ServiceError.invalidField(
                "That picture is too large for an avatar; the limit is \(maxBytes / 1_048_576) MiB.")
        }
    }

    /// A display name as stored: trimmed, nil when empty; refused when too long or when it holds
    /// line breaks or other control characters.
    static func checkDisplayName(_ given: String?, limit: Int) throws -> String? {
        guard let trimmed = given?.trimmingCharacters(in: .whitespacesAndNewlines), !trimmed.isEmpty else {
            return nil
        }
        guard trimmed.count <= limit else {
            throw ServiceError.invalidField("A display name can be at most \(limit) characters.")
        }
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ServiceError.invalidField("A display name is one line of text, without control characters.")
        }
        return trimmed
    }

    /// Someone's avatar image, to any signed-in user (the people on a home server see each
    /// other's faces); ``ServiceError/notFound(_:)`` when `publicID` is nobody's avatar.
    public func avatar(_ publicID: String) async throws -> Attachment {
        try await run {
            try await database.read { store in
                guard try store.isAvatar(publicID: publicID), let file = try store.attachment(publicID: publicID) else {
                    throw ServiceError.notFound("Avatar")
                }
                return file
            }
        }
    }
}
