-- Statistics kept by agency, procedure and month (ADR 0009). A trigger on every table a figure is counted from marks the agency and
-- month(s) its change touches, in the same transaction as the change; the worker recounts each marked month from
-- the rows themselves (the same queries as a direct count) and keeps the figures here. Pages read a month's
-- figures from a few rows instead of counting a province's million dossiers.

CREATE TABLE stats_months (
    agency_code TEXT NOT NULL,
    procedure_code TEXT NOT NULL,
    month TEXT NOT NULL,
    in_person BIGINT NOT NULL,
    online BIGINT NOT NULL,
    post BIGINT NOT NULL,
    on_time BIGINT NOT NULL,
    late BIGINT NOT NULL,
    ratings BIGINT NOT NULL,
    satisfied BIGINT NOT NULL,
    digitised BIGINT NOT NULL,
    e_results BIGINT NOT NULL,
    fee_bearing BIGINT NOT NULL,
    paid_online BIGINT NOT NULL,
    -- when the recount that wrote these began: an older recount never overwrites a newer one
    counted_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (month, agency_code, procedure_code)
);

-- an agency's dossiers of a month (the officers' lists behind the 766 index)
CREATE INDEX dossiers_by_agency_created ON dossiers (agency_code, created_at);

-- agency and month to recount
CREATE TABLE stats_dirty (
    agency_code TEXT NOT NULL,
    month TEXT NOT NULL,
    PRIMARY KEY (agency_code, month)
);

-- a month as Vietnam writes it (UTC+7)
CREATE FUNCTION stats_month(at TIMESTAMPTZ) RETURNS TEXT AS $$
    SELECT to_char((at AT TIME ZONE 'UTC') + interval '7 hours', 'YYYY-MM')
$$ LANGUAGE sql IMMUTABLE;

-- a dossier counts in the month it was submitted and in the month it was approved
CREATE FUNCTION stats_mark_dossier(dossier UUID) RETURNS void AS $$
    INSERT INTO stats_dirty (agency_code, month)
    SELECT d.agency_code, stats_month(d.created_at) FROM dossiers d WHERE d.id = dossier
    UNION SELECT d.agency_code, stats_month(e.at) FROM dossier_events e JOIN dossiers d ON d.id = e.dossier_id
          WHERE e.dossier_id = dossier AND e.to_status = 'processed'
    ON CONFLICT DO NOTHING
$$ LANGUAGE sql;

CREATE FUNCTION stats_dossier_changed() RETURNS trigger AS $$
BEGIN
    PERFORM stats_mark_dossier(NEW.id);
    IF TG_OP = 'UPDATE' AND (OLD.agency_code <> NEW.agency_code OR OLD.created_at <> NEW.created_at) THEN
        INSERT INTO stats_dirty (agency_code, month)
        SELECT OLD.agency_code, stats_month(OLD.created_at)
        UNION SELECT OLD.agency_code, stats_month(e.at) FROM dossier_events e
              WHERE e.dossier_id = OLD.id AND e.to_status = 'processed'
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER stats_dossier_changed AFTER INSERT OR UPDATE OF agency_code, channel, created_at, due_at, status
    ON dossiers FOR EACH ROW EXECUTE FUNCTION stats_dossier_changed();

CREATE FUNCTION stats_event_inserted() RETURNS trigger AS $$
BEGIN
    IF NEW.to_status = 'processed' THEN
        INSERT INTO stats_dirty (agency_code, month)
        SELECT d.agency_code, stats_month(NEW.at) FROM dossiers d WHERE d.id = NEW.dossier_id
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER stats_event_inserted AFTER INSERT ON dossier_events
    FOR EACH ROW EXECUTE FUNCTION stats_event_inserted();

CREATE FUNCTION stats_rating_inserted() RETURNS trigger AS $$
BEGIN
    INSERT INTO stats_dirty (agency_code, month) VALUES (NEW.agency_code, stats_month(NEW.rated_at))
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER stats_rating_inserted AFTER INSERT ON ratings FOR EACH ROW EXECUTE FUNCTION stats_rating_inserted();

-- a dossier's files, result, fees and payments
CREATE FUNCTION stats_dossier_row_changed() RETURNS trigger AS $$
BEGIN
    IF NEW.dossier_id IS NOT NULL THEN
        PERFORM stats_mark_dossier(NEW.dossier_id);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER stats_uploads_changed AFTER INSERT OR UPDATE ON uploads
    FOR EACH ROW EXECUTE FUNCTION stats_dossier_row_changed();

CREATE TRIGGER stats_dossier_results_changed AFTER INSERT OR UPDATE ON dossier_results
    FOR EACH ROW EXECUTE FUNCTION stats_dossier_row_changed();

CREATE TRIGGER stats_charges_changed AFTER INSERT OR UPDATE ON charges
    FOR EACH ROW EXECUTE FUNCTION stats_dossier_row_changed();

CREATE TRIGGER stats_payments_changed AFTER INSERT OR UPDATE ON payments
    FOR EACH ROW EXECUTE FUNCTION stats_dossier_row_changed();

-- what was there before: every month with a dossier, an approval or a rating, to count once
INSERT INTO stats_dirty (agency_code, month)
SELECT agency_code, stats_month(created_at) FROM dossiers
UNION SELECT d.agency_code, stats_month(e.at) FROM dossier_events e JOIN dossiers d ON d.id = e.dossier_id
      WHERE e.to_status = 'processed'
UNION SELECT agency_code, stats_month(rated_at) FROM ratings
ON CONFLICT DO NOTHING;
