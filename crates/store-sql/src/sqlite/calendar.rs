//! Holidays and make-up days.

use async_trait::async_trait;
use sqlx::{Row, sqlite::SqliteRow};
use time::Date;

use motcua_calendar::{DayKind, SpecialDay};
use motcua_store::{CalendarRepo, StoreError, StoreResult};

use super::{SqliteStore, map_err};

fn kind_text(kind: DayKind) -> &'static str {
    match kind {
        DayKind::Off => "off",
        DayKind::MakeUp => "make_up",
    }
}

fn day_row(row: &SqliteRow) -> StoreResult<SpecialDay> {
    let kind: String = row.try_get("kind").map_err(map_err)?;
    Ok(SpecialDay {
        date: row.try_get("day").map_err(map_err)?,
        kind: match kind.as_str() {
            "off" => DayKind::Off,
            "make_up" => DayKind::MakeUp,
            other => return Err(StoreError::Corrupt(format!("calendar day kind {other}"))),
        },
        name: row.try_get("name").map_err(map_err)?,
        proposed: row.try_get("proposed").map_err(map_err)?,
    })
}

#[async_trait]
impl CalendarRepo for SqliteStore {
    async fn days(&self) -> StoreResult<Vec<SpecialDay>> {
        let rows = sqlx::query("SELECT day, kind, name, proposed FROM calendar_days ORDER BY day")
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        rows.iter().map(day_row).collect()
    }

    async fn put_days(&self, days: &[SpecialDay]) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        for d in days {
            sqlx::query(
                "INSERT INTO calendar_days (day, kind, name, proposed) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
                 proposed = excluded.proposed",
            )
            .bind(d.date)
            .bind(kind_text(d.kind))
            .bind(&d.name)
            .bind(d.proposed)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn remove_day(&self, date: Date) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("DELETE FROM calendar_days WHERE day = $1")
            .bind(date)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }
}
