-- the dossier code and applicant's name folded without diacritics (filled by the application, and by `migrate`
-- for rows written before), so the officers' search filters in the query
ALTER TABLE dossiers ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
