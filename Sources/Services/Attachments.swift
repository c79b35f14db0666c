import Credentials
import Crypto
import Foundation
import Logging
import Storage

/// Photos, voice notes and documents, stored in the database in chunks.
public final class Attachments: ContextualService {
    /// Bytes per stored chunk (and the most of an upload held in memory at once).
    static let chunkBytes = 256 * 1024
    /// The longest duration an upload may give (a day), in milliseconds.
    static let longestDurationMs = 86_400_000

    let limits: HearthConfiguration.Limits

    let context: ServiceContext

    init(
        context: ServiceContext, limits: HearthConfiguration.Limits
    ) {
        self.context = context
        self.limits = limits
    }

    /// The media type without parameters, lowercased.
    static func normalize(_ contentType: String) -> String {
        contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
    }

    /// Stores an upload streamed from `body`, chunk by chunk; never the whole file in memory.
    ///
    /// Refuses an unsupported type, a file whose first bytes do not match its declared type, an
    /// empty body, a file over the size limit and a user over their quota. If anything fails —
    /// the client going away included — nothing of the upload is left.
    ///
    /// The quota holds however many uploads run at once: the declared length is reserved in the
    /// transaction that starts the upload, and each stored chunk that goes past the reservation
    /// grows it in the chunk's own transaction, checked against everything the user holds and
    /// has reserved. A failed upload's row goes, and its reservation with it.
    public func upload<Body: AsyncSequence>(
        owner: User, contentType rawType: String, filename: String?, declaredLength: Int?, durationMs: Int? = nil,
        body: Body
    ) async throws -> Attachment where Body.Element == [UInt8] {
        // A file sent without a type of its own (browsers say `application/octet-stream`, or
        // nothing, for a type they do not know) gets the one its bytes show.
        var contentType = Self.normalize(rawType)
        let detecting = contentType.isEmpty || contentType == "application/octet-stream"
        if !detecting { try checkAllowed(contentType) }
        if let durationMs {
            guard (1...Self.longestDurationMs).contains(durationMs) else {
                throw ServiceError.invalidField("A duration is a whole number of milliseconds, from 1 to a day's.")
            }
        }
        let maxBytes = limits.attachmentMaxBytes
        if let declaredLength, declaredLength > maxBytes { throw ServiceError.tooLarge(limit: maxBytes) }
        let name = filename.map {
            String($0.filter { !$0.isNewline && $0 != "\"" && $0 != "/" && $0 != "\\" }.prefix(200))
        }
        let quota = limits.attachmentQuotaBytes
        let publicID = SecretToken.generate(bytes: 16)
        let now = now
        var reserved = Int64(declaredLength ?? 0)
        let id = try await run { [reserved, contentType] in
            try await database.write { store in
                guard try store.attachmentBytes(ownerID: owner.id) + reserved <= quota else {
                    throw ServiceError.quotaExceeded(limit: quota)
                }
                return try store.insertAttachment(
                    publicID: publicID, ownerID: owner.id, contentType: contentType, filename: name,
                    reservedBytes: reserved, now: now)
            }
        }
        var finished = false
        defer {
            if !finished {
                let database = database
                Task { try? await database.write { try $0.deleteAttachment(id: id) } }
            }
        }
        var hasher = SHA256()
        var size = 0
        var stored: Int64 = 0
        var pending: [UInt8] = []
        var head: [UInt8]?
        var tail: [UInt8] = []
        var index = 0
        func flush(_ bytes: [UInt8]) async throws {
            if head == nil {
                head = bytes
                if detecting {
                    guard let found = FileSniffer.detect(head: bytes, filename: name) else {
                        throw ServiceError.unsupportedType("application/octet-stream")
                    }
                    contentType = found
                    if !FileSniffer.zipTypes.contains(found) { try checkAllowed(found) }
                } else if !FileSniffer.matches(contentType, head: bytes) {
                    throw ServiceError.typeMismatch(contentType)
                }
            }
            if FileSniffer.zipTypes.contains(contentType) {
                tail = Array((tail + bytes).suffix(FileSniffer.tailBytes))
            }
            let data = Data(bytes)
            let chunkIndex = index
            let total = stored + Int64(bytes.count)
            let previous = reserved
            try await run {
                try await database.write { store in
                    if total > previous {
                        // Past the reservation: grow it, if everything the user holds still fits.
                        guard try store.attachmentBytes(ownerID: owner.id) - previous + total <= quota else {
                            throw ServiceError.quotaExceeded(limit: quota)
                        }
                        try store.reserveAttachmentBytes(id: id, bytes: total)
                    }
                    try store.insertAttachmentChunk(attachmentID: id, index: chunkIndex, data: data)
                }
            }
            stored = total
            reserved = max(previous, total)
            index += 1
        }
        for try await piece in body {
            size += piece.count
            guard size <= maxBytes else { throw ServiceError.tooLarge(limit: maxBytes) }
            hasher.update(data: piece)
            pending += piece
            while pending.count >= Self.chunkBytes {
                try await flush(Array(pending.prefix(Self.chunkBytes)))
                pending.removeFirst(Self.chunkBytes)
            }
        }
        guard size > 0 else { throw ServiceError.emptyBody }
        if !pending.isEmpty { try await flush(pending) }
        if FileSniffer.zipTypes.contains(contentType) {
            // An office document is a ZIP archive: what it holds says which, now that its end is here.
            let found = FileSniffer.zipKind(head: head ?? [], tail: tail)
            if detecting {
                contentType = found
                try checkAllowed(found)
            } else if found != contentType {
                throw ServiceError.typeMismatch(contentType)
            }
        }
        if durationMs != nil, !contentType.hasPrefix("audio/"), !contentType.hasPrefix("video/") {
            throw ServiceError.invalidField(
                "Only a sound or a video has a duration; this is \(Words.kind(of: contentType)).")
        }
        let digest = Data(hasher.finalize())
        let dimensions = FileSniffer.dimensions(contentType, head: head ?? [])
        let total = Int64(size)
        let attachment = try await run { [contentType] in
            try await database.write { store -> Attachment? in
                try store.completeAttachment(
                    id: id, contentType: contentType, size: total, sha256: digest, width: dimensions?.0,
                    height: dimensions?.1, durationMs: durationMs)
                return try store.attachment(publicID: publicID)
            }
        }
        guard let attachment else { throw ServiceError.internal("upload vanished") }
        finished = true
        metrics.attachmentBytes.increment(by: size)
        logger.info("attachment stored", metadata: ["bytes": "\(size)", "type": "\(contentType)"])
        return attachment
    }

