-- The code printed as a QR code on the hand-over slip of a dossier, so that a counter applicant without an account
-- can rate its handling once (the rating's own key makes the code single-use).
CREATE TABLE rating_tokens (
    dossier_id TEXT PRIMARY KEY REFERENCES dossiers (id),
    token TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
