-- Who an e-mail of the outbox is for (the address, lower case) and which dossier it is about, so that a citizen's
-- page lists what the portal told them about their dossiers (and, once their address is verified, since then);
-- the address is filled from the payload for the e-mails already queued.
ALTER TABLE outbox ADD COLUMN recipient TEXT;
ALTER TABLE outbox ADD COLUMN dossier_code TEXT;
UPDATE outbox SET recipient = lower(json_extract(payload, '$.to')) WHERE kind = 'email';
CREATE INDEX outbox_recipient ON outbox (recipient, created_at);
