-- Results by post: the address the applicant gave, then the hand-over to the post (carrier, tracking number) and
-- the outcome (delivered, or returned with the reason). One delivery per dossier.
CREATE TABLE deliveries (
    dossier_id UUID PRIMARY KEY REFERENCES dossiers (id),
    recipient TEXT NOT NULL,
    phone TEXT NOT NULL,
    province TEXT NOT NULL,
    commune TEXT NOT NULL,
    street TEXT NOT NULL,
    asked_at TIMESTAMPTZ NOT NULL,
    carrier TEXT,
    tracking_no TEXT,
    handed_at TIMESTAMPTZ,
    delivered_at TIMESTAMPTZ,
    returned_at TIMESTAMPTZ,
    return_reason TEXT
);
CREATE INDEX deliveries_with_post ON deliveries (handed_at) WHERE handed_at IS NOT NULL AND delivered_at IS NULL AND returned_at IS NULL;
