-- Accounts (citizens and officers) and the roles officers hold per agency.
CREATE TABLE accounts (
    id UUID PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('citizen', 'officer')),
    full_name TEXT NOT NULL,
    personal_id TEXT UNIQUE,
    birth_date DATE,
    phone TEXT UNIQUE,
    email TEXT UNIQUE,
    address TEXT,
    password_hash TEXT NOT NULL,
    email_verified_at TIMESTAMPTZ,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    CHECK (personal_id IS NOT NULL OR phone IS NOT NULL OR email IS NOT NULL)
);

CREATE TABLE role_grants (
    account_id UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('reception', 'specialist', 'head_of_unit', 'leader', 'editor', 'administrator')),
    agency_code TEXT NOT NULL REFERENCES agencies (code),
    include_sub_agencies BOOLEAN NOT NULL,
    PRIMARY KEY (account_id, role, agency_code)
);
