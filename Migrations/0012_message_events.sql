-- Conversations: replies, reactions, edits and deletions. Every change to a message is an event
-- with its own seq in the one server-wide sequence, so a device that syncs after its cursor
-- learns of changes to older messages as it learns of new ones.

-- The seq of the message this one replies to (in the same room).
ALTER TABLE messages ADD COLUMN reply_to INTEGER;
-- When the text was last edited.
ALTER TABLE messages ADD COLUMN edited_at INTEGER;
-- When the message was deleted for everyone: its text is then empty, and its attachments, edits
-- and reactions are gone. The row stays so the timeline can say "message deleted".
ALTER TABLE messages ADD COLUMN deleted_at INTEGER;

-- The texts an edited message had before, for moderators.
CREATE TABLE message_edits (
    id         INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    -- The text before this edit.
    body       TEXT    NOT NULL,
    edited_at  INTEGER NOT NULL
);
CREATE INDEX message_edits_message ON message_edits(message_id, id);

-- One row per user, message and emoji.
CREATE TABLE reactions (
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    emoji      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
) WITHOUT ROWID;

-- Changes to messages, in the same sequence as the messages themselves.
CREATE TABLE message_events (
    id          INTEGER PRIMARY KEY,
    seq         INTEGER NOT NULL UNIQUE,
    room_id     INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    -- The message changed, by its seq.
    message_seq INTEGER NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('reaction', 'edit', 'delete')),
    user_id     INTEGER REFERENCES users(id) ON DELETE SET NULL,
    device_id   INTEGER REFERENCES devices(id) ON DELETE SET NULL,
    -- The device's idempotency key; null for changes a moderator made from the panel.
    client_id   TEXT,
    emoji       TEXT,
    -- For reactions: added (1) or taken back (0).
    added       INTEGER NOT NULL DEFAULT 1,
    -- For edits: the new text (emptied when the message is deleted).
    body        TEXT,
    created_at  INTEGER NOT NULL,
    UNIQUE (device_id, client_id)
);
CREATE INDEX message_events_room_seq ON message_events(room_id, seq);

CREATE TRIGGER message_events_keep_seq_floor AFTER DELETE ON message_events
BEGIN
    UPDATE counters SET value = max(value, OLD.seq) WHERE name = 'seq';
END;
