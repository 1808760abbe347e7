//! Loading a dossier for whoever may see it, for every audience: the applicant's own (`owned`), the desk's
//! (`for_office`, with the viewer's rights at its agency), and the working-time calendar the due times need.
use axum::response::Response;
use motcua_calendar::WorkCalendar;
use motcua_domain::{
    Account, AgencyCode, Dossier, DossierCode, ProcedureCase, desk::DeskRight, policy::Action,
    submission::OnlineDetails,
};
use motcua_store::StoreError;

use crate::{AppError, AppState, error::not_found, guard, viewer::Viewer};

/// The working-time calendar with the holidays and make-up days kept in the database (administrators edit them
/// at `/quan-tri/ngay-nghi`; `motcua migrate` and `serve` seed 2024–2026 into an empty table).
pub(crate) async fn calendar(state: &AppState) -> Result<WorkCalendar, AppError> {
    Ok(work_calendar(&state.store).await?)
}

pub(crate) async fn work_calendar(store: &motcua_store::Store) -> Result<WorkCalendar, StoreError> {
    let mut holidays = motcua_calendar::Holidays::default();
    for day in store.calendar.days().await? {
        if let Err(e) = holidays.set(day) {
            tracing::warn!(error = %e, "a stored calendar day is inconsistent and was ignored");
        }
    }
    Ok(WorkCalendar::new(Default::default(), holidays))
}

/// Who did each thing in a dossier's history, by name: an officer's recorded name, an account looked up by its id,
/// or the kind of actor ("Công dân", "Hệ thống"); never a bare identifier.
pub(crate) async fn actor_names(
    state: &AppState,
    events: &[motcua_domain::HistoryEvent],
) -> Result<std::collections::HashMap<String, String>, AppError> {
    let mut names = std::collections::HashMap::new();
    for e in events {
        if names.contains_key(&e.actor) {
            continue;
        }
        let name = if let Some((name, _)) = e.actor.rsplit_once(" (") {
            name.to_string()
        } else if let Ok(id) = uuid::Uuid::parse_str(&e.actor) {
            match state
                .store
                .accounts
                .get(motcua_domain::AccountId(id))
                .await?
            {
                Some(a) if a.kind == motcua_domain::AccountKind::Officer => a.full_name.to_string(),
                Some(a) => format!("Công dân {}", a.full_name),
                None => "Tài khoản đã xóa".to_string(),
            }
        } else {
            match e.actor.as_str() {
                "citizen" => "Công dân".to_string(),
                "cli" => "Quản trị viên (dòng lệnh)".to_string(),
                "system" | "he-thong" | "payment" | "worker" => "Hệ thống".to_string(),
                other => other.to_string(),
            }
        };
        names.insert(e.actor.clone(), name);
    }
    Ok(names)
}

/// What the viewer may do at one agency.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Rights {
    pub(crate) receive: bool,
    pub(crate) process: bool,
    pub(crate) approve: bool,
    /// Who holds them.
    pub(crate) officer: Option<motcua_domain::AccountId>,
}

impl Rights {
    /// Whether these rights include `right`.
    pub(crate) fn holds(self, right: DeskRight) -> bool {
        match right {
            DeskRight::Receive => self.receive,
            DeskRight::Process => self.process,
            DeskRight::Approve => self.approve,
        }
    }
}

pub(crate) fn rights(state: &AppState, officer: &Account, agency: &AgencyCode) -> Rights {
    let can = |action| guard::allows(&state.catalogue, officer, action);
    Rights {
        receive: can(Action::ReceiveDossiers(agency)),
        process: can(Action::ProcessDossiers(agency)),
        approve: can(Action::ApproveDossiers(agency)),
        officer: Some(officer.id),
    }
}

/// The dossier, if the viewer holds any desk role at its agency, or at the agency of its open step (an
/// inter-agency step); otherwise refused and audited. The rights returned are those at the dossier's agency.
pub(crate) async fn for_office(
    state: &AppState,
    viewer: &Viewer,
    code: &str,
) -> Result<Result<(Account, Dossier, OnlineDetails, Rights), Response>, AppError> {
    let path = format!("/can-bo/ho-so/{code}");
    let officer = match guard::require(state, viewer, Action::ViewOwnAccount, &path).await {
        Ok(a) => a,
        Err(r) => return Ok(Err(r)),
    };
    let Ok(code) = DossierCode::parse(code) else {
        return Ok(Err(not_found().await));
    };
    let Some(dossier) = state.store.dossiers.get_by_code(&code).await? else {
        return Ok(Err(not_found().await));
    };
    let r = rights(state, &officer, dossier.code.agency());
    let at_step = || async {
        let steps = state.store.workflows.steps(dossier.id).await?;
        Ok::<bool, AppError>(steps.iter().any(|s| {
            s.ended_at.is_none() && {
                let there = rights(state, &officer, &s.agency);
                there.process || there.approve
            }
        }))
    };
    if !(r.receive || r.process || r.approve || at_step().await?) {
        // refused by the policy, which also records the refusal
        if let Err(resp) = guard::require(
            state,
            viewer,
            Action::ReceiveDossiers(dossier.code.agency()),
            &path,
        )
        .await
        {
            return Ok(Err(resp));
        }
    }
    let details = state
        .store
        .submissions
        .online_details(dossier.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Ok((officer, dossier, details, r)))
}

