import Crypto
import Foundation
import Testing

@testable import Age

/// Every C2SP age test vector in Vectors/ (see its README): the outcome and the SHA-256 of all
/// plaintext released, also when decryption then fails.
@Suite struct ConformanceTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appending(path: "Vectors").standardizedFileURL

    static var vectors: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0 != "README.md" }.sorted()
    }

    struct Vector {
        var expect = ""
        var payload = ""
        var identities: [AgeIdentity] = []
        var compressed = false
        var armored = false
        var file: [UInt8] = []
    }

    static func load(_ name: String) throws -> Vector {
        let data = [UInt8](try Data(contentsOf: directory.appending(path: name)))
        let split = try #require(data.firstRange(of: Array("\n\n".utf8)))
        var vector = Vector()
        for line in String(decoding: data[..<split.lowerBound], as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "expect": vector.expect = parts[1]
            case "payload": vector.payload = parts[1]
            case "identity": vector.identities.append(.x25519(try X25519Identity(parts[1])))
            case "passphrase": vector.identities.append(.passphrase(parts[1]))
            case "compressed": vector.compressed = parts[1] == "zlib"
            case "armored": vector.armored = parts[1] == "yes"
            default: break
            }
        }
        vector.file = Array(data[split.upperBound...])
        if vector.compressed { vector.file = try inflate(vector.file) }
        return vector
    }

    /// zlib-decompresses with Python's zlib (the vectors' own tooling), keeping the test free of a zlib binding.
    static func inflate(_ bytes: [UInt8]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c", "import sys,zlib; sys.stdout.buffer.write(zlib.decompress(sys.stdin.buffer.read()))",
        ]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(bytes))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return [UInt8](data)
    }

    static func outcome(_ error: (any Error)?) -> String {
        switch error {
        case nil: "success"
        case AgeError.headerFailure?: "header failure"
        case AgeError.noMatch?: "no match"
        case AgeError.hmacFailure?: "HMAC failure"
        case AgeError.payloadFailure?: "payload failure"
        case AgeError.armorFailure?: "armor failure"
        case let other?: "unexpected \(other)"
        }
    }

    @Test(arguments: vectors)
    func vector(_ name: String) throws {
        let vector = try Self.load(name)
        var hash = SHA256()
        var failure: (any Error)?
        do {
            try Age.decrypt(BytesInput(vector.file), identities: vector.identities, armored: vector.armored) {
                hash.update(data: $0)
            }
        } catch {
            failure = error
        }
        #expect(Self.outcome(failure) == vector.expect, "\(name): \(failure.map { "\($0)" } ?? "success")")
        if !vector.payload.isEmpty {
            let digest = hash.finalize().map { String(format: "%02x", $0) }.joined()
            #expect(digest == vector.payload, "\(name): released plaintext differs")
        }
    }

    @Test func allVectorsArePresent() {
        #expect(Self.vectors.count >= 100)
    }
}
