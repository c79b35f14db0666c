import Age
import Credentials
import Foundation
import Hummingbird
import Services
import Storage
import Synchronization

/// Backups: run now, history, the schedule, and new backup keys.
extension AdminController {
    func addBackupRoutes(to router: Router<AppRequestContext>) {
        router.get("admin/backups", use: backups)
        router.post("admin/backups/run", use: runBackup)
        router.post("admin/backups/schedule", use: saveSchedule)
        router.post("admin/backups/schedule/off", use: scheduleOff)
        router.post("admin/backups/key", use: createKey)
        router.get("admin/backups/key/{token}", use: downloadKey)
        router.post("admin/backups/key/confirm", use: confirmKey)
    }

    /// `GET /admin/backups?before=` — run now, the schedule, the history.
    @Sendable func backups(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context, role: .admin) { user in
            let schedule = try await services.backups.schedule()
            let before = cursor(request)
            let runs = try await services.backups.history(before: before, limit: Self.pageSize)
            var page = base(user, "Backups", request: request)
            if let schedule {
                page["schedule"] =
                    [
                        "directory": schedule.directory, "hours": Int(schedule.interval / 3600), "keep": schedule.keep,
                        "recipientCount": schedule.recipients.count,
                    ] as [String: Any]
            }
            let recipients = try await services.backups.configuredRecipients()
            page["keys"] = recipients
            page["hasKeys"] = !recipients.isEmpty
            page["keyCount"] = recipients.count
            page["oneKey"] = recipients.count == 1
            page["suggestedDirectory"] = "/mnt/usb/hearth-backups"
            page["form"] = [
                "hours": String(Int((schedule?.interval ?? 86_400) / 3600)), "directory": schedule?.directory ?? "",
                "keep": String(schedule?.keep ?? 7), "recipients": recipients.joined(separator: "\n"),
            ]
            page["runs"] = runs.map { run in
                [
                    "started": AdminFormat.date(run.startedAt), "kind": run.kind,
                    "size": run.size.map(AdminFormat.bytes) ?? "—",
                    "took": AdminFormat.duration(Double(run.durationMS) / 1000),
                    "result": run.error.map { "Failed: \($0)" } ?? "OK, \(run.target)",
                ]
            }
            page["next"] = nextLink("/admin/backups", count: runs.count, cursor: runs.last.map { String($0.id) })
            return templates.page("backups", page)
        }
    }

    /// `POST /admin/backups/run` — a backup now, into the scheduled folder, for the scheduled keys.
    @Sendable func runBackup(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await act(request, context, role: .admin, back: "/admin/backups") { user, _ in
            guard let schedule = try await services.backups.schedule() else {
                throw AdminProblem("Create a backup key (step 1) and say where backups go (step 2) first.")
            }
            let recipients = try schedule.recipients.map { AgeRecipient.x25519(try X25519Recipient($0)) }
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyy-MM-dd-HHmmss"
            let target = URL(fileURLWithPath: schedule.directory).appending(
                path: "hearth-manual-\(formatter.string(from: services.now())).age")
            let record = try await services.backups.create(to: target, recipients: recipients, by: user.actor)
            return redirect(
                "/admin/backups", notice: "Backup written: \(record.target), \(AdminFormat.bytes(record.size ?? 0)).",
                for: user)
        }
    }

    /// `POST /admin/backups/schedule` (`hours`, `directory`, `keep`, `recipients`).
    @Sendable func saveSchedule(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await act(request, context, role: .admin, back: "/admin/backups") { user, form in
            guard let hours = try form.number("hours", label: "Hours"),
                let keep = try form.number("keep", label: "Keep")
            else { throw AdminProblem("Say how often and how many to keep.") }
            let recipients = (form["recipients"] ?? "").split(whereSeparator: { $0.isWhitespace || $0 == "," })
                .map(String.init)
            try await services.backups.setSchedule(
                .init(
                    interval: TimeInterval(hours) * 3600, directory: form.text("directory") ?? "", keep: keep,
                    recipients: recipients), createFolder: form["create"] == "1", by: user.actor)
            return redirect("/admin/backups", notice: "Schedule saved.", for: user)
        }
    }

    /// `POST /admin/backups/schedule/off`.
    @Sendable func scheduleOff(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await act(request, context, role: .admin, back: "/admin/backups") { user, _ in
            try await services.backups.setSchedule(nil, by: user.actor)
            return redirect("/admin/backups", notice: "Automatic backups are off.", for: user)
        }
    }

    /// `POST /admin/backups/key` — a new age identity, offered once for download. It is used for
    /// backups only once the admin shows they saved it (`/admin/backups/key/confirm`).
    @Sendable func createKey(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await act(request, context, role: .admin, back: "/admin/backups") { user, _ in
            let identity = X25519Identity.generate()
            let recipient = identity.recipient.string
            let created = AdminFormat.date(Int64(services.now().timeIntervalSince1970 * 1000))
            let token = pendingKeys.add(
                PendingBackupKeys.Key(
                    file: "# Hearth backup key, created \(created)\n# public key: \(recipient)\n\(identity.string)\n",
                    recipient: recipient, ending: String(identity.string.suffix(4))),
                for: user.session.device.id)
            return keyPage(user, token: token, recipient: recipient, problem: nil)
        }
    }

    private func keyPage(_ user: AdminUser, token: String, recipient: String, problem: String?) -> Response {
        var page = base(user, "New backup key")
        page["recipient"] = recipient
        page["token"] = token
        page["problem"] = problem
        return templates.page("key", page)
    }

    /// `GET /admin/backups/key/{token}` — the new identity file, once.
    @Sendable func downloadKey(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context, role: .admin) { user in
            guard
                let text = pendingKeys.download(context.parameters.get("token") ?? "", for: user.session.device.id)
            else {
                throw ServiceError.notFound("That key (it can be downloaded only once)")
            }
            return Response(
                status: .ok,
                headers: [
                    .contentType: "text/plain; charset=utf-8", .cacheControl: "no-store",
                    .contentDisposition: "attachment; filename=\"hearth-backup-key.txt\"",
                ],
                body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }

    /// `POST /admin/backups/key/confirm` (`token`, `ending`): the last 4 characters of the key the
    /// admin saved; when they match, backups are encrypted for it from now on.
    @Sendable func confirmKey(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await act(request, context, role: .admin, back: "/admin/backups") { user, form in
            let token = form["token"] ?? ""
            switch pendingKeys.confirm(token, ending: form["ending"] ?? "", for: user.session.device.id) {
            case .none:
                throw AdminProblem("That key is no longer waiting (keys wait 10 minutes): create a new one.")
            case .some(.failure(let key)):
                return keyPage(
                    user, token: token, recipient: key.recipient,
                    problem: "Those are not the last 4 characters of the key. Open hearth-backup-key.txt: the key is"
                        + " the line that starts with AGE-SECRET-KEY-1; type the 4 characters at its end.")
            case .some(.success(let recipient)):
                try await services.backups.addRecipient(recipient, by: user.actor)
                let scheduled = try await services.backups.schedule() != nil
                return redirect(
                    "/admin/backups",
                    notice: scheduled
                        ? "The key is saved: every backup from now on can be opened with it."
                        : "The key is saved. Now say where backups go and how often (step 2).", for: user)
            }
        }
    }
}

