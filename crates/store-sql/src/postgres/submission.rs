//! Online submission and the outbox on PostgreSQL.

use async_trait::async_trait;
use sqlx::{Row, postgres::PgRow};
use time::OffsetDateTime;
use uuid::Uuid;

use motcua_domain::{
    AccountId, Channel, Dossier, DossierId, DossierStatus, HistoryEvent, Transition,
    submission::{Draft, DraftId, Job, OnlineDetails, Submission, Upload, UploadId},
    vntime,
};
use motcua_store::{
    OutboxRepo, StoreError, StoreResult, SubmissionRepo,
    decode::{self, DraftRow, UploadRow},
};

use super::{DOSSIER_COLUMNS, PgStore, append_event, dossier_row, map_err, reserve_in};

const DRAFT_COLUMNS: &str = "SELECT id, account_id, procedure_code, procedure_version, case_key, agency_code, \
     answers::text AS answers, created_at, updated_at, dossier_id FROM drafts";
const UPLOAD_COLUMNS: &str = "SELECT id, account_id, draft_id, component, file_name, object_key, file_type, \
     size, sha256, created_at, dossier_id FROM uploads";

fn opt_uuid(row: &PgRow, column: &str) -> StoreResult<Option<Uuid>> {
    row.try_get(column).map_err(map_err)
}

fn uuid(row: &PgRow, column: &str) -> StoreResult<Uuid> {
    row.try_get(column).map_err(map_err)
}

fn draft_row(row: &PgRow) -> StoreResult<Draft> {
    DraftRow {
        id: uuid(row, "id")?,
        account_id: uuid(row, "account_id")?,
        procedure_code: row.try_get("procedure_code").map_err(map_err)?,
        procedure_version: i64::from(
            row.try_get::<i32, _>("procedure_version")
                .map_err(map_err)?,
        ),
        case_key: row.try_get("case_key").map_err(map_err)?,
        agency_code: row.try_get("agency_code").map_err(map_err)?,
        answers: row.try_get("answers").map_err(map_err)?,
        created_at: row.try_get("created_at").map_err(map_err)?,
        updated_at: row.try_get("updated_at").map_err(map_err)?,
        dossier_id: opt_uuid(row, "dossier_id")?,
    }
    .decode()
}

fn upload_row(row: &PgRow) -> StoreResult<Upload> {
    UploadRow {
        id: uuid(row, "id")?,
        account_id: uuid(row, "account_id")?,
        draft_id: uuid(row, "draft_id")?,
        component: i64::from(row.try_get::<i32, _>("component").map_err(map_err)?),
        file_name: row.try_get("file_name").map_err(map_err)?,
        object_key: row.try_get("object_key").map_err(map_err)?,
        file_type: row.try_get("file_type").map_err(map_err)?,
        size: row.try_get("size").map_err(map_err)?,
        sha256: row.try_get("sha256").map_err(map_err)?,
        created_at: row.try_get("created_at").map_err(map_err)?,
        dossier_id: opt_uuid(row, "dossier_id")?,
    }
    .decode()
}

async fn draft_in(conn: &mut sqlx::PgConnection, id: DraftId) -> StoreResult<Option<Draft>> {
    let sql = sqlx::AssertSqlSafe(format!("{DRAFT_COLUMNS} WHERE id = $1"));
    let row = sqlx::query(sql)
        .bind(id.0)
        .fetch_optional(conn)
        .await
        .map_err(map_err)?;
    row.as_ref().map(draft_row).transpose()
}

/// Lock the draft row until the transaction ends, so concurrent submissions (double click, retry) of one draft
/// queue and the second sees the dossier the first created.
async fn lock_draft(conn: &mut sqlx::PgConnection, id: DraftId) -> StoreResult<()> {
    sqlx::query("SELECT 1 FROM drafts WHERE id = $1 FOR UPDATE")
        .bind(id.0)
        .fetch_optional(conn)
        .await
        .map_err(map_err)?;
    Ok(())
}

fn already_submitted() -> StoreError {
    StoreError::Conflict("hồ sơ này đã được nộp".into())
}

