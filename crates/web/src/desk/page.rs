//! The officer's page of one dossier: its answers, files, timeline, steps and result, with the changes the
//! viewer may make; every desk action that refuses re-renders it with what was typed.

use crate::dossiers::{Rights, calendar, for_office};
use crate::steps::{candidates, followed_workflow, holds, may_move};
use crate::{
    AppError, AppState, answers::AnswerSection, answers::answer_sections, error::not_found,
    files::serve_file, layout::Layout, viewer::Viewer,
};
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use motcua_calendar::WorkCalendar;
use motcua_domain::workflow::StepRecord;
use motcua_domain::{
    Account, Dossier, DossierStatus, ProcedureCase, desk,
    form::FormDefinition,
    submission::{OnlineDetails, UploadId},
    vntime,
};
use time::{Duration, OffsetDateTime};

/// Online dossiers must be received or answered within one working day.
pub(crate) const RECEPTION_TIME: Duration = Duration::hours(8);

/// (time, status, actor, reason, timeliness tag (class, label)).
type TimelineRow = (
    String,
    &'static str,
    String,
    Option<String>,
    Option<(&'static str, &'static str)>,
);

pub(crate) struct OfficerFile {
    component: String,
    name: String,
    size: String,
    href: String,
    /// A photo or scan shown as an image; a PDF is shown in a frame by the browser's viewer.
    image: bool,
}

/// A decision that cannot be undone, asked once more before it is made: the form that makes it.
pub(crate) struct Confirm {
    pub action: String,
    /// The control and value that name the decision (`hanh_dong=tu_choi`, `den=stopped`).
    pub field: &'static str,
    pub value: String,
    pub question: String,
    pub yes: &'static str,
    pub reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "reception_dossier.html")]
pub(crate) struct DossierPage {
    /// Set when a decision that cannot be undone waits for its confirmation.
    pub confirm: Option<Confirm>,
    /// After the officer's action (`?xong`): what happened and what comes next.
    done: Option<crate::desk::done::Done>,
    layout: Layout,
    code: String,
    procedure: String,
    case: String,
    channel: &'static str,
    status: &'static str,
    submitted_at: String,
    reception_deadline: String,
    due: Option<String>,
    proposed_due: Option<String>,
    time_limit: Option<String>,
    applicant: String,
    phone: String,
    on_behalf: bool,
    sections: Vec<AnswerSection>,
    files: Vec<OfficerFile>,
    /// Papers received at the counter: (component, "1 bản chính, 2 bản sao").
    paper: Vec<(String, String)>,
    counter_note: String,
    components: Vec<(usize, String)>,
    events: Vec<TimelineRow>,
    can_answer: bool,
    /// Submitted with a fee due at submission still unpaid: not yet to be received.
    awaiting_fee: bool,
    /// The head of unit may apologise with a new date; `late_soon` when less than a working day is left.
    can_apologise: bool,
    late_soon: bool,
    /// A drafted new date for the apology: 5 working days after the current due time, to be edited.
    proposed_new_date: String,
    slips: Vec<(&'static str, &'static str)>,
    /// The control sheet: every holding of a workflow step.
    steps: Vec<crate::steps::StepView>,
    /// The open step and what the viewer may do with it.
    step: Option<crate::desk::page::StepActions>,
    result: Option<crate::steps::ResultView>,
    can_enter_result: bool,
    /// What was typed in the result form (kept when it is refused).
    typed: ResultTyped,
    /// What was typed in a step form (kept when it is refused).
    step_typed: StepTyped,
    /// Later changes the viewer may make: (target status, label, whether a reason is required).
    actions: Vec<(&'static str, &'static str, bool)>,
    /// Handing the result over is one of them: ask how.
    delivering: bool,
    /// Asking for a financial obligation is one of them: ask how much.
    charging: bool,
    /// The change picked and the fee typed in the form (kept when it is refused).
    pub(crate) chosen: String,
    pub(crate) amount: String,
    /// The counter payment form as typed (kept when it is refused).
    pub(crate) receipt: String,
    pub(crate) counter_method: String,
    /// The desk may record a fee paid at the counter.
    can_take_fee: bool,
    /// Fees set and payments made.
    money: crate::payments::MoneyView,
    /// Delivery of the result by post, when the applicant asked for it, and the forms the desk may use now.
    delivery: Option<crate::postal::DeliveryView>,
    post_forms: &'static [&'static str],
    pub(crate) post_typed: PostTyped,
    /// The applicant's rating, once given: (level, comment).
    rating: Option<(&'static str, Option<String>)>,
    errors: Vec<(String, String)>,
    reason: String,
    notice: Option<&'static str>,
}

