-- officers' queues: an agency's dossiers in a few statuses, soonest due (or earliest arrived) first
CREATE INDEX dossiers_queue ON dossiers (agency_code, status, (COALESCE(due_at, created_at)));
