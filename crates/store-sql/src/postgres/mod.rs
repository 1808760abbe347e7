//! PostgreSQL implementation of the motcua store: production and scale-out (any number of identical server
//! nodes). Migrations run under sqlx's advisory lock, so nodes booting together migrate once. Row locks taken
//! by `UPDATE … WHERE status = $from` make concurrent transitions on one dossier serialise: the second sees
//! the first's result and is refused.

use async_trait::async_trait;
use sqlx::{
    PgPool, Row,
    postgres::{PgConnectOptions, PgPoolOptions, PgRow},
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

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Connection settings beyond the URL.
#[derive(Debug, Clone, Default)]
pub struct PgSettings {
    /// Work in this schema instead of `public` (each test gets its own).
    pub schema: Option<String>,
    /// Pool size; 10 when unset.
    pub max_connections: Option<u32>,
}

/// A PostgreSQL database opened for motcua.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
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
        e @ (sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed) => StoreError::Unavailable(e.to_string()),
        // class 08 connection exceptions, shutdowns, too many connections, read-only replica
        sqlx::Error::Database(db)
            if db.code().is_some_and(|c| {
                c.starts_with("08")
                    || matches!(c.as_ref(), "57P01" | "57P02" | "57P03" | "53300" | "25006")
            }) =>
        {
            StoreError::Unavailable(db.to_string())
        }
        other => StoreError::Other(other.to_string()),
    }
}

/// Schema names are built into SQL text, so only plain identifiers are accepted.
fn check_schema(name: &str) -> StoreResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    if ok {
        Ok(())
    } else {
        Err(StoreError::Configuration(format!(
            "tên schema không hợp lệ: {name}"
        )))
    }
}

/// Run one statement on a connection of its own (administration outside any store).
async fn run_once(url: &str, sql: String) -> StoreResult<()> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options(url)?)
        .await
        .map_err(map_err)?;
    let result = sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&pool)
        .await
        .map_err(map_err);
    pool.close().await;
    result.map(|_| ())
}

fn options(url: &str) -> StoreResult<PgConnectOptions> {
    PgConnectOptions::from_str(url).map_err(|e| StoreError::Configuration(format!("{e}")))
}

