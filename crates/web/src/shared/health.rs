//! Liveness and readiness probes for load balancers and orchestrators.

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde_json::json;

use crate::AppState;

/// The process is up and answering.
pub(crate) async fn healthz() -> &'static str {
    "ok"
}

/// Ready to serve: the database answers and every embedded migration is applied. 503 otherwise, at once while
/// the outage breaker is open. Which database it is stays private.
pub(crate) async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if state.breaker.is_open() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "not_ready", "reason": "database unreachable"})),
        );
    }
    if let Err(e) = state.store.health.ping().await {
        tracing::warn!(error = %e, "readiness: database unreachable");
        if e.is_outage() {
            state.breaker.trip();
        }
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "not_ready", "reason": "database unreachable"})),
        );
    }
    match state.store.health.pending_migrations().await {
        Ok(pending) if pending.is_empty() => (StatusCode::OK, Json(json!({"status": "ready"}))),
        Ok(pending) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(
                json!({"status": "not_ready", "reason": "migrations pending",
                        "pending_migrations": pending}),
            ),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: cannot read migrations");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "not_ready", "reason": "database unreachable"})),
            )
        }
    }
}
