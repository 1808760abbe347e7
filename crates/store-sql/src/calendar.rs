//! Holidays and make-up days.

use async_trait::async_trait;
use time::Date;

use motcua_calendar::{DayKind, SpecialDay};
use motcua_store::{CalendarRepo, StoreError, StoreResult};

use crate::{SqlStore, map_err, read, rows::Columns, write};

fn kind_text(kind: DayKind) -> &'static str {
    match kind {
        DayKind::Off => "off",
        DayKind::MakeUp => "make_up",
    }
}

fn day_row(row: &impl Columns) -> StoreResult<SpecialDay> {
    Ok(SpecialDay {
        date: row.date("day")?,
        kind: match row.text("kind")?.as_str() {
            "off" => DayKind::Off,
            "make_up" => DayKind::MakeUp,
            other => return Err(StoreError::Corrupt(format!("calendar day kind {other}"))),
        },
        name: row.text("name")?,
        proposed: row.boolean("proposed")?,
    })
}

#[async_trait]
impl CalendarRepo for SqlStore {
    async fn days(&self) -> StoreResult<Vec<SpecialDay>> {
        read!(self, |pool, d| {
            let rows =
                sqlx::query("SELECT day, kind, name, proposed FROM calendar_days ORDER BY day")
                    .fetch_all(pool)
                    .await
                    .map_err(map_err)?;
            rows.iter().map(day_row).collect()
        })
    }

    async fn put_days(&self, days: &[SpecialDay]) -> StoreResult<()> {
        write!(self, |tx, d| {
            for day in days {
                sqlx::query(
                    "INSERT INTO calendar_days (day, kind, name, proposed) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
                     proposed = excluded.proposed",
                )
                .bind(day.date)
                .bind(kind_text(day.kind))
                .bind(&day.name)
                .bind(day.proposed)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            }
        })
    }

    async fn remove_day(&self, date: Date) -> StoreResult<bool> {
        write!(self, |tx, d| {
            sqlx::query("DELETE FROM calendar_days WHERE day = $1")
                .bind(date)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected()
                > 0
        })
    }
}
