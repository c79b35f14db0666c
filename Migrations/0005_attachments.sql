-- Attachments live in the database with everything else, in chunks, so backups hold them too.

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    -- The id clients use: 128 random bits, so ids reveal nothing.
    public_id    TEXT    NOT NULL UNIQUE,
    owner_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- Set when a message references it; deleting the message deletes the attachment.
    message_id   INTEGER REFERENCES messages(id) ON DELETE CASCADE,
    content_type TEXT    NOT NULL,
    filename     TEXT,
    size         INTEGER NOT NULL DEFAULT 0,
    sha256       BLOB,
    width        INTEGER,
    height       INTEGER,
    -- 0 while the upload streams in; rows of uploads that never completed are removed.
    complete     INTEGER NOT NULL DEFAULT 0 CHECK (complete IN (0, 1)),
    created_at   INTEGER NOT NULL
);
CREATE INDEX attachments_owner ON attachments(owner_id);
CREATE INDEX attachments_message ON attachments(message_id);

CREATE TABLE attachment_chunks (
    attachment_id INTEGER NOT NULL REFERENCES attachments(id) ON DELETE CASCADE,
    idx           INTEGER NOT NULL,
    data          BLOB    NOT NULL,
    PRIMARY KEY (attachment_id, idx)
) WITHOUT ROWID;