    /// Throws ``ServiceError/unsupportedType(_:)`` for a type outside the server's list.
    private func checkAllowed(_ contentType: String) throws {
        guard limits.attachmentTypes.contains(contentType) else { throw ServiceError.unsupportedType(contentType) }
    }

    /// An attachment `user` may read (its uploader, a member of the room it was shared in, or a
    /// moderator reviewing its message);
    /// ``ServiceError/notFound(_:)`` for everyone else, so ids reveal nothing.
    public func open(_ publicID: String, for user: User) async throws -> Attachment {
        try await run {
            try await database.read { store in
                guard let attachment = try store.attachment(publicID: publicID), attachment.complete,
                    try store.canRead(attachment: attachment, userID: user.id, moderator: user.role >= .moderator)
                else { throw ServiceError.notFound("Attachment") }
                return attachment
            }
        }
    }

    /// The bytes of `attachment` in `range` (all of it when nil), chunk by chunk, to `write`.
    public func read(
        _ attachment: Attachment, range: ClosedRange<Int64>? = nil, write: ([UInt8]) async throws -> Void
    ) async throws {
        let range = range ?? 0...(attachment.size - 1)
        let chunk = Int64(Self.chunkBytes)
        var index = Int(range.lowerBound / chunk)
        while Int64(index) * chunk <= range.upperBound {
            let start = Int64(index) * chunk
            let attachmentID = attachment.id
            let chunkIndex = index
            guard
                let data = try await run({
                    try await database.read { try $0.attachmentChunk(attachmentID: attachmentID, index: chunkIndex) }
                })
            else { throw ServiceError.internal("missing chunk \(index)") }
            let from = Int(max(0, range.lowerBound - start))
            let to = Int(min(Int64(data.count) - 1, range.upperBound - start))
            if from <= to { try await write([UInt8](data[from...to])) }
            index += 1
        }
    }

    /// Removes uploads that never completed (after an hour) and ones never shared (after the grace period).
    @discardableResult
    public func removeOrphans() async throws -> Int {
        let now = now
        let grace = Int64(limits.attachmentOrphanGrace * 1000)
        let removed = try await run {
            try await database.write {
                try $0.deleteOrphanAttachments(incompleteBefore: now - 3_600_000, unreferencedBefore: now - grace)
            }
        }
        if removed > 0 { logger.info("orphan attachments removed", metadata: ["count": "\(removed)"]) }
        return removed
    }
}
