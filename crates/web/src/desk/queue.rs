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
    state
        .catalogue
        .view()
        .agencies
        .iter()
        .filter(|a| guard::allows(&state.catalogue, officer, Action::ReceiveDossiers(&a.code)))
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