/// [`for_office`], and the desk right `right` at the dossier's agency (refused and audited by the policy
/// otherwise): for the desk's actions that need more than seeing the dossier.
pub(crate) async fn for_office_with(
    state: &AppState,
    viewer: &Viewer,
    code: &str,
    right: DeskRight,
) -> Result<Result<(Account, Dossier, OnlineDetails, Rights), Response>, AppError> {
    let found = match for_office(state, viewer, code).await? {
        Ok(found) => found,
        Err(r) => return Ok(Err(r)),
    };
    if !found.3.holds(right) {
        let path = format!("/can-bo/ho-so/{code}");
        if let Err(r) =
            guard::require(state, viewer, right.action(found.1.code.agency()), &path).await
        {
            return Ok(Err(r));
        }
    }
    Ok(Ok(found))
}

/// The dossier with this code, if the viewer holds a desk role at its agency (for the slips).
pub(crate) async fn office_dossier(
    state: &AppState,
    viewer: &Viewer,
    code: &str,
) -> Result<Result<Dossier, Response>, AppError> {
    Ok(for_office(state, viewer, code).await?.map(|(_, d, _, _)| d))
}

/// The dossier with this code, if the viewer owns it (others get "not found": codes are not secrets, but
/// whether a dossier exists is not anyone's business).
pub(crate) async fn owned(
    state: &AppState,
    viewer: &Viewer,
    code: &str,
    path: &str,
) -> Result<Result<(Dossier, motcua_domain::submission::OnlineDetails), Response>, AppError> {
    if let Err(r) = guard::require(state, viewer, Action::ViewOwnAccount, path).await {
        return Ok(Err(r));
    }
    let Ok(code) = DossierCode::parse(code) else {
        return Ok(Err(not_found().await));
    };
    let Some(dossier) = state.store.dossiers.get_by_code(&code).await? else {
        return Ok(Err(not_found().await));
    };
    let Some(details) = state.store.submissions.online_details(dossier.id).await? else {
        return Ok(Err(not_found().await));
    };
    let Some(owner) = details.account else {
        return Ok(Err(not_found().await));
    };
    if let Err(r) = guard::require(state, viewer, Action::OwnDossier(&owner), path).await {
        return Ok(Err(r));
    }
    Ok(Ok((dossier, details)))
}

/// The dossier with this code, if the viewer owns it (for the slips).
pub(crate) async fn owned_dossier(
    state: &AppState,
    viewer: &Viewer,
    code: &str,
) -> Result<Result<Dossier, Response>, AppError> {
    let path = format!("/ho-so/{code}");
    Ok(owned(state, viewer, code, &path).await?.map(|(d, _)| d))
}

/// The case of the procedure version a dossier was submitted under.
pub(crate) async fn dossier_case(
    state: &AppState,
    dossier: &Dossier,
) -> Result<Option<ProcedureCase>, AppError> {
    Ok(state
        .store
        .catalogue
        .get_procedure_version(&dossier.procedure, dossier.procedure_version)
        .await?
        .and_then(|p| p.cases.into_iter().find(|c| c.key == dossier.case)))
}

/// The mail that tells the officers who receive for `agency` that a dossier entered their queue (with its reception
/// deadline of one working day): at submission, or once a fee due at submission is paid.
pub(crate) async fn tell_reception(
    state: &AppState,
    agency: &motcua_domain::AgencyCode,
    procedure: &str,
) -> Result<Vec<motcua_domain::submission::OutgoingEmail>, AppError> {
    let mut out = Vec::new();
    for officer in state.store.accounts.list_officers().await? {
        let receives = crate::guard::allows(
            &state.catalogue,
            &officer,
            motcua_domain::policy::Action::ReceiveDossiers(agency),
        );
        if let (true, Some(to)) = (receives, officer.email.as_ref()) {
            out.push(motcua_domain::submission::OutgoingEmail {
                to: to.as_str().to_string(),
                subject: "Hồ sơ trực tuyến mới {code} chờ tiếp nhận".into(),
                body: format!(
                    "Hồ sơ {{code}} ({procedure}) vừa được nộp trực tuyến và chờ tiếp nhận trong 1 ngày làm việc.\nXem: {}/can-bo/ho-so/{{code}}\n",
                    state.site.public_url.trim_end_matches('/'),
                ),
            });
        }
    }
    Ok(out)
}

/// The case a dossier was submitted under, in the procedure version it keeps.
pub(crate) fn case_of(
    procedure: &Option<motcua_domain::Procedure>,
    dossier: &Dossier,
) -> Option<motcua_domain::ProcedureCase> {
    procedure
        .as_ref()
        .and_then(|p| p.cases.iter().find(|c| c.key == dossier.case).cloned())
}

/// A case's time limit for a channel, as the calendar counts it, with its cut-off hour and how it reads.
pub(crate) fn limit_of(
    case: &motcua_domain::ProcedureCase,
    channel: motcua_domain::Channel,
) -> Option<(motcua_calendar::Limit, Option<u8>, String)> {
    let t = case.time_limit_for(channel)?;
    let limit = match t.limit.unit {
        motcua_domain::TimeUnit::WorkingDays => motcua_calendar::Limit::WorkingDays(t.limit.value),
        motcua_domain::TimeUnit::CalendarDays => {
            motcua_calendar::Limit::CalendarDays(t.limit.value)
        }
        motcua_domain::TimeUnit::WorkingHours => {
            motcua_calendar::Limit::WorkingHours(t.limit.value)
        }
    };
    Some((limit, t.cutoff_hour, t.limit.to_string()))
}
