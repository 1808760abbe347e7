//! Processing after reception: the dossier follows its case's workflow step by step (each step with its unit, role
//! and quota in working hours). An officer takes a step, the head of unit assigns or transfers it, the holder
//! forwards it to the next step or returns it to the previous one with a reason; steps at another agency put the
//! dossier in that agency's inbox. Every hand-off is one row of the control sheet (slip 06), committed with the
//! e-mail to the officer who receives it. The result (document number, signer, date, file) is entered before the
//! leader approves.

use crate::input::Form;
use axum::{
    extract::{Multipart, Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use time::{Duration, OffsetDateTime};

use motcua_calendar::WorkCalendar;
use motcua_domain::{
    Account, AccountId, AgencyCode, Dossier, DossierStatus, ProcedureCase, Role,
    policy::Action,
    submission::OutgoingEmail,
    upload, vntime,
    workflow::{
        DossierResult, EndStep, NewStep, ResultFile, StepChange, StepOutcome, StepRecord, Workflow,
        limit_hours,
    },
};
use motcua_store::StoreError;

use crate::{AppError, AppState, guard, layout::Layout, session::Viewer};

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

fn default_workflow(case: Option<&ProcedureCase>, dossier: &Dossier) -> Workflow {
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

/// Whether an account holds `role` at `agency` (directly, or below a grant that includes sub-agencies).
pub(crate) fn holds(state: &AppState, account: &Account, role: Role, agency: &AgencyCode) -> bool {
    let view = state.catalogue.view();
    !account.disabled
        && account.grants.iter().any(|g| {
            g.role == role
                && (&g.agency == agency
                    || (g.include_sub_agencies && view.is_within(agency, &g.agency)))
        })
}

/// Whether an account holds any desk role (reception, processing, approval) at `agency`.
pub(crate) fn desk_role_at(state: &AppState, account: &Account, agency: &AgencyCode) -> bool {
    [
        Role::Reception,
        Role::Specialist,
        Role::HeadOfUnit,
        Role::Leader,
    ]
    .into_iter()
    .any(|r| holds(state, account, r, agency))
}

fn leads(state: &AppState, account: &Account, agency: &AgencyCode) -> bool {
    holds(state, account, Role::HeadOfUnit, agency) || holds(state, account, Role::Leader, agency)
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
async fn step_emails(
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
fn assignment_email(state: &AppState, to: &Account, step: &NewStep) -> Option<OutgoingEmail> {
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

/// Early, on time or late, for anything finished at `at` against `due`.
pub(crate) fn timeliness_tag(
    cal: &WorkCalendar,
    at: OffsetDateTime,
    due: OffsetDateTime,
) -> (&'static str, &'static str) {
    if at > due {
        ("qua-han", "Trễ hạn")
    } else if cal.between(at, due) >= Duration::hours(8) {
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

/// What the viewer may do with the open step.
#[derive(Default)]
pub(crate) struct StepActions {
    pub seq: u32,
    pub name: String,
    pub position: String,
    pub holder: String,
    pub due: String,
    pub claim: bool,
    pub assign: bool,
    pub forward: bool,
    pub back: bool,
    /// (account id, name) of officers who may hold this step.
    pub colleagues: Vec<(String, String)>,
    /// The next step, with officers who may hold it.
    pub next_name: Option<String>,
    pub next_people: Vec<(String, String)>,
    pub previous_name: Option<String>,
    /// The open step is the last: approval (→ processed) ends it.
    pub last: bool,
}

/// Officers who may hold a step of `role` at `agency`, by name.
async fn candidates(
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

fn who(list: &[Account]) -> Vec<(String, String)> {
    list.iter()
        .map(|a| (a.id.to_string(), a.full_name.to_string()))
        .collect()
}

/// May the viewer act for the open step (its holder, anyone with its role while unassigned, or the unit's head)?
fn may_move(state: &AppState, officer: &Account, open: &StepRecord) -> bool {
    match open.assignee {
        Some(a) if a == officer.id => true,
        None if holds(state, officer, open.role, &open.agency) => true,
        _ => leads(state, officer, &open.agency),
    }
}

pub(crate) async fn step_actions(
    state: &AppState,
    officer: &Account,
    dossier: &Dossier,
    case: Option<&ProcedureCase>,
    steps: &[StepRecord],
) -> Result<Option<StepActions>, AppError> {
    let Some(open) = steps.iter().find(|s| s.ended_at.is_none()) else {
        return Ok(None);
    };
    let workflow = followed_workflow(state, dossier, case, open.workflow_version).await?;
    let index = open.index as usize;
    let last = index + 1 >= workflow.steps.len();
    let working = dossier.status == DossierStatus::Processing;
    let movable = working && may_move(state, officer, open);
    let colleagues = candidates(state, open.role, &open.agency).await?;
    let next = workflow.steps.get(index + 1);
    let next_people = match next {
        Some(step) => {
            let agency = step
                .agency
                .clone()
                .unwrap_or_else(|| dossier.code.agency().clone());
            who(&candidates(state, step.role, &agency).await?)
        }
        None => vec![],
    };
    Ok(Some(StepActions {
        seq: open.seq,
        name: open.name.clone(),
        position: format!("Bước {} / {}", index + 1, workflow.steps.len()),
        holder: open
            .assignee_name
            .clone()
            .unwrap_or_else(|| "chưa giao cho cán bộ nào".into()),
        due: vntime::format_datetime(open.due_at),
        claim: working
            && open.assignee != Some(officer.id)
            && open.assignee.is_none()
            && holds(state, officer, open.role, &open.agency),
        assign: movable && colleagues.iter().any(|c| Some(c.id) != open.assignee),
        forward: movable && !last,
        back: movable && index > 0,
        colleagues: who(&colleagues),
        next_name: next.map(|s| s.name.clone()),
        next_people,
        previous_name: index
            .checked_sub(1)
            .and_then(|i| workflow.steps.get(i))
            .map(|s| s.name.clone()),
        last,
    }))
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct StepForm {
    /// nhan (take), giao (assign / transfer), chuyen (forward), tra (return)
    #[serde(default)]
    viec: String,
    /// The open holding the page showed.
    #[serde(default)]
    buoc: String,
    #[serde(default)]
    can_bo: String,
    /// The officer for the next step (forwarding).
    #[serde(default)]
    can_bo_tiep: String,
    #[serde(default)]
    ly_do: String,
}

/// One action on the open step.
pub(crate) async fn step_action(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
    Form(posted): Form<StepForm>,
) -> Result<Response, AppError> {
    let (officer, dossier, details, rights) =
        match crate::desk::reception::for_office(&state, &viewer, &code).await? {
            Ok(x) => x,
            Err(r) => return Ok(r),
        };
    let note = motcua_domain::text::normalize(&posted.ly_do);
    let typed = crate::desk::reception::StepTyped {
        // the officer picked: for the next step when forwarding, for this step when assigning
        chosen: if posted.viec == "chuyen" {
            posted.can_bo_tiep.trim().to_string()
        } else {
            posted.can_bo.trim().to_string()
        },
        viec: posted.viec,
        note,
    };
    let path = format!("/can-bo/ho-so/{code}");
    let (status, errors, notice, dossier) =
        match plan_step(&state, &officer, &dossier, &posted.buoc, &typed).await? {
            Plan::Forbidden => {
                // not this officer's step to move (nor their unit's to lead): refused and audited
                return Ok(guard::refuse(&state, &viewer, &format!("{path}/buoc")).await);
            }
            Plan::Refused(status, errors, notice) => (status, errors, notice, dossier),
            Plan::Change(change) => {
                let mut change = *change;
                change.dossier = Some(dossier.id);
                if let Some(next) = &change.next {
                    change.emails = step_emails(&state, Some(officer.id), next).await?;
                }
                match state.store.workflows.hand_off(None, &change).await {
                    Ok(()) => {
                        state.outbox_wake.notify_one();
                        return Ok(Redirect::to(&path).into_response());
                    }
                    Err(StoreError::Conflict(_)) => {
                        let fresh = state.store.dossiers.get(dossier.id).await?;
                        (
                            StatusCode::CONFLICT,
                            vec![],
                            Some(MOVED),
                            fresh.unwrap_or(dossier),
                        )
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
    crate::desk::reception::rerender(
        &state,
        layout,
        dossier,
        details,
        rights,
        status,
        errors,
        crate::desk::reception::Kept::Step(typed),
        notice,
    )
    .await
}

/// What a step action comes to.
enum Plan {
    Change(Box<StepChange>),
    /// Shown on the dossier page again: the answer's status, the errors by field, a notice.
    Refused(StatusCode, Vec<(String, String)>, Option<&'static str>),
    /// Not the officer's to do.
    Forbidden,
}

fn refused(message: &str, field: &str) -> Plan {
    Plan::Refused(
        StatusCode::UNPROCESSABLE_ENTITY,
        vec![(field.to_string(), message.to_string())],
        None,
    )
}

/// The step change an action asks for (`seq`: the open holding the page showed), checked against the dossier's
/// open step, its workflow and the officer's roles.
async fn plan_step(
    state: &AppState,
    officer: &Account,
    dossier: &Dossier,
    seq: &str,
    typed: &crate::desk::reception::StepTyped,
) -> Result<Plan, AppError> {
    let steps = state.store.workflows.steps(dossier.id).await?;
    let Some(open) = steps
        .iter()
        .find(|s| s.ended_at.is_none())
        .filter(|o| seq == o.seq.to_string())
    else {
        return Ok(Plan::Refused(StatusCode::CONFLICT, vec![], Some(MOVED)));
    };
    if dossier.status != DossierStatus::Processing {
        return Ok(refused(
            "Chỉ chuyển bước khi hồ sơ đang xử lý (không tạm dừng, chưa kết thúc)",
            "buoc-xu-ly",
        ));
    }
    let picked_field = if typed.viec == "chuyen" {
        "can_bo_tiep"
    } else {
        "can_bo"
    };
    let chosen = match typed.chosen.as_str() {
        "" => None,
        id => {
            let found = match uuid::Uuid::parse_str(id).ok().map(AccountId) {
                Some(id) => state.store.accounts.get(id).await?,
                None => None,
            };
            if found.is_none() {
                return Ok(refused("Cán bộ được chọn không tồn tại", picked_field));
            }
            found
        }
    };
    let case = dossier_case(state, dossier).await?;
    let workflow = followed_workflow(state, dossier, case.as_ref(), open.workflow_version).await?;
    let index = open.index as usize;
    let cal = crate::desk::reception::calendar(state).await?;
    let now = OffsetDateTime::now_utc();
    let by = actor(officer);
    let note = &typed.note;
    // the same step, held by someone else: its due time stays (the quota runs from when the unit got it)
    let reassigned = |to: &Account| {
        open_step(
            &cal,
            dossier,
            &workflow,
            open.workflow_version,
            index,
            Some(to),
            &by,
            now,
        )
        .map(|mut s| {
            s.due_at = open.due_at;
            s
        })
    };
    let movable = may_move(state, officer, open);
    let change = match typed.viec.as_str() {
        "nhan" => {
            if open.assignee.is_some() || !holds(state, officer, open.role, &open.agency) {
                return Ok(Plan::Forbidden);
            }
            StepChange {
                end: Some(end(open, &by, StepOutcome::Assigned, None, now)),
                next: reassigned(officer),
                ..Default::default()
            }
        }
        "giao" => {
            if !movable {
                return Ok(Plan::Forbidden);
            }
            match &chosen {
                None => return Ok(refused("Chọn cán bộ nhận hồ sơ", "can_bo")),
                Some(a) if Some(a.id) == open.assignee => {
                    return Ok(refused("Hồ sơ đang do chính cán bộ này xử lý", "can_bo"));
                }
                Some(a) if !holds(state, a, open.role, &open.agency) => {
                    return Ok(refused(
                        "Cán bộ được chọn không có vai trò của bước này tại đơn vị",
                        "can_bo",
                    ));
                }
                Some(a) => StepChange {
                    end: Some(end(open, &by, StepOutcome::Assigned, some(note), now)),
                    next: reassigned(a),
                    ..Default::default()
                },
            }
        }
        "chuyen" => {
            if !movable {
                return Ok(Plan::Forbidden);
            }
            let Some(next) = workflow.steps.get(index + 1) else {
                return Ok(refused(
                    "Đây là bước cuối: lãnh đạo phê duyệt để kết thúc xử lý",
                    "buoc-xu-ly",
                ));
            };
            let agency = next
                .agency
                .clone()
                .unwrap_or_else(|| dossier.code.agency().clone());
            if chosen
                .as_ref()
                .is_some_and(|a| !holds(state, a, next.role, &agency))
            {
                return Ok(refused(
                    "Cán bộ được chọn không có vai trò của bước tiếp theo",
                    "can_bo_tiep",
                ));
            }
            StepChange {
                end: Some(end(open, &by, StepOutcome::Forwarded, some(note), now)),
                next: open_step(
                    &cal,
                    dossier,
                    &workflow,
                    open.workflow_version,
                    index + 1,
                    chosen.as_ref(),
                    &by,
                    now,
                ),
                ..Default::default()
            }
        }
        "tra" => {
            if !movable {
                return Ok(Plan::Forbidden);
            }
            if index == 0 {
                return Ok(refused(
                    "Đây là bước đầu tiên: không có bước trước để trả lại",
                    "buoc-xu-ly",
                ));
            }
            if note.chars().count() < 10 {
                return Ok(refused(
                    "Ghi rõ lý do trả lại (ít nhất 10 ký tự) để bước trước biết cần làm gì",
                    "ly_do_buoc",
                ));
            }
            // back to whoever last held the previous step, if they still may hold it
            let previous = steps.iter().rev().find(|s| s.index as usize == index - 1);
            let previous_holder = match previous.and_then(|s| s.assignee) {
                Some(id) => state.store.accounts.get(id).await?,
                None => None,
            }
            .filter(|a| previous.is_some_and(|p| holds(state, a, p.role, &p.agency)));
            StepChange {
                end: Some(end(open, &by, StepOutcome::Returned, some(note), now)),
                next: open_step(
                    &cal,
                    dossier,
                    &workflow,
                    open.workflow_version,
                    index - 1,
                    previous_holder.as_ref(),
                    &by,
                    now,
                ),
                ..Default::default()
            }
        }
        _ => return Ok(refused("Chọn một việc với bước xử lý", "buoc-xu-ly")),
    };
    Ok(Plan::Change(Box::new(change)))
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

const MOVED: &str = "Bước xử lý vừa được cán bộ khác chuyển hoặc giao. Trang đã được cập nhật.";

fn some(note: &str) -> Option<String> {
    (!note.is_empty()).then(|| note.to_string())
}

fn end(
    open: &StepRecord,
    by: &str,
    outcome: StepOutcome,
    note: Option<String>,
    at: OffsetDateTime,
) -> EndStep {
    EndStep {
        seq: open.seq,
        at,
        by: by.to_string(),
        outcome,
        note,
    }
}

/// The step change that goes with a status change made on the dossier page: processing opens the first step
/// when none is open; leaving a pause moves the open step's due time by the pause; approval ends the last step,
/// by its holder or the unit's lead (refused before processing and while earlier steps remain); stopping or
/// withdrawing closes the open step.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn with_transition(
    state: &AppState,
    cal: &WorkCalendar,
    officer: &Account,
    dossier: &Dossier,
    case: Option<&ProcedureCase>,
    to: DossierStatus,
    pause_since: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<Result<StepChange, &'static str>, AppError> {
    let steps = state.store.workflows.steps(dossier.id).await?;
    let open = steps.iter().find(|s| s.ended_at.is_none());
    let by = actor(officer);
    let mut change = StepChange {
        dossier: Some(dossier.id),
        ..Default::default()
    };
    match (open, to) {
        (None, DossierStatus::Processed) => {
            return Ok(Err(
                "Hồ sơ chưa vào quy trình xử lý: chuyển xử lý và chuyển đến bước phê duyệt cuối cùng trước",
            ));
        }
        (None, DossierStatus::Processing) => {
            let (version, workflow) = starting_workflow(state, dossier, case).await?;
            // the officer who starts processing takes the first step when it is theirs to hold
            let first = workflow.steps.first();
            let take = first.is_some_and(|s| {
                let agency = s
                    .agency
                    .clone()
                    .unwrap_or_else(|| dossier.code.agency().clone());
                holds(state, officer, s.role, &agency)
            });
            change.next = open_step(
                cal,
                dossier,
                &workflow,
                version,
                0,
                take.then_some(officer),
                &by,
                now,
            );
        }
        (Some(open), DossierStatus::Processing) => {
            if let Some(since) = pause_since {
                change.extend = Some((open.seq, cal.extend_for_pause(open.due_at, since, now)));
            }
        }
        (Some(open), DossierStatus::Processed) => {
            let workflow = followed_workflow(state, dossier, case, open.workflow_version).await?;
            if (open.index as usize) + 1 < workflow.steps.len() {
                return Ok(Err(
                    "Hồ sơ chưa qua hết các bước của quy trình: chuyển đến bước phê duyệt cuối cùng trước",
                ));
            }
            if !may_move(state, officer, open) {
                return Ok(Err(
                    "Bước phê duyệt đang do cán bộ khác giữ: chỉ người giữ bước (hoặc lãnh đạo đơn vị) phê duyệt",
                ));
            }
            change.end = Some(end(open, &by, StepOutcome::Approved, None, now));
        }
        (Some(open), to) if to.clock() == motcua_domain::ClockState::Stopped => {
            change.end = Some(end(open, &by, StepOutcome::Closed, None, now));
        }
        _ => {}
    }
    if to == DossierStatus::Processed && state.store.workflows.result(dossier.id).await?.is_none() {
        return Ok(Err(
            "Nhập kết quả giải quyết (số văn bản, người ký, ngày ký) trước khi phê duyệt",
        ));
    }
    if let Some(next) = &change.next {
        change.emails = step_emails(state, Some(officer.id), next).await?;
    }
    Ok(Ok(change))
}

/// The step change when the applicant's supplement resumes processing: the open step's due time moves by the
/// pause, or (the supplement was asked for at reception) the workflow starts with its first step open to the unit.
pub(crate) async fn after_supplement(
    state: &AppState,
    dossier: &Dossier,
    paused_since: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<StepChange, AppError> {
    let cal = crate::desk::reception::calendar(state).await?;
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
        &cal,
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

/// Whether a result may be entered or corrected: from reception until it is handed over.
pub(crate) fn result_open(status: DossierStatus) -> bool {
    matches!(
        status,
        DossierStatus::Received
            | DossierStatus::Processing
            | DossierStatus::AwaitingFinancialObligation
            | DossierStatus::Processed
    )
}

/// The result entry: number, signer, date and (optionally) the file of the document issued.
pub(crate) async fn enter_result(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let (officer, dossier, details, rights) =
        match crate::desk::reception::for_office(&state, &viewer, &code).await? {
            Ok(x) => x,
            Err(r) => return Ok(r),
        };
    let path = format!("/can-bo/ho-so/{code}");
    if !rights.process()
        && let Err(resp) = guard::require(
            &state,
            &viewer,
            Action::ProcessDossiers(dossier.code.agency()),
            &path,
        )
        .await
    {
        return Ok(resp);
    }
    let mut number = String::new();
    let mut signer = String::new();
    let mut date = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut errors: Vec<(String, String)> = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => {
                errors.push((
                    "tep_ket_qua".into(),
                    "Gửi biểu mẫu bị gián đoạn. Hãy chọn lại tệp và thử lại.".into(),
                ));
                break;
            }
        };
        match field.name() {
            Some("so") => number = crate::input::multipart_text(field).await,
            Some("nguoi_ky") => signer = crate::input::multipart_text(field).await,
            Some("ngay_ky") => date = crate::input::multipart_text(field).await,
            Some("tep") => {
                let name = field.file_name().unwrap_or("").to_string();
                if name.is_empty() {
                    continue;
                }
                match crate::citizen::apply::read_limited(
                    field,
                    state.uploads.max_file_bytes,
                    &name,
                )
                .await
                {
                    Ok(bytes) if !bytes.is_empty() => file = Some((name, bytes)),
                    Ok(_) => errors.push((
                        "tep_ket_qua".into(),
                        upload::FileRefusal::Empty(name).to_string(),
                    )),
                    Err(refusal) => errors.push(("tep_ket_qua".into(), refusal.to_string())),
                }
            }
            _ => {}
        }
    }
    let today = vntime::vn_date(OffsetDateTime::now_utc());
    let checked = motcua_domain::workflow::check_result(
        &number,
        &signer,
        motcua_domain::form::parse_date(&date),
        today,
    );
    if !result_open(dossier.status) {
        errors.push((
            "ho-so".into(),
            format!(
                "Không nhập kết quả khi hồ sơ ở trạng thái \u{201c}{}\u{201d}",
                dossier.status.label_vi()
            ),
        ));
    }
    if let Err(field_errors) = &checked {
        errors.extend(
            field_errors
                .iter()
                .map(|(f, m)| (format!("{f}_ket_qua"), m.clone())),
        );
    }
    // the file is kept only when everything else is right
    let mut stored = None;
    if errors.is_empty()
        && let Some((name, bytes)) = file
    {
        match crate::citizen::apply::store_checked(
            &state,
            &name,
            bytes,
            &format!("ket-qua/{}", dossier.id),
        )
        .await?
        {
            Ok(f) => stored = Some(f),
            Err(message) => errors.push(("tep_ket_qua".into(), message)),
        }
    }
    let (number, signer, signed_on) = match checked {
        Ok(x) if errors.is_empty() => x,
        _ => {
            let typed = crate::desk::reception::ResultTyped {
                number,
                signer,
                date,
            };
            return crate::desk::reception::rerender(
                &state,
                layout,
                dossier,
                details,
                rights,
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
                crate::desk::reception::Kept::Result(typed),
                None,
            )
            .await;
        }
    };
    let stored = stored.map(|f| ResultFile {
        object_key: f.key,
        file_name: f.file_name,
        file_type: f.kind.mime().to_string(),
        size: f.size,
        sha256: f.sha256,
    });
    state
        .store
        .workflows
        .save_result(&DossierResult {
            dossier: dossier.id,
            document_number: number,
            signer,
            signed_on,
            file: stored,
            entered_by: actor(&officer),
            entered_at: OffsetDateTime::now_utc(),
        })
        .await?;
    Ok(Redirect::to(&format!("{path}#ket-qua")).into_response())
}

/// The result file, for officers of the dossier and (once processed) its applicant.
pub(crate) async fn send_result_file(
    state: &AppState,
    dossier: &Dossier,
) -> Result<Response, AppError> {
    let Some(file) = state
        .store
        .workflows
        .result(dossier.id)
        .await?
        .and_then(|r| r.file)
    else {
        return Ok(crate::portal::pages::not_found().await);
    };
    crate::citizen::apply::serve_stored(state, &file.object_key, &file.file_name, &file.file_type)
        .await
}

pub(crate) async fn result_file_for_officer(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    match crate::desk::reception::office_dossier(&state, &viewer, &code).await? {
        Ok(dossier) => send_result_file(&state, &dossier).await,
        Err(r) => Ok(r),
    }
}

pub(crate) async fn result_file_for_citizen(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    match crate::citizen::tracking::owned_dossier(&state, &viewer, &code).await? {
        Ok(dossier)
            if matches!(
                dossier.status,
                DossierStatus::Processed | DossierStatus::ResultDelivered
            ) =>
        {
            send_result_file(&state, &dossier).await
        }
        Ok(_) => Ok(crate::portal::pages::not_found().await),
        Err(r) => Ok(r),
    }
}

/// The result as shown to officers and to the applicant.
pub(crate) struct ResultView {
    pub number: String,
    pub signer: String,
    pub signed_on: String,
    /// (file name, address, size)
    pub file: Option<(String, String, String)>,
    pub entered_by: String,
}

pub(crate) fn result_view(result: &DossierResult, file_href: &str) -> ResultView {
    ResultView {
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
