-- online submission: drafts, uploads (two-phase: temporary until claimed by a dossier), the outbox,
-- and what an online dossier carries besides its status
ALTER TABLE dossiers ADD COLUMN account_id UUID REFERENCES accounts (id);
ALTER TABLE dossiers ADD COLUMN applicant_phone TEXT;
ALTER TABLE dossiers ADD COLUMN applicant_personal_id TEXT;
ALTER TABLE dossiers ADD COLUMN on_behalf BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE dossiers ADD COLUMN form_data JSONB;
CREATE INDEX dossiers_by_account ON dossiers (account_id, created_at);

CREATE TABLE drafts (
    id UUID PRIMARY KEY,
    account_id UUID NOT NULL REFERENCES accounts (id),
    procedure_code TEXT NOT NULL,
    procedure_version INTEGER NOT NULL,
    case_key TEXT NOT NULL,
    agency_code TEXT NOT NULL REFERENCES agencies (code),
    answers JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    dossier_id UUID UNIQUE REFERENCES dossiers (id),
    FOREIGN KEY (procedure_code, procedure_version) REFERENCES procedure_versions (procedure_code, version)
);
CREATE INDEX drafts_by_account ON drafts (account_id, updated_at);

CREATE TABLE uploads (
    id UUID PRIMARY KEY,
    account_id UUID NOT NULL REFERENCES accounts (id),
    draft_id UUID NOT NULL REFERENCES drafts (id),
    component INTEGER NOT NULL CHECK (component >= 0),
    file_name TEXT NOT NULL,
    object_key TEXT NOT NULL UNIQUE,
    file_type TEXT NOT NULL CHECK (file_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    size BIGINT NOT NULL CHECK (size > 0),
    sha256 TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    dossier_id UUID REFERENCES dossiers (id)
);
CREATE INDEX uploads_by_draft ON uploads (draft_id);
CREATE INDEX uploads_by_dossier ON uploads (dossier_id);
CREATE INDEX uploads_unclaimed ON uploads (created_at) WHERE dossier_id IS NULL;

CREATE TABLE outbox (
    id UUID PRIMARY KEY,
    kind TEXT NOT NULL,
    payload JSONB NOT NULL,
    run_at TIMESTAMPTZ NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    given_up BOOLEAN NOT NULL DEFAULT FALSE,
    done_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX outbox_due ON outbox (run_at) WHERE done_at IS NULL AND NOT given_up;
