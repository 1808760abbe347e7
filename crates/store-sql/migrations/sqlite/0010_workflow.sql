-- processing workflows per procedure case (versioned: each save is a new version), the hand-offs of each dossier
-- through its steps (the control sheet), and the result of a dossier
CREATE TABLE workflows (
    procedure_code TEXT NOT NULL,
    case_key TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    steps TEXT NOT NULL,
    saved_at INTEGER NOT NULL,
    saved_by TEXT NOT NULL,
    PRIMARY KEY (procedure_code, case_key, version)
);

CREATE TABLE dossier_steps (
    dossier_id TEXT NOT NULL REFERENCES dossiers (id),
    seq INTEGER NOT NULL CHECK (seq >= 1),
    step_index INTEGER NOT NULL CHECK (step_index >= 0),
    -- the version of the case's workflow the dossier follows (0: the default one)
    workflow_version INTEGER NOT NULL CHECK (workflow_version >= 0),
    name TEXT NOT NULL,
    agency_code TEXT NOT NULL REFERENCES agencies (code),
    role TEXT NOT NULL,
    quota_hours INTEGER NOT NULL CHECK (quota_hours >= 1),
    assignee TEXT REFERENCES accounts (id),
    assignee_name TEXT,
    started_at INTEGER NOT NULL,
    started_by TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    ended_at INTEGER,
    ended_by TEXT,
    outcome TEXT,
    note TEXT,
    PRIMARY KEY (dossier_id, seq)
);
-- at most one open step per dossier; the open steps by unit and by officer are the inboxes
CREATE UNIQUE INDEX dossier_steps_one_open ON dossier_steps (dossier_id) WHERE ended_at IS NULL;
CREATE INDEX dossier_steps_open_by_agency ON dossier_steps (agency_code, due_at) WHERE ended_at IS NULL;
CREATE INDEX dossier_steps_open_by_assignee ON dossier_steps (assignee, due_at) WHERE ended_at IS NULL;

CREATE TABLE dossier_results (
    dossier_id TEXT PRIMARY KEY REFERENCES dossiers (id),
    document_number TEXT NOT NULL,
    signer TEXT NOT NULL,
    signed_on TEXT NOT NULL,
    file_key TEXT,
    file_name TEXT,
    file_type TEXT,
    file_size INTEGER,
    file_sha256 TEXT,
    entered_by TEXT NOT NULL,
    entered_at INTEGER NOT NULL
);
