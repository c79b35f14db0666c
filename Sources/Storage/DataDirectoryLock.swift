import Foundation

/// An exclusive lock on a data dir (`<data-dir>/hearth.lock`), held by `hearth serve` for its
/// lifetime and by `hearth restore` while it swaps the database, so neither runs under the other.
public final class DataDirectoryLock: Sendable {
    let descriptor: Int32
    /// The data dir this lock holds.
    public let directory: URL

    /// Takes the lock, or throws ``StorageError/dataDirectoryInUse(_:)`` at once when another
    /// process holds it. The lock lasts until this object is released or the process ends.
    public init(_ directory: URL) throws {
        try AppDatabase.prepareDataDirectory(directory)
        let path = directory.appending(path: "hearth.lock").path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StorageError.dataDirectory(path: directory.path, reason: "cannot open hearth.lock")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw StorageError.dataDirectoryInUse(directory.path)
        }
        self.descriptor = descriptor
        self.directory = directory
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
