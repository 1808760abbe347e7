//! Test helpers shared by the crates' test suites: temporary stores on both backends and small fixtures.
//! A dev-dependency only; nothing here ships in the binary.
//!
//! PostgreSQL tests run when `MOTCUA_TEST_POSTGRES_URL` is set, each in a schema of its own so they can run
//! in parallel. With `MOTCUA_TEST_REQUIRE_POSTGRES=1` (as CI sets it) a missing URL fails the test instead of
//! skipping it, so a CI run cannot pass without the PostgreSQL suite.

pub mod fixtures;

use motcua_store::Store;
use motcua_store_sql::{PgSettings, SqlStore};

pub const POSTGRES_URL_VAR: &str = "MOTCUA_TEST_POSTGRES_URL";
pub const REQUIRE_POSTGRES_VAR: &str = "MOTCUA_TEST_REQUIRE_POSTGRES";

/// A migrated store that cleans up after itself when dropped.
pub struct TestStore {
    pub store: Store,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite {
        db: SqlStore,
        _dir: tempfile::TempDir,
    },
    Postgres {
        db: SqlStore,
        url: String,
        schema: String,
    },
}

impl TestStore {
    /// Close every connection, as if the database went away: later calls fail with `Unavailable`.
    pub async fn simulate_outage(&self) {
        match &self.cleanup {
            Cleanup::Sqlite { db, .. } => db.close().await,
            Cleanup::Postgres { db, .. } => db.close().await,
        }
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Cleanup::Postgres { url, schema, .. } = &self.cleanup {
            let (url, schema) = (url.clone(), schema.clone());
            // Drop cannot await, and may run inside a runtime: do it on a thread with its own runtime.
            let done = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(runtime) = runtime {
                    let _ = runtime.block_on(SqlStore::drop_schema(&url, &schema));
                }
            });
            let _ = done.join();
        }
    }
}

/// A fresh, migrated SQLite database in a temporary directory.
pub async fn sqlite_store() -> TestStore {
    let t = sqlite_store_unmigrated().await;
    if let Cleanup::Sqlite { db, .. } = &t.cleanup {
        db.migrate().await.expect("migrate SQLite");
    }
    t
}

/// A fresh SQLite database that has not been migrated (for readiness checks).
pub async fn sqlite_store_unmigrated() -> TestStore {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("motcua.db").display());
    let db = SqlStore::connect_sqlite(&url).await.expect("open SQLite");
    TestStore {
        store: db.clone().into_store(),
        cleanup: Cleanup::Sqlite { db, _dir: dir },
    }
}

/// The PostgreSQL URL for tests, or `None` (after saying so) when the PostgreSQL suite is not enabled.
/// Panics when `MOTCUA_TEST_REQUIRE_POSTGRES=1` and no URL is set.
pub fn postgres_url() -> Option<String> {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            if std::env::var(REQUIRE_POSTGRES_VAR).is_ok_and(|v| v == "1") {
                panic!(
                    "{REQUIRE_POSTGRES_VAR}=1 but {POSTGRES_URL_VAR} is not set: the PostgreSQL suite must run"
                );
            }
            eprintln!("skipped on PostgreSQL: set {POSTGRES_URL_VAR} to run this test there");
            None
        }
    }
}

/// A fresh, migrated PostgreSQL schema, or `None` when the PostgreSQL suite is not enabled. Panics if the URL
/// is set but the server cannot be used: a configured suite never skips silently.
pub async fn postgres_store() -> Option<TestStore> {
    let url = postgres_url()?;
    let schema = format!("motcua_test_{}", uuid::Uuid::now_v7().simple());
    SqlStore::create_schema(&url, &schema)
        .await
        .unwrap_or_else(|e| panic!("{POSTGRES_URL_VAR} is set but PostgreSQL is not usable: {e}"));
    let store = SqlStore::connect_postgres(
        &url,
        PgSettings {
            schema: Some(schema.clone()),
            max_connections: Some(8),
        },
    )
    .await
    .unwrap_or_else(|e| panic!("connect to PostgreSQL: {e}"));
    store.migrate().await.expect("migrate PostgreSQL");
    Some(TestStore {
        store: store.clone().into_store(),
        cleanup: Cleanup::Postgres {
            db: store,
            url,
            schema,
        },
    })
}
