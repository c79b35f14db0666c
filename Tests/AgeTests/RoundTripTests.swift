import Foundation
import Testing

@testable import Age

@Suite struct RoundTripTests {
    static let sizes = [0, 1, 1000, 65_535, 65_536, 65_537, 131_072, 200_000]

    func data(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    @Test(arguments: sizes)
    func x25519RoundTrip(size: Int) throws {
        let alice = X25519Identity.generate()
        let bob = X25519Identity.generate()
        let plaintext = data(size)
        let file = try Age.encrypt(plaintext, to: [.x25519(alice.recipient), .x25519(bob.recipient)])
        #expect(try Age.decrypt(file, identities: [.x25519(bob)]) == plaintext)
        #expect(try Age.decrypt(file, identities: [.x25519(alice)]) == plaintext)
        #expect(throws: AgeError.noMatch) { try Age.decrypt(file, identities: [.x25519(.generate())]) }
    }

    @Test func armorRoundTrip() throws {
        let identity = X25519Identity.generate()
        let plaintext = data(100_000)
        let file = try Age.encrypt(plaintext, to: [.x25519(identity.recipient)], armor: true)
        let text = String(decoding: file, as: UTF8.self)
        #expect(text.hasPrefix("-----BEGIN AGE ENCRYPTED FILE-----\n"))
        #expect(text.hasSuffix("-----END AGE ENCRYPTED FILE-----\n"))
        #expect(text.split(separator: "\n").dropFirst().dropLast().dropLast().allSatisfy { $0.count == 64 })
        #expect(try Age.decrypt(file, identities: [.x25519(identity)]) == plaintext)
    }

    @Test func passphraseRoundTrip() throws {
        let plaintext = data(70_000)
        let file = try Age.encrypt(plaintext, to: [.passphrase("correct horse", workFactor: 10)])
        #expect(String(decoding: file.prefix(40), as: UTF8.self).contains("-> scrypt "))
        #expect(try Age.decrypt(file, identities: [.passphrase("correct horse")]) == plaintext)
        #expect(throws: AgeError.noMatch) { try Age.decrypt(file, identities: [.passphrase("wrong horse")]) }
        #expect(throws: AgeError.self) {
            try Age.encrypt(
                plaintext, to: [.passphrase("a", workFactor: 10), .x25519(X25519Identity.generate().recipient)])
        }
    }

    @Test func everyFlippedByteIsCaught() throws {
        let identity = X25519Identity.generate()
        let file = try Age.encrypt(data(3_000), to: [.x25519(identity.recipient)])
        for index in stride(from: 0, to: file.count, by: 7) {
            var damaged = file
            damaged[index] ^= 0x01
            #expect(throws: AgeError.self, "byte \(index)") {
                try Age.decrypt(damaged, identities: [.x25519(identity)])
            }
        }
        for length in [0, 10, 100, file.count - 1] {
            #expect(throws: AgeError.self) {
                try Age.decrypt(Array(file.prefix(length)), identities: [.x25519(identity)])
            }
        }
    }

    @Test func keysRoundTripAsStrings() throws {
        let identity = X25519Identity.generate()
        #expect(identity.string.hasPrefix("AGE-SECRET-KEY-1"))
        #expect(identity.recipient.string.hasPrefix("age1"))
        #expect(try X25519Identity(identity.string).recipient == identity.recipient)
        #expect(try X25519Recipient(identity.recipient.string) == identity.recipient)
        #expect(throws: AgeError.self) { try X25519Recipient("age1notakey") }
        #expect(throws: AgeError.self) { try X25519Identity(identity.string.lowercased()) }
        let file = "# created: today\n# public key: \(identity.recipient.string)\n\(identity.string)\n"
        #expect(try X25519Identity.parseFile(file).count == 1)
        #expect(throws: AgeError.self) { try X25519Identity.parseFile("# nothing here\n") }
    }

    // MARK: Interop with Debian's age

    func run(_ arguments: [String], input: [UInt8] = []) throws -> (Int32, [UInt8]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/age")
        process.arguments = arguments
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        stdin.fileHandleForWriting.write(Data(input))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, [UInt8](output))
    }

    @Test func debiansAgeReadsOursAndWeReadItsFiles() throws {
        let identity = X25519Identity.generate()
        let keyFile = FileManager.default.temporaryDirectory.appending(path: "hearth-age-\(UUID().uuidString).txt")
        try Data("\(identity.string)\n".utf8).write(to: keyFile)
        defer { try? FileManager.default.removeItem(at: keyFile) }
        let plaintext = data(150_000)

        for armor in [false, true] {
            let ours = try Age.encrypt(plaintext, to: [.x25519(identity.recipient)], armor: armor)
            let (status, decrypted) = try run(["-d", "-i", keyFile.path], input: ours)
            #expect(status == 0)
            #expect(decrypted == plaintext)
        }
        for armor in [false, true] {
            let (status, theirs) = try run(["-r", identity.recipient.string] + (armor ? ["-a"] : []), input: plaintext)
            #expect(status == 0)
            #expect(try Age.decrypt(theirs, identities: [.x25519(identity)]) == plaintext)
        }
        // age-keygen's identity files parse too.
        let keygen = Process()
        keygen.executableURL = URL(fileURLWithPath: "/usr/bin/age-keygen")
        let out = Pipe()
        keygen.standardOutput = out
        keygen.standardError = FileHandle.nullDevice
        try keygen.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        keygen.waitUntilExit()
        #expect(try X25519Identity.parseFile(text).count == 1)
    }
}
