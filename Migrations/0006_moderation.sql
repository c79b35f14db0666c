-- Moderation: rules, held messages, reports, the review queue and mutes.

CREATE TABLE rules (
    id               INTEGER PRIMARY KEY,
    kind             TEXT    NOT NULL CHECK (kind IN ('word', 'regex', 'link', 'attachment_type', 'rate')),
    pattern          TEXT    NOT NULL,
    action           TEXT    NOT NULL CHECK (action IN ('block', 'mask', 'hold', 'flag')),
    -- A room id, or NULL for every room.
    room_id          INTEGER REFERENCES rooms(id) ON DELETE CASCADE,
    -- What a blocked sender is told.
    message          TEXT,
    -- When set, the rule applies only to senders whose account is younger than this many days.
    new_account_days INTEGER CHECK (new_account_days IS NULL OR new_account_days >= 1),
    created_by       INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

-- A held message is stored but reaches nobody until a moderator approves it; approval gives it a new seq.
ALTER TABLE messages ADD COLUMN held INTEGER NOT NULL DEFAULT 0 CHECK (held IN (0, 1));

-- One review item per message that needs a moderator: held or flagged by a rule, or reported.
CREATE TABLE review_items (
    id          INTEGER PRIMARY KEY,
    message_id  INTEGER NOT NULL UNIQUE REFERENCES messages(id) ON DELETE CASCADE,
    -- Why it is in the queue: the strongest reason ('held' > 'flagged' > 'reported').
    reason      TEXT    NOT NULL CHECK (reason IN ('held', 'flagged', 'reported')),
    -- The rules that fired, as "#id kind action" lines.
    rules       TEXT,
    state       TEXT    NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'approved', 'dismissed')),
    created_at  INTEGER NOT NULL,
    decided_at  INTEGER,
    decided_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    note        TEXT
);
CREATE INDEX review_items_state ON review_items(state, id);

CREATE TABLE reports (
    id          INTEGER PRIMARY KEY,
    message_id  INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    reporter_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    reason      TEXT    NOT NULL,
    open        INTEGER NOT NULL DEFAULT 1 CHECK (open IN (0, 1)),
    created_at  INTEGER NOT NULL
);
-- One open report per user per message.
CREATE UNIQUE INDEX reports_open ON reports(message_id, reporter_id) WHERE open = 1;

-- A muted user's sends are refused with `muted` until this time (milliseconds).
ALTER TABLE users ADD COLUMN muted_until INTEGER;

CREATE INDEX audit_log_action ON audit_log(action, id);
