import Foundation
import Logging
import Storage
import Synchronization

/// The one writer of the message stream: a group-commit queue, and the only place that hands
/// out `seq` numbers and publishes them.
///
/// Jobs from every connection (sends) and from moderators (approvals of held messages) queue
/// here. Whenever the queue is non-empty and no commit is in flight, everything queued is
/// screened by the moderation rules and committed in one transaction, each job in queue order
/// through a ``RelayTransaction``. A commit begins at most once per `commitInterval`
/// (`HEARTH_COMMIT_INTERVAL_MS`, 5 ms): a job that finds the writer idle for that long commits
/// alone and at once, and under load everything that arrives within the interval shares one
/// transaction, one fsync and one burst of socket writes — which took the server's CPU per
/// message at 2,000 messages a second to a third (docs/PERFORMANCE.md, session 16). Only after
/// the commit are the results published, acked and answered, in that same order — which is
/// seq order, so every socket receives live messages in increasing seq, the order the socket
/// side relies on to drop what it has already had.
///
/// Screening runs here, on the writer's task, never on the event loop that read the frame: a
/// message's text rules cost time linear in its length (RE2), and that time is never taken from
/// other sockets' reads. Doing it here rather than in a task per send costs no extra thread hop.
final class MessageWriter: ContextualService {
    /// A validated `send` waiting for its commit.
    struct Send: Sendable {
        let sender: Sender
        /// The socket that sent it, to which its answer goes.
        let origin: any SendOrigin
        let roomID: Int64
        let clientID: String
        /// The text as the client sent it.
        let body: String
        /// Public ids of the sender's uploads the message shares.
        let attachments: [String]
        /// The seq of the message it replies to, in the same room.
        var replyTo: Int64?
        /// When it reached the writer (`DispatchTime` nanoseconds), for the send/ack latency.
        var queuedAt: UInt64 = 0
    }

    /// A change to a message from a socket: a reaction, an edit or a deletion, waiting for its commit.
    struct Change: Sendable {
        /// What it asks for (an edit carries the text as the client sent it).
        typealias Kind = Relay.Change

        let sender: Sender
        /// Whether the sender may delete anyone's message (moderators and admins).
        let moderator: Bool
        /// The socket that sent it, to which its answer goes.
        let origin: any SendOrigin
        let roomID: Int64
        /// The seq of the message changed.
        let messageSeq: Int64
        let clientID: String
        let kind: Kind
    }

    /// A moderator's decision on a queue item that changes the sequence — approving a held
    /// message, or deleting a published one for everyone — waiting for its commit; `reply` is
    /// resumed after it.
    struct Decision: Sendable {
        enum Kind: Sendable { case approve, delete }
        let kind: Kind
        let itemID: Int64
        let note: String?
        let actor: AuditActor
        let reply: CheckedContinuation<Void, any Error>
    }

    /// A line the server writes into a room's timeline about a change to it ("mum added sam").
    struct SystemLine: Sendable {
        let roomID: Int64
        let actor: User
        let text: String
        let reply: CheckedContinuation<Void, any Error>
    }

    /// What the writer commits: a send or an edit (screened just before its transaction), another
    /// change to a message, a moderator's decision, or a system line.
    enum Job: Sendable {
        case send(Send)
        case change(Change)
        case decision(Decision)
        case system(SystemLine)
    }

    /// A job ready for the transaction: a send with what the rules made of it.
    typealias Screened = (job: Job, screening: Screening?)

    /// A committed batch waiting to be published: every job in queue order and what it came to.
    private struct Committed: Sendable {
        let jobs: [Job]
        let outcomes: [RelayTransaction.Outcome]
    }

    private struct Queue {
        var jobs: [Job] = []
        var committing = false
        /// When the last commit began: the next begins `commitInterval` after it at the earliest.
        var lastCommit: ContinuousClock.Instant?
        /// The publishing of the last batch committed; the next batch's publishing waits for it.
        var publishing: Task<Void, Never>?
    }

