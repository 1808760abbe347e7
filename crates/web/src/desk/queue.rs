//! The reception queue: online dossiers waiting for the desk, oldest first, each with its reception deadline.

use crate::desk::page::RECEPTION_TIME;
use crate::dossiers::calendar;
use crate::{AppError, AppState, guard, layout::Layout, viewer::Viewer};
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use motcua_calendar::WorkCalendar;
use motcua_domain::{Account, AgencyCode, DossierStatus, policy::Action, vntime};
use time::{Duration, OffsetDateTime};

/// "Due soon" in the reception queue: less than this much working time left of the reception day.
const DUE_SOON: Duration = Duration::hours(2);

/// The agencies where the viewer may receive dossiers.
pub(crate) fn reception_agencies(state: &AppState, officer: &Account) -> Vec<AgencyCode> {
    agencies_where(state, |a| Action::ReceiveDossiers(a), officer)
}

/// The agencies where the viewer works at the desk with any desk right (their inbox, register and counts).
pub(crate) fn desk_agencies(state: &AppState, officer: &Account) -> Vec<AgencyCode> {
    agencies_where(state, |a| Action::DeskWork(a), officer)
}

fn agencies_where(
    state: &AppState,
    action: impl for<'a> Fn(&'a AgencyCode) -> Action<'a>,
    officer: &Account,
) -> Vec<AgencyCode> {
    state
        .catalogue
        .view()
        .agencies
        .iter()
        .filter(|a| guard::allows(&state.catalogue, officer, action(&a.code)))
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
    /// What the officer just did, with the slip to print and the next step.
    done: Option<crate::desk::done::Done>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct QueueQuery {
    /// The dossier just answered (accepted, sent back for supplements, refused).
    vua_xu_ly: Option<String>,
}

pub(crate) fn deadline_state(
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
    crate::input::Query(q): crate::input::Query<QueueQuery>,
) -> Result<Response, AppError> {
    let path = "/can-bo/tiep-nhan";
    let officer = match guard::require(&state, &viewer, Action::ViewOwnAccount, path).await {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let agencies = reception_agencies(&state, &officer);
    if agencies.is_empty() {
        // logged in, but no reception right anywhere: refused and audited
        return Ok(guard::refuse(&state, &viewer, path).await);
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
                procedure: view.procedure_name(d.procedure.as_str()).to_string(),
                applicant: d.applicant_name.to_string(),
                submitted_at: vntime::format_datetime(d.updated_at),
                deadline: vntime::format_datetime(deadline),
                state: s,
                state_label: label,
            }
        })
        .collect();
    // the banner after a reception answer, read from the dossier as it now stands (only one of this officer's
    // agencies, only their own answer)
    let done = match q
        .vua_xu_ly
        .as_deref()
        .and_then(|c| motcua_domain::DossierCode::parse(c).ok())
    {
        Some(code) => match state.store.dossiers.get_by_code(&code).await? {
            Some(d) if agencies.contains(&d.agency) => {
                crate::desk::done::banner(&state, &d, officer.id).await?
            }
            _ => None,
        },
        None => None,
    };
    Ok(QueuePage {
        layout,
        done,
        rows,
        agencies: agencies
            .iter()
            .map(|a| view.agency_name(a).to_string())
            .collect(),
    }
    .into_response())
}
