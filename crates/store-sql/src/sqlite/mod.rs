//! SQLite implementation of the motcua store: the embedded default, one file, nothing to install.
//!
//! Durability first: WAL with `synchronous=FULL` (acknowledged means on disk), foreign keys on, and every write
//! transaction started with `BEGIN IMMEDIATE` on a single-connection write pool, so writers queue in Tokio
//! instead of failing with `SQLITE_BUSY` on a lock upgrade. Reads use their own pool.

use async_trait::async_trait;
use sqlx::{
    Row, SqlitePool,
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
    },
};
use std::{collections::HashSet, str::FromStr, sync::Arc, time::Duration};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use motcua_domain::{
    Account, AccountId, Agency, AgencyCode, AuditEvent, Dossier, DossierCode, DossierId, Email,
    Field, HistoryEvent, LoginName, NewDossier, Phone, Procedure, ProcedureCode, RoleGrant,
    ServiceLevelAssignment, Session, SessionKey, TokenPurpose, Transition,
};
use motcua_store::{
    AccountRepo, AgencyRepo, AuditRepo, Backend, CatalogueBatch, CatalogueRepo, CodeCounterRepo,
    DossierRepo, FieldRepo, Health, ImportReport, LoginRecord, RateLimitRepo, SessionRepo, Store,
    StoreError, StoreResult, StoredProcedure,
    decode::{self, AccountRow, AgencyRow, DossierRow, EventRow},
};

mod calendar;
mod submission;
mod workflow;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// A SQLite database opened for motcua.
#[derive(Clone)]
pub struct SqliteStore {
    write: SqlitePool,
    read: SqlitePool,
}

fn map_err(err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.to_string())
        }
        sqlx::Error::Database(db) if db.is_foreign_key_violation() || db.is_check_violation() => {
            StoreError::Constraint(db.to_string())
        }
        sqlx::Error::Configuration(e) => StoreError::Configuration(e.to_string()),
        e @ (sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed) => {
            StoreError::Unavailable(e.to_string())
        }
        // "database is locked"/"disk I/O error" and friends: the file is there but cannot serve us now
        sqlx::Error::Database(db)
            if matches!(
                db.code().as_deref(),
                Some("5" | "6" | "10" | "13" | "14" | "261" | "517")
            ) =>
        {
            StoreError::Unavailable(db.to_string())
        }
        other => StoreError::Other(other.to_string()),
    }
}

fn micros(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000) as i64
}

fn from_micros(value: i64) -> StoreResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(value) * 1_000)
        .map_err(|e| StoreError::Corrupt(format!("timestamp {value}: {e}")))
}

fn opt_from_micros(value: Option<i64>) -> StoreResult<Option<OffsetDateTime>> {
    value.map(from_micros).transpose()
}

impl SqliteStore {
    /// Open (creating if missing) the database at `url` (`sqlite:path/to/file.db`, `sqlite://…`, or
    /// `sqlite::memory:`). The parent directory of a file is created. Does not migrate.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Configuration(format!("{url}: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let filename = options.get_filename().to_path_buf();
        let in_memory = filename.as_os_str().is_empty()
            || filename.as_os_str() == ":memory:"
            || url.contains(":memory:");
        if !in_memory
            && let Some(parent) = filename.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Configuration(format!(
                    "không tạo được thư mục {}: {e}",
                    parent.display()
                ))
            })?;
        }
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await
            .map_err(map_err)?;
        // an in-memory database exists once per connection: everything must share the one connection
        let read = if in_memory {
            write.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(4)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options.read_only(true))
                .await
                .map_err(map_err)?
        };
        Ok(SqliteStore { write, read })
    }

    /// Apply the migrations embedded in this binary.
    pub async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR
            .run(&self.write)
            .await
            .map_err(|e| StoreError::Other(format!("migration: {e}")))?;
        // dossiers written before their search text existed get it now (a thousand at a time)
        loop {
            let rows = sqlx::query(
                "SELECT id, code, applicant_name FROM dossiers WHERE search_text = '' LIMIT 1000",
            )
            .fetch_all(&self.write)
            .await
            .map_err(map_err)?;
            if rows.is_empty() {
                return Ok(());
            }
            for row in rows {
                let id: String = row.try_get("id").map_err(map_err)?;
                let code: String = row.try_get("code").map_err(map_err)?;
                let name: String = row.try_get("applicant_name").map_err(map_err)?;
                sqlx::query("UPDATE dossiers SET search_text = $1 WHERE id = $2")
                    .bind(motcua_store::search_text(&code, &name))
                    .bind(id)
                    .execute(&self.write)
                    .await
                    .map_err(map_err)?;
            }
        }
    }

    pub fn into_store(self) -> Store {
        let this = Arc::new(self);
        Store {
            backend: Backend::Sqlite,
            agencies: this.clone(),
            fields: this.clone(),
            catalogue: this.clone(),
            codes: this.clone(),
            dossiers: this.clone(),
            accounts: this.clone(),
            sessions: this.clone(),
            audit: this.clone(),
            rate_limits: this.clone(),
            submissions: this.clone(),
            outbox: this.clone(),
            calendar: this.clone(),
            workflows: this.clone(),
            health: this,
        }
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }

    async fn begin(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.write
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)
    }
}

