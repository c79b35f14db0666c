-- What a session is for: 'chat' (the chat client, apps) or 'admin_panel' (the server-rendered
-- admin panel, whose sessions are short: they end by their own idle and absolute lifetimes).

ALTER TABLE devices ADD COLUMN kind TEXT NOT NULL DEFAULT 'chat' CHECK (kind IN ('chat', 'admin_panel'));