    let screener: Screener
    /// Queues pushes for offline devices in the same transaction as what they announce.
    let planner: PushPlanner
    /// Queues outgoing webhook deliveries, likewise.
    let outgoing: OutgoingPlanner
    /// The least time between the starts of two commits; zero commits whenever the last is done.
    let commitInterval: Duration
    /// Unscreened sends and approvals, in arrival order.
    private let queue = Mutex(Queue())
    /// Each room's members as the last transaction left them: the next one takes them and puts
    /// them back (``RoomMembers``).
    private let roomMembers = Mutex(RoomMembers())

    let context: ServiceContext

    init(
        context: ServiceContext, screener: Screener, planner: PushPlanner, outgoing: OutgoingPlanner,
        commitInterval: Duration
    ) {
        self.context = context
        self.commitInterval = commitInterval
        self.screener = screener
        self.planner = planner
        self.outgoing = outgoing
    }

    /// Queues a send; its ack or error reaches its socket after the commit.
    func submit(_ send: Send) {
        var send = send
        send.queuedAt = DispatchTime.now().uptimeNanoseconds
        enqueue(.send(send))
    }

    /// Queues a change to a message; its ack or error reaches its socket after the commit.
    func submit(_ change: Change) {
        enqueue(.change(change))
    }

    /// Approves a queue item in the writer's order: a held message gets the next `seq` and is
    /// published like a new one. Returns once committed and published.
    func approve(itemID: Int64, note: String?, by actor: AuditActor) async throws {
        try await decide(.approve, itemID: itemID, note: note, by: actor)
    }

    /// Deletes a queue item's published message for everyone in the writer's order: the deletion
    /// gets the next `seq`, as a member's own does. Returns once committed and published.
    func deleteForEveryone(itemID: Int64, note: String?, by actor: AuditActor) async throws {
        try await decide(.delete, itemID: itemID, note: note, by: actor)
    }

    /// Writes a system line into a room's timeline under the next `seq` and publishes it to the
    /// room's members. Returns once committed and published.
    func post(_ text: String, in roomID: Int64, by actor: User) async throws {
        try await withCheckedThrowingContinuation { reply in
            enqueue(.system(SystemLine(roomID: roomID, actor: actor, text: text, reply: reply)))
        }
    }

