//! Following a dossier: "My dossiers", the owner's dossier page with its timeline and files, the confirmation
//! after submitting, the receipt, and withdrawal. Supplements are in `supplement.rs`, the public lookup in
//! `lookup.rs`.

use crate::dossiers::owned;
use crate::input::Query;
use crate::withdrawal;
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use time::OffsetDateTime;

use motcua_domain::{
    Dossier, DossierStatus, HistoryEvent, form::FormDefinition, policy::Action,
    submission::UploadId, vntime,
};

use crate::{
    AppError, AppState, answers::AnswerSection, answers::answer_sections,
    citizen::attachments::ComponentFiles, citizen::attachments::file_views, error::not_found,
    files::serve_file, guard, layout::Layout, viewer::Viewer,
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
    /// The agency asks for more: the row leads, with its call to action.
    needs_supplement: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "my_dossiers.html")]
pub(crate) struct MyDossiersPage {
    layout: Layout,
    drafts: Vec<DraftRow>,
    dossiers: Vec<DossierRow>,
    deleted: bool,
    /// All the citizen's submitted dossiers, before the filters.
    total: usize,
    /// How many the filters kept.
    found: usize,
    q: String,
    status: String,
    /// The statuses the citizen's dossiers are in, to filter by: (key, label).
    statuses: Vec<(&'static str, &'static str)>,
    /// Page links: (number, href, current).
    pages: Vec<(usize, String, bool)>,
    /// What the portal e-mailed the citizen, newest first.
    notices: Vec<NoticeRow>,
    /// The account's e-mail address (none: the portal cannot write).
    email: Option<String>,
}

/// One e-mail the portal sent (or is sending) the citizen.
pub(crate) struct NoticeRow {
    at: String,
    subject: String,
    body: String,
    /// "Đã gửi lúc …", "Đang gửi", "Không gửi được".
    state: String,
}

/// How many of the latest e-mails "Hồ sơ của tôi" lists.
const NOTICES_SHOWN: u32 = 20;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct MyQuery {
    da_xoa: Option<String>,
    /// Code or procedure, with or without diacritics.
    #[serde(default)]
    q: String,
    #[serde(default)]
    trang_thai: String,
    #[serde(default)]
    trang: String,
}

/// Dossiers per page of "Hồ sơ của tôi".
const MY_PAGE: usize = 20;

pub(crate) fn procedure_name(state: &AppState, code: &str) -> String {
    state.catalogue.view().procedure_name(code).to_string()
}

pub(crate) fn due_text(d: &Dossier) -> String {
    match d.status {
        // no appointment for a dossier that will not be decided
        DossierStatus::Refused | DossierStatus::Withdrawn => "—".into(),
        _ => d
            .due_at
            .map(vntime::format_datetime)
            .unwrap_or_else(|| "Chưa có (hẹn khi tiếp nhận)".into()),
    }
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
    let all = state.store.submissions.dossiers_for(account.id).await?;
    let total = all.len();
    let mut statuses: Vec<(&'static str, &'static str)> = Vec::new();
    for d in &all {
        if !statuses.iter().any(|(k, _)| *k == d.status.as_str()) {
            statuses.push((d.status.as_str(), d.status.label_vi()));
        }
    }
    let q_text = motcua_domain::text::normalize(&q.q);
    let needle = motcua_search::fold(&q_text);
    let chosen = DossierStatus::parse(q.trang_thai.trim()).ok();
    let mut kept: Vec<Dossier> = all
        .into_iter()
        .filter(|d| chosen.is_none_or(|s| d.status == s))
        .filter(|d| {
            needle.is_empty()
                || motcua_search::fold(&d.code.to_string()).contains(&needle)
                || motcua_search::fold(&procedure_name(&state, d.procedure.as_str()))
                    .contains(&needle)
        })
        .collect();
    // what asks for the citizen's action comes first (newest first within each)
    kept.sort_by_key(|d| d.status != DossierStatus::SupplementRequested);
    let found = kept.len();
    let page_count = found.div_ceil(MY_PAGE).max(1);
    let page = q
        .trang
        .trim()
        .parse::<usize>()
        .unwrap_or(1)
        .clamp(1, page_count);
    let href = |n: usize| {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if !q_text.is_empty() {
            pairs.push(("q", q_text.clone()));
        }
        if let Some(s) = chosen {
            pairs.push(("trang_thai", s.as_str().to_string()));
        }
        if n > 1 {
            pairs.push(("trang", n.to_string()));
        }
        crate::urls::with_query("/ho-so-cua-toi", &pairs)
    };
    let pages = if page_count > 1 {
        (1..=page_count).map(|n| (n, href(n), n == page)).collect()
    } else {
        Vec::new()
    };
    let dossiers = kept
        .into_iter()
        .skip((page - 1) * MY_PAGE)
        .take(MY_PAGE)
        .map(|d| DossierRow {
            href: format!("/ho-so/{}", d.code),
            code: d.code.to_string(),
            procedure: procedure_name(&state, d.procedure.as_str()),
            status: d.status.label_vi(),
            submitted_at: vntime::format_datetime(d.created_at),
            due: due_text(&d),
            needs_supplement: d.status == DossierStatus::SupplementRequested,
        })
        .collect();
    // everything the portal told the citizen by e-mail, also here
    let notices = match &account.email {
        Some(email) => state
            .store
            .outbox
            .emails_to(
                account.id,
                email.as_str(),
                account.email_verified_at,
                NOTICES_SHOWN,
            )
            .await?
            .into_iter()
            .map(|m| NoticeRow {
                at: vntime::format_datetime(m.queued_at),
                subject: m.subject,
                body: m.body,
                state: match (m.sent_at, m.given_up) {
                    (Some(at), _) => format!("Đã gửi lúc {}", vntime::format_datetime(at)),
                    (None, true) => "Không gửi được (thư điện tử bị từ chối)".into(),
                    (None, false) => "Đang gửi".into(),
                },
            })
            .collect(),
        None => Vec::new(),
    };
    Ok(MyDossiersPage {
        layout,
        drafts,
        dossiers,
        notices,
        email: account.email.as_ref().map(|e| e.as_str().to_string()),
        deleted: q.da_xoa.is_some(),
        total,
        found,
        q: q_text,
        status: chosen.map(|s| s.as_str().to_string()).unwrap_or_default(),
        statuses,
        pages,
    }
    .into_response())
}

