//! Following a dossier: "My dossiers", the owner's dossier page with its timeline, the confirmation after
//! submitting, withdrawal, and the public lookup by code plus phone or identity number.

use crate::dossiers::owned;
use crate::input::{Form, InputRejection, Query};
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use time::{Duration, OffsetDateTime};

use motcua_domain::{
    Dossier, DossierCode, DossierStatus, HistoryEvent, PersonalId, Phone, Transition,
    form::FormDefinition, policy::Action, submission::UploadId, vntime,
};
use motcua_store::StoreError;

use crate::{
    AppError, AppState, answers::AnswerSection, answers::answer_sections,
    citizen::attachments::ComponentFiles, citizen::attachments::Target,
    citizen::attachments::file_views, citizen::attachments::receive, error::not_found,
    files::serve_file, guard, layout::Layout, session::start_of, viewer::Viewer,
};

pub(crate) struct DraftRow {
    href: String,
    procedure: String,
    saved_at: String,
}

pub(crate) struct DossierRow {
    href: String,
    code: String,
    procedure: String,
    status: &'static str,
    submitted_at: String,
    due: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "my_dossiers.html")]
pub(crate) struct MyDossiersPage {
    layout: Layout,
    drafts: Vec<DraftRow>,
    dossiers: Vec<DossierRow>,
    deleted: bool,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct MyQuery {
    da_xoa: Option<String>,
}

fn procedure_name(state: &AppState, code: &str) -> String {
    state
        .catalogue
        .view()
        .get(code)
        .map(|e| e.procedure.name.to_string())
        .unwrap_or_else(|| code.to_string())
}

fn due_text(d: &Dossier) -> String {
    d.due_at
        .map(vntime::format_datetime)
        .unwrap_or_else(|| "Chưa có (hẹn khi tiếp nhận)".into())
}

pub(crate) async fn my_dossiers(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Query(q): Query<MyQuery>,
) -> Result<Response, AppError> {
    let account =
        match guard::require(&state, &viewer, Action::ViewOwnAccount, "/ho-so-cua-toi").await {
            Ok(a) => a,
            Err(r) => return Ok(r),
        };
    let drafts = state
        .store
        .submissions
        .drafts_for(account.id)
        .await?
        .into_iter()
        .map(|d| DraftRow {
            href: format!("/ho-so-nhap/{}", d.id),
            procedure: procedure_name(&state, d.procedure.as_str()),
            saved_at: vntime::format_datetime(d.updated_at),
        })
        .collect();
    let dossiers = state
        .store
        .submissions
        .dossiers_for(account.id)
        .await?
        .into_iter()
        .map(|d| DossierRow {
            href: format!("/ho-so/{}", d.code),
            code: d.code.to_string(),
            procedure: procedure_name(&state, d.procedure.as_str()),
            status: d.status.label_vi(),
            submitted_at: vntime::format_datetime(d.created_at),
            due: due_text(&d),
        })
        .collect();
    Ok(MyDossiersPage {
        layout,
        drafts,
        dossiers,
        deleted: q.da_xoa.is_some(),
    }
    .into_response())
}

pub(crate) struct EventView {
    at: String,
    status: &'static str,
    reason: Option<String>,
}

fn timeline(events: &[HistoryEvent]) -> Vec<EventView> {
    events
        .iter()
        .map(|e| EventView {
            at: vntime::format_datetime(e.at),
            status: e.to.label_vi(),
            reason: e.reason.clone(),
        })
        .collect()
}

pub(crate) struct AttachedFile {
    component: String,
    name: String,
    size: String,
    href: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "dossier.html")]
