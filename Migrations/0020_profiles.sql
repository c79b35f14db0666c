-- Profiles: the name a user goes by (shown beside or instead of the username) and their avatar,
-- one of their own uploaded images (by its public id). While it is someone's avatar an image is
-- not swept as an unshared upload and cannot be shared in a message; deleting it clears the avatar.
ALTER TABLE users ADD COLUMN display_name TEXT;
ALTER TABLE users ADD COLUMN avatar TEXT REFERENCES attachments(public_id) ON DELETE SET NULL;
CREATE INDEX users_avatar ON users(avatar) WHERE avatar IS NOT NULL;
