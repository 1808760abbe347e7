//! Workflows, step hand-offs and results on SQLite.

use async_trait::async_trait;
use sqlx::{Row, sqlite::SqliteRow};
use time::OffsetDateTime;
use uuid::Uuid;

use motcua_domain::{
    AccountId, AgencyCode, CaseKey, Dossier, DossierId, ProcedureCode, Transition,
    workflow::{DossierResult, StepChange, StepRecord, Workflow},
};
use motcua_store::{
    StoreError, StoreResult, WorkflowRepo,
    decode::{self, ResultRow, StepRow},
};

use super::{DOSSIER_COLUMNS, SqliteStore, dossier_row, from_micros, map_err, micros};

const STEP_COLUMNS: &str = "SELECT dossier_id, seq, step_index, workflow_version, name, agency_code, role, quota_hours, assignee, \
     assignee_name, started_at, started_by, due_at, ended_at, ended_by, outcome, note FROM dossier_steps";

fn step_row(row: &SqliteRow) -> StoreResult<StepRecord> {
    let uuid = |c: &str| -> StoreResult<Option<Uuid>> {
        row.try_get::<Option<String>, _>(c)
            .map_err(map_err)?
            .map(|s| decode::uuid_text(&s))
            .transpose()
    };
    StepRow {
        dossier_id: uuid("dossier_id")?.ok_or(StoreError::NotFound)?,
        seq: row.try_get("seq").map_err(map_err)?,
        step_index: row.try_get("step_index").map_err(map_err)?,
        workflow_version: row.try_get("workflow_version").map_err(map_err)?,
        name: row.try_get("name").map_err(map_err)?,
        agency_code: row.try_get("agency_code").map_err(map_err)?,
        role: row.try_get("role").map_err(map_err)?,
        quota_hours: row.try_get("quota_hours").map_err(map_err)?,
        assignee: uuid("assignee")?,
        assignee_name: row.try_get("assignee_name").map_err(map_err)?,
        started_at: from_micros(row.try_get("started_at").map_err(map_err)?)?,
        started_by: row.try_get("started_by").map_err(map_err)?,
        due_at: from_micros(row.try_get("due_at").map_err(map_err)?)?,
        ended_at: row
            .try_get::<Option<i64>, _>("ended_at")
            .map_err(map_err)?
            .map(from_micros)
            .transpose()?,
        ended_by: row.try_get("ended_by").map_err(map_err)?,
        outcome: row.try_get("outcome").map_err(map_err)?,
        note: row.try_get("note").map_err(map_err)?,
    }
    .decode()
}

