import Storage

/// Each room's member ids as the writer last read them, kept from one transaction to the next for
/// as long as nobody joins or leaves any room.
///
/// Every message's transaction needs its room's members: to check the sender is one, and to know
/// whom to publish it to. Reading them again each time was 6% of the server's CPU per
/// message at 8,000 messages a second (docs/PERFORMANCE.md, session 19). Whatever changes any
/// room's members moves ``Store/membersVersion()`` (migration 0025's triggers, so also a cascade
/// from a deleted room or account, and another process writing the file); ``check(_:)`` at the
/// start of each transaction forgets every list once it has moved.
struct RoomMembers: Sendable {
    /// The most rooms whose lists are kept (a few dozen bytes each); past it they are forgotten
    /// and read again as they are needed.
    static let maxRooms = 50_000

    /// The ``Store/membersVersion()`` the lists were read at; nil before the first check.
    private var version: Int64?
    private var byRoom: [Int64: [Int64]] = [:]

    /// Forgets every list if any room's members have changed since they were read.
    mutating func check(_ store: Store) throws {
        let now = try store.membersVersion()
        guard now != version else { return }
        byRoom = [:]
        version = now
    }

    /// The ids of a room's members (none for a room that does not exist): as held, or read now.
    mutating func ids(of roomID: Int64, in store: Store) throws -> [Int64] {
        if let known = byRoom[roomID] { return known }
        let read = try store.memberIDs(roomID: roomID)
        if byRoom.count >= Self.maxRooms { byRoom.removeAll(keepingCapacity: true) }
        byRoom[roomID] = read
        return read
    }

    /// Everything held, leaving this empty: moved rather than copied, so that the transaction
    /// that takes it can add to it without copying every list.
    mutating func take() -> RoomMembers {
        var taken = RoomMembers()
        swap(&taken, &self)
        return taken
    }
}
