-- Catalogue searches that found nothing or little, for editors to improve names and the synonym table: the query
-- folded, with long numbers and e-mail addresses removed (no personal data), how often, and how many results.
CREATE TABLE search_misses (
    query TEXT PRIMARY KEY,
    results BIGINT NOT NULL,
    times BIGINT NOT NULL,
    first_at TIMESTAMPTZ NOT NULL,
    last_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX search_misses_recent ON search_misses (last_at);
