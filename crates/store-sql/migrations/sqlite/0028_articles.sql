-- News, guidance and notices (issue 16). The editors' copy and every saved version are kept; readers see the
-- approved version (`live_version`) from its publish time until it is taken down or its unpublish time.

-- a head editor approves articles: the role joins the list a grant may name (SQLite rebuilds the table to change
-- a CHECK)
CREATE TABLE role_grants_new (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('reception', 'specialist', 'head_of_unit', 'leader', 'editor', 'head_editor', 'administrator')),
    agency_code TEXT NOT NULL REFERENCES agencies (code),
    include_sub_agencies INTEGER NOT NULL CHECK (include_sub_agencies IN (0, 1)),
    PRIMARY KEY (account_id, role, agency_code)
);
INSERT INTO role_grants_new SELECT account_id, role, agency_code, include_sub_agencies FROM role_grants;
DROP TABLE role_grants;
ALTER TABLE role_grants_new RENAME TO role_grants;

CREATE TABLE articles (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'returned', 'approved')),
    -- the editors' copy: the newest of article_versions
    version INTEGER NOT NULL,
    -- what readers see; NULL: nothing approved yet, or taken down
    live_version INTEGER,
    -- when readers see the live version (copied from it at approval)
    publish_at INTEGER,
    unpublish_at INTEGER,
    review_note TEXT,
    created_by TEXT NOT NULL REFERENCES accounts (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    approved_by TEXT REFERENCES accounts (id),
    approved_at INTEGER,
    -- kept in the transaction of each vote and each moderation
    stars_sum INTEGER NOT NULL DEFAULT 0,
    stars_count INTEGER NOT NULL DEFAULT 0,
    comments INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX articles_by_status ON articles (status, updated_at);

CREATE TABLE article_versions (
    article_id TEXT NOT NULL REFERENCES articles (id),
    version INTEGER NOT NULL,
    category TEXT NOT NULL CHECK (category IN ('tin-tuc', 'huong-dan', 'thong-bao')),
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    -- sanitised HTML
    body TEXT NOT NULL,
    -- procedure codes, one per line
    procedures TEXT NOT NULL,
    saved_by TEXT NOT NULL REFERENCES accounts (id),
    saved_at INTEGER NOT NULL,
    -- when this version, once approved, is shown (NULL: from its approval) and until when
    publish_at INTEGER,
    unpublish_at INTEGER,
    PRIMARY KEY (article_id, version)
);

-- one vote per reader (the hash of a signed cookie) and one per address (hashed under the day) a day
CREATE TABLE article_votes (
    article_id TEXT NOT NULL REFERENCES articles (id),
    voter TEXT NOT NULL,
    day TEXT NOT NULL,
    address TEXT NOT NULL,
    stars SMALLINT NOT NULL CHECK (stars BETWEEN 1 AND 5),
    voted_at INTEGER NOT NULL,
    PRIMARY KEY (article_id, voter),
    UNIQUE (article_id, day, address)
);

CREATE TABLE article_comments (
    id TEXT PRIMARY KEY,
    article_id TEXT NOT NULL REFERENCES articles (id),
    name TEXT NOT NULL,
    email TEXT,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('held', 'published', 'rejected')),
    reason TEXT,
    account_id TEXT REFERENCES accounts (id),
    created_at INTEGER NOT NULL,
    moderated_by TEXT REFERENCES accounts (id),
    moderated_at INTEGER
);
CREATE INDEX article_comments_by_article ON article_comments (article_id, status, created_at);
CREATE INDEX article_comments_by_status ON article_comments (status, created_at);

-- keys the nodes share (the reader cookie's signing key), made by whichever node needs one first
CREATE TABLE site_keys (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
