//! The agencies' part of the API, for the systems an administrator registered (`api/clients.rs` checks the key
//! before any handler here runs): the dossiers of the client's agencies, listed by when they last changed so a
//! system keeps a copy in step (a cursor, `updated_since`), one dossier with its applicant, answers and history,
//! and the reception answers of the one-stop desk, made by the same rule as the desk's page (`shared/reception.rs`)
//! and allowed by the same policy (the client's scopes stand for desk roles at its agencies).

use axum::{
    Extension, Json,
    extract::{Path, State, rejection::JsonRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use utoipa::{IntoParams, ToSchema};

use motcua_domain::{
    AgencyCode, Dossier, DossierCode, DossierId, DossierStatus,
    api_client::Scope,
    desk::{DeskRight, ReceptionAnswer},
    form,
};
use motcua_store::ChangedQuery;

use crate::{
    AppError, AppState,
    api::{clients::Caller, dossiers::unreadable},
    guard,
    input::{InputRejection, Query},
    problem::{FieldProblem, Problem},
    receiving::{self, Refusal},
};

/// Dossiers per page unless asked otherwise, and at most.
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 200;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ChangedParams {
    /// Only this agency's dossiers (one of the client's agencies; all of them when left out).
    #[param(
        example = "000.00.06.H56",
        pattern = r"^[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}$"
    )]
    agency: Option<String>,
    /// Only dossiers now in this status.
    #[param(value_type = Option<StatusKey>)]
    status: Option<String>,
    /// Only dossiers changed at or after this instant (RFC 3339, e.g. `2026-11-01T00:00:00+07:00`).
    #[param(value_type = Option<String>, format = DateTime, example = "2026-11-01T00:00:00+07:00")]
    updated_since: Option<String>,
    /// Where the previous page ended: its `next_cursor`, as given.
    #[param(pattern = r"^[0-9]{1,16}\.[0-9a-f]{32}$")]
    cursor: Option<String>,
    /// Dossiers per page, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200, example = 50)]
    limit: Option<String>,
}

/// A dossier's status.
#[derive(ToSchema)]
#[schema(as = StatusKey)]
#[allow(dead_code)]
pub(crate) enum StatusKey {
    #[schema(rename = "submitted")]
    Submitted,
    #[schema(rename = "received")]
    Received,
    #[schema(rename = "refused")]
    Refused,
    #[schema(rename = "processing")]
    Processing,
    #[schema(rename = "supplement_requested")]
    SupplementRequested,
    #[schema(rename = "awaiting_financial_obligation")]
    AwaitingFinancialObligation,
    #[schema(rename = "withdrawal_requested")]
    WithdrawalRequested,
    #[schema(rename = "stopped")]
    Stopped,
    #[schema(rename = "processed")]
    Processed,
    #[schema(rename = "result_delivered")]
    ResultDelivered,
    #[schema(rename = "withdrawn")]
    Withdrawn,
}

/// A dossier as an agency's system sees it in a list.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OfficeDossier {
    code: String,
    /// The receiving agency's code.
    agency: String,
    /// The procedure's code and name.
    procedure: String,
    procedure_name: String,
    /// `online`, `in_person` or `post`.
    channel: String,
    status: String,
    status_label: String,
    applicant_name: String,
    /// RFC 3339, Vietnam's time.
    submitted_at: String,
    /// The last change of any kind.
    updated_at: String,
    /// The appointment for the result, once received.
    due_at: Option<String>,
}

/// One page of dossiers, oldest change first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OfficePage {
    items: Vec<OfficeDossier>,
    /// Where this page ended (an empty page: the cursor sent, or null without one): give it as `cursor` to read
    /// on now, or keep it and ask again later with it to read what changed since.
    next_cursor: Option<String>,
    /// Whether more dossiers follow at once (the page is full).
    has_more: bool,
}

/// A dossier in full, for the agency that received it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OfficeDossierDetail {
    #[serde(flatten)]
    dossier: OfficeDossier,
    applicant_phone: Option<String>,
    applicant_email: Option<String>,
    applicant_personal_id: Option<String>,
    /// The e-form's answers, by field key (each a list: a field may hold several values).
    answers: std::collections::BTreeMap<String, Vec<String>>,
    /// Every change of status, oldest first, with who made it and why.
    history: Vec<OfficeEvent>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OfficeEvent {
    at: String,
    from_status: Option<String>,
    status: String,
    status_label: String,
    actor: String,
    reason: Option<String>,
    due_at: Option<String>,
}

