-- The members a message mentions by `@name`, one username a line (null when none).
ALTER TABLE messages ADD COLUMN mentions TEXT;
