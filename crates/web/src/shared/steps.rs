//! A dossier's processing steps as every audience needs them: the workflow it starts with, who holds a step,
//! opening a step and telling its holder, the steps and the result as pages show them, and the resumption after
//! the applicant's supplement.

use crate::dossiers::dossier_case;
use crate::{AppError, AppState};
use motcua_calendar::WorkCalendar;
use motcua_domain::{
    Account, AccountId, AgencyCode, Dossier, ProcedureCase, Role,
    policy::Action,
    submission::OutgoingEmail,
    upload, vntime,
    workflow::{DossierResult, NewStep, StepChange, StepRecord, Workflow, limit_hours},
};
use time::{Duration, OffsetDateTime};

/// The workflow a dossier starts with: the newest saved for its case, or the default one cut to its time limit.
pub(crate) async fn starting_workflow(
    state: &AppState,
    dossier: &Dossier,
    case: Option<&ProcedureCase>,
) -> Result<(u32, Workflow), AppError> {
    if let Some(saved) = state
        .store
        .workflows
        .workflow(&dossier.procedure, &dossier.case, None)
        .await?
    {
        return Ok(saved);
    }
    Ok((0, default_workflow(case, dossier)))
}

pub(crate) fn default_workflow(case: Option<&ProcedureCase>, dossier: &Dossier) -> Workflow {
    let hours = case
        .and_then(|c| c.time_limit_for(dossier.channel))
        .and_then(|t| limit_hours(&t.limit));
    Workflow::default_for(hours)
}

/// The workflow a dossier follows, from the version its steps name.
pub(crate) async fn followed_workflow(
    state: &AppState,
    dossier: &Dossier,
    case: Option<&ProcedureCase>,
    version: u32,
) -> Result<Workflow, AppError> {
    if version == 0 {
        return Ok(default_workflow(case, dossier));
    }
    Ok(state
        .store
        .workflows
        .workflow(&dossier.procedure, &dossier.case, Some(version))
        .await?
        .map(|(_, w)| w)
        .unwrap_or_else(|| default_workflow(case, dossier)))
}

/// Whether the policy lets an account hold a step of `role` at `agency`.
pub(crate) fn holds(state: &AppState, account: &Account, role: Role, agency: &AgencyCode) -> bool {
    crate::guard::allows(&state.catalogue, account, Action::HoldStep(role, agency))
}

/// Whether the policy lets the officer move the open step (as its holder, as one who may take it while it is
/// unassigned, or as the unit's head or leader).
pub(crate) fn may_move(state: &AppState, officer: &Account, open: &StepRecord) -> bool {
    let action = Action::MoveStep {
        holder: open.assignee.as_ref(),
        role: open.role,
        agency: &open.agency,
    };
    crate::guard::allows(&state.catalogue, officer, action)
}

/// A step of the workflow opened at `index`: its unit (the dossier's agency unless the step names another), its
/// quota counted from `now` in working time.
#[allow(clippy::too_many_arguments)]
pub(crate) fn open_step(
    cal: &WorkCalendar,
    dossier: &Dossier,
    workflow: &Workflow,
    version: u32,
    index: usize,
    assignee: Option<&Account>,
    by: &str,
    now: OffsetDateTime,
) -> Option<NewStep> {
    let step = workflow.steps.get(index)?;
    Some(NewStep {
        index: u32::try_from(index).ok()?,
        workflow_version: version,
        name: step.name.clone(),
        agency: step
            .agency
            .clone()
            .unwrap_or_else(|| dossier.code.agency().clone()),
        role: step.role,
        quota_hours: step.quota_hours,
        assignee: assignee.map(|a| (a.id, a.full_name.to_string())),
        started_at: now,
        started_by: by.to_string(),
        due_at: cal.add(now, Duration::hours(i64::from(step.quota_hours))),
    })
}

/// Most officers of a unit told at once that a step reached it unassigned.
const MAX_UNIT_EMAILS: usize = 20;

