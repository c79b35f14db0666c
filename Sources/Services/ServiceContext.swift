import Foundation
import Logging
import Storage

/// What every service works with: the database, the live side, the clock and the log. Built once
/// by ``AppServices`` and shared by all of them.
struct ServiceContext: Sendable {
    let database: AppDatabase
    /// Where services announce what happened to the devices online now.
    let live: any LiveEvents
    let clock: @Sendable () -> Date
    let logger: Logger
    /// What the server counts for `/metrics` (no-ops outside `hearth serve`).
    let metrics: HearthMetrics
}

/// A service built on the shared ``ServiceContext``: its parts by their short names.
protocol ContextualService: Sendable {
    var context: ServiceContext { get }
}

extension ContextualService {
    var database: AppDatabase { context.database }
    var live: any LiveEvents { context.live }
    var clock: @Sendable () -> Date { context.clock }
    var logger: Logger { context.logger }
    var metrics: HearthMetrics { context.metrics }
    /// The services' clock, in milliseconds since the epoch.
    var now: Int64 { context.clock().epochMilliseconds }
}
