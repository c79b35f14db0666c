import Foundation
import Metrics
import Storage

/// What the server counts as it works, through swift-metrics: `hearth serve` bootstraps
/// swift-prometheus behind it and serves `/metrics` (docs/ADMIN.md, *Metrics*, says what each
/// one means); every other process (the CLI, the tests) leaves swift-metrics' no-op backend, so
/// these cost nothing there.
///
/// Only counters and histograms live here, updated where things happen: an increment is one
/// atomic add, a histogram observation one short lock. What is a level rather than an event
/// (sockets open, queue depths, a backup's age) is read when Prometheus scrapes, by the web side.
public struct HearthMetrics: Sendable {
    /// Messages committed to the database (published or held), system lines included.
    let messagesStored = Counter(label: "hearth_messages_stored_total")
    /// From a send reaching the message writer to its ack being handed to the socket.
    let sendAck = Timer(label: "hearth_send_ack_seconds")
    /// Jobs (sends, changes, decisions) committed together in one transaction.
    let writerBatch = Recorder(label: "hearth_writer_batch_jobs", aggregate: true)
    /// How long one writer transaction took, commit (fsync) included.
    let writerCommit = Timer(label: "hearth_writer_commit_seconds")
    /// Sign-ins by password, by result.
    let signInsOK = Counter(label: "hearth_sign_ins_total", dimensions: [("result", "ok")])
    let signInsFailed = Counter(label: "hearth_sign_ins_total", dimensions: [("result", "failed")])
    let signInsThrottled = Counter(label: "hearth_sign_ins_total", dimensions: [("result", "throttled")])
    /// Moderation rules that matched a message or an edit, by the rule's action.
    let ruleHits: [String: Counter]
    /// Pushes a push service accepted, and pushes it refused or could not take.
    let pushesSent = Counter(label: "hearth_pushes_sent_total")
    let pushFailures = Counter(label: "hearth_push_failures_total")
    /// Outgoing webhook deliveries by what came of one try: delivered, to be tried again, given up.
    let webhooksDelivered = Counter(label: "hearth_webhook_deliveries_total", dimensions: [("result", "delivered")])
    let webhooksRetried = Counter(label: "hearth_webhook_deliveries_total", dimensions: [("result", "retried")])
    let webhooksFailed = Counter(label: "hearth_webhook_deliveries_total", dimensions: [("result", "failed")])
    /// Calls that began ringing.
    let callsStarted = Counter(label: "hearth_calls_total")
    /// Bytes of attachments uploaded (complete uploads only).
    let attachmentBytes = Counter(label: "hearth_attachment_bytes_uploaded_total")
    /// Backups run (scheduled, from the panel or the command line), by result.
    let backupsOK = Counter(label: "hearth_backups_total", dimensions: [("result", "ok")])
    let backupsFailed = Counter(label: "hearth_backups_total", dimensions: [("result", "failed")])

    /// The names of the metrics defined here, for the docs' test.
    public static let names = [
        "hearth_messages_stored_total", "hearth_send_ack_seconds", "hearth_writer_batch_jobs",
        "hearth_writer_commit_seconds", "hearth_sign_ins_total", "hearth_rule_hits_total", "hearth_pushes_sent_total",
        "hearth_push_failures_total", "hearth_attachment_bytes_uploaded_total", "hearth_backups_total",
        "hearth_webhook_deliveries_total", "hearth_calls_total",
    ]

    /// Histogram buckets in seconds for the timers, in the order of ``names``' timers.
    public static let sendAckBuckets: [Duration] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000].map {
        .milliseconds($0)
    }
    public static let commitBuckets: [Duration] = [0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250].map {
        .microseconds(Int64($0 * 1000))
    }
    public static let batchBuckets: [Double] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500]

    /// Made after the metrics backend is chosen (swift-metrics binds each metric when it is made).
    public init() {
        ruleHits = Dictionary(
            uniqueKeysWithValues: Rule.Action.allCases.map(\.rawValue).map {
                ($0, Counter(label: "hearth_rule_hits_total", dimensions: [("action", $0)]))
            })
    }

    /// A send's time from `queuedAt` (`DispatchTime` nanoseconds) to now.
    func recordSendAck(queuedAt: UInt64) {
        sendAck.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds &- queuedAt))
    }
}
