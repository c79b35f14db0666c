import Foundation
import Hummingbird
import Services
import Storage

/// `GET /api/v1/search`: messages in the user's rooms, found by their words.
struct SearchController: Sendable {
    let rooms: Rooms
    let authenticator: SessionAuthenticator

    func addRoutes(to api: RouterGroup<AppRequestContext>) {
        api.signedIn(authenticator).get("search", use: search)
    }

    struct ResultJSON: Encodable {
        let room: Int64
        let seq: Int64
        let from: String?
        let ts: Int64
        let body: String
        let highlights: [[Int]]
    }

    struct PageJSON: Encodable {
        let results: [ResultJSON]
        /// The `before` of the next page; `null` (written, not left out) on the last.
        let next: Int64?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(results, forKey: .results)
            try container.encode(next, forKey: .next)
        }

        enum CodingKeys: String, CodingKey { case results, next }
    }

    /// `GET /api/v1/search?q=TEXT[&room=ID][&from=USERNAME][&before=SEQ][&limit=N]` →
    /// `{results:[{room, seq, from, ts, body, highlights}], next}`, newest first.
    @Sendable func search(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        let query = request.uri.queryParameters
        let found = try await rooms.search(
            query.get("q") ?? "", for: session.user, roomID: try request.positiveQuery("room"),
            from: query.get("from").flatMap { $0.isEmpty ? nil : $0 }, before: try request.positiveQuery("before"),
            limit: try request.positiveQuery("limit").map { Int(clamping: $0) })
        return try .json(
            PageJSON(
                results: found.hits.map {
                    ResultJSON(
                        room: $0.roomID, seq: $0.seq, from: $0.sender, ts: $0.createdAt, body: $0.body,
                        highlights: $0.highlights)
                }, next: found.next))
    }
}
