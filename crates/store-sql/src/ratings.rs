//! Ratings: one per dossier (the key refuses a second), counted per agency for the satisfaction figures.

use async_trait::async_trait;
use time::OffsetDateTime;

use motcua_domain::{
    AccountId, AgencyCode, DossierId,
    rating::{Rating, Satisfaction, SatisfactionFigures},
};
use motcua_store::{RatingRepo, StoreError, StoreResult};

use crate::{
    SqlStore,
    dialect::{At, Id},
    map_err, marks, read,
    rows::Columns,
    write,
};

fn rating_row(row: &impl Columns) -> StoreResult<Rating> {
    let level = row.small("level")?;
    Ok(Rating {
        dossier: DossierId(row.id("dossier_id")?),
        level: Satisfaction::from_score(level)
            .ok_or_else(|| StoreError::Corrupt(format!("rating level {level}")))?,
        comment: row.opt_text("comment")?,
        at: row.at("rated_at")?,
        account: row.opt_id("account_id")?.map(AccountId),
    })
}

#[async_trait]
impl RatingRepo for SqlStore {
    async fn rate(&self, r: &Rating) -> StoreResult<bool> {
        write!(self, |tx, d| {
            sqlx::query(
                "INSERT INTO ratings (dossier_id, agency_code, level, comment, rated_at, account_id) \
                 SELECT id, agency_code, $2, $3, $4, $5 FROM dossiers WHERE id = $1 \
                 ON CONFLICT (dossier_id) DO NOTHING",
            )
            .bind(Id(r.dossier.0))
            .bind(i16::from(r.level.score()))
            .bind(&r.comment)
            .bind(At(r.at))
            .bind(r.account.map(|a| Id(a.0)))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected()
                == 1
        })
    }

    async fn rating_token(
        &self,
        dossier: DossierId,
        fresh: &str,
        at: OffsetDateTime,
    ) -> StoreResult<String> {
        write!(self, |tx, d| {
            sqlx::query(
                "INSERT INTO rating_tokens (dossier_id, token, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (dossier_id) DO NOTHING",
            )
            .bind(Id(dossier.0))
            .bind(fresh)
            .bind(At(at))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            sqlx::query_scalar::<_, String>("SELECT token FROM rating_tokens WHERE dossier_id = $1")
                .bind(Id(dossier.0))
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?
        })
    }

    async fn dossier_of_rating_token(&self, token: &str) -> StoreResult<Option<DossierId>> {
        read!(self, |pool, d| {
            let row = sqlx::query("SELECT dossier_id FROM rating_tokens WHERE token = $1")
                .bind(token)
                .fetch_optional(pool)
                .await
                .map_err(map_err)?;
            row.map(|r| r.id("dossier_id").map(DossierId)).transpose()
        })
    }

    async fn rating(&self, dossier: DossierId) -> StoreResult<Option<Rating>> {
        read!(self, |pool, d| {
            let row = sqlx::query(
                "SELECT dossier_id, level, comment, rated_at, account_id FROM ratings WHERE dossier_id = $1",
            )
            .bind(Id(dossier.0))
            .fetch_optional(pool)
            .await
            .map_err(map_err)?;
            row.as_ref().map(rating_row).transpose()
        })
    }

    async fn figures(
        &self,
        agencies: &[AgencyCode],
        since: OffsetDateTime,
    ) -> StoreResult<SatisfactionFigures> {
        let mut figures = SatisfactionFigures::default();
        if agencies.is_empty() {
            return Ok(figures);
        }
        let sql = format!(
            "SELECT level, COUNT(*) AS n FROM ratings WHERE rated_at >= $1 AND agency_code IN ({}) GROUP BY level",
            marks(2, agencies.len())
        );
        let rows: Vec<(i64, i64)> = read!(self, |pool, d| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(At(since));
            for a in agencies {
                q = q.bind(a.as_str());
            }
            let rows = q.fetch_all(pool).await.map_err(map_err)?;
            rows.iter()
                .map(|r| Ok((r.small("level")?, r.big("n")?)))
                .collect::<StoreResult<Vec<_>>>()
        })?;
        for (level, n) in rows {
            if let Some(s) = Satisfaction::from_score(level) {
                figures.counts[usize::from(s.score()) - 1] = u64::try_from(n).unwrap_or(0);
            }
        }
        Ok(figures)
    }
}
