//! Dossiers and their append-only, hash-chained history.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use motcua_domain::{
    Dossier, DossierCode, DossierId, EventHash, HistoryEvent, NewDossier, ProcedureCode, Transition,
};
use motcua_store::{
    ChangedQuery, DossierRepo, HandledDossier, HandledQuery, StoreError, StoreResult,
    decode::{self, DossierRow, EventRow},
};

use crate::{
    Conn, SqlStore,
    dialect::{At, Id},
    int, map_err, on_conn, read,
    rows::Columns,
    write,
};

pub(crate) const DOSSIER_COLUMNS: &str = "SELECT id, code, agency_code, procedure_code, procedure_version, case_key, \
     channel, status, applicant_name, created_at, updated_at, due_at FROM dossiers";

pub(crate) fn dossier_row(row: &impl Columns) -> StoreResult<Dossier> {
    DossierRow {
        id: row.id("id")?,
        code: row.text("code")?,
        agency_code: row.text("agency_code")?,
        procedure_code: row.text("procedure_code")?,
        procedure_version: row.int("procedure_version")?,
        case_key: row.text("case_key")?,
        channel: row.text("channel")?,
        status: row.text("status")?,
        applicant_name: row.text("applicant_name")?,
        created_at: row.at("created_at")?,
        updated_at: row.at("updated_at")?,
        due_at: row.opt_at("due_at")?,
    }
    .decode()
}

fn event_row(row: &impl Columns) -> StoreResult<HistoryEvent> {
    EventRow {
        id: row.id("id")?,
        dossier_id: row.id("dossier_id")?,
        seq: row.int("seq")?,
        at: row.at("at")?,
        actor: row.text("actor")?,
        from_status: row.opt_text("from_status")?,
        to_status: row.text("to_status")?,
        reason: row.opt_text("reason")?,
        due_at: row.opt_at("due_at")?,
        prev_hash: row.opt_text("prev_hash")?,
        hash: row.text("hash")?,
    }
    .decode()
}

pub(crate) async fn append_event(conn: Conn<'_>, e: &HistoryEvent) -> StoreResult<()> {
    on_conn!(conn, |c, d| {
        sqlx::query(
            "INSERT INTO dossier_events (id, dossier_id, seq, at, actor, from_status, to_status, reason, due_at, \
             prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(Id(e.id))
        .bind(Id(e.dossier.0))
        .bind(int(e.seq)?)
        .bind(At(e.at))
        .bind(&e.actor)
        .bind(e.from.map(|s| s.as_str()))
        .bind(e.to.as_str())
        .bind(e.reason.as_deref())
        .bind(e.due_at.map(At))
        .bind(e.prev_hash.map(|h| h.to_hex()))
        .bind(e.hash.to_hex())
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        // one webhook delivery per subscription that wants this change: live, of a client in service that works
        // for the dossier's agency, for this event type or all (in the same commit as the change). An event that
        // changes neither the status nor the appointment (a merger moving the dossier) is nothing to announce; an
        // apology keeps the status and brings a new appointment, and is announced.
        if e.from == Some(e.to) && e.due_at.is_none() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO webhook_deliveries (webhook_id, event_id, dossier_id, event_type, created_at, attempts, next_at) \
             SELECT w.id, $1, d.id, $2, $3, 0, $3 FROM webhooks w \
             JOIN api_clients c ON c.id = w.client_id JOIN dossiers d ON d.id = $4 \
             WHERE w.removed_at IS NULL AND c.disabled_at IS NULL \
             AND (' ' || c.agencies || ' ') LIKE ('% ' || d.agency_code || ' %') \
             AND (w.events = '' OR (' ' || w.events || ' ') LIKE $5)",
        )
        .bind(Id(e.id))
        .bind(motcua_domain::webhook::event_type(e.to))
        .bind(At(e.at))
        .bind(Id(e.dossier.0))
        .bind(format!("% {} %", motcua_domain::webhook::event_type(e.to)))
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
    });
    Ok(())
}

/// Apply a transition inside the caller's transaction: the status change (only if still in `from`) and its
/// chained history event.
pub(crate) async fn transition_in(conn: Conn<'_>, t: &Transition) -> StoreResult<HistoryEvent> {
    on_conn!(conn, |c, d| {
        let updated = sqlx::query(
            "UPDATE dossiers SET status = $1, updated_at = $2, due_at = COALESCE($3, due_at) \
             WHERE id = $4 AND status = $5",
        )
        .bind(t.to.as_str())
        .bind(At(t.at))
        .bind(t.due_at.map(At))
        .bind(Id(t.dossier.0))
        .bind(t.from.as_str())
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        if updated.rows_affected() == 0 {
            return Err(match dossier_in((&mut *c).into(), t.dossier).await? {
                None => StoreError::NotFound,
                Some(now) => StoreError::Conflict(format!(
                    "hồ sơ {} đang ở trạng thái \u{201c}{}\u{201d}",
                    now.code,
                    now.status.label_vi()
                )),
            });
        }
        let prev = chain_end_in((&mut *c).into(), t.dossier).await?;
        let event = HistoryEvent::seal(
            t.event_id,
            t.dossier,
            prev,
            t.at,
            t.actor.clone(),
            Some(t.from),
            t.to,
            t.reason.clone(),
            t.due_at,
        );
        append_event((&mut *c).into(), &event).await?;
        Ok(event)
    })
}

