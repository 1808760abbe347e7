-- Failed logins counted per login subject (an account id, or a login name without an account) and address, and
-- per subject from every address ('*'); each address a subject last logged in from successfully ("usual").
CREATE TABLE login_addresses (
    subject TEXT NOT NULL,
    ip TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER,
    last_success_at INTEGER,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (subject, ip)
);
CREATE INDEX login_addresses_stale ON login_addresses (updated_at) WHERE last_success_at IS NULL;
-- the audit trail is read by actor and by kind, newest first
CREATE INDEX audit_events_by_actor ON audit_events (actor_id, at);
CREATE INDEX audit_events_by_kind ON audit_events (kind, at);
