//! Reading a column of a row the same way on both backends: one trait with a method per kind of column, so that
//! every row decoder is written once (`fn x_row(row: &impl Columns)`).

use motcua_store::StoreResult;
use sqlx::Row;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::{
    dialect::{At, Id, Json},
    map_err,
};

pub(crate) trait Columns {
    fn text(&self, column: &str) -> StoreResult<String>;
    fn opt_text(&self, column: &str) -> StoreResult<Option<String>>;
    fn id(&self, column: &str) -> StoreResult<Uuid>;
    fn opt_id(&self, column: &str) -> StoreResult<Option<Uuid>>;
    fn at(&self, column: &str) -> StoreResult<OffsetDateTime>;
    fn opt_at(&self, column: &str) -> StoreResult<Option<OffsetDateTime>>;
    /// An INTEGER column (four bytes on PostgreSQL), widened.
    fn int(&self, column: &str) -> StoreResult<i64>;
    /// A SMALLINT column, widened.
    fn small(&self, column: &str) -> StoreResult<i64>;
    /// A BIGINT column, or a count.
    fn big(&self, column: &str) -> StoreResult<i64>;
    fn opt_big(&self, column: &str) -> StoreResult<Option<i64>>;
    fn boolean(&self, column: &str) -> StoreResult<bool>;
    fn date(&self, column: &str) -> StoreResult<Date>;
    fn opt_date(&self, column: &str) -> StoreResult<Option<Date>>;
    fn json(&self, column: &str) -> StoreResult<serde_json::Value>;
    fn opt_json(&self, column: &str) -> StoreResult<Option<serde_json::Value>>;
    /// A count (`COUNT(*)`, a sum of ones): never negative.
    fn count(&self, column: &str) -> StoreResult<u64> {
        u64::try_from(self.big(column)?)
            .map_err(|e| motcua_store::StoreError::Corrupt(format!("{column}: {e}")))
    }
}

macro_rules! columns_for {
    ($row:ty) => {
        impl Columns for $row {
            fn text(&self, column: &str) -> StoreResult<String> {
                self.try_get(column).map_err(map_err)
            }
            fn opt_text(&self, column: &str) -> StoreResult<Option<String>> {
                self.try_get(column).map_err(map_err)
            }
            fn id(&self, column: &str) -> StoreResult<Uuid> {
                Ok(self.try_get::<Id, _>(column).map_err(map_err)?.0)
            }
            fn opt_id(&self, column: &str) -> StoreResult<Option<Uuid>> {
                Ok(self
                    .try_get::<Option<Id>, _>(column)
                    .map_err(map_err)?
                    .map(|i| i.0))
            }
            fn at(&self, column: &str) -> StoreResult<OffsetDateTime> {
                Ok(self.try_get::<At, _>(column).map_err(map_err)?.0)
            }
            fn opt_at(&self, column: &str) -> StoreResult<Option<OffsetDateTime>> {
                Ok(self
                    .try_get::<Option<At>, _>(column)
                    .map_err(map_err)?
                    .map(|a| a.0))
            }
            fn int(&self, column: &str) -> StoreResult<i64> {
                Ok(i64::from(self.try_get::<i32, _>(column).map_err(map_err)?))
            }
            fn small(&self, column: &str) -> StoreResult<i64> {
                Ok(i64::from(self.try_get::<i16, _>(column).map_err(map_err)?))
            }
            fn big(&self, column: &str) -> StoreResult<i64> {
                self.try_get(column).map_err(map_err)
            }
            fn opt_big(&self, column: &str) -> StoreResult<Option<i64>> {
                self.try_get(column).map_err(map_err)
            }
            fn boolean(&self, column: &str) -> StoreResult<bool> {
                self.try_get(column).map_err(map_err)
            }
            fn date(&self, column: &str) -> StoreResult<Date> {
                self.try_get(column).map_err(map_err)
            }
            fn opt_date(&self, column: &str) -> StoreResult<Option<Date>> {
                self.try_get(column).map_err(map_err)
            }
            fn json(&self, column: &str) -> StoreResult<serde_json::Value> {
                Ok(self.try_get::<Json, _>(column).map_err(map_err)?.0)
            }
            fn opt_json(&self, column: &str) -> StoreResult<Option<serde_json::Value>> {
                Ok(self
                    .try_get::<Option<Json>, _>(column)
                    .map_err(map_err)?
                    .map(|j| j.0))
            }
        }
    };
}

#[cfg(feature = "sqlite")]
columns_for!(sqlx::sqlite::SqliteRow);
#[cfg(feature = "postgres")]
columns_for!(sqlx::postgres::PgRow);
