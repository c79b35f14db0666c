import Crypto
import CryptoExtras
import Foundation

/// One recipient stanza of a header: `-> type arg…` and a base64 body.
struct Stanza: Equatable {
    var type: String
    var arguments: [String]
    var body: [UInt8]

    /// The stanza as header text, with its body wrapped at 64 columns and a final short (maybe empty) line.
    var encoded: [UInt8] {
        var text = "-> " + ([type] + arguments).joined(separator: " ") + "\n"
        let body = Array(AgeBase64.encode(self.body).utf8)
        var index = 0
        while body.count - index >= 64 {
            text += String(decoding: body[index..<(index + 64)], as: UTF8.self) + "\n"
            index += 64
        }
        text += String(decoding: body[index...], as: UTF8.self) + "\n"
        return Array(text.utf8)
    }
}

/// The header of an age v1 file.
struct AgeHeader {
    static let version = "age-encryption.org/v1"
    /// Longest header line read; stanza arguments and bodies are far shorter.
    static let maxLine = 4096
    /// Most stanzas read, so a hostile header cannot make us work forever.
    static let maxStanzas = 1024

    var stanzas: [Stanza]
    var mac: [UInt8]
    /// The header bytes the MAC covers: everything up to and including `---`.
    var macInput: [UInt8]

    /// Reads and checks the header's syntax; leaves the reader at the payload nonce.
    static func read<Input>(from reader: inout BufferedReader<Input>) throws -> AgeHeader {
        reader.recording = true
        reader.recorded = []
        guard let first = try reader.readLine(limit: maxLine) else { throw AgeError.headerFailure("no header") }
        guard first == Array(version.utf8) else {
            throw AgeError.headerFailure("unsupported version or not an age file")
        }
        var stanzas: [Stanza] = []
        while true {
            guard let line = try reader.readLine(limit: maxLine) else {
                throw AgeError.headerFailure("the header ends early")
            }
            if line.starts(with: Array("--- ".utf8)) {
                let macText = String(decoding: line.dropFirst(4), as: UTF8.self)
                guard let mac = AgeBase64.decode(macText), mac.count == 32 else {
                    throw AgeError.headerFailure("malformed header MAC")
                }
                // The MAC covers the header up to and including "---", without the space.
                let macInput = Array(reader.recorded.dropLast(line.count + 1 - 3))
                reader.recording = false
                return AgeHeader(stanzas: stanzas, mac: mac, macInput: macInput)
            }
            guard line.starts(with: Array("-> ".utf8)), stanzas.count < maxStanzas else {
                throw AgeError.headerFailure("malformed header line")
            }
            let fields = line.dropFirst(3).split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
            guard !fields.isEmpty, fields.allSatisfy({ !$0.isEmpty && $0.allSatisfy { (33...126).contains($0) } })
            else {
                throw AgeError.headerFailure("malformed stanza arguments")
            }
            var body: [UInt8] = []
            while true {
                guard let bodyLine = try reader.readLine(limit: 64) else {
                    throw AgeError.headerFailure("malformed stanza body")
                }
                guard let bytes = AgeBase64.decode(String(decoding: bodyLine, as: UTF8.self)) else {
                    throw AgeError.headerFailure("stanza body is not canonical base64")
                }
                body += bytes
                if bodyLine.count < 64 { break }
            }
            let strings = fields.map { String(decoding: $0, as: UTF8.self) }
            stanzas.append(Stanza(type: strings[0], arguments: Array(strings.dropFirst()), body: body))
        }
    }

    /// The header text for `stanzas`, and its MAC under `fileKey`.
    static func encode(stanzas: [Stanza], fileKey: [UInt8]) -> [UInt8] {
        var header = Array((version + "\n").utf8)
        for stanza in stanzas { header += stanza.encoded }
        header += Array("---".utf8)
        let mac = HMAC<SHA256>.authenticationCode(for: header, using: macKey(fileKey))
        header += Array((" " + AgeBase64.encode(Array(mac)) + "\n").utf8)
        return header
    }

    static func macKey(_ fileKey: [UInt8]) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: fileKey), salt: [UInt8](), info: Array("header".utf8),
            outputByteCount: 32)
    }

    /// Checks the MAC with the file key the stanzas gave.
    func verify(fileKey: [UInt8]) throws {
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: macInput, using: Self.macKey(fileKey)) else {
            throw AgeError.hmacFailure
        }
    }
}
