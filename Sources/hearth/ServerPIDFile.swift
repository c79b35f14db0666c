import Foundation

/// `<data-dir>/hearth.pid`: lets CLI commands tell a running server that they ended sessions.
///
/// `serve` writes it once listening and removes it on exit. Commands that end sessions in the
/// database (disable, delete, reset-password) send the server SIGUSR1, on which it closes the
/// sockets of sessions that are gone — at once, not at the next request.
enum ServerPIDFile {
    static func url(_ dataDirectory: URL) -> URL { dataDirectory.appending(path: "hearth.pid") }

    /// Records this process as the data dir's server.
    static func write(_ dataDirectory: URL) {
        try? Data("\(getpid())\n".utf8).write(to: url(dataDirectory), options: .atomic)
    }

    /// Removes the file if it names this process.
    static func remove(_ dataDirectory: URL) {
        if runningServer(dataDirectory) == getpid() { try? FileManager.default.removeItem(at: url(dataDirectory)) }
    }

    /// The pid of a live `hearth serve` on this data dir, if there is one. A stale file (the
    /// process gone, or the pid reused by another program) yields nil.
    static func runningServer(_ dataDirectory: URL) -> pid_t? {
        guard let text = try? String(contentsOf: url(dataDirectory), encoding: .utf8),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0,
            let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
        else { return nil }
        let arguments = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        guard arguments.contains("serve"), arguments.first?.hasSuffix("hearth") == true else { return nil }
        return pid
    }

    /// Asks a running server to close the sockets of sessions that just ended.
    static func notifySessionsEnded(_ dataDirectory: URL) {
        if let pid = runningServer(dataDirectory) { kill(pid, SIGUSR1) }
    }
}
