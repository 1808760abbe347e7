//! Results by post: one delivery per dossier, moved on only from the stage each event needs.

use async_trait::async_trait;
use time::OffsetDateTime;

use motcua_domain::{
    DossierId, Transition,
    postal::{Delivery, DeliveryEvent, PostalAddress},
    workflow::StepChange,
};
use motcua_store::{DeliveryRepo, StoreResult};

use crate::{
    Conn, SqlStore,
    dialect::{At, Id},
    dossiers::transition_in,
    map_err, on_conn, read,
    rows::Columns,
    workflow::apply_step_change,
    write,
};

fn delivery_row(row: &impl Columns) -> StoreResult<Delivery> {
    let handed = match (
        row.opt_text("carrier")?,
        row.opt_text("tracking_no")?,
        row.opt_at("handed_at")?,
    ) {
        (Some(carrier), Some(tracking), Some(at)) => Some((carrier, tracking, at)),
        _ => None,
    };
    let returned = match row.opt_at("returned_at")? {
        Some(at) => Some((at, row.opt_text("return_reason")?.unwrap_or_default())),
        None => None,
    };
    Ok(Delivery {
        dossier: DossierId(row.id("dossier_id")?),
        address: PostalAddress {
            recipient: row.text("recipient")?,
            phone: row.text("phone")?,
            province: row.text("province")?,
            commune: row.text("commune")?,
            street: row.text("street")?,
        },
        asked_at: row.at("asked_at")?,
        handed,
        delivered_at: row.opt_at("delivered_at")?,
        returned,
    })
}

/// Ask for delivery by post (or change its address) inside a transaction: `false` once handed to the post.
pub(crate) async fn ask_in(conn: Conn<'_>, d: &Delivery) -> StoreResult<bool> {
    on_conn!(conn, |c, dl| {
        Ok(sqlx::query(
            "INSERT INTO deliveries (dossier_id, recipient, phone, province, commune, street, asked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (dossier_id) DO UPDATE SET recipient = excluded.recipient, phone = excluded.phone, \
             province = excluded.province, commune = excluded.commune, street = excluded.street, \
             asked_at = excluded.asked_at WHERE deliveries.handed_at IS NULL",
        )
        .bind(Id(d.dossier.0))
        .bind(&d.address.recipient)
        .bind(&d.address.phone)
        .bind(&d.address.province)
        .bind(&d.address.commune)
        .bind(&d.address.street)
        .bind(At(d.asked_at))
        .execute(&mut *c)
        .await
        .map_err(map_err)?
        .rows_affected()
            == 1)
    })
}

#[async_trait]
impl DeliveryRepo for SqlStore {
    async fn ask(&self, d: &Delivery) -> StoreResult<bool> {
        write!(self, |tx, dl| { ask_in((&mut *tx).into(), d).await? })
    }

    async fn delivery(&self, dossier: DossierId) -> StoreResult<Option<Delivery>> {
        read!(self, |pool, d| {
            let row = sqlx::query(
                "SELECT dossier_id, recipient, phone, province, commune, street, asked_at, carrier, tracking_no, \
                 handed_at, delivered_at, returned_at, return_reason FROM deliveries WHERE dossier_id = $1",
            )
            .bind(Id(dossier.0))
            .fetch_optional(pool)
            .await
            .map_err(map_err)?;
            row.map(|r| delivery_row(&r)).transpose()
        })
    }

    async fn record(
        &self,
        dossier: DossierId,
        event: &DeliveryEvent,
        at: OffsetDateTime,
        transition: Option<&Transition>,
        then: &StepChange,
    ) -> StoreResult<bool> {
        write!(self, |tx, d| {
            let query = match event {
                DeliveryEvent::HandedOver { carrier, tracking } => sqlx::query(
                    "UPDATE deliveries SET carrier = $2, tracking_no = $3, handed_at = $4 \
                     WHERE dossier_id = $1 AND handed_at IS NULL",
                )
                .bind(Id(dossier.0))
                .bind(carrier)
                .bind(tracking)
                .bind(At(at)),
                DeliveryEvent::Delivered => sqlx::query(
                    "UPDATE deliveries SET delivered_at = $2 WHERE dossier_id = $1 AND handed_at IS NOT NULL \
                     AND delivered_at IS NULL AND returned_at IS NULL",
                )
                .bind(Id(dossier.0))
                .bind(At(at)),
                DeliveryEvent::Returned { reason } => sqlx::query(
                    "UPDATE deliveries SET returned_at = $2, return_reason = $3 WHERE dossier_id = $1 \
                     AND handed_at IS NOT NULL AND delivered_at IS NULL AND returned_at IS NULL",
                )
                .bind(Id(dossier.0))
                .bind(At(at))
                .bind(reason),
            };
            let moved = query
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected()
                == 1;
            if moved {
                if let Some(t) = transition {
                    transition_in((&mut *tx).into(), t).await?;
                }
                apply_step_change((&mut *tx).into(), dossier, then, at).await?;
            }
            moved
        })
    }
}
