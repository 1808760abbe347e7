-- News, guidance and notices (issue 16). The editors' copy and every saved version are kept; readers see the
-- approved version (`live_version`) from its publish time until it is taken down or its unpublish time.

-- a head editor approves articles: the role joins the list a grant may name
ALTER TABLE role_grants DROP CONSTRAINT role_grants_role_check;
ALTER TABLE role_grants ADD CONSTRAINT role_grants_role_check
    CHECK (role IN ('reception', 'specialist', 'head_of_unit', 'leader', 'editor', 'head_editor', 'administrator'));

CREATE TABLE articles (
    id UUID PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'returned', 'approved')),
    -- the editors' copy: the newest of article_versions
    version INTEGER NOT NULL,
    -- what readers see; NULL: nothing approved yet, or taken down
    live_version INTEGER,
    -- when readers see the live version (copied from it at approval)
    publish_at TIMESTAMPTZ,
    unpublish_at TIMESTAMPTZ,
    review_note TEXT,
    created_by UUID NOT NULL REFERENCES accounts (id),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    approved_by UUID REFERENCES accounts (id),
    approved_at TIMESTAMPTZ,
    -- kept in the transaction of each vote and each moderation
    stars_sum BIGINT NOT NULL DEFAULT 0,
    stars_count BIGINT NOT NULL DEFAULT 0,
    comments BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX articles_by_status ON articles (status, updated_at);

CREATE TABLE article_versions (
    article_id UUID NOT NULL REFERENCES articles (id),
    version INTEGER NOT NULL,
    category TEXT NOT NULL CHECK (category IN ('tin-tuc', 'huong-dan', 'thong-bao')),
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    -- sanitised HTML
    body TEXT NOT NULL,
    -- procedure codes, one per line
    procedures TEXT NOT NULL,
    saved_by UUID NOT NULL REFERENCES accounts (id),
    saved_at TIMESTAMPTZ NOT NULL,
    -- when this version, once approved, is shown (NULL: from its approval) and until when
    publish_at TIMESTAMPTZ,
    unpublish_at TIMESTAMPTZ,
    PRIMARY KEY (article_id, version)
);

-- one vote per reader (the hash of a signed cookie) and one per address (hashed under the day) a day
CREATE TABLE article_votes (
    article_id UUID NOT NULL REFERENCES articles (id),
    voter TEXT NOT NULL,
    day TEXT NOT NULL,
    address TEXT NOT NULL,
    stars SMALLINT NOT NULL CHECK (stars BETWEEN 1 AND 5),
    voted_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (article_id, voter),
    UNIQUE (article_id, day, address)
);

CREATE TABLE article_comments (
    id UUID PRIMARY KEY,
    article_id UUID NOT NULL REFERENCES articles (id),
    name TEXT NOT NULL,
    email TEXT,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('held', 'published', 'rejected')),
    reason TEXT,
    account_id UUID REFERENCES accounts (id),
    created_at TIMESTAMPTZ NOT NULL,
    moderated_by UUID REFERENCES accounts (id),
    moderated_at TIMESTAMPTZ
);
CREATE INDEX article_comments_by_article ON article_comments (article_id, status, created_at);
CREATE INDEX article_comments_by_status ON article_comments (status, created_at);

-- keys the nodes share (the reader cookie's signing key), made by whichever node needs one first
CREATE TABLE site_keys (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