async fn bump_catalogue_version(tx: &mut sqlx::SqliteConnection) -> StoreResult<()> {
    sqlx::query("UPDATE catalogue_meta SET version = version + 1 WHERE id = 1")
        .execute(tx)
        .await
        .map_err(map_err)?;
    Ok(())
}

fn agency_row(row: &SqliteRow) -> StoreResult<Agency> {
    AgencyRow {
        code: row.try_get("code").map_err(map_err)?,
        name: row.try_get("name").map_err(map_err)?,
        parent_code: row.try_get("parent_code").map_err(map_err)?,
        level: row.try_get("level").map_err(map_err)?,
        address: row.try_get("address").map_err(map_err)?,
        valid_from: row.try_get("valid_from").map_err(map_err)?,
        valid_until: row.try_get("valid_until").map_err(map_err)?,
        successor_code: row.try_get("successor_code").map_err(map_err)?,
    }
    .decode()
}

const AGENCY_COLUMNS: &str = "SELECT code, name, parent_code, level, address, valid_from, valid_until, successor_code FROM agencies";

#[async_trait]
impl AgencyRepo for SqliteStore {
    async fn upsert(&self, agencies: &[Agency]) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        upsert_agencies(&mut tx, agencies).await?;
        bump_catalogue_version(&mut tx).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn get(&self, code: &AgencyCode) -> StoreResult<Option<Agency>> {
        let sql = sqlx::AssertSqlSafe(format!("{AGENCY_COLUMNS} WHERE code = $1"));
        let row = sqlx::query(sql)
            .bind(code.as_str())
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        row.as_ref().map(agency_row).transpose()
    }

    async fn list(&self) -> StoreResult<Vec<Agency>> {
        let sql = sqlx::AssertSqlSafe(format!("{AGENCY_COLUMNS} ORDER BY code"));
        let rows = sqlx::query(sql)
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        rows.iter().map(agency_row).collect()
    }
}

#[async_trait]
impl FieldRepo for SqliteStore {
    async fn upsert(&self, fields: &[Field]) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        upsert_fields(&mut tx, fields).await?;
        bump_catalogue_version(&mut tx).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn list(&self) -> StoreResult<Vec<Field>> {
        let rows = sqlx::query("SELECT code, name FROM fields ORDER BY name, code")
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                decode::field(
                    &r.try_get::<String, _>("code").map_err(map_err)?,
                    &r.try_get::<String, _>("name").map_err(map_err)?,
                )
            })
            .collect()
    }
}

fn procedure_json(procedure: &Procedure) -> StoreResult<serde_json::Value> {
    serde_json::to_value(procedure)
        .map_err(|e| StoreError::Other(format!("procedure to JSON: {e}")))
}

fn stored_procedure(row: &SqliteRow) -> StoreResult<StoredProcedure> {
    let document: String = row.try_get("document").map_err(map_err)?;
    let document = serde_json::from_str(&document)
        .map_err(|e| StoreError::Corrupt(format!("procedure document: {e}")))?;
    Ok(StoredProcedure {
        procedure: decode::procedure_document(document)?,
        version: decode::version(row.try_get("current_version").map_err(map_err)?)?,
        updated_at: from_micros(row.try_get("updated_at").map_err(map_err)?)?,
    })
}

/// For each procedure, case and agency, the assignment with the latest start on or before `$1`.
const LEVELS_IN_FORCE: &str = "SELECT s.procedure_code, s.case_key, s.agency_code, s.level, s.effective_from \
     FROM service_levels s WHERE s.effective_from = ( \
       SELECT MAX(l.effective_from) FROM service_levels l WHERE l.procedure_code = s.procedure_code \
       AND l.case_key = s.case_key AND l.agency_code = s.agency_code AND l.effective_from <= $1)";
const LEVELS_ORDER: &str = "ORDER BY s.procedure_code, s.case_key, s.agency_code";

fn level_row(r: &SqliteRow) -> StoreResult<ServiceLevelAssignment> {
    decode::service_level(
        &r.try_get::<String, _>("procedure_code").map_err(map_err)?,
        &r.try_get::<String, _>("case_key").map_err(map_err)?,
        &r.try_get::<String, _>("agency_code").map_err(map_err)?,
        r.try_get("level").map_err(map_err)?,
        r.try_get("effective_from").map_err(map_err)?,
    )
}

const CURRENT_PROCEDURES: &str = "SELECT p.current_version, p.updated_at, v.document FROM procedures p \
     JOIN procedure_versions v ON v.procedure_code = p.code AND v.version = p.current_version";

#[async_trait]
impl CatalogueRepo for SqliteStore {
    async fn save_procedure(&self, procedure: &Procedure, at: OffsetDateTime) -> StoreResult<u32> {
        let mut tx = self.begin().await?;
        let (version, changed) = save_procedure_in(&mut tx, procedure, at).await?;
        if changed {
            bump_catalogue_version(&mut tx).await?;
            tx.commit().await.map_err(map_err)?;
        }
        Ok(version)
    }