/// A reception answer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReceptionRequest {
    /// `receive` (accept, with an appointment computed in working time), `request_supplement` (ask once for
    /// everything missing) or `refuse`.
    #[schema(example = "receive")]
    answer: String,
    /// Required with `request_supplement` and `refuse` (at least 10 characters; the applicant reads it).
    #[schema(example = "Bổ sung bản sao giấy khai sinh của người được đăng ký thường trú.")]
    #[serde(default)]
    reason: String,
}

fn summary(state: &AppState, d: &Dossier) -> OfficeDossier {
    let view = state.catalogue.view();
    OfficeDossier {
        code: d.code.to_string(),
        agency: d.agency.as_str().to_string(),
        procedure: d.procedure.as_str().to_string(),
        procedure_name: view.procedure_name(d.procedure.as_str()).to_string(),
        channel: d.channel.as_str().to_string(),
        status: d.status.as_str().to_string(),
        status_label: d.status.label_vi().to_string(),
        applicant_name: d.applicant_name.as_str().to_string(),
        submitted_at: motcua_domain::vntime::format_rfc3339(d.created_at),
        updated_at: motcua_domain::vntime::format_rfc3339(d.updated_at),
        due_at: d.due_at.map(motcua_domain::vntime::format_rfc3339),
    }
}

/// A cursor: the last dossier's change time (microseconds since 1970) and id, as `<micros>.<id>`.
fn cursor_of(d: &Dossier) -> String {
    format!(
        "{}.{}",
        d.updated_at.unix_timestamp_nanos() / 1000,
        d.id.0.simple()
    )
}

/// An RFC 3339 instant; fractional seconds beyond nanoseconds are cut and a leap second read as the second
/// before, as RFC 3339 allows both and the clock does not keep them.
fn rfc3339_leniently(typed: &str) -> Result<OffsetDateTime, time::error::Parse> {
    OffsetDateTime::parse(typed, &Rfc3339).or_else(|e| {
        let Some(t) = typed.find(['T', 't', ' ']) else {
            return Err(e);
        };
        let (date, rest) = typed.split_at(t + 1);
        let mut rest = rest.replacen(":60", ":59", 1);
        if let Some(dot) = rest.find('.') {
            let digits = rest[dot + 1..]
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len() - dot - 1);
            if digits > 9 {
                rest.replace_range(dot + 10..dot + 1 + digits, "");
            }
        }
        OffsetDateTime::parse(&format!("{date}{rest}"), &Rfc3339)
    })
}

fn read_cursor(typed: &str) -> Option<(OffsetDateTime, DossierId)> {
    let (micros, id) = typed.split_once('.')?;
    if micros.is_empty()
        || micros.len() > 18
        || !micros.bytes().all(|b| b.is_ascii_digit())
        || id.len() != 32
    {
        return None;
    }
    let nanos = i128::from(micros.parse::<i64>().ok()?).checked_mul(1000)?;
    let at = OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()?;
    Some((at, DossierId(uuid::Uuid::try_parse(id).ok()?)))
}

