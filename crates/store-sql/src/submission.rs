//! Online submission (drafts, uploads, the one transaction that turns a draft into a dossier), counter intake,
//! the officers' queues, and the outbox.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use motcua_domain::{
    AccountId, Channel, Dossier, DossierCode, DossierId, DossierStatus, HistoryEvent, Transition,
    submission::{Draft, DraftId, Job, OnlineDetails, OutgoingEmail, Submission, Upload, UploadId},
    vntime,
};
use motcua_store::{
    OutboxRepo, SentEmail, StoreError, StoreResult, SubmissionRepo,
    decode::{self, DraftRow, UploadRow},
};

use crate::{
    Conn, SqlStore,
    catalogue::reserve_in,
    dialect::{At, Id, Json},
    dossiers::{DOSSIER_COLUMNS, append_event, dossier_in, dossier_row, transition_in},
    int, map_err, on_conn, read,
    rows::Columns,
    write,
};

const DRAFT_COLUMNS: &str = "SELECT id, account_id, procedure_code, procedure_version, case_key, agency_code, \
     answers, created_at, updated_at, dossier_id FROM drafts";
const UPLOAD_COLUMNS: &str = "SELECT id, account_id, draft_id, component, file_name, object_key, file_type, \
     size, sha256, created_at, dossier_id FROM uploads";

fn draft_row(row: &impl Columns) -> StoreResult<Draft> {
    DraftRow {
        id: row.id("id")?,
        account_id: row.id("account_id")?,
        procedure_code: row.text("procedure_code")?,
        procedure_version: row.int("procedure_version")?,
        case_key: row.text("case_key")?,
        agency_code: row.text("agency_code")?,
        answers: row.json("answers")?.to_string(),
        created_at: row.at("created_at")?,
        updated_at: row.at("updated_at")?,
        dossier_id: row.opt_id("dossier_id")?,
    }
    .decode()
}

fn upload_row(row: &impl Columns) -> StoreResult<Upload> {
    UploadRow {
        id: row.id("id")?,
        account_id: row.id("account_id")?,
        draft_id: row.id("draft_id")?,
        component: row.int("component")?,
        file_name: row.text("file_name")?,
        object_key: row.text("object_key")?,
        file_type: row.text("file_type")?,
        size: row.big("size")?,
        sha256: row.text("sha256")?,
        created_at: row.at("created_at")?,
        dossier_id: row.opt_id("dossier_id")?,
    }
    .decode()
}

