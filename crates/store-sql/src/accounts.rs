//! Accounts with their role grants and one-time links, logged-in sessions, the security audit trail, rate-limit
//! windows and failed-login records.

use async_trait::async_trait;
use time::OffsetDateTime;

use motcua_domain::{
    Account, AccountId, AuditEvent, Email, LoginName, Phone, RoleGrant, Session, SessionKey,
    TokenPurpose,
};
use motcua_store::{
    AccountRepo, AuditFilter, AuditRepo, LoginRecord, RateLimitRepo, SessionRepo, StoreError,
    StoreResult,
    decode::{self, AccountRow},
};

use crate::{
    Conn, SqlStore,
    dialect::{At, Id},
    map_err, on_conn, read,
    rows::Columns,
    write,
};

const ACCOUNT_COLUMNS: &str = "SELECT id, kind, full_name, personal_id, birth_date, phone, email, address, \
     password_hash, email_verified_at, disabled, created_at FROM accounts";

/// What an account is looked up by.
enum Key {
    Id(AccountId),
    /// A column holding a login name, and the name.
    Login(&'static str, String),
}

async fn account_by(conn: Conn<'_>, key: Key) -> StoreResult<Option<Account>> {
    on_conn!(conn, |c, d| {
        let row = match &key {
            Key::Id(id) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{ACCOUNT_COLUMNS} WHERE id = $1"
                )))
                .bind(Id(id.0))
                .fetch_optional(&mut *c)
                .await
            }
            Key::Login(column, value) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{ACCOUNT_COLUMNS} WHERE {column} = $1"
                )))
                .bind(value)
                .fetch_optional(&mut *c)
                .await
            }
        }
        .map_err(map_err)?;
        let Some(row) = row else { return Ok(None) };
        let id = row.id("id")?;
        let sql = format!(
            "SELECT role, agency_code, include_sub_agencies FROM role_grants WHERE account_id = $1 \
             ORDER BY agency_code{0}, role{0}",
            d.binary()
        );
        let grants = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(Id(id))
            .fetch_all(&mut *c)
            .await
            .map_err(map_err)?
            .iter()
            .map(|g| {
                decode::grant(
                    &g.text("role")?,
                    &g.text("agency_code")?,
                    g.boolean("include_sub_agencies")?,
                )
            })
            .collect::<StoreResult<Vec<_>>>()?;
        AccountRow {
            id,
            kind: row.text("kind")?,
            full_name: row.text("full_name")?,
            personal_id: row.opt_text("personal_id")?,
            birth_date: row.opt_date("birth_date")?,
            phone: row.opt_text("phone")?,
            email: row.opt_text("email")?,
            address: row.opt_text("address")?,
            password_hash: row.text("password_hash")?,
            email_verified_at: row.opt_at("email_verified_at")?,
            disabled: row.boolean("disabled")?,
            created_at: row.at("created_at")?,
        }
        .decode(grants)
        .map(Some)
    })
}

impl SqlStore {
    async fn account(&self, key: Key) -> StoreResult<Option<Account>> {
        read!(self, |pool, d| {
            let mut conn = pool.acquire().await.map_err(map_err)?;
            account_by((&mut *conn).into(), key).await
        })
    }
}

async fn insert_grants(conn: Conn<'_>, id: AccountId, grants: &[RoleGrant]) -> StoreResult<()> {
    on_conn!(conn, |c, d| {
        for g in grants {
            sqlx::query(
                "INSERT INTO role_grants (account_id, role, agency_code, include_sub_agencies) VALUES ($1, $2, $3, $4)",
            )
            .bind(Id(id.0))
            .bind(g.role.as_str())
            .bind(g.agency.as_str())
            .bind(g.include_sub_agencies)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        }
    });
    Ok(())
}

