-- Accounts (citizens and officers) and the roles officers hold per agency.
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('citizen', 'officer')),
    full_name TEXT NOT NULL,
    personal_id TEXT UNIQUE,
    birth_date TEXT,
    phone TEXT UNIQUE,
    email TEXT UNIQUE,
    address TEXT,
    password_hash TEXT NOT NULL,
    email_verified_at INTEGER,
    disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at INTEGER NOT NULL,
    CHECK (personal_id IS NOT NULL OR phone IS NOT NULL OR email IS NOT NULL)
);

CREATE TABLE role_grants (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('reception', 'specialist', 'head_of_unit', 'leader', 'editor', 'administrator')),
    agency_code TEXT NOT NULL REFERENCES agencies (code),
    include_sub_agencies INTEGER NOT NULL CHECK (include_sub_agencies IN (0, 1)),
    PRIMARY KEY (account_id, role, agency_code)
);
