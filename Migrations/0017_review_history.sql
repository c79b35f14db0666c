-- The review queue keeps its history: a moderator's deletion is a decision of its own ('deleted'),
-- kept with the rest under "decided", and an item outlives its message (a held message deleted
-- is removed altogether): it keeps the room and the sender it was about.
CREATE TABLE review_items_new (
    id          INTEGER PRIMARY KEY,
    message_id  INTEGER UNIQUE REFERENCES messages(id) ON DELETE SET NULL,
    room_id     INTEGER REFERENCES rooms(id) ON DELETE CASCADE,
    sender_id   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    reason      TEXT    NOT NULL CHECK (reason IN ('held', 'flagged', 'reported')),
    rules       TEXT,
    state       TEXT    NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'approved', 'dismissed', 'deleted')),
    created_at  INTEGER NOT NULL,
    decided_at  INTEGER,
    decided_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    note        TEXT
);
INSERT INTO review_items_new (id, message_id, room_id, sender_id, reason, rules, state, created_at, decided_at,
                              decided_by, note)
    SELECT i.id, i.message_id, m.room_id, m.sender_id, i.reason, i.rules, i.state, i.created_at, i.decided_at,
           i.decided_by, i.note
    FROM review_items i JOIN messages m ON m.id = i.message_id;
DROP TABLE review_items;
ALTER TABLE review_items_new RENAME TO review_items;
CREATE INDEX review_items_state ON review_items(state, id);