    async fn import(
        &self,
        batch: &CatalogueBatch,
        at: OffsetDateTime,
    ) -> StoreResult<ImportReport> {
        let mut tx = self.begin().await?;
        upsert_agencies(&mut tx, &batch.agencies).await?;
        upsert_fields(&mut tx, &batch.fields).await?;
        let mut report = ImportReport::default();
        for procedure in &batch.procedures {
            match save_procedure_in(&mut tx, procedure, at).await? {
                (_, false) => report.unchanged += 1,
                (1, true) => report.created += 1,
                (_, true) => report.updated += 1,
            }
        }
        for level in &batch.service_levels {
            set_level(&mut tx, level).await?;
        }
        bump_catalogue_version(&mut tx).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(report)
    }

    async fn get_procedure(&self, code: &ProcedureCode) -> StoreResult<Option<StoredProcedure>> {
        let sql = sqlx::AssertSqlSafe(format!("{CURRENT_PROCEDURES} WHERE p.code = $1"));
        let row = sqlx::query(sql)
            .bind(code.as_str())
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        row.as_ref().map(stored_procedure).transpose()
    }

    async fn get_procedure_version(
        &self,
        code: &ProcedureCode,
        version: u32,
    ) -> StoreResult<Option<Procedure>> {
        let row = sqlx::query(
            "SELECT document FROM procedure_versions WHERE procedure_code = $1 AND version = $2",
        )
        .bind(code.as_str())
        .bind(i64::from(version))
        .fetch_optional(&self.read)
        .await
        .map_err(map_err)?;
        match row {
            None => Ok(None),
            Some(row) => {
                let document: String = row.try_get("document").map_err(map_err)?;
                let document = serde_json::from_str(&document)
                    .map_err(|e| StoreError::Corrupt(format!("procedure document: {e}")))?;
                decode::procedure_document(document).map(Some)
            }
        }
    }

    async fn list_procedures(&self) -> StoreResult<Vec<StoredProcedure>> {
        let sql = sqlx::AssertSqlSafe(format!("{CURRENT_PROCEDURES} ORDER BY p.code"));
        let rows = sqlx::query(sql)
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        rows.iter().map(stored_procedure).collect()
    }

    async fn set_service_level(&self, a: &ServiceLevelAssignment) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        set_level(&mut tx, a).await?;
        bump_catalogue_version(&mut tx).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn service_levels(
        &self,
        code: &ProcedureCode,
        on: Date,
    ) -> StoreResult<Vec<ServiceLevelAssignment>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "{LEVELS_IN_FORCE} AND s.procedure_code = $2 {LEVELS_ORDER}"
        ));
        let rows = sqlx::query(sql)
            .bind(on)
            .bind(code.as_str())
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        rows.iter().map(level_row).collect()
    }

    async fn all_service_levels(&self, on: Date) -> StoreResult<Vec<ServiceLevelAssignment>> {
        let sql = sqlx::AssertSqlSafe(format!("{LEVELS_IN_FORCE} {LEVELS_ORDER}"));
        let rows = sqlx::query(sql)
            .bind(on)
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        rows.iter().map(level_row).collect()
    }

    async fn catalogue_version(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT version FROM catalogue_meta WHERE id = 1")
            .fetch_one(&self.read)
            .await
            .map_err(map_err)
    }
}

#[async_trait]
impl CodeCounterRepo for SqliteStore {
    async fn reserve(&self, agency: &AgencyCode, day: Date) -> StoreResult<DossierCode> {
        let mut tx = self.begin().await?;
        let code = reserve_in(&mut tx, agency, day).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(code)
    }
}

/// Take the next dossier code of `agency` on `day` inside the caller's transaction.
async fn reserve_in(
    conn: &mut sqlx::SqliteConnection,
    agency: &AgencyCode,
    day: Date,
) -> StoreResult<DossierCode> {
    let number: i64 = sqlx::query_scalar(
        "INSERT INTO code_counters (agency_code, day, last_number) VALUES ($1, $2, 1) \
         ON CONFLICT (agency_code, day) DO UPDATE SET last_number = code_counters.last_number + 1 \
         RETURNING last_number",
    )
    .bind(agency.as_str())
    .bind(day)
    .fetch_one(conn)
    .await
    .map_err(map_err)?;
    let number = u32::try_from(number)
        .map_err(|e| StoreError::Corrupt(format!("code counter {number}: {e}")))?;
    DossierCode::new(agency.clone(), day, number).map_err(|e| StoreError::Constraint(e.to_string()))
}

const DOSSIER_COLUMNS: &str = "SELECT id, code, agency_code, procedure_code, procedure_version, case_key, \
     channel, status, applicant_name, created_at, updated_at, due_at FROM dossiers";

fn dossier_row(row: &SqliteRow) -> StoreResult<Dossier> {
    DossierRow {
        id: decode::uuid_text(&row.try_get::<String, _>("id").map_err(map_err)?)?,
        code: row.try_get("code").map_err(map_err)?,
        agency_code: row.try_get("agency_code").map_err(map_err)?,
        procedure_code: row.try_get("procedure_code").map_err(map_err)?,
        procedure_version: row.try_get("procedure_version").map_err(map_err)?,
        case_key: row.try_get("case_key").map_err(map_err)?,
        channel: row.try_get("channel").map_err(map_err)?,
        status: row.try_get("status").map_err(map_err)?,
        applicant_name: row.try_get("applicant_name").map_err(map_err)?,
        created_at: from_micros(row.try_get("created_at").map_err(map_err)?)?,
        updated_at: from_micros(row.try_get("updated_at").map_err(map_err)?)?,
        due_at: opt_from_micros(row.try_get("due_at").map_err(map_err)?)?,
    }
    .decode()
}