#[async_trait]
impl AccountRepo for SqlStore {
    async fn create(&self, a: &Account) -> StoreResult<()> {
        write!(self, |tx, d| {
            sqlx::query(
                "INSERT INTO accounts (id, kind, full_name, personal_id, birth_date, phone, email, address, \
                 password_hash, email_verified_at, disabled, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(Id(a.id.0))
            .bind(a.kind.as_str())
            .bind(a.full_name.as_str())
            .bind(a.personal_id.as_ref().map(|p| p.as_str().to_string()))
            .bind(a.birth_date)
            .bind(a.phone.as_ref().map(|p| p.as_str().to_string()))
            .bind(a.email.as_ref().map(|e| e.as_str().to_string()))
            .bind(a.address.as_deref())
            .bind(&a.password_hash)
            .bind(a.email_verified_at.map(At))
            .bind(a.disabled)
            .bind(At(a.created_at))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            insert_grants((&mut *tx).into(), a.id, &a.grants).await?;
        })
    }

    async fn get(&self, id: AccountId) -> StoreResult<Option<Account>> {
        self.account(Key::Id(id)).await
    }

    async fn find_by_login(&self, name: &LoginName) -> StoreResult<Option<Account>> {
        self.account(match name {
            LoginName::PersonalId(p) => Key::Login("personal_id", p.as_str().into()),
            LoginName::Phone(p) => Key::Login("phone", p.as_str().into()),
            LoginName::Email(e) => Key::Login("email", e.as_str().into()),
        })
        .await
    }

    async fn set_password_hash(&self, id: AccountId, hash: &str) -> StoreResult<()> {
        write!(self, |tx, d| {
            let done = sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2")
                .bind(hash)
                .bind(Id(id.0))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            // a link sent before the password changed must not change it again
            sqlx::query(
                "DELETE FROM account_tokens WHERE account_id = $1 AND purpose = 'password_reset' AND used_at IS NULL",
            )
            .bind(Id(id.0))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        })
    }

    async fn list_officers(&self) -> StoreResult<Vec<Account>> {
        let ids: Vec<Id> = read!(self, |pool, d| {
            let sql = format!(
                "SELECT id FROM accounts WHERE kind = 'officer' ORDER BY full_name{}, id",
                d.binary()
            );
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_all(pool)
                .await
                .map_err(map_err)?
        });
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(account) = AccountRepo::get(self, AccountId(id.0)).await? {
                out.push(account);
            }
        }
        Ok(out)
    }

    async fn update_contact(
        &self,
        id: AccountId,
        phone: Option<&Phone>,
        email: Option<&Email>,
        address: Option<&str>,
    ) -> StoreResult<()> {
        write!(self, |tx, d| {
            // links sent to the address being replaced must not reset the password or verify the new one
            sqlx::query(
                "DELETE FROM account_tokens WHERE account_id = $1 AND used_at IS NULL AND EXISTS \
                 (SELECT 1 FROM accounts WHERE id = $1 AND email IS DISTINCT FROM $2)",
            )
            .bind(Id(id.0))
            .bind(email.map(|e| e.as_str().to_string()))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            let done = sqlx::query(
                "UPDATE accounts SET phone = $1, address = $3, \
                 email_verified_at = CASE WHEN email IS NOT DISTINCT FROM $2 THEN email_verified_at ELSE NULL END, \
                 email = $2 WHERE id = $4",
            )
            .bind(phone.map(|p| p.as_str().to_string()))
            .bind(email.map(|e| e.as_str().to_string()))
            .bind(address)
            .bind(Id(id.0))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
        })
    }

    async fn set_grants(&self, id: AccountId, grants: &[RoleGrant]) -> StoreResult<()> {
        write!(self, |tx, d| {
            let sql = format!("SELECT 1 FROM accounts WHERE id = $1{}", d.for_update());
            let exists: Option<i32> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(Id(id.0))
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
            if exists.is_none() {
                return Err(StoreError::NotFound);
            }
            sqlx::query("DELETE FROM role_grants WHERE account_id = $1")
                .bind(Id(id.0))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            insert_grants((&mut *tx).into(), id, grants).await?;
        })
    }

