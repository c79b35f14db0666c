-- Incoming webhooks: a program (the doorbell, Home Assistant, an uptime monitor) posts into a
-- group through a secret URL. Each webhook speaks as a bot user of its own (`users.bot`), a
-- member of its room with one device that never signs in, so its messages go through the same
-- writer, moderation rules and history as anyone's. Only the secret's SHA-256 is stored.
ALTER TABLE users ADD COLUMN bot INTEGER NOT NULL DEFAULT 0 CHECK (bot IN (0, 1));

CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY,
    room_id     INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    device_id   INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    secret_hash BLOB    NOT NULL UNIQUE,
    created_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at  INTEGER
);
CREATE INDEX webhooks_room ON webhooks(room_id);
