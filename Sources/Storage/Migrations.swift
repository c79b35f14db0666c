import Foundation

/// The schema migrations embedded from the top-level `Migrations/` folder at build time.
public enum Migrations {
    /// One numbered SQL file.
    public struct File: Sendable, Equatable {
        /// The number from the file name (`0001_initial.sql` → 1).
        public let number: Int
        /// The file name without `.sql`: the identifier recorded in the database.
        public let identifier: String
        /// The SQL to run.
        public let sql: String
    }

    /// Every embedded migration in order, validated: names are `NNNN_name.sql` and numbers are unique.
    public static func all() throws -> [File] {
        try parse(EmbeddedMigrations.files)
    }

    /// Validates and orders migration files given as `name → base64 contents`.
    static func parse(_ files: [String: String]) throws -> [File] {
        var result: [File] = []
        for (name, base64) in files where !name.hasSuffix(".md") {
            guard name.hasSuffix(".sql"), !name.contains("/") else {
                throw StorageError.badMigration("\(name) is not a top-level .sql file")
            }
            let identifier = String(name.dropLast(4))
            let digits = identifier.prefix { $0.isASCII && $0.isNumber }
            guard digits.count == 4, identifier.dropFirst(4).first == "_", let number = Int(digits) else {
                throw StorageError.badMigration("\(name) is not named NNNN_name.sql")
            }
            guard let data = Data(base64Encoded: base64), let sql = String(data: data, encoding: .utf8) else {
                throw StorageError.badMigration("\(name) is not UTF-8 text")
            }
            result.append(File(number: number, identifier: identifier, sql: sql))
        }
        result.sort { $0.number < $1.number }
        for (previous, next) in zip(result, result.dropFirst()) where previous.number == next.number {
            throw StorageError.badMigration("\(previous.identifier) and \(next.identifier) share a number")
        }
        return result
    }
}
