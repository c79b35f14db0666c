import Foundation
import Testing

@testable import Credentials

@Suite struct SecretTokenTests {
    @Test func sessionTokensCarry256BitsInBase64URL() {
        let tokens = (0..<100).map { _ in SecretToken.generate() }
        #expect(Set(tokens).count == 100)
        for token in tokens {
            #expect(token.count == 43)
            #expect(token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        }
    }

    @Test func inviteCodesCarry128BitsInLowercaseBase32() {
        let codes = (0..<100).map { _ in SecretToken.generateCode() }
        #expect(Set(codes).count == 100)
        for code in codes {
            #expect(code.count == 26)
            #expect(code.allSatisfy { "abcdefghijklmnopqrstuvwxyz234567".contains($0) })
        }
    }

    @Test func digestIsSHA256() {
        let digest = SecretToken.digest("abc")
        #expect(
            digest.map { String(format: "%02x", $0) }.joined()
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func redactionTakesOutEveryTokenAndCodeAndNothingElse() {
        let token = SecretToken.generate()
        let code = SecretToken.generateCode()
        let line = "GET /reset/\(token) 200 invite=\(code) user=mum"
        #expect(SecretToken.redacting(line) == "GET /reset/[redacted] 200 invite=[redacted] user=mum")
        // Dates, backup file names, ids and ordinary words pass unchanged.
        let plain = "backup written target=/mnt/usb/hearth-2026-12-05T01-00-00Z.age bytes=123456789 room=42"
        #expect(SecretToken.redacting(plain) == plain)
    }
}
