import Foundation
import HTTPTypes
import HearthTestSupport
import Hummingbird
import Services
import Testing

@Suite struct AuthRoutesTests {
    static let password = TestServices.password

    @Test func registerLoginMeLogout() async throws {
        try await withApp { api, env in
            let code = try await env.invites.create().code
            let registered = try await api.send(
                .post, "/api/v1/register",
                json: ["username": "kid", "password": Self.password, "invite": code, "deviceName": "Kid's phone"])
            #expect(registered.status == .created)
            #expect(registered.username == "kid")
            #expect((registered.json["device"] as? [String: Any])?["name"] as? String == "Kid's phone")
            let token = try #require(registered.token)

            let me = try await api.send(.get, "/api/v1/me", token: token)
            #expect(me.status == .ok)
            #expect(me.username == "kid")

            let login = try await api.send(
                .post, "/api/v1/login", json: ["username": "KID", "password": Self.password])
            #expect(login.status == .ok)
            let second = try #require(login.token)
            #expect(second != token)

            #expect(try await api.send(.post, "/api/v1/logout", token: token).status == .noContent)
            let gone = try await api.send(.get, "/api/v1/me", token: token)
            #expect(gone.status == .unauthorized)
            #expect(gone.errorCode == "unauthorized")
            #expect(try await api.send(.get, "/api/v1/me", token: second).status == .ok)
        }
    }

