//! Workflows, step hand-offs and results.

use async_trait::async_trait;
use time::OffsetDateTime;

use motcua_domain::{
    AccountId, AgencyCode, CaseKey, DossierId, ProcedureCode, Transition,
    workflow::{DossierResult, StepChange, StepRecord, Workflow},
};
use motcua_store::{
    RegisterEntry, StoreError, StoreResult, WorkflowRepo,
    decode::{self, ResultRow, StepRow},
};

use crate::{
    Conn, SqlStore,
    dialect::{At, Id},
    dossiers::{DOSSIER_COLUMNS, dossier_in, dossier_row, transition_in},
    int, map_err, marks, on_conn, read,
    rows::Columns,
    write,
};

const STEP_COLUMNS: &str = "SELECT dossier_id, seq, step_index, workflow_version, name, agency_code, role, quota_hours, assignee, \
     assignee_name, started_at, started_by, due_at, ended_at, ended_by, outcome, note FROM dossier_steps";

fn step_row(row: &impl Columns) -> StoreResult<StepRecord> {
    StepRow {
        dossier_id: row.id("dossier_id")?,
        seq: row.int("seq")?,
        step_index: row.int("step_index")?,
        workflow_version: row.int("workflow_version")?,
        name: row.text("name")?,
        agency_code: row.text("agency_code")?,
        role: row.text("role")?,
        quota_hours: row.int("quota_hours")?,
        assignee: row.opt_id("assignee")?,
        assignee_name: row.opt_text("assignee_name")?,
        started_at: row.at("started_at")?,
        started_by: row.text("started_by")?,
        due_at: row.at("due_at")?,
        ended_at: row.opt_at("ended_at")?,
        ended_by: row.opt_text("ended_by")?,
        outcome: row.opt_text("outcome")?,
        note: row.opt_text("note")?,
    }
    .decode()
}

const RESULT_COLUMNS: &str = "SELECT dossier_id, document_number, signer, signed_on, file_key, file_name, file_type, \
     file_size, file_sha256, entered_by, entered_at, seal_signature_key, seal_code, seal_fingerprint, seal_signed_by, \
     seal_at FROM dossier_results";

fn result_row(row: &impl Columns) -> StoreResult<DossierResult> {
    ResultRow {
        dossier_id: row.id("dossier_id")?,
        document_number: row.text("document_number")?,
        signer: row.text("signer")?,
        signed_on: row.text("signed_on")?,
        file_key: row.opt_text("file_key")?,
        file_name: row.opt_text("file_name")?,
        file_type: row.opt_text("file_type")?,
        file_size: row.opt_big("file_size")?,
        file_sha256: row.opt_text("file_sha256")?,
        entered_by: row.text("entered_by")?,
        entered_at: row.at("entered_at")?,
        seal_signature_key: row.opt_text("seal_signature_key")?,
        seal_code: row.opt_text("seal_code")?,
        seal_fingerprint: row.opt_text("seal_fingerprint")?,
        seal_signed_by: row.opt_text("seal_signed_by")?,
        seal_at: row.opt_at("seal_at")?,
    }
    .decode()
}

