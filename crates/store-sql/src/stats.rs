//! The public statistics, counted straight from the dossiers, their events and their ratings.

use std::collections::BTreeMap;

use async_trait::async_trait;
use time::{Date, OffsetDateTime};

use motcua_domain::{AgencyCode, Dossier, vntime};
use motcua_store::{AgencyStats, Figures, Gap, StatsRepo, StoreError, StoreResult};

use crate::{SqlStore, dialect::At, map_err, read, rows::Columns, write};

/// The statuses of a dossier received and not yet approved.
const IN_PROGRESS: &str = "'received', 'processing', 'supplement_requested', \
                           'awaiting_financial_obligation', 'withdrawal_requested'";

/// Figures by (agency, procedure).
type ByKey = BTreeMap<(String, String), AgencyStats>;

/// The figures of the agency and procedure a row names (columns `agency_code`, `procedure_code`), added on first
/// sight.
fn entry<'a>(by: &'a mut ByKey, row: &impl Columns) -> StoreResult<&'a mut AgencyStats> {
    let key = (row.text("agency_code")?, row.text("procedure_code")?);
    if !by.contains_key(&key) {
        let agency = AgencyCode::parse(&key.0)
            .map_err(|e| StoreError::Corrupt(format!("agency {}: {e}", key.0)))?;
        by.insert(
            key.clone(),
            AgencyStats {
                agency,
                procedure: key.1.clone(),
                figures: Default::default(),
            },
        );
    }
    by.get_mut(&key)
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
        self.count(Some((from, to)), Some(now)).await
    }

    async fn by_month(&self, first: Date, now: OffsetDateTime) -> StoreResult<Vec<AgencyStats>> {
        let key = month_key(first);
        // the open ones are a moment's, not a month's: counted now (an index on status and due date)
        let open = self.count(None, Some(now)).await?;
        let mut by: ByKey = open
            .into_iter()
            .map(|s| ((s.agency.as_str().to_string(), s.procedure.clone()), s))
            .collect();
        read!(self, |pool, d| {
            let rows = sqlx::query(
                "SELECT agency_code, procedure_code, in_person, online, post, on_time, late, ratings, satisfied, \
                 digitised, e_results, fee_bearing, paid_online FROM stats_months WHERE month = $1",
            )
            .bind(&key)
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
            for r in &rows {
                let kept = Figures {
                    in_person: r.count("in_person")?,
                    online: r.count("online")?,
                    post: r.count("post")?,
                    on_time: r.count("on_time")?,
                    late: r.count("late")?,
                    ratings: r.count("ratings")?,
                    satisfied: r.count("satisfied")?,
                    digitised: r.count("digitised")?,
                    e_results: r.count("e_results")?,
                    fee_bearing: r.count("fee_bearing")?,
                    paid_online: r.count("paid_online")?,
                    in_progress: 0,
                    overdue: 0,
                };
                let e = entry(&mut by, r)?;
                e.figures = Figures {
                    in_progress: e.figures.in_progress,
                    overdue: e.figures.overdue,
                    ..kept
                };
            }
            Ok::<(), StoreError>(())
        })?;
        Ok(by.into_values().collect())
    }

    async fn refresh(&self, limit: u32) -> StoreResult<usize> {
        let months = read!(self, |pool, d| {
            sqlx::query("SELECT DISTINCT month FROM stats_dirty ORDER BY month LIMIT $1")
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(map_err)?
                .iter()
                .map(|r| r.text("month"))
                .collect::<StoreResult<Vec<_>>>()
        })?;
        let mut recounted = 0;
        for month in months {
            // take the month's marks (another node that took them first recounts it instead); a change committed
            // from now on marks the month again
            let (agencies, claimed_at) = self.claim(&month).await?;
            if agencies.is_empty() {
                continue;
            }
            let Some(first) = month_of_key(&month) else {
                tracing::warn!(%month, "statistics: a changed month that is not one");
                continue;
            };
            if let Err(e) = self.recount(first, &month, &agencies, claimed_at).await {
                // put the marks back, so the next round tries again
                self.mark(&month, &agencies).await?;
                return Err(e);
            }
            recounted += 1;
        }
        Ok(recounted)
    }

    async fn gap(
        &self,
        agency: &AgencyCode,
        gap: Gap,
        from: OffsetDateTime,
        to: OffsetDateTime,
        now: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Dossier>> {
        // each list is driven by what bounds it (the month's submissions, approvals or ratings), never by all of
        // an agency's dossiers
        let submitted = "d.agency_code = $1 AND d.created_at >= $2 AND d.created_at < $3 AND d.status <> 'draft'";
        let approved = "d.agency_code = $1 AND d.id IN (SELECT e.dossier_id FROM dossier_events e \
                        JOIN dossiers x ON x.id = e.dossier_id \
                        WHERE e.to_status = 'processed' AND e.at >= $2 AND e.at < $3";
        let which = match gap {
            Gap::HandledLate => format!("{approved} AND x.due_at IS NOT NULL AND e.at > x.due_at)"),
            Gap::Overdue => format!(
                "d.agency_code = $1 AND d.status IN ({IN_PROGRESS}) AND d.due_at IS NOT NULL AND d.due_at < $4 \
                 AND d.status NOT IN ('supplement_requested', 'awaiting_financial_obligation')"
            ),
            Gap::NotDigitised => format!(
                "{submitted} AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.dossier_id = d.id)"
            ),
            Gap::NoElectronicResult => format!(
                "{approved}) AND NOT EXISTS (SELECT 1 FROM dossier_results r WHERE r.dossier_id = d.id \
                 AND r.file_key IS NOT NULL)"
            ),
            Gap::NotOnline => format!("{submitted} AND d.channel <> 'online'"),
            Gap::NotPaidOnline => {
                format!("{submitted} AND {FEE_BEARING} AND NOT ({PAID_ONLINE})")
            }
            // a rating counts for the agency it was given to (the figure's own rule), wherever the dossier went
            Gap::Unsatisfied => {
                "d.id IN (SELECT g.dossier_id FROM ratings g WHERE g.agency_code = $1 \
                                 AND g.rated_at >= $2 AND g.rated_at < $3 AND g.level < 4)"
                    .to_string()
            }
        };
        read!(self, |pool, d| {
            let sql = format!(
                "{} d WHERE {which} ORDER BY d.created_at DESC, d.id LIMIT $5",
                crate::dossiers::DOSSIER_COLUMNS
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(agency.as_str())
                .bind(At(from))
                .bind(At(to))
                .bind(At(now))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
            rows.iter().map(crate::dossiers::dossier_row).collect()
        })
    }
}

impl SqlStore {
    /// Figures per agency and procedure counted from the rows: of the period `[from, to)` when given, and the dossiers
    /// open at a moment when given.
    async fn count(
        &self,
        period: Option<(OffsetDateTime, OffsetDateTime)>,
        open_at: Option<OffsetDateTime>,
    ) -> StoreResult<Vec<AgencyStats>> {
        read!(self, |pool, d| {
            let mut by: ByKey = BTreeMap::new();
            if let Some((from, to)) = period {
                // submitted in the period, by channel
                let rows = sqlx::query(
                    "SELECT agency_code, procedure_code, channel, COUNT(*) AS n FROM dossiers \
                 WHERE created_at >= $1 AND created_at < $2 AND status <> 'draft' \
                 GROUP BY agency_code, procedure_code, channel",
                )
                .bind(At(from))
                .bind(At(to))
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
                for r in &rows {
                    let n = r.count("n")?;
                    let e = entry(&mut by, r)?;
                    match r.text("channel")?.as_str() {
                        "online" => e.figures.online += n,
                        "post" => e.figures.post += n,
                        _ => e.figures.in_person += n,
                    }
                }
                // approved in the period (a dossier is approved once: the state table), on time or late
                let rows = sqlx::query(
                    "SELECT d.agency_code, d.procedure_code, \
                 SUM(CASE WHEN d.due_at IS NULL OR e.at <= d.due_at THEN 1 ELSE 0 END) AS on_time, \
                 SUM(CASE WHEN d.due_at IS NOT NULL AND e.at > d.due_at THEN 1 ELSE 0 END) AS late \
                 FROM dossier_events e JOIN dossiers d ON d.id = e.dossier_id \
                 WHERE e.to_status = 'processed' AND e.at >= $1 AND e.at < $2 \
                 GROUP BY d.agency_code, d.procedure_code",
                )
                .bind(At(from))
                .bind(At(to))
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
                for r in &rows {
                    let (on_time, late) = (r.count("on_time")?, r.count("late")?);
                    let e = entry(&mut by, r)?;
                    e.figures.on_time += on_time;
                    e.figures.late += late;
                }
                // ratings given in the period
                let rows = sqlx::query(
                "SELECT g.agency_code, d.procedure_code, COUNT(*) AS n, \
                 SUM(CASE WHEN g.level >= 4 THEN 1 ELSE 0 END) AS satisfied \
                 FROM ratings g JOIN dossiers d ON d.id = g.dossier_id \
                 WHERE g.rated_at >= $1 AND g.rated_at < $2 GROUP BY g.agency_code, d.procedure_code",
            )
            .bind(At(from))
            .bind(At(to))
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
                for r in &rows {
                    let (n, satisfied) = (r.count("n")?, r.count("satisfied")?);
                    let e = entry(&mut by, r)?;
                    e.figures.ratings += n;
                    e.figures.satisfied += satisfied;
                }
                // submitted in the period with files (their papers digitised)
                let rows = sqlx::query(
                    "SELECT d.agency_code, d.procedure_code, COUNT(*) AS n FROM dossiers d \
                 WHERE d.created_at >= $1 AND d.created_at < $2 AND d.status <> 'draft' \
                 AND EXISTS (SELECT 1 FROM uploads u WHERE u.dossier_id = d.id) \
                 GROUP BY d.agency_code, d.procedure_code",
                )
                .bind(At(from))
                .bind(At(to))
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
                for r in &rows {
                    let n = r.count("n")?;
                    entry(&mut by, r)?.figures.digitised += n;
                }
                // approved in the period with a result file
                let rows = sqlx::query(
                "SELECT d.agency_code, d.procedure_code, COUNT(*) AS n FROM dossier_events e \
                 JOIN dossiers d ON d.id = e.dossier_id JOIN dossier_results r ON r.dossier_id = d.id \
                 WHERE e.to_status = 'processed' AND e.at >= $1 AND e.at < $2 AND r.file_key IS NOT NULL \
                 GROUP BY d.agency_code, d.procedure_code",
            )
            .bind(At(from))
            .bind(At(to))
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
                for r in &rows {
                    let n = r.count("n")?;
                    entry(&mut by, r)?.figures.e_results += n;
                }
                // submitted in the period with a fee to pay, and of those paid online
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT d.agency_code, d.procedure_code, COUNT(*) AS n, \
                 SUM(CASE WHEN {PAID_ONLINE} THEN 1 ELSE 0 END) AS paid \
                 FROM dossiers d WHERE d.created_at >= $1 AND d.created_at < $2 AND d.status <> 'draft' \
                 AND {FEE_BEARING} GROUP BY d.agency_code, d.procedure_code"
            )))
            .bind(At(from))
            .bind(At(to))
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
                for r in &rows {
                    let (n, paid) = (r.count("n")?, r.count("paid")?);
                    let e = entry(&mut by, r)?;
                    e.figures.fee_bearing += n;
                    e.figures.paid_online += paid;
                }
            }
            // open now, and past their appointment
            if let Some(now) = open_at {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT agency_code, procedure_code, COUNT(*) AS n, \
                 SUM(CASE WHEN due_at IS NOT NULL AND due_at < $1 \
                 AND status NOT IN ('supplement_requested', 'awaiting_financial_obligation') \
                 THEN 1 ELSE 0 END) AS overdue \
                 FROM dossiers WHERE status IN ({IN_PROGRESS}) GROUP BY agency_code, procedure_code"
                )))
                .bind(At(now))
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
                for r in &rows {
                    let (n, overdue) = (r.count("n")?, r.count("overdue")?);
                    let e = entry(&mut by, r)?;
                    e.figures.in_progress += n;
                    e.figures.overdue += overdue;
                }
            }
            Ok(by.into_values().collect())
        })
    }

    /// Remove a month's marks: the agencies they named, and when (the database's clock, so nodes agree).
    async fn claim(&self, month: &str) -> StoreResult<(Vec<String>, OffsetDateTime)> {
        write!(self, |tx, d| {
            let agencies =
                sqlx::query("DELETE FROM stats_dirty WHERE month = $1 RETURNING agency_code")
                    .bind(month)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(map_err)?
                    .iter()
                    .map(|r| r.text("agency_code"))
                    .collect::<StoreResult<Vec<_>>>()?;
            let at = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {} AS at", d.clock())))
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?
                .at("at")?;
            (agencies, at)
        })
    }

    /// Mark a month of these agencies as changed.
    async fn mark(&self, month: &str, agencies: &[String]) -> StoreResult<()> {
        write!(self, |tx, d| {
            for agency in agencies {
                sqlx::query(
                    "INSERT INTO stats_dirty (agency_code, month) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                )
                .bind(agency)
                .bind(month)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            }
        })
    }

    /// Count a month again and keep its figures, replacing what was kept of the agencies marked (an agency or
    /// procedure with nothing left in the month loses its row).
    async fn recount(
        &self,
        first: Date,
        month: &str,
        marked: &[String],
        claimed_at: OffsetDateTime,
    ) -> StoreResult<()> {
        self.wait_for_writers().await?;
        let (from, to) = window(first);
        let counted = self.count(Some((from, to)), None).await?;
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        write!(self, |tx, d| {
            for agency in marked {
                // a recount taken later has kept its own figures already: they stay
                sqlx::query(
                    "DELETE FROM stats_months WHERE month = $1 AND agency_code = $2 AND counted_at <= $3",
                )
                .bind(month)
                .bind(agency)
                .bind(At(claimed_at))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            }
            for s in &counted {
                let f = &s.figures;
                sqlx::query(
                    "INSERT INTO stats_months (agency_code, procedure_code, month, in_person, online, post, \
                     on_time, late, ratings, satisfied, digitised, e_results, fee_bearing, paid_online, counted_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                     ON CONFLICT (month, agency_code, procedure_code) DO UPDATE SET \
                     in_person = excluded.in_person, online = excluded.online, post = excluded.post, \
                     on_time = excluded.on_time, late = excluded.late, ratings = excluded.ratings, \
                     satisfied = excluded.satisfied, digitised = excluded.digitised, \
                     e_results = excluded.e_results, fee_bearing = excluded.fee_bearing, \
                     paid_online = excluded.paid_online, counted_at = excluded.counted_at \
                     WHERE stats_months.counted_at <= excluded.counted_at",
                )
                .bind(s.agency.as_str())
                .bind(&s.procedure)
                .bind(month)
                .bind(n(f.in_person))
                .bind(n(f.online))
                .bind(n(f.post))
                .bind(n(f.on_time))
                .bind(n(f.late))
                .bind(n(f.ratings))
                .bind(n(f.satisfied))
                .bind(n(f.digitised))
                .bind(n(f.e_results))
                .bind(n(f.fee_bearing))
                .bind(n(f.paid_online))
                .bind(At(claimed_at))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            }
        })
    }

    /// On PostgreSQL, wait until every transaction running now has ended: a writer that found the month marked
    /// (and so did not mark it) just before the marks were taken is counted. SQLite's single writer needs no wait.
    async fn wait_for_writers(&self) -> StoreResult<()> {
        #[cfg(feature = "postgres")]
        if let crate::Db::Postgres(pool) = &self.db {
            let horizon: String =
                sqlx::query("SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS x")
                    .fetch_one(pool)
                    .await
                    .map_err(map_err)?
                    .text("x")?;
            for _ in 0..500 {
                let done: bool = sqlx::query(
                    "SELECT pg_snapshot_xmin(pg_current_snapshot()) >= $1::xid8 AS done",
                )
                .bind(&horizon)
                .fetch_one(pool)
                .await
                .map_err(map_err)?
                .boolean("done")?;
                if done {
                    return Ok(());
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            return Err(StoreError::Other(
                "statistics: a transaction stayed open for more than 10 s".into(),
            ));
        }
        Ok(())
    }
}

/// `YYYY-MM`, as the triggers write a month.
fn month_key(first: Date) -> String {
    format!("{:04}-{:02}", first.year(), u8::from(first.month()))
}

fn month_of_key(key: &str) -> Option<Date> {
    let (y, m) = key.split_once('-')?;
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, 1).ok()
}

/// The instants a month starts and ends in Vietnam.
fn window(first: Date) -> (OffsetDateTime, OffsetDateTime) {
    let next = match first.month() {
        time::Month::December => {
            Date::from_calendar_date(first.year() + 1, time::Month::January, 1)
        }
        m => Date::from_calendar_date(first.year(), m.next(), 1),
    }
    .unwrap_or(first);
    (vntime::start_of_day(first), vntime::start_of_day(next))
}

/// A dossier `d` with a fee to pay: a charge not waived.
const FEE_BEARING: &str =
    "EXISTS (SELECT 1 FROM charges c WHERE c.dossier_id = d.id AND c.waived_at IS NULL)";

/// A dossier `d` whose fee was paid through the online gateway (not at the counter).
const PAID_ONLINE: &str = "EXISTS (SELECT 1 FROM payments p WHERE p.dossier_id = d.id \
                           AND p.status IN ('paid', 'refunded') AND p.provider <> 'counter')";
