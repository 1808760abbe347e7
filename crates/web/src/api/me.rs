//! A person's own part of the API, with a personal token (`api/clients.rs::authenticate_person`): their dossiers,
//! one of them with its history — what "Hồ sơ của tôi" shows — and withdrawing one, by the same rule as the page
//! (`shared/withdrawal.rs`), all decided by the same policy (`Action::OwnDossier`: only the owner; another's
//! dossier is "not found", as on the pages).

use axum::{
    Extension, Json,
    extract::{Path, State, rejection::JsonRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use motcua_domain::{
    Dossier, DossierCode, DossierStatus,
    policy::{Action, Decision, decide},
};

use crate::{
    AppError, AppState,
    api::{clients::Person, dossiers::unreadable},
    problem::{FieldProblem, Problem},
    withdrawal::{self, Refusal},
};

/// One of my dossiers.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MyDossier {
    code: String,
    procedure: String,
    procedure_name: String,
    agency: String,
    agency_name: String,
    /// `online`, `in_person` or `post`.
    channel: String,
    status: String,
    status_label: String,
    /// RFC 3339, Vietnam's time.
    submitted_at: String,
    updated_at: String,
    /// The appointment for the result, once received (none for a dossier that will not be decided).
    due_at: Option<String>,
}

/// One of my dossiers with its history.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MyDossierDetail {
    #[serde(flatten)]
    dossier: MyDossier,
    /// Every change of status, oldest first, with the reason the agency gave (a supplement request, a refusal, an
    /// apology with a new date).
    history: Vec<MyEvent>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MyEvent {
    at: String,
    status: String,
    status_label: String,
    reason: Option<String>,
    due_at: Option<String>,
}

fn mine(state: &AppState, d: &Dossier) -> MyDossier {
    let view = state.catalogue.view();
    MyDossier {
        code: d.code.to_string(),
        procedure: d.procedure.as_str().to_string(),
        procedure_name: view.procedure_name(d.procedure.as_str()).to_string(),
        agency: d.agency.as_str().to_string(),
        agency_name: view.agency_name(&d.agency).to_string(),
        channel: d.channel.as_str().to_string(),
        status: d.status.as_str().to_string(),
        status_label: d.status.label_vi().to_string(),
        submitted_at: motcua_domain::vntime::format_rfc3339(d.created_at),
        updated_at: motcua_domain::vntime::format_rfc3339(d.updated_at),
        due_at: d
            .due_at
            .filter(|_| !matches!(d.status, DossierStatus::Refused | DossierStatus::Withdrawn))
            .map(motcua_domain::vntime::format_rfc3339),
    }
}

/// My dossiers, newest first (the last 500).
#[utoipa::path(
    get,
    path = "/api/v1/me/dossiers",
    tag = "me",
    operation_id = "listMyDossiers",
    security(("personal_token" = [])),
    responses(
        (status = 200, description = "My dossiers, newest first", body = Vec<MyDossier>),
        (status = 401, description = "No token, or a wrong, expired or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The account's limit of requests a minute is reached; wait as Retry-After says", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn dossiers(
    State(state): State<AppState>,
    Extension(Person { account, .. }): Extension<Person>,
) -> Result<Response, AppError> {
    let all = state.store.submissions.dossiers_for(account.id).await?;
    Ok(Json(all.iter().map(|d| mine(&state, d)).collect::<Vec<_>>()).into_response())
}

/// One of my dossiers with its history.
#[utoipa::path(
    get,
    path = "/api/v1/me/dossiers/{code}",
    tag = "me",
    operation_id = "getMyDossier",
    params(("code" = String, Path, description = "The dossier's code", example = "000.00.06.H56-261128-0001")),
    security(("personal_token" = [])),
    responses(
        (status = 200, description = "The dossier and its history", body = MyDossierDetail),
        (status = 401, description = "No token, or a wrong, expired or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "I have no dossier with this code", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The account's limit of requests a minute is reached", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn dossier(
    State(state): State<AppState>,
    Extension(Person { account, .. }): Extension<Person>,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    match mine_by_code(&state, &account, &code).await? {
        Ok((dossier, _)) => Ok(Json(detail(&state, &dossier).await?).into_response()),
        Err(problem) => Ok(problem.into_response()),
    }
}

/// The person's dossier with this code, or "not found" (also when it is another's).
async fn mine_by_code(
    state: &AppState,
    account: &motcua_domain::Account,
    code: &str,
) -> Result<Result<(Dossier, motcua_domain::submission::OnlineDetails), Problem>, AppError> {
    let not_found = || Problem::not_found(format!("Bạn không có hồ sơ nào mã {code}."));
    let found = match DossierCode::parse(code) {
        Ok(c) => state.store.dossiers.get_by_code(&c).await?,
        Err(_) => None,
    };
    let Some(dossier) = found else {
        return Ok(Err(not_found()));
    };
    let Some(details) = state.store.submissions.online_details(dossier.id).await? else {
        return Ok(Err(not_found()));
    };
    let view = state.catalogue.view();
    let within =
        |a: &motcua_domain::AgencyCode, b: &motcua_domain::AgencyCode| view.is_within(a, b);
    let allowed = details.account.is_some_and(|owner| {
        decide(Some(account), Action::OwnDossier(&owner), &within) == Decision::Allow
    });
    if !allowed {
        return Ok(Err(not_found()));
    }
    Ok(Ok((dossier, details)))
}

async fn detail(state: &AppState, dossier: &Dossier) -> Result<MyDossierDetail, AppError> {
    let history = state.store.dossiers.history(dossier.id).await?;
    Ok(MyDossierDetail {
        dossier: mine(state, dossier),
        history: history
            .iter()
            .map(|e| MyEvent {
                at: motcua_domain::vntime::format_rfc3339(e.at),
                status: e.to.as_str().to_string(),
                status_label: e.to.label_vi().to_string(),
                reason: e.reason.clone(),
                due_at: e.due_at.map(motcua_domain::vntime::format_rfc3339),
            })
            .collect(),
    })
}

/// Withdrawing one of my dossiers.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WithdrawalRequest {
    /// Why (5–500 characters): the agency reads it.
    #[schema(example = "Tôi đã nộp nhầm thủ tục.")]
    reason: String,
}

/// Withdraw one of my dossiers: at once while it waits for reception (`withdrawn`), otherwise as a request the
/// agency decides on (`withdrawal_requested`).
#[utoipa::path(
    post,
    path = "/api/v1/me/dossiers/{code}/withdrawal",
    tag = "me",
    operation_id = "withdrawMyDossier",
    params(("code" = String, Path, description = "The dossier's code", example = "000.00.06.H56-261128-0001")),
    request_body(content = WithdrawalRequest, content_type = "application/json"),
    security(("personal_token" = [])),
    responses(
        (status = 200, description = "Withdrawn, or the request made: the dossier as it is now", body = MyDossierDetail),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No token, or a wrong, expired or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "I have no dossier with this code", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The dossier cannot be withdrawn in its status, or its status just changed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The reason is too short or too long, or a field is unknown or of the wrong type", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The account's limit of requests a minute is reached", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn withdraw(
    State(state): State<AppState>,
    Extension(Person { account, hint }): Extension<Person>,
    Path(code): Path<String>,
    body: Result<Json<WithdrawalRequest>, JsonRejection>,
) -> Result<Response, AppError> {
    let (dossier, details) = match mine_by_code(&state, &account, &code).await? {
        Ok(found) => found,
        Err(problem) => return Ok(problem.into_response()),
    };
    let asked = match body {
        Ok(Json(asked)) => asked,
        Err(rejection) => return Ok(unreadable(rejection).into_response()),
    };
    let reason = motcua_domain::text::normalize(&asked.reason);
    let now = OffsetDateTime::now_utc();
    let via = format!("qua API (mã truy cập {hint}…)");
    match withdrawal::withdraw(&state, &dossier, &details, &reason, &via, now).await? {
        Ok(_) => {
            let fresh = state
                .store
                .dossiers
                .get(dossier.id)
                .await?
                .ok_or(AppError::NotFound)?;
            Ok(Json(detail(&state, &fresh).await?).into_response())
        }
        Err(refusal @ (Refusal::ReasonTooShort | Refusal::ReasonTooLong)) => Ok(Problem {
            errors: vec![FieldProblem {
                name: "reason".into(),
                message: refusal.message().into(),
            }],
            ..Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY)
        }
        .into_response()),
        Err(refusal) => Ok(Problem::for_status(StatusCode::CONFLICT)
            .with_detail(refusal.message())
            .into_response()),
    }
}
