-- The last seq handed out is the highest `messages.seq`, or, once the messages that carried the
-- highest ones are gone, the floor kept in `counters`: a commit of new messages no longer
-- writes the counter (one page fewer per commit), and every delete — of the message itself, or
-- of its room, which takes its messages with it — raises the floor to what it removes, so no seq
-- is handed out twice.
CREATE TRIGGER messages_keep_seq_floor AFTER DELETE ON messages
BEGIN
    UPDATE counters SET value = max(value, OLD.seq) WHERE name = 'seq';
END;
