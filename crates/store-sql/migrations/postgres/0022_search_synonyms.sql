-- The synonym and abbreviation table of catalogue search, kept by editors (one row; absent: the built-in table).
CREATE TABLE search_synonyms (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    body TEXT NOT NULL,
    saved_at TIMESTAMPTZ NOT NULL,
    saved_by TEXT NOT NULL
);
