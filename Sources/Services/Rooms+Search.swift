import Storage

extension Rooms {
    /// Indexes for search up to `searchIndexBatch` messages that are not yet, in one write
    /// transaction; returns how many it went through (0: the index is up to date). `serve` runs
    /// it about once a second, and every search until it returns 0.
    /// How many messages ``indexForSearch()`` takes in at most.
    public var searchIndexBatch: Int { limits.searchIndexBatch }

    @discardableResult
    public func indexForSearch() async throws -> Int {
        let batch = limits.searchIndexBatch
        return try await run { try await database.write { try $0.indexPendingSearch(limit: batch) } }
    }

    /// What a search returns: the hits, newest first, and the `before` of the next page (nil
    /// when there is none).
    public struct SearchResults: Sendable {
        public let hits: [SearchHit]
        public let next: Int64?
    }

    /// The longest page of search results, and the default.
    public static let searchMaxLimit = 100
    public static let searchDefaultLimit = 20

    /// Messages matching `text` in the rooms `user` is in (`GET /api/v1/search`): only `roomID`
    /// (which they must be in), only from `from`, below seq `before`; newest first.
    public func search(
        _ text: String, for user: User, roomID: Int64?, from: String?, before: Int64?, limit: Int?
    ) async throws -> SearchResults {
        let query = try SearchQuery(text)
        let limit = min(max(limit ?? Self.searchDefaultLimit, 1), Self.searchMaxLimit)
        // Every message sent before the search is found: the index takes in what it has not yet.
        while try await indexForSearch() > 0 {}
        return try await run {
            try await database.read { store in
                if let roomID, try !store.isMember(roomID: roomID, userID: user.id) {
                    throw ServiceError.roomNotFound
                }
                let senderID = try from.map { name in
                    guard let sender = try store.user(named: name.lowercased()) else {
                        throw ServiceError.notFound("Nobody called \(name)")
                    }
                    return sender.id
                }
                let hits = try store.search(
                    query.expression, userID: user.id, roomID: roomID, senderID: senderID, before: before,
                    limit: limit + 1)
                return SearchResults(
                    hits: Array(hits.prefix(limit)), next: hits.count > limit ? hits[limit - 1].seq : nil)
            }
        }
    }
}