/// The sequence number and hash of a dossier's last history event, to chain the next one to.
pub(crate) async fn chain_end_in(
    conn: Conn<'_>,
    dossier: DossierId,
) -> StoreResult<Option<(u32, EventHash)>> {
    on_conn!(conn, |c, d| {
        let last = sqlx::query(
            "SELECT seq, hash FROM dossier_events WHERE dossier_id = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(Id(dossier.0))
        .fetch_optional(&mut *c)
        .await
        .map_err(map_err)?;
        last.map(|row| {
            Ok((
                decode::version(row.int("seq")?)?,
                decode::event_hash(&row.text("hash")?)?,
            ))
        })
        .transpose()
    })
}

pub(crate) async fn dossier_in(conn: Conn<'_>, id: DossierId) -> StoreResult<Option<Dossier>> {
    let sql = format!("{DOSSIER_COLUMNS} WHERE id = $1");
    on_conn!(conn, |c, d| {
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(Id(id.0))
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?;
        row.as_ref().map(dossier_row).transpose()
    })
}

/// Dossiers written before their search text existed get it now (a thousand at a time).
pub(crate) async fn backfill_search_text(store: &SqlStore) -> StoreResult<()> {
    loop {
        let done = write!(store, |tx, d| {
            let rows = sqlx::query(
                "SELECT id, code, applicant_name FROM dossiers WHERE search_text = '' LIMIT 1000",
            )
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
            for row in &rows {
                sqlx::query("UPDATE dossiers SET search_text = $1 WHERE id = $2")
                    .bind(motcua_store::search_text(
                        &row.text("code")?,
                        &row.text("applicant_name")?,
                    ))
                    .bind(Id(row.id("id")?))
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
            }
            rows.is_empty()
        })?;
        if done {
            return Ok(());
        }
    }
}

#[async_trait]
impl DossierRepo for SqlStore {
    async fn create(&self, d: &NewDossier) -> StoreResult<Dossier> {
        let event = HistoryEvent::seal(
            Uuid::now_v7(),
            d.id,
            None,
            d.created_at,
            d.actor.clone(),
            None,
            d.status,
            None,
            None,
        );
        let new = d;
        write!(self, |tx, d| {
            sqlx::query(
                "INSERT INTO dossiers (id, code, agency_code, procedure_code, procedure_version, case_key, channel, \
                 status, applicant_name, created_at, updated_at, due_at, search_text) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, NULL, $11)",
            )
            .bind(Id(new.id.0))
            .bind(new.code.to_string())
            .bind(new.code.agency().as_str())
            .bind(new.procedure.as_str())
            .bind(int(new.procedure_version)?)
            .bind(new.case.as_str())
            .bind(new.channel.as_str())
            .bind(new.status.as_str())
            .bind(new.applicant_name.as_str())
            .bind(At(event.at))
            .bind(motcua_store::search_text(&new.code.to_string(), new.applicant_name.as_str()))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            append_event((&mut *tx).into(), &event).await?;
            dossier_in((&mut *tx).into(), new.id)
                .await?
                .ok_or(StoreError::NotFound)?
        })
    }

    async fn get(&self, id: DossierId) -> StoreResult<Option<Dossier>> {
        read!(self, |pool, d| {
            let mut conn = pool.acquire().await.map_err(map_err)?;
            dossier_in((&mut *conn).into(), id).await
        })
    }

    async fn get_by_code(&self, code: &DossierCode) -> StoreResult<Option<Dossier>> {
        let sql = format!("{DOSSIER_COLUMNS} WHERE code = $1");
        read!(self, |pool, d| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(code.to_string())
                .fetch_optional(pool)
                .await
                .map_err(map_err)?;
            row.as_ref().map(dossier_row).transpose()
        })
    }

    async fn record_transition(&self, t: &Transition) -> StoreResult<HistoryEvent> {
        write!(self, |tx, d| transition_in((&mut *tx).into(), t).await?)
    }

    async fn most_used_procedures(
        &self,
        since: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<(ProcedureCode, u64)>> {
        read!(self, |pool, d| {
            let sql = format!(
                "SELECT procedure_code, COUNT(*) AS uses FROM dossiers WHERE created_at >= $1 \
                 GROUP BY procedure_code ORDER BY uses DESC, procedure_code{} LIMIT $2",
                d.binary()
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(At(since))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
            rows.iter()
                .map(|r| {
                    let code = decode::procedure_code(&r.text("procedure_code")?)?;
                    Ok((code, u64::try_from(r.big("uses")?).unwrap_or(0)))
                })
                .collect()
        })
    }

    async fn handled(&self, q: &HandledQuery) -> StoreResult<(Vec<HandledDossier>, u64)> {
        if q.procedures.as_ref().is_some_and(Vec::is_empty) {
            return Ok((Vec::new(), 0));
        }
        // placeholders: $1.. the approval window, then the agency, then the procedures
        let mut n = 0;
        let mut mark = || {
            n += 1;
            format!("${n}")
        };
        let mut filter = String::new();
        if q.approved_from.is_some() {
            filter.push_str(&format!(" AND e.at >= {}", mark()));
        }
        if q.approved_to.is_some() {
            filter.push_str(&format!(" AND e.at < {}", mark()));
        }
        if q.agency.is_some() {
            filter.push_str(&format!(" AND d.agency_code = {}", mark()));
        }
        if let Some(procedures) = &q.procedures {
            let marks: Vec<String> = procedures.iter().map(|_| mark()).collect();
            filter.push_str(&format!(" AND d.procedure_code IN ({})", marks.join(", ")));
        }
        // each dossier's approval (once: the state table), walked newest first along (to_status, at)
        let from = format!(
            "FROM dossier_events e JOIN ({DOSSIER_COLUMNS}) d ON d.id = e.dossier_id \
             WHERE e.to_status = 'processed' AND d.status IN ('processed', 'result_delivered'){filter}"
        );
        let list = format!(
            "SELECT d.*, e.at AS approved_at, (SELECT MIN(r.at) FROM dossier_events r WHERE r.dossier_id = d.id \
             AND r.to_status = 'received') AS received_at {from} \
             ORDER BY e.at DESC, d.id LIMIT {} OFFSET {}",
            q.limit, q.offset
        );
        let count = format!("SELECT COUNT(*) AS n {from}");
        read!(self, |pool, d| {
            macro_rules! bound {
                ($sql:expr) => {{
                    let mut query = sqlx::query(sqlx::AssertSqlSafe($sql.clone()));
                    if let Some(at) = q.approved_from {
                        query = query.bind(At(at));
                    }
                    if let Some(at) = q.approved_to {
                        query = query.bind(At(at));
                    }
                    if let Some(agency) = &q.agency {
                        query = query.bind(agency.as_str().to_string());
                    }
                    for p in q.procedures.iter().flatten() {
                        query = query.bind(p.as_str().to_string());
                    }
                    query
                }};
            }
            let rows = bound!(list).fetch_all(pool).await.map_err(map_err)?;
            let total = if q.count {
                let row = bound!(count).fetch_one(pool).await.map_err(map_err)?;
                row.count("n")?
            } else {
                0
            };
            let list = rows
                .iter()
                .map(|r| {
                    Ok(HandledDossier {
                        dossier: dossier_row(r)?,
                        received_at: r.opt_at("received_at")?,
                        approved_at: r.at("approved_at")?,
                    })
                })
                .collect::<StoreResult<Vec<_>>>()?;
            Ok((list, total))
        })
    }

    async fn changed(&self, q: &ChangedQuery) -> StoreResult<Vec<Dossier>> {
        if q.agencies.is_empty() || q.limit == 0 {
            return Ok(Vec::new());
        }
        let mut n = 0;
        let mut mark = || {
            n += 1;
            format!("${n}")
        };
        let agencies: Vec<String> = q.agencies.iter().map(|_| mark()).collect();
        let mut sql = format!(
            "{DOSSIER_COLUMNS} WHERE agency_code IN ({})",
            agencies.join(", ")
        );
        if !q.statuses.is_empty() {
            let marks: Vec<String> = q.statuses.iter().map(|_| mark()).collect();
            sql.push_str(&format!(" AND status IN ({})", marks.join(", ")));
        }
        if q.updated_since.is_some() {
            sql.push_str(&format!(" AND updated_at >= {}", mark()));
        }
        if q.after.is_some() {
            let (at, id) = (mark(), mark());
            sql.push_str(&format!(
                " AND (updated_at > {at} OR (updated_at = {at} AND id > {id}))"
            ));
        }
        sql.push_str(&format!(" ORDER BY updated_at, id LIMIT {}", q.limit));
        read!(self, |pool, d| {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for a in &q.agencies {
                query = query.bind(a.as_str().to_string());
            }
            for s in &q.statuses {
                query = query.bind(s.as_str());
            }
            if let Some(at) = q.updated_since {
                query = query.bind(At(at));
            }
            if let Some((at, id)) = q.after {
                query = query.bind(At(at)).bind(Id(id.0));
            }
            let rows = query.fetch_all(pool).await.map_err(map_err)?;
            rows.iter().map(dossier_row).collect()
        })
    }

    async fn history(&self, id: DossierId) -> StoreResult<Vec<HistoryEvent>> {
        read!(self, |pool, d| {
            let rows = sqlx::query(
                "SELECT id, dossier_id, seq, at, actor, from_status, to_status, reason, due_at, prev_hash, hash \
                 FROM dossier_events WHERE dossier_id = $1 ORDER BY seq",
            )
            .bind(Id(id.0))
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
            rows.iter().map(event_row).collect()
        })
    }
}
