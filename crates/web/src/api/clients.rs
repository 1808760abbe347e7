//! Who calls the agencies' part of the API: every request there carries an API client's key
//! (`Authorization: Bearer motcua_…`), found by its SHA-256; an unknown, expired or revoked key, or a switched-off
//! client, is refused with 401. Each client has its own limit of requests a minute, counted in the database so
//! that every node counts together (429 with `Retry-After` beyond it), and every call, refused or not, goes to the
//! call log administrators read (who, what, when, the answer, how long).

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
