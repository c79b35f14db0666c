-- Groups that update live: room admins, and system lines in the timeline.

-- Whether a member manages the group (renames it, adds and removes members, appoints admins).
-- The creator of a group is its first admin.
ALTER TABLE room_members ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
UPDATE room_members SET admin = 1
WHERE EXISTS (SELECT 1 FROM rooms r WHERE r.id = room_members.room_id AND r.kind = 'group'
              AND r.owner_id = room_members.user_id);

-- A line the server writes into a room's timeline ("mum added sam"), stored like a message so it
-- syncs and stays in history; `sender_id` is who made the change.
ALTER TABLE messages ADD COLUMN system INTEGER NOT NULL DEFAULT 0;
