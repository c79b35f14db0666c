import Foundation
import Logging
import NIOSSL
import Services
import Synchronization

/// The certificate and key `serve` speaks TLS with, read from PEM files and read again when
/// either file changes (a renewed Let's Encrypt certificate needs no restart).
public final class TLSCertificates: Sendable {
    let files: ServerConfiguration.TLSFiles
    private struct Loaded {
        var context: NIOSSLContext
        var modified: [Date?]
    }
    private let loaded: Mutex<Loaded>

    /// Reads both files; throws a ``TLSSetupError`` that says which file is wrong and how.
    init(_ files: ServerConfiguration.TLSFiles) throws {
        self.files = files
        loaded = Mutex(Loaded(context: try Self.context(files), modified: Self.modificationDates(files)))
    }

    /// The context new connections use.
    var context: NIOSSLContext { loaded.withLock { $0.context } }

    /// Reads the files again if either changed since the last read. A broken pair (the key
    /// written before the certificate, say) keeps the old one in use and is tried again later.
    @discardableResult
    func reloadIfChanged(logger: Logger) -> Bool {
        let modified = Self.modificationDates(files)
        guard loaded.withLock({ $0.modified != modified }) else { return false }
        do {
            let context = try Self.context(files)
            loaded.withLock { $0 = Loaded(context: context, modified: modified) }
            logger.info("TLS certificate reloaded", metadata: ["certificate": "\(files.certificate)"])
            return true
        } catch {
            logger.error("TLS certificate changed but cannot be used; keeping the previous one: \(error)")
            return false
        }
    }

    private static func modificationDates(_ files: ServerConfiguration.TLSFiles) -> [Date?] {
        [files.certificate, files.key].map {
            (try? FileManager.default.attributesOfItem(atPath: $0))?[.modificationDate] as? Date
        }
    }

    private static func context(_ files: ServerConfiguration.TLSFiles) throws -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(files.certificate)
        } catch {
            throw TLSSetupError("cannot read a PEM certificate from \(files.certificate): \(error)")
        }
        guard let leaf = chain.first else {
            throw TLSSetupError("\(files.certificate) holds no PEM certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: files.key, format: .pem)
        } catch {
            throw TLSSetupError("cannot read a PEM private key from \(files.key): \(error)")
        }
        if leaf.notValidAfter < time(nil) {
            throw TLSSetupError("the certificate in \(files.certificate) expired; renew it")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSSetupError(
                "the key in \(files.key) does not belong to the certificate in \(files.certificate) (\(error))")
        }
    }
}

/// Why TLS cannot start: names the file and what is wrong with it.
/// Why the certificate or key cannot be used, in a sentence that names the file.
public struct TLSSetupError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension PeriodicService {
    /// Checks the certificate files once a minute inside `serve`.
    static func certificateWatcher(_ certificates: TLSCertificates, logger: Logger) -> PeriodicService {
        PeriodicService(interval: .seconds(60)) { certificates.reloadIfChanged(logger: logger) }
    }
}
