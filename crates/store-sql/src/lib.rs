//! The motcua store on SQL databases: SQLite, the embedded default (one file, nothing to install), and
//! PostgreSQL, for production and scale-out. Every statement, row type and repository method is written once:
//! the macros below expand a body once per backend, and what differs between the two (column types, row locks,
//! a few functions) lives in [`dialect`]. Each backend sits behind a cargo feature (both on by default) and
//! keeps its own migrations (`migrations/sqlite`, `migrations/postgres`); the contract suite in `motcua-store`
//! proves they behave the same.
//!
//! SQLite: WAL with `synchronous=FULL` (acknowledged means on disk), foreign keys on, and every write transaction
//! started with `BEGIN IMMEDIATE` on a single-connection write pool, so writers queue in Tokio instead of failing
//! with `SQLITE_BUSY` on a lock upgrade; reads use their own pool. PostgreSQL: migrations run under sqlx's
//! advisory lock, so nodes booting together migrate once; row locks (`FOR UPDATE`, `UPDATE … WHERE status =
//! $from`) make concurrent changes of one dossier serialise, the second seeing the first's result.

use std::{collections::HashSet, str::FromStr, sync::Arc, time::Duration};

use motcua_store::{Backend, Store, StoreError, StoreResult};

mod accounts;
mod api_clients;
mod articles;
mod calendar;
mod catalogue;
mod content;
mod deliveries;
mod dialect;
mod dossiers;
mod payments;
mod ratings;
mod rows;
mod search_log;
mod stats;
mod submission;
mod visits;
mod webhooks;
mod workflow;

#[cfg(feature = "sqlite")]
static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
#[cfg(feature = "postgres")]
static PG_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Connection settings for PostgreSQL beyond the URL.
#[derive(Debug, Clone, Default)]
pub struct PgSettings {
    /// Work in this schema instead of `public` (each test gets its own).
    pub schema: Option<String>,
    /// Pool size; 10 when unset.
    pub max_connections: Option<u32>,
}

/// The pools of one database.
#[derive(Clone)]
pub(crate) enum Db {
    #[cfg(feature = "sqlite")]
    Sqlite {
        /// One connection: writers queue here.
        write: sqlx::SqlitePool,
        read: sqlx::SqlitePool,
    },
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
}

/// A database opened for motcua.
#[derive(Clone)]
pub struct SqlStore {
    pub(crate) db: Db,
}

/// One connection, of either backend, for helpers that run inside a transaction or on a pool's connection.
pub(crate) enum Conn<'a> {
    #[cfg(feature = "sqlite")]
    Sqlite(&'a mut sqlx::SqliteConnection),
    #[cfg(feature = "postgres")]
    Postgres(&'a mut sqlx::PgConnection),
}

#[cfg(feature = "sqlite")]
impl<'a> From<&'a mut sqlx::SqliteConnection> for Conn<'a> {
    fn from(c: &'a mut sqlx::SqliteConnection) -> Self {
        Conn::Sqlite(c)
    }
}

#[cfg(feature = "postgres")]
impl<'a> From<&'a mut sqlx::PgConnection> for Conn<'a> {
    fn from(c: &'a mut sqlx::PgConnection) -> Self {
        Conn::Postgres(c)
    }
}

/// `read!(store, |pool, d| body)`: `body` once per backend, with the pool to read from and the [`Dialect`].
macro_rules! read {
    ($store:expr, |$pool:ident, $d:ident| $body:expr) => {
        match &$store.db {
            #[cfg(feature = "sqlite")]
            $crate::Db::Sqlite { read: $pool, .. } => {
                #[allow(unused_variables)]
                let $d = $crate::dialect::Dialect::Sqlite;
                $body
            }
            #[cfg(feature = "postgres")]
            $crate::Db::Postgres($pool) => {
                #[allow(unused_variables)]
                let $d = $crate::dialect::Dialect::Postgres;
                $body
            }
        }
    };
}

/// `write!(store, |tx, d| body)`: `body` once per backend inside a write transaction `tx` (on SQLite begun with
/// `BEGIN IMMEDIATE` on the single writer), committed when `body` has run to its end; `?` in `body` rolls back.
/// Evaluates to `StoreResult` of the body's value.
macro_rules! write {
    ($store:expr, |$tx:ident, $d:ident| $body:expr) => {
        match &$store.db {
            #[cfg(feature = "sqlite")]
            $crate::Db::Sqlite { write, .. } => {
                #[allow(unused_mut)]
                let mut $tx = write
                    .begin_with("BEGIN IMMEDIATE")
                    .await
                    .map_err($crate::map_err)?;
                #[allow(unused_variables)]
                let $d = $crate::dialect::Dialect::Sqlite;
                let out = $body;
                $tx.commit().await.map_err($crate::map_err)?;
                Ok::<_, motcua_store::StoreError>(out)
            }
            #[cfg(feature = "postgres")]
            $crate::Db::Postgres(pool) => {
                #[allow(unused_mut)]
                let mut $tx = pool.begin().await.map_err($crate::map_err)?;
                #[allow(unused_variables)]
                let $d = $crate::dialect::Dialect::Postgres;
                let out = $body;
                $tx.commit().await.map_err($crate::map_err)?;
                Ok::<_, motcua_store::StoreError>(out)
            }
        }
    };
}