#[async_trait]
impl WorkflowRepo for SqlStore {
    async fn workflow(
        &self,
        procedure: &ProcedureCode,
        case: &CaseKey,
        version: Option<u32>,
    ) -> StoreResult<Option<(u32, Workflow)>> {
        let version = version.map(int).transpose()?;
        read!(self, |pool, d| {
            let row = sqlx::query(
                "SELECT version, steps FROM workflows WHERE procedure_code = $1 AND case_key = $2 \
                 AND ($3 IS NULL OR version = $3) ORDER BY version DESC LIMIT 1",
            )
            .bind(procedure.as_str())
            .bind(case.as_str())
            .bind(version)
            .fetch_optional(pool)
            .await
            .map_err(map_err)?;
            let Some(row) = row else { return Ok(None) };
            let workflow = Workflow::from_json(&row.text("steps")?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            Ok(Some((decode::version(row.int("version")?)?, workflow)))
        })
    }

    async fn save_workflow(
        &self,
        procedure: &ProcedureCode,
        case: &CaseKey,
        workflow: &Workflow,
        at: OffsetDateTime,
        by: &str,
    ) -> StoreResult<u32> {
        let version: i32 = write!(self, |tx, d| {
            // one saver at a time per case: the version numbers stay gapless
            if let Some(serialise) = d.serialise_on() {
                sqlx::query(serialise)
                    .bind(format!("workflow:{}:{}", procedure.as_str(), case.as_str()))
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
            }
            let version: i32 = sqlx::query_scalar(
                "SELECT CAST(COALESCE(MAX(version), 0) + 1 AS INTEGER) FROM workflows \
                 WHERE procedure_code = $1 AND case_key = $2",
            )
            .bind(procedure.as_str())
            .bind(case.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
            sqlx::query(
                "INSERT INTO workflows (procedure_code, case_key, version, steps, saved_at, saved_by) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(procedure.as_str())
            .bind(case.as_str())
            .bind(version)
            .bind(workflow.to_json())
            .bind(At(at))
            .bind(by)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            version
        })?;
        decode::version(i64::from(version))
    }

    async fn steps(&self, dossier: DossierId) -> StoreResult<Vec<StepRecord>> {
        let sql = format!("{STEP_COLUMNS} WHERE dossier_id = $1 ORDER BY seq");
        read!(self, |pool, d| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(Id(dossier.0))
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
            rows.iter().map(step_row).collect()
        })
    }

    async fn hand_off(
        &self,
        transition: Option<&Transition>,
        change: &StepChange,
    ) -> StoreResult<()> {
        let dossier = change
            .dossier
            .or(transition.map(|t| t.dossier))
            .ok_or_else(|| StoreError::Other("hand-off without a dossier".into()))?;
        let at = transition
            .map(|t| t.at)
            .or(change.end.as_ref().map(|e| e.at))
            .or(change.next.as_ref().map(|n| n.started_at))
            .unwrap_or_else(OffsetDateTime::now_utc);
        write!(self, |tx, d| {
            if let Some(t) = transition {
                transition_in((&mut *tx).into(), t).await?;
            }
            apply_step_change((&mut *tx).into(), dossier, change, at).await?;
        })
    }

    async fn open_steps(
        &self,
        agencies: &[AgencyCode],
        limit: u32,
    ) -> StoreResult<Vec<StepRecord>> {
        if agencies.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "{STEP_COLUMNS} WHERE ended_at IS NULL AND agency_code IN ({}) ORDER BY due_at LIMIT {limit}",
            marks(1, agencies.len())
        );
        read!(self, |pool, d| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for a in agencies {
                q = q.bind(a.as_str());
            }
            let rows = q.fetch_all(pool).await.map_err(map_err)?;
            rows.iter().map(step_row).collect()
        })
    }

