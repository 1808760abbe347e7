-- the working-time calendar's data: weekdays off and weekend days worked (make-up days)
CREATE TABLE calendar_days (
    day DATE PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('off', 'make_up')),
    name TEXT NOT NULL,
    proposed BOOLEAN NOT NULL DEFAULT FALSE
);
