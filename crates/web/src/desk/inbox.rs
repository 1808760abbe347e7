//! The officers' inbox: dossiers in progress at their agencies, soonest due first, 100 a page, every filter in
//! the query.

use crate::desk::queue::deadline_state;
use crate::dossiers::{calendar, rights};
use crate::input::{InputRejection, Query};
use crate::steps::WORKING_DAY;
use crate::{AppError, AppState, guard, layout::Layout, viewer::Viewer};
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use motcua_domain::{
    Channel, ClockState, DossierStatus,
    form::{self},
    policy::Action,
    vntime,
};
use time::{Duration, OffsetDateTime};

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
    /// The applicants' satisfaction with these agencies over the last 12 months.
    satisfaction: Option<String>,
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
    /// Only those due within a working day and not yet overdue.
    #[serde(default)]
    sap_den_han: Option<String>,
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

/// The statuses of a dossier being worked on at the desk, after reception and before the result is handed over.
pub(crate) const WORKING: [DossierStatus; 6] = [
    DossierStatus::Received,
    DossierStatus::Processing,
    DossierStatus::SupplementRequested,
    DossierStatus::AwaitingFinancialObligation,
    DossierStatus::WithdrawalRequested,
    DossierStatus::Processed,
];

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
    if q.sap_den_han.is_some() {
        pairs.push(("sap_den_han", "1".into()));
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
    let agencies = crate::desk::queue::desk_agencies(&state, &officer);
    if agencies.is_empty() {
        // logged in, but no desk right anywhere: refused and audited
        return Ok(guard::refuse(&state, &viewer, path).await);
    }
    use DossierStatus as S;
    let working = WORKING;
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
        .filter(|s| crate::guard::allows(&state.catalogue, &officer, Action::DeskWork(&s.agency)))
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
        query.statuses.retain(|s| s.clock() != ClockState::Paused);
    }
    if q.sap_den_han.is_some() {
        // what the officer's "Sắp đến hạn" counts: due within a working day, not yet overdue
        query.due_from = Some(now);
        query.due_before = Some(cal.add(now, WORKING_DAY));
        query.statuses.retain(|s| s.clock() != ClockState::Paused);
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
                Some(_) if d.status.clock() == ClockState::Paused => ("dung-han", "Tạm dừng"),
                Some(_) if !working.contains(&d.status) => ("dung-han", "Đã kết thúc"),
                Some(due) => deadline_state(&cal, due, now, WORKING_DAY),
                None => ("dung-han", "Chưa có hạn"),
            };
            InboxRow {
                href: format!("/can-bo/ho-so/{}", d.code),
                code: d.code.to_string(),
                procedure: view.procedure_name(d.procedure.as_str()).to_string(),
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
    let figures = state
        .store
        .ratings
        .figures(&agencies, OffsetDateTime::now_utc() - Duration::days(365))
        .await?;
    let satisfaction = figures.satisfied_percent().map(|p| {
        format!(
            "Người dân hài lòng trở lên: {p} % trong {} đánh giá của 12 tháng qua",
            figures.total()
        )
    });
    Ok(InboxPage {
        satisfaction,
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
