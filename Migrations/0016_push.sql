-- Web Push (docs/PROTOCOL.md, "Push notifications"): the browsers' subscriptions, the pushes
-- waiting to go, and what each person wants pushed. The server's VAPID key pair is a setting
-- (`vapid_private_key`), so a backup carries it with the subscriptions made for it.
CREATE TABLE push_subscriptions (
    id              INTEGER PRIMARY KEY,
    device_id       INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    -- The same browser subscribing again for another device moves the subscription there.
    endpoint        TEXT    NOT NULL UNIQUE,
    p256dh          TEXT    NOT NULL,
    auth            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    last_success_at INTEGER,
    last_error      TEXT,
    last_error_at   INTEGER
);
CREATE INDEX push_subscriptions_device ON push_subscriptions(device_id);

-- A subscription ends with its device's session, however that ends (sign-out, revocation,
-- expiry, a password reset): a signed-out phone gets no more pushes.
CREATE TRIGGER push_subscriptions_end_with_session AFTER UPDATE OF token_hash ON devices
WHEN NEW.token_hash IS NULL
BEGIN
    DELETE FROM push_subscriptions WHERE device_id = NEW.id;
END;

-- Pushes waiting to go: at most one per subscription and topic (a room, or the device's link
-- requests), a newer one replacing it as the push service itself would. The text is not here:
-- it is read from the message when the push goes, so a deletion or an edit meanwhile counts.
CREATE TABLE push_queue (
    id              INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL REFERENCES push_subscriptions(id) ON DELETE CASCADE,
    topic           TEXT    NOT NULL,
    kind            TEXT    NOT NULL,     -- message, mention, reaction, link
    room_id         INTEGER,
    seq             INTEGER,              -- the message (for a reaction, the one reacted to)
    actor_id        INTEGER,              -- who reacted, or asked to link
    emoji           TEXT,
    urgency         TEXT    NOT NULL,     -- normal or high
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    -- Bumped by each replacement, so a send that finishes after one does not remove the newer.
    version         INTEGER NOT NULL DEFAULT 0,
    UNIQUE (subscription_id, topic)
);
CREATE INDEX push_queue_due ON push_queue(next_attempt_at);

-- What each person wants pushed: NULL is the server's choice.
ALTER TABLE users ADD COLUMN push_preview TEXT;          -- full, sender or none
ALTER TABLE users ADD COLUMN quiet_from INTEGER;         -- minutes after midnight
ALTER TABLE users ADD COLUMN quiet_to INTEGER;
ALTER TABLE users ADD COLUMN quiet_mode TEXT;            -- silent or off
ALTER TABLE users ADD COLUMN time_zone TEXT;              -- an IANA name, from the browser

-- A chat muted by one member: no pushes from it (but mentions) until then; a far future is "always".
ALTER TABLE room_members ADD COLUMN muted_until INTEGER;
