//! Visitor counters: the day's salt, each visitor of a day once, and visitors per day.

use async_trait::async_trait;
use time::{Date, OffsetDateTime};

use motcua_store::{StoreResult, VisitCounts, VisitRepo};

use crate::{SqlStore, dialect::At, map_err, read, rows::Columns, write};

/// A day as stored: `YYYY-MM-DD` (sorts as the calendar does).
fn day_key(day: Date) -> String {
    day.to_string()
}

#[async_trait]
impl VisitRepo for SqlStore {
    async fn salt(&self, day: Date, candidate: &str) -> StoreResult<String> {
        let key = day_key(day);
        write!(self, |tx, d| {
            sqlx::query(
                "INSERT INTO visit_salts (day, salt) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING",
            )
            .bind(&key)
            .bind(candidate)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            let row = sqlx::query("SELECT salt FROM visit_salts WHERE day = $1")
                .bind(&key)
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?;
            row.text("salt")?
        })
    }

    async fn record(&self, day: Date, seen: &[(String, OffsetDateTime)]) -> StoreResult<u64> {
        if seen.is_empty() {
            return Ok(0);
        }
        let key = day_key(day);
        write!(self, |tx, d| {
            let mut new = 0u64;
            for (hash, at) in seen {
                let inserted = sqlx::query(
                    "INSERT INTO visitors (day, hash, last_seen) VALUES ($1, $2, $3) \
                     ON CONFLICT (day, hash) DO NOTHING",
                )
                .bind(&key)
                .bind(hash)
                .bind(At(*at))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
                if inserted == 0 {
                    sqlx::query(
                        "UPDATE visitors SET last_seen = $3 WHERE day = $1 AND hash = $2 AND last_seen < $3",
                    )
                    .bind(&key)
                    .bind(hash)
                    .bind(At(*at))
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                }
                new += inserted;
            }
            if new > 0 {
                let added = i64::try_from(new).unwrap_or(i64::MAX);
                sqlx::query(
                    "INSERT INTO visit_days (day, visitors) VALUES ($1, $2) \
                     ON CONFLICT (day) DO UPDATE SET visitors = visit_days.visitors + excluded.visitors",
                )
                .bind(&key)
                .bind(added)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            }
            new
        })
    }

    async fn counts(&self, day: Date, online_since: OffsetDateTime) -> StoreResult<VisitCounts> {
        let key = day_key(day);
        let month_start = day_key(day.replace_day(1).unwrap_or(day));
        read!(self, |pool, d| {
            let row = sqlx::query(
                "SELECT \
                 (SELECT COUNT(*) FROM visitors WHERE last_seen >= $1) AS online, \
                 (SELECT CAST(COALESCE(SUM(visitors), 0) AS BIGINT) FROM visit_days WHERE day = $2) AS today, \
                 (SELECT CAST(COALESCE(SUM(visitors), 0) AS BIGINT) FROM visit_days WHERE day >= $3 AND day <= $2) AS month, \
                 (SELECT CAST(COALESCE(SUM(visitors), 0) AS BIGINT) FROM visit_days) AS total",
            )
            .bind(At(online_since))
            .bind(&key)
            .bind(&month_start)
            .fetch_one(pool)
            .await
            .map_err(map_err)?;
            Ok(VisitCounts {
                online: row.count("online")?,
                today: row.count("today")?,
                month: row.count("month")?,
                total: row.count("total")?,
            })
        })
    }

    async fn forget_before(&self, day: Date) -> StoreResult<u64> {
        let key = day_key(day);
        write!(self, |tx, d| {
            let gone = sqlx::query("DELETE FROM visitors WHERE day < $1")
                .bind(&key)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
            sqlx::query("DELETE FROM visit_salts WHERE day < $1")
                .bind(&key)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            gone
        })
    }
}
