-- Every backup run, manual or scheduled, with its outcome: what the dashboard shows.
CREATE TABLE backups (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('manual', 'scheduled')),
    started_at  INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    target      TEXT    NOT NULL,
    size        INTEGER,
    -- NULL when the backup succeeded; otherwise why it failed.
    error       TEXT
);
CREATE INDEX backups_started ON backups(started_at);
