-- Statistics kept by agency, procedure and month (ADR 0009). A trigger on every table a figure is counted from marks the agency and
-- month(s) its change touches, in the same transaction as the change; the worker recounts each marked month from
-- the rows themselves (the same queries as a direct count) and keeps the figures here. Pages read a month's
-- figures from a few rows instead of counting a province's million dossiers.

-- A month is written YYYY-MM, as in Vietnam (UTC+7): instants are stored as microseconds, hence the arithmetic.
CREATE TABLE stats_months (
    agency_code TEXT NOT NULL,
    procedure_code TEXT NOT NULL,
    month TEXT NOT NULL,
    in_person INTEGER NOT NULL,
    online INTEGER NOT NULL,
    post INTEGER NOT NULL,
    on_time INTEGER NOT NULL,
    late INTEGER NOT NULL,
    ratings INTEGER NOT NULL,
    satisfied INTEGER NOT NULL,
    digitised INTEGER NOT NULL,
    e_results INTEGER NOT NULL,
    fee_bearing INTEGER NOT NULL,
    paid_online INTEGER NOT NULL,
    -- when the recount that wrote these began: an older recount never overwrites a newer one
    counted_at INTEGER NOT NULL,
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

-- A trigger's own conflict clause gives way to the statement that fired it (an upsert would turn an `OR IGNORE`
-- into an error), so each mark checks first.

-- a dossier counts in the month it was submitted and in the month it was approved
CREATE TRIGGER stats_dossier_inserted AFTER INSERT ON dossiers BEGIN
    INSERT INTO stats_dirty (agency_code, month)
    SELECT c, m FROM (SELECT NEW.agency_code AS c, strftime('%Y-%m', NEW.created_at / 1000000 + 25200, 'unixepoch') AS m) AS marks
    WHERE NOT EXISTS (SELECT 1 FROM stats_dirty s WHERE s.agency_code = marks.c AND s.month = marks.m);
END;

CREATE TRIGGER stats_dossier_updated AFTER UPDATE OF agency_code, channel, created_at, due_at, status ON dossiers BEGIN
    INSERT INTO stats_dirty (agency_code, month)
    SELECT c, m FROM (SELECT OLD.agency_code AS c, strftime('%Y-%m', OLD.created_at / 1000000 + 25200, 'unixepoch') AS m
          UNION SELECT NEW.agency_code, strftime('%Y-%m', NEW.created_at / 1000000 + 25200, 'unixepoch')
          UNION SELECT a.code, strftime('%Y-%m', e.at / 1000000 + 25200, 'unixepoch')
                FROM dossier_events e, (SELECT OLD.agency_code AS code UNION SELECT NEW.agency_code) a
                WHERE e.dossier_id = NEW.id AND e.to_status = 'processed') AS marks
    WHERE NOT EXISTS (SELECT 1 FROM stats_dirty s WHERE s.agency_code = marks.c AND s.month = marks.m);
END;

CREATE TRIGGER stats_event_inserted AFTER INSERT ON dossier_events WHEN NEW.to_status = 'processed' BEGIN
    INSERT INTO stats_dirty (agency_code, month)
    SELECT c, m FROM (SELECT d.agency_code AS c, strftime('%Y-%m', NEW.at / 1000000 + 25200, 'unixepoch') AS m FROM dossiers d WHERE d.id = NEW.dossier_id) AS marks
    WHERE NOT EXISTS (SELECT 1 FROM stats_dirty s WHERE s.agency_code = marks.c AND s.month = marks.m);
END;

CREATE TRIGGER stats_rating_inserted AFTER INSERT ON ratings BEGIN
    INSERT INTO stats_dirty (agency_code, month)
    SELECT c, m FROM (SELECT NEW.agency_code AS c, strftime('%Y-%m', NEW.rated_at / 1000000 + 25200, 'unixepoch') AS m) AS marks
    WHERE NOT EXISTS (SELECT 1 FROM stats_dirty s WHERE s.agency_code = marks.c AND s.month = marks.m);
