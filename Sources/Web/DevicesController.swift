import Foundation
import Hummingbird
import Services
import Storage

/// The signed-in user's devices.
struct DevicesController: Sendable {
    let sessions: Sessions
    let authenticator: SessionAuthenticator

    func addRoutes(to api: RouterGroup<AppRequestContext>) {
        let api = api.signedIn(authenticator)
        api.get("devices", use: list)
        api.delete("devices/{id}", use: revoke)
        api.patch("devices/{id}", use: rename)
    }

    struct RenameBody: Decodable {
        let name: String
    }

    /// `PATCH /api/v1/devices/{id}` `{name}` — renames one of the user's devices: `{device}`.
    @Sendable func rename(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        guard let id = context.parameters.get("id").flatMap(Int64.init) else { throw ServiceError.notFound("Device") }
        let body = try await request.decodeJSON(RenameBody.self, limit: 64 * 1024)
        let device = try await sessions.renameDevice(id, of: session.user, to: body.name)
        return try .json(["device": DeviceJSON(device)])
    }

    struct DeviceListJSON: Encodable {
        let id: Int64
        let name: String
        let userAgent: String?
        let ip: String?
        let createdAt: Int64
        let lastSeenAt: Int64
        let active: Bool
        let current: Bool
    }

    /// `GET /api/v1/devices` — the user's devices, newest first; `current` marks this one.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        // The admin panel's sessions are not devices the person signed in: they are not listed.
        let devices = try await sessions.devices(of: session.user).filter { $0.kind == .chat }
        return try .json([
            "devices": devices.map {
                DeviceListJSON(
                    id: $0.id, name: $0.name, userAgent: $0.userAgent, ip: $0.ip, createdAt: $0.createdAt,
                    lastSeenAt: $0.lastSeenAt, active: $0.isActive, current: $0.id == session.device.id)
            }
        ])
    }

    /// `DELETE /api/v1/devices/{id}` — signs that device out and closes its sockets: 204.
    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.signedIn()
        guard let id = context.parameters.get("id").flatMap(Int64.init) else { throw ServiceError.notFound("Device") }
        try await sessions.revokeDevice(id, of: session.user)
        return Response(status: .noContent)
    }
}
