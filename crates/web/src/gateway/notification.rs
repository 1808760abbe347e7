//! The payment provider's server-to-server notification (VNPay's IPN): read by the gateway in use, checked in the
//! documented order and settled once; the answer is what that provider expects. VNPay calls with a GET query; a
//! provider that posts (a form or a JSON object of fields) is read the same way. The provider retries until it gets
//! an answer, so a failure here answers "unknown" (VNPay `99`) and keeps nothing.

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};

use motcua_domain::payment::Outcome;

use crate::input::Query;
use crate::{
    AppState,
    payments::{Fields, json_fields, settle_notification},
};

pub(crate) async fn notify(
    State(state): State<AppState>,
    Query(fields): Query<Vec<(String, String)>>,
) -> Response {
    answer(&state, fields.into_iter().collect()).await
}

pub(crate) async fn notify_posted(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    let fields: Fields = if json {
        serde_json::from_slice(&body)
            .map(json_fields)
            .unwrap_or_default()
    } else {
        form_urlencoded::parse(&body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    };
    answer(&state, fields).await
}

async fn answer(state: &AppState, fields: Fields) -> Response {
    let outcome = match settle_notification(state, &fields).await {
        Ok(outcome) => outcome,
        Err(e) => {
            tracing::error!(error = %e, "payment notification not settled (the provider retries)");
            Outcome::Unknown
        }
    };
    tracing::info!(provider = state.gateway.provider().as_str(), outcome = ?outcome, "payment notification");
    let (content_type, body) = state.gateway.reply(outcome);
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}
