-- Who has received what: the highest seq of a room delivered to any device of a member, so a
-- message's info can say who has it (read marks, `last_read_seq`, say who has read it). Written
-- in batches a few seconds after the deliveries, never on the message path itself.
ALTER TABLE room_members ADD COLUMN last_delivered_seq INTEGER NOT NULL DEFAULT 0;