/// The dossiers of the client's agencies by when they last changed.
#[utoipa::path(
    get,
    path = "/api/v1/office/dossiers",
    tag = "office",
    operation_id = "listOfficeDossiers",
    params(ChangedParams),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "One page of dossiers, oldest change first", body = OfficePage),
        (status = 400, description = "A parameter has a value it cannot take", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No key, or a wrong, expired or revoked key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key may not read this agency's dossiers", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The client's limit of requests a minute is reached; wait as Retry-After says", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(Caller { client }): Extension<Caller>,
    query: Result<Query<ChangedParams>, InputRejection>,
) -> Result<Response, AppError> {
    let Ok(Query(params)) = query else {
        return Ok(Problem::for_status(StatusCode::BAD_REQUEST)
            .with_detail("Tham số không đọc được (mã hóa địa chỉ sai).")
            .into_response());
    };
    let mut errors = Vec::new();
    let mut field = |name: &str, message: &str| {
        errors.push(FieldProblem {
            name: name.into(),
            message: message.into(),
        })
    };
    let readable: Vec<AgencyCode> = client
        .agencies
        .iter()
        .filter(|a| client.may(Scope::Read, a))
        .cloned()
        .collect();
    let agencies = match params.agency.as_deref() {
        None => readable,
        Some(typed) => match AgencyCode::parse(typed) {
            Ok(code) if readable.contains(&code) => vec![code],
            Ok(_) => {
                return Ok(Problem::for_status(StatusCode::FORBIDDEN)
                    .with_detail(format!(
                        "Hệ thống này không được đọc hồ sơ của cơ quan {typed}."
                    ))
                    .into_response());
            }
            Err(_) => {
                field("agency", "Mã cơ quan không đúng dạng (ví dụ 000.00.06.H56)");
                Vec::new()
            }
        },
    };
    let statuses = match params.status.as_deref() {
        None => Vec::new(),
        Some(typed) => match DossierStatus::parse(typed) {
            Ok(s) => vec![s],
            Err(_) => {
                field(
                    "status",
                    "Trạng thái không có trong danh sách (ví dụ submitted, received)",
                );
                Vec::new()
            }
        },
    };
    let updated_since = match params.updated_since.as_deref() {
        None => None,
        Some(typed) => match rfc3339_leniently(typed) {
            Ok(at) => Some(at),
            Err(_) => {
                field(
                    "updated_since",
                    "Thời điểm theo RFC 3339, ví dụ 2026-11-01T00:00:00+07:00",
                );
                None
            }
        },
    };
    let after = match params.cursor.as_deref() {
        None => None,
        Some(typed) => match read_cursor(typed) {
            Some(c) => Some(c),
            None => {
                field(
                    "cursor",
                    "Con trỏ không đúng: dùng đúng next_cursor của trang trước",
                );
                None
            }
        },
    };
    let limit = super::catalogue::number(
        "limit",
        params.limit.as_deref(),
        DEFAULT_LIMIT,
        1,
        MAX_LIMIT,
        &mut errors,
    );
    if !errors.is_empty() {
        return Ok(Problem::invalid(errors).into_response());
    }
    if agencies.is_empty() {
        return Ok(Problem::for_status(StatusCode::FORBIDDEN)
            .with_detail("Hệ thống này không được đọc hồ sơ của cơ quan nào.")
            .into_response());
    }
    let dossiers = state
        .store
        .dossiers
        .changed(&ChangedQuery {
            agencies,
            statuses,
            updated_since,
            after,
            limit: u32::try_from(limit).unwrap_or(50),
        })
        .await?;
    Ok(Json(OfficePage {
        items: dossiers.iter().map(|d| summary(&state, d)).collect(),
        // an empty page ends where it began: the cursor sent, so a client that keeps the last one loses nothing
        next_cursor: dossiers
            .last()
            .map(cursor_of)
            .or_else(|| params.cursor.clone()),
        has_more: dossiers.len() == limit,
    })
    .into_response())
}

/// The dossier with this code, if the client may read it (404 when there is none, 403 when it is another
/// agency's).
async fn readable(
    state: &AppState,
    client: &motcua_domain::api_client::ApiClient,
    code: &str,
) -> Result<Result<Dossier, Problem>, AppError> {
    let found = match DossierCode::parse(code) {
        Ok(code) => state.store.dossiers.get_by_code(&code).await?,
        Err(_) => None,
    };
    let Some(dossier) = found else {
        return Ok(Err(Problem::not_found(format!(
            "Không có hồ sơ mã {code}."
        ))));
    };
    if !client.may(Scope::Read, &dossier.agency) {
        return Ok(Err(Problem::for_status(StatusCode::FORBIDDEN).with_detail(
            format!("Hồ sơ {code} thuộc cơ quan mà hệ thống này không được làm việc thay."),
        )));
    }
    Ok(Ok(dossier))
}

async fn detail(state: &AppState, dossier: &Dossier) -> Result<OfficeDossierDetail, AppError> {
    let details = state.store.submissions.online_details(dossier.id).await?;
    let history = state.store.dossiers.history(dossier.id).await?;
    let answers = details
        .as_ref()
        .map(|d| d.answers.clone())
        .unwrap_or_default();
    let email = form::first(&answers, form::APPLICANT_EMAIL).to_string();
    Ok(OfficeDossierDetail {
        dossier: summary(state, dossier),
        applicant_phone: details.as_ref().and_then(|d| d.applicant_phone.clone()),
        applicant_email: (!email.is_empty()).then_some(email),
        applicant_personal_id: details
            .as_ref()
            .and_then(|d| d.applicant_personal_id.clone()),
        answers,
        history: history
            .iter()
            .map(|e| OfficeEvent {
                at: motcua_domain::vntime::format_rfc3339(e.at),
                from_status: e.from.map(|s| s.as_str().to_string()),
                status: e.to.as_str().to_string(),
                status_label: e.to.label_vi().to_string(),
                actor: e.actor.clone(),
                reason: e.reason.clone(),
                due_at: e.due_at.map(motcua_domain::vntime::format_rfc3339),
            })
            .collect(),
    })
}