/// Who is told that a step was opened: its assignee, or (unassigned) every officer who may take it; never the
/// officer who made the hand-off.
pub(crate) async fn step_emails(
    state: &AppState,
    by: Option<AccountId>,
    step: &NewStep,
) -> Result<Vec<OutgoingEmail>, AppError> {
    let people: Vec<Account> = match &step.assignee {
        Some((id, _)) => state.store.accounts.get(*id).await?.into_iter().collect(),
        None => candidates(state, step.role, &step.agency).await?,
    };
    Ok(people
        .iter()
        .filter(|p| Some(p.id) != by)
        .take(MAX_UNIT_EMAILS)
        .filter_map(|p| assignment_email(state, p, step))
        .collect())
}

/// The e-mail that tells an officer a dossier entered their inbox (their own, or their unit's).
pub(crate) fn assignment_email(
    state: &AppState,
    to: &Account,
    step: &NewStep,
) -> Option<OutgoingEmail> {
    let email = to.email.as_ref()?;
    let subject = if step.assignee.is_some() {
        "Hồ sơ {code} được giao cho anh/chị"
    } else {
        "Hồ sơ {code} chờ đơn vị của anh/chị nhận xử lý"
    };
    Some(OutgoingEmail {
        to: email.as_str().to_string(),
        subject: subject.into(),
        body: format!(
            "Hồ sơ {{code}} được chuyển đến anh/chị ở bước \u{201c}{}\u{201d} ({} giờ làm việc), hạn xử lý {}.\n\
             Người chuyển: {}.\nMở hồ sơ: {}/can-bo/ho-so/{{code}}\n",
            step.name,
            step.quota_hours,
            vntime::format_datetime(step.due_at),
            officer_name(&step.started_by),
            state.site.public_url.trim_end_matches('/'),
        ),
    })
}

/// The officer's name from an actor (`Name (account id)`).
pub(crate) fn officer_name(actor: &str) -> String {
    actor
        .rsplit_once(" (")
        .map(|(name, _)| name.to_string())
        .unwrap_or_else(|| actor.to_string())
}

pub(crate) fn actor(officer: &Account) -> String {
    format!("{} ({})", officer.full_name, officer.id)
}

/// One working day of working time: finished at least this long before a deadline is early ("Trước hạn"), and a
/// deadline this close is near ("Sắp đến hạn").
pub(crate) const WORKING_DAY: Duration = Duration::hours(8);

/// Early, on time or late, for anything finished at `at` against `due`.
pub(crate) fn timeliness_tag(
    cal: &WorkCalendar,
    at: OffsetDateTime,
    due: OffsetDateTime,
) -> (&'static str, &'static str) {
    if at > due {
        ("qua-han", "Quá hạn")
    } else if cal.between(at, due) >= WORKING_DAY {
        ("dung-han", "Trước hạn")
    } else {
        ("dung-han", "Đúng hạn")
    }
}

/// A row of the control sheet as shown.
pub(crate) struct StepView {
    pub seq: u32,
    pub name: String,
    pub agency: String,
    pub role: &'static str,
    pub holder: String,
    pub given_by: String,
    pub started: String,
    pub due: String,
    pub ended: String,
    pub outcome: String,
    pub tag: Option<(&'static str, &'static str)>,
}

pub(crate) fn step_views(
    state: &AppState,
    cal: &WorkCalendar,
    steps: &[StepRecord],
) -> Vec<StepView> {
    let view = state.catalogue.view();
    let now = OffsetDateTime::now_utc();
    steps
        .iter()
        .map(|s| StepView {
            seq: s.seq,
            name: s.name.clone(),
            agency: view.agency_name(&s.agency).to_string(),
            role: s.role.label_vi(),
            holder: s
                .assignee_name
                .clone()
                .unwrap_or_else(|| "(chưa giao)".into()),
            given_by: officer_name(&s.started_by),
            started: vntime::format_datetime(s.started_at),
            due: vntime::format_datetime(s.due_at),
            ended: s.ended_at.map(vntime::format_datetime).unwrap_or_default(),
            outcome: match (s.outcome, &s.note) {
                (Some(o), Some(n)) => format!("{}: {n}", o.label_vi()),
                (Some(o), None) => o.label_vi().to_string(),
                (None, _) => "Đang xử lý".into(),
            },
            tag: match s.ended_at {
                Some(at) => Some(timeliness_tag(cal, at, s.due_at)),
                None if now > s.due_at => Some(("qua-han", "Quá hạn")),
                None => None,
            },
        })
        .collect()
}