pub(crate) struct EventView {
    pub(crate) at: String,
    pub(crate) status: &'static str,
    pub(crate) reason: Option<String>,
}

pub(crate) fn timeline(events: &[HistoryEvent]) -> Vec<EventView> {
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
    /// Fees owed and payments made; `can_pay` offers paying online.
    money: crate::payments::MoneyView,
    can_pay: bool,
    /// The fee is due with the submission: the dossier goes to reception once it is paid.
    pay_before_reception: bool,
    /// The applicant's rating once given (label, comment), or the form while the dossier may be rated.
    rating: Option<(&'static str, Option<String>)>,
    can_rate: bool,
    /// The rating form as typed, and what is wrong with it (kept when it is refused).
    rating_action: String,
    pub(crate) rating_level: String,
    pub(crate) rating_comment: String,
    pub(crate) rating_error: Option<&'static str>,
    levels: Vec<(u8, &'static str)>,
    /// Delivery of the result by post, once asked for.
    delivery: Option<crate::postal::DeliveryView>,
    /// The applicant may still ask for (or change) delivery by post.
    can_ask_post: bool,
    /// The address form as typed, and what is wrong with it (kept when it is refused).
    pub(crate) post: crate::postal::AddressForm,
    pub(crate) post_errors: Vec<(String, String)>,
    provinces: &'static [&'static str],
}

pub(crate) struct SupplementView {
    request: Option<String>,
    components: Vec<ComponentFiles>,
    errors: Vec<(String, String)>,
}

fn withdraw_label(status: DossierStatus) -> Option<&'static str> {
    match withdrawal::outcome(status)? {
        DossierStatus::Withdrawn => Some("Rút hồ sơ"),
        _ => Some("Yêu cầu rút hồ sơ"),
    }
}

