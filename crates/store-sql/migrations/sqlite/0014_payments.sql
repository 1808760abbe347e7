-- Level 4: fees an officer sets on a dossier (with the move to status 6), and the payments made for them. A
-- payment is settled once (pending → paid or failed); a paid one may be refunded. Amounts are whole VND.
CREATE TABLE charges (
    id TEXT PRIMARY KEY,
    dossier_id TEXT NOT NULL REFERENCES dossiers (id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    reason TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at INTEGER NOT NULL,
    paid_at INTEGER
);
CREATE INDEX charges_by_dossier ON charges (dossier_id);

CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    charge_id TEXT NOT NULL REFERENCES charges (id),
    dossier_id TEXT NOT NULL REFERENCES dossiers (id),
    provider TEXT NOT NULL,
    -- sent to the gateway (vnp_TxnRef): unique, never reused
    txn_ref TEXT NOT NULL UNIQUE,
    amount BIGINT NOT NULL CHECK (amount > 0),
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    settled_at INTEGER,
    -- the gateway's own transaction number, or the counter's receipt number
    gateway_ref TEXT,
    bank_code TEXT,
    -- e.g. paid after the dossier was withdrawn: to be refunded
    flag TEXT
);
CREATE INDEX payments_by_dossier ON payments (dossier_id, created_at);
CREATE INDEX payments_pending ON payments (created_at) WHERE status = 'pending';
