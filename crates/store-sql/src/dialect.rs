//! Everything that differs between SQLite and PostgreSQL, in one place, so that every statement, row type and
//! repository method is written once (ADR 0006):
//!
//! - column types: a uuid is TEXT on SQLite and UUID on PostgreSQL ([`Id`]); an instant is INTEGER microseconds
//!   since the epoch on SQLite and TIMESTAMPTZ on PostgreSQL ([`At`]); a JSON document is TEXT on SQLite and
//!   JSONB on PostgreSQL ([`Json`]). These newtypes encode and decode themselves for both, so one
//!   `#[derive(FromRow)]` struct and one `.bind(…)` serve both backends. Integers are `i32` for INTEGER columns
//!   and `i64` for BIGINT ones on both.
//! - a few fragments of SQL ([`Dialect`]): row locks, the larger of two values, serialising savers.
//!
//! Statements use `$N` placeholders, which SQLite accepts too.

use sqlx::{Database, Decode, Encode, Type, encode::IsNull, error::BoxDynError};
use time::OffsetDateTime;
use uuid::Uuid;

/// Which SQL the statement is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    #[cfg(feature = "sqlite")]
    Sqlite,
    #[cfg(feature = "postgres")]
    Postgres,
}

impl Dialect {
    /// ` FOR UPDATE` where rows can be locked one by one; SQLite's `BEGIN IMMEDIATE` has locked the whole
    /// database already.
    pub(crate) fn for_update(self) -> &'static str {
        match self {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => "",
            #[cfg(feature = "postgres")]
            Dialect::Postgres => " FOR UPDATE",
        }
    }

    /// The database's clock as an instant of this backend (SQLite: microseconds, to the millisecond).
    pub(crate) fn clock(self) -> &'static str {
        match self {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)",
            #[cfg(feature = "postgres")]
            Dialect::Postgres => "clock_timestamp()",
        }
    }

    /// The statement that lets this transaction commit without waiting for its log to reach the disk
    /// (PostgreSQL's `synchronous_commit = off` for the transaction): for counters and logs whose last moments may
    /// be lost in a crash (a rate-limit window, the API's call log), never for a dossier. SQLite's commit is
    /// already cheap (WAL).
    pub(crate) fn relaxed_commit(self) -> Option<&'static str> {
        match self {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => None,
            #[cfg(feature = "postgres")]
            Dialect::Postgres => Some("SET LOCAL synchronous_commit = off"),
        }
    }

    /// ` FOR UPDATE OF table` (PostgreSQL), nothing on SQLite.
    pub(crate) fn for_update_of(self, table: &str) -> String {
        match self {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => String::new(),
            #[cfg(feature = "postgres")]
            Dialect::Postgres => format!(" FOR UPDATE OF {table}"),
        }
    }

    /// ` FOR UPDATE SKIP LOCKED`: rows another worker has claimed are passed over (PostgreSQL); SQLite's single
    /// writer already excludes other workers.
    pub(crate) fn skip_locked(self) -> &'static str {
        match self {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => "",
            #[cfg(feature = "postgres")]
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// [`Self::skip_locked`], locking only the rows of `table` (the others joined stay free).
    pub(crate) fn skip_locked_of(self, table: &str) -> String {
        match self {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => String::new(),
            #[cfg(feature = "postgres")]
            Dialect::Postgres => format!(" FOR UPDATE OF {table} SKIP LOCKED"),
        }
    }

    /// Order text by its bytes, as SQLite does by default (` COLLATE "C"` on PostgreSQL, whose default follows
    /// the locale).
    pub(crate) fn binary(self) -> &'static str {
        match self {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => "",
            #[cfg(feature = "postgres")]
            Dialect::Postgres => " COLLATE \"C\"",
        }
    }

    /// The larger of two values: `GREATEST` on PostgreSQL, the two-argument `MAX` on SQLite.
    pub(crate) fn greatest(self) -> &'static str {
        match self {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => "MAX",
            #[cfg(feature = "postgres")]
            Dialect::Postgres => "GREATEST",
        }
    }

    /// A statement that makes savers of the same `key` wait for each other until the transaction ends, or
    /// `None` where the transaction already excludes every other writer (SQLite).
    pub(crate) fn serialise_on(self) -> Option<&'static str> {
        match self {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => None,
            #[cfg(feature = "postgres")]
            Dialect::Postgres => Some("SELECT pg_advisory_xact_lock(hashtext($1))"),
        }
    }
}

