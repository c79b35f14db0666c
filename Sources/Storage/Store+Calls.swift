import Foundation
import GRDB

extension Store {
    /// Counts a call that ended on `day` (`YYYY-MM-DD`, UTC), answered for `seconds`.
    public func countCall(day: String, seconds: Int64) throws {
        try db.execute(
            sql: """
                INSERT INTO call_days (day, calls, seconds) VALUES (?, 1, ?)
                ON CONFLICT (day) DO UPDATE SET calls = calls + 1, seconds = seconds + excluded.seconds
                """,
            arguments: [day, seconds])
    }

    /// Calls per day, newest first: `(day, calls, seconds)`.
    public func callDays(limit: Int) throws -> [(day: String, calls: Int, seconds: Int64)] {
        try Row.fetchAll(db, sql: "SELECT * FROM call_days ORDER BY day DESC LIMIT ?", arguments: [limit])
            .map { ($0["day"], $0["calls"], $0["seconds"]) }
    }

    /// Calls that ended on `day`.
    public func calls(on day: String) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT calls FROM call_days WHERE day = ?", arguments: [day]) ?? 0
    }
}
