-- Accounts, devices (one session each), invites, settings and the first-admin setup token.
-- Times are milliseconds since the Unix epoch. Secrets (session tokens, setup tokens) are
-- stored only as their SHA-256.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'moderator', 'member')),
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL
);

CREATE TABLE devices (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    user_agent   TEXT,
    ip           TEXT,
    -- NULL once the device is signed out or revoked: the row stays for the device list.
    token_hash   BLOB    UNIQUE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    revoked_at   INTEGER
);
CREATE INDEX devices_user ON devices(user_id);

CREATE TABLE invites (
    id          INTEGER PRIMARY KEY,
    code        TEXT    NOT NULL UNIQUE,
    created_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    max_uses    INTEGER NOT NULL CHECK (max_uses >= 1),
    uses        INTEGER NOT NULL DEFAULT 0,
    admin       INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1)),
    expires_at  INTEGER,
    revoked_at  INTEGER,
    created_at  INTEGER NOT NULL
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE setup_tokens (
    token_hash BLOB PRIMARY KEY,
    created_at INTEGER NOT NULL
);