#[async_trait]
impl WorkflowRepo for SqliteStore {
    async fn workflow(
        &self,
        procedure: &ProcedureCode,
        case: &CaseKey,
        version: Option<u32>,
    ) -> StoreResult<Option<(u32, Workflow)>> {
        let row = sqlx::query(
            "SELECT version, steps FROM workflows WHERE procedure_code = $1 AND case_key = $2 \
             AND ($3 IS NULL OR version = $3) ORDER BY version DESC LIMIT 1",
        )
        .bind(procedure.as_str())
        .bind(case.as_str())
        .bind(version.map(i64::from))
        .fetch_optional(&self.read)
        .await
        .map_err(map_err)?;
        let Some(row) = row else { return Ok(None) };
        let version = decode::version(row.try_get("version").map_err(map_err)?)?;
        let steps: String = row.try_get("steps").map_err(map_err)?;
        let workflow =
            Workflow::from_json(&steps).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Some((version, workflow)))
    }

    async fn save_workflow(
        &self,
        procedure: &ProcedureCode,
        case: &CaseKey,
        workflow: &Workflow,
        at: OffsetDateTime,
        by: &str,
    ) -> StoreResult<u32> {
        let mut tx = self.begin().await?;
        let version: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM workflows WHERE procedure_code = $1 AND case_key = $2",
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
        .bind(micros(at))
        .bind(by)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        decode::version(version)
    }

    async fn steps(&self, dossier: DossierId) -> StoreResult<Vec<StepRecord>> {
        let sql = sqlx::AssertSqlSafe(format!("{STEP_COLUMNS} WHERE dossier_id = $1 ORDER BY seq"));
        let rows = sqlx::query(sql)
            .bind(dossier.0.to_string())
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        rows.iter().map(step_row).collect()
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
        let mut tx = self.begin().await?;
        if let Some(t) = transition {
            self.transition_in(&mut tx, t).await?;
        }
        let id = dossier.0.to_string();
        if let Some(end) = &change.end {
            let done = sqlx::query(
                "UPDATE dossier_steps SET ended_at = $1, ended_by = $2, outcome = $3, note = $4 \
                 WHERE dossier_id = $5 AND seq = $6 AND ended_at IS NULL",
            )
            .bind(micros(end.at))
            .bind(&end.by)
            .bind(end.outcome.as_str())
            .bind(&end.note)
            .bind(&id)
            .bind(i64::from(end.seq))
            .execute(&mut *tx)
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
            .bind(micros(due))
            .bind(&id)
            .bind(i64::from(seq))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        if let Some(next) = &change.next {
            let seq: i64 = sqlx::query_scalar(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM dossier_steps WHERE dossier_id = $1",
            )
            .bind(&id)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
            sqlx::query(
                "INSERT INTO dossier_steps (dossier_id, seq, step_index, workflow_version, name, agency_code, role, \
                 quota_hours, assignee, assignee_name, started_at, started_by, due_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(&id)
            .bind(seq)
            .bind(i64::from(next.index))
            .bind(i64::from(next.workflow_version))
            .bind(&next.name)
            .bind(next.agency.as_str())
            .bind(next.role.as_str())
            .bind(i64::from(next.quota_hours))
            .bind(next.assignee.as_ref().map(|(a, _)| a.0.to_string()))
            .bind(next.assignee.as_ref().map(|(_, n)| n.clone()))
            .bind(micros(next.started_at))
            .bind(&next.started_by)
            .bind(micros(next.due_at))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        if !change.emails.is_empty() {
            let code = self
                .dossier_in(&mut tx, dossier)
                .await?
                .ok_or(StoreError::NotFound)?
                .code;
            let at = transition
                .map(|t| t.at)
                .or(change.end.as_ref().map(|e| e.at))
                .or(change.next.as_ref().map(|n| n.started_at))
                .unwrap_or_else(OffsetDateTime::now_utc);
            for email in &change.emails {
                sqlx::query(
                    "INSERT INTO outbox (id, kind, payload, run_at, created_at) VALUES ($1, 'email', $2, $3, $3)",
                )
                .bind(Uuid::now_v7().to_string())
                .bind(decode::email_payload(email, &code))
                .bind(micros(at))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            }
        }
        tx.commit().await.map_err(map_err)?;
        Ok(())
    }

    async fn open_steps(
        &self,
        agencies: &[AgencyCode],
        limit: u32,
    ) -> StoreResult<Vec<StepRecord>> {
        if agencies.is_empty() {
            return Ok(vec![]);
        }
        let marks: Vec<String> = (1..=agencies.len()).map(|i| format!("${i}")).collect();
        let sql = sqlx::AssertSqlSafe(format!(
            "{STEP_COLUMNS} WHERE ended_at IS NULL AND agency_code IN ({}) ORDER BY due_at LIMIT {limit}",
            marks.join(", ")
        ));
        let mut q = sqlx::query(sql);
        for a in agencies {
            q = q.bind(a.as_str().to_string());
        }
        let rows = q.fetch_all(&self.read).await.map_err(map_err)?;
        rows.iter().map(step_row).collect()
    }

    async fn open_steps_of(&self, officer: AccountId, limit: u32) -> StoreResult<Vec<StepRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "{STEP_COLUMNS} WHERE ended_at IS NULL AND assignee = $1 ORDER BY due_at LIMIT {limit}"
        ));
        let rows = sqlx::query(sql)
            .bind(officer.0.to_string())
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        rows.iter().map(step_row).collect()
    }

    async fn save_result(&self, r: &DossierResult) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO dossier_results (dossier_id, document_number, signer, signed_on, file_key, file_name, \
             file_type, file_size, file_sha256, entered_by, entered_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (dossier_id) DO UPDATE SET document_number = excluded.document_number, \
             signer = excluded.signer, signed_on = excluded.signed_on, \
             file_key = COALESCE(excluded.file_key, dossier_results.file_key), \
             file_name = COALESCE(excluded.file_name, dossier_results.file_name), \
             file_type = COALESCE(excluded.file_type, dossier_results.file_type), \
             file_size = COALESCE(excluded.file_size, dossier_results.file_size), \
             file_sha256 = COALESCE(excluded.file_sha256, dossier_results.file_sha256), \
             entered_by = excluded.entered_by, entered_at = excluded.entered_at",
        )
        .bind(r.dossier.0.to_string())
        .bind(&r.document_number)
        .bind(&r.signer)
        .bind(decode::iso_date(r.signed_on))
        .bind(r.file.as_ref().map(|f| f.object_key.clone()))
        .bind(r.file.as_ref().map(|f| f.file_name.clone()))
        .bind(r.file.as_ref().map(|f| f.file_type.clone()))
        .bind(r.file.as_ref().map(|f| f.size as i64))
        .bind(r.file.as_ref().map(|f| f.sha256.clone()))
        .bind(&r.entered_by)
        .bind(micros(r.entered_at))
        .execute(&self.write)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn result(&self, dossier: DossierId) -> StoreResult<Option<DossierResult>> {
        let row = sqlx::query(
            "SELECT dossier_id, document_number, signer, signed_on, file_key, file_name, file_type, file_size, \
             file_sha256, entered_by, entered_at FROM dossier_results WHERE dossier_id = $1",
        )
        .bind(dossier.0.to_string())
        .fetch_optional(&self.read)
        .await
        .map_err(map_err)?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(
            ResultRow {
                dossier_id: decode::uuid_text(
                    &row.try_get::<String, _>("dossier_id").map_err(map_err)?,
                )?,
                document_number: row.try_get("document_number").map_err(map_err)?,
                signer: row.try_get("signer").map_err(map_err)?,
                signed_on: row.try_get("signed_on").map_err(map_err)?,
                file_key: row.try_get("file_key").map_err(map_err)?,
                file_name: row.try_get("file_name").map_err(map_err)?,
                file_type: row.try_get("file_type").map_err(map_err)?,
                file_size: row.try_get("file_size").map_err(map_err)?,
                file_sha256: row.try_get("file_sha256").map_err(map_err)?,
                entered_by: row.try_get("entered_by").map_err(map_err)?,
                entered_at: from_micros(row.try_get("entered_at").map_err(map_err)?)?,
            }
            .decode()?,
        ))
    }

    async fn received_between(
        &self,
        agencies: &[AgencyCode],
        from: OffsetDateTime,
        to: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<(Dossier, OffsetDateTime)>> {
        if agencies.is_empty() {
            return Ok(vec![]);
        }
        let marks: Vec<String> = (3..agencies.len() + 3).map(|i| format!("${i}")).collect();
        // the reception event of each dossier (from submitted: not a withdrawal request turned down)
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT d.*, r.received_at FROM ({DOSSIER_COLUMNS}) d JOIN \
             (SELECT dossier_id, MIN(at) AS received_at FROM dossier_events WHERE to_status = 'received' \
              AND from_status = 'submitted' AND at >= $1 AND at < $2 GROUP BY dossier_id) r ON r.dossier_id = d.id \
             WHERE d.agency_code IN ({}) \
             ORDER BY r.received_at LIMIT {limit}",
            marks.join(", ")
        ));
        let mut q = sqlx::query(sql).bind(micros(from)).bind(micros(to));
        for a in agencies {
            q = q.bind(a.as_str().to_string());
        }
        let rows = q.fetch_all(&self.read).await.map_err(map_err)?;
        rows.iter()
            .map(|row| {
                Ok((
                    dossier_row(row)?,
                    from_micros(row.try_get("received_at").map_err(map_err)?)?,
                ))
            })
            .collect()
    }
}