/// One dossier of the client's agencies, with its applicant, answers and history.
#[utoipa::path(
    get,
    path = "/api/v1/office/dossiers/{code}",
    tag = "office",
    operation_id = "getOfficeDossier",
    params(("code" = String, Path, description = "The dossier's code", example = "000.00.06.H56-261128-0001")),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The dossier", body = OfficeDossierDetail),
        (status = 401, description = "No key, or a wrong, expired or revoked key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The dossier is another agency's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No dossier has this code", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The client's limit of requests a minute is reached", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn one(
    State(state): State<AppState>,
    Extension(Caller { client }): Extension<Caller>,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let dossier = match readable(&state, &client, &code).await? {
        Ok(d) => d,
        Err(problem) => return Ok(problem.into_response()),
    };
    Ok(Json(detail(&state, &dossier).await?).into_response())
}

/// Answer a dossier waiting at reception, as the one-stop desk does: the same checks (a fee due with the
/// submission must be paid, a supplement request or refusal needs its reason), the same appointment in working
/// time, the same history event and e-mail to the applicant.
#[utoipa::path(
    post,
    path = "/api/v1/office/dossiers/{code}/reception",
    tag = "office",
    operation_id = "answerReception",
    params(("code" = String, Path, description = "The dossier's code", example = "000.00.06.H56-261128-0001")),
    request_body(content = ReceptionRequest, content_type = "application/json"),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "Answered: the dossier as it is now", body = OfficeDossierDetail),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No key, or a wrong, expired or revoked key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key may not answer at this dossier's agency (scope dossiers:receive)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No dossier has this code", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The dossier is not waiting for reception, or its fee is not paid yet", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown answer, a missing reason, or a field unknown or of the wrong type", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The client's limit of requests a minute is reached", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn answer_reception(
    State(state): State<AppState>,
    Extension(Caller { client }): Extension<Caller>,
    Path(code): Path<String>,
    body: Result<Json<ReceptionRequest>, JsonRejection>,
) -> Result<Response, AppError> {
    let dossier = match readable(&state, &client, &code).await? {
        Ok(d) => d,
        Err(problem) => return Ok(problem.into_response()),
    };
    let officer = client.as_officer();
    if !guard::allows(
        &state.catalogue,
        &officer,
        DeskRight::Receive.action(&dossier.agency),
    ) {
        return Ok(Problem::for_status(StatusCode::FORBIDDEN)
            .with_detail("Hệ thống này không được tiếp nhận hồ sơ (cần phạm vi dossiers:receive).")
            .into_response());
    }
    let asked = match body {
        Ok(Json(asked)) => asked,
        Err(rejection) => return Ok(unreadable(rejection).into_response()),
    };
    let answer = match asked.answer.as_str() {
        "receive" => ReceptionAnswer::Accept,
        "request_supplement" => ReceptionAnswer::AskSupplement,
        "refuse" => ReceptionAnswer::Refuse,
        _ => {
            return Ok(invalid(
                "answer",
                "Chỉ nhận receive, request_supplement hoặc refuse",
            ));
        }
    };
    let reason = motcua_domain::text::normalize(&asked.reason);
    let Some(details) = state.store.submissions.online_details(dossier.id).await? else {
        return Err(AppError::NotFound);
    };
    let now = OffsetDateTime::now_utc();
    let prepared = match receiving::prepare(
        &state,
        &dossier,
        &details,
        answer,
        &reason,
        client.actor(),
        now,
    )
    .await?
    {
        Ok(p) => p,
        Err(refusal) => return Ok(refused(refusal)),
    };
    if let Err(refusal) = receiving::commit(&state, &prepared).await? {
        return Ok(refused(refusal));
    }
    let now_dossier = state
        .store
        .dossiers
        .get(dossier.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(detail(&state, &now_dossier).await?).into_response())
}

fn invalid(name: &str, message: &str) -> Response {
    Problem {
        errors: vec![FieldProblem {
            name: name.into(),
            message: message.into(),
        }],
        ..Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY)
    }
    .into_response()
}

fn refused(refusal: Refusal) -> Response {
    match refusal {
        Refusal::NeedsReason(_) => invalid("reason", refusal.message()),
        Refusal::Unpaid | Refusal::NotWaiting => Problem::for_status(StatusCode::CONFLICT)
            .with_detail(refusal.message())
            .into_response(),
    }
}
