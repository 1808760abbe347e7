//! Fees set on dossiers (charges) and the payments made for them. A payment is settled once: the update that
//! settles it names its pending status, so of two notifications racing for one payment only one commits, with the
//! dossier's move back to processing and the applicant's mail.

use async_trait::async_trait;
use uuid::Uuid;

use motcua_domain::{
    DossierId, Vnd,
    payment::{Charge, Payment, PaymentStatus, Provider, Settlement},
};
use motcua_store::{PaymentRepo, StoreError, StoreResult};

use crate::{
    Conn, SqlStore,
    dialect::{At, Id},
    dossiers::transition_in,
    map_err, on_conn, read,
    rows::Columns,
    workflow::apply_step_change,
    write,
};

const CHARGE_COLUMNS: &str = "SELECT id, dossier_id, amount, reason, set_by, set_at, paid_at, waived_at, waived_reason FROM charges";
const PAYMENT_COLUMNS: &str = "SELECT id, charge_id, dossier_id, provider, txn_ref, amount, status, \
     created_at, created_by, settled_at, gateway_ref, bank_code, flag FROM payments";

fn amount(row: &impl Columns) -> StoreResult<Vnd> {
    Vnd::new(row.big("amount")?).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn charge_row(row: &impl Columns) -> StoreResult<Charge> {
    Ok(Charge {
        id: row.id("id")?,
        dossier: DossierId(row.id("dossier_id")?),
        amount: amount(row)?,
        reason: row.text("reason")?,
        set_by: row.text("set_by")?,
        set_at: row.at("set_at")?,
        paid_at: row.opt_at("paid_at")?,
        waived: match row.opt_at("waived_at")? {
            Some(at) => Some((at, row.opt_text("waived_reason")?.unwrap_or_default())),
            None => None,
        },
    })
}

fn payment_row(row: &impl Columns) -> StoreResult<Payment> {
    let provider = row.text("provider")?;
    let status = row.text("status")?;
    Ok(Payment {
        id: row.id("id")?,
        charge: row.id("charge_id")?,
        dossier: DossierId(row.id("dossier_id")?),
        provider: Provider::parse(&provider)
            .ok_or_else(|| StoreError::Corrupt(format!("payment provider {provider}")))?,
        txn_ref: row.text("txn_ref")?,
        amount: amount(row)?,
        status: PaymentStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("payment status {status}")))?,
        created_at: row.at("created_at")?,
        created_by: row.text("created_by")?,
        settled_at: row.opt_at("settled_at")?,
        gateway_ref: row.opt_text("gateway_ref")?,
        bank_code: row.opt_text("bank_code")?,
        flag: row.opt_text("flag")?,
    })
}

