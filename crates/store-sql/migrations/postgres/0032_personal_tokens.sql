-- Personal tokens (issue 17): a citizen's own keys to the API for their own dossiers, kept as SHA-256 only.
CREATE TABLE personal_tokens (
    hash TEXT PRIMARY KEY,
    account_id UUID NOT NULL REFERENCES accounts (id),
    label TEXT NOT NULL,
    hint TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX personal_tokens_by_account ON personal_tokens (account_id, created_at);