pub(crate) struct DossierPage {
    layout: Layout,
    code: String,
    procedure: String,
    agency: String,
    status: &'static str,
    submitted_at: String,
    due: String,
    events: Vec<EventView>,
    sections: Vec<AnswerSection>,
    files: Vec<AttachedFile>,
    /// "Rút hồ sơ" (immediately, before reception) or "Yêu cầu rút hồ sơ" (after).
    withdraw: Option<&'static str>,
    just_submitted: bool,
    notice: Option<&'static str>,
    on_behalf: bool,
    slips: Vec<(&'static str, &'static str)>,
    /// When the agency asked for more: what it asked, and the files being prepared for the answer.
    supplement: Option<SupplementView>,
    /// The result, once the dossier is processed.
    result: Option<crate::steps::ResultView>,
}

pub(crate) struct SupplementView {
    request: Option<String>,
    components: Vec<ComponentFiles>,
    errors: Vec<(String, String)>,
}

fn withdraw_label(status: DossierStatus) -> Option<&'static str> {
    if status.can_become(DossierStatus::Withdrawn) && status == DossierStatus::Submitted {
        Some("Rút hồ sơ")
    } else if status.can_become(DossierStatus::WithdrawalRequested) {
        Some("Yêu cầu rút hồ sơ")
    } else {
        None
    }
}

async fn render_dossier(
    state: &AppState,
    layout: Layout,
    dossier: Dossier,
    details: motcua_domain::submission::OnlineDetails,
    just_submitted: bool,
    notice: Option<&'static str>,
) -> Result<DossierPage, AppError> {
    render_dossier_with(
        state,
        layout,
        dossier,
        details,
        just_submitted,
        notice,
        vec![],
    )
    .await
}

