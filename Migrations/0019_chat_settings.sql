-- Each member's own settings for a chat, besides `muted_until` (0016): pinned to the top of
-- their chat list, and archived (out of it, under "Archived"). Synced to all their devices.
ALTER TABLE room_members ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1));
ALTER TABLE room_members ADD COLUMN archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1));
