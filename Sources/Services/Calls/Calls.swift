import Foundation
import Storage
import Synchronization

/// Voice and video calls: who is ringing, who is in each call, and what to tell whom.
///
/// The media go peer to peer (WebRTC); the server only carries the signalling between devices
/// of a call's members over their sockets, and forgets a call when it ends, keeping the one
/// line it leaves in its room ("Missed voice call", "Video call, 12 min") and a count per day.
/// State lives in memory: a call does not outlive the server.
///
/// A room has at most one call at a time. A ring goes to every online device of every other
/// member; in a direct chat the first device to accept takes the call and the others stop
/// ringing; in a group each member may accept, up to `maxParticipants` devices (a mesh: every
/// pair of devices one peer connection). A ring unanswered for `ringTimeout` ends as missed.
public final class Calls: ContextualService {
    let context: ServiceContext
    public let settings: HearthConfiguration.CallSettings
    let writer: MessageWriter
    /// Rings devices without a socket by push.
    let planner: PushPlanner
    private let registry = Mutex(Registry())

    init(
        context: ServiceContext, settings: HearthConfiguration.CallSettings, writer: MessageWriter, planner: PushPlanner
    ) {
        self.context = context
        self.settings = settings
        self.writer = writer
        self.planner = planner
    }

    struct Call {
        let id: String
        let roomID: Int64
        let direct: Bool
        let video: Bool
        let caller: CallEvent.Participant
        let startedAt: Date
        /// The room's other members when it began.
        let invited: Set<Int64>
        /// Devices in the call, in the order they came.
        var participants: [CallEvent.Participant]
        /// Devices ringing now.
        var ringing: Set<Int64>
        var answeredAt: Date?
        var timer: Task<Void, Never>?
    }

    struct Registry {
        var calls: [String: Call] = [:]
        var byRoom: [Int64: String] = [:]
    }

    /// What a ring came to.
    public enum Rang: Sendable, Equatable {
        /// The call began; `ringing` devices ring.
        case ringing(devices: Int)
        /// A group call was already on: the caller's device joined it under its id.
        case joined(callID: String)
        /// A direct chat's call was already on: the caller got `busy`.
        case busy
    }

    // MARK: Frames from devices

