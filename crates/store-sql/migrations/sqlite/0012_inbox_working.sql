-- the inbox: an agency's dossiers in the working statuses, already in due order, so a page of 100 reads 100 rows
-- instead of sorting all of them (PostgreSQL plans it for each query: the statuses are checked against the index
-- predicate; a status outside it uses dossiers_queue)
CREATE INDEX dossiers_working ON dossiers (agency_code, (COALESCE(due_at, created_at)), created_at, id)
    WHERE status IN ('received', 'processing', 'supplement_requested', 'awaiting_financial_obligation',
                     'withdrawal_requested', 'processed');
