//! Catalogue searches with no or few results, counted per (anonymous, folded) query.

use async_trait::async_trait;
use time::OffsetDateTime;

use motcua_store::{SearchLogRepo, SearchMiss, StoreError, StoreResult};

use crate::{SqlStore, dialect::At, map_err, read, rows::Columns, write};

#[async_trait]
impl SearchLogRepo for SqlStore {
    async fn record_miss(&self, query: &str, results: u32, at: OffsetDateTime) -> StoreResult<()> {
        let results = i64::from(results);
        write!(self, |tx, d| {
            sqlx::query(
                "INSERT INTO search_misses (query, results, times, first_at, last_at) VALUES ($1, $2, 1, $3, $3) \
                 ON CONFLICT (query) DO UPDATE SET results = excluded.results, \
                 times = search_misses.times + 1, last_at = excluded.last_at",
            )
            .bind(query)
            .bind(results)
            .bind(At(at))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        })
    }

    async fn misses(&self, since: OffsetDateTime, limit: u32) -> StoreResult<Vec<SearchMiss>> {
        let limit = i64::from(limit);
        read!(self, |pool, d| {
            let rows = sqlx::query(
                "SELECT query, results, times, first_at, last_at FROM search_misses WHERE last_at >= $1 \
                 ORDER BY times DESC, last_at DESC, query LIMIT $2",
            )
            .bind(At(since))
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
            rows.iter()
                .map(|r| {
                    let count = |column: &str| -> StoreResult<u32> {
                        u32::try_from(r.big(column)?)
                            .map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
                    };
                    Ok(SearchMiss {
                        query: r.text("query")?,
                        results: count("results")?,
                        times: count("times")?,
                        first_at: r.at("first_at")?,
                        last_at: r.at("last_at")?,
                    })
                })
                .collect()
        })
    }
}
