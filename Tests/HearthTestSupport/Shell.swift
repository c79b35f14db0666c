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
