-- Calls leave no content on the server: only how many ended each day (UTC) and how long the
-- answered ones lasted, for the dashboard and the audit log.
CREATE TABLE call_days (
    day     TEXT    PRIMARY KEY,
    calls   INTEGER NOT NULL DEFAULT 0,
    seconds INTEGER NOT NULL DEFAULT 0
);
