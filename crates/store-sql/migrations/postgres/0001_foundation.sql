-- Foundation schema: agencies, fields, the versioned procedure catalogue, online service levels,
-- dossier code counters, dossiers and their append-only history.

CREATE TABLE catalogue_meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO catalogue_meta (id, version) VALUES (1, 0);

CREATE TABLE agencies (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    parent_code TEXT REFERENCES agencies (code) DEFERRABLE INITIALLY DEFERRED,
    level TEXT NOT NULL CHECK (level IN ('ministry', 'province', 'legacy_district', 'commune')),
    address TEXT,
    valid_from DATE NOT NULL,
    valid_until DATE,
    successor_code TEXT REFERENCES agencies (code) DEFERRABLE INITIALLY DEFERRED,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE fields (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE procedures (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    current_version INTEGER NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- immutable: a changed procedure gets a new row, dossiers point at the row they were received under
CREATE TABLE procedure_versions (
    procedure_code TEXT NOT NULL REFERENCES procedures (code),
    version INTEGER NOT NULL CHECK (version >= 1),
    document JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (procedure_code, version)
);

CREATE TABLE service_levels (
    procedure_code TEXT NOT NULL REFERENCES procedures (code),
    case_key TEXT NOT NULL,
    agency_code TEXT NOT NULL REFERENCES agencies (code),
    level SMALLINT NOT NULL CHECK (level BETWEEN 1 AND 4),
    effective_from DATE NOT NULL,
    PRIMARY KEY (procedure_code, case_key, agency_code, effective_from)
);

CREATE TABLE code_counters (
    agency_code TEXT NOT NULL REFERENCES agencies (code),
    day DATE NOT NULL,
    last_number INTEGER NOT NULL,
    PRIMARY KEY (agency_code, day)
);

CREATE TABLE dossiers (
    id UUID PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    agency_code TEXT NOT NULL REFERENCES agencies (code),
    procedure_code TEXT NOT NULL,
    procedure_version INTEGER NOT NULL,
    case_key TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('in_person', 'online', 'post')),
    status TEXT NOT NULL,
    applicant_name TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    due_at TIMESTAMPTZ,
    FOREIGN KEY (procedure_code, procedure_version) REFERENCES procedure_versions (procedure_code, version)
);
CREATE INDEX dossiers_by_agency_status_due ON dossiers (agency_code, status, due_at);

CREATE TABLE dossier_events (
    id UUID PRIMARY KEY,
    dossier_id UUID NOT NULL REFERENCES dossiers (id),
    seq INTEGER NOT NULL CHECK (seq >= 1),
    at TIMESTAMPTZ NOT NULL,
    actor TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    reason TEXT,
    due_at TIMESTAMPTZ,
    prev_hash TEXT,
    hash TEXT NOT NULL,
    UNIQUE (dossier_id, seq)
);

CREATE FUNCTION dossier_events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'dossier history is append-only';
END;
$$;
CREATE TRIGGER dossier_events_are_append_only BEFORE UPDATE OR DELETE ON dossier_events
    FOR EACH ROW EXECUTE FUNCTION dossier_events_are_append_only();
