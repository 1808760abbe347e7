-- Foundation schema: agencies, fields, the versioned procedure catalogue, online service levels,
-- dossier code counters, dossiers and their append-only history.
-- Timestamps are INTEGER microseconds since the Unix epoch (UTC) so they sort and compare exactly;
-- dates are TEXT 'YYYY-MM-DD'; identifiers are hyphenated UUID text.

CREATE TABLE catalogue_meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO catalogue_meta (id, version) VALUES (1, 0);

CREATE TABLE agencies (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    parent_code TEXT REFERENCES agencies (code) DEFERRABLE INITIALLY DEFERRED,
    level TEXT NOT NULL CHECK (level IN ('ministry', 'province', 'legacy_district', 'commune')),
    address TEXT,
    valid_from TEXT NOT NULL,
    valid_until TEXT,
    successor_code TEXT REFERENCES agencies (code) DEFERRABLE INITIALLY DEFERRED,
    updated_at INTEGER NOT NULL
);

CREATE TABLE fields (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE procedures (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    current_version INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- immutable: a changed procedure gets a new row, dossiers point at the row they were received under
CREATE TABLE procedure_versions (
    procedure_code TEXT NOT NULL REFERENCES procedures (code),
    version INTEGER NOT NULL CHECK (version >= 1),
    document TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (procedure_code, version)
);

CREATE TABLE service_levels (
    procedure_code TEXT NOT NULL REFERENCES procedures (code),
    case_key TEXT NOT NULL,
    agency_code TEXT NOT NULL REFERENCES agencies (code),
    level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 4),
    effective_from TEXT NOT NULL,
    PRIMARY KEY (procedure_code, case_key, agency_code, effective_from)
);

CREATE TABLE code_counters (
    agency_code TEXT NOT NULL REFERENCES agencies (code),
    day TEXT NOT NULL,
    last_number INTEGER NOT NULL,
    PRIMARY KEY (agency_code, day)
);

CREATE TABLE dossiers (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    agency_code TEXT NOT NULL REFERENCES agencies (code),
    procedure_code TEXT NOT NULL,
    procedure_version INTEGER NOT NULL,
    case_key TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('in_person', 'online', 'post')),
    status TEXT NOT NULL,
    applicant_name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    due_at INTEGER,
    FOREIGN KEY (procedure_code, procedure_version) REFERENCES procedure_versions (procedure_code, version)
);
CREATE INDEX dossiers_by_agency_status_due ON dossiers (agency_code, status, due_at);

CREATE TABLE dossier_events (
    id TEXT PRIMARY KEY,
    dossier_id TEXT NOT NULL REFERENCES dossiers (id),
    seq INTEGER NOT NULL CHECK (seq >= 1),
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    reason TEXT,
    due_at INTEGER,
    prev_hash TEXT,
    hash TEXT NOT NULL,
    UNIQUE (dossier_id, seq)
);

CREATE TRIGGER dossier_events_are_append_only_update BEFORE UPDATE ON dossier_events
BEGIN
    SELECT RAISE(ABORT, 'dossier history is append-only');
END;
CREATE TRIGGER dossier_events_are_append_only_delete BEFORE DELETE ON dossier_events
BEGIN
    SELECT RAISE(ABORT, 'dossier history is append-only');
END;
