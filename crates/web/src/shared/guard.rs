//! Asking the policy before any protected page: log in first, or be refused (and the refusal audited).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use time::OffsetDateTime;

use motcua_domain::{
    Account, AgencyCode, AuditKind,
    policy::{Action, Decision, decide},
};

use crate::{AppState, catalogue::Catalogue, error::ErrorPage, urls, viewer::Viewer};

/// Whether the policy allows `account` to do `action`, with the agency tree of `catalogue`: for what a page
/// offers or who is told. A request that needs the action goes through [`require`], which also audits a refusal.
pub(crate) fn allows(catalogue: &Catalogue, account: &Account, action: Action<'_>) -> bool {
    let view = catalogue.view();
    let within = |a: &AgencyCode, b: &AgencyCode| view.is_within(a, b);
    decide(Some(account), action, &within) == Decision::Allow
}

/// The account, if the policy allows `action`; otherwise the response to send (login redirect or 403).
pub(crate) async fn require(
    state: &AppState,
    viewer: &Viewer,
    action: Action<'_>,
    path: &str,
) -> Result<Account, Response> {
    let view = state.catalogue.view();
    let within = |agency: &AgencyCode, ancestor: &AgencyCode| view.is_within(agency, ancestor);
    match decide(viewer.account.as_ref(), action, &within) {
        Decision::Allow => viewer
            .account
            .clone()
            .ok_or_else(|| Redirect::to("/dang-nhap").into_response()),
        Decision::NeedsLogin => {
            // a session that has just ended is said so on the login page, with or without JavaScript
            let mut query = vec![("tiep", path.to_string())];
            if viewer.expired {
                query.push(("het_han", "1".to_string()));
            }
            Err(Redirect::to(&urls::with_query("/dang-nhap", &query)).into_response())
        }
        Decision::Deny => Err(refuse(state, viewer, path).await),
    }
}

/// Refusals recorded per address and minute; past this the address gets 429 and nothing more is written, so
/// nobody can flood the audit trail by asking for pages they may not see.
pub(crate) const REFUSALS_PER_MINUTE: u32 = 30;

/// Refuse the request with 403, recording the refusal (who, from where, what) in the audit log.
pub(crate) async fn refuse(state: &AppState, viewer: &Viewer, path: &str) -> Response {
    let now = OffsetDateTime::now_utc();
    let bucket = format!("denied:ip:{}", viewer.ip_key());
    match state
        .store
        .rate_limits
        .hit(
            &bucket,
            crate::session::start_of(now, time::Duration::MINUTE),
        )
        .await
    {
        Ok(hits) if hits > REFUSALS_PER_MINUTE => {
            return crate::error::too_many(60);
        }
        Ok(_) => {}
        Err(e) => return crate::AppError::Store(e).into_response(),
    }
    crate::audit::record(
        state,
        AuditKind::AccessDenied,
        viewer.account.as_ref().map(|a| a.id),
        Some(path.chars().take(200).collect()),
        viewer.ip.clone(),
        false,
    )
    .await;
    ErrorPage::access_denied().into_response_with(StatusCode::FORBIDDEN)
}
