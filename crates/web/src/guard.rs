//! Asking the policy before any protected page: log in first, or be refused (and the refusal audited).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use time::OffsetDateTime;

use motcua_domain::{
    Account, AuditEvent, AuditKind,
    policy::{Action, Decision, decide},
};

use crate::{AppState, error::ErrorPage, session::Viewer, urls};

/// The account, if the policy allows `action`; otherwise the response to send (login redirect or 403).
pub(crate) async fn require(
    state: &AppState,
    viewer: &Viewer,
    action: Action<'_>,
    path: &str,
) -> Result<Account, Response> {
    let view = state.catalogue.view();
    let within = |agency: &motcua_domain::AgencyCode, ancestor: &motcua_domain::AgencyCode| {
        view.is_within(agency, ancestor)
    };
    match decide(viewer.account.as_ref(), action, &within) {
        Decision::Allow => viewer
            .account
            .clone()
            .ok_or_else(|| Redirect::to("/dang-nhap").into_response()),
        Decision::NeedsLogin => Err(Redirect::to(&urls::with_query(
            "/dang-nhap",
            &[("tiep", path.to_string())],
        ))
        .into_response()),
        Decision::Deny => Err(refuse(state, viewer, path).await),
    }
}

/// Refuse the request with 403, recording the refusal in the audit log.
pub(crate) async fn refuse(state: &AppState, viewer: &Viewer, path: &str) -> Response {
    let event = AuditEvent {
        id: uuid::Uuid::now_v7(),
        at: OffsetDateTime::now_utc(),
        kind: AuditKind::AccessDenied,
        actor: viewer.account.as_ref().map(|a| a.id),
        subject: Some(path.chars().take(200).collect()),
        ip: None,
        success: false,
    };
    if let Err(e) = state.store.audit.record(&event).await {
        tracing::error!(error = %e, "access denial not audited");
    }
    ErrorPage::access_denied().into_response_with(StatusCode::FORBIDDEN)
}
