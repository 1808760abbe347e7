-- API clients (issue 17): systems allowed to call /api/v1 for named agencies within granted scopes. Keys are kept
-- as their SHA-256 only; every call is logged.
CREATE TABLE api_clients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- agency codes, separated by spaces
    agencies TEXT NOT NULL,
    -- scopes, separated by spaces
    scopes TEXT NOT NULL,
    per_minute INTEGER NOT NULL CHECK (per_minute >= 1),
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    disabled_at INTEGER
);
CREATE TABLE api_keys (
    hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES api_clients (id),
    hint TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX api_keys_by_client ON api_keys (client_id, created_at);
CREATE TABLE api_calls (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES api_clients (id),
    key_hint TEXT NOT NULL,
    at INTEGER NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER NOT NULL,
    millis INTEGER NOT NULL
);
CREATE INDEX api_calls_by_at ON api_calls (at);
CREATE INDEX api_calls_by_client ON api_calls (client_id, at);
-- a synchronising system reads an agency's dossiers by when they last changed
CREATE INDEX dossiers_by_agency_updated ON dossiers (agency_code, updated_at, id);
