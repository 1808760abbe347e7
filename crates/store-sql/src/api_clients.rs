//! API clients, their keys (SHA-256 only) and the call log; people's personal tokens (SHA-256 only).

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use motcua_domain::{
    AccountId, AgencyCode, NonEmptyText,
    api_client::{ApiCall, ApiClient, ApiClientId, ApiKey, PersonalToken, Scope},
};
use motcua_store::{ApiClientRepo, PersonalTokenRepo, StoreError, StoreResult};

use crate::{
    SqlStore,
    dialect::{At, Id},
    map_err, read,
    rows::Columns,
    write,
};

const CLIENT_COLUMNS: &str =
    "c.id, c.name, c.agencies, c.scopes, c.per_minute, c.created_at, c.created_by, c.disabled_at";

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn client_row(r: &impl Columns) -> StoreResult<ApiClient> {
    let agencies = r
        .text("agencies")?
        .split_whitespace()
        .map(|a| AgencyCode::parse(a).map_err(|e| corrupt("api_clients.agencies", e)))
        .collect::<StoreResult<Vec<_>>>()?;
    let scopes = r
        .text("scopes")?
        .split_whitespace()
        .map(|s| Scope::parse(s).ok_or_else(|| corrupt("api_clients.scopes", s)))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(ApiClient {
        id: ApiClientId(r.id("id")?),
        name: NonEmptyText::parse(&r.text("name")?).map_err(|e| corrupt("api_clients.name", e))?,
        agencies,
        scopes,
        per_minute: u32::try_from(r.int("per_minute")?)
            .map_err(|e| corrupt("api_clients.per_minute", e))?,
        created_at: r.at("created_at")?,
        created_by: r.text("created_by")?,
        disabled_at: r.opt_at("disabled_at")?,
    })
}

fn key_row(r: &impl Columns) -> StoreResult<ApiKey> {
    Ok(ApiKey {
        hash: r.text("hash")?,
        client: ApiClientId(r.id("client_id")?),
        hint: r.text("hint")?,
        created_at: r.at("key_created_at")?,
        expires_at: r.at("expires_at")?,
        revoked_at: r.opt_at("revoked_at")?,
    })
}

const KEY_COLUMNS: &str =
    "k.hash, k.client_id, k.hint, k.created_at AS key_created_at, k.expires_at, k.revoked_at";

fn call_row(r: &impl Columns) -> StoreResult<ApiCall> {
    Ok(ApiCall {
        client: ApiClientId(r.id("client_id")?),
        key_hint: r.text("key_hint")?,
        at: r.at("at")?,
        method: r.text("method")?,
        path: r.text("path")?,
        status: u16::try_from(r.int("status")?).map_err(|e| corrupt("api_calls.status", e))?,
        millis: u32::try_from(r.int("millis")?).map_err(|e| corrupt("api_calls.millis", e))?,
    })
}

fn joined<T>(items: &[T], each: impl Fn(&T) -> &str) -> String {
    items.iter().map(each).collect::<Vec<_>>().join(" ")
}

