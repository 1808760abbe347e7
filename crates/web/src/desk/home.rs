//! "Việc của tôi": where an officer lands after logging in. The counts of their work (waiting for reception, the
//! steps they hold, due soon, overdue), each a link to the list it counts.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use time::OffsetDateTime;

use motcua_domain::{ClockState, DossierStatus, policy::Action};
use motcua_store::DossierQuery;

use crate::{
    AppError, AppState,
    desk::{inbox::WORKING, queue::reception_agencies},
    dossiers::calendar,
    guard,
    layout::Layout,
    viewer::Viewer,
};

/// One count on the page, and the list it opens.
pub(crate) struct Tile {
    label: &'static str,
    count: u64,
    href: &'static str,
    /// Shown in the warning colour when not zero.
    urgent: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "officer_home.html")]
pub(crate) struct HomePage {
    layout: Layout,
    name: String,
    tiles: Vec<Tile>,
}

pub(crate) async fn home(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
) -> Result<Response, AppError> {
    let path = "/can-bo";
    let officer = match guard::require(&state, &viewer, Action::ViewOwnAccount, path).await {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let desk = crate::desk::queue::desk_agencies(&state, &officer);
    if desk.is_empty() {
        return Ok(guard::refuse(&state, &viewer, path).await);
    }
    let reception = reception_agencies(&state, &officer);
    let now = OffsetDateTime::now_utc();
    let cal = calendar(&state).await?;
    // "sắp đến hạn" looks one working day ahead, as the inbox marks it
    let soon = cal.add(now, crate::steps::WORKING_DAY);
    let running: Vec<DossierStatus> = WORKING
        .into_iter()
        .filter(|s| s.clock() != ClockState::Paused)
        .collect();
    let store = &state.store.submissions;
    let waiting = store
        .count(&DossierQuery::new(
            &reception,
            &[DossierStatus::Submitted],
            1,
        ))
        .await?;
    let mine = state
        .store
        .workflows
        .open_steps_of(officer.id, 2000)
        .await?
        .into_iter()
        .filter(|s| guard::allows(&state.catalogue, &officer, Action::DeskWork(&s.agency)))
        .count() as u64;
    let overdue = store
        .count(&DossierQuery {
            due_before: Some(now),
            ..DossierQuery::new(&desk, &running, 1)
        })
        .await?;
    let due_soon = store
        .count(&DossierQuery {
            due_from: Some(now),
            due_before: Some(soon),
            ..DossierQuery::new(&desk, &running, 1)
        })
        .await?;
    let mut tiles = Vec::new();
    if !reception.is_empty() {
        tiles.push(Tile {
            label: "Chờ tiếp nhận",
            count: waiting,
            href: "/can-bo/tiep-nhan",
            urgent: false,
        });
    }
    tiles.extend([
        Tile {
            label: "Của tôi",
            count: mine,
            href: "/can-bo/ho-so?cua_toi=1",
            urgent: false,
        },
        Tile {
            label: "Sắp đến hạn (trong 1 ngày làm việc)",
            count: due_soon,
            href: "/can-bo/ho-so?sap_den_han=1",
            urgent: due_soon > 0,
        },
        Tile {
            label: "Quá hạn",
            count: overdue,
            href: "/can-bo/ho-so?qua_han=1",
            urgent: overdue > 0,
        },
    ]);
    Ok(HomePage {
        layout,
        name: officer.full_name.to_string(),
        tiles,
    }
    .into_response())
}