/// New backup keys waiting for their admin to download them (once) and to show they saved them,
/// for ten minutes, for the panel session that made them. Kept in memory only: a key nobody
/// confirmed is forgotten, and never encrypts a backup.
final class PendingBackupKeys: Sendable {
    struct Key: Sendable {
        /// The identity file to download.
        let file: String
        let recipient: String
        /// The last 4 characters of the identity, which the admin types back.
        let ending: String
    }

    private struct Entry {
        let deviceID: Int64
        let key: Key
        var downloaded = false
        let expires: Date
    }

    private let entries = Mutex([String: Entry]())

    func add(_ key: Key, for deviceID: Int64) -> String {
        let token = SecretToken.generate()
        entries.withLock { entries in
            let now = Date()
            entries = entries.filter { $0.value.expires > now }
            entries[token] = Entry(deviceID: deviceID, key: key, expires: now.addingTimeInterval(600))
        }
        return token
    }

    /// The identity file, the first time only.
    func download(_ token: String, for deviceID: Int64) -> String? {
        entries.withLock { entries in
            guard var entry = entries[token], entry.deviceID == deviceID, entry.expires > Date(), !entry.downloaded
            else { return nil }
            entry.downloaded = true
            entries[token] = entry
            return entry.key.file
        }
    }

    /// The recipient when `ending` is how the key ends (then the key is no longer pending); the
    /// key, to ask again, when it is not; nil when no such key waits.
    func confirm(_ token: String, ending: String, for deviceID: Int64) -> Result<String, KeyMismatch>? {
        entries.withLock { entries in
            guard let entry = entries[token], entry.deviceID == deviceID, entry.expires > Date() else { return nil }
            guard ending.trimmingCharacters(in: .whitespaces).uppercased() == entry.key.ending.uppercased() else {
                return .failure(KeyMismatch(recipient: entry.key.recipient))
            }
            entries[token] = nil
            return .success(entry.key.recipient)
        }
    }

    struct KeyMismatch: Error {
        let recipient: String
    }
}
