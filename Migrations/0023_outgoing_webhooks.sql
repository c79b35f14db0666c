-- Outgoing webhooks: a group sends each new message (or only commands, those starting with `/`)
-- to a program's URL, signed with HMAC-SHA256. The secret is kept as it is, since every delivery
-- is signed with it. Deliveries are a persistent queue, filled in the same transaction as the
-- message they carry, and keep a log (status, latency, last error) once done; a done delivery's
-- payload is cleared, and the log is pruned after a week.
CREATE TABLE outgoing_webhooks (
    id            INTEGER PRIMARY KEY,
    room_id       INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    url           TEXT    NOT NULL,
    secret        TEXT    NOT NULL,
    commands_only INTEGER NOT NULL DEFAULT 0 CHECK (commands_only IN (0, 1)),
    created_by    INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER
);
CREATE INDEX outgoing_webhooks_room ON outgoing_webhooks(room_id);

CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    hook_id         INTEGER NOT NULL REFERENCES outgoing_webhooks(id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    payload         BLOB,
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    finished_at     INTEGER,
    last_status     INTEGER,
    last_latency_ms INTEGER,
    last_error      TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries(hook_id, id);
