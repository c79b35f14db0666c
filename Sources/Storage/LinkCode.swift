import Foundation
import GRDB

/// A device-linking code: shown as a QR by a signed-in device (or made by an admin for recovery).
public struct LinkCode: Sendable, Equatable {
    /// Who creates the code, and so who approves its claim.
    public enum Kind: String, Sendable {
        case link, recovery
    }

    /// Where the code stands.
    public enum State: String, Sendable {
        case open, claimed, approved, denied
    }

    public var codeHash: Data
    public var userID: Int64
    public var kind: Kind
    public var createdBy: Int64?
    public var createdAt: Int64
    public var expiresAt: Int64
    public var state: State
    public var deviceID: Int64?
}

extension LinkCode: FetchableRecord {
    public init(row: Row) throws {
        codeHash = row["code_hash"]
        userID = row["user_id"]
        kind = Kind(rawValue: row["kind"]) ?? .link
        createdBy = row["created_by"]
        createdAt = row["created_at"]
        expiresAt = row["expires_at"]
        state = State(rawValue: row["state"]) ?? .denied
        deviceID = row["device_id"]
    }
}

extension Store {
    /// Stores a new, open link code.
    public func insertLinkCode(
        codeHash: Data, userID: Int64, kind: LinkCode.Kind, createdBy: Int64?, now: Int64, expiresAt: Int64
    ) throws {
        try db.execute(
            sql: """
                INSERT INTO link_codes (code_hash, user_id, kind, created_by, created_at, expires_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [codeHash, userID, kind.rawValue, createdBy, now, expiresAt])
    }

    /// The link code with this digest, if any.
    public func linkCode(hash: Data) throws -> LinkCode? {
        try LinkCode.fetchOne(db, sql: "SELECT * FROM link_codes WHERE code_hash = ?", arguments: [hash])
    }

    /// Moves a code to `state`, recording the device its claim created.
    public func updateLinkCode(hash: Data, state: LinkCode.State, deviceID: Int64?, now: Int64) throws {
        let column = state == .claimed ? "claimed_at" : "decided_at"
        try db.execute(
            sql:
                "UPDATE link_codes SET state = ?, device_id = coalesce(?, device_id), \(column) = ? WHERE code_hash = ?",
            arguments: [state.rawValue, deviceID, now, hash])
    }
}
