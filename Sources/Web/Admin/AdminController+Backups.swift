import Age
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
                throw AdminProblem("Set a schedule first: it says where backups go and which key opens them.")
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
                    recipients: recipients), by: user.actor)
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

    /// `POST /admin/backups/key` — a new age identity: its recipient joins the schedule; the
    /// identity is offered once for download, then forgotten.
    @Sendable func createKey(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await act(request, context, role: .admin, back: "/admin/backups") { user, _ in
            guard var schedule = try await services.backups.schedule() else {
                throw AdminProblem("Set a schedule first (with any existing key), then add a new key here.")
            }
            let identity = X25519Identity.generate()
            let recipient = identity.recipient.string
            schedule.recipients.append(recipient)
            try await services.backups.setSchedule(schedule, by: user.actor)
            let token = downloads.add(
                "# Hearth backup key, created \(AdminFormat.date(Int64(services.now().timeIntervalSince1970 * 1000)))\n"
                    + "# public key: \(recipient)\n\(identity.string)\n", for: user.session.device.id)
            var page = base(user, "New backup key")
            page["recipient"] = recipient
            page["token"] = token
            return templates.page("key", page)
        }
    }

    /// `GET /admin/backups/key/{token}` — the new identity file, once.
    @Sendable func downloadKey(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context, role: .admin) { user in
            guard let text = downloads.take(context.parameters.get("token") ?? "", for: user.session.device.id) else {
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
}

/// Secrets the panel offers for download once, for ten minutes, to the session that made them.
final class OneTimeDownloads: Sendable {
    private struct Entry {
        let deviceID: Int64
        let text: String
        let expires: Date
    }

    private let entries = Mutex([String: Entry]())

    func add(_ text: String, for deviceID: Int64) -> String {
        let token = UUID().uuidString
        entries.withLock { entries in
            let now = Date()
            entries = entries.filter { $0.value.expires > now }
            entries[token] = Entry(deviceID: deviceID, text: text, expires: now.addingTimeInterval(600))
        }
        return token
    }

    func take(_ token: String, for deviceID: Int64) -> String? {
        entries.withLock { entries in
            guard let entry = entries[token], entry.deviceID == deviceID, entry.expires > Date() else { return nil }
            entries[token] = nil
            return entry.text
        }
    }
}
