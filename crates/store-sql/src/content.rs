//! The pages editors write (help, frequently asked questions, contact).

use async_trait::async_trait;

use motcua_store::{ContentPage, ContentRepo, StoreResult};

use crate::{SqlStore, dialect::At, map_err, read, rows::Columns, write};

#[async_trait]
impl ContentRepo for SqlStore {
    async fn page(&self, slug: &str) -> StoreResult<Option<ContentPage>> {
        read!(self, |pool, d| {
            let row = sqlx::query(
                "SELECT slug, title, body, saved_at, saved_by FROM content_pages WHERE slug = $1",
            )
            .bind(slug)
            .fetch_optional(pool)
            .await
            .map_err(map_err)?;
            row.map(|r| {
                Ok(ContentPage {
                    slug: r.text("slug")?,
                    title: r.text("title")?,
                    body: r.text("body")?,
                    saved_at: r.at("saved_at")?,
                    saved_by: r.text("saved_by")?,
                })
            })
            .transpose()
        })
    }

    async fn save_page(&self, page: &ContentPage) -> StoreResult<()> {
        write!(self, |tx, d| {
            sqlx::query(
                "INSERT INTO content_pages (slug, title, body, saved_at, saved_by) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (slug) DO UPDATE SET title = excluded.title, body = excluded.body, \
                 saved_at = excluded.saved_at, saved_by = excluded.saved_by",
            )
            .bind(&page.slug)
            .bind(&page.title)
            .bind(&page.body)
            .bind(At(page.saved_at))
            .bind(&page.saved_by)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        })
    }
}
