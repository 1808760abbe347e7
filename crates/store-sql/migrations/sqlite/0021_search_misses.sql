-- Catalogue searches that found nothing or little, for editors to improve names and the synonym table: the query
-- folded, with long numbers and e-mail addresses removed (no personal data), how often, and how many results.
CREATE TABLE search_misses (
    query TEXT PRIMARY KEY,
    results INTEGER NOT NULL,
    times INTEGER NOT NULL,
    first_at INTEGER NOT NULL,
    last_at INTEGER NOT NULL
);
CREATE INDEX search_misses_recent ON search_misses (last_at);