/// A draft; with `lock`, its row stays locked until the transaction ends, so concurrent submissions (double
/// click, retry) of one draft queue and the second sees the dossier the first created.
async fn draft_in(conn: Conn<'_>, id: DraftId, lock: bool) -> StoreResult<Option<Draft>> {
    on_conn!(conn, |c, d| {
        let sql = format!(
            "{DRAFT_COLUMNS} WHERE id = $1{}",
            if lock { d.for_update() } else { "" }
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(Id(id.0))
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?;
        row.as_ref().map(draft_row).transpose()
    })
}

/// Queue e-mails about dossier `code` in the caller's transaction.
pub(crate) async fn queue_emails(
    conn: Conn<'_>,
    emails: &[OutgoingEmail],
    code: &DossierCode,
    at: OffsetDateTime,
) -> StoreResult<()> {
    on_conn!(conn, |c, d| {
        for email in emails {
            queue_email(
                (&mut *c).into(),
                &email.to,
                &decode::email_payload(email, code),
                at,
                Some(code),
                None,
            )
            .await?;
        }
    });
    Ok(())
}

/// One e-mail into the outbox in the caller's transaction, with its recipient (the address in lower case) and the
/// dossier it is about: the citizen's list of what the portal told them. With a `dedupe` key, only if no job ever
/// had that key; true if queued now.
pub(crate) async fn queue_email(
    conn: Conn<'_>,
    to: &str,
    payload: &str,
    at: OffsetDateTime,
    dossier: Option<&DossierCode>,
    dedupe: Option<&str>,
) -> StoreResult<bool> {
    let recipient = to.trim().to_lowercase();
    Ok(on_conn!(conn, |c, d| {
        sqlx::query(
            "INSERT INTO outbox (id, kind, payload, run_at, created_at, dedupe_key, recipient, dossier_code) \
             VALUES ($1, 'email', $2, $3, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(Id(Uuid::now_v7()))
        .bind(Json::parse(payload)?)
        .bind(At(at))
        .bind(dedupe)
        .bind(&recipient)
        .bind(dossier.map(|c| c.to_string()))
        .execute(&mut *c)
        .await
        .map_err(map_err)?
        .rows_affected()
            == 1
    }))
}

fn already_submitted() -> StoreError {
    StoreError::Conflict("hồ sơ này đã được nộp".into())
}

fn answers(a: &motcua_domain::form::Answers) -> StoreResult<Json> {
    Json::parse(&decode::answers_json(a))
}

impl SqlStore {
    async fn insert_upload(
        &self,
        u: &Upload,
        max_total_bytes: u64,
        supplement: bool,
    ) -> StoreResult<()> {
        write!(self, |tx, d| {
            match draft_in((&mut *tx).into(), u.draft, true).await? {
                None => return Err(StoreError::NotFound),
                Some(draft) if draft.dossier.is_some() != supplement => {
                    return Err(if supplement {
                        StoreError::Conflict("hồ sơ này chưa được nộp".into())
                    } else {
                        already_submitted()
                    });
                }
                Some(_) => {}
            }
            let used: i64 = sqlx::query_scalar(
                "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM uploads WHERE draft_id = $1",
            )
            .bind(Id(u.draft.0))
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
            .bind(Id(u.id.0))
            .bind(Id(u.account.0))
            .bind(Id(u.draft.0))
            .bind(i32::from(u.component))
            .bind(&u.file_name)
            .bind(&u.object_key)
            .bind(u.file_type.mime())
            .bind(i64::try_from(u.size).unwrap_or(i64::MAX))
            .bind(&u.sha256)
            .bind(At(u.created_at))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        })
    }

    /// Dossiers by a statement with a placeholder `$1` for `key` (a uuid).
    async fn dossiers_where(&self, sql: String, key: Uuid) -> StoreResult<Vec<Dossier>> {
        read!(self, |pool, d| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(Id(key))
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
            rows.iter().map(dossier_row).collect()
        })
    }

    /// Uploads by a statement with a placeholder `$1` for `key` (a uuid).
    async fn uploads_where(&self, sql: String, key: Uuid) -> StoreResult<Vec<Upload>> {
        read!(self, |pool, d| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(Id(key))
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
            rows.iter().map(upload_row).collect()
        })
    }
}

#[async_trait]
impl SubmissionRepo for SqlStore {
    async fn save_draft(&self, draft: &Draft) -> StoreResult<()> {
        write!(self, |tx, d| {
            let done = sqlx::query(
                "INSERT INTO drafts (id, account_id, procedure_code, procedure_version, case_key, agency_code, \
                 answers, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (id) DO UPDATE SET answers = excluded.answers, updated_at = excluded.updated_at \
                 WHERE drafts.dossier_id IS NULL AND drafts.account_id = excluded.account_id",
            )
            .bind(Id(draft.id.0))
            .bind(Id(draft.account.0))
            .bind(draft.procedure.as_str())
            .bind(int(draft.procedure_version)?)
            .bind(draft.case.as_str())
            .bind(draft.agency.as_str())
            .bind(answers(&draft.answers)?)
            .bind(At(draft.created_at))
            .bind(At(draft.updated_at))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            if done.rows_affected() == 0 {
                return Err(already_submitted());
            }
        })
    }

    async fn get_draft(&self, id: DraftId) -> StoreResult<Option<Draft>> {
        read!(self, |pool, d| {
            let mut conn = pool.acquire().await.map_err(map_err)?;
            draft_in((&mut *conn).into(), id, false).await
        })
    }

