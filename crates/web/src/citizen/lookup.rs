//! The public lookup of a dossier by its code plus the applicant's phone or identity number (limited per address),
//! showing its status and timeline without reasons.

use crate::citizen::tracking::{EventView, due_text, procedure_name, timeline};
use crate::input::{Form, InputRejection, Query};
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use motcua_domain::vntime;

use crate::{
    AppError, AppState,
    dossier_lookup::{Found, find, read_code, read_proof},
    layout::Layout,
    viewer::Viewer,
};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct LookupQuery {
    #[serde(default)]
    ma: Option<String>,
    #[serde(default)]
    xac_minh: Option<String>,
}

pub(crate) struct LookupResult {
    code: String,
    procedure: String,
    agency: String,
    status: &'static str,
    submitted_at: String,
    due: String,
    events: Vec<EventView>,
}

#[derive(Template, WebTemplate)]
#[template(path = "lookup.html")]
pub(crate) struct LookupPage {
    layout: Layout,
    code: String,
    proof: String,
    errors: Vec<(String, String)>,
    not_found: bool,
    result: Option<LookupResult>,
}

/// The lookup form; a code in the address (`?ma=…`, as the QR code on a receipt links) is filled in. The
/// applicant's phone or identity number is never taken from the address: it goes in the posted form only.
pub(crate) async fn lookup_page(
    layout: Layout,
    query: Result<Query<LookupQuery>, InputRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    LookupPage {
        layout,
        code: motcua_domain::text::normalize(q.ma.as_deref().unwrap_or("")),
        proof: String::new(),
        errors: vec![],
        not_found: false,
        result: None,
    }
    .into_response()
}

/// Public lookup (posted, so the identity number stays out of addresses and logs): the code and the applicant's
/// phone or identity number must both match; the answer shows the progress only, nothing personal.
pub(crate) async fn lookup(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    form: Result<Form<LookupQuery>, InputRejection>,
) -> Result<Response, AppError> {
    let q = form?.0;
    let code_text = motcua_domain::text::normalize(q.ma.as_deref().unwrap_or(""));
    let proof_text = motcua_domain::text::normalize(q.xac_minh.as_deref().unwrap_or(""));
    let mut page = LookupPage {
        layout,
        code: code_text.clone(),
        proof: proof_text.clone(),
        errors: vec![],
        not_found: false,
        result: None,
    };
    let code = read_code(&code_text);
    if let Err(message) = code {
        page.errors.push(("ma".into(), message.into()));
    }
    let proof = read_proof(&proof_text);
    if let Err(message) = &proof {
        page.errors.push(("xac_minh".into(), (*message).into()));
    }
    let (Ok(code), Ok(proof)) = (code, proof) else {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let (d, events) = match find(&state, viewer.ip_key(), &code, &proof).await? {
        Found::TooMany => return Ok(crate::error::too_many(60)),
        Found::Nothing => {
            page.not_found = true;
            return Ok((StatusCode::NOT_FOUND, page).into_response());
        }
        Found::Dossier(d, events) => (d, events),
    };
    page.result = Some(LookupResult {
        code: d.code.to_string(),
        procedure: procedure_name(&state, d.procedure.as_str()),
        agency: state
            .catalogue
            .view()
            .agency_name(d.code.agency())
            .to_string(),
        status: d.status.label_vi(),
        submitted_at: vntime::format_datetime(d.created_at),
        due: due_text(&d),
        // statuses and times only: reasons may name people
        events: timeline(&events)
            .into_iter()
            .map(|e| EventView { reason: None, ..e })
            .collect(),
    });
    Ok(page.into_response())
}
