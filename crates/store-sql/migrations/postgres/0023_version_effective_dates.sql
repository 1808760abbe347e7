-- A procedure version applies from a date (an editor may save one ahead); versions made before this apply from
-- the day they were made (UTC+7).
ALTER TABLE procedure_versions ADD COLUMN effective_from DATE NOT NULL DEFAULT DATE '2000-01-01';
UPDATE procedure_versions SET effective_from = ((created_at AT TIME ZONE 'UTC') + INTERVAL '7 hours')::date;
