import Foundation
import GRDB

extension Store {
    /// The user with this username (case-insensitive), if any.
    public func user(named username: String) throws -> User? {
        try User.fetchOne(db, sql: "SELECT * FROM users WHERE username = ? COLLATE NOCASE", arguments: [username])
    }

    /// The user with this id, if any.
    public func user(id: Int64) throws -> User? {
        try User.fetchOne(db, sql: "SELECT * FROM users WHERE id = ?", arguments: [id])
    }

    /// Every user, by username.
    public func users() throws -> [User] {
        try User.fetchAll(db, sql: "SELECT * FROM users ORDER BY username")
    }

    /// Whether an enabled admin exists.
    public func hasAdmin() throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin' AND disabled = 0)") ?? false
    }

    /// Stores a new user and returns it with its id. A taken username throws ``StorageError/constraint(_:)``.
    public func insertUser(_ user: User) throws -> User {
        try db.execute(
            sql: "INSERT INTO users (username, password_hash, role, disabled, created_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [user.username, user.passwordHash, user.role.rawValue, user.disabled, user.createdAt])
        var stored = user
        stored.id = db.lastInsertedRowID
        return stored
    }

    /// Replaces a user's password hash; returns false when there is no such user.
    @discardableResult
    public func setPasswordHash(userID: Int64, to hash: String) throws -> Bool {
        try db.execute(sql: "UPDATE users SET password_hash = ? WHERE id = ?", arguments: [hash, userID])
        return changes > 0
    }

    /// Disables or enables a user; returns false when there is no such user.
    @discardableResult
    public func setDisabled(userID: Int64, _ disabled: Bool) throws -> Bool {
        try db.execute(sql: "UPDATE users SET disabled = ? WHERE id = ?", arguments: [disabled, userID])
        return changes > 0
    }

    /// Gives a user another role.
    public func setRole(userID: Int64, _ role: User.Role) throws {
        try db.execute(sql: "UPDATE users SET role = ? WHERE id = ?", arguments: [role.rawValue, userID])
    }

    /// How many enabled admins there are.
    public func adminCount() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0") ?? 0
    }

    /// Deletes a user and, through the foreign keys, their devices.
    @discardableResult
    public func deleteUser(id: Int64) throws -> Bool {
        try db.execute(sql: "DELETE FROM users WHERE id = ?", arguments: [id])
        return changes > 0
    }
}

extension Store {
    /// Sets the name a user goes by and their avatar (nil clears either).
    public func setProfile(userID: Int64, displayName: String?, avatar: String?) throws {
        try db.execute(
            sql: "UPDATE users SET display_name = ?, avatar = ? WHERE id = ?", arguments: [displayName, avatar, userID])
    }
}
