import Foundation
import HearthTestSupport
import Services
import Storage
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// QR device linking over a live server: two clients, a signed-in laptop and a new phone.
@Suite struct LinkTests {
    func call(
        _ family: Family, _ method: String, _ path: String, json: [String: Any]? = nil, token: String? = nil,
        userAgent: String? = nil
    ) async throws -> (status: Int, json: [String: Any], data: Data) {
        try await family.call(method, path, json: json, token: token, userAgent: userAgent)
    }

    func errorCode(_ json: [String: Any]) -> String? { Family.errorCode(json) }

    @Test func approveSignsThePhoneInWithoutAPassword() async throws {
        try await withLiveApp { family in
            let laptopToken = try await family.signIn("mum", device: "laptop")
            let laptop = try await family.socket(laptopToken)
            let link = try await call(family, "POST", "/api/v1/devices/link", token: laptopToken)
            #expect(link.status == 201)
            let code = try #require(link.json["code"] as? String)
            #expect(code.count == 43)
            #expect(link.json["url"] as? String == "http://localhost:8080/link/\(code)")
            #expect((link.json["expiresAt"] as? Int ?? 0) > 0)

            let claim = try await call(
                family, "POST", "/api/v1/devices/link/\(code)/claim", json: ["deviceName": "Mum's phone"],
                userAgent: "Mozilla/5.0 (iPhone) Safari/604.1")
            #expect(claim.status == 202)
            #expect(claim.json["status"] as? String == "pending")
            let phoneToken = try #require(claim.json["token"] as? String)
            // Not signed in until approved.
            #expect(try await call(family, "GET", "/api/v1/me", token: phoneToken).status == 401)

            let request = try await laptop.next("link_request")
            #expect(request["deviceName"] as? String == "Mum's phone")
            #expect((request["userAgent"] as? String)?.contains("iPhone") == true)
            #expect(request["code"] as? String == code)
            #expect((request["ip"] as? String)?.hasPrefix("127.0.0.1") == true)

            // The phone waits while the laptop decides.
            let waiting = Task {
                try await call(family, "GET", "/api/v1/devices/link/\(code)/wait", token: phoneToken).data
            }
            try await Task.sleep(for: .milliseconds(200))
            #expect(
                try await call(family, "POST", "/api/v1/devices/link/\(code)/approve", token: laptopToken).status == 204
            )
            let approvedData = try await waiting.value
            let approved = (
                status: 200, json: (try JSONSerialization.jsonObject(with: approvedData) as? [String: Any]) ?? [:]
            )
            #expect(approved.status == 200)
            #expect((approved.json["user"] as? [String: Any])?["username"] as? String == "mum")
            #expect((approved.json["device"] as? [String: Any])?["name"] as? String == "Mum's phone")
            #expect(approved.json["token"] as? String == phoneToken)
            let me = try await call(family, "GET", "/api/v1/me", token: phoneToken)
            #expect(me.status == 200)

            // The same code does nothing now.
            let again = try await call(
                family, "POST", "/api/v1/devices/link/\(code)/claim", json: ["deviceName": "Eve"])
            #expect(again.status == 410)
            #expect(errorCode(again.json) == "link_used")

            // The device list shows the phone; it can be renamed, then revoked.
            let devices = try await call(family, "GET", "/api/v1/devices", token: laptopToken)
            let list = try #require(devices.json["devices"] as? [[String: Any]])
            let phone = try #require(list.first { $0["name"] as? String == "Mum's phone" })
            #expect(list.first { $0["current"] as? Bool == true }?["name"] as? String == "laptop")
            let phoneID = try #require(phone["id"] as? Int)
            let renamed = try await call(
                family, "PATCH", "/api/v1/devices/\(phoneID)", json: ["name": "Old phone"], token: laptopToken)
            #expect((renamed.json["device"] as? [String: Any])?["name"] as? String == "Old phone")
            let phoneSocket = try await family.socket(phoneToken)
            #expect(try await call(family, "DELETE", "/api/v1/devices/\(phoneID)", token: laptopToken).status == 204)
            #expect(try await phoneSocket.closeCode() == 4001)
            #expect(try await call(family, "GET", "/api/v1/me", token: phoneToken).status == 401)
            await laptop.close()
        }
    }

    @Test func aDeniedOrExpiredClaimIsToldSo() async throws {
        try await withLiveApp { family in
            let laptopToken = try await family.signIn("mum", device: "laptop")
            let denied = try #require(
                try await call(family, "POST", "/api/v1/devices/link", token: laptopToken).json["code"] as? String)
            let claim = try await call(
                family, "POST", "/api/v1/devices/link/\(denied)/claim", json: ["deviceName": "Who?"])
            let token = try #require(claim.json["token"] as? String)
            #expect(
                try await call(family, "POST", "/api/v1/devices/link/\(denied)/deny", token: laptopToken).status == 204)
            let wait = try await call(family, "GET", "/api/v1/devices/link/\(denied)/wait", token: token)
            #expect(wait.status == 403)
            #expect(errorCode(wait.json) == "link_denied")
            #expect(try await call(family, "GET", "/api/v1/me", token: token).status == 401)

            // Ten minutes later the same kind of code does nothing.
            let old = try #require(
                try await call(family, "POST", "/api/v1/devices/link", token: laptopToken).json["code"] as? String)
            family.env.clock.advance(601)
            let late = try await call(family, "POST", "/api/v1/devices/link/\(old)/claim", json: ["deviceName": "Late"])
            #expect(late.status == 410)
            #expect(errorCode(late.json) == "link_expired")

            // A claim nobody answers expires too.
            let unanswered = try #require(
                try await call(family, "POST", "/api/v1/devices/link", token: laptopToken).json["code"] as? String)
            let pending = try await call(family, "POST", "/api/v1/devices/link/\(unanswered)/claim", json: [:])
            let pendingToken = try #require(pending.json["token"] as? String)
            family.env.clock.advance(601)
            let expired = try await call(family, "GET", "/api/v1/devices/link/\(unanswered)/wait", token: pendingToken)
            #expect(expired.status == 410)
            #expect(errorCode(expired.json) == "link_expired")
            #expect(
                try await call(family, "POST", "/api/v1/devices/link/\(unanswered)/approve", token: laptopToken).status
                    == 410)
        }
    }

    @Test func badCodesAndOtherPeoplesRequestsAreRefused() async throws {
        try await withLiveApp { family in
            let mum = try await family.signIn("mum")
            let dad = try await family.signIn("dad")
            let devicesBefore = try await family.env.services.database.read { try $0.activeDeviceCount(userID: 1) }
            for code in ["abc", String(repeating: "!", count: 43), String(repeating: "a", count: 43)] {
                let claim = try await call(
                    family, "POST", "/api/v1/devices/link/\(code)/claim", json: ["deviceName": "x"])
                #expect(claim.status == 404, "\(code)")
                #expect(errorCode(claim.json) == "link_invalid")
            }
            #expect(
                try await family.env.services.database.read { try $0.activeDeviceCount(userID: 1) } == devicesBefore)

            let code = try #require(
                try await call(family, "POST", "/api/v1/devices/link", token: mum).json["code"] as? String)
            let claim = try await call(family, "POST", "/api/v1/devices/link/\(code)/claim", json: ["deviceName": "x"])
            let token = try #require(claim.json["token"] as? String)
            // Dad can neither approve mum's request nor see its QR; strangers cannot wait on it.
            let byDad = try await call(family, "POST", "/api/v1/devices/link/\(code)/approve", token: dad)
            #expect(byDad.status == 404)
            #expect(try await call(family, "GET", "/api/v1/devices/link/\(code)/qr.svg", token: dad).status == 404)
            #expect(try await call(family, "GET", "/api/v1/devices/link/\(code)/wait", token: dad).status == 404)
            #expect(try await call(family, "GET", "/api/v1/devices/link/\(code)/wait").status == 401)
            #expect(try await call(family, "GET", "/api/v1/me", token: token).status == 401)
            #expect(try await call(family, "POST", "/api/v1/devices/link").status == 401)
        }
    }

    @Test func theDeviceCapIsClear() async throws {
        try await withLiveApp({ $0.limits.devicesPerUser = 2 }) { family in
            let first = try await family.signIn("mum", device: "one")
            _ = try await family.signIn("mum", device: "two")
            let code = try #require(
                try await call(family, "POST", "/api/v1/devices/link", token: first).json["code"] as? String)
            let claim = try await call(
                family, "POST", "/api/v1/devices/link/\(code)/claim", json: ["deviceName": "three"])
            #expect(claim.status == 409)
            #expect(errorCode(claim.json) == "too_many_devices")
            await #expect(throws: ServiceError.tooManyDevices(limit: 2)) {
                try await family.env.sessions.login(
                    username: "mum", password: TestServices.password, deviceName: "four", client: TestServices.home)
            }
        }
    }

    @Test func creatingAndClaimingAreRateLimited() async throws {
        try await withLiveApp { family in
            let mum = try await family.signIn("mum")
            for _ in 0..<10 {
                #expect(try await call(family, "POST", "/api/v1/devices/link", token: mum).status == 201)
            }
            let limited = try await call(family, "POST", "/api/v1/devices/link", token: mum)
            #expect(limited.status == 429)
            for _ in 0..<10 {
                _ = try await call(
                    family, "POST", "/api/v1/devices/link/\(String(repeating: "b", count: 43))/claim", json: [:])
            }
            let claims = try await call(
                family, "POST", "/api/v1/devices/link/\(String(repeating: "b", count: 43))/claim", json: [:])
            #expect(claims.status == 429)
        }
    }

    @Test func aRecoveryLinkSignsInOnceAndIsAudited() async throws {
        try await withLiveApp { family in
            _ = try await family.signIn("gran")
            let recovery = try await family.env.services.linking.createRecovery(username: "gran", by: .cli)
            let claim = try await call(
                family, "POST", "/api/v1/devices/link/\(recovery.code)/claim", json: ["deviceName": "New tablet"])
            #expect(claim.status == 200)
            #expect(claim.json["status"] as? String == "approved")
            let token = try #require(claim.json["token"] as? String)
            #expect(try await call(family, "GET", "/api/v1/me", token: token).status == 200)
            let again = try await call(family, "POST", "/api/v1/devices/link/\(recovery.code)/claim", json: [:])
            #expect(again.status == 410)
            let audit = try await family.env.services.database.read {
                try $0.auditEntries(AuditFilter(action: "recovery_"), before: nil, limit: 10)
            }
            #expect(audit.map(\.action) == ["recovery_link_used", "recovery_link_created"])
            #expect(audit.last?.actor == "cli" && audit.last?.target == "gran")
        }
    }

    @Test func theServedQRCodesScanToTheLinkURL() async throws {
        try await withLiveApp({ $0.publicURL = "http://192.168.1.23:8080" }) { family in
            let mum = try await family.signIn("mum")
            let link = try await call(family, "POST", "/api/v1/devices/link", token: mum)
            let code = try #require(link.json["code"] as? String)
            let url = try #require(link.json["url"] as? String)
            #expect(url == "http://192.168.1.23:8080/link/\(code)")
            let png = try await call(family, "GET", "/api/v1/devices/link/\(code)/qr.png", token: mum)
            #expect(png.status == 200)
            #expect(try scan(png.data, extension: "png") == url)
            let svg = try await call(family, "GET", "/api/v1/devices/link/\(code)/qr.svg", token: mum)
            #expect(svg.status == 200)
            let rasterized = try run("/usr/bin/rsvg-convert", ["--width", "600"], input: svg.data)
            #expect(try scan(rasterized, extension: "png") == url)
        }
    }

    /// Decodes a QR image with the real zbarimg.
    func scan(_ image: Data, extension ext: String) throws -> String {
        let file = FileManager.default.temporaryDirectory.appending(path: "hearth-link-\(UUID().uuidString).\(ext)")
        try image.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let output = try run("/usr/bin/zbarimg", ["--quiet", "--raw", file.path], input: nil)
        return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .newlines)
    }

    func run(_ tool: String, _ arguments: [String], input: Data?) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let stdout = Pipe()
        let stdin = Pipe()
        process.standardOutput = stdout
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(input) }
        try stdin.fileHandleForWriting.close()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(tool) failed")
        return data
    }
}