    async fn create_token(
        &self,
        key: &SessionKey,
        account: AccountId,
        purpose: TokenPurpose,
        expires_at: OffsetDateTime,
    ) -> StoreResult<()> {
        write!(self, |tx, d| {
            sqlx::query(
                "INSERT INTO account_tokens (key, account_id, purpose, expires_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(key.as_str())
            .bind(Id(account.0))
            .bind(purpose.as_str())
            .bind(At(expires_at))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        })
    }

    async fn consume_token(
        &self,
        key: &SessionKey,
        purpose: TokenPurpose,
        now: OffsetDateTime,
    ) -> StoreResult<Option<AccountId>> {
        write!(self, |tx, d| {
            // one statement: two clicks at once cannot both use the link
            let id: Option<Id> = sqlx::query_scalar(
                "UPDATE account_tokens SET used_at = $1 WHERE key = $2 AND purpose = $3 AND used_at IS NULL \
                 AND expires_at > $1 RETURNING account_id",
            )
            .bind(At(now))
            .bind(key.as_str())
            .bind(purpose.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
            if let Some(id) = id {
                // any other link of the account for the same purpose ends with this one
                sqlx::query(
                    "DELETE FROM account_tokens WHERE account_id = $1 AND purpose = $2 AND used_at IS NULL",
                )
                .bind(id)
                .bind(purpose.as_str())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            }
            id.map(|i| AccountId(i.0))
        })
    }

    async fn token_usable(
        &self,
        key: &SessionKey,
        purpose: TokenPurpose,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        read!(self, |pool, d| {
            let found: Option<i32> = sqlx::query_scalar(
                "SELECT 1 FROM account_tokens WHERE key = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
            )
            .bind(key.as_str())
            .bind(purpose.as_str())
            .bind(At(now))
            .fetch_optional(pool)
            .await
            .map_err(map_err)?;
            Ok(found.is_some())
        })
    }

    async fn mark_email_verified(&self, id: AccountId, at: OffsetDateTime) -> StoreResult<()> {
        write!(self, |tx, d| {
            sqlx::query("UPDATE accounts SET email_verified_at = $1 WHERE id = $2")
                .bind(At(at))
                .bind(Id(id.0))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        })
    }
}

#[async_trait]
impl SessionRepo for SqlStore {
    async fn create(&self, s: &Session) -> StoreResult<()> {
        write!(self, |tx, d| {
            sqlx::query(
                "INSERT INTO sessions (key, account_id, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(s.key.as_str())
            .bind(Id(s.account.0))
            .bind(At(s.created_at))
            .bind(At(s.last_seen_at))
            .bind(At(s.expires_at))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        })
    }

    async fn find(&self, key: &SessionKey) -> StoreResult<Option<Session>> {
        read!(self, |pool, d| {
            let row = sqlx::query(
                "SELECT key, account_id, created_at, last_seen_at, expires_at FROM sessions WHERE key = $1",
            )
            .bind(key.as_str())
            .fetch_optional(pool)
            .await
            .map_err(map_err)?;
            let Some(row) = row else { return Ok(None) };
            Ok(Some(Session {
                key: SessionKey::from_stored(row.text("key")?),
                account: AccountId(row.id("account_id")?),
                created_at: row.at("created_at")?,
                last_seen_at: row.at("last_seen_at")?,
                expires_at: row.at("expires_at")?,
            }))
        })
    }

    async fn touch(&self, key: &SessionKey, at: OffsetDateTime) -> StoreResult<()> {
        write!(self, |tx, d| {
            let sql = format!(
                "UPDATE sessions SET last_seen_at = {}(last_seen_at, $1) WHERE key = $2",
                d.greatest()
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(At(at))
                .bind(key.as_str())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        })
    }

    async fn delete(&self, key: &SessionKey) -> StoreResult<()> {
        write!(self, |tx, d| {
            sqlx::query("DELETE FROM sessions WHERE key = $1")
                .bind(key.as_str())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        })
    }

    async fn delete_for_account(&self, account: AccountId) -> StoreResult<u64> {
        write!(self, |tx, d| {
            sqlx::query("DELETE FROM sessions WHERE account_id = $1")
                .bind(Id(account.0))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected()
        })
    }
}

#[async_trait]
impl AuditRepo for SqlStore {
    async fn record(&self, e: &AuditEvent) -> StoreResult<()> {
        write!(self, |tx, d| {
            sqlx::query(
                "INSERT INTO audit_events (id, at, kind, actor_id, subject, ip, success) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(Id(e.id))
            .bind(At(e.at))
            .bind(e.kind.as_str())
            .bind(e.actor.map(|a| Id(a.0)))
            .bind(e.subject.as_deref())
            .bind(e.ip.as_deref())
            .bind(e.success)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        })
    }

    async fn search(
        &self,
        filter: &AuditFilter,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<AuditEvent>> {
        let (clause, params) = filter.where_clause();
        let sql = format!(
            "SELECT id, at, kind, actor_id, subject, ip, success FROM audit_events WHERE {clause} \
             ORDER BY at DESC, id DESC LIMIT ${} OFFSET ${}",
            params.len() + 1,
            params.len() + 2
        );
        read!(self, |pool, d| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for p in params {
                q = crate::bind_param!(q, p);
            }
            let rows = q
                .bind(i64::from(limit))
                .bind(i64::from(offset))
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
            rows.iter()
                .map(|r| {
                    Ok(AuditEvent {
                        id: r.id("id")?,
                        at: r.at("at")?,
                        kind: decode::audit_kind(&r.text("kind")?)?,
                        actor: r.opt_id("actor_id")?.map(AccountId),
                        subject: r.opt_text("subject")?,
                        ip: r.opt_text("ip")?,
                        success: r.boolean("success")?,
                    })
                })
                .collect()
        })
    }
}

fn login_row(row: &impl Columns) -> StoreResult<LoginRecord> {
    Ok(LoginRecord {
        failures: u32::try_from(row.int("failures")?).unwrap_or(0),
        locked_until: row.opt_at("locked_until")?,
        last_success_at: row.opt_at("last_success_at")?,
    })
}

#[async_trait]
impl RateLimitRepo for SqlStore {
    async fn hit(&self, bucket: &str, window_start: OffsetDateTime) -> StoreResult<u32> {
        let hits: i32 = write!(self, |tx, d| {
            // a window's count may lose its last hits in a crash: no wait for the disk on every request
            if let Some(relaxed) = d.relaxed_commit() {
                sqlx::query(relaxed)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
            }
            let hits: i32 = sqlx::query_scalar(
                "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) \
                 ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1 RETURNING hits",
            )
            .bind(bucket)
            .bind(At(window_start))
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
            // old windows are of no use: drop them now and then so the table stays small
            if hits == 1 {
                sqlx::query("DELETE FROM rate_limits WHERE window_start < $1")
                    .bind(At(window_start - time::Duration::days(1)))
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
            }
            hits
        })?;
        Ok(u32::try_from(hits).unwrap_or(u32::MAX))
    }

    async fn login_record(&self, subject: &str, ip: &str) -> StoreResult<LoginRecord> {
        read!(self, |pool, d| {
            let row = sqlx::query(
                "SELECT failures, locked_until, last_success_at FROM login_addresses WHERE subject = $1 AND ip = $2",
            )
            .bind(subject)
            .bind(ip)
            .fetch_optional(pool)
            .await
            .map_err(map_err)?;
            row.as_ref()
                .map(login_row)
                .transpose()
                .map(Option::unwrap_or_default)
        })
    }

    async fn login_failed(
        &self,
        subject: &str,
        ip: &str,
        at: OffsetDateTime,
        threshold: u32,
        lock: fn(u32) -> time::Duration,
    ) -> StoreResult<(LoginRecord, Option<OffsetDateTime>)> {
        write!(self, |tx, d| {
            let row = sqlx::query(
                "INSERT INTO login_addresses (subject, ip, failures, updated_at) VALUES ($1, $2, 1, $3) \
                 ON CONFLICT (subject, ip) DO UPDATE SET failures = login_addresses.failures + 1, updated_at = $3 \
                 RETURNING failures, locked_until, last_success_at",
            )
            .bind(subject)
            .bind(ip)
            .bind(At(at))
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
            // this statement leaves the lock as it was: what it returns is the lock before this attempt
            let mut record = login_row(&row)?;
            let before = record.locked_until;
            if record.failures >= threshold {
                record.locked_until = Some(at + lock(record.failures));
                sqlx::query(
                    "UPDATE login_addresses SET locked_until = $1 WHERE subject = $2 AND ip = $3",
                )
                .bind(record.locked_until.map(At))
                .bind(subject)
                .bind(ip)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            }
            if record.failures == 1 {
                // names tried once and never used again: forget them after a day
                sqlx::query(
                    "DELETE FROM login_addresses WHERE last_success_at IS NULL AND updated_at < $1 \
                     AND (locked_until IS NULL OR locked_until < $2)",
                )
                .bind(At(at - time::Duration::days(1)))
                .bind(At(at))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            }
            (record, before)
        })
    }

    async fn login_succeeded(
        &self,
        subject: &str,
        ip: &str,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        write!(self, |tx, d| {
            sqlx::query(
                "INSERT INTO login_addresses (subject, ip, failures, last_success_at, updated_at) VALUES ($1, $2, 0, $3, $3) \
                 ON CONFLICT (subject, ip) DO UPDATE SET failures = 0, locked_until = NULL, last_success_at = $3, updated_at = $3",
            )
            .bind(subject)
            .bind(ip)
            .bind(At(at))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            sqlx::query(
                "UPDATE login_addresses SET failures = 0, locked_until = NULL, updated_at = $3 WHERE subject = $1 AND ip = $2",
            )
            .bind(subject)
            .bind(motcua_store::ANY_ADDRESS)
            .bind(At(at))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        })
    }

    async fn clear_login_failures(&self, subject: &str) -> StoreResult<()> {
        write!(self, |tx, d| {
            sqlx::query(
                "UPDATE login_addresses SET failures = 0, locked_until = NULL WHERE subject = $1",
            )
            .bind(subject)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        })
    }
}