impl PgStore {
    /// Connect to `url` (`postgres://user@host:port/db`). Does not migrate.
    pub async fn connect(url: &str, settings: PgSettings) -> StoreResult<Self> {
        let mut options = options(url)?.application_name("motcua");
        if let Some(schema) = &settings.schema {
            check_schema(schema)?;
            options = options.options([("search_path", schema.as_str())]);
        }
        // one direct attempt first: a refused connection or a bad password is reported as it is, at once,
        // instead of as a pool time-out ten seconds later
        let probe = sqlx::ConnectOptions::connect(&options)
            .await
            .map_err(map_err)?;
        let _ = sqlx::Connection::close(probe).await;
        // a short wait for a connection: during an outage the portal answers 503 within seconds (and then at once,
        // behind the web layer's breaker) instead of holding every request for long
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections.unwrap_or(10))
            .acquire_timeout(Duration::from_secs(3))
            .connect_with(options)
            .await
            .map_err(map_err)?;
        Ok(PgStore { pool })
    }

    /// Create an empty schema (for tests and side-by-side installations).
    pub async fn create_schema(url: &str, schema: &str) -> StoreResult<()> {
        check_schema(schema)?;
        run_once(url, format!("CREATE SCHEMA IF NOT EXISTS {schema}")).await
    }

    /// Drop a schema and everything in it.
    pub async fn drop_schema(url: &str, schema: &str) -> StoreResult<()> {
        check_schema(schema)?;
        run_once(url, format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await
    }

    /// Apply the migrations embedded in this binary.
    pub async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Other(format!("migration: {e}")))?;
        // dossiers written before their search text existed get it now (a thousand at a time)
        loop {
            let rows = sqlx::query(
                "SELECT id, code, applicant_name FROM dossiers WHERE search_text = '' LIMIT 1000",
            )
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
            if rows.is_empty() {
                return Ok(());
            }
            for row in rows {
                let id: uuid::Uuid = row.try_get("id").map_err(map_err)?;
                let code: String = row.try_get("code").map_err(map_err)?;
                let name: String = row.try_get("applicant_name").map_err(map_err)?;
                sqlx::query("UPDATE dossiers SET search_text = $1 WHERE id = $2")
                    .bind(motcua_store::search_text(&code, &name))
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
            }
        }
    }

    pub fn into_store(self) -> Store {
        let this = Arc::new(self);
        Store {
            backend: Backend::Postgres,
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
        self.pool.close().await;
    }

    async fn begin(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Postgres>> {
        self.pool.begin().await.map_err(map_err)
    }
}

async fn bump_catalogue_version(tx: &mut sqlx::PgConnection) -> StoreResult<()> {
    sqlx::query("UPDATE catalogue_meta SET version = version + 1 WHERE id = 1")
        .execute(tx)
        .await
        .map_err(map_err)?;
    Ok(())
}

fn agency_row(row: &PgRow) -> StoreResult<Agency> {
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
impl AgencyRepo for PgStore {
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
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(agency_row).transpose()
    }

    async fn list(&self) -> StoreResult<Vec<Agency>> {
        let sql = sqlx::AssertSqlSafe(format!("{AGENCY_COLUMNS} ORDER BY code"));
        let rows = sqlx::query(sql)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(agency_row).collect()
    }
}

#[async_trait]
impl FieldRepo for PgStore {
    async fn upsert(&self, fields: &[Field]) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        upsert_fields(&mut tx, fields).await?;
        bump_catalogue_version(&mut tx).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn list(&self) -> StoreResult<Vec<Field>> {
        // byte order of the texts, as SQLite does, so both backends list in the same order
        let rows = sqlx::query(
            "SELECT code, name FROM fields ORDER BY name COLLATE \"C\", code COLLATE \"C\"",
        )
        .fetch_all(&self.pool)
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

fn stored_procedure(row: &PgRow) -> StoreResult<StoredProcedure> {
    Ok(StoredProcedure {
        procedure: decode::procedure_document(row.try_get("document").map_err(map_err)?)?,
        version: decode::version(i64::from(
            row.try_get::<i32, _>("current_version").map_err(map_err)?,
        ))?,
        updated_at: row.try_get("updated_at").map_err(map_err)?,
    })
}

/// For each procedure, case and agency, the assignment with the latest start on or before `$1`.
const LEVELS_IN_FORCE: &str = "SELECT DISTINCT ON (procedure_code COLLATE \"C\", case_key COLLATE \"C\", \
     agency_code COLLATE \"C\") procedure_code, case_key, agency_code, level, effective_from \
     FROM service_levels WHERE effective_from <= $1";
const LEVELS_ORDER: &str = "ORDER BY procedure_code COLLATE \"C\", case_key COLLATE \"C\", agency_code COLLATE \"C\", effective_from DESC";

fn level_row(r: &PgRow) -> StoreResult<ServiceLevelAssignment> {
    decode::service_level(
        &r.try_get::<String, _>("procedure_code").map_err(map_err)?,
        &r.try_get::<String, _>("case_key").map_err(map_err)?,
        &r.try_get::<String, _>("agency_code").map_err(map_err)?,
        i64::from(r.try_get::<i16, _>("level").map_err(map_err)?),
        r.try_get("effective_from").map_err(map_err)?,
    )
}

const CURRENT_PROCEDURES: &str = "SELECT p.current_version, p.updated_at, v.document FROM procedures p \
     JOIN procedure_versions v ON v.procedure_code = p.code AND v.version = p.current_version";

fn pg_int(value: u32) -> StoreResult<i32> {
    i32::try_from(value).map_err(|e| StoreError::Constraint(format!("{value}: {e}")))
}

#[async_trait]
impl CatalogueRepo for PgStore {
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
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(stored_procedure).transpose()
    }

    async fn get_procedure_version(
        &self,
        code: &ProcedureCode,
        version: u32,
    ) -> StoreResult<Option<Procedure>> {
        let document: Option<serde_json::Value> = sqlx::query_scalar(
            "SELECT document FROM procedure_versions WHERE procedure_code = $1 AND version = $2",
        )
        .bind(code.as_str())
        .bind(pg_int(version)?)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        document.map(decode::procedure_document).transpose()
    }

    async fn list_procedures(&self) -> StoreResult<Vec<StoredProcedure>> {
        let sql = sqlx::AssertSqlSafe(format!("{CURRENT_PROCEDURES} ORDER BY p.code"));
        let rows = sqlx::query(sql)
            .fetch_all(&self.pool)
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
            "{LEVELS_IN_FORCE} AND procedure_code = $2 {LEVELS_ORDER}"
        ));
        let rows = sqlx::query(sql)
            .bind(on)
            .bind(code.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(level_row).collect()
    }

    async fn all_service_levels(&self, on: Date) -> StoreResult<Vec<ServiceLevelAssignment>> {
        let sql = sqlx::AssertSqlSafe(format!("{LEVELS_IN_FORCE} {LEVELS_ORDER}"));
        let rows = sqlx::query(sql)
            .bind(on)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(level_row).collect()
    }

    async fn catalogue_version(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT version FROM catalogue_meta WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)
    }
}

