-- Database-backed sessions (several server nodes share them) and the security audit trail.
CREATE TABLE sessions (
    key TEXT PRIMARY KEY,
    account_id UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_by_account ON sessions (account_id);

CREATE TABLE audit_events (
    id UUID PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    kind TEXT NOT NULL,
    actor_id UUID,
    subject TEXT,
    ip TEXT,
    success BOOLEAN NOT NULL
);
CREATE INDEX audit_events_by_time ON audit_events (at);