/// A uuid: TEXT on SQLite, UUID on PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Id(pub Uuid);

/// An instant: INTEGER microseconds since the epoch on SQLite, TIMESTAMPTZ on PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct At(pub OffsetDateTime);

/// A JSON document: TEXT on SQLite, JSONB on PostgreSQL.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Json(pub serde_json::Value);

impl Json {
    /// A document given as JSON text.
    pub(crate) fn parse(text: &str) -> motcua_store::StoreResult<Json> {
        serde_json::from_str(text)
            .map(Json)
            .map_err(|e| motcua_store::StoreError::Other(format!("JSON: {e}")))
    }
}

impl From<Uuid> for Id {
    fn from(value: Uuid) -> Self {
        Id(value)
    }
}

impl From<OffsetDateTime> for At {
    fn from(value: OffsetDateTime) -> Self {
        At(value)
    }
}

/// Micro-seconds since the epoch (SQLite's form of an instant).
pub(crate) fn micros(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000) as i64
}

/// Implement `Type`, `Encode` and `Decode` for one backend by converting to and from a type it knows.
macro_rules! stored_as {
    ($db:ty, $ours:ty, $theirs:ty, |$e:ident| $encode:expr, |$d:ident| $decode:expr) => {
        impl Type<$db> for $ours {
            fn type_info() -> <$db as Database>::TypeInfo {
                <$theirs as Type<$db>>::type_info()
            }
            fn compatible(ty: &<$db as Database>::TypeInfo) -> bool {
                <$theirs as Type<$db>>::compatible(ty)
            }
        }
        impl<'q> Encode<'q, $db> for $ours {
            fn encode_by_ref(
                &self,
                buf: &mut <$db as Database>::ArgumentBuffer,
            ) -> Result<IsNull, BoxDynError> {
                let $e = self;
                let value: $theirs = $encode;
                <$theirs as Encode<'q, $db>>::encode(value, buf)
            }
        }
        impl<'r> Decode<'r, $db> for $ours {
            fn decode(value: <$db as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let $d = <$theirs as Decode<'r, $db>>::decode(value)?;
                $decode
            }
        }
    };
}

#[cfg(feature = "sqlite")]
stored_as!(sqlx::Sqlite, Id, String, |e| e.0.to_string(), |d| Ok(Id(
    Uuid::parse_str(&d)?
)));
#[cfg(feature = "postgres")]
stored_as!(sqlx::Postgres, Id, Uuid, |e| e.0, |d| Ok(Id(d)));

#[cfg(feature = "sqlite")]
stored_as!(sqlx::Sqlite, At, i64, |e| micros(e.0), |d| Ok(At(
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(d) * 1_000)?
)));
#[cfg(feature = "postgres")]
stored_as!(sqlx::Postgres, At, OffsetDateTime, |e| e.0, |d| Ok(At(d)));

#[cfg(feature = "sqlite")]
stored_as!(sqlx::Sqlite, Json, String, |e| e.0.to_string(), |d| Ok(
    Json(serde_json::from_str(&d)?)
));
#[cfg(feature = "postgres")]
stored_as!(
    sqlx::Postgres,
    Json,
    sqlx::types::Json<serde_json::Value>,
    |e| sqlx::types::Json(e.0.clone()),
    |d| Ok(Json(d.0))
);
