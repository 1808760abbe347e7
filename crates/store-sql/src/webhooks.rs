//! Webhook subscriptions and their deliveries. Deliveries are written by `dossiers::append_event`, in the commit
//! of the change they announce; here they are taken, recorded and listed.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use motcua_domain::{
    DossierId,
    api_client::ApiClientId,
    webhook::{self, Webhook, WebhookDelivery},
};
use motcua_store::{DeliveryTry, StoreError, StoreResult, WebhookRepo};

use crate::{
    SqlStore,
    dialect::{At, Id},
    map_err, read,
    rows::Columns,
    write,
};

const WEBHOOK_COLUMNS: &str = "w.id, w.client_id, w.url, w.events, w.secret, w.created_at";
const DELIVERY_COLUMNS: &str = "x.webhook_id, x.event_id, x.dossier_id, x.event_type, x.created_at AS delivery_created_at, \
     x.attempts, x.next_at, x.delivered_at, x.last_status, x.last_error";

fn webhook_row(r: &impl Columns) -> StoreResult<Webhook> {
    Ok(Webhook {
        id: r.id("id")?,
        client: ApiClientId(r.id("client_id")?),
        url: r.text("url")?,
        events: r
            .text("events")?
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        secret: r.text("secret")?,
        created_at: r.at("created_at")?,
    })
}

fn delivery_row(r: &impl Columns) -> StoreResult<WebhookDelivery> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("webhook_deliveries.{what}"));
    Ok(WebhookDelivery {
        webhook: r.id("webhook_id")?,
        event: r.id("event_id")?,
        event_type: r.text("event_type")?,
        created_at: r.at("delivery_created_at")?,
        attempts: u32::try_from(r.int("attempts")?).map_err(|_| corrupt("attempts"))?,
        next_at: r.opt_at("next_at")?,
        delivered_at: r.opt_at("delivered_at")?,
        last_status: match r.opt_big("last_status")? {
            Some(s) => Some(u16::try_from(s).map_err(|_| corrupt("last_status"))?),
            None => None,
        },
        last_error: r.opt_text("last_error")?,
    })
}