    async fn drafts_for(&self, account: AccountId) -> StoreResult<Vec<Draft>> {
        let sql = format!(
            "{DRAFT_COLUMNS} WHERE account_id = $1 AND dossier_id IS NULL ORDER BY updated_at DESC"
        );
        read!(self, |pool, d| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(Id(account.0))
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
            rows.iter().map(draft_row).collect()
        })
    }

    async fn delete_draft(&self, id: DraftId, account: AccountId) -> StoreResult<Vec<Upload>> {
        let sql = format!("{UPLOAD_COLUMNS} WHERE draft_id = $1");
        write!(self, |tx, d| {
            let Some(draft) = draft_in((&mut *tx).into(), id, true).await? else {
                return Err(StoreError::NotFound);
            };
            if draft.account != account {
                return Err(StoreError::NotFound);
            }
            if draft.dossier.is_some() {
                return Err(already_submitted());
            }
            let uploads = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(Id(id.0))
                .fetch_all(&mut *tx)
                .await
                .map_err(map_err)?
                .iter()
                .map(upload_row)
                .collect::<StoreResult<Vec<_>>>()?;
            for statement in [
                "DELETE FROM uploads WHERE draft_id = $1",
                "DELETE FROM drafts WHERE id = $1",
            ] {
                sqlx::query(statement)
                    .bind(Id(id.0))
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
            }
            uploads
        })
    }

    async fn add_upload(&self, u: &Upload, max_total_bytes: u64) -> StoreResult<()> {
        self.insert_upload(u, max_total_bytes, false).await
    }

    async fn add_supplement_upload(&self, u: &Upload, max_total_bytes: u64) -> StoreResult<()> {
        self.insert_upload(u, max_total_bytes, true).await
    }

    async fn send_supplement(
        &self,
        draft: DraftId,
        t: &Transition,
        steps: Option<&motcua_domain::workflow::StepChange>,
    ) -> StoreResult<HistoryEvent> {
        write!(self, |tx, d| {
            let event = transition_in((&mut *tx).into(), t).await?;
            if let Some(change) = steps {
                crate::workflow::apply_step_change((&mut *tx).into(), t.dossier, change, t.at)
                    .await?;
            }
            sqlx::query(
                "UPDATE uploads SET dossier_id = $1 WHERE draft_id = $2 AND dossier_id IS NULL",
            )
            .bind(Id(t.dossier.0))
            .bind(Id(draft.0))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            event
        })
    }

    async fn draft_of(&self, dossier: DossierId) -> StoreResult<Option<DraftId>> {
        read!(self, |pool, d| {
            let id: Option<Id> = sqlx::query_scalar("SELECT id FROM drafts WHERE dossier_id = $1")
                .bind(Id(dossier.0))
                .fetch_optional(pool)
                .await
                .map_err(map_err)?;
            Ok(id.map(|i| DraftId(i.0)))
        })
    }

    async fn get_upload(&self, id: UploadId) -> StoreResult<Option<Upload>> {
        let found = self
            .uploads_where(format!("{UPLOAD_COLUMNS} WHERE id = $1"), id.0)
            .await?;
        Ok(found.into_iter().next())
    }

    async fn uploads_for_draft(&self, draft: DraftId) -> StoreResult<Vec<Upload>> {
        self.uploads_where(
            format!("{UPLOAD_COLUMNS} WHERE draft_id = $1 ORDER BY created_at, id"),
            draft.0,
        )
        .await
    }

    async fn uploads_for_dossier(&self, dossier: DossierId) -> StoreResult<Vec<Upload>> {
        self.uploads_where(
            format!("{UPLOAD_COLUMNS} WHERE dossier_id = $1 ORDER BY created_at, id"),
            dossier.0,
        )
        .await
    }

    async fn remove_upload(&self, id: UploadId, draft: DraftId) -> StoreResult<Option<Upload>> {
        let sql =
            format!("{UPLOAD_COLUMNS} WHERE id = $1 AND draft_id = $2 AND dossier_id IS NULL");
        write!(self, |tx, d| {
            let found = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(Id(id.0))
                .bind(Id(draft.0))
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?
                .as_ref()
                .map(upload_row)
                .transpose()?;
            if found.is_some() {
                sqlx::query("DELETE FROM uploads WHERE id = $1")
                    .bind(Id(id.0))
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
            }
            found
        })
    }

    async fn stale_uploads(&self, before: OffsetDateTime, limit: u32) -> StoreResult<Vec<Upload>> {
        let sql = format!(
            "{UPLOAD_COLUMNS} WHERE dossier_id IS NULL AND created_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM drafts d WHERE d.id = uploads.draft_id AND d.updated_at >= $1) \
             ORDER BY created_at LIMIT $2"
        );
        read!(self, |pool, d| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(At(before))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
            rows.iter().map(upload_row).collect()
        })
    }

    async fn forget_upload(&self, id: UploadId) -> StoreResult<()> {
        write!(self, |tx, d| {
            sqlx::query("DELETE FROM uploads WHERE id = $1 AND dossier_id IS NULL")
                .bind(Id(id.0))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        })
    }

    async fn submit(&self, s: &Submission) -> StoreResult<Dossier> {
        write!(self, |tx, d| {
            let draft = draft_in((&mut *tx).into(), s.draft, true)
                .await?
                .filter(|draft| draft.account == s.account)
                .ok_or(StoreError::NotFound)?;
            if let Some(existing) = draft.dossier {
                // a retry: the first submission stands
                return dossier_in((&mut *tx).into(), existing)
                    .await?
                    .ok_or(StoreError::NotFound);
            }
            let code = reserve_in((&mut *tx).into(), &draft.agency, vntime::vn_date(s.at)).await?;
            sqlx::query(
                "INSERT INTO dossiers (id, code, agency_code, procedure_code, procedure_version, case_key, channel, \
                 status, applicant_name, created_at, updated_at, due_at, account_id, applicant_phone, \
                 applicant_personal_id, on_behalf, form_data, search_text) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, NULL, $11, $12, $13, $14, $15, $16)",
            )
            .bind(Id(s.new_dossier.0))
            .bind(code.to_string())
            .bind(draft.agency.as_str())
            .bind(draft.procedure.as_str())
            .bind(int(draft.procedure_version)?)
            .bind(draft.case.as_str())
            .bind(Channel::Online.as_str())
            .bind(DossierStatus::Submitted.as_str())
            .bind(s.applicant_name.as_str())
            .bind(At(s.at))
            .bind(Id(s.account.0))
            .bind(&s.applicant_phone)
            .bind(&s.applicant_personal_id)
            .bind(s.on_behalf)
            .bind(answers(&s.answers)?)
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
            append_event((&mut *tx).into(), &event).await?;
            sqlx::query(
                "UPDATE drafts SET dossier_id = $1, answers = $2, updated_at = $3 WHERE id = $4",
            )
            .bind(Id(s.new_dossier.0))
            .bind(answers(&s.answers)?)
            .bind(At(s.at))
            .bind(Id(s.draft.0))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            sqlx::query("UPDATE uploads SET dossier_id = $1 WHERE draft_id = $2")
                .bind(Id(s.new_dossier.0))
                .bind(Id(s.draft.0))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            if let Some(charge) = &s.charge {
                crate::payments::insert_charge((&mut *tx).into(), charge).await?;
            }
            if let Some(address) = &s.by_post {
                crate::deliveries::ask_in(
                    (&mut *tx).into(),
                    &motcua_domain::postal::Delivery {
                        dossier: s.new_dossier,
                        address: address.clone(),
                        asked_at: s.at,
                        handed: None,
                        delivered_at: None,
                        returned: None,
                    },
                )
                .await?;
            }
            queue_emails((&mut *tx).into(), &s.emails, &code, s.at).await?;
            dossier_in((&mut *tx).into(), s.new_dossier)
                .await?
                .ok_or(StoreError::NotFound)?
        })
    }

    async fn online_details(&self, dossier: DossierId) -> StoreResult<Option<OnlineDetails>> {
        read!(self, |pool, d| {
            let row = sqlx::query(
                "SELECT account_id, applicant_phone, applicant_personal_id, on_behalf, form_data \
                 FROM dossiers WHERE id = $1",
            )
            .bind(Id(dossier.0))
            .fetch_optional(pool)
            .await
            .map_err(map_err)?;
            let Some(row) = row else { return Ok(None) };
            Ok(Some(OnlineDetails {
                account: row.opt_id("account_id")?.map(AccountId),
                applicant_phone: row.opt_text("applicant_phone")?,
                applicant_personal_id: row.opt_text("applicant_personal_id")?,
                on_behalf: row.boolean("on_behalf")?,
                answers: row
                    .opt_json("form_data")?
                    .map(|form| decode::answers(&form.to_string()))
                    .transpose()?
                    .unwrap_or_default(),
            }))
        })
    }

    async fn transition_with_mail(
        &self,
        t: &Transition,
        emails: &[OutgoingEmail],
    ) -> StoreResult<HistoryEvent> {
        write!(self, |tx, d| {
            let event = transition_in((&mut *tx).into(), t).await?;
            let dossier = dossier_in((&mut *tx).into(), t.dossier)
                .await?
                .ok_or(StoreError::NotFound)?;
            queue_emails((&mut *tx).into(), emails, &dossier.code, t.at).await?;
            event
        })
    }

    async fn queue(&self, query: &motcua_store::DossierQuery) -> StoreResult<Vec<Dossier>> {
        if query.is_empty() {
            return Ok(vec![]);
        }
        let (filter, params) = query.where_clause(1);
        let sql = format!(
            "{DOSSIER_COLUMNS} WHERE {filter} ORDER BY COALESCE(due_at, created_at), created_at, id LIMIT {} OFFSET {}",
            query.limit, query.offset
        );
        read!(self, |pool, d| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for p in params {
                q = crate::bind_param!(q, p);
            }
            let rows = q.fetch_all(pool).await.map_err(map_err)?;
            rows.iter().map(dossier_row).collect()
        })
    }

    async fn count(&self, query: &motcua_store::DossierQuery) -> StoreResult<u64> {
        if query.is_empty() {
            return Ok(0);
        }
        let (filter, params) = query.where_clause(1);
        let sql = format!("SELECT COUNT(*) AS n FROM dossiers WHERE {filter}");
        read!(self, |pool, d| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for p in params {
                q = crate::bind_param!(q, p);
            }
            let row = q.fetch_one(pool).await.map_err(map_err)?;
            row.count("n")
        })
    }

    async fn intake(&self, i: &motcua_domain::submission::Intake) -> StoreResult<Dossier> {
        write!(self, |tx, d| {
            let code = reserve_in((&mut *tx).into(), &i.agency, vntime::vn_date(i.at)).await?;
            sqlx::query(
                "INSERT INTO dossiers (id, code, agency_code, procedure_code, procedure_version, case_key, channel, \
                 status, applicant_name, created_at, updated_at, due_at, account_id, applicant_phone, \
                 applicant_personal_id, on_behalf, form_data, search_text) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12, $13, $14, FALSE, $15, $16)",
            )
            .bind(Id(i.dossier.0))
            .bind(code.to_string())
            .bind(i.agency.as_str())
            .bind(i.procedure.as_str())
            .bind(int(i.procedure_version)?)
            .bind(i.case.as_str())
            .bind(i.channel.as_str())
            .bind(DossierStatus::Received.as_str())
            .bind(i.applicant_name.as_str())
            .bind(At(i.at))
            .bind(i.due_at.map(At))
            .bind(i.account.map(|a| Id(a.0)))
            .bind(i.applicant_phone.as_deref())
            .bind(i.applicant_personal_id.as_deref())
            .bind(answers(&i.answers)?)
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
            append_event((&mut *tx).into(), &submitted).await?;
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
            append_event((&mut *tx).into(), &received).await?;
            queue_emails((&mut *tx).into(), &i.emails, &code, i.at).await?;
            dossier_in((&mut *tx).into(), i.dossier)
                .await?
                .ok_or(StoreError::NotFound)?
        })
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
        let sql = format!(
            "{DOSSIER_COLUMNS} WHERE due_at IS NOT NULL AND due_at < $1 AND status IN ({}) \
             ORDER BY due_at LIMIT {}",
            crate::marks(2, statuses.len()),
            limit
        );
        read!(self, |pool, d| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(At(before));
            for status in statuses {
                q = q.bind(status.as_str());
            }
            let rows = q.fetch_all(pool).await.map_err(map_err)?;
            rows.iter().map(dossier_row).collect()
        })
    }

    async fn dossiers_for(&self, account: AccountId) -> StoreResult<Vec<Dossier>> {
        self.dossiers_where(
            format!("{DOSSIER_COLUMNS} WHERE account_id = $1 ORDER BY created_at DESC LIMIT 500"),
            account.0,
        )
        .await
    }
}

