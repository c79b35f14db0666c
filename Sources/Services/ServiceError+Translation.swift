import Credentials
import Storage

extension ServiceError {
    /// The ``ServiceError`` for a lower layer's error: a full disk, a busy hashing queue or
    /// database, or else an internal error carrying the description for the log.
    public static func translating(_ error: any Error) -> ServiceError {
        switch error {
        case let error as ServiceError: return error
        case StorageError.full: return .storageFull
        case StorageError.busy: return .busy(retryAfter: 1)
        // SearchQuery writes every query; should SQLite still refuse one, say so in words.
        case StorageError.invalidQuery:
            return .invalidQuery("That search could not be read; try plain words, \"a phrase\" or gard*.")
        case PasswordHasherError.busy: return .busy(retryAfter: 1)
        default: return .internal(String(describing: error))
        }
    }
}

/// Runs `body`, translating whatever it throws into a ``ServiceError``.
@discardableResult
func run<T>(_ body: () async throws -> T) async throws(ServiceError) -> T {
    do {
        return try await body()
    } catch {
        throw ServiceError.translating(error)
    }
}