/// `on_conn!(conn, |c, d| body)`: `body` once per backend on a [`Conn`]'s connection.
macro_rules! on_conn {
    ($conn:expr, |$c:ident, $d:ident| $body:expr) => {
        match $conn {
            #[cfg(feature = "sqlite")]
            $crate::Conn::Sqlite($c) => {
                #[allow(unused_variables)]
                let $d = $crate::dialect::Dialect::Sqlite;
                $body
            }
            #[cfg(feature = "postgres")]
            $crate::Conn::Postgres($c) => {
                #[allow(unused_variables)]
                let $d = $crate::dialect::Dialect::Postgres;
                $body
            }
        }
    };
}

/// Bind one [`motcua_store::QueryParam`] of a built WHERE clause (a dossier query, an audit filter) to a query.
macro_rules! bind_param {
    ($q:expr, $p:expr) => {
        match $p {
            motcua_store::QueryParam::Text(t) => $q.bind(t),
            motcua_store::QueryParam::Id(u) => $q.bind($crate::dialect::Id(u)),
            motcua_store::QueryParam::Time(t) => $q.bind($crate::dialect::At(t)),
        }
    };
}

pub(crate) use {bind_param, on_conn, read, write};

/// A database error, sorted by what the caller should do about it.
pub(crate) fn map_err(err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.to_string())
        }
        sqlx::Error::Database(db) if db.is_foreign_key_violation() || db.is_check_violation() => {
            StoreError::Constraint(db.to_string())
        }
        sqlx::Error::Configuration(e) => StoreError::Configuration(e.to_string()),
        e @ (sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolClosed) => {
            StoreError::Unavailable(e.to_string())
        }
        // every connection in use, or SQLite's writer lock held too long: a load peak, not an outage
        e @ sqlx::Error::PoolTimedOut => StoreError::Busy(e.to_string()),
        sqlx::Error::Database(db)
            if matches!(db.code().as_deref(), Some("5" | "6" | "261" | "517")) =>
        {
            StoreError::Busy(db.to_string())
        }
        // PostgreSQL: class 08 connection exceptions, shutdowns, too many connections, read-only replica;
        // SQLite: disk I/O error, disk full, cannot open (the file is there but cannot serve us now)
        sqlx::Error::Database(db)
            if db.code().is_some_and(|c| {
                c.starts_with("08")
                    || matches!(
                        c.as_ref(),
                        "57P01" | "57P02" | "57P03" | "53300" | "25006" | "10" | "13" | "14"
                    )
            }) =>
        {
            StoreError::Unavailable(db.to_string())
        }
        other => StoreError::Other(other.to_string()),
    }
}

/// A count or number the domain keeps as `u32`, for an INTEGER column.
pub(crate) fn int(value: u32) -> StoreResult<i32> {
    i32::try_from(value).map_err(|e| StoreError::Constraint(format!("{value}: {e}")))
}

/// Schema names are built into SQL text, so only plain identifiers are accepted.
#[cfg(feature = "postgres")]
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

#[cfg(feature = "postgres")]
fn pg_options(url: &str) -> StoreResult<sqlx::postgres::PgConnectOptions> {
    sqlx::postgres::PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::Configuration(format!("{e}")))
}

/// Run one statement on a PostgreSQL connection of its own (administration outside any store).
#[cfg(feature = "postgres")]
async fn run_once(url: &str, sql: String) -> StoreResult<()> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with(pg_options(url)?)
        .await
        .map_err(map_err)?;
    let result = sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&pool)
        .await
        .map_err(map_err);
    pool.close().await;
    result.map(|_| ())
}

