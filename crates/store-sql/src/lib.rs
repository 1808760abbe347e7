//! The motcua store on SQL databases: SQLite, the embedded default (one file, nothing to install), and
//! PostgreSQL, for production and scale-out. Each backend sits behind a cargo feature (both on by default) and
//! keeps its own migrations (`migrations/sqlite`, `migrations/postgres`); the contract suite in `motcua-store`
//! proves they behave the same.

#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;
