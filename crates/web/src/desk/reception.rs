//! The one-stop desk: the queue of online dossiers waiting for reception (1 working day each), the officers' inbox
//! sorted by due time, the officer's view of a dossier, the three reception answers — accept with an appointment
//! computed in working time, ask for everything missing at once, or refuse with a reason — and the later
//! changes of the state table (processing, pauses that move the due time, approval, delivery, stop, withdrawal),
//! each allowed to the roles the policy names. Every change is one transition with the applicant's e-mail in the
//! same commit.

use crate::desk::page::{
    RECEPTION_TIME, WORKING_DAY_SPAN, case_of, later_changes, limit_of, paused, render,
};
use crate::dossiers::{calendar, for_office, rights};
use crate::input::{Form, InputRejection, Query};
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use time::{Duration, OffsetDateTime};

use motcua_calendar::WorkCalendar;
use motcua_domain::{
    Account, AgencyCode, Channel, DossierStatus, Transition,
    form::{self},
    policy::{Action, Decision, decide},
    submission::OutgoingEmail,
    vntime,
};
use motcua_store::StoreError;

use crate::{AppError, AppState, guard, layout::Layout, viewer::Viewer};

/// "Due soon" in the reception queue: less than this much working time left of the reception day.
const DUE_SOON: Duration = Duration::hours(2);

/// The agencies where the viewer may receive dossiers.
fn reception_agencies(state: &AppState, officer: &Account) -> Vec<AgencyCode> {
    let view = state.catalogue.view();
    let within = |a: &AgencyCode, b: &AgencyCode| view.is_within(a, b);
    view.agencies
        .iter()
        .filter(|a| {
            decide(Some(officer), Action::ReceiveDossiers(&a.code), &within) == Decision::Allow
        })
        .map(|a| a.code.clone())
        .collect()
}

pub(crate) struct QueueRow {
    href: String,
    code: String,
    procedure: String,
    applicant: String,
    submitted_at: String,
    deadline: String,
    /// `dung-han`, `sap-den-han` or `qua-han`.
    state: &'static str,
    state_label: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "reception_queue.html")]
pub(crate) struct QueuePage {
    layout: Layout,
    rows: Vec<QueueRow>,
    agencies: Vec<String>,
}

fn deadline_state(
    cal: &WorkCalendar,
    deadline: OffsetDateTime,
    now: OffsetDateTime,
    soon: Duration,
) -> (&'static str, &'static str) {
    if now > deadline {
        ("qua-han", "Quá hạn")
    } else if cal.between(now, deadline) < soon {
        ("sap-den-han", "Sắp đến hạn")
    } else {
        ("dung-han", "Trong hạn")
    }
}

