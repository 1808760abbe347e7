-- The applicant's rating of a handled dossier: once per dossier, five levels, an optional comment.
CREATE TABLE ratings (
    dossier_id UUID PRIMARY KEY REFERENCES dossiers (id),
    agency_code TEXT NOT NULL,
    level SMALLINT NOT NULL CHECK (level BETWEEN 1 AND 5),
    comment TEXT,
    rated_at TIMESTAMPTZ NOT NULL,
    account_id UUID REFERENCES accounts (id)
);
CREATE INDEX ratings_by_agency ON ratings (agency_code, rated_at);
