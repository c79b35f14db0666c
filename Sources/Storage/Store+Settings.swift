import Foundation
import GRDB

extension Store {
    /// The setting that holds the server's public URL (what links and a backup's summary show).
    public static let publicURLKey = "public_url"

    /// A stored setting's value, if set.
    public func setting(_ key: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [key])
    }

    /// Stores a setting.
    public func setSetting(_ key: String, to value: String) throws {
        try db.execute(
            sql:
                "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            arguments: [key, value])
    }

    /// Replaces any first-admin setup token with one whose digest is `tokenHash`.
    public func replaceSetupToken(tokenHash: Data, now: Int64) throws {
        try db.execute(sql: "DELETE FROM setup_tokens")
        try db.execute(
            sql: "INSERT INTO setup_tokens (token_hash, created_at) VALUES (?, ?)", arguments: [tokenHash, now])
    }

    /// Whether a setup token with this digest exists.
    public func setupTokenExists(tokenHash: Data) throws -> Bool {
        try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM setup_tokens WHERE token_hash = ?)", arguments: [tokenHash]) ?? false
    }

    /// Deletes every setup token: once an admin exists, none may be used.
    public func deleteSetupTokens() throws {
        try db.execute(sql: "DELETE FROM setup_tokens")
    }
}
