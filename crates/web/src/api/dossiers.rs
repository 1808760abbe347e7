//! Dossiers for other systems. For now the public status lookup: a dossier's progress by its code plus the
//! applicant's phone or identity number, with the page's own rules, limit and privacy (`shared/dossier_lookup.rs`).
//! Posted, so the identity number stays out of addresses and logs.

use axum::{
    Json,
    extract::{State, rejection::JsonRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use motcua_domain::DossierStatus;

use crate::{
    AppError, AppState,
    dossier_lookup::{Found, find, read_code, read_proof},
    problem::{FieldProblem, Problem},
    viewer::Viewer,
};

/// What identifies a dossier to someone who is not logged in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LookupRequest {
    /// The dossier's code, as on the receipt.
    #[schema(example = "000.00.06.H56-261128-0001", min_length = 1, max_length = 64)]
    code: String,
    /// The applicant's mobile phone (10 digits) or personal identity number (12 digits), as given with the dossier.
    #[schema(example = "0912345678", min_length = 1, max_length = 32)]
    proof: String,
}

/// A dossier's progress: statuses and times, nothing personal.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DossierStatusView {
    code: String,
    /// The procedure's name.
    procedure: String,
    /// The receiving agency's name.
    agency: String,
    /// The status key (`submitted`, `received`, `processing`, `result_ready`, …).
    status: String,
    /// The status in Vietnamese.
    status_label: String,
    /// RFC 3339, Vietnam's time.
    submitted_at: String,
    /// The appointment for the result, when there is one.
    due_at: Option<String>,
    /// Every change of status, oldest first (reasons are left out: they may name people).
    events: Vec<StatusEvent>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StatusEvent {
    at: String,
    status: String,
    status_label: String,
}

/// A JSON body that could not be taken, as problem details.
pub(crate) fn unreadable(rejection: JsonRejection) -> Problem {
    let status = rejection.status();
    let detail = match status {
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            "Nội dung phải là JSON, với tiêu đề Content-Type: application/json."
        }
        StatusCode::PAYLOAD_TOO_LARGE => "Nội dung gửi lên quá lớn.",
        StatusCode::UNPROCESSABLE_ENTITY => {
            "JSON đúng cú pháp nhưng thiếu trường bắt buộc, có trường lạ hoặc trường sai kiểu."
        }
        _ => "JSON không đúng cú pháp.",
    };
    Problem::for_status(status).with_detail(detail)
}

/// The progress of one dossier, found by its code and the applicant's phone or identity number. At most 10
/// lookups a minute per address, shared with the lookup page.
#[utoipa::path(
    post,
    path = "/api/v1/dossiers/lookup",
    tag = "dossiers",
    operation_id = "lookupDossier",
    request_body(content = LookupRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The dossier's progress", body = DossierStatusView),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No dossier has this code with this phone or identity number (also when either is not in the right form: `errors` says what is wrong)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is missing, empty (\"\"), unknown or of the wrong type", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many lookups from this address; wait as Retry-After says", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn lookup(
    State(state): State<AppState>,
    viewer: Viewer,
    body: Result<Json<LookupRequest>, JsonRejection>,
) -> Result<Response, AppError> {
    let asked = match body {
        Ok(Json(asked)) => asked,
        Err(rejection) => return Ok(unreadable(rejection).into_response()),
    };
    let code_text = motcua_domain::text::normalize(&asked.code);
    let proof_text = motcua_domain::text::normalize(&asked.proof);
    let code = read_code(&code_text);
    let proof = read_proof(&proof_text);
    let mut errors = Vec::new();
    if let Err(message) = &code {
        errors.push(FieldProblem {
            name: "code".into(),
            message: (*message).into(),
        });
    }
    if let Err(message) = &proof {
        errors.push(FieldProblem {
            name: "proof".into(),
            message: (*message).into(),
        });
    }
    let (Ok(code), Ok(proof)) = (code, proof) else {
        // a field left empty is an error of the request; a code or number not in the right form simply matches
        // no dossier (404), with what is wrong with it
        let empty = asked.code.is_empty() || asked.proof.is_empty();
        let status = if empty {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::NOT_FOUND
        };
        return Ok(Problem {
            errors,
            ..Problem::for_status(status).with_detail(
                "Không tra cứu được: mã hồ sơ hoặc số điện thoại, số định danh chưa đúng dạng; xem danh sách errors.",
            )
        }
        .into_response());
    };
    let (d, events) = match find(&state, viewer.ip_key(), &code, &proof).await? {
        Found::TooMany => {
            return Ok(Problem::for_status(StatusCode::TOO_MANY_REQUESTS).into_response());
        }
        Found::Nothing => {
            return Ok(Problem::not_found(
                "Không có hồ sơ nào có mã này với số điện thoại hoặc số định danh này.",
            )
            .into_response());
        }
        Found::Dossier(d, events) => (d, events),
    };
    let view = state.catalogue.view();
    let status = |s: DossierStatus| (s.as_str().to_string(), s.label_vi().to_string());
    let (key, label) = status(d.status);
    Ok(Json(DossierStatusView {
        code: d.code.to_string(),
        procedure: view.procedure_name(d.procedure.as_str()).to_string(),
        agency: view.agency_name(d.code.agency()).to_string(),
        status: key,
        status_label: label,
        submitted_at: motcua_domain::vntime::format_rfc3339(d.created_at),
        // no appointment for a dossier that will not be decided
        due_at: d
            .due_at
            .filter(|_| !matches!(d.status, DossierStatus::Refused | DossierStatus::Withdrawn))
            .map(motcua_domain::vntime::format_rfc3339),
        events: events
            .iter()
            .map(|e| {
                let (status, status_label) = status(e.to);
                StatusEvent {
                    at: motcua_domain::vntime::format_rfc3339(e.at),
                    status,
                    status_label,
                }
            })
            .collect(),
    })
    .into_response())
}