fn event_row(row: &SqliteRow) -> StoreResult<HistoryEvent> {
    EventRow {
        id: decode::uuid_text(&row.try_get::<String, _>("id").map_err(map_err)?)?,
        dossier_id: decode::uuid_text(&row.try_get::<String, _>("dossier_id").map_err(map_err)?)?,
        seq: row.try_get("seq").map_err(map_err)?,
        at: from_micros(row.try_get("at").map_err(map_err)?)?,
        actor: row.try_get("actor").map_err(map_err)?,
        from_status: row.try_get("from_status").map_err(map_err)?,
        to_status: row.try_get("to_status").map_err(map_err)?,
        reason: row.try_get("reason").map_err(map_err)?,
        due_at: opt_from_micros(row.try_get("due_at").map_err(map_err)?)?,
        prev_hash: row.try_get("prev_hash").map_err(map_err)?,
        hash: row.try_get("hash").map_err(map_err)?,
    }
    .decode()
}

async fn append_event(tx: &mut sqlx::SqliteConnection, e: &HistoryEvent) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO dossier_events (id, dossier_id, seq, at, actor, from_status, to_status, reason, due_at, \
         prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(e.id.to_string())
    .bind(e.dossier.0.to_string())
    .bind(i64::from(e.seq))
    .bind(micros(e.at))
    .bind(&e.actor)
    .bind(e.from.map(|s| s.as_str()))
    .bind(e.to.as_str())
    .bind(e.reason.as_deref())
    .bind(e.due_at.map(micros))
    .bind(e.prev_hash.map(|h| h.to_hex()))
    .bind(e.hash.to_hex())
    .execute(tx)
    .await
    .map_err(map_err)?;
    Ok(())
}

impl SqliteStore {
    /// Apply a transition inside the caller's transaction: the status change (only if still in `from`) and its
    /// chained history event.
    pub(crate) async fn transition_in(
        &self,
        tx: &mut sqlx::SqliteConnection,
        t: &Transition,
    ) -> StoreResult<HistoryEvent> {
        let updated = sqlx::query(
            "UPDATE dossiers SET status = $1, updated_at = $2, due_at = COALESCE($3, due_at) \
             WHERE id = $4 AND status = $5",
        )
        .bind(t.to.as_str())
        .bind(micros(t.at))
        .bind(t.due_at.map(micros))
        .bind(t.dossier.0.to_string())
        .bind(t.from.as_str())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if updated.rows_affected() == 0 {
            return Err(match self.dossier_in(tx, t.dossier).await? {
                None => StoreError::NotFound,
                Some(now) => StoreError::Conflict(format!(
                    "hồ sơ {} đang ở trạng thái \u{201c}{}\u{201d}",
                    now.code,
                    now.status.label_vi()
                )),
            });
        }
        let last = sqlx::query(
            "SELECT seq, hash FROM dossier_events WHERE dossier_id = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(t.dossier.0.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let prev = match last {
            None => None,
            Some(row) => Some((
                decode::version(row.try_get("seq").map_err(map_err)?)?,
                decode::event_hash(&row.try_get::<String, _>("hash").map_err(map_err)?)?,
            )),
        };
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
        append_event(tx, &event).await?;
        Ok(event)
    }

    async fn dossier_in(
        &self,
        conn: &mut sqlx::SqliteConnection,
        id: DossierId,
    ) -> StoreResult<Option<Dossier>> {
        let sql = sqlx::AssertSqlSafe(format!("{DOSSIER_COLUMNS} WHERE id = $1"));
        let row = sqlx::query(sql)
            .bind(id.0.to_string())
            .fetch_optional(conn)
            .await
            .map_err(map_err)?;
        row.as_ref().map(dossier_row).transpose()
    }
}