/// The result form as typed.
#[derive(Debug, Clone, Default)]
pub(crate) struct ResultTyped {
    pub number: String,
    pub signer: String,
    pub date: String,
}

/// What was typed in one of the step forms (kept when it is refused, in that form only).
#[derive(Debug, Clone, Default)]
pub(crate) struct StepTyped {
    /// Which form.
    pub task: Option<desk::StepTask>,
    pub note: String,
    /// The officer picked.
    pub chosen: String,
}

impl StepTyped {
    /// Whether this was typed in the form of `code` (a [`desk::StepTask`] code).
    pub fn in_form(&self, code: &str) -> bool {
        self.task.is_some_and(|t| t.code() == code)
    }
}

/// What was typed in a form of the dossier page that was refused, to show in that form again.
pub(crate) enum Kept {
    Step(StepTyped),
    Result(ResultTyped),
    Post(PostTyped),
}

/// What was typed in a form of the delivery by post.
#[derive(Debug, Clone, Default)]
pub(crate) struct PostTyped {
    pub tracking: String,
    pub reason: String,
}

/// The dossier page again after a refused step action or result, with errors or a notice, answered with
/// `status`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn rerender(
    state: &AppState,
    layout: Layout,
    dossier: Dossier,
    details: OnlineDetails,
    rights: Rights,
    status: StatusCode,
    errors: Vec<(String, String)>,
    kept: Kept,
    notice: Option<&'static str>,
) -> Result<Response, AppError> {
    let mut page = render(
        state,
        layout,
        dossier,
        details,
        rights,
        errors,
        String::new(),
        notice,
    )
    .await?;
    match kept {
        Kept::Step(typed) => page.step_typed = typed,
        Kept::Result(typed) => page.typed = typed,
        Kept::Post(typed) => page.post_typed = typed,
    }
    Ok((status, page).into_response())
}

pub(crate) use crate::dossiers::{case_of, limit_of};

