-- How long a sound or a video lasts, in milliseconds, as the client that recorded it measured
-- (a voice note recorded in the browser carries no duration in its own header).
ALTER TABLE attachments ADD COLUMN duration_ms INTEGER CHECK (duration_ms IS NULL OR duration_ms > 0);
