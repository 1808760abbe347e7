-- Pages editors write for the portal (help, frequently asked questions, contact), as plain text.
CREATE TABLE content_pages (
    slug TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    saved_at TIMESTAMPTZ NOT NULL,
    saved_by TEXT NOT NULL
);
