import Foundation
import HearthTestSupport
import Logging
import Services
import Testing

@testable import Web

/// Reading the certificate again when its files change (a renewal), and keeping the old one
/// when the new files do not make a pair.
@Suite struct TLSCertificatesTests {
    @Test func aRenewedCertificateIsReadAgainAndABrokenOneIsNot() throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "hearth-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (certificate, key) = try makeTestCertificate(in: directory)
        let certificates = try TLSCertificates(.init(certificate: certificate, key: key))
        let logger = Logger(label: "test")
        let first = certificates.context
        #expect(!certificates.reloadIfChanged(logger: logger))

        // A renewal writes both files anew.
        let (renewed, renewedKey) = try makeTestCertificate(in: directory, name: "renewed")
        try replace(certificate, with: renewed, modified: 60)
        try replace(key, with: renewedKey, modified: 60)
        #expect(certificates.reloadIfChanged(logger: logger))
        #expect(certificates.context !== first)

        // Half a renewal (a new certificate, the old key) keeps the working pair in use.
        let working = certificates.context
        let (other, _) = try makeTestCertificate(in: directory, name: "other")
        try replace(certificate, with: other, modified: 120)
        #expect(!certificates.reloadIfChanged(logger: logger))
        #expect(certificates.context === working)
    }

    /// Copies `source` over `path` and dates it `seconds` ahead, so the change is seen even
    /// within the file system's timestamp resolution.
    private func replace(_ path: String, with source: String, modified seconds: TimeInterval) throws {
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.copyItem(atPath: source, toPath: path)
        try FileManager.default.setAttributes(
            [.modificationDate: Date().addingTimeInterval(seconds)], ofItemAtPath: path)
    }
}
