//! Articles: the editors' copies and their versions, the approved version readers see, votes, comments, and the
//! keys the nodes share.

use async_trait::async_trait;
use uuid::Uuid;

use motcua_domain::{
    AccountId,
    article::{Category, CommentStatus, Status, Step},
};
use motcua_store::{
    Article, ArticleCopy, ArticleRepo, Comment, LiveArticle, Moderation, NewArticle, NewComment,
    Review, StoreError, StoreResult, Vote, VoteOutcome,
};

use crate::{
    SqlStore,
    dialect::{At, Id},
    map_err, read,
    rows::Columns,
    submission::queue_email,
    write,
};

/// Lock an article's row for the rest of the caller's transaction (on SQLite the single writer does it already);
/// `NotFound` when there is no such article.
macro_rules! lock_article {
    ($tx:ident, $d:ident, $id:expr) => {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM articles WHERE id = $1{}",
            $d.for_update()
        )))
        .bind(Id($id))
        .fetch_optional(&mut *$tx)
        .await
        .map_err(map_err)?
        .ok_or(StoreError::NotFound)?;
    };
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {value}"))
}

fn version_of(value: i64) -> StoreResult<u32> {
    u32::try_from(value).map_err(|_| corrupt("version", &value.to_string()))
}

fn procedures_of(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn count_of(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

const COPY_COLUMNS: &str = "v.version, v.category, v.title, v.summary, v.body, v.procedures, v.saved_by, \
                            v.saved_at, v.publish_at, v.unpublish_at";

fn copy_row(r: &impl Columns) -> StoreResult<ArticleCopy> {
    let category = r.text("category")?;
    Ok(ArticleCopy {
        version: version_of(r.int("version")?)?,
        category: Category::parse(&category).ok_or_else(|| corrupt("category", &category))?,
        title: r.text("title")?,
        summary: r.text("summary")?,
        body: r.text("body")?,
        procedures: procedures_of(&r.text("procedures")?),
        saved_by: AccountId(r.id("saved_by")?),
        saved_at: r.at("saved_at")?,
        publish_at: r.opt_at("publish_at")?,
        unpublish_at: r.opt_at("unpublish_at")?,
    })
}

fn article_select() -> String {
    format!(
        "SELECT a.id, a.slug, a.status, COALESCE(a.live_version, 0) AS live_version, a.review_note, a.created_by, a.created_at, a.approved_by, \
         a.approved_at, a.publish_at AS live_from, a.unpublish_at AS live_until, a.stars_sum, a.stars_count, \
         a.comments, {COPY_COLUMNS} \
         FROM articles a JOIN article_versions v ON v.article_id = a.id AND v.version = a.version"
    )
}

fn article_row(r: &impl Columns) -> StoreResult<Article> {
    let status = r.text("status")?;
    Ok(Article {
        id: r.id("id")?,
        slug: r.text("slug")?,
        status: Status::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        copy: copy_row(r)?,
        // 0: none (versions start at 1)
        live_version: match r.int("live_version")? {
            0 => None,
            v => Some(version_of(v)?),
        },
        review_note: r.opt_text("review_note")?,
        created_by: AccountId(r.id("created_by")?),
        created_at: r.at("created_at")?,
        approved_by: r.opt_id("approved_by")?.map(AccountId),
        approved_at: r.opt_at("approved_at")?,
        live_from: r.opt_at("live_from")?,
        live_until: r.opt_at("live_until")?,
        stars_sum: count_of(r.big("stars_sum")?),
        stars_count: count_of(r.big("stars_count")?),
        comments: count_of(r.big("comments")?),
    })
}

const COMMENT_SELECT: &str = "SELECT c.id, c.article_id, v.title, a.slug, c.name, c.email, c.body, c.status, \
     c.reason, c.created_at FROM article_comments c JOIN articles a ON a.id = c.article_id \
     JOIN article_versions v ON v.article_id = a.id AND v.version = a.version";

fn comment_row(r: &impl Columns) -> StoreResult<Comment> {
    let status = r.text("status")?;
    Ok(Comment {
        id: r.id("id")?,
        article: r.id("article_id")?,
        article_title: r.text("title")?,
        article_slug: r.text("slug")?,
        name: r.text("name")?,
        email: r.opt_text("email")?,
        body: r.text("body")?,
        status: CommentStatus::parse(&status).ok_or_else(|| corrupt("comment status", &status))?,
        reason: r.opt_text("reason")?,
        created_at: r.at("created_at")?,
    })
}

#[async_trait]
impl ArticleRepo for SqlStore {
    async fn create(&self, article: &NewArticle) -> StoreResult<()> {
        let c = &article.copy;
        write!(self, |tx, d| {
            sqlx::query(
                "INSERT INTO articles (id, slug, status, version, created_by, created_at, updated_at) \
                 VALUES ($1, $2, 'draft', 1, $3, $4, $4)",
            )
            .bind(Id(article.id))
            .bind(&article.slug)
            .bind(Id(c.saved_by.0))
            .bind(At(c.saved_at))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            sqlx::query(
                "INSERT INTO article_versions (article_id, version, category, title, summary, body, procedures, \
                 saved_by, saved_at, publish_at, unpublish_at) VALUES ($1, 1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(Id(article.id))
            .bind(c.category.code())
            .bind(&c.title)
            .bind(&c.summary)
            .bind(&c.body)
            .bind(c.procedures.join("\n"))
            .bind(Id(c.saved_by.0))
            .bind(At(c.saved_at))
            .bind(c.publish_at.map(At))
            .bind(c.unpublish_at.map(At))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        })
    }

    async fn save(
        &self,
        id: Uuid,
        expected_version: u32,
        copy: &ArticleCopy,
        at: time::OffsetDateTime,
    ) -> StoreResult<u32> {
        let expected = i32::try_from(expected_version).map_err(|_| StoreError::NotFound)?;
        write!(self, |tx, d| {
            let moved = sqlx::query(
                "UPDATE articles SET version = version + 1, status = 'draft', review_note = NULL, \
                 updated_at = $3 WHERE id = $1 AND version = $2",
            )
            .bind(Id(id))
            .bind(expected)
            .bind(At(at))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
            if moved == 0 {
                return Err(StoreError::Conflict(
                    "bài viết đã được người khác lưu sau khi bạn mở".into(),
                ));
            }
            sqlx::query(
                "INSERT INTO article_versions (article_id, version, category, title, summary, body, procedures, \
                 saved_by, saved_at, publish_at, unpublish_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(Id(id))
            .bind(expected + 1)
            .bind(copy.category.code())
            .bind(&copy.title)
            .bind(&copy.summary)
            .bind(&copy.body)
            .bind(copy.procedures.join("\n"))
            .bind(Id(copy.saved_by.0))
            .bind(At(at))
            .bind(copy.publish_at.map(At))
            .bind(copy.unpublish_at.map(At))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            expected_version + 1
        })
    }

    async fn get(&self, id: Uuid) -> StoreResult<Option<Article>> {
        read!(self, |pool, d| {
            let sql = format!("{} WHERE a.id = $1", article_select());
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(Id(id))
                .fetch_optional(pool)
                .await
                .map_err(map_err)?;
            row.as_ref().map(article_row).transpose()
        })
    }

    async fn version(&self, id: Uuid, version: u32) -> StoreResult<Option<ArticleCopy>> {
        let Ok(version) = i32::try_from(version) else {
            return Ok(None);
        };
        read!(self, |pool, d| {
            let sql = format!(
                "SELECT {COPY_COLUMNS} FROM article_versions v WHERE v.article_id = $1 AND v.version = $2"
            );
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(Id(id))
                .bind(version)
                .fetch_optional(pool)
                .await
                .map_err(map_err)?;
            row.as_ref().map(copy_row).transpose()
        })
    }

    async fn versions(&self, id: Uuid) -> StoreResult<Vec<ArticleCopy>> {
        read!(self, |pool, d| {
            let rows = sqlx::query(
                "SELECT v.version, v.category, v.title, v.summary, '' AS body, v.procedures, v.saved_by, \
                 v.saved_at, v.publish_at, v.unpublish_at FROM article_versions v \
                 WHERE v.article_id = $1 ORDER BY v.version DESC",
            )
            .bind(Id(id))
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
            rows.iter().map(copy_row).collect()
        })
    }

    async fn list(
        &self,
        status: Option<Status>,
        limit: u32,
        offset: u64,
    ) -> StoreResult<(Vec<Article>, u64)> {
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let code = status.map(Status::code);
        read!(self, |pool, d| {
            let sql = format!(
                "{} WHERE ($1 IS NULL OR a.status = $1) ORDER BY a.updated_at DESC, a.id LIMIT $2 OFFSET $3",
                article_select()
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(code)
                .bind(i64::from(limit))
                .bind(offset)
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
            let total =
                sqlx::query("SELECT COUNT(*) AS n FROM articles WHERE ($1 IS NULL OR status = $1)")
                    .bind(code)
                    .fetch_one(pool)
                    .await
                    .map_err(map_err)?
                    .count("n")?;
            Ok((
                rows.iter()
                    .map(article_row)
                    .collect::<StoreResult<Vec<_>>>()?,
                total,
            ))
        })
    }

    async fn review(&self, review: &Review) -> StoreResult<Status> {
        let version = i32::try_from(review.version).map_err(|_| StoreError::NotFound)?;
        write!(self, |tx, d| {
            let sql = format!(
                "SELECT status, version, COALESCE(live_version, 0) AS live_version, publish_at FROM articles \
                 WHERE id = $1{}",
                d.for_update()
            );
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(Id(review.id))
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?
                .ok_or(StoreError::NotFound)?;
            let status = row.text("status")?;
            let status = Status::parse(&status).ok_or_else(|| corrupt("status", &status))?;
            if row.int("version")? != i64::from(version) {
                return Err(StoreError::Conflict(
                    "bài viết đã được sửa sau khi bạn mở: xem lại bản mới nhất".into(),
                ));
            }
            let Some(next) = status.after(review.step) else {
                return Err(StoreError::Conflict(format!(
                    "bài viết đang ở trạng thái “{}”, không thể làm việc này",
                    status.label()
                )));
            };
            match review.step {
                Step::Approve => {
                    let times = sqlx::query(
                        "SELECT publish_at, unpublish_at FROM article_versions WHERE article_id = $1 AND version = $2",
                    )
                    .bind(Id(review.id))
                    .bind(version)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(map_err)?;
                    // an article readers already have keeps its publication date: a corrected version neither
                    // moves it up the lists nor takes it offline until a later time
                    let live = row.int("live_version")? > 0;
                    let live_since = row
                        .opt_at("publish_at")?
                        .filter(|at| live && *at <= review.at);
                    let publish_at = live_since
                        .or(times.opt_at("publish_at")?)
                        .unwrap_or(review.at);
                    sqlx::query(
                        "UPDATE articles SET status = $2, live_version = version, publish_at = $3, \
                         unpublish_at = $6, approved_by = $4, approved_at = $5, review_note = NULL, updated_at = $5 \
                         WHERE id = $1",
                    )
                    .bind(Id(review.id))
                    .bind(next.code())
                    .bind(At(publish_at))
                    .bind(Id(review.by.0))
                    .bind(At(review.at))
                    .bind(times.opt_at("unpublish_at")?.map(At))
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                }
                _ => {
                    sqlx::query(
                        "UPDATE articles SET status = $2, review_note = $3, updated_at = $4 WHERE id = $1",
                    )
                    .bind(Id(review.id))
                    .bind(next.code())
                    .bind(review.note.as_deref())
                    .bind(At(review.at))
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                }
            }
            next
        })
    }

    async fn unpublish(
        &self,
        id: Uuid,
        _by: AccountId,
        at: time::OffsetDateTime,
    ) -> StoreResult<()> {
        write!(self, |tx, d| {
            let changed = sqlx::query(
                "UPDATE articles SET live_version = NULL, status = CASE WHEN status = 'approved' THEN 'draft' \
                 ELSE status END, updated_at = $2 WHERE id = $1 AND live_version IS NOT NULL",
            )
            .bind(Id(id))
            .bind(At(at))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
            if changed == 0 {
                return Err(StoreError::Conflict("bài viết không đang được đăng".into()));
            }
        })
    }

    async fn live(&self) -> StoreResult<Vec<LiveArticle>> {
        read!(self, |pool, d| {
            let rows = sqlx::query(
                "SELECT a.id, a.slug, a.live_version, v.category, v.title, v.summary, v.procedures, a.publish_at, \
                 a.unpublish_at, a.stars_sum, a.stars_count, a.comments FROM articles a \
                 JOIN article_versions v ON v.article_id = a.id AND v.version = a.live_version \
                 WHERE a.live_version IS NOT NULL AND a.publish_at IS NOT NULL \
                 ORDER BY a.publish_at DESC, a.id",
            )
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
            rows.iter()
                .map(|r| {
                    let category = r.text("category")?;
                    Ok(LiveArticle {
                        id: r.id("id")?,
                        slug: r.text("slug")?,
                        version: version_of(r.int("live_version")?)?,
                        category: Category::parse(&category)
                            .ok_or_else(|| corrupt("category", &category))?,
                        title: r.text("title")?,
                        summary: r.text("summary")?,
                        procedures: procedures_of(&r.text("procedures")?),
                        publish_at: r.at("publish_at")?,
                        unpublish_at: r.opt_at("unpublish_at")?,
                        stars_sum: count_of(r.big("stars_sum")?),
                        stars_count: count_of(r.big("stars_count")?),
                        comments: count_of(r.big("comments")?),
                    })
                })
                .collect()
        })
    }

    async fn vote(&self, vote: &Vote) -> StoreResult<VoteOutcome> {
        let day = vote.day.to_string();
        let stars = i16::from(vote.stars);
        write!(self, |tx, d| {
            // the article's row first: votes on one article queue here, so the counts below see every vote
            // committed before (PostgreSQL's per-statement snapshots) and the address check cannot race
            lock_article!(tx, d, vote.article);
            let changed = sqlx::query(
                "UPDATE article_votes SET stars = $3, voted_at = $4 WHERE article_id = $1 AND voter = $2",
            )
            .bind(Id(vote.article))
            .bind(&vote.voter)
            .bind(stars)
            .bind(At(vote.at))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
            let outcome = if changed > 0 {
                VoteOutcome::Changed
            } else {
                let taken = sqlx::query(
                    "SELECT COUNT(*) AS n FROM article_votes WHERE article_id = $1 AND day = $2 AND address = $3",
                )
                .bind(Id(vote.article))
                .bind(&day)
                .bind(&vote.address)
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?
                .count("n")?;
                if taken > 0 {
                    return Ok(VoteOutcome::AddressUsedToday);
                }
                sqlx::query(
                    "INSERT INTO article_votes (article_id, voter, day, address, stars, voted_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(Id(vote.article))
                .bind(&vote.voter)
                .bind(&day)
                .bind(&vote.address)
                .bind(stars)
                .bind(At(vote.at))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                VoteOutcome::Counted
            };
            sqlx::query(
                "UPDATE articles SET \
                 stars_sum = (SELECT COALESCE(SUM(stars), 0) FROM article_votes WHERE article_id = $1), \
                 stars_count = (SELECT COUNT(*) FROM article_votes WHERE article_id = $1) WHERE id = $1",
            )
            .bind(Id(vote.article))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            outcome
        })
    }

    async fn comment(&self, comment: &NewComment) -> StoreResult<()> {
        write!(self, |tx, d| {
            // the article first (before the comment's key check takes a share of it): two comments published at
            // once queue here instead of deadlocking
            if comment.status == CommentStatus::Published {
                lock_article!(tx, d, comment.article);
            }
            sqlx::query(
                "INSERT INTO article_comments (id, article_id, name, email, body, status, account_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(Id(comment.id))
            .bind(Id(comment.article))
            .bind(&comment.name)
            .bind(comment.email.as_deref())
            .bind(&comment.body)
            .bind(comment.status.code())
            .bind(comment.account.map(|a| Id(a.0)))
            .bind(At(comment.at))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            if comment.status == CommentStatus::Published {
                sqlx::query(COUNT_COMMENTS)
                    .bind(Id(comment.article))
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
            }
        })
    }

    async fn comments(
        &self,
        article: Uuid,
        status: CommentStatus,
        limit: u32,
    ) -> StoreResult<Vec<Comment>> {
        read!(self, |pool, d| {
            let sql = format!(
                "{COMMENT_SELECT} WHERE c.article_id = $1 AND c.status = $2 \
                 ORDER BY c.created_at DESC, c.id DESC LIMIT $3"
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(Id(article))
                .bind(status.code())
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
            let mut list = rows
                .iter()
                .map(comment_row)
                .collect::<StoreResult<Vec<_>>>()?;
            list.reverse();
            Ok(list)
        })
    }

    async fn held_comments(&self, limit: u32) -> StoreResult<(Vec<Comment>, u64)> {
        read!(self, |pool, d| {
            let sql = format!(
                "{COMMENT_SELECT} WHERE c.status = 'held' ORDER BY c.created_at, c.id LIMIT $1"
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
            let total =
                sqlx::query("SELECT COUNT(*) AS n FROM article_comments WHERE status = 'held'")
                    .fetch_one(pool)
                    .await
                    .map_err(map_err)?
                    .count("n")?;
            Ok((
                rows.iter()
                    .map(comment_row)
                    .collect::<StoreResult<Vec<_>>>()?,
                total,
            ))
        })
    }

    async fn held_comment(&self, id: Uuid) -> StoreResult<Option<Comment>> {
        read!(self, |pool, d| {
            let sql = format!("{COMMENT_SELECT} WHERE c.id = $1 AND c.status = 'held'");
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(Id(id))
                .fetch_optional(pool)
                .await
                .map_err(map_err)?;
            row.as_ref().map(comment_row).transpose()
        })
    }

    async fn moderate(&self, decision: &Moderation) -> StoreResult<Option<Comment>> {
        let status = if decision.publish {
            CommentStatus::Published
        } else {
            CommentStatus::Rejected
        };
        write!(self, |tx, d| {
            let changed = sqlx::query(
                "UPDATE article_comments SET status = $2, reason = $3, moderated_by = $4, moderated_at = $5 \
                 WHERE id = $1 AND status = 'held'",
            )
            .bind(Id(decision.comment))
            .bind(status.code())
            .bind(decision.reason.as_deref())
            .bind(Id(decision.by.0))
            .bind(At(decision.at))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
            if changed == 0 {
                return Ok(None);
            }
            let sql = format!("{COMMENT_SELECT} WHERE c.id = $1");
            let comment = comment_row(
                &sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(Id(decision.comment))
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(map_err)?,
            )?;
            if decision.publish {
                lock_article!(tx, d, comment.article);
                sqlx::query(COUNT_COMMENTS)
                    .bind(Id(comment.article))
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
            }
            if let Some(email) = &decision.email {
                let payload = serde_json::json!({
                    "to": email.to,
                    "subject": email.subject,
                    "body": email.body,
                })
                .to_string();
                queue_email(
                    (&mut *tx).into(),
                    &email.to,
                    &payload,
                    decision.at,
                    None,
                    None,
                )
                .await?;
            }
            Some(comment)
        })
    }

    async fn site_key(&self, name: &str, candidate: &str) -> StoreResult<String> {
        write!(self, |tx, d| {
            sqlx::query(
                "INSERT INTO site_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(candidate)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            sqlx::query("SELECT value FROM site_keys WHERE name = $1")
                .bind(name)
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?
                .text("value")?
        })
    }
}

/// Keep an article's count of published comments (run in the transaction that publishes one).
const COUNT_COMMENTS: &str = "UPDATE articles SET comments = (SELECT COUNT(*) FROM article_comments \
     WHERE article_id = $1 AND status = 'published') WHERE id = $1";