/// The step change when the applicant's supplement resumes processing: the open step's due time moves by the
/// pause, or (the supplement was asked for at reception) the workflow starts with its first step open to the unit.
pub(crate) async fn after_supplement(
    state: &AppState,
    cal: &WorkCalendar,
    dossier: &Dossier,
    paused_since: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<StepChange, AppError> {
    let steps = state.store.workflows.steps(dossier.id).await?;
    let mut change = StepChange {
        dossier: Some(dossier.id),
        ..Default::default()
    };
    if let Some(open) = steps.iter().find(|s| s.ended_at.is_none()) {
        change.extend = Some((
            open.seq,
            cal.extend_for_pause(open.due_at, paused_since, now),
        ));
        return Ok(change);
    }
    let case = dossier_case(state, dossier).await?;
    let (version, workflow) = starting_workflow(state, dossier, case.as_ref()).await?;
    change.next = open_step(
        cal,
        dossier,
        &workflow,
        version,
        0,
        None,
        "Công dân bổ sung hồ sơ",
        now,
    );
    if let Some(next) = &change.next {
        change.emails = step_emails(state, None, next).await?;
    }
    Ok(change)
}

/// The result as shown to officers and to the applicant.
pub(crate) struct ResultView {
    pub number: String,
    pub signer: String,
    pub signed_on: String,
    /// (file name, address, size)
    pub file: Option<(String, String, String)>,
    pub entered_by: String,
    /// The agency's signature over the file (level 4).
    pub seal: Option<SealView>,
}

/// A signed result file: its public verification page (with a QR code to it) and its signature.
pub(crate) struct SealView {
    pub verify_url: String,
    pub qr_svg: String,
    pub signed_by: String,
    pub signed_at: String,
}

pub(crate) fn result_view(state: &AppState, result: &DossierResult, file_href: &str) -> ResultView {
    let seal = result
        .file
        .as_ref()
        .and_then(|f| f.seal.as_ref())
        .map(|seal| {
            let verify_url = crate::seals::verification_url(state, seal);
            SealView {
                qr_svg: motcua_documents::qr_svg(
                    &verify_url,
                    "Mã QR dẫn tới trang xác thực kết quả",
                )
                .unwrap_or_default(),
                verify_url,
                signed_by: seal.signed_by.clone(),
                signed_at: vntime::format_datetime(seal.at),
            }
        });
    ResultView {
        seal,
        number: result.document_number.clone(),
        signer: result.signer.clone(),
        signed_on: motcua_calendar::dmy(result.signed_on),
        file: result.file.as_ref().map(|f| {
            (
                f.file_name.clone(),
                file_href.to_string(),
                upload::format_size(f.size),
            )
        }),
        entered_by: officer_name(&result.entered_by),
    }
}

/// Officers who may hold a step of `role` at `agency`, by name.
pub(crate) async fn candidates(
    state: &AppState,
    role: Role,
    agency: &AgencyCode,
) -> Result<Vec<Account>, AppError> {
    let mut out: Vec<Account> = state
        .store
        .accounts
        .list_officers()
        .await?
        .into_iter()
        .filter(|a| holds(state, a, role, agency))
        .collect();
    out.sort_by(|a, b| a.full_name.as_str().cmp(b.full_name.as_str()));
    Ok(out)
}