#[async_trait]
impl DossierRepo for SqliteStore {
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
        let at = micros(event.at);
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO dossiers (id, code, agency_code, procedure_code, procedure_version, case_key, channel, \
             status, applicant_name, created_at, updated_at, due_at, search_text) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, NULL, $11)",
        )
        .bind(d.id.0.to_string())
        .bind(d.code.to_string())
        .bind(d.code.agency().as_str())
        .bind(d.procedure.as_str())
        .bind(i64::from(d.procedure_version))
        .bind(d.case.as_str())
        .bind(d.channel.as_str())
        .bind(d.status.as_str())
        .bind(d.applicant_name.as_str())
        .bind(at)
        .bind(motcua_store::search_text(&d.code.to_string(), d.applicant_name.as_str()))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        append_event(&mut tx, &event).await?;
        let dossier = self
            .dossier_in(&mut tx, d.id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await.map_err(map_err)?;
        Ok(dossier)
    }

    async fn get(&self, id: DossierId) -> StoreResult<Option<Dossier>> {
        let mut conn = self.read.acquire().await.map_err(map_err)?;
        self.dossier_in(&mut conn, id).await
    }

    async fn get_by_code(&self, code: &DossierCode) -> StoreResult<Option<Dossier>> {
        let sql = sqlx::AssertSqlSafe(format!("{DOSSIER_COLUMNS} WHERE code = $1"));
        let row = sqlx::query(sql)
            .bind(code.to_string())
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        row.as_ref().map(dossier_row).transpose()
    }

    async fn record_transition(&self, t: &Transition) -> StoreResult<HistoryEvent> {
        let mut tx = self.begin().await?;
        let event = self.transition_in(&mut tx, t).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(event)
    }

    async fn most_used_procedures(
        &self,
        since: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<(ProcedureCode, u64)>> {
        let rows = sqlx::query(
            "SELECT procedure_code, COUNT(*) AS uses FROM dossiers WHERE created_at >= $1 \
             GROUP BY procedure_code ORDER BY uses DESC, procedure_code LIMIT $2",
        )
        .bind(micros(since))
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                let code = decode::procedure_code(
                    &r.try_get::<String, _>("procedure_code").map_err(map_err)?,
                )?;
                let uses: i64 = r.try_get("uses").map_err(map_err)?;
                Ok((code, u64::try_from(uses).unwrap_or(0)))
            })
            .collect()
    }

    async fn history(&self, id: DossierId) -> StoreResult<Vec<HistoryEvent>> {
        let rows = sqlx::query(
            "SELECT id, dossier_id, seq, at, actor, from_status, to_status, reason, due_at, prev_hash, hash \
             FROM dossier_events WHERE dossier_id = $1 ORDER BY seq",
        )
        .bind(id.0.to_string())
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        rows.iter().map(event_row).collect()
    }
}

#[async_trait]
impl Health for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.read)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn pending_migrations(&self) -> StoreResult<Vec<String>> {
        let applied: HashSet<i64> = match sqlx::query_scalar::<_, i64>(
            "SELECT version FROM _sqlx_migrations WHERE success",
        )
        .fetch_all(&self.read)
        .await
        {
            Ok(versions) => versions.into_iter().collect(),
            // no migrations table yet: nothing applied
            Err(sqlx::Error::Database(db)) if db.message().contains("no such table") => {
                HashSet::new()
            }
            Err(e) => return Err(map_err(e)),
        };
        Ok(MIGRATOR
            .iter()
            .filter(|m| !applied.contains(&m.version))
            .map(|m| format!("{}_{}", m.version, m.description))
            .collect())
    }
}