/// Record a fee, inside the transaction that moves the dossier to status 6.
pub(crate) async fn insert_charge(conn: Conn<'_>, charge: &Charge) -> StoreResult<()> {
    on_conn!(conn, |c, d| {
        sqlx::query(
            "INSERT INTO charges (id, dossier_id, amount, reason, set_by, set_at, paid_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(Id(charge.id))
        .bind(Id(charge.dossier.0))
        .bind(charge.amount.amount())
        .bind(&charge.reason)
        .bind(&charge.set_by)
        .bind(At(charge.set_at))
        .bind(charge.paid_at.map(At))
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(())
    })
}

#[async_trait]
impl PaymentRepo for SqlStore {
    async fn charges(&self, dossier: DossierId) -> StoreResult<Vec<Charge>> {
        let sql = format!("{CHARGE_COLUMNS} WHERE dossier_id = $1 ORDER BY set_at, id");
        read!(self, |pool, d| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(Id(dossier.0))
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
            rows.iter().map(charge_row).collect()
        })
    }

    async fn payments(&self, dossier: DossierId) -> StoreResult<Vec<Payment>> {
        let sql = format!("{PAYMENT_COLUMNS} WHERE dossier_id = $1 ORDER BY created_at, id");
        read!(self, |pool, d| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(Id(dossier.0))
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
            rows.iter().map(payment_row).collect()
        })
    }

    async fn by_ref(&self, txn_ref: &str) -> StoreResult<Option<Payment>> {
        let sql = format!("{PAYMENT_COLUMNS} WHERE txn_ref = $1");
        read!(self, |pool, d| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(txn_ref)
                .fetch_optional(pool)
                .await
                .map_err(map_err)?;
            row.as_ref().map(payment_row).transpose()
        })
    }

    async fn start(&self, p: &Payment) -> StoreResult<()> {
        write!(self, |tx, d| {
            let unpaid: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM charges WHERE id = $1 AND dossier_id = $2 AND paid_at IS NULL \
                 AND waived_at IS NULL AND amount = $3",
            )
            .bind(Id(p.charge))
            .bind(Id(p.dossier.0))
            .bind(p.amount.amount())
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
            if unpaid == 0 {
                return Err(StoreError::Conflict(
                    "khoản phí này đã được nộp hoặc không còn".into(),
                ));
            }
            sqlx::query(
                "INSERT INTO payments (id, charge_id, dossier_id, provider, txn_ref, amount, status, created_at, \
                 created_by, settled_at, gateway_ref, bank_code, flag) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(Id(p.id))
            .bind(Id(p.charge))
            .bind(Id(p.dossier.0))
            .bind(p.provider.as_str())
            .bind(&p.txn_ref)
            .bind(p.amount.amount())
            .bind(p.status.as_str())
            .bind(At(p.created_at))
            .bind(&p.created_by)
            .bind(p.settled_at.map(At))
            .bind(&p.gateway_ref)
            .bind(&p.bank_code)
            .bind(&p.flag)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        })
    }

    async fn settle(&self, s: &Settlement) -> StoreResult<bool> {
        let status = if s.paid {
            PaymentStatus::Paid
        } else {
            PaymentStatus::Failed
        };
        write!(self, |tx, d| {
            // only a pending payment settles: a second notification finds nothing to update
            let settled = sqlx::query(
                "UPDATE payments SET status = $1, settled_at = $2, gateway_ref = $3, bank_code = $4, flag = $5 \
                 WHERE txn_ref = $6 AND status = 'pending'",
            )
            .bind(status.as_str())
            .bind(At(s.at))
            .bind(&s.gateway_ref)
            .bind(&s.bank_code)
            .bind(&s.flag)
            .bind(&s.txn_ref)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected()
                == 1;
            if settled {
                if s.paid {
                    sqlx::query(
                        "UPDATE charges SET paid_at = $1 WHERE paid_at IS NULL \
                         AND id = (SELECT charge_id FROM payments WHERE txn_ref = $2)",
                    )
                    .bind(At(s.at))
                    .bind(&s.txn_ref)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                }
                if let Some(t) = &s.resume {
                    transition_in((&mut *tx).into(), t).await?;
                }
                let dossier: Uuid = {
                    let id: Id =
                        sqlx::query_scalar("SELECT dossier_id FROM payments WHERE txn_ref = $1")
                            .bind(&s.txn_ref)
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(map_err)?;
                    id.0
                };
                if s.enters_queue {
                    let still = sqlx::query(
                        "UPDATE dossiers SET updated_at = $1 WHERE id = $2 AND status = 'submitted'",
                    )
                    .bind(At(s.at))
                    .bind(Id(dossier))
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?
                    .rows_affected();
                    if still == 0 {
                        return Err(StoreError::Conflict(
                            "hồ sơ không còn ở trạng thái mới đăng ký".into(),
                        ));
                    }
                }
                apply_step_change((&mut *tx).into(), DossierId(dossier), &s.then, s.at).await?;
            }
            settled
        })
    }

    async fn refund(&self, txn_ref: &str, note: &str) -> StoreResult<bool> {
        write!(self, |tx, d| {
            sqlx::query(
                "UPDATE payments SET status = 'refunded', flag = $1 WHERE txn_ref = $2 AND status = 'paid'",
            )
            .bind(note)
            .bind(txn_ref)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected()
                == 1
        })
    }

    async fn pending_before(
        &self,
        provider: motcua_domain::payment::Provider,
        before: time::OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Payment>> {
        let sql = format!(
            "{PAYMENT_COLUMNS} WHERE status = 'pending' AND provider = $2 AND created_at < $1 \
             ORDER BY created_at LIMIT {limit}"
        );
        read!(self, |pool, d| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(At(before))
                .bind(provider.as_str())
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
            rows.iter().map(payment_row).collect()
        })
    }

    async fn sandbox_record(
        &self,
        txn_ref: &str,
        fields: &str,
        at: time::OffsetDateTime,
    ) -> StoreResult<()> {
        write!(self, |tx, d| {
            sqlx::query(
                "INSERT INTO sandbox_transactions (txn_ref, fields, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (txn_ref) DO NOTHING",
            )
            .bind(txn_ref)
            .bind(fields)
            .bind(At(at))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        })
    }

    async fn sandbox_answer(&self, txn_ref: &str) -> StoreResult<Option<String>> {
        read!(self, |pool, d| {
            sqlx::query_scalar("SELECT fields FROM sandbox_transactions WHERE txn_ref = $1")
                .bind(txn_ref)
                .fetch_optional(pool)
                .await
                .map_err(map_err)
        })
    }
}