    private func decide(_ kind: Decision.Kind, itemID: Int64, note: String?, by actor: AuditActor) async throws {
        try await withCheckedThrowingContinuation { reply in
            enqueue(.decision(Decision(kind: kind, itemID: itemID, note: note, actor: actor, reply: reply)))
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

    /// Commits batches until the queue is empty, each beginning `commitInterval` after the last
    /// at the earliest, and hands each to be published.
    ///
    /// Committing and publishing are a two-stage pipeline: while one batch is published (its
    /// frames encoded and queued on their sockets, its acks and receipts made), the next one is
    /// committed. Publishing stays in commit order — each batch's waits for the one before — and
    /// at most one batch is published while the next commits, so the stages cannot drift apart.
    /// Done one after the other, the two made the writer's round longer than the interval at
    /// about 14,000 messages a second on two cores, and the queue grew from there.
    private func drain() async {
        while true {
            if commitInterval > .zero, let last = queue.withLock({ $0.lastCommit }),
                case let next = last + commitInterval, next > .now
            {
                try? await Task.sleep(until: next, clock: .continuous)
            }
            let batch: [Job] = queue.withLock { queue in
                let batch = queue.jobs
                queue.jobs = []
                if batch.isEmpty { queue.committing = false } else { queue.lastCommit = .now }
                return batch
            }
            guard !batch.isEmpty else { return }
            let committed = await commit(batch)
            let previous = queue.withLock { queue in
                let previous = queue.publishing
                queue.publishing = Task {
                    await previous?.value
                    self.publish(committed)
                }
                return previous
            }
            await previous?.value
        }
    }

    /// Screens a send or an edit by the mutes, text and `rate` rules: what the rules made of it
    /// (nil for other jobs), and the refusal it is answered with when it stays out of the
    /// transaction. A refusal with a rule firing goes on to the transaction, which records it.
    private func screen(_ job: Job) -> (screening: Screening?, refusal: ServiceError?) {
        let screening: Screening
        switch job {
        case .send(let send):
            screening = screener.screen(body: send.body, roomID: send.roomID, sender: send.sender)
        case .change(let change):
            guard case .edit(let body) = change.kind else { return (nil, nil) }
            screening = screener.screen(body: body, roomID: change.roomID, sender: change.sender)
        case .decision, .system:
            return (nil, nil)
        }
        for rule in screening.hits { metrics.ruleHits[rule.action.rawValue]?.increment() }
        if let refusal = screening.refusal, screening.hits.isEmpty { return (screening, refusal) }
        return (screening, nil)
    }

    /// Screens the batch's sends by the rules and commits the rest in one transaction; a send
    /// refused without a rule firing (a mute, a `rate` refusal already audited) writes nothing.
    /// Every job's outcome comes back in queue order, a refusal for all of them when the commit
    /// fails.
    private func commit(_ batch: [Job]) async -> Committed {
        // Every slot is filled below: with a refusal now, or with what the transaction made of it.
        var outcomes = [RelayTransaction.Outcome](repeating: .decided, count: batch.count)
        var screened: [(index: Int, job: Screened)] = []
        for (index, job) in batch.enumerated() {
            let (screening, refusal) = screen(job)
            if let refusal {
                outcomes[index] = .refused(refusal)
            } else {
                screened.append((index, (job, screening)))
            }
        }
        guard !screened.isEmpty else { return Committed(jobs: batch, outcomes: outcomes) }
        let now = clock().epochMilliseconds
        let screener = screener
        let planner = planner
        let outgoing = outgoing
        let applied: [RelayTransaction.Outcome]
        let pushes: Int
        let deliveries: Int
        let started = DispatchTime.now().uptimeNanoseconds
        let jobs = screened.map(\.job)
        do {
            (applied, pushes, deliveries) = try await database.write { store in
                var transaction = try RelayTransaction(
                    store: store, screener: screener, now: now, members: self.roomMembers.withLock { $0.take() })
                // Put back even when the transaction rolls back: it changes no room's members, so
                // what it read stays true.
                defer { self.roomMembers.withLock { $0 = transaction.members } }
                let outcomes = try jobs.map { try transaction.apply($0.job, screening: $0.screening) }
                var pushes = PushPlanner.Batch()
                var deliveries = 0
                for outcome in outcomes {
                    switch outcome {
                    case .published(let message, let members):
                        try planner.planMessage(message, members: members, store: store, now: now, batch: &pushes)
                        deliveries += try outgoing.plan(message, store: store, now: now)
                    case .changed(let event, _):
                        try planner.planReaction(event, store: store, now: now, batch: &pushes)
                    default: break
                    }
                }
                return (outcomes, pushes.queued, deliveries)
            }
        } catch {
            let refusal = ServiceError.translating(error)
            logger.error("message batch not committed", metadata: ["error": "\(error)", "size": "\(jobs.count)"])
            for (index, _) in screened { outcomes[index] = .refused(refusal) }
            return Committed(jobs: batch, outcomes: outcomes)
        }
        metrics.writerCommit.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds &- started))
        metrics.writerBatch.record(jobs.count)
        var stored = 0
        for ((index, _), outcome) in zip(screened, applied) {
            outcomes[index] = outcome
            switch outcome {
            case .published, .held: stored += 1
            default: break
            }
        }
        if stored > 0 { metrics.messagesStored.increment(by: stored) }
        if pushes > 0 { planner.wakeUp.signal() }
        if deliveries > 0 { outgoing.wakeUp.signal() }
        return Committed(jobs: batch, outcomes: outcomes)
    }

