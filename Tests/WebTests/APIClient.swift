import Foundation
import HTTPTypes
import HearthTestSupport
import Hummingbird
import HummingbirdTesting
import Services
import Web

/// A decoded API answer.
struct APIResponse: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: Data

    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }

    /// `error.code` of an error body.
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    var token: String? { json["token"] as? String }
    var username: String? { (json["user"] as? [String: Any])?["username"] as? String }
}

/// Sends JSON requests to the app under test.
struct APIClient: Sendable {
    let client: any TestClientProtocol

    func send(
        _ method: HTTPRequest.Method, _ path: String, json: Any? = nil, raw: String? = nil,
        headers extra: HTTPFields = [:], token: String? = nil
    ) async throws -> APIResponse {
        var headers = extra
        var body: ByteBuffer?
        if let json {
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
        } else if let raw {
            body = ByteBuffer(string: raw)
        }
        if body != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await client.execute(uri: path, method: method, headers: headers, body: body) { response in
            APIResponse(status: response.status, headers: response.headers, body: Data(response.body.readableBytesView))
        }
    }
}

/// Runs `body` against Hearth's router over a fresh data dir.
func withApp(
    _ configure: (inout HearthConfiguration) -> Void = { _ in },
    _ body: @escaping @Sendable (APIClient, TestServices) async throws -> Void
) async throws {
    let (env, hub) = try servicesWithHub(configure)
    defer { env.remove() }
    let app = Application(router: HearthApp(services: env.services, hub: hub, server: .init()).router())
    try await app.test(.router) { client in
        try await body(APIClient(client: client), env)
    }
}
