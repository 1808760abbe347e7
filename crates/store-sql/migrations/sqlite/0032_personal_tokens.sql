-- Personal tokens (issue 17): a citizen's own keys to the API for their own dossiers, kept as SHA-256 only.
CREATE TABLE personal_tokens (
    hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    label TEXT NOT NULL,
    hint TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX personal_tokens_by_account ON personal_tokens (account_id, created_at);
