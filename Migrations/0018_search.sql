-- Search (GET /api/v1/search): a full-text index over what members can read of messages — not
-- held ones until approved, not deleted ones, not system lines. An external-content FTS5 table
-- (the text stays in `messages` alone). Letters match without their accents ("cafe" finds
-- "café"); `gard*` is a prefix, "…" a phrase.
CREATE VIRTUAL TABLE messages_search USING fts5(
    body, content = 'messages', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);

-- New messages are indexed in batches, in order of id, up to the id in counters.search_indexed:
-- by the server about once a second, and before every search (so a search finds every message
-- sent before it). Indexing each message in the writer's own transaction cost the relay a tenth
-- of its CPU and doubled the bytes written per message (docs/PERFORMANCE.md, session 13).
-- What changes an indexed message changes the index in the same transaction, by these triggers.
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages
WHEN old.id <= (SELECT value FROM counters WHERE name = 'search_indexed')
    AND old.held = 0 AND old.deleted_at IS NULL AND old.system = 0 AND old.body != ''
BEGIN
    INSERT INTO messages_search (messages_search, rowid, body) VALUES ('delete', old.id, old.body);
END;

-- An edit, a deletion or an approval: out with what was indexed, in with what now should be.
CREATE TRIGGER messages_search_update AFTER UPDATE OF body, held, deleted_at, system ON messages
WHEN old.id <= (SELECT value FROM counters WHERE name = 'search_indexed')
BEGIN
    INSERT INTO messages_search (messages_search, rowid, body)
        SELECT 'delete', old.id, old.body
        WHERE old.held = 0 AND old.deleted_at IS NULL AND old.system = 0 AND old.body != '';
    INSERT INTO messages_search (rowid, body)
        SELECT new.id, new.body
        WHERE new.held = 0 AND new.deleted_at IS NULL AND new.system = 0 AND new.body != '';
END;

-- Messages already stored are indexed the same way, in batches once the server runs: an upgrade
-- does not wait for a whole history to be indexed before it starts.
INSERT INTO counters (name, value) VALUES ('search_indexed', 0);