    @Test func theBrowserGetsAnHttpOnlyCookieInsteadOfTheToken() async throws {
        try await withApp { api, env in
            _ = try await env.accounts.createUser(username: "mum", password: Self.password, role: .admin)
            let login = try await api.send(
                .post, "/api/v1/login", json: ["username": "mum", "password": Self.password, "session": "cookie"])
            #expect(login.status == .ok)
            #expect(login.token == nil)
            let setCookie = try #require(login.headers[.setCookie])
            #expect(setCookie.hasPrefix("hearth_session="))
            #expect(setCookie.contains("HttpOnly"))
            #expect(setCookie.contains("SameSite=Lax"))
            #expect(!setCookie.contains("Secure"))  // served over plain HTTP here
            let value = String(setCookie.dropFirst("hearth_session=".count).prefix { $0 != ";" })

            let me = try await api.send(.get, "/api/v1/me", headers: [.cookie: "hearth_session=\(value)"])
            #expect(me.username == "mum")

            // A state-changing request with the cookie from another site is refused.
            let forged = try await api.send(
                .post, "/api/v1/logout",
                headers: [.cookie: "hearth_session=\(value)", .origin: "https://evil.example"])
            #expect(forged.status == .forbidden)
            #expect(forged.errorCode == "origin_mismatch")
            #expect(try await api.send(.get, "/api/v1/me", headers: [.cookie: "hearth_session=\(value)"]).status == .ok)

            let logout = try await api.send(.post, "/api/v1/logout", headers: [.cookie: "hearth_session=\(value)"])
            #expect(logout.status == .noContent)
            #expect(logout.headers[.setCookie]?.contains("Max-Age=0") == true)
            #expect(
                try await api.send(.get, "/api/v1/me", headers: [.cookie: "hearth_session=\(value)"]).status
                    == .unauthorized)
        }
    }

    @Test func cookiesAreSecureWhenServedOverHTTPS() async throws {
        try await withApp({ $0.publicURL = "https://chat.example.org" }) { api, env in
            _ = try await env.accounts.createUser(username: "mum", password: Self.password, role: .admin)
            let login = try await api.send(
                .post, "/api/v1/login", json: ["username": "mum", "password": Self.password, "session": "cookie"])
            #expect(login.headers[.setCookie]?.contains("Secure") == true)
        }
    }

    @Test func eachRegistrationFailureHasItsOwnStatusAndCode() async throws {
        try await withApp { api, env in
            let used = try await env.invites.create()
            _ = try await env.registration.register(
                username: "first", password: Self.password, invite: used.code, deviceName: nil,
                client: Client(ip: "10.1.1.1", userAgent: nil))
            let revoked = try await env.invites.create()
            try await env.invites.revoke(code: revoked.code)
            let good = try await env.invites.create(uses: 10)

            let cases: [([String: Any], HTTPResponse.Status, String)] = [
                (["username": "kid", "password": Self.password], .forbidden, "invite_required"),
                (["username": "kid", "password": Self.password, "invite": "nope"], .forbidden, "invite_invalid"),
                (["username": "kid", "password": Self.password, "invite": used.code], .gone, "invite_used_up"),
                (["username": "kid", "password": Self.password, "invite": revoked.code], .gone, "invite_revoked"),
                (["username": "k", "password": Self.password, "invite": good.code], .badRequest, "invalid_username"),
                (
                    ["username": "admin", "password": Self.password, "invite": good.code], .badRequest,
                    "username_reserved"
                ),
                (["username": "first", "password": Self.password, "invite": good.code], .conflict, "username_taken"),
            ]
            for (index, (body, status, code)) in cases.enumerated() {
                // A different client address each time, so the registration throttle stays out of it.
                let response = try await api.send(
                    .post, "/api/v1/register", json: body, headers: [.init("X-Test-Case")!: "\(index)"])
                #expect(response.status == status, "\(code)")
                #expect(response.errorCode == code)
                env.clock.advance(3_600)
            }
            #expect(try await env.accounts.users().map(\.username) == ["first"])
            // The invite page asks first what an invite is, and gets the same answers.
            for (code, status, error) in [
                ("nope", HTTPResponse.Status.forbidden, "invite_invalid"), (used.code, .gone, "invite_used_up"),
                (revoked.code, .gone, "invite_revoked"),
            ] {
                let answer = try await api.send(.get, "/api/v1/invites/\(code)")
                #expect(answer.status == status && answer.errorCode == error, "\(error)")
            }
            let first = try await env.accounts.user(named: "first")
            let fromFirst = try await env.invites.create(by: AuditActor(user: first, ip: nil))
            let invitation = try await api.send(.get, "/api/v1/invites/\(fromFirst.code)")
            #expect(invitation.status == .ok && invitation.json["invitedBy"] as? String == "first")
            #expect(invitation.json["admin"] as? Bool == false)
        }
    }

    @Test func weakPasswordsAreRefused() async throws {
        try await withApp { api, env in
            try await env.registration.setMode(.open)
            for (password, code) in [
                ("short", "password_too_short"), ("1234567890", "password_too_common"),
                (String(repeating: "y", count: 1025), "password_too_long"),
            ] {
                let response = try await api.send(
                    .post, "/api/v1/register", json: ["username": "grandpa", "password": password])
                #expect(response.status == .badRequest)
                #expect(response.errorCode == code)
            }
            #expect(try await env.accounts.users().isEmpty)
        }
    }

    @Test func registrationWhileClosed() async throws {
        try await withApp { api, env in
            try await env.registration.setMode(.closed)
            let response = try await api.send(
                .post, "/api/v1/register", json: ["username": "stranger", "password": Self.password])
            #expect(response.status == .forbidden)
            #expect(response.errorCode == "registration_closed")
        }
    }

    @Test func malformedBodiesGetSpecificErrorsAndChangeNothing() async throws {
        try await withApp { api, env in
            try await env.registration.setMode(.open)
            let malformed = try await api.send(.post, "/api/v1/register", raw: "{\"username\": ")
            #expect(malformed.status == .badRequest)
            #expect(malformed.errorCode == "malformed_json")

            let wrongType = try await api.send(
                .post, "/api/v1/register", json: ["username": 42, "password": Self.password])
            #expect(wrongType.status == .badRequest)
            #expect(wrongType.errorCode == "invalid_field")
            #expect(
                (wrongType.json["error"] as? [String: Any])?["message"] as? String
                    == "The field `username` must be a string.")

            let missing = try await api.send(.post, "/api/v1/register", json: ["username": "kid"])
            #expect(missing.status == .badRequest)
            #expect(missing.errorCode == "missing_field")

            let notObject = try await api.send(.post, "/api/v1/login", json: ["kid", Self.password])
            #expect(notObject.errorCode == "invalid_field")

            let huge = try await api.send(
                .post, "/api/v1/register",
                json: [
                    "username": "kid", "password": Self.password, "deviceName": String(repeating: "z", count: 70_000),
                ])
            #expect(huge.status == .contentTooLarge)
            #expect(huge.errorCode == "too_large")

            let form = try await api.send(
                .post, "/api/v1/login", raw: "username=kid&password=x",
                headers: [.contentType: "application/x-www-form-urlencoded"])
            #expect(form.status == .unsupportedMediaType)
            #expect(form.errorCode == "unsupported_media_type")

            #expect(try await env.accounts.users().isEmpty)
        }
    }

    @Test func wrongPasswordsAreThrottledWith429AndRetryAfter() async throws {
        try await withApp { api, env in
            _ = try await env.accounts.createUser(username: "mum", password: Self.password, role: .admin)
            for _ in 0..<5 {
                let wrong = try await api.send(
                    .post, "/api/v1/login", json: ["username": "mum", "password": "nope nope nope"])
                #expect(wrong.status == .unauthorized)
                #expect(wrong.errorCode == "invalid_credentials")
            }
            let unknown = try await api.send(
                .post, "/api/v1/login", json: ["username": "nobody", "password": "nope nope"])
            #expect(unknown.status == .unauthorized)
            #expect(unknown.errorCode == "invalid_credentials")

            let throttled = try await api.send(
                .post, "/api/v1/login", json: ["username": "mum", "password": Self.password])
            #expect(throttled.status == .tooManyRequests)
            #expect(throttled.errorCode == "rate_limited")
            #expect(throttled.headers[.retryAfter] == "1")

            env.clock.advance(1)
            let allowed = try await api.send(
                .post, "/api/v1/login", json: ["username": "mum", "password": Self.password])
            #expect(allowed.status == .ok)
        }
    }

    @Test func theHashingQueueShedsWith503() async throws {
        try await withApp({ configuration in
            configuration.hashing.parameters = .init(memoryKiB: 8192, iterations: 8, parallelism: 1)
            configuration.hashing.threads = 1
            configuration.hashing.queueLimit = 1
            configuration.throttles.registerPerAddress.burst = 1_000
        }) { api, env in
            try await env.registration.setMode(.open)
            let statuses = try await withThrowingTaskGroup(of: APIResponse.self) { group in
                for index in 0..<12 {
                    group.addTask {
                        try await api.send(
                            .post, "/api/v1/register", json: ["username": "member\(index)", "password": Self.password])
                    }
                }
                return try await group.reduce(into: [APIResponse]()) { $0.append($1) }
            }
            let shed = statuses.filter { $0.status == .serviceUnavailable }
            #expect(!shed.isEmpty)
            #expect(shed.allSatisfy { $0.errorCode == "busy" && $0.headers[.retryAfter] == "1" })
            #expect(statuses.allSatisfy { $0.status == .created || $0.status == .serviceUnavailable })
            // Exactly the accepted registrations exist.
            #expect(try await env.accounts.users().count == statuses.filter { $0.status == .created }.count)
        }
    }

    @Test func theSetupFlow() async throws {
        try await withApp { api, env in
            let token = try #require(try await env.registration.prepareSetup())
            let status = try await api.send(.post, "/api/v1/setup/status", json: ["token": token])
            #expect(status.json["available"] as? Bool == true)

            let bad = try await api.send(
                .post, "/api/v1/setup", json: ["token": "wrong", "username": "mum", "password": Self.password])
            #expect(bad.status == .gone)
            #expect(bad.errorCode == "setup_unavailable")

            let created = try await api.send(
                .post, "/api/v1/setup", json: ["token": token, "username": "mum", "password": Self.password])
            #expect(created.status == .created)
            #expect((created.json["user"] as? [String: Any])?["role"] as? String == "admin")

            let again = try await api.send(
                .post, "/api/v1/setup", json: ["token": token, "username": "eve", "password": Self.password])
            #expect(again.status == .gone)
            #expect(
                try await api.send(.post, "/api/v1/setup/status", json: ["token": token]).json["available"] as? Bool
                    == false)
        }
    }
}
