-- The public list of handled dossiers finds results by when they were approved; the statistics find dossiers
-- submitted in a month, those open (by status, with their appointment) and ratings given in a month.
CREATE INDEX dossier_events_by_status_at ON dossier_events (to_status, at);
CREATE INDEX dossiers_by_created ON dossiers (created_at);
CREATE INDEX dossiers_by_status_due ON dossiers (status, due_at);
CREATE INDEX ratings_by_time ON ratings (rated_at);