pub(crate) async fn render_dossier(
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

pub(crate) async fn render_dossier_with(
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
                            // a supplement may ask for a corrected declaration too
                            from_form: false,
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
        state.store.workflows.result(dossier.id).await?.map(|r| {
            crate::steps::result_view(state, &r, &format!("/ho-so/{}/ket-qua", dossier.code))
        })
    } else {
        None
    };
    let money = crate::payments::money_view(state, &dossier).await?;
    let rating = state.store.ratings.rating(dossier.id).await?;
    let delivery = crate::postal::delivery_view(state, &dossier).await?;
    let can_rate = rating.is_none() && motcua_domain::rating::may_rate(dossier.status);
    let can_pay = money.owed.is_some() && motcua_domain::payment::may_pay(dossier.status);
    Ok(DossierPage {
        money,
        can_pay,
        pay_before_reception: can_pay && dossier.status == DossierStatus::Submitted,
        rating: rating.map(|r| (r.level.label_vi(), r.comment)),
        can_rate,
        rating_action: format!("/ho-so/{}/danh-gia", dossier.code),
        can_ask_post: motcua_domain::postal::may_ask(dossier.status)
            && delivery
                .as_ref()
                .is_none_or(|d| d.stage == motcua_domain::postal::DeliveryStage::Asked),
        post: delivery
            .as_ref()
            .map(crate::postal::AddressForm::from_view)
            .unwrap_or_default(),
        delivery,
        post_errors: vec![],
        provinces: motcua_domain::form::provinces_in_order(),
        rating_level: String::new(),
        rating_comment: String::new(),
        rating_error: None,
        levels: motcua_domain::rating::Satisfaction::ALL
            .iter()
            .map(|s| (s.score(), s.label_vi()))
            .collect(),
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

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct DossierQuery {
    /// Set after a withdrawal: `ngay` (withdrawn at once) or `yeu-cau` (asked for).
    da_rut: Option<String>,
}

pub(crate) async fn dossier_page(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
    crate::input::Query(q): crate::input::Query<DossierQuery>,
) -> Result<Response, AppError> {
    let path = format!("/ho-so/{code}");
    let (dossier, details) = match owned(&state, &viewer, &code, &path).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let notice = match (q.da_rut.as_deref(), dossier.status) {
        (Some(_), DossierStatus::Withdrawn) => Some("Đã rút hồ sơ. Hồ sơ không được xử lý tiếp."),
        (Some(_), DossierStatus::WithdrawalRequested) => Some(
            "Đã gửi yêu cầu rút hồ sơ. Cơ quan tiếp nhận sẽ xem xét và trả lời; kết quả hiện ở trang này và qua thư điện tử.",
        ),
        _ => None,
    };
    Ok(
        render_dossier(&state, layout, dossier, details, false, notice)
            .await?
            .into_response(),
    )
}

#[derive(Template, WebTemplate)]
#[template(path = "withdraw.html")]
pub(crate) struct WithdrawPage {
    layout: Layout,
    code: String,
    procedure: String,
    /// "Rút hồ sơ" or "Yêu cầu rút hồ sơ".
    label: &'static str,
    /// Before reception the dossier is withdrawn at once; after, the agency decides.
    at_once: bool,
    reason: String,
    errors: Vec<(String, String)>,
}

/// The confirmation before a withdrawal: what it does, the reason, "Có, rút hồ sơ" or "Không".
pub(crate) async fn withdraw_page(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let path = format!("/ho-so/{code}/rut");
    let (dossier, _) = match owned(&state, &viewer, &code, &path).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let Some(label) = withdraw_label(dossier.status) else {
        return Ok(Redirect::to(&format!("/ho-so/{code}")).into_response());
    };
    Ok(WithdrawPage {
        layout,
        procedure: state
            .catalogue
            .view()
            .procedure_name(dossier.procedure.as_str())
            .to_string(),
        code: dossier.code.to_string(),
        label,
        at_once: dossier.status == DossierStatus::Submitted,
        reason: String::new(),
        errors: vec![],
    }
    .into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct WithdrawForm {
    #[serde(default)]
    ly_do: String,
    #[serde(default)]
    xac_nhan: String,
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

/// Withdraw (before reception) or ask to withdraw (after): a history event either way.
pub(crate) async fn withdraw(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
    crate::input::Form(f): crate::input::Form<WithdrawForm>,
) -> Result<Response, AppError> {
    let path = format!("/ho-so/{code}");
    let (dossier, details) = match owned(&state, &viewer, &code, &path).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    // a decisive step: confirmed, with a reason the agency reads
    let reason = motcua_domain::text::normalize(&f.ly_do);
    let mut errors = Vec::new();
    if let Err(refusal) = withdrawal::check_reason(&reason) {
        errors.push(("ly_do".to_string(), refusal.message().to_string()));
    }
    if f.xac_nhan != "co" {
        errors.push((
            "xac_nhan".to_string(),
            "Bấm “Có, rút hồ sơ” để xác nhận".to_string(),
        ));
    }
    if let (false, Some(label)) = (errors.is_empty(), withdraw_label(dossier.status)) {
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            WithdrawPage {
                layout,
                procedure: state
                    .catalogue
                    .view()
                    .procedure_name(dossier.procedure.as_str())
                    .to_string(),
                code: dossier.code.to_string(),
                label,
                at_once: dossier.status == DossierStatus::Submitted,
                reason,
                errors,
            },
        )
            .into_response());
    }
    let notice = match withdrawal::withdraw(
        &state,
        &dossier,
        &details,
        &reason,
        "trên cổng dịch vụ công",
        OffsetDateTime::now_utc(),
    )
    .await?
    {
        Ok(_) => return Ok(Redirect::to(&format!("/ho-so/{code}?da_rut=1")).into_response()),
        Err(refusal) => Some(refusal.message()),
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
        tracking_url: crate::slips::tracking_url(&state, &dossier),
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