async fn render_dossier_with(
    state: &AppState,
    layout: Layout,
    dossier: Dossier,
    details: motcua_domain::submission::OnlineDetails,
    just_submitted: bool,
    notice: Option<&'static str>,
    supplement_errors: Vec<(usize, String)>,
) -> Result<DossierPage, AppError> {
    let events = state.store.dossiers.history(dossier.id).await?;
    let procedure = state
        .store
        .catalogue
        .get_procedure_version(&dossier.procedure, dossier.procedure_version)
        .await?;
    let case = procedure
        .as_ref()
        .and_then(|p| p.cases.iter().find(|c| c.key == dossier.case));
    let form = FormDefinition::for_case(case.and_then(|c| c.form.as_ref()));
    let files = state
        .store
        .submissions
        .uploads_for_dossier(dossier.id)
        .await?
        .into_iter()
        .map(|u| AttachedFile {
            component: case
                .and_then(|c| c.components.get(usize::from(u.component)))
                .map(|c| c.name.to_string())
                .unwrap_or_default(),
            name: u.file_name.clone(),
            size: motcua_domain::upload::format_size(u.size),
            href: format!("/ho-so/{}/tep/{}", dossier.code, u.id),
        })
        .collect();
    let supplement = if dossier.status == DossierStatus::SupplementRequested {
        let draft = state.store.submissions.draft_of(dossier.id).await?;
        let pending: Vec<_> = match draft {
            Some(d) => state
                .store
                .submissions
                .uploads_for_draft(d)
                .await?
                .into_iter()
                .filter(|u| u.dossier.is_none())
                .collect(),
            None => vec![],
        };
        let base = format!("/ho-so/{}", dossier.code);
        Some(SupplementView {
            request: events
                .iter()
                .rev()
                .find(|e| e.to == DossierStatus::SupplementRequested)
                .and_then(|e| e.reason.clone()),
            components: case
                .map(|c| {
                    c.components
                        .iter()
                        .enumerate()
                        .map(|(i, comp)| ComponentFiles {
                            index: i,
                            name: comp.name.to_string(),
                            required: comp.required,
                            files: file_views(&base, &pending, i)
                                .into_iter()
                                .map(|mut f| {
                                    f.remove = f.remove.replace("/tep/", "/bo-sung/");
                                    f
                                })
                                .collect(),
                            error: supplement_errors
                                .iter()
                                .filter(|(n, _)| *n == i)
                                .map(|(_, e)| e.clone())
                                .reduce(|a, b| format!("{a} {b}")),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            errors: supplement_errors
                .iter()
                .map(|(i, e)| (format!("tep-{i}"), e.clone()))
                .collect(),
        })
    } else {
        None
    };
    let result = if matches!(
        dossier.status,
        DossierStatus::Processed | DossierStatus::ResultDelivered
    ) {
        state
            .store
            .workflows
            .result(dossier.id)
            .await?
            .map(|r| crate::steps::result_view(&r, &format!("/ho-so/{}/ket-qua", dossier.code)))
    } else {
        None
    };
    Ok(DossierPage {
        result,
        slips: crate::slips::available(&events, false),
        supplement,
        layout,
        code: dossier.code.to_string(),
        procedure: procedure
            .as_ref()
            .map(|p| p.name.to_string())
            .unwrap_or_else(|| dossier.procedure.to_string()),
        agency: state
            .catalogue
            .view()
            .agency_name(dossier.code.agency())
            .to_string(),
        status: dossier.status.label_vi(),
        submitted_at: vntime::format_datetime(dossier.created_at),
        due: due_text(&dossier),
        events: timeline(&events),
        sections: answer_sections(&form, &details.answers, None),
        files,
        withdraw: withdraw_label(dossier.status),
        just_submitted,
        notice,
        on_behalf: details.on_behalf,
    })
}

pub(crate) async fn dossier_page(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let path = format!("/ho-so/{code}");
    let (dossier, details) = match owned(&state, &viewer, &code, &path).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    Ok(
        render_dossier(&state, layout, dossier, details, false, None)
            .await?
            .into_response(),
    )
}

pub(crate) async fn submitted_page(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let path = format!("/ho-so/{code}");
    let (dossier, details) = match owned(&state, &viewer, &code, &path).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    Ok(render_dossier(&state, layout, dossier, details, true, None)
        .await?
        .into_response())
}

pub(crate) async fn dossier_file(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((code, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let path = format!("/ho-so/{code}");
    let (dossier, _) = match owned(&state, &viewer, &code, &path).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let Ok(file) = uuid::Uuid::parse_str(&file) else {
        return Ok(not_found().await);
    };
    let draft = state.store.submissions.draft_of(dossier.id).await?;
    match state.store.submissions.get_upload(UploadId(file)).await? {
        Some(u) if u.dossier == Some(dossier.id) => serve_file(&state, &u).await,
        // a file prepared for a supplement, not sent yet
        Some(u) if u.dossier.is_none() && Some(u.draft) == draft => serve_file(&state, &u).await,
        _ => Ok(not_found().await),
    }
}

/// Add files answering a supplement request (kept apart until the answer is sent).
pub(crate) async fn supplement_upload(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
    multipart: axum::extract::Multipart,
) -> Result<Response, AppError> {
    let path = format!("/ho-so/{code}");
    let (dossier, details) = match owned(&state, &viewer, &code, &path).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let Some(draft) = state.store.submissions.draft_of(dossier.id).await? else {
        return Ok(not_found().await);
    };
    if dossier.status != DossierStatus::SupplementRequested {
        return Ok((
            StatusCode::CONFLICT,
            render_dossier(&state, layout, dossier, details, false, Some(NOT_ASKED)).await?,
        )
            .into_response());
    }
    let components = state
        .store
        .catalogue
        .get_procedure_version(&dossier.procedure, dossier.procedure_version)
        .await?
        .and_then(|p| p.cases.into_iter().find(|c| c.key == dossier.case))
        .map(|c| c.components.len())
        .unwrap_or(0);
    // `owned` only lets through dossiers with an owner
    let Some(account) = details.account else {
        return Ok(not_found().await);
    };
    let target = Target {
        account,
        draft,
        components,
        supplement: true,
    };
    let errors = receive(&state, multipart, &target).await?;
    if errors.is_empty() {
        return Ok(Redirect::to(&format!("/ho-so/{code}#bo-sung")).into_response());
    }
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        render_dossier_with(&state, layout, dossier, details, false, None, errors).await?,
    )
        .into_response())
}

const NOT_ASKED: &str = "Cơ quan không (hoặc không còn) yêu cầu bổ sung hồ sơ này.";

pub(crate) async fn supplement_remove(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((code, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let path = format!("/ho-so/{code}");
    let (dossier, _) = match owned(&state, &viewer, &code, &path).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let (Some(draft), Ok(file)) = (
        state.store.submissions.draft_of(dossier.id).await?,
        uuid::Uuid::parse_str(&file),
    ) else {
        return Ok(not_found().await);
    };
    if let Some(u) = state
        .store
        .submissions
        .remove_upload(UploadId(file), draft)
        .await?
    {
        let key = object_store::path::Path::from(u.object_key.as_str());
        if let Err(e) = object_store::ObjectStoreExt::delete(state.files.as_ref(), &key).await {
            tracing::warn!(error = %e, key = %u.object_key, "removed upload's object not deleted; the sweeper will retry");
        }
    }
    Ok(Redirect::to(&format!("/ho-so/{code}#bo-sung")).into_response())
}

/// Send the supplement: back to reception if the dossier was never received, else back to processing.
pub(crate) async fn supplement_send(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let path = format!("/ho-so/{code}");
    let (dossier, details) = match owned(&state, &viewer, &code, &path).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let Some(draft) = state.store.submissions.draft_of(dossier.id).await? else {
        return Ok(not_found().await);
    };
    if dossier.status != DossierStatus::SupplementRequested {
        return Ok((
            StatusCode::CONFLICT,
            render_dossier(&state, layout, dossier, details, false, Some(NOT_ASKED)).await?,
        )
            .into_response());
    }
    let pending = state
        .store
        .submissions
        .uploads_for_draft(draft)
        .await?
        .into_iter()
        .filter(|u| u.dossier.is_none())
        .count();
    if pending == 0 {
        let errors = vec![(
            0,
            "Tải lên ít nhất một tệp bổ sung trước khi gửi.".to_string(),
        )];
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render_dossier_with(&state, layout, dossier, details, false, None, errors).await?,
        )
            .into_response());
    }
    let history = state.store.dossiers.history(dossier.id).await?;
    let was_received = history.iter().any(|e| e.to == DossierStatus::Received);
    let to = if was_received {
        DossierStatus::Processing
    } else {
        DossierStatus::Submitted
    };
    let actor = details
        .account
        .map(|a| a.to_string())
        .unwrap_or_else(|| "citizen".into());
    let t = Transition::new(
        dossier.id,
        dossier.status,
        to,
        OffsetDateTime::now_utc(),
        actor,
    )
    .map_err(|_| AppError::NotFound)?
    .with_reason(format!(
        "Công dân đã bổ sung {pending} tệp trên cổng dịch vụ công"
    ));
    // the clock was paused from the request until now: its working time is added to the due time
    let asked = history
        .iter()
        .rev()
        .find(|e| e.to == DossierStatus::SupplementRequested);
    let t = match (dossier.due_at, asked) {
        (Some(due), Some(asked)) if was_received => {
            let now = t.at;
            t.with_due_at(
                crate::dossiers::calendar(&state)
                    .await?
                    .extend_for_pause(due, asked.at, now),
            )
        }
        _ => t,
    };
    // processing resumes: the workflow's open step gets the pause too, or the workflow starts; committed with the
    // transition and the files, all or nothing
    let change = match asked {
        Some(asked) if was_received => {
            Some(crate::steps::after_supplement(&state, &dossier, asked.at, t.at).await?)
        }
        _ => None,
    };
    match state
        .store
        .submissions
        .send_supplement(draft, &t, change.as_ref())
        .await
    {
        Ok(_) => {
            if change.is_some() {
                state.outbox_wake.notify_one();
            }
            Ok(Redirect::to(&format!("/ho-so/{code}")).into_response())
        }
        Err(StoreError::Conflict(_)) => Ok((
            StatusCode::CONFLICT,
            render_dossier(&state, layout, dossier, details, false, Some(NOT_ASKED)).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

/// Withdraw (before reception) or ask to withdraw (after): a history event either way.
pub(crate) async fn withdraw(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let path = format!("/ho-so/{code}");
    let (dossier, details) = match owned(&state, &viewer, &code, &path).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let to = if dossier.status == DossierStatus::Submitted {
        DossierStatus::Withdrawn
    } else {
        DossierStatus::WithdrawalRequested
    };
    let actor = details
        .account
        .map(|a| a.to_string())
        .unwrap_or_else(|| "citizen".into());
    let notice = match Transition::new(
        dossier.id,
        dossier.status,
        to,
        OffsetDateTime::now_utc(),
        actor,
    ) {
        Err(_) => Some("Hồ sơ ở trạng thái này không thể rút."),
        Ok(t) => {
            let t = t.with_reason("Công dân yêu cầu rút hồ sơ trên cổng dịch vụ công");
            match state.store.dossiers.record_transition(&t).await {
                Ok(_) => {
                    return Ok(Redirect::to(&format!("/ho-so/{code}")).into_response());
                }
                Err(StoreError::Conflict(_)) => {
                    Some("Trạng thái hồ sơ vừa thay đổi; hãy xem lại trước khi rút.")
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    let fresh = state
        .store
        .dossiers
        .get(dossier.id)
        .await?
        .unwrap_or(dossier);
    Ok((
        StatusCode::CONFLICT,
        render_dossier(&state, layout, fresh, details, false, notice).await?,
    )
        .into_response())
}

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

/// The receipt of the submission as PDF, with a QR code to the public lookup (which needs the phone or identity
/// number as well, so the code alone reveals nothing).
pub(crate) async fn receipt(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let path = format!("/ho-so/{code}");
    let (dossier, _) = match owned(&state, &viewer, &code, &path).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let procedure = state
        .store
        .catalogue
        .get_procedure_version(&dossier.procedure, dossier.procedure_version)
        .await?;
    let case = procedure
        .as_ref()
        .and_then(|p| p.cases.iter().find(|c| c.key == dossier.case));
    let files = state
        .store
        .submissions
        .uploads_for_dossier(dossier.id)
        .await?;
    let components = case
        .map(|c| {
            c.components
                .iter()
                .enumerate()
                .map(|(i, comp)| {
                    let n = files
                        .iter()
                        .filter(|f| usize::from(f.component) == i)
                        .count();
                    (comp.name.to_string(), n)
                })
                .filter(|(_, n)| *n > 0)
                .collect()
        })
        .unwrap_or_default();
    let view = state.catalogue.view();
    let receipt = motcua_documents::Receipt {
        site_name: state.site.name.clone(),
        agency_name: view.agency_name(dossier.code.agency()).to_string(),
        code: dossier.code.to_string(),
        procedure: procedure
            .as_ref()
            .map(|p| p.name.to_string())
            .unwrap_or_else(|| dossier.procedure.to_string()),
        case: case.map(|c| c.name.to_string()).unwrap_or_default(),
        applicant: dossier.applicant_name.to_string(),
        submitted_at: vntime::format_datetime(dossier.created_at),
        status: dossier.status.label_vi().to_string(),
        components,
        tracking_url: format!(
            "{}/tra-cuu-ho-so?ma={}",
            state.site.public_url.trim_end_matches('/'),
            dossier.code
        ),
    };
    // text layout and compression take a few milliseconds: off the async workers
    let pdf = tokio::task::spawn_blocking(move || motcua_documents::receipt_pdf(&receipt))
        .await
        .map_err(|e| AppError::Files(e.to_string()))?
        .map_err(|e| AppError::Files(e.to_string()))?;
    let mut response = Response::new(axum::body::Body::from(pdf));
    let h = response.headers_mut();
    h.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/pdf"),
    );
    if let Ok(v) = axum::http::HeaderValue::from_str(&format!(
        "inline; filename=\"bien-nhan-{}.pdf\"",
        dossier.code
    )) {
        h.insert(axum::http::header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}