#[async_trait]
impl SubmissionRepo for PgStore {
    async fn save_draft(&self, d: &Draft) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "INSERT INTO drafts (id, account_id, procedure_code, procedure_version, case_key, agency_code, \
             answers, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9) \
             ON CONFLICT (id) DO UPDATE SET answers = excluded.answers, updated_at = excluded.updated_at \
             WHERE drafts.dossier_id IS NULL AND drafts.account_id = excluded.account_id",
        )
        .bind(d.id.0)
        .bind(d.account.0)
        .bind(d.procedure.as_str())
        .bind(super::pg_int(d.procedure_version)?)
        .bind(d.case.as_str())
        .bind(d.agency.as_str())
        .bind(decode::answers_json(&d.answers))
        .bind(d.created_at)
        .bind(d.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(already_submitted());
        }
        tx.commit().await.map_err(map_err)
    }

    async fn get_draft(&self, id: DraftId) -> StoreResult<Option<Draft>> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        draft_in(&mut conn, id).await
    }

    async fn drafts_for(&self, account: AccountId) -> StoreResult<Vec<Draft>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "{DRAFT_COLUMNS} WHERE account_id = $1 AND dossier_id IS NULL ORDER BY updated_at DESC"
        ));
        let rows = sqlx::query(sql)
            .bind(account.0)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(draft_row).collect()
    }

    async fn delete_draft(&self, id: DraftId, account: AccountId) -> StoreResult<Vec<Upload>> {
        let mut tx = self.begin().await?;
        lock_draft(&mut tx, id).await?;
        let Some(draft) = draft_in(&mut tx, id).await? else {
            return Err(StoreError::NotFound);
        };
        if draft.account != account {
            return Err(StoreError::NotFound);
        }
        if draft.dossier.is_some() {
            return Err(already_submitted());
        }
        let sql = sqlx::AssertSqlSafe(format!("{UPLOAD_COLUMNS} WHERE draft_id = $1"));
        let uploads = sqlx::query(sql)
            .bind(id.0)
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?
            .iter()
            .map(upload_row)
            .collect::<StoreResult<Vec<_>>>()?;
        sqlx::query("DELETE FROM uploads WHERE draft_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sqlx::query("DELETE FROM drafts WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(uploads)
    }

    async fn add_upload(&self, u: &Upload, max_total_bytes: u64) -> StoreResult<()> {
        self.insert_upload(u, max_total_bytes, false).await
    }

    async fn add_supplement_upload(&self, u: &Upload, max_total_bytes: u64) -> StoreResult<()> {
        self.insert_upload(u, max_total_bytes, true).await
    }

    async fn send_supplement(&self, draft: DraftId, t: &Transition) -> StoreResult<HistoryEvent> {
        let mut tx = self.begin().await?;
        let event = self.transition_in(&mut tx, t).await?;
        sqlx::query(
            "UPDATE uploads SET dossier_id = $1 WHERE draft_id = $2 AND dossier_id IS NULL",
        )
        .bind(t.dossier.0)
        .bind(draft.0)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(event)
    }

    async fn draft_of(&self, dossier: DossierId) -> StoreResult<Option<DraftId>> {
        let id: Option<Uuid> = sqlx::query_scalar("SELECT id FROM drafts WHERE dossier_id = $1")
            .bind(dossier.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(id.map(DraftId))
    }

    async fn get_upload(&self, id: UploadId) -> StoreResult<Option<Upload>> {
        let sql = sqlx::AssertSqlSafe(format!("{UPLOAD_COLUMNS} WHERE id = $1"));
        let row = sqlx::query(sql)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(upload_row).transpose()
    }

    async fn uploads_for_draft(&self, draft: DraftId) -> StoreResult<Vec<Upload>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "{UPLOAD_COLUMNS} WHERE draft_id = $1 ORDER BY created_at, id"
        ));
        let rows = sqlx::query(sql)
            .bind(draft.0)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(upload_row).collect()
    }

    async fn uploads_for_dossier(&self, dossier: DossierId) -> StoreResult<Vec<Upload>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "{UPLOAD_COLUMNS} WHERE dossier_id = $1 ORDER BY created_at, id"
        ));
        let rows = sqlx::query(sql)
            .bind(dossier.0)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(upload_row).collect()
    }

    async fn remove_upload(&self, id: UploadId, draft: DraftId) -> StoreResult<Option<Upload>> {
        let mut tx = self.begin().await?;
        let sql = sqlx::AssertSqlSafe(format!(
            "{UPLOAD_COLUMNS} WHERE id = $1 AND draft_id = $2 AND dossier_id IS NULL"
        ));
        let found = sqlx::query(sql)
            .bind(id.0)
            .bind(draft.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?
            .as_ref()
            .map(upload_row)
            .transpose()?;
        if found.is_some() {
            sqlx::query("DELETE FROM uploads WHERE id = $1")
                .bind(id.0)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(found)
    }

    async fn stale_uploads(&self, before: OffsetDateTime, limit: u32) -> StoreResult<Vec<Upload>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "{UPLOAD_COLUMNS} WHERE dossier_id IS NULL AND created_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM drafts d WHERE d.id = uploads.draft_id AND d.updated_at >= $1) \
             ORDER BY created_at LIMIT $2"
        ));
        let rows = sqlx::query(sql)
            .bind(before)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(upload_row).collect()
    }

    async fn forget_upload(&self, id: UploadId) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM uploads WHERE id = $1 AND dossier_id IS NULL")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn submit(&self, s: &Submission) -> StoreResult<Dossier> {
        let mut tx = self.begin().await?;
        lock_draft(&mut tx, s.draft).await?;
        let draft = draft_in(&mut tx, s.draft)
            .await?
            .filter(|d| d.account == s.account)
            .ok_or(StoreError::NotFound)?;
        if let Some(existing) = draft.dossier {
            // a retry: the first submission stands
            return self
                .dossier_in(&mut tx, existing)
                .await?
                .ok_or(StoreError::NotFound);
        }
        let code = reserve_in(&mut tx, &draft.agency, vntime::vn_date(s.at)).await?;
        let at = s.at;
        sqlx::query(
            "INSERT INTO dossiers (id, code, agency_code, procedure_code, procedure_version, case_key, channel, \
             status, applicant_name, created_at, updated_at, due_at, account_id, applicant_phone, \
             applicant_personal_id, on_behalf, form_data, search_text) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, NULL, $11, $12, $13, $14, $15::jsonb, $16)",
        )
        .bind(s.new_dossier.0)
        .bind(code.to_string())
        .bind(draft.agency.as_str())
        .bind(draft.procedure.as_str())
        .bind(super::pg_int(draft.procedure_version)?)
        .bind(draft.case.as_str())
        .bind(Channel::Online.as_str())
        .bind(DossierStatus::Submitted.as_str())
        .bind(s.applicant_name.as_str())
        .bind(at)
        .bind(s.account.0)
        .bind(&s.applicant_phone)
        .bind(&s.applicant_personal_id)
        .bind(s.on_behalf)
        .bind(decode::answers_json(&s.answers))
        .bind(motcua_store::search_text(&code.to_string(), s.applicant_name.as_str()))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let event = HistoryEvent::seal(
            Uuid::now_v7(),
            s.new_dossier,
            None,
            s.at,
            s.account.to_string(),
            Some(DossierStatus::Draft),
            DossierStatus::Submitted,
            None,
            None,
        );
        append_event(&mut tx, &event).await?;
        sqlx::query(
            "UPDATE drafts SET dossier_id = $1, answers = $2::jsonb, updated_at = $3 WHERE id = $4",
        )
        .bind(s.new_dossier.0)
        .bind(decode::answers_json(&s.answers))
        .bind(at)
        .bind(s.draft.0)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        sqlx::query("UPDATE uploads SET dossier_id = $1 WHERE draft_id = $2")
            .bind(s.new_dossier.0)
            .bind(s.draft.0)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        for email in &s.emails {
            sqlx::query(
                "INSERT INTO outbox (id, kind, payload, run_at, created_at) VALUES ($1, 'email', $2::jsonb, $3, $3)",
            )
            .bind(Uuid::now_v7())
            .bind(decode::email_payload(email, &code))
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        let dossier = self
            .dossier_in(&mut tx, s.new_dossier)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await.map_err(map_err)?;
        Ok(dossier)
    }

    async fn online_details(&self, dossier: DossierId) -> StoreResult<Option<OnlineDetails>> {
        let row = sqlx::query(
            "SELECT account_id, applicant_phone, applicant_personal_id, on_behalf, form_data::text AS form_data \
             FROM dossiers WHERE id = $1",
        )
        .bind(dossier.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        let Some(row) = row else { return Ok(None) };
        let form: Option<String> = row.try_get("form_data").map_err(map_err)?;
        Ok(Some(OnlineDetails {
            account: opt_uuid(&row, "account_id")?.map(AccountId),
            applicant_phone: row.try_get("applicant_phone").map_err(map_err)?,
            applicant_personal_id: row.try_get("applicant_personal_id").map_err(map_err)?,
            on_behalf: row.try_get("on_behalf").map_err(map_err)?,
            answers: form
                .as_deref()
                .map(decode::answers)
                .transpose()?
                .unwrap_or_default(),
        }))
    }

    async fn transition_with_mail(
        &self,
        t: &Transition,
        emails: &[motcua_domain::submission::OutgoingEmail],
    ) -> StoreResult<HistoryEvent> {
        let mut tx = self.begin().await?;
        let event = self.transition_in(&mut tx, t).await?;
        let dossier = self
            .dossier_in(&mut tx, t.dossier)
            .await?
            .ok_or(StoreError::NotFound)?;
        for email in emails {
            sqlx::query(
                "INSERT INTO outbox (id, kind, payload, run_at, created_at) VALUES ($1, 'email', $2::jsonb, $3, $3)",
            )
            .bind(Uuid::now_v7())
            .bind(decode::email_payload(email, &dossier.code))
            .bind(t.at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(event)
    }

    async fn queue(&self, query: &motcua_store::DossierQuery) -> StoreResult<Vec<Dossier>> {
        if query.is_empty() {
            return Ok(vec![]);
        }
        let (filter, params) = query.where_clause(1);
        let sql = sqlx::AssertSqlSafe(format!(
            "{DOSSIER_COLUMNS} WHERE {filter} ORDER BY COALESCE(due_at, created_at), created_at, id LIMIT {} OFFSET {}",
            query.limit, query.offset
        ));
        let mut q = sqlx::query(sql);
        for p in params {
            q = match p {
                motcua_store::QueryParam::Text(t) => q.bind(t),
                motcua_store::QueryParam::Id(d) => q.bind(d),
                motcua_store::QueryParam::Time(t) => q.bind(t),
            };
        }
        let rows = q.fetch_all(&self.pool).await.map_err(map_err)?;
        rows.iter().map(dossier_row).collect()
    }

    async fn intake(&self, i: &motcua_domain::submission::Intake) -> StoreResult<Dossier> {
        let mut tx = self.begin().await?;
        let code = reserve_in(&mut tx, &i.agency, vntime::vn_date(i.at)).await?;
        sqlx::query(
            "INSERT INTO dossiers (id, code, agency_code, procedure_code, procedure_version, case_key, channel, \
             status, applicant_name, created_at, updated_at, due_at, account_id, applicant_phone, \
             applicant_personal_id, on_behalf, form_data, search_text) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12, $13, $14, FALSE, $15::jsonb, $16)",
        )
        .bind(i.dossier.0)
        .bind(code.to_string())
        .bind(i.agency.as_str())
        .bind(i.procedure.as_str())
        .bind(super::pg_int(i.procedure_version)?)
        .bind(i.case.as_str())
        .bind(i.channel.as_str())
        .bind(DossierStatus::Received.as_str())
        .bind(i.applicant_name.as_str())
        .bind(i.at)
        .bind(i.due_at)
        .bind(i.account.map(|a| a.0))
        .bind(i.applicant_phone.as_deref())
        .bind(i.applicant_personal_id.as_deref())
        .bind(decode::answers_json(&i.answers))
        .bind(motcua_store::search_text(&code.to_string(), i.applicant_name.as_str()))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let submitted = HistoryEvent::seal(
            Uuid::now_v7(),
            i.dossier,
            None,
            i.at,
            i.officer.clone(),
            None,
            DossierStatus::Submitted,
            None,
            None,
        );
        append_event(&mut tx, &submitted).await?;
        let received = HistoryEvent::seal(
            Uuid::now_v7(),
            i.dossier,
            Some((submitted.seq, submitted.hash)),
            i.at,
            i.officer.clone(),
            Some(DossierStatus::Submitted),
            DossierStatus::Received,
            Some(format!("Tiếp nhận {}", i.channel.label_vi().to_lowercase())),
            i.due_at,
        );
        append_event(&mut tx, &received).await?;
        for email in &i.emails {
            sqlx::query(
                "INSERT INTO outbox (id, kind, payload, run_at, created_at) VALUES ($1, 'email', $2::jsonb, $3, $3)",
            )
            .bind(Uuid::now_v7())
            .bind(decode::email_payload(email, &code))
            .bind(i.at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        let dossier = self
            .dossier_in(&mut tx, i.dossier)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await.map_err(map_err)?;
        Ok(dossier)
    }

    async fn due_before(
        &self,
        before: OffsetDateTime,
        statuses: &[DossierStatus],
        limit: u32,
    ) -> StoreResult<Vec<Dossier>> {
        if statuses.is_empty() {
            return Ok(vec![]);
        }
        let st: Vec<String> = (0..statuses.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = sqlx::AssertSqlSafe(format!(
            "{DOSSIER_COLUMNS} WHERE due_at IS NOT NULL AND due_at < $1 AND status IN ({}) \
             ORDER BY due_at LIMIT {}",
            st.join(", "),
            limit
        ));
        let mut q = sqlx::query(sql).bind(before);
        for status in statuses {
            q = q.bind(status.as_str());
        }
        let rows = q.fetch_all(&self.pool).await.map_err(map_err)?;
        rows.iter().map(dossier_row).collect()
    }

    async fn dossiers_for(&self, account: AccountId) -> StoreResult<Vec<Dossier>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "{DOSSIER_COLUMNS} WHERE account_id = $1 ORDER BY created_at DESC LIMIT 500"
        ));
        let rows = sqlx::query(sql)
            .bind(account.0)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(dossier_row).collect()
    }
}

#[async_trait]
impl OutboxRepo for PgStore {
    async fn claim(
        &self,
        now: OffsetDateTime,
        lease: time::Duration,
        limit: u32,
    ) -> StoreResult<Vec<Job>> {
        // SKIP LOCKED: any number of workers on any number of nodes, each job taken by one
        let mut tx = self.begin().await?;
        let rows = sqlx::query(
            "UPDATE outbox SET run_at = $1, attempts = attempts + 1 WHERE id IN \
             (SELECT id FROM outbox WHERE done_at IS NULL AND NOT given_up AND run_at <= $2 \
              ORDER BY run_at LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING id, kind, payload::text AS payload, attempts, run_at",
        )
        .bind(now + lease)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok(Job {
                    id: uuid(r, "id")?,
                    kind: r.try_get("kind").map_err(map_err)?,
                    payload: r.try_get("payload").map_err(map_err)?,
                    attempts: u32::try_from(r.try_get::<i32, _>("attempts").map_err(map_err)?)
                        .unwrap_or(u32::MAX),
                    run_at: r.try_get("run_at").map_err(map_err)?,
                })
            })
            .collect()
    }

    async fn complete(&self, id: Uuid, at: OffsetDateTime) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE outbox SET done_at = $1, last_error = NULL WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn fail(
        &self,
        id: Uuid,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE outbox SET last_error = $1, run_at = COALESCE($2, run_at), given_up = $3 WHERE id = $4",
        )
        .bind(error.chars().take(1000).collect::<String>())
        .bind(retry_at)
        .bind(retry_at.is_none())
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn enqueue_email_once(
        &self,
        key: &str,
        email: &motcua_domain::submission::OutgoingEmail,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let payload =
            serde_json::json!({"to": email.to, "subject": email.subject, "body": email.body});
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "INSERT INTO outbox (id, kind, payload, run_at, created_at, dedupe_key) \
             VALUES ($1, 'email', $2::jsonb, $3, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(Uuid::now_v7())
        .bind(payload.to_string())
        .bind(at)
        .bind(key)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn pending(&self) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE done_at IS NULL")
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

impl PgStore {
    async fn insert_upload(
        &self,
        u: &Upload,
        max_total_bytes: u64,
        supplement: bool,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        lock_draft(&mut tx, u.draft).await?;
        match draft_in(&mut tx, u.draft).await? {
            None => return Err(StoreError::NotFound),
            Some(d) if d.dossier.is_some() != supplement => {
                return Err(if supplement {
                    StoreError::Conflict("hồ sơ này chưa được nộp".into())
                } else {
                    already_submitted()
                });
            }
            Some(_) => {}
        }
        let used: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(size), 0)::BIGINT FROM uploads WHERE draft_id = $1",
        )
        .bind(u.draft.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        if u64::try_from(used).unwrap_or(0).saturating_add(u.size) > max_total_bytes {
            return Err(StoreError::Constraint("dossier size limit".into()));
        }
        sqlx::query(
            "INSERT INTO uploads (id, account_id, draft_id, component, file_name, object_key, file_type, size, \
             sha256, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(u.id.0)
        .bind(u.account.0)
        .bind(u.draft.0)
        .bind(i32::from(u.component))
        .bind(&u.file_name)
        .bind(&u.object_key)
        .bind(u.file_type.mime())
        .bind(i64::try_from(u.size).unwrap_or(i64::MAX))
        .bind(&u.sha256)
        .bind(u.created_at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }
}
