//! Catalogue searches with no or few results, counted per (anonymous, folded) query.

use async_trait::async_trait;
use time::OffsetDateTime;

use motcua_store::{SearchLogRepo, SearchMiss, StoreError, StoreResult, SynonymTable};

use crate::{
    SqlStore, catalogue::bump_catalogue_version, dialect::At, map_err, read, rows::Columns, write,
};

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

    async fn synonyms(&self) -> StoreResult<Option<SynonymTable>> {
        read!(self, |pool, d| {
            let row =
                sqlx::query("SELECT body, saved_at, saved_by FROM search_synonyms WHERE id = 1")
                    .fetch_optional(pool)
                    .await
                    .map_err(map_err)?;
            row.map(|r| {
                Ok(SynonymTable {
                    text: r.text("body")?,
                    saved_at: r.at("saved_at")?,
                    saved_by: r.text("saved_by")?,
                })
            })
            .transpose()
        })
    }

    async fn save_synonyms(&self, table: &SynonymTable) -> StoreResult<()> {
        write!(self, |tx, d| {
            sqlx::query(
                "INSERT INTO search_synonyms (id, body, saved_at, saved_by) VALUES (1, $1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET body = excluded.body, saved_at = excluded.saved_at, \
                 saved_by = excluded.saved_by",
            )
            .bind(&table.text)
            .bind(At(table.saved_at))
            .bind(&table.saved_by)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            bump_catalogue_version((&mut *tx).into()).await?;
        })
    }
}
