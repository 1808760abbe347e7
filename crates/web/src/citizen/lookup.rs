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
use time::{Duration, OffsetDateTime};

use motcua_domain::{DossierCode, PersonalId, Phone, vntime};

use crate::{AppError, AppState, layout::Layout, session::start_of, viewer::Viewer};

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

/// Lookups an address may make per minute.
const LOOKUPS_PER_MINUTE: u32 = 10;

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
    let code = DossierCode::parse(&code_text.to_uppercase().replace(' ', ""));
    if code_text.is_empty() {
        page.errors.push(("ma".into(), "Nhập mã hồ sơ".into()));
    } else if code.is_err() {
        page.errors.push((
            "ma".into(),
            "Mã hồ sơ không đúng dạng, ví dụ 000.00.06.H56-261128-0001".into(),
        ));
    }
    let phone = Phone::parse(&proof_text).ok();
    let id = PersonalId::parse(&proof_text).ok();
    if proof_text.is_empty() {
        page.errors.push((
            "xac_minh".into(),
            "Nhập số điện thoại hoặc số định danh cá nhân của người nộp hồ sơ".into(),
        ));
    } else if phone.is_none() && id.is_none() {
        page.errors.push((
            "xac_minh".into(),
            "Nhập số điện thoại di động (10 số) hoặc số định danh cá nhân (12 số)".into(),
        ));
    }
    let Ok(code) = code else {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    if !page.errors.is_empty() {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let now = OffsetDateTime::now_utc();
    let hits = state
        .store
        .rate_limits
        .hit(
            &format!("lookup:{}", viewer.ip_key()),
            start_of(now, Duration::MINUTE),
        )
        .await?;
    if hits > LOOKUPS_PER_MINUTE {
        return Ok(crate::error::too_many(60));
    }
    let found = match state.store.dossiers.get_by_code(&code).await? {
        None => None,
        Some(d) => {
            let details = state.store.submissions.online_details(d.id).await?;
            let matches = details.is_some_and(|x| {
                phone
                    .as_ref()
                    .is_some_and(|p| x.applicant_phone.as_deref() == Some(p.as_str()))
                    || id
                        .as_ref()
                        .is_some_and(|p| x.applicant_personal_id.as_deref() == Some(p.as_str()))
            });
            matches.then_some(d)
        }
    };
    let Some(d) = found else {
        page.not_found = true;
        return Ok((StatusCode::NOT_FOUND, page).into_response());
    };
    let events = state.store.dossiers.history(d.id).await?;
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
