-- A level-4 result file signed by the issuing agency (detached CMS): where the signature is kept, the public code of
-- its verification page (/xac-thuc/{code}), the signing certificate's SHA-256 fingerprint, its subject and when.
ALTER TABLE dossier_results ADD COLUMN seal_signature_key TEXT;
ALTER TABLE dossier_results ADD COLUMN seal_code TEXT;
ALTER TABLE dossier_results ADD COLUMN seal_fingerprint TEXT;
ALTER TABLE dossier_results ADD COLUMN seal_signed_by TEXT;
ALTER TABLE dossier_results ADD COLUMN seal_at INTEGER;
CREATE UNIQUE INDEX dossier_results_by_seal_code ON dossier_results (seal_code) WHERE seal_code IS NOT NULL;
