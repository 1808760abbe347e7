-- The public list of handled dossiers finds results by when they were approved.
CREATE INDEX dossier_events_by_status_at ON dossier_events (to_status, at);
