-- The admin panel: one-time password reset links.

CREATE TABLE password_resets (
    -- SHA-256 of the 256-bit code; the code itself is only in the link and its QR.
    code_hash  BLOB    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX password_resets_user ON password_resets(user_id);
