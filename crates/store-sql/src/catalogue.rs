//! Agencies, fields, the versioned procedure catalogue, online service levels and dossier code counters.

use async_trait::async_trait;
use time::{Date, OffsetDateTime};

use uuid::Uuid;

use motcua_domain::{
    Agency, AgencyCode, CaseKey, DossierCode, DossierId, DossierStatus, Field, HistoryEvent,
    Procedure, ProcedureCode, ServiceLevelAssignment,
};
use motcua_store::{
    AgencyRepo, CatalogueBatch, CatalogueRepo, CodeCounterRepo, FieldRepo, ImportReport,
    MergeReport, Merger, StoreError, StoreResult, StoredProcedure, VersionInfo,
    decode::{self, AgencyRow},
};

use crate::{
    Conn, SqlStore,
    dialect::{At, Id},
    dossiers::{append_event, chain_end_in},
    int, map_err, on_conn, read,
    rows::Columns,
    write,
};

fn agency_row(row: &impl Columns) -> StoreResult<Agency> {
    AgencyRow {
        code: row.text("code")?,
        name: row.text("name")?,
        parent_code: row.opt_text("parent_code")?,
        level: row.text("level")?,
        address: row.opt_text("address")?,
        valid_from: row.date("valid_from")?,
        valid_until: row.opt_date("valid_until")?,
        successor_code: row.opt_text("successor_code")?,
    }
    .decode()
}

const AGENCY_COLUMNS: &str = "SELECT code, name, parent_code, level, address, valid_from, valid_until, successor_code FROM agencies";

/// Every node notices a catalogue change by this number and reloads what it derived from the catalogue.
pub(crate) async fn bump_catalogue_version(conn: Conn<'_>) -> StoreResult<()> {
    on_conn!(conn, |c, d| {
        sqlx::query("UPDATE catalogue_meta SET version = version + 1 WHERE id = 1")
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
    });
    Ok(())
}

#[async_trait]
impl AgencyRepo for SqlStore {
    async fn upsert(&self, agencies: &[Agency]) -> StoreResult<()> {
        write!(self, |tx, d| {
            upsert_agencies((&mut *tx).into(), agencies).await?;
            bump_catalogue_version((&mut *tx).into()).await?;
        })
    }

    async fn get(&self, code: &AgencyCode) -> StoreResult<Option<Agency>> {
        let sql = format!("{AGENCY_COLUMNS} WHERE code = $1");
        read!(self, |pool, d| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(code.as_str())
                .fetch_optional(pool)
                .await
                .map_err(map_err)?;
            row.as_ref().map(agency_row).transpose()
        })
    }

    async fn list(&self) -> StoreResult<Vec<Agency>> {
        read!(self, |pool, d| {
            let sql = format!("{AGENCY_COLUMNS} ORDER BY code{}", d.binary());
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
            rows.iter().map(agency_row).collect()
        })
    }

    async fn merge(&self, m: &Merger) -> StoreResult<MergeReport> {
        if m.retired == m.successor {
            return Err(StoreError::Constraint(format!(
                "cơ quan {} không thể sáp nhập vào chính nó",
                m.retired
            )));
        }
        let until = m.effective.previous_day().ok_or_else(|| {
            StoreError::Constraint("ngày sáp nhập nằm ngoài phạm vi cho phép".into())
        })?;
        write!(self, |tx, d| {
            let report = merge_in((&mut *tx).into(), m, until).await?;
            bump_catalogue_version((&mut *tx).into()).await?;
            report
        })
    }
}

async fn agency_in(conn: Conn<'_>, code: &AgencyCode) -> StoreResult<Option<Agency>> {
    let sql = format!("{AGENCY_COLUMNS} WHERE code = $1");
    on_conn!(conn, |c, d| {
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(code.as_str())
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?;
        row.as_ref().map(agency_row).transpose()
    })
}

