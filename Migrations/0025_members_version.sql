-- The relay's writer keeps each room's member list in memory from one transaction to the next:
-- reading it again for every message was 6% of the server's CPU per message
-- (docs/PERFORMANCE.md, session 19). Every change to who is in which room counts here, however it
-- is made (a member added or removed, a room or an account deleted and its rows cascaded, from
-- the server or from another process), and the writer reads the count at the start of each
-- transaction and forgets every list it holds when the count has moved.
INSERT INTO counters (name, value) VALUES ('members_version', 0);

CREATE TRIGGER room_members_version_insert AFTER INSERT ON room_members
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'members_version';
END;

CREATE TRIGGER room_members_version_delete AFTER DELETE ON room_members
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'members_version';
END;

CREATE TRIGGER room_members_version_update AFTER UPDATE OF room_id, user_id ON room_members
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'members_version';
END;