END;

CREATE TRIGGER stats_uploads_insert AFTER INSERT ON uploads WHEN NEW.dossier_id IS NOT NULL BEGIN
    INSERT INTO stats_dirty (agency_code, month)
    SELECT c, m FROM (SELECT d.agency_code AS c, strftime('%Y-%m', d.created_at / 1000000 + 25200, 'unixepoch') AS m FROM dossiers d WHERE d.id = NEW.dossier_id
          UNION SELECT d.agency_code, strftime('%Y-%m', e.at / 1000000 + 25200, 'unixepoch') FROM dossier_events e JOIN dossiers d ON d.id = e.dossier_id
                WHERE e.dossier_id = NEW.dossier_id AND e.to_status = 'processed') AS marks
    WHERE NOT EXISTS (SELECT 1 FROM stats_dirty s WHERE s.agency_code = marks.c AND s.month = marks.m);
END;

CREATE TRIGGER stats_uploads_update AFTER UPDATE ON uploads WHEN NEW.dossier_id IS NOT NULL BEGIN
    INSERT INTO stats_dirty (agency_code, month)
    SELECT c, m FROM (SELECT d.agency_code AS c, strftime('%Y-%m', d.created_at / 1000000 + 25200, 'unixepoch') AS m FROM dossiers d WHERE d.id = NEW.dossier_id
          UNION SELECT d.agency_code, strftime('%Y-%m', e.at / 1000000 + 25200, 'unixepoch') FROM dossier_events e JOIN dossiers d ON d.id = e.dossier_id
                WHERE e.dossier_id = NEW.dossier_id AND e.to_status = 'processed') AS marks
    WHERE NOT EXISTS (SELECT 1 FROM stats_dirty s WHERE s.agency_code = marks.c AND s.month = marks.m);
END;

CREATE TRIGGER stats_dossier_results_insert AFTER INSERT ON dossier_results WHEN NEW.dossier_id IS NOT NULL BEGIN
    INSERT INTO stats_dirty (agency_code, month)
    SELECT c, m FROM (SELECT d.agency_code AS c, strftime('%Y-%m', d.created_at / 1000000 + 25200, 'unixepoch') AS m FROM dossiers d WHERE d.id = NEW.dossier_id
          UNION SELECT d.agency_code, strftime('%Y-%m', e.at / 1000000 + 25200, 'unixepoch') FROM dossier_events e JOIN dossiers d ON d.id = e.dossier_id
                WHERE e.dossier_id = NEW.dossier_id AND e.to_status = 'processed') AS marks
    WHERE NOT EXISTS (SELECT 1 FROM stats_dirty s WHERE s.agency_code = marks.c AND s.month = marks.m);
END;

CREATE TRIGGER stats_dossier_results_update AFTER UPDATE ON dossier_results WHEN NEW.dossier_id IS NOT NULL BEGIN
    INSERT INTO stats_dirty (agency_code, month)
    SELECT c, m FROM (SELECT d.agency_code AS c, strftime('%Y-%m', d.created_at / 1000000 + 25200, 'unixepoch') AS m FROM dossiers d WHERE d.id = NEW.dossier_id
          UNION SELECT d.agency_code, strftime('%Y-%m', e.at / 1000000 + 25200, 'unixepoch') FROM dossier_events e JOIN dossiers d ON d.id = e.dossier_id
                WHERE e.dossier_id = NEW.dossier_id AND e.to_status = 'processed') AS marks
    WHERE NOT EXISTS (SELECT 1 FROM stats_dirty s WHERE s.agency_code = marks.c AND s.month = marks.m);
END;