#[async_trait]
impl OutboxRepo for SqlStore {
    async fn claim(
        &self,
        now: OffsetDateTime,
        lease: time::Duration,
        limit: u32,
    ) -> StoreResult<Vec<Job>> {
        // pushing run_at forward is the lease; on PostgreSQL, SKIP LOCKED lets any number of workers on any
        // number of nodes each take their own jobs (SQLite's single writer does that by itself)
        write!(self, |tx, d| {
            let sql = format!(
                "UPDATE outbox SET run_at = $1, attempts = attempts + 1 WHERE id IN \
                 (SELECT id FROM outbox WHERE done_at IS NULL AND NOT given_up AND run_at <= $2 \
                  ORDER BY run_at LIMIT $3{}) RETURNING id, kind, payload, attempts, run_at",
                d.skip_locked()
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(At(now + lease))
                .bind(At(now))
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await
                .map_err(map_err)?;
            rows.iter()
                .map(|r| {
                    Ok(Job {
                        id: r.id("id")?,
                        kind: r.text("kind")?,
                        payload: r.json("payload")?.to_string(),
                        attempts: u32::try_from(r.int("attempts")?).unwrap_or(u32::MAX),
                        run_at: r.at("run_at")?,
                    })
                })
                .collect::<StoreResult<Vec<_>>>()?
        })
    }

    async fn complete(&self, id: Uuid, at: OffsetDateTime) -> StoreResult<()> {
        write!(self, |tx, d| {
            sqlx::query("UPDATE outbox SET done_at = $1, last_error = NULL WHERE id = $2")
                .bind(At(at))
                .bind(Id(id))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        })
    }

    async fn fail(
        &self,
        id: Uuid,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> StoreResult<()> {
        write!(self, |tx, d| {
            sqlx::query(
                "UPDATE outbox SET last_error = $1, run_at = COALESCE($2, run_at), given_up = $3 WHERE id = $4",
            )
            .bind(error.chars().take(1000).collect::<String>())
            .bind(retry_at.map(At))
            .bind(retry_at.is_none())
            .bind(Id(id))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        })
    }

    async fn enqueue_email_once(
        &self,
        key: &str,
        email: &OutgoingEmail,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let payload =
            serde_json::json!({"to": email.to, "subject": email.subject, "body": email.body})
                .to_string();
        write!(self, |tx, d| {
            queue_email((&mut *tx).into(), &email.to, &payload, at, None, Some(key)).await?
        })
    }

    async fn pending(&self) -> StoreResult<u64> {
        read!(self, |pool, d| {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE done_at IS NULL")
                .fetch_one(pool)
                .await
                .map_err(map_err)?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }

    async fn emails_to(
        &self,
        account: AccountId,
        address: &str,
        verified_since: Option<OffsetDateTime>,
        limit: u32,
    ) -> StoreResult<Vec<SentEmail>> {
        let recipient = address.trim().to_lowercase();
        // about the account's own dossiers; anything else only from when the address was proved theirs
        let since = if verified_since.is_some() {
            " OR created_at >= $3"
        } else {
            ""
        };
        read!(self, |pool, d| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT payload, created_at, done_at, given_up FROM outbox \
                 WHERE kind = 'email' AND recipient = $1 \
                 AND (dossier_code IN (SELECT code FROM dossiers WHERE account_id = $2){since}) \
                 ORDER BY created_at DESC LIMIT {limit}"
            )))
            .bind(&recipient)
            .bind(Id(account.0));
            if let Some(at) = verified_since {
                q = q.bind(At(at));
            }
            let rows = q.fetch_all(pool).await.map_err(map_err)?;
            rows.iter()
                .map(|r| {
                    let payload = r.json("payload")?;
                    let field = |k: &str| {
                        payload
                            .get(k)
                            .and_then(|v| v.as_str())
                            .unwrap_or_default()
                            .to_string()
                    };
                    Ok(SentEmail {
                        subject: field("subject"),
                        body: field("body"),
                        queued_at: r.at("created_at")?,
                        sent_at: r.opt_at("done_at")?,
                        given_up: r.boolean("given_up")?,
                    })
                })
                .collect()
        })
    }
}