#[async_trait]
impl WebhookRepo for SqlStore {
    async fn create_webhook(&self, w: &Webhook) -> StoreResult<()> {
        write!(self, |tx, d| {
            sqlx::query(
                "INSERT INTO webhooks (id, client_id, url, events, secret, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(Id(w.id))
            .bind(Id(w.client.0))
            .bind(&w.url)
            .bind(w.events.join(" "))
            .bind(&w.secret)
            .bind(At(w.created_at))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        })
    }

    async fn webhooks(&self, client: ApiClientId) -> StoreResult<Vec<Webhook>> {
        let sql = format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks w WHERE w.client_id = $1 AND w.removed_at IS NULL \
             ORDER BY w.created_at, w.id"
        );
        read!(self, |pool, d| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(Id(client.0))
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
            rows.iter().map(webhook_row).collect()
        })
    }

    async fn webhook(&self, client: ApiClientId, id: Uuid) -> StoreResult<Option<Webhook>> {
        let sql = format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks w WHERE w.id = $1 AND w.client_id = $2 AND w.removed_at IS NULL"
        );
        read!(self, |pool, d| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(Id(id))
                .bind(Id(client.0))
                .fetch_optional(pool)
                .await
                .map_err(map_err)?;
            row.as_ref().map(webhook_row).transpose()
        })
    }

    async fn remove_webhook(
        &self,
        client: ApiClientId,
        id: Uuid,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        write!(self, |tx, d| {
            let removed = sqlx::query(
                "UPDATE webhooks SET removed_at = $1 WHERE id = $2 AND client_id = $3 AND removed_at IS NULL",
            )
            .bind(At(at))
            .bind(Id(id))
            .bind(Id(client.0))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected()
                == 1;
            if removed {
                sqlx::query(
                    "UPDATE webhook_deliveries SET next_at = NULL, last_error = 'Đăng ký đã bị xóa trước khi gửi' \
                     WHERE webhook_id = $1 AND next_at IS NOT NULL",
                )
                .bind(Id(id))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            }
            removed
        })
    }

    async fn claim_deliveries(
        &self,
        now: OffsetDateTime,
        lease: time::Duration,
        limit: u32,
        busy: &[Uuid],
    ) -> StoreResult<Vec<(WebhookDelivery, Webhook, DossierId)>> {
        // pushing next_at forward is the lease (as the outbox); SKIP LOCKED lets workers on several nodes each
        // take their own. Only live subscriptions of clients in service (a switched-off client's deliveries wait
        // for it), at most two of a subscription at a time, none of those already being sent by this node
        // (`busy`): a receiver that hangs holds up nobody else.
        let marks: Vec<String> = (0..busy.len()).map(|i| format!("${}", i + 4)).collect();
        let not_busy = if busy.is_empty() {
            String::new()
        } else {
            format!(" AND x.webhook_id NOT IN ({})", marks.join(", "))
        };
        write!(self, |tx, d| {
            let sql = format!(
                "UPDATE webhook_deliveries SET next_at = $1, attempts = attempts + 1 \
                 WHERE (webhook_id, event_id) IN (SELECT webhook_id, event_id FROM ( \
                   SELECT webhook_id, event_id, next_at, \
                          ROW_NUMBER() OVER (PARTITION BY webhook_id ORDER BY next_at, event_id) AS nth \
                   FROM (SELECT x.webhook_id, x.event_id, x.next_at FROM webhook_deliveries x \
                         JOIN webhooks w ON w.id = x.webhook_id JOIN api_clients c ON c.id = w.client_id \
                         WHERE x.next_at IS NOT NULL AND x.next_at <= $2 AND w.removed_at IS NULL \
                         AND c.disabled_at IS NULL{not_busy}{}) due \
                 ) ranked WHERE nth <= 2 ORDER BY next_at LIMIT $3) \
                 RETURNING webhook_id, event_id",
                d.skip_locked_of("x")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(At(now + lease))
                .bind(At(now))
                .bind(i64::from(limit));
            for b in busy {
                query = query.bind(Id(*b));
            }
            let taken = query.fetch_all(&mut *tx).await.map_err(map_err)?;
            let mut out = Vec::new();
            for t in &taken {
                let sql = format!(
                    "SELECT {DELIVERY_COLUMNS}, {WEBHOOK_COLUMNS} FROM webhook_deliveries x \
                     JOIN webhooks w ON w.id = x.webhook_id WHERE x.webhook_id = $1 AND x.event_id = $2"
                );
                let r = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(Id(t.id("webhook_id")?))
                    .bind(Id(t.id("event_id")?))
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(map_err)?;
                out.push((
                    delivery_row(&r)?,
                    webhook_row(&r)?,
                    DossierId(r.id("dossier_id")?),
                ));
            }
            out
        })
    }

    async fn record_try(&self, t: &DeliveryTry) -> StoreResult<bool> {
        // only the try that holds the delivery (its count of attempts unchanged since it took it) records; no
        // retry for a subscription ended meanwhile
        write!(self, |tx, d| {
            sqlx::query(
                "UPDATE webhook_deliveries SET \
                 next_at = CASE WHEN EXISTS (SELECT 1 FROM webhooks w WHERE w.id = $6 AND w.removed_at IS NULL) \
                           THEN $1 ELSE NULL END, \
                 delivered_at = CASE WHEN $2 THEN $3 ELSE delivered_at END, \
                 last_status = $4, last_error = $5 WHERE webhook_id = $6 AND event_id = $7 AND attempts = $8",
            )
            .bind(t.next_at.map(At))
            .bind(t.delivered)
            .bind(At(t.at))
            .bind(t.status.map(i64::from))
            .bind(t.error.as_deref())
            .bind(Id(t.webhook))
            .bind(Id(t.event))
            .bind(i32::try_from(t.attempts).unwrap_or(i32::MAX))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected()
                == 1
        })
    }

    async fn deliveries(&self, webhook: Uuid, limit: u32) -> StoreResult<Vec<WebhookDelivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries x WHERE x.webhook_id = $1 \
             ORDER BY x.created_at DESC, x.event_id DESC LIMIT $2"
        );
        read!(self, |pool, d| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(Id(webhook))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
            rows.iter().map(delivery_row).collect()
        })
    }

    async fn redeliver(
        &self,
        webhook: Uuid,
        event: Uuid,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        write!(self, |tx, d| {
            sqlx::query(
                "UPDATE webhook_deliveries SET next_at = $1, \
                 attempts = CASE WHEN next_at IS NULL THEN $4 ELSE attempts END \
                 WHERE webhook_id = $2 AND event_id = $3 \
                 AND webhook_id IN (SELECT id FROM webhooks WHERE removed_at IS NULL)",
            )
            .bind(At(now))
            .bind(Id(webhook))
            .bind(Id(event))
            // a finished one gets one try (counted as the last, so a failure is not retried on a schedule again);
            // one still being retried is only brought forward
            .bind(i32::try_from(webhook::MAX_ATTEMPTS - 1).unwrap_or(0))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected()
                == 1
        })
    }

    async fn forget_deliveries_before(&self, before: OffsetDateTime) -> StoreResult<u64> {
        write!(self, |tx, d| {
            sqlx::query("DELETE FROM webhook_deliveries WHERE next_at IS NULL AND created_at < $1")
                .bind(At(before))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected()
        })
    }
}