pub(crate) async fn queue(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
) -> Result<Response, AppError> {
    let path = "/can-bo/tiep-nhan";
    let officer = match guard::require(&state, &viewer, Action::ViewOwnAccount, path).await {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let agencies = reception_agencies(&state, &officer);
    if agencies.is_empty() {
        // logged in, but no reception role anywhere: refused (and audited) by the policy
        let nowhere = AgencyCode::parse("000.00.00.A00").map_err(|_| AppError::NotFound)?;
        if let Err(r) =
            guard::require(&state, &viewer, Action::ReceiveDossiers(&nowhere), path).await
        {
            return Ok(r);
        }
    }
    let cal = calendar(&state).await?;
    let now = OffsetDateTime::now_utc();
    let view = state.catalogue.view();
    let rows = state
        .store
        .submissions
        .queue(&motcua_store::DossierQuery::new(
            &agencies,
            &[DossierStatus::Submitted],
            500,
        ))
        .await?
        .into_iter()
        .map(|d| {
            let deadline = cal.add(d.updated_at, RECEPTION_TIME);
            let (s, label) = deadline_state(&cal, deadline, now, DUE_SOON);
            QueueRow {
                href: format!("/can-bo/ho-so/{}", d.code),
                code: d.code.to_string(),
                procedure: view
                    .get(d.procedure.as_str())
                    .map(|e| e.procedure.name.to_string())
                    .unwrap_or_else(|| d.procedure.to_string()),
                applicant: d.applicant_name.to_string(),
                submitted_at: vntime::format_datetime(d.updated_at),
                deadline: vntime::format_datetime(deadline),
                state: s,
                state_label: label,
            }
        })
        .collect();
    Ok(QueuePage {
        layout,
        rows,
        agencies: agencies
            .iter()
            .map(|a| view.agency_name(a).to_string())
            .collect(),
    }
    .into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct AnswerForm {
    #[serde(default)]
    hanh_dong: String,
    #[serde(default)]
    ly_do: String,
}

/// Accept, ask for a supplement, or refuse.
pub(crate) async fn answer(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
    Form(posted): Form<AnswerForm>,
) -> Result<Response, AppError> {
    let (officer, dossier, details, r) = match for_office(&state, &viewer, &code).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    if !r.receive {
        let path = format!("/can-bo/ho-so/{code}");
        if let Err(resp) = guard::require(
            &state,
            &viewer,
            Action::ReceiveDossiers(dossier.code.agency()),
            &path,
        )
        .await
        {
            return Ok(resp);
        }
    }
    let reason = motcua_domain::text::normalize(&posted.ly_do);
    let now = OffsetDateTime::now_utc();
    let actor = format!("{} ({})", officer.full_name, officer.id);
    let (to, needs_reason) = match posted.hanh_dong.as_str() {
        "tiep_nhan" => (DossierStatus::Received, false),
        "bo_sung" => (DossierStatus::SupplementRequested, true),
        "tu_choi" => (DossierStatus::Refused, true),
        _ => {
            let errors = vec![(
                "hanh-dong".into(),
                "Chọn tiếp nhận, yêu cầu bổ sung hoặc từ chối".into(),
            )];
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&state, layout, dossier, details, r, errors, reason, None).await?,
            )
                .into_response());
        }
    };
    if needs_reason && reason.chars().count() < 10 {
        let message = if to == DossierStatus::Refused {
            "Ghi rõ lý do từ chối tiếp nhận (ít nhất 10 ký tự): pháp luật yêu cầu nêu lý do bằng văn bản"
        } else {
            "Liệt kê một lần đầy đủ các giấy tờ cần bổ sung, hoàn thiện và lý do (ít nhất 10 ký tự)"
        };
        let errors = vec![("ly_do".into(), message.into())];
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&state, layout, dossier, details, r, errors, reason, None).await?,
        )
            .into_response());
    }
    let mut t = match Transition::new(dossier.id, dossier.status, to, now, actor) {
        Ok(t) => t,
        Err(_) => {
            return Ok((
                StatusCode::CONFLICT,
                render(
                    &state,
                    layout,
                    dossier,
                    details,
                    r,
                    vec![],
                    reason,
                    Some(NOT_NOW),
                )
                .await?,
            )
                .into_response());
        }
    };
    if needs_reason {
        t = t.with_reason(reason.clone());
    }
    let mut due_text = String::new();
    if to == DossierStatus::Received {
        let procedure = state
            .store
            .catalogue
            .get_procedure_version(&dossier.procedure, dossier.procedure_version)
            .await?;
        if let Some((limit, cutoff, _)) =
            case_of(&procedure, &dossier).and_then(|c| limit_of(&c, dossier.channel))
        {
            let due = calendar(&state).await?.due(now, limit, cutoff);
            due_text = vntime::format_datetime(due);
            t = t.with_due_at(due);
        }
    }
    let email = form::first(&details.answers, form::APPLICANT_EMAIL).to_string();
    let tracking = format!(
        "{}/ho-so/{{code}}",
        state.site.public_url.trim_end_matches('/')
    );
    let emails: Vec<OutgoingEmail> = if email.is_empty() {
        vec![]
    } else {
        let (subject, body) = match to {
            DossierStatus::Received => (
                "Hồ sơ {code} đã được tiếp nhận".to_string(),
                format!(
                    "Hồ sơ {{code}} đã được tiếp nhận.\nNgày hẹn trả kết quả: {due_text}.\nTheo dõi hồ sơ: {tracking}\n"
                ),
            ),
            DossierStatus::SupplementRequested => (
                "Hồ sơ {code} cần bổ sung".to_string(),
                format!(
                    "Cơ quan yêu cầu bổ sung, hoàn thiện hồ sơ {{code}}:\n\n{reason}\n\nBổ sung trực tuyến tại: {tracking}\n"
                ),
            ),
            _ => (
                "Hồ sơ {code} không được tiếp nhận".to_string(),
                format!(
                    "Hồ sơ {{code}} không được tiếp nhận.\nLý do: {reason}\n\nXem chi tiết: {tracking}\n"
                ),
            ),
        };
        vec![OutgoingEmail {
            to: email,
            subject,
            body,
        }]
    };
    match state
        .store
        .submissions
        .transition_with_mail(&t, &emails)
        .await
    {
        Ok(_) => {
            state.outbox_wake.notify_one();
            Ok(Redirect::to("/can-bo/tiep-nhan").into_response())
        }
        Err(StoreError::Conflict(_)) => {
            let fresh = state
                .store
                .dossiers
                .get(dossier.id)
                .await?
                .unwrap_or(dossier);
            Ok((
                StatusCode::CONFLICT,
                render(
                    &state,
                    layout,
                    fresh,
                    details,
                    r,
                    vec![],
                    reason,
                    Some(NOT_NOW),
                )
                .await?,
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

const NOT_NOW: &str = "Hồ sơ không còn chờ tiếp nhận (có thể cán bộ khác vừa xử lý hoặc công dân đã rút). Trang đã được cập nhật.";

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct MoveForm {
    #[serde(default)]
    den: String,
    #[serde(default)]
    ly_do: String,
    /// How the result is handed over (with `den=result_delivered`): tai_quay, buu_chinh or truc_tuyen.
    #[serde(default)]
    cach_tra: String,
}

/// How a result was handed over, as recorded on the delivery event.
fn delivery_label(method: &str) -> Option<&'static str> {
    match method {
        "tai_quay" => Some("Trả trực tiếp tại bộ phận một cửa"),
        "buu_chinh" => Some("Gửi qua dịch vụ bưu chính"),
        "truc_tuyen" => Some("Trả bản điện tử trên cổng dịch vụ công"),
        _ => None,
    }
}

/// Any later change of a dossier's status that the state table and the viewer's roles allow.
pub(crate) async fn move_on(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
    Form(posted): Form<MoveForm>,
) -> Result<Response, AppError> {
    let (officer, dossier, details, r) = match for_office(&state, &viewer, &code).await? {
        Ok(x) => x,
        Err(resp) => return Ok(resp),
    };
    let reason = motcua_domain::text::normalize(&posted.ly_do);
    let events = state.store.dossiers.history(dossier.id).await?;
    let change = DossierStatus::parse(&posted.den).ok().and_then(|to| {
        later_changes(&dossier, &events)
            .into_iter()
            .find(|(t, _, _, _)| *t == to)
    });
    let Some((to, _, needs_reason, need)) = change else {
        let errors = vec![(
            "hanh-dong-sau".into(),
            "Chọn một việc có thể làm với hồ sơ ở trạng thái này".into(),
        )];
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&state, layout, dossier, details, r, errors, reason, None).await?,
        )
            .into_response());
    };
    if !need.held(r) {
        // allowed by the state table, not to this role: refused and audited by the policy
        let path = format!("/can-bo/ho-so/{code}");
        if let Err(resp) =
            guard::require(&state, &viewer, need.action(dossier.code.agency()), &path).await
        {
            return Ok(resp);
        }
    }
    if needs_reason && reason.chars().count() < 10 {
        let errors = vec![(
            "ly_do_sau".into(),
            "Ghi rõ lý do (ít nhất 10 ký tự): pháp luật yêu cầu nêu lý do cho việc này".into(),
        )];
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&state, layout, dossier, details, r, errors, reason, None).await?,
        )
            .into_response());
    }
    let now = OffsetDateTime::now_utc();
    let actor = format!("{} ({})", officer.full_name, officer.id);
    let Ok(mut t) = Transition::new(dossier.id, dossier.status, to, now, actor) else {
        return Ok((
            StatusCode::CONFLICT,
            render(
                &state,
                layout,
                dossier,
                details,
                r,
                vec![],
                reason,
                Some(NOT_NOW),
            )
            .await?,
        )
            .into_response());
    };
    if to == DossierStatus::ResultDelivered {
        // who and when are the event's; how is its reason
        let Some(how) = delivery_label(&posted.cach_tra) else {
            let errors = vec![(
                "cach_tra".to_string(),
                "Chọn cách trả kết quả (tại quầy, qua bưu chính hoặc bản điện tử)".to_string(),
            )];
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&state, layout, dossier, details, r, errors, reason, None).await?,
            )
                .into_response());
        };
        t = t.with_reason(if reason.is_empty() {
            how.to_string()
        } else {
            format!("{how}: {reason}")
        });
    } else if needs_reason || !reason.is_empty() {
        t = t.with_reason(reason.clone());
    }
    // leaving a pause: the working time it took is added to the due time (and to the open step's)
    let cal = calendar(&state).await?;
    let pause_since = paused(dossier.status)
        .then(|| {
            events
                .iter()
                .rev()
                .find(|e| e.to == dossier.status)
                .map(|e| e.at)
        })
        .flatten();
    if let (Some(due), Some(since)) = (dossier.due_at, pause_since) {
        t = t.with_due_at(cal.extend_for_pause(due, since, now));
    }
    let case = crate::dossiers::dossier_case(&state, &dossier).await?;
    let mut change = match crate::desk::processing::with_transition(
        &state,
        &cal,
        &officer,
        &dossier,
        case.as_ref(),
        to,
        pause_since,
        now,
    )
    .await?
    {
        Ok(c) => c,
        Err(message) => {
            let errors = vec![("hanh-dong-sau".to_string(), message.to_string())];
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&state, layout, dossier, details, r, errors, reason, None).await?,
            )
                .into_response());
        }
    };
    let email = form::first(&details.answers, form::APPLICANT_EMAIL).to_string();
    let tracking = format!(
        "{}/ho-so/{{code}}",
        state.site.public_url.trim_end_matches('/')
    );
    let emails = if email.is_empty() {
        vec![]
    } else {
        let mut body = format!(
            "Hồ sơ {{code}} chuyển sang trạng thái: {}.\n",
            to.label_vi()
        );
        if !reason.is_empty() {
            body.push_str(&format!("Nội dung: {reason}\n"));
        }
        body.push_str(&format!("Theo dõi hồ sơ: {tracking}\n"));
        vec![OutgoingEmail {
            to: email,
            subject: format!("Hồ sơ {{code}}: {}", to.label_vi()),
            body,
        }]
    };
    change.emails.extend(emails);
    match state.store.workflows.hand_off(Some(&t), &change).await {
        Ok(()) => {
            state.outbox_wake.notify_one();
            Ok(Redirect::to(&format!("/can-bo/ho-so/{code}")).into_response())
        }
        Err(StoreError::Conflict(_)) => {
            let fresh = state
                .store
                .dossiers
                .get(dossier.id)
                .await?
                .unwrap_or(dossier);
            Ok((
                StatusCode::CONFLICT,
                render(
                    &state,
                    layout,
                    fresh,
                    details,
                    r,
                    vec![],
                    reason,
                    Some(NOT_NOW),
                )
                .await?,
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) struct InboxRow {
    href: String,
    code: String,
    procedure: String,
    applicant: String,
    status: &'static str,
    due: String,
    state: &'static str,
    state_label: &'static str,
    /// The open workflow step: name, holder and its own due time.
    step: Option<(String, String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "office_inbox.html")]
pub(crate) struct InboxPage {
    layout: Layout,
    rows: Vec<InboxRow>,
    q: String,
    status_options: Vec<(&'static str, &'static str, bool)>,
    channel: String,
    overdue_only: bool,
    from: String,
    to: String,
    mine_only: bool,
    page: u32,
    previous: Option<String>,
    next: Option<String>,
    errors: Vec<(String, String)>,
}

/// Dossiers in progress at the agencies where the viewer holds a desk role, the soonest due first.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct InboxQuery {
    /// Code, applicant or procedure, with or without diacritics.
    #[serde(default)]
    q: String,
    #[serde(default)]
    trang_thai: String,
    #[serde(default)]
    kenh: String,
    #[serde(default)]
    qua_han: Option<String>,
    /// Submitted from / to, dd/mm/yyyy.
    #[serde(default)]
    tu: String,
    #[serde(default)]
    den: String,
    /// Only the dossiers whose open step is assigned to the viewer.
    #[serde(default)]
    cua_toi: Option<String>,
    /// Page number, from 1.
    #[serde(default)]
    trang: String,
}

/// Dossiers per page of the inbox.
const PAGE: u32 = 100;
/// Most dossiers of other agencies at our steps listed above the first page.
const ELSEWHERE_MAX: u32 = 500;

fn start_of_vn_day(day: time::Date) -> OffsetDateTime {
    day.with_time(time::Time::MIDNIGHT)
        .assume_offset(vntime::VN_OFFSET)
}

/// The inbox address for another page, keeping the filters.
fn page_href(q: &InboxQuery, page: u32) -> String {
    let mut pairs: Vec<(&str, String)> = [
        ("q", &q.q),
        ("trang_thai", &q.trang_thai),
        ("kenh", &q.kenh),
        ("tu", &q.tu),
        ("den", &q.den),
    ]
    .into_iter()
    .filter(|(_, v)| !v.trim().is_empty())
    .map(|(k, v)| (k, v.clone()))
    .collect();
    if q.qua_han.is_some() {
        pairs.push(("qua_han", "1".into()));
    }
    if q.cua_toi.is_some() {
        pairs.push(("cua_toi", "1".into()));
    }
    pairs.push(("trang", page.to_string()));
    crate::urls::with_query("/can-bo/ho-so", &pairs)
}

pub(crate) async fn inbox(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    query: Result<Query<InboxQuery>, InputRejection>,
) -> Result<Response, AppError> {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let path = "/can-bo/ho-so";
    let officer = match guard::require(&state, &viewer, Action::ViewOwnAccount, path).await {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let view = state.catalogue.view();
    let agencies: Vec<AgencyCode> = view
        .agencies
        .iter()
        .filter(|a| {
            let r = rights(&state, &officer, &a.code);
            r.receive || r.process || r.approve
        })
        .map(|a| a.code.clone())
        .collect();
    if agencies.is_empty() {
        let nowhere = AgencyCode::parse("000.00.00.A00").map_err(|_| AppError::NotFound)?;
        if let Err(r) =
            guard::require(&state, &viewer, Action::ProcessDossiers(&nowhere), path).await
        {
            return Ok(r);
        }
    }
    use DossierStatus as S;
    let working = [
        S::Received,
        S::Processing,
        S::SupplementRequested,
        S::AwaitingFinancialObligation,
        S::WithdrawalRequested,
        S::Processed,
    ];
    // a chosen status may be any (finished ones too); otherwise the working statuses
    let chosen_status = S::parse(&q.trang_thai).ok();
    let statuses: Vec<S> = match chosen_status {
        Some(s) => vec![s],
        None => working.to_vec(),
    };
    let cal = calendar(&state).await?;
    let now = OffsetDateTime::now_utc();
    let needle = motcua_search::fold(&motcua_domain::text::normalize(&q.q));
    let from = form::parse_date(&q.tu);
    let to = form::parse_date(&q.den);
    let overdue_only = q.qua_han.is_some();
    let mine_only = q.cua_toi.is_some();
    let page = q.trang.trim().parse::<u32>().unwrap_or(1).clamp(1, 10_000);
    let mut errors = Vec::new();
    if !q.tu.trim().is_empty() && from.is_none() {
        errors.push((
            "tu".to_string(),
            "Ngày “từ” phải có dạng ngày/tháng/năm".to_string(),
        ));
    }
    if !q.den.trim().is_empty() && to.is_none() {
        errors.push((
            "den".to_string(),
            "Ngày “đến” phải có dạng ngày/tháng/năm".to_string(),
        ));
    }
    // open workflow steps at these agencies (their holder and own due time), and those assigned to me where I
    // still hold a desk role (a former unit's dossiers are not mine to see)
    let open_steps = state.store.workflows.open_steps(&agencies, 2000).await?;
    let my_steps: Vec<motcua_domain::workflow::StepRecord> = state
        .store
        .workflows
        .open_steps_of(officer.id, 2000)
        .await?
        .into_iter()
        .filter(|s| crate::steps::desk_role_at(&state, &officer, &s.agency))
        .collect();
    let step_of: std::collections::HashMap<
        motcua_domain::DossierId,
        &motcua_domain::workflow::StepRecord,
    > = open_steps
        .iter()
        .chain(my_steps.iter())
        .map(|s| (s.dossier, s))
        .collect();
    // every filter is part of the query, the text too (without diacritics: code, applicant, procedure name)
    let mut query = motcua_store::DossierQuery::new(&agencies, &statuses, PAGE + 1);
    query.offset = (page - 1) * PAGE;
    query.channel = Channel::parse(&q.kenh).ok();
    query.created_from = from.map(start_of_vn_day);
    query.created_before = to.map(|t| start_of_vn_day(t) + Duration::days(1));
    if overdue_only {
        query.due_before = Some(now);
        query.statuses.retain(|s| !paused(*s));
    }
    if mine_only {
        query.only = Some(my_steps.iter().map(|s| s.dossier).collect());
    }
    if !needle.is_empty() {
        // the code or applicant (folded in the database), or a procedure whose name matches
        let procedures = view
            .entries
            .iter()
            .filter(|e| e.folded_name.contains(&needle))
            .map(|e| e.procedure.code.clone())
            .collect();
        query.text = Some((needle.clone(), procedures));
    }
    // dossiers received elsewhere that are at one of our steps (inter-agency), listed first
    // (those the officer may open: processing or approval rights where the step is)
    let elsewhere_ids: Vec<motcua_domain::DossierId> = step_of
        .values()
        .filter(|s| {
            let r = rights(&state, &officer, &s.agency);
            r.process || r.approve
        })
        .map(|s| s.dossier)
        .filter(|id| !mine_only || my_steps.iter().any(|s| s.dossier == *id))
        .collect();
    let elsewhere = if elsewhere_ids.is_empty() || page > 1 {
        vec![]
    } else {
        state
            .store
            .submissions
            .queue(&motcua_store::DossierQuery {
                agencies: vec![],
                not_agencies: agencies.clone(),
                only: Some(elsewhere_ids),
                limit: ELSEWHERE_MAX,
                offset: 0,
                ..query.clone()
            })
            .await?
    };
    let mut dossiers = state.store.submissions.queue(&query).await?;
    let has_next = dossiers.len() > PAGE as usize;
    dossiers.truncate(PAGE as usize);
    let rows: Vec<InboxRow> = elsewhere
        .into_iter()
        .chain(dossiers)
        .map(|d| {
            let (st, label) = match d.due_at {
                Some(_) if paused(d.status) => ("dung-han", "Tạm dừng"),
                Some(_) if !working.contains(&d.status) => ("dung-han", "Đã kết thúc"),
                Some(due) => deadline_state(&cal, due, now, WORKING_DAY_SPAN),
                None => ("dung-han", "Chưa có hạn"),
            };
            InboxRow {
                href: format!("/can-bo/ho-so/{}", d.code),
                code: d.code.to_string(),
                procedure: view
                    .get(d.procedure.as_str())
                    .map(|e| e.procedure.name.to_string())
                    .unwrap_or_else(|| d.procedure.to_string()),
                applicant: d.applicant_name.to_string(),
                status: d.status.label_vi(),
                due: d.due_at.map(vntime::format_datetime).unwrap_or_default(),
                state: st,
                state_label: label,
                step: step_of.get(&d.id).map(|s| {
                    (
                        s.name.clone(),
                        s.assignee_name
                            .clone()
                            .unwrap_or_else(|| "chưa giao".into()),
                        vntime::format_datetime(s.due_at),
                    )
                }),
            }
        })
        .collect();
    let previous = (page > 1).then(|| page_href(&q, page - 1));
    let next = has_next.then(|| page_href(&q, page + 1));
    let status_options = S::ALL
        .iter()
        .filter(|s| **s != S::Draft)
        .map(|s| (s.as_str(), s.label_vi(), Some(*s) == chosen_status))
        .collect();
    Ok(InboxPage {
        layout,
        rows,
        q: q.q,
        status_options,
        channel: q.kenh,
        overdue_only,
        page,
        previous,
        next,
        from: q.tu,
        to: q.den,
        mine_only,
        errors,
    }
    .into_response())
}

pub(crate) struct Offer {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "counter_intake.html")]
pub(crate) struct IntakePage {
    layout: Layout,
    offers: Vec<Offer>,
    by_post: bool,
    name: String,
    personal_id: String,
    phone: String,
    email: String,
    note: String,
    errors: Vec<(String, String)>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct IntakeForm {
    #[serde(default)]
    thu_tuc: String,
    #[serde(default)]
    kenh: String,
    #[serde(default)]
    ho_ten: String,
    #[serde(default)]
    so_dinh_danh: String,
    #[serde(default)]
    dien_thoai: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    ghi_chu: String,
}

/// Every (agency, procedure, case) the officer can receive: `agency|procedure|case`.
fn intake_offers(state: &AppState, officer: &Account, chosen: &str) -> Vec<Offer> {
    let agencies = reception_agencies(state, officer);
    let view = state.catalogue.view();
    let mut offers = Vec::new();
    for entry in &view.entries {
        for agency in entry
            .procedure
            .agencies
            .iter()
            .filter(|a| agencies.contains(a))
        {
            for case in &entry.procedure.cases {
                let value = format!("{agency}|{}|{}", entry.procedure.code, case.key);
                let mut label = format!("{} — {}", entry.procedure.name, case.name);
                if agencies.len() > 1 {
                    label = format!("{label} ({})", view.agency_name(agency));
                }
                offers.push(Offer {
                    selected: value == chosen,
                    value,
                    label,
                });
            }
        }
    }
    offers.sort_by(|a, b| a.label.cmp(&b.label));
    offers
}

/// The officer at the counter, if they may receive dossiers somewhere; otherwise the login redirect or 403 —
/// decided before anything typed is looked at.
async fn counter_officer(
    state: &AppState,
    viewer: &Viewer,
) -> Result<Result<Account, Response>, AppError> {
    let path = "/can-bo/tiep-nhan/truc-tiep";
    let officer = match guard::require(state, viewer, Action::ViewOwnAccount, path).await {
        Ok(a) => a,
        Err(r) => return Ok(Err(r)),
    };
    if reception_agencies(state, &officer).is_empty() {
        let nowhere = AgencyCode::parse("000.00.00.A00").map_err(|_| AppError::NotFound)?;
        if let Err(r) = guard::require(state, viewer, Action::ReceiveDossiers(&nowhere), path).await
        {
            return Ok(Err(r));
        }
    }
    Ok(Ok(officer))
}

/// The counter: a walk-in or posted application entered by the officer and received on the spot.
pub(crate) async fn intake_page(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
) -> Result<Response, AppError> {
    let officer = match counter_officer(&state, &viewer).await? {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let offers = intake_offers(&state, &officer, "");
    Ok(IntakePage {
        layout,
        offers,
        by_post: false,
        name: String::new(),
        personal_id: String::new(),
        phone: String::new(),
        email: String::new(),
        note: String::new(),
        errors: vec![],
    }
    .into_response())
}

pub(crate) async fn intake(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    form: Result<Form<IntakeForm>, InputRejection>,
) -> Result<Response, AppError> {
    let path = "/can-bo/tiep-nhan/truc-tiep";
    // the role first: someone who may not receive learns nothing from how their input is judged
    let officer = match counter_officer(&state, &viewer).await? {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let f = form?.0;
    let clean = |s: &str| motcua_domain::text::normalize(s);
    let (name, id_text, phone_text, email_text, note) = (
        clean(&f.ho_ten),
        clean(&f.so_dinh_danh),
        clean(&f.dien_thoai),
        clean(&f.email),
        clean(&f.ghi_chu),
    );
    let mut errors: Vec<(String, String)> = Vec::new();
    let target: Option<(
        AgencyCode,
        motcua_domain::ProcedureCode,
        motcua_domain::CaseKey,
    )> = {
        let parts: Vec<&str> = f.thu_tuc.split('|').collect();
        match parts.as_slice() {
            [a, p, c] => match (
                AgencyCode::parse(a),
                motcua_domain::ProcedureCode::parse(p),
                motcua_domain::CaseKey::parse(c),
            ) {
                (Ok(a), Ok(p), Ok(c)) => Some((a, p, c)),
                _ => None,
            },
            _ => None,
        }
    };
    if target.is_none() {
        errors.push(("thu_tuc".into(), "Chọn thủ tục và trường hợp".into()));
    }
    let applicant = motcua_domain::NonEmptyText::parse_named(&name, "Họ và tên người nộp");
    if applicant.is_err() {
        errors.push(("ho_ten".into(), "Nhập họ và tên người nộp hồ sơ".into()));
    }
    let personal_id = (!id_text.is_empty()).then(|| motcua_domain::PersonalId::parse(&id_text));
    if let Some(Err(e)) = &personal_id {
        errors.push(("so_dinh_danh".into(), e.to_string()));
    }
    let phone = (!phone_text.is_empty()).then(|| motcua_domain::Phone::parse(&phone_text));
    if let Some(Err(e)) = &phone {
        errors.push(("dien_thoai".into(), e.to_string()));
    }
    let email = (!email_text.is_empty()).then(|| motcua_domain::Email::parse(&email_text));
    if let Some(Err(e)) = &email {
        errors.push(("email".into(), e.to_string()));
    }
    if personal_id.is_none() && phone.is_none() {
        errors.push((
            "dien_thoai".into(),
            "Nhập số điện thoại hoặc số định danh cá nhân để người nộp tra cứu được hồ sơ".into(),
        ));
    }
    let by_post = f.kenh == "buu_chinh";
    // the agency must be one where this officer receives
    if let Some((agency, _, _)) = &target
        && !reception_agencies(&state, &officer).contains(agency)
        && let Err(r) = guard::require(&state, &viewer, Action::ReceiveDossiers(agency), path).await
    {
        return Ok(r);
    }
    let procedure = match &target {
        Some((_, code, _)) => state.store.catalogue.get_procedure(code).await?,
        None => None,
    };
    let case = match (&procedure, &target) {
        (Some(p), Some((_, _, key))) => p.procedure.cases.iter().find(|c| &c.key == key).cloned(),
        _ => None,
    };
    if target.is_some() && case.is_none() {
        errors.push((
            "thu_tuc".into(),
            "Thủ tục hoặc trường hợp không còn trong danh mục".into(),
        ));
    }
    let (Some((agency, code, case_key)), Some(procedure), Some(case), Ok(applicant), true) = (
        target.clone(),
        procedure,
        case,
        applicant,
        errors.is_empty(),
    ) else {
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            IntakePage {
                layout,
                offers: intake_offers(&state, &officer, &f.thu_tuc),
                by_post,
                name,
                personal_id: id_text,
                phone: phone_text,
                email: email_text,
                note,
                errors,
            },
        )
            .into_response());
    };
    let personal_id = personal_id.and_then(Result::ok);
    let phone = phone.and_then(Result::ok);
    let email = email.and_then(Result::ok);
    // link the citizen's account when one has this identity number or phone
    let mut account = None;
    for login in [
        personal_id
            .clone()
            .map(motcua_domain::LoginName::PersonalId),
        phone.clone().map(motcua_domain::LoginName::Phone),
    ]
    .into_iter()
    .flatten()
    {
        if let Some(a) = state.store.accounts.find_by_login(&login).await?
            && a.kind == motcua_domain::AccountKind::Citizen
        {
            account = Some(a.id);
            break;
        }
    }
    let channel = if by_post {
        Channel::Post
    } else {
        Channel::InPerson
    };
    let now = OffsetDateTime::now_utc();
    let due = limit_of(&case, channel).map(|(l, cutoff, _)| (l, cutoff));
    let due_at = match due {
        Some((l, cutoff)) => Some(calendar(&state).await?.due(now, l, cutoff)),
        None => None,
    };
    let mut answers = form::Answers::new();
    answers.insert(form::APPLICANT_NAME.into(), vec![applicant.to_string()]);
    if let Some(p) = &personal_id {
        answers.insert(form::APPLICANT_ID.into(), vec![p.as_str().to_string()]);
    }
    if let Some(p) = &phone {
        answers.insert(form::APPLICANT_PHONE.into(), vec![p.as_str().to_string()]);
    }
    if let Some(e) = &email {
        answers.insert(form::APPLICANT_EMAIL.into(), vec![e.as_str().to_string()]);
    }
    if !note.is_empty() {
        answers.insert("ghi_chu_tiep_nhan".into(), vec![note]);
    }
    let tracking = format!(
        "{}/tra-cuu-ho-so?ma={{code}}",
        state.site.public_url.trim_end_matches('/')
    );
    let due_text = due_at.map(vntime::format_datetime).unwrap_or_default();
    let emails = email
        .map(|e| {
            vec![OutgoingEmail {
                to: e.as_str().to_string(),
                subject: "Hồ sơ {code} đã được tiếp nhận".into(),
                body: format!(
                    "Hồ sơ {{code}} ({}) đã được tiếp nhận.\nNgày hẹn trả kết quả: {due_text}.\nTra cứu hồ sơ: {tracking}\n",
                    procedure.procedure.name
                ),
            }]
        })
        .unwrap_or_default();
    let dossier = state
        .store
        .submissions
        .intake(&motcua_domain::submission::Intake {
            dossier: motcua_domain::DossierId::new(),
            agency,
            procedure: code,
            procedure_version: procedure.version,
            case: case_key,
            channel,
            account,
            applicant_name: applicant,
            applicant_phone: phone.map(|p| p.as_str().to_string()),
            applicant_personal_id: personal_id.map(|p| p.as_str().to_string()),
            answers,
            officer: format!("{} ({})", officer.full_name, officer.id),
            at: now,
            due_at,
            emails,
        })
        .await?;
    state.outbox_wake.notify_one();
    Ok(Redirect::to(&format!("/can-bo/ho-so/{}", dossier.code)).into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ApologyForm {
    #[serde(default)]
    ngay_hen_moi: String,
    #[serde(default)]
    ly_do: String,
}

/// The apology with a new appointment, by the head of unit, before (or once) the dossier is late: the new due
/// time is the end of office hours on the chosen working day; the applicant is told with the reason; slip 04.
/// The furthest an apology may move the appointment: this many working days after the current one.
const MAX_APOLOGY_WORKING_DAYS: u32 = 30;

pub(crate) async fn apology(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
    Form(f): Form<ApologyForm>,
) -> Result<Response, AppError> {
    let (officer, dossier, details, r) = match for_office(&state, &viewer, &code).await? {
        Ok(x) => x,
        Err(resp) => return Ok(resp),
    };
    let path = format!("/can-bo/ho-so/{code}");
    if !r.approve
        && let Err(resp) = guard::require(
            &state,
            &viewer,
            Action::ApproveDossiers(dossier.code.agency()),
            &path,
        )
        .await
    {
        return Ok(resp);
    }
    let reason = motcua_domain::text::normalize(&f.ly_do);
    let typed = motcua_domain::text::normalize(&f.ngay_hen_moi);
    let cal = calendar(&state).await?;
    let mut errors = Vec::new();
    let now = OffsetDateTime::now_utc();
    // a date within a year of today, so that the working-time arithmetic below stays in range
    let new_due = form::parse_date(&typed)
        .filter(|d| (*d - vntime::vn_date(now)).whole_days().abs() <= 366)
        .map(|d| {
            cal.due(
                time::PrimitiveDateTime::new(d, time::Time::MIDNIGHT)
                    .assume_offset(motcua_calendar::VN),
                motcua_calendar::Limit::WorkingDays(0),
                None,
            )
        });
    // the new date is after the current appointment and after now (an overdue dossier gets a date still ahead),
    // and within a bounded number of working days of the later of the two
    let floor = dossier.due_at.map(|old| old.max(now));
    let latest = floor.map(|from| {
        cal.due(
            from,
            motcua_calendar::Limit::WorkingDays(MAX_APOLOGY_WORKING_DAYS),
            None,
        )
    });
    match (new_due, floor, latest) {
        (None, _, _) => errors.push((
            "ngay_hen_moi".to_string(),
            "Nhập ngày hẹn mới có thật, dạng ngày/tháng/năm, trong vòng một năm tới".to_string(),
        )),
        (Some(new), Some(floor), _) if new <= floor => errors.push((
            "ngay_hen_moi".into(),
            format!(
                "Ngày hẹn mới phải sau ngày hẹn hiện tại và sau thời điểm này ({})",
                vntime::format_datetime(floor)
            ),
        )),
        (Some(new), _, Some(latest)) if new > latest => errors.push((
            "ngay_hen_moi".into(),
            format!(
                "Ngày hẹn mới không được quá {MAX_APOLOGY_WORKING_DAYS} ngày làm việc sau ngày hẹn hiện tại (muộn nhất {}); nếu cần lâu hơn, hãy dừng xử lý và thông báo lý do",
                vntime::format_date(vntime::vn_date(latest))
            ),
        )),
        _ => {}
    }
    if reason.chars().count() < 10 {
        errors.push((
            "ly_do_xin_loi".into(),
            "Nêu lý do chậm trả kết quả (ít nhất 10 ký tự)".into(),
        ));
    }
    let t = new_due.and_then(|due| {
        Transition::apology(
            dossier.id,
            dossier.status,
            OffsetDateTime::now_utc(),
            format!("{} ({})", officer.full_name, officer.id),
            due,
            reason.clone(),
        )
        .ok()
    });
    if t.is_none() && errors.is_empty() {
        errors.push((
            "ngay_hen_moi".into(),
            "Hồ sơ ở trạng thái này không có thời hạn đang chạy để hẹn lại".into(),
        ));
    }
    let Some(t) = t.filter(|_| errors.is_empty()) else {
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&state, layout, dossier, details, r, errors, reason, None).await?,
        )
            .into_response());
    };
    let email = form::first(&details.answers, form::APPLICANT_EMAIL).to_string();
    let tracking = format!(
        "{}/ho-so/{{code}}",
        state.site.public_url.trim_end_matches('/')
    );
    let emails = if email.is_empty() {
        vec![]
    } else {
        vec![OutgoingEmail {
            to: email,
            subject: "Xin lỗi và hẹn lại ngày trả kết quả hồ sơ {code}".into(),
            body: format!(
                "Cơ quan xin lỗi vì chưa trả kết quả hồ sơ {{code}} đúng hẹn.\nLý do: {reason}\nNgày hẹn mới: {}.\nTheo dõi hồ sơ: {tracking}\n",
                t.due_at.map(vntime::format_datetime).unwrap_or_default()
            ),
        }]
    };
    match state
        .store
        .submissions
        .transition_with_mail(&t, &emails)
        .await
    {
        Ok(_) => {
            state.outbox_wake.notify_one();
            Ok(Redirect::to(&path).into_response())
        }
        Err(StoreError::Conflict(_)) => {
            let fresh = state
                .store
                .dossiers
                .get(dossier.id)
                .await?
                .unwrap_or(dossier);
            Ok((
                StatusCode::CONFLICT,
                render(
                    &state,
                    layout,
                    fresh,
                    details,
                    r,
                    vec![],
                    reason,
                    Some(NOT_NOW),
                )
                .await?,
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}
