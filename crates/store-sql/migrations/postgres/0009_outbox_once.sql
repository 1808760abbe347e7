-- jobs that must be queued once however many nodes try (e.g. one due-soon reminder per dossier, due time and officer)
ALTER TABLE outbox ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX outbox_once ON outbox (dedupe_key);
