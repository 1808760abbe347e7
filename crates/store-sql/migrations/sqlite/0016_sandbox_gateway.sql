-- The built-in sandbox gateway's own record of what it answered for each payment (the signed fields of its
-- notification), so that it can answer the status query (querydr) when the notification never arrived.
CREATE TABLE sandbox_transactions (
    txn_ref TEXT PRIMARY KEY,
    fields TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
