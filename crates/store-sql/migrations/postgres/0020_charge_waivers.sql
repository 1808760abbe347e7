-- A fee an officer waived (exemption or reduction) by taking the dossier back to processing unpaid: when, and the
-- legal ground. A waived fee is no longer owed, but stays listed with its ground.
ALTER TABLE charges ADD COLUMN waived_at TIMESTAMPTZ;
ALTER TABLE charges ADD COLUMN waived_reason TEXT;
