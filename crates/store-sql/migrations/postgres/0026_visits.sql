-- Visitor counters (the footer's online now / today / this month / total). No raw address is kept: a visitor is a
-- hash of the address and browser under a salt of the day, shared by every node and dropped with the day's
-- visitors after two days, so hashes cannot be linked from one day to the next.
CREATE TABLE visit_salts (
    day TEXT PRIMARY KEY,
    salt TEXT NOT NULL
);
-- Each visitor of a day once, with when a node last saw them (for "online now").
CREATE TABLE visitors (
    day TEXT NOT NULL,
    hash TEXT NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (day, hash)
);
CREATE INDEX visitors_last_seen ON visitors (last_seen);
-- Visitors per day (Vietnam's date), kept as the visitors arrive; month and total are sums of these.
CREATE TABLE visit_days (
    day TEXT PRIMARY KEY,
    visitors BIGINT NOT NULL
);