impl SqlStore {
    /// Open the database a URL names: `sqlite:path/file.db` (created if missing, with its directory) or
    /// `postgres://user@host:port/database` (with `settings`). Does not migrate.
    pub async fn connect(url: &str, settings: PgSettings) -> StoreResult<SqlStore> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            #[cfg(feature = "postgres")]
            return SqlStore::connect_postgres(url, settings).await;
        }
        #[cfg(feature = "sqlite")]
        if url.starts_with("sqlite:") {
            return SqlStore::connect_sqlite(url).await;
        }
        let _ = settings;
        Err(StoreError::Configuration(format!(
            "{url}: không phải địa chỉ cơ sở dữ liệu được hỗ trợ trong bản dựng này"
        )))
    }

    /// Open (creating if missing) the SQLite database at `url` (`sqlite:path/to/file.db`, `sqlite://…`, or
    /// `sqlite::memory:`). The parent directory of a file is created. Does not migrate.
    #[cfg(feature = "sqlite")]
    pub async fn connect_sqlite(url: &str) -> StoreResult<SqlStore> {
        use sqlx::sqlite::{
            SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
        };
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
        Ok(SqlStore {
            db: Db::Sqlite { write, read },
        })
    }

    /// Connect to PostgreSQL at `url` (`postgres://user@host:port/db`). Does not migrate.
    #[cfg(feature = "postgres")]
    pub async fn connect_postgres(url: &str, settings: PgSettings) -> StoreResult<SqlStore> {
        let mut options = pg_options(url)?.application_name("motcua");
        if let Some(schema) = &settings.schema {
            check_schema(schema)?;
            options = options.options([("search_path", schema.as_str())]);
        }
        // one direct attempt first: a refused connection or a bad password is reported as it is, at once,
        // instead of as a pool time-out later
        let probe = sqlx::ConnectOptions::connect(&options)
            .await
            .map_err(map_err)?;
        let _ = sqlx::Connection::close(probe).await;
        // a short wait for a connection: during an outage the portal answers 503 within seconds (and then at
        // once, behind the web layer's breaker) instead of holding every request for long
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(settings.max_connections.unwrap_or(10))
            .acquire_timeout(Duration::from_secs(3))
            .connect_with(options)
            .await
            .map_err(map_err)?;
        Ok(SqlStore {
            db: Db::Postgres(pool),
        })
    }

    /// Create an empty PostgreSQL schema (for tests and side-by-side installations).
    #[cfg(feature = "postgres")]
    pub async fn create_schema(url: &str, schema: &str) -> StoreResult<()> {
        check_schema(schema)?;
        run_once(url, format!("CREATE SCHEMA IF NOT EXISTS {schema}")).await
    }

    /// Drop a PostgreSQL schema and everything in it.
    #[cfg(feature = "postgres")]
    pub async fn drop_schema(url: &str, schema: &str) -> StoreResult<()> {
        check_schema(schema)?;
        run_once(url, format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await
    }

    pub fn backend(&self) -> Backend {
        match &self.db {
            #[cfg(feature = "sqlite")]
            Db::Sqlite { .. } => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match &self.db {
            #[cfg(feature = "sqlite")]
            Db::Sqlite { .. } => &SQLITE_MIGRATOR,
            #[cfg(feature = "postgres")]
            Db::Postgres(_) => &PG_MIGRATOR,
        }
    }

    /// Apply the migrations embedded in this binary, then fill in what a migration could not compute.
    pub async fn migrate(&self) -> StoreResult<()> {
        let migrated = match &self.db {
            #[cfg(feature = "sqlite")]
            Db::Sqlite { write, .. } => SQLITE_MIGRATOR.run(write).await,
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => PG_MIGRATOR.run(pool).await,
        };
        migrated.map_err(|e| StoreError::Other(format!("migration: {e}")))?;
        dossiers::backfill_search_text(self).await
    }

    /// The repositories, as the rest of the program holds them.
    pub fn into_store(self) -> Store {
        let backend = self.backend();
        let this = Arc::new(self);
        Store {
            backend,
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
            payments: this.clone(),
            ratings: this.clone(),
            deliveries: this.clone(),
            search_log: this.clone(),
            content: this.clone(),
            visits: this.clone(),
            articles: this.clone(),
            stats: this.clone(),
            api_clients: this.clone(),
            webhooks: this.clone(),
            personal_tokens: this.clone(),
            health: this,
        }
    }

    pub async fn close(&self) {
        match &self.db {
            #[cfg(feature = "sqlite")]
            Db::Sqlite { write, read } => {
                read.close().await;
                write.close().await;
            }
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

#[async_trait::async_trait]
impl motcua_store::Health for SqlStore {
    async fn ping(&self) -> StoreResult<()> {
        read!(self, |pool, d| {
            sqlx::query("SELECT 1")
                .execute(pool)
                .await
                .map_err(map_err)?;
        });
        Ok(())
    }

    async fn pending_migrations(&self) -> StoreResult<Vec<String>> {
        let applied: Result<Vec<i64>, sqlx::Error> = read!(self, |pool, d| {
            sqlx::query_scalar::<_, i64>("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(pool)
                .await
        });
        let applied: HashSet<i64> = match applied {
            Ok(versions) => versions.into_iter().collect(),
            // no migrations table yet: nothing applied
            Err(sqlx::Error::Database(db))
                if db.message().contains("no such table")
                    || db.code().as_deref() == Some("42P01") =>
            {
                HashSet::new()
            }
            Err(e) => return Err(map_err(e)),
        };
        Ok(self
            .migrator()
            .iter()
            .filter(|m| !applied.contains(&m.version))
            .map(|m| format!("{}_{}", m.version, m.description))
            .collect())
    }
}

/// `$first, $first+1, …` for `n` values.
pub(crate) fn marks(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
