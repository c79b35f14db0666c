-- Device linking (QR codes) and the audit log.

-- A device created by a link claim waits for approval: it has a token but no session until then.
ALTER TABLE devices ADD COLUMN pending INTEGER NOT NULL DEFAULT 0 CHECK (pending IN (0, 1));

CREATE TABLE link_codes (
    -- SHA-256 of the 256-bit code; the code itself is only ever in the QR and the URL.
    code_hash   BLOB    PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- 'link': shown by a signed-in device, which approves the claim; 'recovery': made by an admin
    -- for a user who lost every device, approved by its creation.
    kind        TEXT    NOT NULL CHECK (kind IN ('link', 'recovery')),
    created_by  INTEGER REFERENCES devices(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'claimed', 'approved', 'denied')),
    -- The device the claim created (pending until approved).
    device_id   INTEGER REFERENCES devices(id) ON DELETE SET NULL,
    claimed_at  INTEGER,
    decided_at  INTEGER
);
CREATE INDEX link_codes_user ON link_codes(user_id, created_at);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    -- Who acted: a user (and device), or NULL for the server itself or the command line.
    actor_id   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    target     TEXT,
    detail     TEXT,
    ip         TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);
