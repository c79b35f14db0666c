import Foundation
import HearthTestSupport
import Services
import Storage
import Testing

@testable import Web

/// `PUT /api/v1/me/password`: one's own password, the current one required; the other devices
/// stay signed in unless asked; every bad input refused with its own error and nothing changed.
@Suite struct PasswordChangeTests {
    @Test func aPersonChangesTheirOwnPassword() async throws {
        try await withLiveApp { family in
            let phone = try await family.signIn("mum", device: "phone")
            let laptop = try await family.signIn("mum", device: "laptop")
            let newPassword = "a brand new family password"
            for (body, status, code) in [
                (["current": "not it at all", "new": newPassword], 403, "wrong_password"),
                (["current": TestServices.password, "new": "short"], 400, "password_too_short"),
                (["current": TestServices.password, "new": "password123"], 400, "password_too_common"),
                (["current": TestServices.password], 400, "missing_field"),
            ] as [([String: Any], Int, String)] {
                let answer = try await family.call("PUT", "/api/v1/me/password", json: body, token: phone)
                #expect(answer.status == status, "\(body)")
                #expect((answer.json["error"] as? [String: Any])?["code"] as? String == code, "\(body)")
            }
            // Nothing changed: the old password still signs in.
            _ = try await family.env.sessions.login(
                username: "mum", password: TestServices.password, deviceName: nil, client: TestServices.home)

            // Changed: the other device stays signed in, the old password no longer works.
            let changed = try await family.call(
                "PUT", "/api/v1/me/password", json: ["current": TestServices.password, "new": newPassword],
                token: phone)
            #expect(changed.status == 200 && changed.json["signedOut"] as? Int == 0)
            #expect(try await family.call("GET", "/api/v1/me", token: laptop).status == 200)
            await #expect(throws: ServiceError.invalidCredentials) {
                try await family.env.sessions.login(
                    username: "mum", password: TestServices.password, deviceName: nil, client: TestServices.home)
            }
            // Again, asking to sign the others out: the laptop is out, the phone is not.
            let again = try await family.call(
                "PUT", "/api/v1/me/password",
                json: ["current": newPassword, "new": "yet another long password", "signOutOthers": true], token: phone)
            #expect(again.status == 200 && (again.json["signedOut"] as? Int ?? 0) >= 1)
            #expect(try await family.call("GET", "/api/v1/me", token: laptop).status == 401)
            #expect(try await family.call("GET", "/api/v1/me", token: phone).status == 200)
            let audit = try await family.env.services.moderation.auditLog(AuditFilter(action: "password_changed"))
            #expect(audit.count == 2 && audit.first?.detail?.contains("signed out") == true)
        }
    }
}
