-- Who an e-mail of the outbox is for (the address, lower case), so that a citizen's page lists what the portal
-- told them; filled from the payload for the e-mails already queued.
ALTER TABLE outbox ADD COLUMN recipient TEXT;
UPDATE outbox SET recipient = lower(payload->>'to') WHERE kind = 'email';
CREATE INDEX outbox_recipient ON outbox (recipient, created_at);
