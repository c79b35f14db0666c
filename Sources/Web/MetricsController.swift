import Foundation
import Hummingbird
import Metrics
import Prometheus
import Services

/// `GET /metrics`: the Prometheus text format, for addresses the admin allows or a bearer token.
///
/// Counters and histograms come from swift-metrics (``HearthMetrics``, the relay's delivered
/// count), kept by swift-prometheus's registry as things happen. Levels — sockets open, users,
/// queue depths, a backup's age — are read at each scrape and set on gauges just before the
/// registry writes the text, so nothing on the message path keeps them.
struct MetricsController: Sendable {
    let services: AppServices
    let hub: RelayHub
    let registry: PrometheusCollectorRegistry
    let access: ServerConfiguration.MetricsAccess
    let gauges: Gauges

    /// The gauges read at each scrape.
    struct Gauges: Sendable {
        let socketsOpen: Prometheus.Gauge
        let usersConnected: Prometheus.Gauge
        let users: Prometheus.Gauge
        let hashQueue: Prometheus.Gauge
        let attachmentBytes: Prometheus.Gauge
        let databaseBytes: Prometheus.Gauge
        let backupAge: Prometheus.Gauge
        let backupLastOK: Prometheus.Gauge
        let pushQueue: Prometheus.Gauge
        let webhookQueue: Prometheus.Gauge
        let callsActive: Prometheus.Gauge
        let reviewQueue: Prometheus.Gauge
        let uptime: Prometheus.Gauge

        /// Their names, for the docs' test.
        static let names = [
            "hearth_sockets_open", "hearth_users_connected", "hearth_users", "hearth_hash_queue_depth",
            "hearth_attachment_bytes", "hearth_database_bytes", "hearth_backup_age_seconds", "hearth_backup_last_ok",
            "hearth_push_queue_depth", "hearth_webhook_queue_depth", "hearth_review_queue_open",
            "hearth_uptime_seconds",
        ]

        init(_ registry: PrometheusCollectorRegistry) {
            func gauge(_ name: String, _ help: String) -> Prometheus.Gauge {
                registry.makeGauge(name: name, help: help)
            }
            socketsOpen = gauge("hearth_sockets_open", "WebSockets open now")
            usersConnected = gauge("hearth_users_connected", "Users with at least one socket open")
            users = gauge("hearth_users", "Accounts on the server")
            hashQueue = gauge("hearth_hash_queue_depth", "Password hashes waiting for a hashing thread")
            attachmentBytes = gauge("hearth_attachment_bytes", "Bytes of attachments stored")
            databaseBytes = gauge("hearth_database_bytes", "Size of hearth.sqlite and its WAL")
            backupAge = gauge("hearth_backup_age_seconds", "Seconds since the last good backup (-1: none yet)")
            backupLastOK = gauge("hearth_backup_last_ok", "1 when the last backup succeeded, 0 when it failed")
            pushQueue = gauge("hearth_push_queue_depth", "Pushes waiting to be sent")
            webhookQueue = gauge("hearth_webhook_queue_depth", "Outgoing webhook deliveries waiting to be sent")
            callsActive = gauge("hearth_calls_active", "Calls on now, ringing or answered")
            reviewQueue = gauge("hearth_review_queue_open", "Review queue items waiting for a moderator")
            uptime = gauge("hearth_uptime_seconds", "Seconds since this server started")
        }
    }

    init(
        services: AppServices, hub: RelayHub, registry: PrometheusCollectorRegistry,
        access: ServerConfiguration.MetricsAccess
    ) {
        self.services = services
        self.hub = hub
        self.registry = registry
        self.access = access
        gauges = Gauges(registry)
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("metrics", use: scrape)
    }

    /// `GET /metrics` — 200 with the text format (version 0.0.4), or 403 for an address not
    /// allowed and without the bearer token.
    @Sendable func scrape(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard allows(request, context: context) else {
            return Response(
                status: .forbidden, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(
                    byteBuffer: ByteBuffer(
                        string:
                            "Metrics are served to the addresses in HEARTH_METRICS_ALLOW, or with the token in "
                            + "HEARTH_METRICS_TOKEN_FILE.\n")))
        }
        let status = try await services.status()
        let levels = try await services.metricLevels()
        let online = hub.onlineCounts()
        gauges.socketsOpen.set(to: Double(online.devices))
        gauges.usersConnected.set(to: Double(online.users))
        gauges.users.set(to: Double(status.users))
        gauges.hashQueue.set(to: Double(levels.hashQueue))
        gauges.attachmentBytes.set(to: Double(levels.attachmentBytes))
        gauges.databaseBytes.set(to: Double(status.databaseBytes))
        gauges.backupAge.set(to: status.backupAge ?? -1)
        gauges.backupLastOK.set(to: status.lastBackupFailed ? 0 : 1)
        gauges.pushQueue.set(to: Double(levels.pushQueue))
        gauges.webhookQueue.set(to: Double(levels.webhookQueue))
        gauges.callsActive.set(to: Double(services.calls.active))
        gauges.reviewQueue.set(to: Double(status.openQueueItems))
        gauges.uptime.set(to: status.now.timeIntervalSince(status.startedAt))
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
    }

    /// Whether this request may scrape: the bearer token, or a client address the setting allows.
    func allows(_ request: Request, context: AppRequestContext) -> Bool {
        if let token = access.token, let header = request.headers[.authorization],
            Self.constantTimeEqual(header, "Bearer \(token)")
        {
            return true
        }
        guard let address = context.client(request).ip else { return false }
        return access.allows(address)
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// The process-wide metrics backend of `hearth serve`.
public enum MetricsExport {
    /// Makes swift-prometheus swift-metrics' backend, with Hearth's histogram buckets; returns
    /// the registry `/metrics` writes. Call once, before the services and the relay are made.
    public static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = [
            "hearth_send_ack_seconds": HearthMetrics.sendAckBuckets,
            "hearth_writer_commit_seconds": HearthMetrics.commitBuckets,
        ]
        factory.valueHistogramBuckets = ["hearth_writer_batch_jobs": HearthMetrics.batchBuckets]
        MetricsSystem.bootstrap(factory)
        return registry
    }
}
