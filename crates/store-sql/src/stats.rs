//! The public statistics, counted straight from the dossiers, their events and their ratings.

use std::collections::BTreeMap;

use async_trait::async_trait;
use time::OffsetDateTime;

use motcua_domain::AgencyCode;
use motcua_store::{AgencyStats, StatsRepo, StoreError, StoreResult};

use crate::{SqlStore, dialect::At, map_err, read, rows::Columns};

/// The statuses of a dossier received and not yet approved.
const IN_PROGRESS: &str = "'received', 'processing', 'supplement_requested', \
                           'awaiting_financial_obligation', 'withdrawal_requested'";

/// The figures of the agency a row names, added on first sight.
fn entry(by: &mut BTreeMap<String, AgencyStats>, code: String) -> StoreResult<&mut AgencyStats> {
    if !by.contains_key(&code) {
        let agency = AgencyCode::parse(&code)
            .map_err(|e| StoreError::Corrupt(format!("agency {code}: {e}")))?;
        by.insert(
            code.clone(),
            AgencyStats {
                agency,
                figures: Default::default(),
            },
        );
    }
    by.get_mut(&code)
        .ok_or_else(|| StoreError::Corrupt("statistics".into()))
}

#[async_trait]
impl StatsRepo for SqlStore {
    async fn by_agency(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<AgencyStats>> {
        read!(self, |pool, d| {
            let mut by: BTreeMap<String, AgencyStats> = BTreeMap::new();
            // submitted in the period, by channel
            let rows = sqlx::query(
                "SELECT agency_code, channel, COUNT(*) AS n FROM dossiers \
                 WHERE created_at >= $1 AND created_at < $2 AND status <> 'draft' \
                 GROUP BY agency_code, channel",
            )
            .bind(At(from))
            .bind(At(to))
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
            for r in &rows {
                let n = r.count("n")?;
                let e = entry(&mut by, r.text("agency_code")?)?;
                match r.text("channel")?.as_str() {
                    "online" => e.figures.online += n,
                    "post" => e.figures.post += n,
                    _ => e.figures.in_person += n,
                }
            }
            // approved in the period (a dossier is approved once: the state table), on time or late
            let rows = sqlx::query(
                "SELECT d.agency_code, \
                 SUM(CASE WHEN d.due_at IS NULL OR e.at <= d.due_at THEN 1 ELSE 0 END) AS on_time, \
                 SUM(CASE WHEN d.due_at IS NOT NULL AND e.at > d.due_at THEN 1 ELSE 0 END) AS late \
                 FROM dossier_events e JOIN dossiers d ON d.id = e.dossier_id \
                 WHERE e.to_status = 'processed' AND e.at >= $1 AND e.at < $2 \
                 GROUP BY d.agency_code",
            )
            .bind(At(from))
            .bind(At(to))
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
            for r in &rows {
                let (on_time, late) = (r.count("on_time")?, r.count("late")?);
                let e = entry(&mut by, r.text("agency_code")?)?;
                e.figures.on_time += on_time;
                e.figures.late += late;
            }
            // open now, and past their appointment
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT agency_code, COUNT(*) AS n, \
                 SUM(CASE WHEN due_at IS NOT NULL AND due_at < $1 \
                 AND status NOT IN ('supplement_requested', 'awaiting_financial_obligation') \
                 THEN 1 ELSE 0 END) AS overdue \
                 FROM dossiers WHERE status IN ({IN_PROGRESS}) GROUP BY agency_code"
            )))
            .bind(At(now))
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
            for r in &rows {
                let (n, overdue) = (r.count("n")?, r.count("overdue")?);
                let e = entry(&mut by, r.text("agency_code")?)?;
                e.figures.in_progress += n;
                e.figures.overdue += overdue;
            }
            // ratings given in the period
            let rows = sqlx::query(
                "SELECT agency_code, COUNT(*) AS n, SUM(CASE WHEN level >= 4 THEN 1 ELSE 0 END) AS satisfied \
                 FROM ratings WHERE rated_at >= $1 AND rated_at < $2 GROUP BY agency_code",
            )
            .bind(At(from))
            .bind(At(to))
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
            for r in &rows {
                let (n, satisfied) = (r.count("n")?, r.count("satisfied")?);
                let e = entry(&mut by, r.text("agency_code")?)?;
                e.figures.ratings += n;
                e.figures.satisfied += satisfied;
            }
            Ok(by.into_values().collect())
        })
    }
}