async fn upsert_agencies(
    conn: &mut sqlx::SqliteConnection,
    agencies: &[Agency],
) -> StoreResult<()> {
    let now = micros(OffsetDateTime::now_utc());
    for a in agencies {
        sqlx::query(
                "INSERT INTO agencies (code, name, parent_code, level, address, valid_from, valid_until, \
                 successor_code, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, parent_code = excluded.parent_code, \
                 level = excluded.level, address = excluded.address, valid_from = excluded.valid_from, \
                 valid_until = excluded.valid_until, successor_code = excluded.successor_code, \
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
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
    }
    Ok(())
}

async fn upsert_fields(conn: &mut sqlx::SqliteConnection, fields: &[Field]) -> StoreResult<()> {
    for f in fields {
        sqlx::query(
            "INSERT INTO fields (code, name) VALUES ($1, $2) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name",
        )
        .bind(f.code.as_str())
        .bind(f.name.as_str())
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    }
    Ok(())
}

async fn set_level(
    conn: &mut sqlx::SqliteConnection,
    a: &ServiceLevelAssignment,
) -> StoreResult<()> {
    sqlx::query(
            "INSERT INTO service_levels (procedure_code, case_key, agency_code, level, effective_from) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (procedure_code, case_key, agency_code, effective_from) \
             DO UPDATE SET level = excluded.level",
        )
        .bind(a.procedure.as_str())
        .bind(a.case.as_str())
        .bind(a.agency.as_str())
        .bind(i64::from(a.level.number()))
        .bind(a.effective_from)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Save a procedure inside a transaction: (current version, whether a new version was written).
async fn save_procedure_in(
    conn: &mut sqlx::SqliteConnection,
    procedure: &Procedure,
    at: OffsetDateTime,
) -> StoreResult<(u32, bool)> {
    let document = procedure_json(procedure)?;
    let current = sqlx::query(
        "SELECT p.current_version, v.document FROM procedures p JOIN procedure_versions v \
             ON v.procedure_code = p.code AND v.version = p.current_version WHERE p.code = $1",
    )
    .bind(procedure.code.as_str())
    .fetch_optional(&mut *conn)
    .await
    .map_err(map_err)?;
    let next = match current {
        Some(row) => {
            let version = decode::version(row.try_get("current_version").map_err(map_err)?)?;
            let stored: String = row.try_get("document").map_err(map_err)?;
            let stored: serde_json::Value = serde_json::from_str(&stored)
                .map_err(|e| StoreError::Corrupt(format!("procedure document: {e}")))?;
            if stored == document {
                return Ok((version, false));
            }
            version + 1
        }
        None => 1,
    };
    let at = micros(at);
    sqlx::query(
        "INSERT INTO procedures (code, name, current_version, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, \
             current_version = excluded.current_version, updated_at = excluded.updated_at",
    )
    .bind(procedure.code.as_str())
    .bind(procedure.name.as_str())
    .bind(i64::from(next))
    .bind(at)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    sqlx::query(
        "INSERT INTO procedure_versions (procedure_code, version, document, created_at) \
             VALUES ($1, $2, $3, $4)",
    )
    .bind(procedure.code.as_str())
    .bind(i64::from(next))
    .bind(document.to_string())
    .bind(at)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok((next, true))
}

const ACCOUNT_COLUMNS: &str = "SELECT id, kind, full_name, personal_id, birth_date, phone, email, address, \
     password_hash, email_verified_at, disabled, created_at FROM accounts";

impl SqliteStore {
    async fn account_where(&self, clause: &str, value: String) -> StoreResult<Option<Account>> {
        let sql = sqlx::AssertSqlSafe(format!("{ACCOUNT_COLUMNS} WHERE {clause} = $1"));
        let Some(row) = sqlx::query(sql)
            .bind(value)
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?
        else {
            return Ok(None);
        };
        let id: String = row.try_get("id").map_err(map_err)?;
        let grants = sqlx::query(
            "SELECT role, agency_code, include_sub_agencies FROM role_grants WHERE account_id = $1 \
             ORDER BY agency_code, role",
        )
        .bind(&id)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?
        .iter()
        .map(|g| {
            decode::grant(
                &g.try_get::<String, _>("role").map_err(map_err)?,
                &g.try_get::<String, _>("agency_code").map_err(map_err)?,
                g.try_get::<bool, _>("include_sub_agencies")
                    .map_err(map_err)?,
            )
        })
        .collect::<StoreResult<Vec<_>>>()?;
        AccountRow {
            id: decode::uuid_text(&id)?,
            kind: row.try_get("kind").map_err(map_err)?,
            full_name: row.try_get("full_name").map_err(map_err)?,
            personal_id: row.try_get("personal_id").map_err(map_err)?,
            birth_date: row.try_get("birth_date").map_err(map_err)?,
            phone: row.try_get("phone").map_err(map_err)?,
            email: row.try_get("email").map_err(map_err)?,
            address: row.try_get("address").map_err(map_err)?,
            password_hash: row.try_get("password_hash").map_err(map_err)?,
            email_verified_at: opt_from_micros(row.try_get("email_verified_at").map_err(map_err)?)?,
            disabled: row.try_get("disabled").map_err(map_err)?,
            created_at: from_micros(row.try_get("created_at").map_err(map_err)?)?,
        }
        .decode(grants)
        .map(Some)
    }
}

async fn insert_grants(
    conn: &mut sqlx::SqliteConnection,
    id: AccountId,
    grants: &[RoleGrant],
) -> StoreResult<()> {
    for g in grants {
        sqlx::query(
            "INSERT INTO role_grants (account_id, role, agency_code, include_sub_agencies) VALUES ($1, $2, $3, $4)",
        )
        .bind(id.0.to_string())
        .bind(g.role.as_str())
        .bind(g.agency.as_str())
        .bind(g.include_sub_agencies)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    }
    Ok(())
}

#[async_trait]
impl AccountRepo for SqliteStore {
    async fn list_officers(&self) -> StoreResult<Vec<Account>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM accounts WHERE kind = 'officer' ORDER BY full_name, id",
        )
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(account) =
                AccountRepo::get(self, decode::uuid_text(&id).map(AccountId)?).await?
            {
                out.push(account);
            }
        }
        Ok(out)
    }

    async fn update_contact(
        &self,
        id: AccountId,
        phone: Option<&Phone>,
        email: Option<&Email>,
        address: Option<&str>,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE accounts SET phone = $1, address = $3, \
             email_verified_at = CASE WHEN email IS $2 THEN email_verified_at ELSE NULL END, email = $2 \
             WHERE id = $4",
        )
        .bind(phone.map(|p| p.as_str().to_string()))
        .bind(email.map(|e| e.as_str().to_string()))
        .bind(address)
        .bind(id.0.to_string())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(map_err)
    }

    async fn create_token(
        &self,
        key: &SessionKey,
        account: AccountId,
        purpose: TokenPurpose,
        expires_at: OffsetDateTime,
    ) -> StoreResult<()> {
        sqlx::query("INSERT INTO account_tokens (key, account_id, purpose, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(key.as_str())
            .bind(account.0.to_string())
            .bind(purpose.as_str())
            .bind(micros(expires_at))
            .execute(&self.write)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn consume_token(
        &self,
        key: &SessionKey,
        purpose: TokenPurpose,
        now: OffsetDateTime,
    ) -> StoreResult<Option<AccountId>> {
        let mut tx = self.begin().await?;
        // one statement: two clicks at once cannot both use the link
        let id: Option<String> = sqlx::query_scalar(
            "UPDATE account_tokens SET used_at = $1 WHERE key = $2 AND purpose = $3 AND used_at IS NULL \
             AND expires_at > $1 RETURNING account_id",
        )
        .bind(micros(now))
        .bind(key.as_str())
        .bind(purpose.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let Some(id) = id else { return Ok(None) };
        // any other link of the account for the same purpose ends with this one
        sqlx::query(
            "DELETE FROM account_tokens WHERE account_id = $1 AND purpose = $2 AND used_at IS NULL",
        )
        .bind(&id)
        .bind(purpose.as_str())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(Some(AccountId(decode::uuid_text(&id)?)))
    }

    async fn token_usable(
        &self,
        key: &SessionKey,
        purpose: TokenPurpose,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        let found: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM account_tokens WHERE key = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(key.as_str())
        .bind(purpose.as_str())
        .bind(micros(now))
        .fetch_optional(&self.read)
        .await
        .map_err(map_err)?;
        Ok(found.is_some())
    }

    async fn mark_email_verified(&self, id: AccountId, at: OffsetDateTime) -> StoreResult<()> {
        sqlx::query("UPDATE accounts SET email_verified_at = $1 WHERE id = $2")
            .bind(micros(at))
            .bind(id.0.to_string())
            .execute(&self.write)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn create(&self, a: &Account) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO accounts (id, kind, full_name, personal_id, birth_date, phone, email, address, \
             password_hash, email_verified_at, disabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(a.id.0.to_string())
        .bind(a.kind.as_str())
        .bind(a.full_name.as_str())
        .bind(a.personal_id.as_ref().map(|p| p.as_str().to_string()))
        .bind(a.birth_date)
        .bind(a.phone.as_ref().map(|p| p.as_str().to_string()))
        .bind(a.email.as_ref().map(|e| e.as_str().to_string()))
        .bind(a.address.as_deref())
        .bind(&a.password_hash)
        .bind(a.email_verified_at.map(micros))
        .bind(a.disabled)
        .bind(micros(a.created_at))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        insert_grants(&mut tx, a.id, &a.grants).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn get(&self, id: AccountId) -> StoreResult<Option<Account>> {
        self.account_where("id", id.0.to_string()).await
    }

    async fn find_by_login(&self, name: &LoginName) -> StoreResult<Option<Account>> {
        match name {
            LoginName::PersonalId(p) => self.account_where("personal_id", p.as_str().into()).await,
            LoginName::Phone(p) => self.account_where("phone", p.as_str().into()).await,
            LoginName::Email(e) => self.account_where("email", e.as_str().into()).await,
        }
    }

    async fn set_password_hash(&self, id: AccountId, hash: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(id.0.to_string())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        // a link sent before the password changed must not change it again
        sqlx::query(
            "DELETE FROM account_tokens WHERE account_id = $1 AND purpose = 'password_reset' AND used_at IS NULL",
        )
        .bind(id.0.to_string())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn set_grants(&self, id: AccountId, grants: &[RoleGrant]) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM accounts WHERE id = $1")
            .bind(id.0.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM role_grants WHERE account_id = $1")
            .bind(id.0.to_string())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        insert_grants(&mut tx, id, grants).await?;
        tx.commit().await.map_err(map_err)
    }
}

#[async_trait]
impl SessionRepo for SqliteStore {
    async fn create(&self, s: &Session) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO sessions (key, account_id, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(s.key.as_str())
        .bind(s.account.0.to_string())
        .bind(micros(s.created_at))
        .bind(micros(s.last_seen_at))
        .bind(micros(s.expires_at))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn find(&self, key: &SessionKey) -> StoreResult<Option<Session>> {
        let row = sqlx::query(
            "SELECT key, account_id, created_at, last_seen_at, expires_at FROM sessions WHERE key = $1",
        )
        .bind(key.as_str())
        .fetch_optional(&self.read)
        .await
        .map_err(map_err)?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Session {
            key: SessionKey::from_stored(row.try_get("key").map_err(map_err)?),
            account: AccountId(decode::uuid_text(
                &row.try_get::<String, _>("account_id").map_err(map_err)?,
            )?),
            created_at: from_micros(row.try_get("created_at").map_err(map_err)?)?,
            last_seen_at: from_micros(row.try_get("last_seen_at").map_err(map_err)?)?,
            expires_at: from_micros(row.try_get("expires_at").map_err(map_err)?)?,
        }))
    }

    async fn touch(&self, key: &SessionKey, at: OffsetDateTime) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE sessions SET last_seen_at = MAX(last_seen_at, $1) WHERE key = $2")
            .bind(micros(at))
            .bind(key.as_str())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn delete(&self, key: &SessionKey) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM sessions WHERE key = $1")
            .bind(key.as_str())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn delete_for_account(&self, account: AccountId) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("DELETE FROM sessions WHERE account_id = $1")
            .bind(account.0.to_string())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl AuditRepo for SqliteStore {
    async fn record(&self, e: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO audit_events (id, at, kind, actor_id, subject, ip, success) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(e.id.to_string())
        .bind(micros(e.at))
        .bind(e.kind.as_str())
        .bind(e.actor.map(|a| a.0.to_string()))
        .bind(e.subject.as_deref())
        .bind(e.ip.as_deref())
        .bind(e.success)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn search(
        &self,
        filter: &motcua_store::AuditFilter,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<AuditEvent>> {
        let (clause, params) = filter.where_clause();
        let n = params.len();
        let sql = format!(
            "SELECT id, at, kind, actor_id, subject, ip, success FROM audit_events WHERE {clause} \
             ORDER BY at DESC, id DESC LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for p in params {
            q = match p {
                motcua_store::QueryParam::Text(t) => q.bind(t),
                motcua_store::QueryParam::Id(u) => q.bind(u.to_string()),
                motcua_store::QueryParam::Time(t) => q.bind(micros(t)),
            };
        }
        let rows = q
            .bind(i64::from(limit))
            .bind(i64::from(offset))
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok(AuditEvent {
                    id: decode::uuid_text(&r.try_get::<String, _>("id").map_err(map_err)?)?,
                    at: from_micros(r.try_get("at").map_err(map_err)?)?,
                    kind: decode::audit_kind(&r.try_get::<String, _>("kind").map_err(map_err)?)?,
                    actor: r
                        .try_get::<Option<String>, _>("actor_id")
                        .map_err(map_err)?
                        .map(|a| decode::uuid_text(&a).map(AccountId))
                        .transpose()?,
                    subject: r.try_get("subject").map_err(map_err)?,
                    ip: r.try_get("ip").map_err(map_err)?,
                    success: r.try_get("success").map_err(map_err)?,
                })
            })
            .collect()
    }
}

#[async_trait]
impl RateLimitRepo for SqliteStore {
    async fn hit(&self, bucket: &str, window_start: OffsetDateTime) -> StoreResult<u32> {
        let mut tx = self.begin().await?;
        let hits: i64 = sqlx::query_scalar(
            "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) \
             ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1 RETURNING hits",
        )
        .bind(bucket)
        .bind(micros(window_start))
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        // old windows are of no use: drop them now and then so the table stays small
        if hits == 1 {
            sqlx::query("DELETE FROM rate_limits WHERE window_start < $1")
                .bind(micros(window_start - time::Duration::days(1)))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(u32::try_from(hits).unwrap_or(u32::MAX))
    }

    async fn login_record(&self, subject: &str, ip: &str) -> StoreResult<LoginRecord> {
        let row = sqlx::query(
            "SELECT failures, locked_until, last_success_at FROM login_addresses WHERE subject = $1 AND ip = $2",
        )
        .bind(subject)
        .bind(ip)
        .fetch_optional(&self.read)
        .await
        .map_err(map_err)?;
        row.as_ref()
            .map(login_row)
            .transpose()
            .map(Option::unwrap_or_default)
    }

    async fn login_failed(
        &self,
        subject: &str,
        ip: &str,
        at: OffsetDateTime,
        threshold: u32,
        lock: fn(u32) -> time::Duration,
    ) -> StoreResult<LoginRecord> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "INSERT INTO login_addresses (subject, ip, failures, updated_at) VALUES ($1, $2, 1, $3) \
             ON CONFLICT (subject, ip) DO UPDATE SET failures = login_addresses.failures + 1, updated_at = $3 \
             RETURNING failures, locked_until, last_success_at",
        )
        .bind(subject)
        .bind(ip)
        .bind(micros(at))
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        let mut record = login_row(&row)?;
        if record.failures >= threshold {
            record.locked_until = Some(at + lock(record.failures));
            sqlx::query(
                "UPDATE login_addresses SET locked_until = $1 WHERE subject = $2 AND ip = $3",
            )
            .bind(record.locked_until.map(micros))
            .bind(subject)
            .bind(ip)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        if record.failures == 1 {
            // names tried once and never used again: forget them after a day
            sqlx::query(
                "DELETE FROM login_addresses WHERE last_success_at IS NULL AND updated_at < $1 \
                 AND (locked_until IS NULL OR locked_until < $2)",
            )
            .bind(micros(at - time::Duration::days(1)))
            .bind(micros(at))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(record)
    }

    async fn login_succeeded(
        &self,
        subject: &str,
        ip: &str,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO login_addresses (subject, ip, failures, last_success_at, updated_at) VALUES ($1, $2, 0, $3, $3) \
             ON CONFLICT (subject, ip) DO UPDATE SET failures = 0, locked_until = NULL, last_success_at = $3, updated_at = $3",
        )
        .bind(subject)
        .bind(ip)
        .bind(micros(at))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        sqlx::query(
            "UPDATE login_addresses SET failures = 0, locked_until = NULL, updated_at = $3 WHERE subject = $1 AND ip = $2",
        )
        .bind(subject)
        .bind(motcua_store::ANY_ADDRESS)
        .bind(micros(at))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn clear_login_failures(&self, subject: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE login_addresses SET failures = 0, locked_until = NULL WHERE subject = $1",
        )
        .bind(subject)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }
}

fn login_row(row: &SqliteRow) -> StoreResult<LoginRecord> {
    let failures: i64 = row.try_get("failures").map_err(map_err)?;
    let locked: Option<i64> = row.try_get("locked_until").map_err(map_err)?;
    let success: Option<i64> = row.try_get("last_success_at").map_err(map_err)?;
    Ok(LoginRecord {
        failures: u32::try_from(failures).unwrap_or(0),
        locked_until: opt_from_micros(locked)?,
        last_success_at: opt_from_micros(success)?,
    })
}
