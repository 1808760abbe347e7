-- Database-backed sessions (several server nodes share them) and the security audit trail.
CREATE TABLE sessions (
    key TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_account ON sessions (account_id);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    actor_id TEXT,
    subject TEXT,
    ip TEXT,
    success INTEGER NOT NULL CHECK (success IN (0, 1))
);
CREATE INDEX audit_events_by_time ON audit_events (at);