CREATE TRIGGER stats_charges_insert AFTER INSERT ON charges WHEN NEW.dossier_id IS NOT NULL BEGIN
    INSERT INTO stats_dirty (agency_code, month)
    SELECT c, m FROM (SELECT d.agency_code AS c, strftime('%Y-%m', d.created_at / 1000000 + 25200, 'unixepoch') AS m FROM dossiers d WHERE d.id = NEW.dossier_id
          UNION SELECT d.agency_code, strftime('%Y-%m', e.at / 1000000 + 25200, 'unixepoch') FROM dossier_events e JOIN dossiers d ON d.id = e.dossier_id
                WHERE e.dossier_id = NEW.dossier_id AND e.to_status = 'processed') AS marks
    WHERE NOT EXISTS (SELECT 1 FROM stats_dirty s WHERE s.agency_code = marks.c AND s.month = marks.m);
END;

CREATE TRIGGER stats_charges_update AFTER UPDATE ON charges WHEN NEW.dossier_id IS NOT NULL BEGIN
    INSERT INTO stats_dirty (agency_code, month)
    SELECT c, m FROM (SELECT d.agency_code AS c, strftime('%Y-%m', d.created_at / 1000000 + 25200, 'unixepoch') AS m FROM dossiers d WHERE d.id = NEW.dossier_id
          UNION SELECT d.agency_code, strftime('%Y-%m', e.at / 1000000 + 25200, 'unixepoch') FROM dossier_events e JOIN dossiers d ON d.id = e.dossier_id
                WHERE e.dossier_id = NEW.dossier_id AND e.to_status = 'processed') AS marks
    WHERE NOT EXISTS (SELECT 1 FROM stats_dirty s WHERE s.agency_code = marks.c AND s.month = marks.m);
END;

CREATE TRIGGER stats_payments_insert AFTER INSERT ON payments WHEN NEW.dossier_id IS NOT NULL BEGIN
    INSERT INTO stats_dirty (agency_code, month)
    SELECT c, m FROM (SELECT d.agency_code AS c, strftime('%Y-%m', d.created_at / 1000000 + 25200, 'unixepoch') AS m FROM dossiers d WHERE d.id = NEW.dossier_id
          UNION SELECT d.agency_code, strftime('%Y-%m', e.at / 1000000 + 25200, 'unixepoch') FROM dossier_events e JOIN dossiers d ON d.id = e.dossier_id
                WHERE e.dossier_id = NEW.dossier_id AND e.to_status = 'processed') AS marks
    WHERE NOT EXISTS (SELECT 1 FROM stats_dirty s WHERE s.agency_code = marks.c AND s.month = marks.m);
END;

CREATE TRIGGER stats_payments_update AFTER UPDATE ON payments WHEN NEW.dossier_id IS NOT NULL BEGIN
    INSERT INTO stats_dirty (agency_code, month)
    SELECT c, m FROM (SELECT d.agency_code AS c, strftime('%Y-%m', d.created_at / 1000000 + 25200, 'unixepoch') AS m FROM dossiers d WHERE d.id = NEW.dossier_id
          UNION SELECT d.agency_code, strftime('%Y-%m', e.at / 1000000 + 25200, 'unixepoch') FROM dossier_events e JOIN dossiers d ON d.id = e.dossier_id
                WHERE e.dossier_id = NEW.dossier_id AND e.to_status = 'processed') AS marks
    WHERE NOT EXISTS (SELECT 1 FROM stats_dirty s WHERE s.agency_code = marks.c AND s.month = marks.m);
END;

-- what was there before: every month with a dossier, an approval or a rating, to count once
INSERT OR IGNORE INTO stats_dirty (agency_code, month)
SELECT agency_code, strftime('%Y-%m', created_at / 1000000 + 25200, 'unixepoch') FROM dossiers
UNION SELECT d.agency_code, strftime('%Y-%m', e.at / 1000000 + 25200, 'unixepoch')
      FROM dossier_events e JOIN dossiers d ON d.id = e.dossier_id WHERE e.to_status = 'processed'
UNION SELECT agency_code, strftime('%Y-%m', rated_at / 1000000 + 25200, 'unixepoch') FROM ratings;