    async fn open_steps_of(&self, officer: AccountId, limit: u32) -> StoreResult<Vec<StepRecord>> {
        let sql = format!(
            "{STEP_COLUMNS} WHERE ended_at IS NULL AND assignee = $1 ORDER BY due_at LIMIT {limit}"
        );
        read!(self, |pool, d| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(Id(officer.0))
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
            rows.iter().map(step_row).collect()
        })
    }

    async fn save_result(&self, r: &DossierResult) -> StoreResult<()> {
        let seal = r.file.as_ref().and_then(|f| f.seal.as_ref());
        write!(self, |tx, d| {
            sqlx::query(
                "INSERT INTO dossier_results (dossier_id, document_number, signer, signed_on, file_key, file_name, \
                 file_type, file_size, file_sha256, entered_by, entered_at, seal_signature_key, seal_code, \
                 seal_fingerprint, seal_signed_by, seal_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                 ON CONFLICT (dossier_id) DO UPDATE SET document_number = excluded.document_number, \
                 signer = excluded.signer, signed_on = excluded.signed_on, \
                 file_key = COALESCE(excluded.file_key, dossier_results.file_key), \
                 file_name = COALESCE(excluded.file_name, dossier_results.file_name), \
                 file_type = COALESCE(excluded.file_type, dossier_results.file_type), \
                 file_size = COALESCE(excluded.file_size, dossier_results.file_size), \
                 file_sha256 = COALESCE(excluded.file_sha256, dossier_results.file_sha256), \
                 entered_by = excluded.entered_by, entered_at = excluded.entered_at, \
                 seal_signature_key = CASE WHEN excluded.file_key IS NULL THEN dossier_results.seal_signature_key \
                 ELSE excluded.seal_signature_key END, \
                 seal_code = CASE WHEN excluded.file_key IS NULL THEN dossier_results.seal_code \
                 ELSE excluded.seal_code END, \
                 seal_fingerprint = CASE WHEN excluded.file_key IS NULL THEN dossier_results.seal_fingerprint \
                 ELSE excluded.seal_fingerprint END, \
                 seal_signed_by = CASE WHEN excluded.file_key IS NULL THEN dossier_results.seal_signed_by \
                 ELSE excluded.seal_signed_by END, \
                 seal_at = CASE WHEN excluded.file_key IS NULL THEN dossier_results.seal_at \
                 ELSE excluded.seal_at END",
            )
            .bind(Id(r.dossier.0))
            .bind(&r.document_number)
            .bind(&r.signer)
            .bind(decode::iso_date(r.signed_on))
            .bind(r.file.as_ref().map(|f| f.object_key.clone()))
            .bind(r.file.as_ref().map(|f| f.file_name.clone()))
            .bind(r.file.as_ref().map(|f| f.file_type.clone()))
            .bind(r.file.as_ref().map(|f| f.size as i64))
            .bind(r.file.as_ref().map(|f| f.sha256.clone()))
            .bind(&r.entered_by)
            .bind(At(r.entered_at))
            .bind(seal.map(|s| s.signature_key.clone()))
            .bind(seal.map(|s| s.code.clone()))
            .bind(seal.map(|s| s.fingerprint.clone()))
            .bind(seal.map(|s| s.signed_by.clone()))
            .bind(seal.map(|s| At(s.at)))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        })
    }

    async fn result(&self, dossier: DossierId) -> StoreResult<Option<DossierResult>> {
        read!(self, |pool, d| {
            let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                "{RESULT_COLUMNS} WHERE dossier_id = $1"
            )))
            .bind(Id(dossier.0))
            .fetch_optional(pool)
            .await
            .map_err(map_err)?;
            row.map(|r| result_row(&r)).transpose()
        })
    }

    async fn result_by_seal(&self, code: &str) -> StoreResult<Option<DossierResult>> {
        read!(self, |pool, d| {
            let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                "{RESULT_COLUMNS} WHERE seal_code = $1"
            )))
            .bind(code)
            .fetch_optional(pool)
            .await
            .map_err(map_err)?;
            row.map(|r| result_row(&r)).transpose()
        })
    }

    async fn received_between(
        &self,
        agencies: &[AgencyCode],
        from: OffsetDateTime,
        to: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<RegisterEntry>> {
        if agencies.is_empty() {
            return Ok(vec![]);
        }
        // the reception event of each dossier (from submitted: not a withdrawal request turned down)
        let sql = format!(
            "SELECT d.*, r.received_at, p.applicant_phone, \
             (SELECT MIN(e.at) FROM dossier_events e WHERE e.dossier_id = d.id \
              AND e.to_status = 'result_delivered') AS delivered_at \
             FROM ({DOSSIER_COLUMNS}) d JOIN dossiers p ON p.id = d.id JOIN \
             (SELECT dossier_id, MIN(at) AS received_at FROM dossier_events WHERE to_status = 'received' \
              AND from_status = 'submitted' AND at >= $1 AND at < $2 GROUP BY dossier_id) r ON r.dossier_id = d.id \
             WHERE d.agency_code IN ({}) \
             ORDER BY r.received_at LIMIT {limit}",
            marks(3, agencies.len())
        );
        read!(self, |pool, d| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(At(from))
                .bind(At(to));
            for a in agencies {
                q = q.bind(a.as_str());
            }
            let rows = q.fetch_all(pool).await.map_err(map_err)?;
            rows.iter()
                .map(|row| {
                    Ok(RegisterEntry {
                        dossier: dossier_row(row)?,
                        received_at: row.at("received_at")?,
                        applicant_phone: row.opt_text("applicant_phone")?,
                        delivered_at: row.opt_at("delivered_at")?,
                    })
                })
                .collect()
        })
    }
}

