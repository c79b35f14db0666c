-- A rule the server could not compile when it started (a regex written for the old backtracking
-- engine that RE2 does not support, or a rule set over the regex memory limit) is disabled, not
-- dropped: the reason is kept here and shown to admins, and saving the rule again enables it.
ALTER TABLE rules ADD COLUMN disabled TEXT;
