import Foundation

/// Runs a `/bin/sh -c` command and returns its exit status (-1 when it cannot start): for test
/// set-up such as mounting a small tmpfs.
public func shell(_ command: String) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    guard (try? process.run()) != nil else { return -1 }
    process.waitUntilExit()
    return process.terminationStatus
}

/// A self-signed certificate for `localhost` and 127.0.0.1 made by `openssl` in `directory`:
/// returns the paths of `NAME.pem` and `NAME-key.pem`.
public func makeTestCertificate(in directory: URL, name: String = "cert", days: Int = 2) throws -> (String, String) {
    let certificate = directory.appending(path: "\(name).pem").path
    let key = directory.appending(path: "\(name)-key.pem").path
    let status = shell(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days \(days) "
            + "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 "
            + "-keyout '\(key)' -out '\(certificate)' 2>/dev/null")
    guard status == 0 else { throw CertificateError() }
    return (certificate, key)
}

/// `openssl` could not make a test certificate.
public struct CertificateError: Error {}