/// One key, inside the caller's transaction.
async fn insert_key<'c, DB: sqlx::Database>(
    tx: &mut sqlx::Transaction<'c, DB>,
    k: &ApiKey,
) -> StoreResult<()>
where
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Id: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> At: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<At>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    for<'e> &'e mut <DB as sqlx::Database>::Connection: sqlx::Executor<'e, Database = DB>,
{
    sqlx::query(
        "INSERT INTO api_keys (hash, client_id, hint, created_at, expires_at, revoked_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(k.hash.clone())
    .bind(Id(k.client.0))
    .bind(k.hint.clone())
    .bind(At(k.created_at))
    .bind(At(k.expires_at))
    .bind(k.revoked_at.map(At))
    .execute(&mut **tx)
    .await
    .map_err(map_err)?;
    Ok(())
}

#[async_trait]
impl ApiClientRepo for SqlStore {
    async fn create_client(&self, c: &ApiClient, k: &ApiKey) -> StoreResult<()> {
        let per_minute = i32::try_from(c.per_minute).map_err(|e| corrupt("per_minute", e))?;
        write!(self, |tx, d| {
            sqlx::query(
                "INSERT INTO api_clients (id, name, agencies, scopes, per_minute, created_at, created_by, disabled_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(Id(c.id.0))
            .bind(c.name.as_str())
            .bind(joined(&c.agencies, |a| a.as_str()))
            .bind(joined(&c.scopes, |s| s.as_str()))
            .bind(per_minute)
            .bind(At(c.created_at))
            .bind(&c.created_by)
            .bind(c.disabled_at.map(At))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            insert_key(&mut tx, k).await?;
        })
    }

    async fn client(&self, id: ApiClientId) -> StoreResult<Option<ApiClient>> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM api_clients c WHERE c.id = $1");
        read!(self, |pool, d| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(Id(id.0))
                .fetch_optional(pool)
                .await
                .map_err(map_err)?;
            row.as_ref().map(client_row).transpose()
        })
    }

    async fn clients(&self) -> StoreResult<Vec<ApiClient>> {
        let sql =
            format!("SELECT {CLIENT_COLUMNS} FROM api_clients c ORDER BY c.created_at DESC, c.id");
        read!(self, |pool, d| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
            rows.iter().map(client_row).collect()
        })
    }

    async fn set_disabled(&self, id: ApiClientId, at: Option<OffsetDateTime>) -> StoreResult<bool> {
        write!(self, |tx, d| {
            sqlx::query("UPDATE api_clients SET disabled_at = $1 WHERE id = $2")
                .bind(at.map(At))
                .bind(Id(id.0))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected()
                == 1
        })
    }

    async fn add_key(&self, k: &ApiKey) -> StoreResult<()> {
        write!(self, |tx, d| insert_key(&mut tx, k).await?)
    }

    async fn keys(&self, client: ApiClientId) -> StoreResult<Vec<ApiKey>> {
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM api_keys k WHERE k.client_id = $1 ORDER BY k.created_at DESC, k.hash"
        );
        read!(self, |pool, d| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(Id(client.0))
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
            rows.iter().map(key_row).collect()
        })
    }

    async fn revoke_key(
        &self,
        client: ApiClientId,
        hash: &str,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        write!(self, |tx, d| {
            sqlx::query(
                "UPDATE api_keys SET revoked_at = $1 WHERE client_id = $2 AND hash = $3 AND revoked_at IS NULL",
            )
            .bind(At(at))
            .bind(Id(client.0))
            .bind(hash)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected()
                == 1
        })
    }

    async fn find_key(&self, hash: &str) -> StoreResult<Option<(ApiKey, ApiClient)>> {
        let sql = format!(
            "SELECT {KEY_COLUMNS}, {CLIENT_COLUMNS} FROM api_keys k JOIN api_clients c ON c.id = k.client_id \
             WHERE k.hash = $1"
        );
        read!(self, |pool, d| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(hash)
                .fetch_optional(pool)
                .await
                .map_err(map_err)?;
            row.map(|r| Ok((key_row(&r)?, client_row(&r)?))).transpose()
        })
    }

    async fn record_call(&self, call: &ApiCall) -> StoreResult<()> {
        write!(self, |tx, d| {
            // the log's last calls may be lost in a crash: no wait for the disk on every call
            if let Some(relaxed) = d.relaxed_commit() {
                sqlx::query(relaxed)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
            }
            sqlx::query(
                "INSERT INTO api_calls (id, client_id, key_hint, at, method, path, status, millis) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(Id(Uuid::now_v7()))
            .bind(Id(call.client.0))
            .bind(&call.key_hint)
            .bind(At(call.at))
            .bind(&call.method)
            .bind(&call.path)
            .bind(i32::from(call.status))
            .bind(i32::try_from(call.millis).unwrap_or(i32::MAX))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        })
    }

    async fn calls(&self, client: Option<ApiClientId>, limit: u32) -> StoreResult<Vec<ApiCall>> {
        let filter = if client.is_some() {
            "WHERE client_id = $2"
        } else {
            ""
        };
        let sql = format!(
            "SELECT client_id, key_hint, at, method, path, status, millis FROM api_calls {filter} \
             ORDER BY at DESC, id DESC LIMIT $1"
        );
        read!(self, |pool, d| {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(i64::from(limit));
            if let Some(c) = client {
                query = query.bind(Id(c.0));
            }
            let rows = query.fetch_all(pool).await.map_err(map_err)?;
            rows.iter().map(call_row).collect()
        })
    }

    async fn forget_calls_before(&self, before: OffsetDateTime) -> StoreResult<u64> {
        write!(self, |tx, d| {
            sqlx::query("DELETE FROM api_calls WHERE at < $1")
                .bind(At(before))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected()
        })
    }
}

fn personal_row(r: &impl Columns) -> StoreResult<PersonalToken> {
    Ok(PersonalToken {
        hash: r.text("hash")?,
        account: AccountId(r.id("account_id")?),
        label: r.text("label")?,
        hint: r.text("hint")?,
        created_at: r.at("created_at")?,
        expires_at: r.at("expires_at")?,
        revoked_at: r.opt_at("revoked_at")?,
    })
}

const PERSONAL_COLUMNS: &str =
    "SELECT hash, account_id, label, hint, created_at, expires_at, revoked_at FROM personal_tokens";

#[async_trait]
impl PersonalTokenRepo for SqlStore {
    async fn add_personal_token(&self, t: &PersonalToken) -> StoreResult<()> {
        write!(self, |tx, d| {
            sqlx::query(
                "INSERT INTO personal_tokens (hash, account_id, label, hint, created_at, expires_at, revoked_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&t.hash)
            .bind(Id(t.account.0))
            .bind(&t.label)
            .bind(&t.hint)
            .bind(At(t.created_at))
            .bind(At(t.expires_at))
            .bind(t.revoked_at.map(At))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        })
    }

    async fn personal_tokens(&self, account: AccountId) -> StoreResult<Vec<PersonalToken>> {
        let sql =
            format!("{PERSONAL_COLUMNS} WHERE account_id = $1 ORDER BY created_at DESC, hash");
        read!(self, |pool, d| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(Id(account.0))
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
            rows.iter().map(personal_row).collect()
        })
    }

    async fn revoke_personal_token(
        &self,
        account: AccountId,
        hash: &str,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        write!(self, |tx, d| {
            sqlx::query(
                "UPDATE personal_tokens SET revoked_at = $1 WHERE account_id = $2 AND hash = $3 AND revoked_at IS NULL",
            )
            .bind(At(at))
            .bind(Id(account.0))
            .bind(hash)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected()
                == 1
        })
    }

    async fn find_personal_token(&self, hash: &str) -> StoreResult<Option<PersonalToken>> {
        let sql = format!("{PERSONAL_COLUMNS} WHERE hash = $1");
        read!(self, |pool, d| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(hash)
                .fetch_optional(pool)
                .await
                .map_err(map_err)?;
            row.as_ref().map(personal_row).transpose()
        })
    }

    async fn revoke_all_personal_tokens(
        &self,
        account: AccountId,
        at: OffsetDateTime,
    ) -> StoreResult<u64> {
        write!(self, |tx, d| {
            sqlx::query(
                "UPDATE personal_tokens SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL",
            )
            .bind(At(at))
            .bind(Id(account.0))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected()
        })
    }
}