    /// Rings the other members of `roomID` from `caller`'s device. A muted user cannot ring.
    public func ring(
        callID: String, roomID: Int64, video: Bool, from caller: CallEvent.Participant
    ) async throws -> Rang {
        try Self.checkID(callID)
        let (room, members, user) = try await run {
            try await database.read { store in
                guard let room = try store.room(id: roomID), try store.isMember(roomID: roomID, userID: caller.userID)
                else { throw ServiceError.roomNotFound }
                return (room, try store.memberIDs(roomID: roomID), try store.user(id: caller.userID))
            }
        }
        if let until = user?.mutedUntil, until > now { throw ServiceError.muted(until: until) }
        let others = Set(members).subtracting([caller.userID])
        guard !others.isEmpty else { throw ServiceError.invalidField("There is no one else in this chat to call.") }
        // Another call in the room: a group's caller joins it; a direct chat's gets `busy`.
        if let existing = registry.withLock({ $0.byRoom[roomID] }) {
            if room.kind == .group {
                try accept(callID: existing, from: caller)
                return .joined(callID: existing)
            }
            let busy = CallEvent(callID: callID, roomID: roomID, action: .busy, video: video, from: nil)
            live.call(busy, to: [caller.deviceID])
            return .busy
        }
        let ringing = live.connectedDeviceIDs(ofUsers: others)
        let call = Call(
            id: callID, roomID: roomID, direct: room.kind == .direct, video: video, caller: caller,
            startedAt: clock(), invited: others, participants: [caller], ringing: ringing)
        try registry.withLock { registry in
            guard registry.calls[callID] == nil else {
                throw ServiceError.invalidField("That call id is taken; make a new one for each call.")
            }
            guard registry.byRoom[roomID] == nil else { throw ServiceError.invalidField("A call is starting here.") }
            registry.calls[callID] = call
            registry.byRoom[roomID] = callID
        }
        let timeout = settings.ringTimeout
        let timer = Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(Int64(timeout * 1000)))
            guard !Task.isCancelled else { return }
            await self?.ringTimedOut(callID)
        }
        registry.withLock { $0.calls[callID]?.timer = timer }
        live.call(CallEvent(callID: callID, roomID: roomID, action: .ring, video: video, from: caller), to: ringing)
        // Devices without a socket ring by push (high urgency, for as long as the ring lasts).
        let now = now
        let (planner, seconds) = (planner, settings.ringTimeout)
        let pushed =
            !planner.mayPush(others)
            ? 0
            : try? await database.write { store in
                try planner.planRing(
                    roomID: roomID, callerID: caller.userID, video: video, called: others, ringsFor: seconds,
                    store: store,
                    now: now)
            }
        if (pushed ?? 0) > 0 { planner.wakeUp.signal() }
        metrics.callsStarted.increment()
        logger.info("call ringing", metadata: ["room": "\(roomID)", "devices": "\(ringing.count)"])
        return .ringing(devices: ringing.count)
    }

    /// A device takes the call (or, in a group, joins it): it gets `joined` with the devices to
    /// call; they get `accept`; its user's other devices stop ringing.
    public func accept(callID: String, from device: CallEvent.Participant) throws {
        let sameUser = live.connectedDeviceIDs(ofUsers: [device.userID])
        let (call, others) = try registry.withLock { registry -> (Call, Set<Int64>) in
            guard var call = registry.calls[callID] else { throw ServiceError.callNotFound }
            guard call.invited.contains(device.userID) || call.caller.userID == device.userID else {
                throw ServiceError.callNotFound
            }
            guard !call.participants.contains(where: { $0.deviceID == device.deviceID }) else {
                throw ServiceError.invalidField("This device is in the call already.")
            }
            if call.direct, call.participants.count >= 2 {
                throw ServiceError.invalidField("The call was answered on another device.")
            }
            guard call.participants.count < settings.maxParticipants else {
                throw ServiceError.invalidField(
                    "A call holds at most \(settings.maxParticipants) people; this one is full.")
            }
            // The user's other ringing devices stop; in a direct chat, everyone's do.
            let stop = call.direct ? call.ringing : call.ringing.intersection(sameUser)
            call.ringing.subtract(stop)
            call.ringing.remove(device.deviceID)
            if call.answeredAt == nil { call.answeredAt = clock() }
            call.participants.append(device)
            if call.direct || call.ringing.isEmpty { call.timer?.cancel() }
            registry.calls[callID] = call
            return (call, stop.subtracting([device.deviceID]))
        }
        let already = call.participants.filter { $0.deviceID != device.deviceID }
        var joined = CallEvent(callID: callID, roomID: call.roomID, action: .joined, video: call.video, from: device)
        joined.participants = already
        live.call(joined, to: [device.deviceID])
        live.call(
            CallEvent(callID: callID, roomID: call.roomID, action: .accept, video: call.video, from: device),
            to: Set(already.map(\.deviceID)))
        if !others.isEmpty {
            live.call(
                CallEvent(
                    callID: callID, roomID: call.roomID, action: .answeredElsewhere, video: call.video, from: device),
                to: others)
        }
    }

    /// A device declines: its user's devices stop ringing; in a direct chat the call ends.
    public func decline(callID: String, from device: CallEvent.Participant) async throws {
        let sameUser = live.connectedDeviceIDs(ofUsers: [device.userID]).union([device.deviceID])
        let (call, stop, ends) = try registry.withLock { registry -> (Call, Set<Int64>, Bool) in
            guard var call = registry.calls[callID], call.invited.contains(device.userID) else {
                throw ServiceError.callNotFound
            }
            let stop = call.ringing.intersection(sameUser)
            call.ringing.subtract(stop)
            registry.calls[callID] = call
            let ends = call.direct || (call.participants.count < 2 && call.ringing.isEmpty)
            return (call, stop, ends)
        }
        live.call(
            CallEvent(callID: callID, roomID: call.roomID, action: .answeredElsewhere, video: call.video, from: device),
            to: stop.subtracting([device.deviceID]))
        live.call(
            CallEvent(callID: callID, roomID: call.roomID, action: .decline, video: call.video, from: device),
            to: Set(call.participants.map(\.deviceID)))
        if ends { await end(callID, reason: "declined") }
    }

    /// The one called is in another call (their client says so): in a direct chat the call ends.
    public func busy(callID: String, from device: CallEvent.Participant) async throws {
        let call = try registry.withLock { registry -> Call in
            guard let call = registry.calls[callID], call.invited.contains(device.userID) else {
                throw ServiceError.callNotFound
            }
            return call
        }
        live.call(
            CallEvent(callID: callID, roomID: call.roomID, action: .busy, video: call.video, from: device),
            to: Set(call.participants.map(\.deviceID)))
        if call.direct { await end(callID, reason: "busy") }
    }

    /// A device leaves the call (or the caller gives up ringing). When fewer than two devices are
    /// left and nobody else rings, the call ends.
    public func hangup(callID: String, from device: CallEvent.Participant) async throws {
        let (call, ends) = try registry.withLock { registry -> (Call, Bool) in
            guard var call = registry.calls[callID],
                call.participants.contains(where: { $0.deviceID == device.deviceID })
            else { throw ServiceError.callNotFound }
            call.participants.removeAll { $0.deviceID == device.deviceID }
            registry.calls[callID] = call
            let ends = call.participants.count < 2 && (call.answeredAt != nil || call.participants.isEmpty)
            return (call, ends)
        }
        if ends {
            await end(callID, reason: call.answeredAt == nil ? "cancelled" : "ended")
        } else {
            live.call(
                CallEvent(callID: callID, roomID: call.roomID, action: .hangup, video: call.video, from: device),
                to: Set(call.participants.map(\.deviceID)))
        }
    }

    /// A device's socket opened: a call ringing for its user rings on it too (the app just opened,
    /// perhaps from the ring's notification).
    public func connected(_ device: CallEvent.Participant) {
        let rings = registry.withLock { registry -> [CallEvent] in
            var rings: [CallEvent] = []
            for (id, call) in registry.calls
            where call.invited.contains(device.userID)
                && !call.participants.contains(where: { $0.userID == device.userID })
                && (call.answeredAt == nil || !call.direct) && call.timer != nil
            {
                registry.calls[id]?.ringing.insert(device.deviceID)
                rings.append(
                    CallEvent(callID: id, roomID: call.roomID, action: .ring, video: call.video, from: call.caller))
            }
            return rings
        }
        for ring in rings { live.call(ring, to: [device.deviceID]) }
    }

    /// A device's socket closed: it leaves any call it was in, and stops ringing.
    public func disconnected(deviceID: Int64, userID: Int64, username: String) async {
        let inCalls = registry.withLock { registry in
            for (id, call) in registry.calls where call.ringing.contains(deviceID) {
                registry.calls[id]?.ringing.remove(deviceID)
            }
            return registry.calls.values.filter { $0.participants.contains { $0.deviceID == deviceID } }.map(\.id)
        }
        let device = CallEvent.Participant(userID: userID, username: username, deviceID: deviceID)
        for id in inCalls { try? await hangup(callID: id, from: device) }
    }

    /// Whether `from` may send WebRTC signalling to `to` in a call: both are devices in it.
    public func checkSignal(callID: String, from: Int64, to: Int64) throws {
        try registry.withLock { registry in
            guard let call = registry.calls[callID], call.participants.contains(where: { $0.deviceID == from }) else {
                throw ServiceError.callNotFound
            }
            guard from != to, call.participants.contains(where: { $0.deviceID == to }) else {
                throw ServiceError.notInCall
            }
        }
    }

    /// Calls on now (the dashboard).
    public var active: Int { registry.withLock { $0.calls.count } }

    /// Calls that ended today (UTC), for the dashboard.
    public func endedToday() async throws -> Int {
        let day = Self.day(clock())
        return try await run { try await database.read { try $0.calls(on: day) } }
    }

    /// How many calls ended each day and their minutes in all, newest first (the audit log: no
    /// more than that is kept of calls).
    public func perDay(limit: Int = 30) async throws -> [(day: String, calls: Int, seconds: Int64)] {
        try await run { try await database.read { try $0.callDays(limit: limit) } }
    }

    // MARK: Ending

    private func ringTimedOut(_ callID: String) async {
        let outcome = registry.withLock { registry -> (call: Call, ringing: Set<Int64>)? in
            guard var call = registry.calls[callID] else { return nil }
            let ringing = call.ringing
            // Unanswered, it ends (and everyone ringing is told); answered, the ringing stops.
            if call.answeredAt != nil { call.ringing = [] }
            // This task is the timer: ending the call must not cancel it halfway.
            call.timer = nil
            registry.calls[callID] = call
            return (call, ringing)
        }
        guard let (call, ringing) = outcome else { return }
        if call.answeredAt == nil { return await end(callID, reason: "timeout") }
        // A group call goes on; the members who did not answer stop ringing.
        var stop = CallEvent(callID: callID, roomID: call.roomID, action: .hangup, video: call.video, from: nil)
        stop.reason = "timeout"
        live.call(stop, to: ringing)
    }

    /// Ends a call: every device still in it or ringing gets `hangup` with `reason`, and the room
    /// gets its line.
    private func end(_ callID: String, reason: String) async {
        let ended = registry.withLock { registry -> Call? in
            guard let call = registry.calls.removeValue(forKey: callID) else { return nil }
            registry.byRoom[call.roomID] = nil
            call.timer?.cancel()
            return call
        }
        guard let call = ended else { return }
        var hangup = CallEvent(callID: callID, roomID: call.roomID, action: .hangup, video: call.video, from: nil)
        hangup.reason = reason
        live.call(hangup, to: call.ringing.union(call.participants.map(\.deviceID)))
        let seconds = call.answeredAt.map { clock().timeIntervalSince($0) }
        let line = Self.line(video: call.video, seconds: seconds, declined: reason == "declined")
        let day = Self.day(call.startedAt)
        logger.info("call ended", metadata: ["room": "\(call.roomID)", "reason": "\(reason)"])
        // Written on its own: the socket that hung up goes on with its next frame meanwhile.
        Task { [self] in
            do {
                let caller = try await run {
                    try await database.write { store -> User? in
                        try store.countCall(day: day, seconds: Int64(seconds ?? 0))
                        return try store.user(id: call.caller.userID)
                    }
                }
                if let caller { try await writer.post(line, in: call.roomID, by: caller) }
            } catch {
                logger.error("call line not written", metadata: ["room": "\(call.roomID)", "error": "\(error)"])
            }
        }
    }

    /// The line a call leaves: "Missed voice call", "Declined video call", "Video call, 12 min".
    static func line(video: Bool, seconds: TimeInterval?, declined: Bool) -> String {
        let kind = video ? "video call" : "voice call"
        guard let seconds else { return (declined ? "Declined " : "Missed ") + kind }
        let length = seconds < 60 ? "\(max(1, Int(seconds.rounded()))) s" : "\(Int((seconds / 60).rounded())) min"
        return kind.prefix(1).uppercased() + kind.dropFirst() + ", " + length
    }

    /// A day as `YYYY-MM-DD` in UTC, for the counts per day.
    static func day(_ date: Date) -> String {
        let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

    /// A call id: 8–64 ASCII letters, digits, `-` and `_` (a UUID does).
    static func checkID(_ id: String) throws {
        let allowed = { (byte: UInt8) in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
        guard (8...64).contains(id.utf8.count), id.utf8.allSatisfy(allowed) else {
            throw ServiceError.invalidField("`call` is 8–64 letters, digits, '-' or '_' (a UUID will do).")
        }
    }
}