#[async_trait]
impl CodeCounterRepo for PgStore {
    async fn reserve(&self, agency: &AgencyCode, day: Date) -> StoreResult<DossierCode> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        reserve_in(&mut conn, agency, day).await
    }
}

/// Take the next dossier code of `agency` on `day` on this connection (inside the caller's transaction, if any).
async fn reserve_in(
    conn: &mut sqlx::PgConnection,
    agency: &AgencyCode,
    day: Date,
) -> StoreResult<DossierCode> {
    // one statement: ON CONFLICT takes the row lock, so concurrent callers get consecutive numbers
    let number: i32 = sqlx::query_scalar(
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

fn dossier_row(row: &PgRow) -> StoreResult<Dossier> {
    DossierRow {
        id: row.try_get("id").map_err(map_err)?,
        code: row.try_get("code").map_err(map_err)?,
        agency_code: row.try_get("agency_code").map_err(map_err)?,
        procedure_code: row.try_get("procedure_code").map_err(map_err)?,
        procedure_version: i64::from(
            row.try_get::<i32, _>("procedure_version")
                .map_err(map_err)?,
        ),
        case_key: row.try_get("case_key").map_err(map_err)?,
        channel: row.try_get("channel").map_err(map_err)?,
        status: row.try_get("status").map_err(map_err)?,
        applicant_name: row.try_get("applicant_name").map_err(map_err)?,
        created_at: row.try_get("created_at").map_err(map_err)?,
        updated_at: row.try_get("updated_at").map_err(map_err)?,
        due_at: row.try_get("due_at").map_err(map_err)?,
    }
    .decode()
}

fn event_row(row: &PgRow) -> StoreResult<HistoryEvent> {
    EventRow {
        id: row.try_get("id").map_err(map_err)?,
        dossier_id: row.try_get("dossier_id").map_err(map_err)?,
        seq: i64::from(row.try_get::<i32, _>("seq").map_err(map_err)?),
        at: row.try_get("at").map_err(map_err)?,
        actor: row.try_get("actor").map_err(map_err)?,
        from_status: row.try_get("from_status").map_err(map_err)?,
        to_status: row.try_get("to_status").map_err(map_err)?,
        reason: row.try_get("reason").map_err(map_err)?,
        due_at: row.try_get("due_at").map_err(map_err)?,
        prev_hash: row.try_get("prev_hash").map_err(map_err)?,
        hash: row.try_get("hash").map_err(map_err)?,
    }
    .decode()
}

async fn append_event(tx: &mut sqlx::PgConnection, e: &HistoryEvent) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO dossier_events (id, dossier_id, seq, at, actor, from_status, to_status, reason, due_at, \
         prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(e.id)
    .bind(e.dossier.0)
    .bind(pg_int(e.seq)?)
    .bind(e.at)
    .bind(&e.actor)
    .bind(e.from.map(|s| s.as_str()))
    .bind(e.to.as_str())
    .bind(e.reason.as_deref())
    .bind(e.due_at)
    .bind(e.prev_hash.map(|h| h.to_hex()))
    .bind(e.hash.to_hex())
    .execute(tx)
    .await
    .map_err(map_err)?;
    Ok(())
}

impl PgStore {
    /// Apply a transition inside the caller's transaction: the status change (only if still in `from`) and its
    /// chained history event.
    pub(crate) async fn transition_in(
        &self,
        tx: &mut sqlx::PgConnection,
        t: &Transition,
    ) -> StoreResult<HistoryEvent> {
        let updated = sqlx::query(
            "UPDATE dossiers SET status = $1, updated_at = $2, due_at = COALESCE($3, due_at) \
             WHERE id = $4 AND status = $5",
        )
        .bind(t.to.as_str())
        .bind(t.at)
        .bind(t.due_at)
        .bind(t.dossier.0)
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
        .bind(t.dossier.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let prev = match last {
            None => None,
            Some(row) => Some((
                decode::version(i64::from(row.try_get::<i32, _>("seq").map_err(map_err)?))?,
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
        conn: &mut sqlx::PgConnection,
        id: DossierId,
    ) -> StoreResult<Option<Dossier>> {
        let sql = sqlx::AssertSqlSafe(format!("{DOSSIER_COLUMNS} WHERE id = $1"));
        let row = sqlx::query(sql)
            .bind(id.0)
            .fetch_optional(conn)
            .await
            .map_err(map_err)?;
        row.as_ref().map(dossier_row).transpose()
    }
}

#[async_trait]
impl DossierRepo for PgStore {
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
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO dossiers (id, code, agency_code, procedure_code, procedure_version, case_key, channel, \
             status, applicant_name, created_at, updated_at, due_at, search_text) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, NULL, $11)",
        )
        .bind(d.id.0)
        .bind(d.code.to_string())
        .bind(d.code.agency().as_str())
        .bind(d.procedure.as_str())
        .bind(pg_int(d.procedure_version)?)
        .bind(d.case.as_str())
        .bind(d.channel.as_str())
        .bind(d.status.as_str())
        .bind(d.applicant_name.as_str())
        .bind(event.at)
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
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        self.dossier_in(&mut conn, id).await
    }

    async fn get_by_code(&self, code: &DossierCode) -> StoreResult<Option<Dossier>> {
        let sql = sqlx::AssertSqlSafe(format!("{DOSSIER_COLUMNS} WHERE code = $1"));
        let row = sqlx::query(sql)
            .bind(code.to_string())
            .fetch_optional(&self.pool)
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
        .bind(since)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
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
        .bind(id.0)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter().map(event_row).collect()
    }
}

#[async_trait]
impl Health for PgStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn pending_migrations(&self) -> StoreResult<Vec<String>> {
        let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        let applied: HashSet<i64> = if exists {
            sqlx::query_scalar::<_, i64>("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?
                .into_iter()
                .collect()
        } else {
            HashSet::new()
        };
        Ok(MIGRATOR
            .iter()
            .filter(|m| !applied.contains(&m.version))
            .map(|m| format!("{}_{}", m.version, m.description))
            .collect())
    }
}

async fn upsert_agencies(conn: &mut sqlx::PgConnection, agencies: &[Agency]) -> StoreResult<()> {
    let now = OffsetDateTime::now_utc();
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

async fn upsert_fields(conn: &mut sqlx::PgConnection, fields: &[Field]) -> StoreResult<()> {
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

async fn set_level(conn: &mut sqlx::PgConnection, a: &ServiceLevelAssignment) -> StoreResult<()> {
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
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Save a procedure inside a transaction: (current version, whether a new version was written).
async fn save_procedure_in(
    conn: &mut sqlx::PgConnection,
    procedure: &Procedure,
    at: OffsetDateTime,
) -> StoreResult<(u32, bool)> {
    let document = procedure_json(procedure)?;
    // lock the procedure row so two editors saving at once make two versions, not one version twice
    let current = sqlx::query(
            "SELECT p.current_version, v.document FROM procedures p JOIN procedure_versions v \
             ON v.procedure_code = p.code AND v.version = p.current_version WHERE p.code = $1 FOR UPDATE OF p",
        )
        .bind(procedure.code.as_str())
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_err)?;
    let next = match current {
        Some(row) => {
            let version = decode::version(i64::from(
                row.try_get::<i32, _>("current_version").map_err(map_err)?,
            ))?;
            let stored: serde_json::Value = row.try_get("document").map_err(map_err)?;
            if stored == document {
                return Ok((version, false));
            }
            version + 1
        }
        None => 1,
    };
    sqlx::query(
        "INSERT INTO procedures (code, name, current_version, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, \
             current_version = excluded.current_version, updated_at = excluded.updated_at",
    )
    .bind(procedure.code.as_str())
    .bind(procedure.name.as_str())
    .bind(pg_int(next)?)
    .bind(at)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    sqlx::query(
        "INSERT INTO procedure_versions (procedure_code, version, document, created_at) \
             VALUES ($1, $2, $3, $4)",
    )
    .bind(procedure.code.as_str())
    .bind(pg_int(next)?)
    .bind(&document)
    .bind(at)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok((next, true))
}

const ACCOUNT_COLUMNS: &str = "SELECT id, kind, full_name, personal_id, birth_date, phone, email, address, \
     password_hash, email_verified_at, disabled, created_at FROM accounts";

impl PgStore {
    async fn account_where<T>(&self, clause: &str, value: T) -> StoreResult<Option<Account>>
    where
        T: for<'q> sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send,
    {
        let sql = sqlx::AssertSqlSafe(format!("{ACCOUNT_COLUMNS} WHERE {clause} = $1"));
        let Some(row) = sqlx::query(sql)
            .bind(value)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?
        else {
            return Ok(None);
        };
        let id: Uuid = row.try_get("id").map_err(map_err)?;
        let grants = sqlx::query(
            "SELECT role, agency_code, include_sub_agencies FROM role_grants WHERE account_id = $1 \
             ORDER BY agency_code COLLATE \"C\", role COLLATE \"C\"",
        )
        .bind(id)
        .fetch_all(&self.pool)
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
            id,
            kind: row.try_get("kind").map_err(map_err)?,
            full_name: row.try_get("full_name").map_err(map_err)?,
            personal_id: row.try_get("personal_id").map_err(map_err)?,
            birth_date: row.try_get("birth_date").map_err(map_err)?,
            phone: row.try_get("phone").map_err(map_err)?,
            email: row.try_get("email").map_err(map_err)?,
            address: row.try_get("address").map_err(map_err)?,
            password_hash: row.try_get("password_hash").map_err(map_err)?,
            email_verified_at: row.try_get("email_verified_at").map_err(map_err)?,
            disabled: row.try_get("disabled").map_err(map_err)?,
            created_at: row.try_get("created_at").map_err(map_err)?,
        }
        .decode(grants)
        .map(Some)
    }
}

async fn insert_grants(
    conn: &mut sqlx::PgConnection,
    id: AccountId,
    grants: &[RoleGrant],
) -> StoreResult<()> {
    for g in grants {
        sqlx::query(
            "INSERT INTO role_grants (account_id, role, agency_code, include_sub_agencies) VALUES ($1, $2, $3, $4)",
        )
        .bind(id.0)
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
impl AccountRepo for PgStore {
    async fn list_officers(&self) -> StoreResult<Vec<Account>> {
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM accounts WHERE kind = 'officer' ORDER BY full_name COLLATE \"C\", id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(account) = AccountRepo::get(self, AccountId(id)).await? {
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
             email_verified_at = CASE WHEN email IS NOT DISTINCT FROM $2 THEN email_verified_at ELSE NULL END, email = $2 \
             WHERE id = $4",
        )
        .bind(phone.map(|p| p.as_str().to_string()))
        .bind(email.map(|e| e.as_str().to_string()))
        .bind(address)
        .bind(id.0)
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
            .bind(account.0)
            .bind(purpose.as_str())
            .bind(expires_at)
            .execute(&self.pool)
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
        let id: Option<Uuid> = sqlx::query_scalar(
            "UPDATE account_tokens SET used_at = $1 WHERE key = $2 AND purpose = $3 AND used_at IS NULL \
             AND expires_at > $1 RETURNING account_id",
        )
        .bind(now)
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
        .bind(id)
        .bind(purpose.as_str())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(Some(AccountId(id)))
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
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(found.is_some())
    }

    async fn mark_email_verified(&self, id: AccountId, at: OffsetDateTime) -> StoreResult<()> {
        sqlx::query("UPDATE accounts SET email_verified_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id.0)
            .execute(&self.pool)
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
        .bind(a.id.0)
        .bind(a.kind.as_str())
        .bind(a.full_name.as_str())
        .bind(a.personal_id.as_ref().map(|p| p.as_str().to_string()))
        .bind(a.birth_date)
        .bind(a.phone.as_ref().map(|p| p.as_str().to_string()))
        .bind(a.email.as_ref().map(|e| e.as_str().to_string()))
        .bind(a.address.as_deref())
        .bind(&a.password_hash)
        .bind(a.email_verified_at)
        .bind(a.disabled)
        .bind(a.created_at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        insert_grants(&mut tx, a.id, &a.grants).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn get(&self, id: AccountId) -> StoreResult<Option<Account>> {
        self.account_where("id", id.0).await
    }

    async fn find_by_login(&self, name: &LoginName) -> StoreResult<Option<Account>> {
        match name {
            LoginName::PersonalId(p) => {
                self.account_where("personal_id", p.as_str().to_string())
                    .await
            }
            LoginName::Phone(p) => self.account_where("phone", p.as_str().to_string()).await,
            LoginName::Email(e) => self.account_where("email", e.as_str().to_string()).await,
        }
    }

    async fn set_password_hash(&self, id: AccountId, hash: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(id.0)
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
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn set_grants(&self, id: AccountId, grants: &[RoleGrant]) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let exists: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE")
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM role_grants WHERE account_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        insert_grants(&mut tx, id, grants).await?;
        tx.commit().await.map_err(map_err)
    }
}

#[async_trait]
impl SessionRepo for PgStore {
    async fn create(&self, s: &Session) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO sessions (key, account_id, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(s.key.as_str())
        .bind(s.account.0)
        .bind(s.created_at)
        .bind(s.last_seen_at)
        .bind(s.expires_at)
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
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Session {
            key: SessionKey::from_stored(row.try_get("key").map_err(map_err)?),
            account: AccountId(row.try_get("account_id").map_err(map_err)?),
            created_at: row.try_get("created_at").map_err(map_err)?,
            last_seen_at: row.try_get("last_seen_at").map_err(map_err)?,
            expires_at: row.try_get("expires_at").map_err(map_err)?,
        }))
    }

    async fn touch(&self, key: &SessionKey, at: OffsetDateTime) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE sessions SET last_seen_at = GREATEST(last_seen_at, $1) WHERE key = $2")
            .bind(at)
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
            .bind(account.0)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl AuditRepo for PgStore {
    async fn record(&self, e: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO audit_events (id, at, kind, actor_id, subject, ip, success) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(e.id)
        .bind(e.at)
        .bind(e.kind.as_str())
        .bind(e.actor.map(|a| a.0))
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
                motcua_store::QueryParam::Id(u) => q.bind(u),
                motcua_store::QueryParam::Time(t) => q.bind(t),
            };
        }
        let rows = q
            .bind(i64::from(limit))
            .bind(i64::from(offset))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok(AuditEvent {
                    id: r.try_get("id").map_err(map_err)?,
                    at: r.try_get("at").map_err(map_err)?,
                    kind: decode::audit_kind(&r.try_get::<String, _>("kind").map_err(map_err)?)?,
                    actor: r
                        .try_get::<Option<Uuid>, _>("actor_id")
                        .map_err(map_err)?
                        .map(AccountId),
                    subject: r.try_get("subject").map_err(map_err)?,
                    ip: r.try_get("ip").map_err(map_err)?,
                    success: r.try_get("success").map_err(map_err)?,
                })
            })
            .collect()
    }
}

#[async_trait]
impl RateLimitRepo for PgStore {
    async fn hit(&self, bucket: &str, window_start: OffsetDateTime) -> StoreResult<u32> {
        let mut tx = self.begin().await?;
        let hits: i32 = sqlx::query_scalar(
            "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) \
             ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1 RETURNING hits",
        )
        .bind(bucket)
        .bind(window_start)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        // old windows are of no use: drop them now and then so the table stays small
        if hits == 1 {
            sqlx::query("DELETE FROM rate_limits WHERE window_start < $1")
                .bind(window_start - time::Duration::days(1))
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
        .fetch_optional(&self.pool)
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
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        let mut record = login_row(&row)?;
        if record.failures >= threshold {
            record.locked_until = Some(at + lock(record.failures));
            sqlx::query(
                "UPDATE login_addresses SET locked_until = $1 WHERE subject = $2 AND ip = $3",
            )
            .bind(record.locked_until)
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
            .bind(at - time::Duration::days(1))
            .bind(at)
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
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        sqlx::query(
            "UPDATE login_addresses SET failures = 0, locked_until = NULL, updated_at = $3 WHERE subject = $1 AND ip = $2",
        )
        .bind(subject)
        .bind(motcua_store::ANY_ADDRESS)
        .bind(at)
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

fn login_row(row: &PgRow) -> StoreResult<LoginRecord> {
    let failures: i32 = row.try_get("failures").map_err(map_err)?;
    let locked: Option<OffsetDateTime> = row.try_get("locked_until").map_err(map_err)?;
    let success: Option<OffsetDateTime> = row.try_get("last_success_at").map_err(map_err)?;
    Ok(LoginRecord {
        failures: u32::try_from(failures).unwrap_or(0),
        locked_until: locked,
        last_success_at: success,
    })
}
