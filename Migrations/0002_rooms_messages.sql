-- Rooms, their members, and messages with the one server-wide sequence.

CREATE TABLE rooms (
    id         INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('direct', 'group')),
    -- Group rooms have a name; direct rooms show the other member's name instead.
    name       TEXT,
    owner_id   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    -- For direct rooms, "<smaller user id>:<larger user id>": one room per pair.
    direct_key TEXT    UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE room_members (
    room_id       INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- The highest seq the user has read in the room (read receipts, unread counts).
    last_read_seq INTEGER NOT NULL DEFAULT 0,
    added_at      INTEGER NOT NULL,
    PRIMARY KEY (room_id, user_id)
) WITHOUT ROWID;
CREATE INDEX room_members_user ON room_members(user_id, room_id);

CREATE TABLE messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Position in the server-wide sequence: unique, only grows, never reused.
    seq        INTEGER NOT NULL UNIQUE,
    room_id    INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    sender_id  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    device_id  INTEGER REFERENCES devices(id) ON DELETE SET NULL,
    -- The sending device's idempotency key: a retry with the same key stores nothing new.
    client_id  TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (device_id, client_id)
);
CREATE INDEX messages_room_seq ON messages(room_id, seq);

-- The last seq handed out, so that it never goes back even when the newest messages are deleted.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('seq', 0);