    /// Publishes, acks and answers a committed batch in queue order — which is seq order, so
    /// every socket receives live messages in increasing seq — then lets the live side send what
    /// it gathered meanwhile (delivery receipts).
    private func publish(_ committed: Committed) {
        for (job, outcome) in zip(committed.jobs, committed.outcomes) { deliver(outcome, of: job) }
        live.batchPublished()
    }

    /// Answers a send or a change: on its socket, or to the caller awaiting it.
    private func reply(_ answer: SendAnswer) {
        if let awaited = answer.origin as? AwaitedSend {
            awaited.resume(answer.outcome)
        } else {
            live.answer(answer)
        }
    }

    /// Publishes, acks or answers one committed job.
    private func deliver(_ outcome: RelayTransaction.Outcome, of job: Job) {
        switch job {
        case .system(let line):
            switch outcome {
            case .published(let message, let members):
                live.published(message, to: members, answering: nil)
                line.reply.resume()
            case .refused(let error): line.reply.resume(throwing: error)
            default: line.reply.resume()
            }
        case .decision(let decision):
            switch outcome {
            case .published(let message, let members):
                live.published(message, to: members, answering: nil)
                decision.reply.resume()
            case .changed(let event, let members):
                live.changed(event, to: members, answering: nil)
                decision.reply.resume()
            case .refused(let error): decision.reply.resume(throwing: error)
            default: decision.reply.resume()
            }
        case .change(let change):
            switch outcome {
            case .changed(let event, let members):
                live.changed(event, to: members, answering: change.answer(stored: event))
            case .changeRetry(let seq, let createdAt):
                live.answer(change.answer(.stored(seq: seq, ts: createdAt, body: nil, held: false)))
            case .refused(let error):
                live.answer(change.answer(.refused(error)))
            default:
                break
            }
        case .send(let send):
            switch outcome {
            case .published(let message, let members):
                let answer = send.answer(stored: message)
                live.published(message, to: members, answering: answer)
                (send.origin as? AwaitedSend)?.resume(answer.outcome)
            case .held(let message):
                reply(send.answer(stored: message, held: true))
            case .retry(let id, let seq, let createdAt, let body, let held):
                reply(
                    send.answer(
                        .stored(seq: seq, ts: createdAt, body: send.masked(body), held: held, messageID: id)))
            case .refused(let error):
                reply(send.answer(.refused(error)))
            default:
                // No other outcome comes of a send; a caller awaiting one is never left waiting.
                (send.origin as? AwaitedSend)?.resume(.refused(.internal("the send had no outcome")))
            }
            metrics.recordSendAck(queuedAt: send.queuedAt)
        }
    }
}

extension MessageWriter.Change {
    func answer(_ outcome: SendAnswer.Outcome) -> SendAnswer {
        SendAnswer(origin: origin, clientID: clientID, outcome: outcome)
    }

    /// The ack of a stored change; for an edit the rules masked, with the text stored.
    func answer(stored event: MessageEvent) -> SendAnswer {
        var masked: String?
        if case .edit(let sent) = kind, let stored = event.body, stored != sent { masked = stored }
        return answer(.stored(seq: event.seq, ts: event.createdAt, body: masked, held: false))
    }
}

extension MessageWriter.Send {
    func answer(_ outcome: SendAnswer.Outcome) -> SendAnswer {
        SendAnswer(origin: origin, clientID: clientID, outcome: outcome)
    }

    func answer(stored message: Message, held: Bool = false) -> SendAnswer {
        answer(
            .stored(
                seq: message.seq, ts: message.createdAt, body: masked(message.body), held: held, messageID: message.id))
    }

    /// The stored text, when the rules changed it from what was sent; nil when stored as sent.
    func masked(_ stored: String) -> String? {
        stored == body ? nil : stored
    }
}