#[allow(clippy::too_many_arguments)]
pub(crate) async fn render(
    state: &AppState,
    layout: Layout,
    dossier: Dossier,
    details: OnlineDetails,
    rights: Rights,
    errors: Vec<(String, String)>,
    reason: String,
    notice: Option<&'static str>,
) -> Result<DossierPage, AppError> {
    let procedure = state
        .store
        .catalogue
        .get_procedure_version(&dossier.procedure, dossier.procedure_version)
        .await?;
    let case = case_of(&procedure, &dossier);
    let form = FormDefinition::for_case(case.as_ref().and_then(|c| c.form.as_ref()));
    let cal = calendar(state).await?;
    let events = state.store.dossiers.history(dossier.id).await?;
    let names = crate::dossiers::actor_names(state, &events).await?;
    let files = state
        .store
        .submissions
        .uploads_for_dossier(dossier.id)
        .await?
        .into_iter()
        .map(|u| OfficerFile {
            component: case
                .as_ref()
                .and_then(|c| c.components.get(usize::from(u.component)))
                .map(|c| c.name.to_string())
                .unwrap_or_default(),
            name: u.file_name.clone(),
            size: motcua_domain::upload::format_size(u.size),
            href: format!("/can-bo/ho-so/{}/tep/{}", dossier.code, u.id),
            image: u.file_type != motcua_domain::upload::FileType::Pdf,
        })
        .collect();
    // what the counter received on paper, and its note
    let paper = motcua_domain::submission::Received::in_answers(&details.answers)
        .into_iter()
        .map(|r| {
            let name = case
                .as_ref()
                .and_then(|c| c.components.get(r.component))
                .map(|c| c.name.to_string())
                .unwrap_or_default();
            let mut counts = Vec::new();
            for (n, what) in [
                (r.originals, "bản chính"),
                (r.certified, "bản sao chứng thực"),
                (r.copies, "bản sao"),
            ] {
                if n > 0 {
                    counts.push(format!("{n} {what}"));
                }
            }
            (name, counts.join(", "))
        })
        .collect();
    let counter_note =
        motcua_domain::form::first(&details.answers, motcua_domain::submission::COUNTER_NOTE)
            .to_string();
    let limit = case.as_ref().and_then(|c| limit_of(c, dossier.channel));
    let now = OffsetDateTime::now_utc();
    let steps = state.store.workflows.steps(dossier.id).await?;
    let officer = match rights.officer {
        Some(id) => state.store.accounts.get(id).await?,
        None => None,
    };
    let step = match &officer {
        Some(o) => {
            crate::desk::page::step_actions(state, o, &dossier, case.as_ref(), &steps).await?
        }
        None => None,
    };
    // approval ends the workflow's last step: offered only there
    let at_last = step.as_ref().is_some_and(|s| s.last);
    let delivery = crate::postal::delivery_view(state, &dossier).await?;
    let post_forms = match &delivery {
        Some(d) if rights.receive => crate::postal::desk_forms(d.stage),
        _ => &[],
    };
    let result = state.store.workflows.result(dossier.id).await?.map(|r| {
        crate::steps::result_view(
            state,
            &r,
            &format!("/can-bo/ho-so/{}/ket-qua", dossier.code),
        )
    });
    let money = crate::payments::money_view(state, &dossier).await?;
    // a fee due with the submission is paid before reception
    let awaiting_fee = dossier.status == DossierStatus::Submitted && money.owed.is_some();
    Ok(DossierPage {
        confirm: None,
        done: None,
        layout,
        code: dossier.code.to_string(),
        procedure: procedure
            .as_ref()
            .map(|p| p.name.to_string())
            .unwrap_or_default(),
        case: case
            .as_ref()
            .map(|c| c.name.to_string())
            .unwrap_or_default(),
        channel: dossier.channel.label_vi(),
        status: dossier.status.label_vi(),
        submitted_at: vntime::format_datetime(dossier.created_at),
        reception_deadline: vntime::format_datetime(cal.add(dossier.updated_at, RECEPTION_TIME)),
        due: dossier.due_at.map(vntime::format_datetime),
        proposed_due: limit
            .as_ref()
            .map(|(l, cutoff, _)| vntime::format_datetime(cal.due(now, *l, *cutoff))),
        time_limit: limit.map(|(_, _, text)| text),
        applicant: dossier.applicant_name.to_string(),
        phone: details.applicant_phone.clone().unwrap_or_default(),
        on_behalf: details.on_behalf,
        sections: answer_sections(&form, &details.answers, None),
        files,
        paper,
        counter_note,
        components: case
            .as_ref()
            .map(|c| {
                c.components
                    .iter()
                    .enumerate()
                    .map(|(i, x)| (i, x.name.to_string()))
                    .collect()
            })
            .unwrap_or_default(),
        events: timeliness(&cal, &events)
            .into_iter()
            .zip(&events)
            .map(|(tag, e)| {
                (
                    vntime::format_datetime(e.at),
                    e.to.label_vi(),
                    names
                        .get(&e.actor)
                        .cloned()
                        .unwrap_or_else(|| e.actor.clone()),
                    e.reason.clone(),
                    tag,
                )
            })
            .collect(),
        can_answer: dossier.status == DossierStatus::Submitted && rights.receive && !awaiting_fee,
        awaiting_fee,
        can_apologise: rights.approve
            && dossier.due_at.is_some()
            && dossier.status.clock() == motcua_domain::ClockState::Running,
        late_soon: dossier.status.clock() == motcua_domain::ClockState::Running
            && dossier
                .due_at
                .is_some_and(|due| due < now || cal.between(now, due) < Duration::hours(8)),
        // five working days after the appointment, or after now for an overdue dossier (the form refuses a day
        // that is not after both)
        proposed_new_date: dossier
            .due_at
            .map(|due| {
                motcua_calendar::dmy(vntime::vn_date(
                    cal.add(due.max(now), Duration::hours(5 * 8)),
                ))
            })
            .unwrap_or_default(),
        slips: crate::slips::available(&events, !steps.is_empty()),
        steps: crate::steps::step_views(state, &cal, &steps),
        step,
        result,
        can_enter_result: rights.process && desk::result_open(dossier.status),
        typed: ResultTyped::default(),
        step_typed: StepTyped::default(),
        actions: next_actions(&dossier, &events, rights)
            .into_iter()
            .filter(|(to, _, _)| *to != DossierStatus::Processed || at_last)
            .map(|(to, label, reason)| (to.as_str(), label, reason))
            .collect(),
        delivering: next_actions(&dossier, &events, rights)
            .iter()
            .any(|(to, _, _)| *to == DossierStatus::ResultDelivered),
        charging: next_actions(&dossier, &events, rights)
            .iter()
            .any(|(to, _, _)| *to == DossierStatus::AwaitingFinancialObligation),
        chosen: String::new(),
        amount: String::new(),
        receipt: String::new(),
        counter_method: String::new(),
        can_take_fee: rights.receive,
        delivery,
        post_forms,
        post_typed: PostTyped::default(),
        money,
        rating: state
            .store
            .ratings
            .rating(dossier.id)
            .await?
            .map(|r| (r.level.label_vi(), r.comment)),
        errors,
        reason,
        notice,
    })
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct PageQuery {
    /// Present after the officer acted: the page says what happened and what comes next.
    #[serde(default)]
    xong: Option<String>,
}

/// The dossier's address after an officer acted on it (the page then says what happened).
pub(crate) fn after_action(code: &motcua_domain::DossierCode) -> String {
    format!("/can-bo/ho-so/{code}?xong=1")
}

pub(crate) async fn dossier_page(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
    q: Result<crate::input::Query<PageQuery>, crate::input::InputRejection>,
) -> Result<Response, AppError> {
    let (_, dossier, details, r) = match for_office(&state, &viewer, &code).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let done = match (q.ok().and_then(|q| q.0.xong), r.officer) {
        (Some(_), Some(officer)) => crate::desk::done::banner(&state, &dossier, officer).await?,
        _ => None,
    };
    let mut page = render(
        &state,
        layout,
        dossier,
        details,
        r,
        vec![],
        String::new(),
        None,
    )
    .await?;
    page.done = done;
    Ok(page.into_response())
}

pub(crate) async fn file(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((code, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (_, dossier, _, _) = match for_office(&state, &viewer, &code).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let Ok(file) = uuid::Uuid::parse_str(&file) else {
        return Ok(not_found().await);
    };
    match state.store.submissions.get_upload(UploadId(file)).await? {
        Some(u) if u.dossier == Some(dossier.id) => serve_file(&state, &u).await,
        _ => Ok(not_found().await),
    }
}

/// Whether each step ended in time: the reception answer against its deadline (1 working day after the dossier
/// arrived), the result (processed) against the due time then in force.
pub(crate) fn timeliness(
    cal: &WorkCalendar,
    events: &[motcua_domain::HistoryEvent],
) -> Vec<Option<(&'static str, &'static str)>> {
    use DossierStatus as S;
    let mut due: Option<OffsetDateTime> = None;
    let mut arrived: Option<OffsetDateTime> = None;
    events
        .iter()
        .map(|e| {
            let deadline = match (e.from, e.to) {
                (Some(S::Submitted), S::Received | S::SupplementRequested | S::Refused) => {
                    arrived.map(|a| cal.add(a, RECEPTION_TIME))
                }
                (_, S::Processed) => due,
                _ => None,
            };
            if e.to == S::Submitted {
                arrived = Some(e.at);
            }
            if let Some(d) = e.due_at {
                due = Some(d);
            }
            deadline.map(|d| crate::steps::timeliness_tag(cal, e.at, d))
        })
        .collect()
}

/// The later changes of the state table this viewer may make: (target, label, whether a reason is required).
pub(crate) fn next_actions(
    dossier: &Dossier,
    events: &[motcua_domain::HistoryEvent],
    rights: Rights,
) -> Vec<(DossierStatus, &'static str, bool)> {
    desk::later_changes(dossier.status, asked_before(events))
        .into_iter()
        .filter(|c| rights.holds(c.right))
        .map(|c| (c.to, c.label, c.needs_reason))
        .collect()
}

/// Whether a supplement was requested before (a second request needs the head of unit).
pub(crate) fn asked_before(events: &[motcua_domain::HistoryEvent]) -> bool {
    events
        .iter()
        .any(|e| e.to == DossierStatus::SupplementRequested)
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

pub(crate) fn who(list: &[Account]) -> Vec<(String, String)> {
    list.iter()
        .map(|a| (a.id.to_string(), a.full_name.to_string()))
        .collect()
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