/// Whether following `link` (to the parent, or to the successor) from `start` reaches `target`; a chain longer
/// than 64 would be a cycle in the data and reaches nothing.
async fn reaches(
    conn: Conn<'_>,
    start: Option<AgencyCode>,
    target: &AgencyCode,
    link: fn(Agency) -> Option<AgencyCode>,
) -> StoreResult<bool> {
    on_conn!(conn, |c, d| {
        let mut next = start;
        for _ in 0..64 {
            let Some(code) = next else { return Ok(false) };
            if &code == target {
                return Ok(true);
            }
            next = agency_in((&mut *c).into(), &code).await?.and_then(link);
        }
        Ok(false)
    })
}

/// The statuses of a dossier still being worked on (neither a draft nor finished), as SQL literals.
fn open_statuses() -> String {
    DossierStatus::ALL
        .into_iter()
        .filter(|s| s.is_open())
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The body of [`AgencyRepo::merge`] on the caller's transaction.
async fn merge_in(conn: Conn<'_>, m: &Merger, until: Date) -> StoreResult<MergeReport> {
    on_conn!(conn, |c, d| {
        let retired = agency_in((&mut *c).into(), &m.retired)
            .await?
            .ok_or_else(|| {
                StoreError::Constraint(format!("cơ quan {} không tồn tại", m.retired))
            })?;
        let successor = agency_in((&mut *c).into(), &m.successor)
            .await?
            .ok_or_else(|| {
                StoreError::Constraint(format!("cơ quan {} không tồn tại", m.successor))
            })?;
        if let Some(other) = retired.successor.as_ref().filter(|s| **s != m.successor) {
            return Err(StoreError::Conflict(format!(
                "cơ quan {} đã được sáp nhập vào {other}",
                retired.code
            )));
        }
        if m.effective <= retired.valid_from {
            return Err(StoreError::Constraint(format!(
                "ngày sáp nhập phải sau ngày {} cơ quan {} bắt đầu hiệu lực",
                motcua_domain::vntime::format_date(retired.valid_from),
                retired.code
            )));
        }
        if successor.valid_until.is_some_and(|u| u < m.effective) {
            return Err(StoreError::Constraint(format!(
                "cơ quan kế thừa {} đã hết hiệu lực trước ngày sáp nhập",
                successor.code
            )));
        }
        // a merger is recorded when it takes effect: moving the open work earlier would leave the agency, still in
        // force, receiving dossiers that nothing moves later
        if m.effective > motcua_domain::vntime::vn_date(m.at) {
            return Err(StoreError::Constraint(format!(
                "ngày sáp nhập {} chưa đến: ghi nhận sáp nhập từ ngày đó",
                motcua_domain::vntime::format_date(m.effective)
            )));
        }
        // the successor must not be one of the retired agency's own units (its sub-units move under the successor)
        if reaches(
            (&mut *c).into(),
            successor.parent.clone(),
            &m.retired,
            |a| a.parent,
        )
        .await?
        {
            return Err(StoreError::Constraint(format!(
                "cơ quan kế thừa {} trực thuộc {}: chọn một cơ quan ngoài cơ quan bị sáp nhập",
                successor.code, retired.code
            )));
        }
        // nor itself (through its own successors) end in the retired agency
        if reaches(
            (&mut *c).into(),
            successor.successor.clone(),
            &m.retired,
            |a| a.successor,
        )
        .await?
        {
            return Err(StoreError::Constraint(format!(
                "cơ quan {} đã được sáp nhập vào {}: không thể sáp nhập ngược lại",
                successor.code, retired.code
            )));
        }
        let reason = format!(
            "Chuyển từ {} ({}) sang {} ({}) do sáp nhập, từ ngày {}",
            retired.name,
            retired.code,
            successor.name,
            successor.code,
            motcua_domain::vntime::format_date(m.effective)
        );
        let mut report = MergeReport::default();
        {
            if retired.successor.is_none() {
                // only while nobody else merged it meanwhile (the row lock orders two mergers of one agency)
                let ended = sqlx::query(
                    "UPDATE agencies SET valid_until = $1, successor_code = $2, updated_at = $3 \
                     WHERE code = $4 AND successor_code IS NULL",
                )
                .bind(until)
                .bind(m.successor.as_str())
                .bind(At(m.at))
                .bind(m.retired.as_str())
                .execute(&mut *c)
                .await
                .map_err(map_err)?;
                if ended.rows_affected() == 0 {
                    let now = agency_in((&mut *c).into(), &m.retired).await?;
                    if let Some(other) = now.and_then(|a| a.successor).filter(|s| *s != m.successor)
                    {
                        return Err(StoreError::Conflict(format!(
                            "cơ quan {} đã được sáp nhập vào {other}",
                            m.retired
                        )));
                    }
                }
            }
            let children = sqlx::query(
                "UPDATE agencies SET parent_code = $1, updated_at = $2 WHERE parent_code = $3 \
             AND (valid_until IS NULL OR valid_until >= $4) AND code <> $1",
            )
            .bind(m.successor.as_str())
            .bind(At(m.at))
            .bind(m.retired.as_str())
            .bind(m.effective)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
            report.children_moved = u32::try_from(children.rows_affected()).unwrap_or(u32::MAX);

            let sql = format!(
                "SELECT id, code, status FROM dossiers WHERE agency_code = $1 AND status IN ({}) \
             ORDER BY code{}",
                open_statuses(),
                d.binary()
            );
            let open = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(m.retired.as_str())
                .fetch_all(&mut *c)
                .await
                .map_err(map_err)?;
            for row in &open {
                let id = DossierId(row.id("id")?);
                let status = decode::dossier_status(&row.text("status")?)?;
                sqlx::query("UPDATE dossiers SET agency_code = $1, updated_at = $2 WHERE id = $3")
                    .bind(m.successor.as_str())
                    .bind(At(m.at))
                    .bind(Id(id.0))
                    .execute(&mut *c)
                    .await
                    .map_err(map_err)?;
                let prev = chain_end_in((&mut *c).into(), id).await?;
                let event = HistoryEvent::seal(
                    Uuid::now_v7(),
                    id,
                    prev,
                    m.at,
                    m.actor.clone(),
                    Some(status),
                    status,
                    Some(reason.clone()),
                    None,
                );
                append_event((&mut *c).into(), &event).await?;
                report.moved.push(decode::dossier_code(&row.text("code")?)?);
            }
            sqlx::query(
            "UPDATE dossier_steps SET agency_code = $1 WHERE agency_code = $2 AND ended_at IS NULL",
        )
        .bind(m.successor.as_str())
        .bind(m.retired.as_str())
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
            let drafts = sqlx::query(
            "UPDATE drafts SET agency_code = $1, updated_at = $2 WHERE agency_code = $3 AND dossier_id IS NULL",
        )
        .bind(m.successor.as_str())
        .bind(At(m.at))
        .bind(m.retired.as_str())
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
            report.drafts_moved = u32::try_from(drafts.rows_affected()).unwrap_or(u32::MAX);

            // online levels: the retired agency's levels in force become the successor's where it has none
            let in_force = |agency: &AgencyCode| {
                let sql = format!(
                    "{LEVELS_IN_FORCE} AND s.agency_code = $2 {}",
                    levels_order(d)
                );
                (sql, agency.as_str().to_string())
            };
            let (sql, code) = in_force(&m.retired);
            let theirs = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(m.effective)
                .bind(code)
                .fetch_all(&mut *c)
                .await
                .map_err(map_err)?
                .iter()
                .map(level_row)
                .collect::<StoreResult<Vec<_>>>()?;
            let (sql, code) = in_force(&m.successor);
            let ours = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(m.effective)
                .bind(code)
                .fetch_all(&mut *c)
                .await
                .map_err(map_err)?
                .iter()
                .map(level_row)
                .collect::<StoreResult<Vec<_>>>()?;
            for level in theirs {
                match ours
                    .iter()
                    .find(|o| o.procedure == level.procedure && o.case == level.case)
                {
                    Some(o) if o.level == level.level => {}
                    Some(_) => report.levels_to_review.push(level),
                    None => {
                        let carried = ServiceLevelAssignment {
                            agency: m.successor.clone(),
                            effective_from: m.effective,
                            ..level
                        };
                        set_level((&mut *c).into(), &carried).await?;
                        report.levels_carried.push(carried);
                    }
                }
            }

            let sql = format!(
                "SELECT w.procedure_code, w.case_key FROM workflows w WHERE w.steps LIKE $1 AND w.version = \
             (SELECT MAX(l.version) FROM workflows l WHERE l.procedure_code = w.procedure_code \
             AND l.case_key = w.case_key) ORDER BY w.procedure_code{0}, w.case_key{0}",
                d.binary()
            );
            for row in sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(format!("%\"{}\"%", m.retired))
                .fetch_all(&mut *c)
                .await
                .map_err(map_err)?
            {
                let case = CaseKey::parse(&row.text("case_key")?)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                report
                    .workflows_to_review
                    .push((decode::procedure_code(&row.text("procedure_code")?)?, case));
            }
            let grants =
                sqlx::query("SELECT COUNT(*) AS n FROM role_grants WHERE agency_code = $1")
                    .bind(m.retired.as_str())
                    .fetch_one(&mut *c)
                    .await
                    .map_err(map_err)?;
            report.grants_to_review = u32::try_from(grants.big("n")?).unwrap_or(u32::MAX);
        }
        Ok(report)
    })
}

#[async_trait]
impl FieldRepo for SqlStore {
    async fn upsert(&self, fields: &[Field]) -> StoreResult<()> {
        write!(self, |tx, d| {
            upsert_fields((&mut *tx).into(), fields).await?;
            bump_catalogue_version((&mut *tx).into()).await?;
        })
    }

    async fn list(&self) -> StoreResult<Vec<Field>> {
        read!(self, |pool, d| {
            let sql = format!(
                "SELECT code, name FROM fields ORDER BY name{0}, code{0}",
                d.binary()
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
            rows.iter()
                .map(|r| decode::field(&r.text("code")?, &r.text("name")?))
                .collect()
        })
    }
}

fn procedure_json(procedure: &Procedure) -> StoreResult<serde_json::Value> {
    serde_json::to_value(procedure)
        .map_err(|e| StoreError::Other(format!("procedure to JSON: {e}")))
}

fn stored_procedure(row: &impl Columns) -> StoreResult<StoredProcedure> {
    Ok(StoredProcedure {
        procedure: decode::procedure_document(row.json("document")?)?,
        version: decode::version(row.int("current_version")?)?,
        updated_at: row.at("updated_at")?,
    })
}

/// For each procedure, case and agency, the assignment with the latest start on or before `$1`.
const LEVELS_IN_FORCE: &str = "SELECT s.procedure_code, s.case_key, s.agency_code, s.level, s.effective_from \
     FROM service_levels s WHERE s.effective_from = ( \
       SELECT MAX(l.effective_from) FROM service_levels l WHERE l.procedure_code = s.procedure_code \
       AND l.case_key = s.case_key AND l.agency_code = s.agency_code AND l.effective_from <= $1)";

fn levels_order(d: crate::dialect::Dialect) -> String {
    format!(
        "ORDER BY s.procedure_code{0}, s.case_key{0}, s.agency_code{0}",
        d.binary()
    )
}

fn level_row(r: &impl Columns) -> StoreResult<ServiceLevelAssignment> {
    decode::service_level(
        &r.text("procedure_code")?,
        &r.text("case_key")?,
        &r.text("agency_code")?,
        r.small("level")?,
        r.date("effective_from")?,
    )
}

const CURRENT_PROCEDURES: &str = "SELECT p.current_version, p.updated_at, v.document FROM procedures p \
     JOIN procedure_versions v ON v.procedure_code = p.code AND v.version = p.current_version";

#[async_trait]
impl CatalogueRepo for SqlStore {
    async fn save_procedure_from(
        &self,
        procedure: &Procedure,
        at: OffsetDateTime,
        effective: Date,
    ) -> StoreResult<u32> {
        write!(self, |tx, d| {
            let (version, changed) =
                save_procedure_in((&mut *tx).into(), procedure, at, effective).await?;
            if changed {
                bump_catalogue_version((&mut *tx).into()).await?;
            }
            version
        })
    }

    async fn promote_due(&self, today: Date) -> StoreResult<u32> {
        const APPLYING: &str = "(SELECT v.version FROM procedure_versions v WHERE v.procedure_code = procedures.code \
             AND v.effective_from <= $1 ORDER BY v.effective_from DESC, v.version DESC LIMIT 1)";
        let sql = format!(
            "UPDATE procedures SET current_version = {APPLYING}, updated_at = $2 \
             WHERE current_version < COALESCE({APPLYING}, current_version)"
        );
        write!(self, |tx, d| {
            let changed = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(today)
                .bind(At(OffsetDateTime::now_utc()))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
            if changed > 0 {
                bump_catalogue_version((&mut *tx).into()).await?;
            }
            u32::try_from(changed).unwrap_or(u32::MAX)
        })
    }

    async fn import(
        &self,
        batch: &CatalogueBatch,
        at: OffsetDateTime,
    ) -> StoreResult<ImportReport> {
        write!(self, |tx, d| {
            upsert_agencies((&mut *tx).into(), &batch.agencies).await?;
            upsert_fields((&mut *tx).into(), &batch.fields).await?;
            let mut report = ImportReport::default();
            for procedure in &batch.procedures {
                match save_procedure_in(
                    (&mut *tx).into(),
                    procedure,
                    at,
                    motcua_domain::vntime::vn_date(at),
                )
                .await?
                {
                    (_, false) => report.unchanged += 1,
                    (1, true) => report.created += 1,
                    (_, true) => report.updated += 1,
                }
            }
            for level in &batch.service_levels {
                set_level((&mut *tx).into(), level).await?;
            }
            bump_catalogue_version((&mut *tx).into()).await?;
            report
        })
    }

    async fn get_procedure(&self, code: &ProcedureCode) -> StoreResult<Option<StoredProcedure>> {
        let sql = format!("{CURRENT_PROCEDURES} WHERE p.code = $1");
        read!(self, |pool, d| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(code.as_str())
                .fetch_optional(pool)
                .await
                .map_err(map_err)?;
            row.as_ref().map(stored_procedure).transpose()
        })
    }

    async fn get_procedure_version(
        &self,
        code: &ProcedureCode,
        version: u32,
    ) -> StoreResult<Option<Procedure>> {
        read!(self, |pool, d| {
            let row = sqlx::query(
                "SELECT document FROM procedure_versions WHERE procedure_code = $1 AND version = $2",
            )
            .bind(code.as_str())
            .bind(int(version)?)
            .fetch_optional(pool)
            .await
            .map_err(map_err)?;
            row.map(|row| decode::procedure_document(row.json("document")?))
                .transpose()
        })
    }

    async fn list_procedures(&self) -> StoreResult<Vec<StoredProcedure>> {
        read!(self, |pool, d| {
            let sql = format!("{CURRENT_PROCEDURES} ORDER BY p.code{}", d.binary());
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
            rows.iter().map(stored_procedure).collect()
        })
    }

    async fn set_service_level(&self, a: &ServiceLevelAssignment) -> StoreResult<()> {
        write!(self, |tx, d| {
            set_level((&mut *tx).into(), a).await?;
            bump_catalogue_version((&mut *tx).into()).await?;
        })
    }

    async fn versions(&self, code: &ProcedureCode) -> StoreResult<Vec<VersionInfo>> {
        read!(self, |pool, d| {
            let rows = sqlx::query(
                "SELECT version, created_at, effective_from FROM procedure_versions WHERE procedure_code = $1 \
                 ORDER BY version",
            )
            .bind(code.as_str())
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
            rows.iter()
                .map(|r| {
                    Ok(VersionInfo {
                        version: decode::version(r.int("version")?)?,
                        made_at: r.at("created_at")?,
                        effective_from: r.date("effective_from")?,
                    })
                })
                .collect()
        })
    }

    async fn level_history(
        &self,
        code: &ProcedureCode,
    ) -> StoreResult<Vec<ServiceLevelAssignment>> {
        read!(self, |pool, d| {
            let sql = format!(
                "SELECT s.procedure_code, s.case_key, s.agency_code, s.level, s.effective_from \
                 FROM service_levels s WHERE s.procedure_code = $1 {}, s.effective_from",
                levels_order(d)
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(code.as_str())
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
            rows.iter().map(level_row).collect()
        })
    }

    async fn service_levels(
        &self,
        code: &ProcedureCode,
        on: Date,
    ) -> StoreResult<Vec<ServiceLevelAssignment>> {
        read!(self, |pool, d| {
            let sql = format!(
                "{LEVELS_IN_FORCE} AND s.procedure_code = $2 {}",
                levels_order(d)
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(on)
                .bind(code.as_str())
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
            rows.iter().map(level_row).collect()
        })
    }

    async fn all_service_levels(&self, on: Date) -> StoreResult<Vec<ServiceLevelAssignment>> {
        read!(self, |pool, d| {
            let sql = format!("{LEVELS_IN_FORCE} {}", levels_order(d));
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(on)
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
            rows.iter().map(level_row).collect()
        })
    }

    async fn catalogue_version(&self) -> StoreResult<i64> {
        read!(self, |pool, d| {
            sqlx::query_scalar("SELECT version FROM catalogue_meta WHERE id = 1")
                .fetch_one(pool)
                .await
                .map_err(map_err)
        })
    }
}

#[async_trait]
impl CodeCounterRepo for SqlStore {
    async fn reserve(&self, agency: &AgencyCode, day: Date) -> StoreResult<DossierCode> {
        write!(self, |tx, d| reserve_in((&mut *tx).into(), agency, day)
            .await?)
    }
}

/// Take the next dossier code of `agency` on `day` inside the caller's transaction.
pub(crate) async fn reserve_in(
    conn: Conn<'_>,
    agency: &AgencyCode,
    day: Date,
) -> StoreResult<DossierCode> {
    let number: i32 = on_conn!(conn, |c, d| {
        sqlx::query_scalar(
            "INSERT INTO code_counters (agency_code, day, last_number) VALUES ($1, $2, 1) \
             ON CONFLICT (agency_code, day) DO UPDATE SET last_number = code_counters.last_number + 1 \
             RETURNING last_number",
        )
        .bind(agency.as_str())
        .bind(day)
        .fetch_one(&mut *c)
        .await
        .map_err(map_err)?
    });
    let number = u32::try_from(number)
        .map_err(|e| StoreError::Corrupt(format!("code counter {number}: {e}")))?;
    DossierCode::new(agency.clone(), day, number).map_err(|e| StoreError::Constraint(e.to_string()))
}

async fn upsert_agencies(conn: Conn<'_>, agencies: &[Agency]) -> StoreResult<()> {
    let now = At(OffsetDateTime::now_utc());
    on_conn!(conn, |c, d| {
        for a in agencies {
            sqlx::query(
                "INSERT INTO agencies (code, name, parent_code, level, address, valid_from, valid_until, \
                 successor_code, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, parent_code = excluded.parent_code, \
                 level = excluded.level, address = excluded.address, valid_from = excluded.valid_from, \
                 valid_until = CASE WHEN agencies.successor_code IS NULL THEN excluded.valid_until \
                 ELSE agencies.valid_until END, \
                 successor_code = COALESCE(agencies.successor_code, excluded.successor_code), \
                 updated_at = excluded.updated_at",
            )
            .bind(a.code.as_str())
            .bind(a.name.as_str())
            .bind(a.parent.as_ref().map(AgencyCode::as_str))
            .bind(a.level.as_str())
            .bind(a.address.as_deref())
            .bind(a.valid_from)
            .bind(a.valid_until)
            .bind(a.successor.as_ref().map(AgencyCode::as_str))
            .bind(now)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        }
    });
    Ok(())
}

async fn upsert_fields(conn: Conn<'_>, fields: &[Field]) -> StoreResult<()> {
    on_conn!(conn, |c, d| {
        for f in fields {
            sqlx::query(
                "INSERT INTO fields (code, name) VALUES ($1, $2) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name",
            )
            .bind(f.code.as_str())
            .bind(f.name.as_str())
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        }
    });
    Ok(())
}

async fn set_level(conn: Conn<'_>, a: &ServiceLevelAssignment) -> StoreResult<()> {
    on_conn!(conn, |c, d| {
        sqlx::query(
            "INSERT INTO service_levels (procedure_code, case_key, agency_code, level, effective_from) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (procedure_code, case_key, agency_code, effective_from) \
             DO UPDATE SET level = excluded.level",
        )
        .bind(a.procedure.as_str())
        .bind(a.case.as_str())
        .bind(a.agency.as_str())
        .bind(i16::from(a.level.number()))
        .bind(a.effective_from)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
    });
    Ok(())
}

/// Save a procedure inside a transaction as a version applying from `effective`: (the version saved, or the
/// latest when the record is identical to it; whether a new version was written). A new procedure is in force at
/// once; a changed one from `effective` (at once when that day has come).
async fn save_procedure_in(
    conn: Conn<'_>,
    procedure: &Procedure,
    at: OffsetDateTime,
    effective: Date,
) -> StoreResult<(u32, bool)> {
    let document = procedure_json(procedure)?;
    let in_force_now = effective <= motcua_domain::vntime::vn_date(at);
    on_conn!(conn, |c, d| {
        // the procedure's row orders two saves of one procedure
        let sql = format!(
            "SELECT p.current_version FROM procedures p WHERE p.code = $1{}",
            d.for_update_of("p")
        );
        let exists = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(procedure.code.as_str())
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?
            .is_some();
        let latest = sqlx::query(
            "SELECT version, document FROM procedure_versions WHERE procedure_code = $1 \
             ORDER BY version DESC LIMIT 1",
        )
        .bind(procedure.code.as_str())
        .fetch_optional(&mut *c)
        .await
        .map_err(map_err)?;
        let next = match latest {
            Some(row) => {
                let version = decode::version(row.int("version")?)?;
                if row.json("document")? == document {
                    return Ok((version, false));
                }
                version + 1
            }
            None => 1,
        };
        if !exists {
            sqlx::query(
                "INSERT INTO procedures (code, name, current_version, updated_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(procedure.code.as_str())
            .bind(procedure.name.as_str())
            .bind(int(next)?)
            .bind(At(at))
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        } else if in_force_now {
            sqlx::query(
                "UPDATE procedures SET name = $1, current_version = $2, updated_at = $3 WHERE code = $4",
            )
            .bind(procedure.name.as_str())
            .bind(int(next)?)
            .bind(At(at))
            .bind(procedure.code.as_str())
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        }
        sqlx::query(
            "INSERT INTO procedure_versions (procedure_code, version, document, created_at, effective_from) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(procedure.code.as_str())
        .bind(int(next)?)
        .bind(crate::dialect::Json(document))
        .bind(At(at))
        .bind(if exists { effective } else { motcua_domain::vntime::vn_date(at).min(effective) })
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok((next, true))
    })
}
