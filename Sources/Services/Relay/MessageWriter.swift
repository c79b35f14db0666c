import Foundation
import Logging
import Storage
import Synchronization

/// The one writer of the message stream: a group-commit queue, and the only place that hands
/// out `seq` numbers and publishes them.
///
/// Jobs from every connection (sends) and from moderators (approvals of held messages) queue
/// here. Whenever the queue is non-empty and no commit is in flight, everything queued is
/// screened by the moderation rules and committed in one transaction (no timer: at low load a
/// job commits alone and at once; under load thousands share one fsync), each job in queue order
/// through a ``RelayTransaction``. Only after the commit are the results published, acked and
/// answered, in that same order — which is seq order, so every socket receives live messages in
/// increasing seq, the order ``RelayConnection`` relies on to drop what it has already had.
///
/// Screening runs here, on the writer's task, never on the event loop that read the frame: a
/// message's text rules cost time linear in its length (RE2), and that time is never taken from
/// other sockets' reads. Doing it here rather than in a task per send costs no extra thread hop.
final class MessageWriter: Sendable {
    /// A validated `send` waiting for its commit.
    struct Send: Sendable {
        let connection: RelayConnection
        let roomID: Int64
        let clientID: String
        /// The text as the client sent it.
        let body: String
        /// Public ids of the sender's uploads the message shares.
        let attachments: [String]
    }

    /// A moderator's approval of a queue item, waiting for its commit; `reply` is resumed after it.
    struct Approval: Sendable {
        let itemID: Int64
        let note: String?
        let actor: AuditActor
        let reply: CheckedContinuation<Void, any Error>
    }

    /// What the writer commits: a send (screened just before its transaction), or an approval.
    enum Job: Sendable {
        case send(Send)
        case approval(Approval)
    }

    /// A job ready for the transaction: a send with what the rules made of it.
    typealias Screened = (job: Job, screening: Screening?)

    private struct Queue {
        var jobs: [Job] = []
        var committing = false
    }

    let database: AppDatabase
    let hub: RelayHub
    let screener: Screener
    let clock: @Sendable () -> Date
    let logger: Logger
    /// Unscreened sends and approvals, in arrival order.
    private let queue = Mutex(Queue())

    init(
        database: AppDatabase, hub: RelayHub, screener: Screener, clock: @escaping @Sendable () -> Date, logger: Logger
    ) {
        self.database = database
        self.hub = hub
        self.screener = screener
        self.clock = clock
        self.logger = logger
    }

    /// Queues a send; its ack or error reaches the connection after the commit.
    func submit(_ send: Send) {
        enqueue(.send(send))
    }

    /// Approves a queue item in the writer's order: a held message gets the next `seq` and is
    /// published like a new one. Returns once committed and published.
    func approve(itemID: Int64, note: String?, by actor: AuditActor) async throws {
        try await withCheckedThrowingContinuation { reply in
            enqueue(.approval(Approval(itemID: itemID, note: note, actor: actor, reply: reply)))
        }
    }

    private func enqueue(_ job: Job) {
        let start = queue.withLock { queue in
            queue.jobs.append(job)
            guard !queue.committing else { return false }
            queue.committing = true
            return true
        }
        if start { Task { await self.drain() } }
    }

    /// Commits batches until the queue is empty.
    private func drain() async {
        while true {
            let batch: [Job] = queue.withLock { queue in
                let batch = queue.jobs
                queue.jobs = []
                if batch.isEmpty { queue.committing = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            await commit(screened(batch))
        }
    }

    /// Screens the batch's sends by the mutes, text and `rate` rules; a send refused without a
    /// rule firing (a mute, a `rate` refusal already audited) is answered now and leaves the batch.
    private func screened(_ batch: [Job]) -> [Screened] {
        batch.compactMap { job in
            guard case .send(let send) = job else { return (job, nil) }
            let screening = screener.screen(body: send.body, roomID: send.roomID, sender: send.connection)
            if let refusal = screening.refusal, screening.hits.isEmpty {
                send.connection.send(RelayFrames.error(refusal, id: send.clientID))
                return nil
            }
            return (job, screening)
        }
    }

    private func commit(_ batch: [Screened]) async {
        guard !batch.isEmpty else { return }
        let now = clock().epochMilliseconds
        let screener = screener
        let outcomes: [RelayTransaction.Outcome]
        do {
            outcomes = try await database.write { store in
                var transaction = try RelayTransaction(store: store, screener: screener, now: now)
                return try batch.map { try transaction.apply($0.job, screening: $0.screening) }
            }
        } catch {
            let refusal = ServiceError.translating(error)
            logger.error("message batch not committed", metadata: ["error": "\(error)", "size": "\(batch.count)"])
            for (job, _) in batch {
                switch job {
                case .send(let send): send.connection.send(RelayFrames.error(refusal, id: send.clientID))
                case .approval(let approval): approval.reply.resume(throwing: refusal)
                }
            }
            return
        }
        for ((job, _), outcome) in zip(batch, outcomes) { deliver(outcome, of: job) }
    }

    /// Publishes, acks or answers one committed job.
    private func deliver(_ outcome: RelayTransaction.Outcome, of job: Job) {
        switch job {
        case .approval(let approval):
            switch outcome {
            case .published(let message, let members):
                hub.publish(
                    .init(message: message, frame: RelayFrames.message(message), origin: nil, ack: nil), to: members)
                approval.reply.resume()
            case .refused(let error): approval.reply.resume(throwing: error)
            default: approval.reply.resume()
            }
        case .send(let send):
            let connection = send.connection
            switch outcome {
            case .published(let message, let members):
                let ack = RelayFrames.ack(
                    id: send.clientID, seq: message.seq, ts: message.createdAt,
                    body: message.body == send.body ? nil : message.body)
                hub.publish(
                    .init(message: message, frame: RelayFrames.message(message), origin: connection, ack: ack),
                    to: members)
            case .held(let message):
                connection.send(
                    RelayFrames.ack(
                        id: send.clientID, seq: message.seq, ts: message.createdAt,
                        body: message.body == send.body ? nil : message.body, held: true))
            case .retry(let seq, let createdAt, let body, let held):
                connection.send(
                    RelayFrames.ack(
                        id: send.clientID, seq: seq, ts: createdAt, body: body == send.body ? nil : body, held: held))
            case .refused(let error):
                connection.send(RelayFrames.error(error, id: send.clientID))
            case .decided:
                break
            }
        }
    }
}
