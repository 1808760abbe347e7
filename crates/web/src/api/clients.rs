//! Who calls the API with a key. The agencies' part (`authenticate`): every request there carries an API client's key
//! (`Authorization: Bearer motcua_…`), found by its SHA-256; an unknown, expired or revoked key, or a switched-off
//! client, is refused with 401. Each client has its own limit of requests a minute, counted in the database so
//! that every node counts together (429 with `Retry-After` beyond it), and every call, refused or not, goes to the
//! call log administrators read (who, what, when, the answer, how long). A person's own part
//! (`authenticate_person`): their personal token (`motcua_pat_…`), made and revoked at `/tai-khoan/ma-truy-cap`,
//! opens only what the policy lets its owner do on the pages (their own dossiers), within a limit a minute.

use std::time::Instant;

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use time::OffsetDateTime;

use motcua_domain::api_client::{ApiCall, ApiClient, key_hash};

use crate::{AppError, AppState, problem::Problem, session::start_of};

/// The client a request was made by, for the handlers behind [`authenticate`].
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub client: ApiClient,
}

/// The key in `Authorization: Bearer …`, if there is one in that form.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(key.trim())
        .filter(|k| !k.is_empty())
}

fn unauthorized(detail: &str) -> Response {
    let mut response = Problem::for_status(StatusCode::UNAUTHORIZED)
        .with_detail(detail)
        .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"motcua\""),
    );
    response
}

/// Middleware of the agencies' routes: the key, the client's limit, then the handler, then the call log.
pub(crate) async fn authenticate(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let now = OffsetDateTime::now_utc();
    let Some(key) = bearer(req.headers()).map(str::to_string) else {
        return unauthorized(
            "Thiếu khóa API: gửi tiêu đề Authorization: Bearer <khóa> với khóa quản trị viên đã cấp.",
        );
    };
    let (key, client) = match state.store.api_clients.find_key(&key_hash(&key)).await {
        Ok(Some(found)) => found,
        Ok(None) => return unauthorized("Khóa API không đúng."),
        Err(e) => return AppError::from(e).into_response(),
    };
    if key.revoked_at.is_some() {
        return unauthorized("Khóa API đã bị thu hồi.");
    }
    if !key.is_live(now) {
        return unauthorized("Khóa API đã hết hạn: đề nghị quản trị viên cấp khóa mới.");
    }
    if client.disabled_at.is_some() {
        return unauthorized("Hệ thống kết nối này đã bị tạm dừng.");
    }
    let call = ApiCall {
        client: client.id,
        key_hint: key.hint.clone(),
        at: now,
        method: req.method().to_string(),
        path: req.uri().path().chars().take(500).collect(),
        status: 0,
        millis: 0,
    };
    let minute = start_of(now, time::Duration::MINUTE);
    let response = match state
        .store
        .rate_limits
        .hit(&format!("api:{}", client.id), minute)
        .await
    {
        Err(e) => return AppError::from(e).into_response(),
        Ok(hits) if hits > client.per_minute => {
            let wait = (minute + time::Duration::MINUTE - now)
                .whole_seconds()
                .max(1);
            Problem {
                retry_after: u32::try_from(wait).ok(),
                ..Problem::for_status(StatusCode::TOO_MANY_REQUESTS).with_detail(format!(
                    "Hệ thống này được gửi tối đa {} yêu cầu mỗi phút; thử lại sau {wait} giây.",
                    client.per_minute
                ))
            }
            .into_response()
        }
        Ok(_) => {
            req.extensions_mut().insert(Caller { client });
            next.run(req).await
        }
    };
    let call = ApiCall {
        status: response.status().as_u16(),
        millis: u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX),
        ..call
    };
    if let Err(e) = state.store.api_clients.record_call(&call).await {
        // the answer stands; a call missing from the log is said in the server's log
        tracing::warn!(error = %e, "API call not logged");
    }
    response
}

/// The person a request was made for, behind [`authenticate_person`].
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub account: motcua_domain::Account,
    /// The start of the token used (for the dossier's history).
    pub hint: String,
}

/// Requests a minute a person may make with their tokens, counted across every node.
pub(crate) const PERSON_PER_MINUTE: u32 = 120;

/// Middleware of a person's routes: a live personal token of an account in service, within the limit.
pub(crate) async fn authenticate_person(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let now = OffsetDateTime::now_utc();
    let Some(token) = bearer(req.headers()).map(str::to_string) else {
        return unauthorized(
            "Thiếu mã truy cập: gửi tiêu đề Authorization: Bearer <mã> với mã tạo tại trang Tài khoản → Mã truy cập API.",
        );
    };
    let token = match state
        .store
        .personal_tokens
        .find_personal_token(&key_hash(&token))
        .await
    {
        Ok(Some(t)) => t,
        Ok(None) => return unauthorized("Mã truy cập không đúng."),
        Err(e) => return AppError::from(e).into_response(),
    };
    if token.revoked_at.is_some() {
        return unauthorized("Mã truy cập đã bị thu hồi.");
    }
    if !token.is_live(now) {
        return unauthorized("Mã truy cập đã hết hạn: tạo mã mới tại trang Tài khoản.");
    }
    let account = match state.store.accounts.get(token.account).await {
        Ok(Some(a)) if !a.disabled => a,
        Ok(_) => return unauthorized("Tài khoản của mã truy cập này không còn hoạt động."),
        Err(e) => return AppError::from(e).into_response(),
    };
    let minute = start_of(now, time::Duration::MINUTE);
    match state
        .store
        .rate_limits
        .hit(&format!("api:person:{}", account.id), minute)
        .await
    {
        Err(e) => AppError::from(e).into_response(),
        Ok(hits) if hits > PERSON_PER_MINUTE => {
            let wait = (minute + time::Duration::MINUTE - now)
                .whole_seconds()
                .max(1);
            Problem {
                retry_after: u32::try_from(wait).ok(),
                ..Problem::for_status(StatusCode::TOO_MANY_REQUESTS).with_detail(format!(
                    "Mỗi tài khoản được gửi tối đa {PERSON_PER_MINUTE} yêu cầu mỗi phút; thử lại sau {wait} giây."
                ))
            }
            .into_response()
        }
        Ok(_) => {
            req.extensions_mut().insert(Person {
                account,
                hint: token.hint,
            });
            next.run(req).await
        }
    }
}
