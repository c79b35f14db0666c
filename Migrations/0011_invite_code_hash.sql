-- Invite codes are kept as their SHA-256, like every other secret (session tokens, link and
-- reset codes): the code itself is shown once, when the invite is made, and is in no backup.
-- `hearth_sha256` is the SQL function AppDatabase gives its migrations. The table is rebuilt
-- because SQLite cannot drop a UNIQUE column.
CREATE TABLE invites_hashed (
    id          INTEGER PRIMARY KEY,
    code_hash   BLOB    NOT NULL UNIQUE,
    created_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    max_uses    INTEGER NOT NULL CHECK (max_uses >= 1),
    uses        INTEGER NOT NULL DEFAULT 0,
    admin       INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1)),
    expires_at  INTEGER,
    revoked_at  INTEGER,
    created_at  INTEGER NOT NULL
);
INSERT INTO invites_hashed (id, code_hash, created_by, max_uses, uses, admin, expires_at, revoked_at, created_at)
SELECT id, hearth_sha256(code), created_by, max_uses, uses, admin, expires_at, revoked_at, created_at FROM invites;
DROP TABLE invites;
ALTER TABLE invites_hashed RENAME TO invites;