/// A hand-off inside the caller's transaction: the open holding named by `change.end` ends (a `Conflict` when it
/// has ended already: someone acted first), the next opens, a due time moves, the e-mails are queued (dated `at`).
pub(crate) async fn apply_step_change(
    conn: Conn<'_>,
    dossier: DossierId,
    change: &StepChange,
    at: OffsetDateTime,
) -> StoreResult<()> {
    let id = Id(dossier.0);
    on_conn!(conn, |c, d| {
        if let Some(end) = &change.end {
            let done = sqlx::query(
                "UPDATE dossier_steps SET ended_at = $1, ended_by = $2, outcome = $3, note = $4 \
                 WHERE dossier_id = $5 AND seq = $6 AND ended_at IS NULL",
            )
            .bind(At(end.at))
            .bind(&end.by)
            .bind(end.outcome.as_str())
            .bind(&end.note)
            .bind(id)
            .bind(int(end.seq)?)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict(
                    "bước xử lý này đã được người khác chuyển".into(),
                ));
            }
        }
        if let Some((seq, due)) = change.extend {
            sqlx::query(
                "UPDATE dossier_steps SET due_at = $1 WHERE dossier_id = $2 AND seq = $3 AND ended_at IS NULL",
            )
            .bind(At(due))
            .bind(id)
            .bind(int(seq)?)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        }
        if let Some(next) = &change.next {
            let seq: i32 = sqlx::query_scalar(
                "SELECT CAST(COALESCE(MAX(seq), 0) + 1 AS INTEGER) FROM dossier_steps WHERE dossier_id = $1",
            )
            .bind(id)
            .fetch_one(&mut *c)
            .await
            .map_err(map_err)?;
            sqlx::query(
                "INSERT INTO dossier_steps (dossier_id, seq, step_index, workflow_version, name, agency_code, role, \
                 quota_hours, assignee, assignee_name, started_at, started_by, due_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(id)
            .bind(seq)
            .bind(int(next.index)?)
            .bind(int(next.workflow_version)?)
            .bind(&next.name)
            .bind(next.agency.as_str())
            .bind(next.role.as_str())
            .bind(int(next.quota_hours)?)
            .bind(next.assignee.as_ref().map(|(a, _)| Id(a.0)))
            .bind(next.assignee.as_ref().map(|(_, n)| n.clone()))
            .bind(At(next.started_at))
            .bind(&next.started_by)
            .bind(At(next.due_at))
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        }
        if let Some(ground) = &change.waive {
            sqlx::query(
                "UPDATE charges SET waived_at = $1, waived_reason = $2 \
                 WHERE dossier_id = $3 AND paid_at IS NULL AND waived_at IS NULL",
            )
            .bind(At(at))
            .bind(ground)
            .bind(id)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        }
        if let Some(charge) = &change.charge {
            crate::payments::insert_charge((&mut *c).into(), charge).await?;
        }
        if !change.emails.is_empty() {
            let code = dossier_in((&mut *c).into(), dossier)
                .await?
                .ok_or(StoreError::NotFound)?
                .code;
            crate::submission::queue_emails((&mut *c).into(), &change.emails, &code, at).await?;
        }
        Ok(())
    })
}
