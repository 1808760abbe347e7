-- Webhooks (issue 17): an API client's subscriptions to the changes of status of its agencies' dossiers, and one
-- delivery per change and subscription, written in the same transaction as the change (the history event), tried
-- by the worker with back-off: the delivery log.
CREATE TABLE webhooks (
    id UUID PRIMARY KEY,
    client_id UUID NOT NULL REFERENCES api_clients (id),
    url TEXT NOT NULL,
    -- event types separated by spaces; empty: all
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    removed_at TIMESTAMPTZ
);
CREATE INDEX webhooks_by_client ON webhooks (client_id);
CREATE TABLE webhook_deliveries (
    webhook_id UUID NOT NULL REFERENCES webhooks (id),
    event_id UUID NOT NULL REFERENCES dossier_events (id),
    dossier_id UUID NOT NULL REFERENCES dossiers (id),
    event_type TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    attempts INTEGER NOT NULL,
    -- when it is tried next; NULL once delivered or given up
    next_at TIMESTAMPTZ,
    delivered_at TIMESTAMPTZ,
    last_status BIGINT,
    last_error TEXT,
    PRIMARY KEY (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at) WHERE next_at IS NOT NULL;
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, created_at);
