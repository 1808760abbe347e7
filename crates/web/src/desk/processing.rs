//! Processing after reception: the dossier follows its case's workflow step by step (each step with its unit, role
//! and quota in working hours). An officer takes a step, the head of unit assigns or transfers it, the holder
//! forwards it to the next step or returns it to the previous one with a reason; steps at another agency put the
//! dossier in that agency's inbox. Every hand-off is one row of the control sheet (slip 06), committed with the
//! e-mail to the officer who receives it. The result (document number, signer, date, file) is entered before the
//! leader approves.

use crate::dossiers::dossier_case;
use crate::input::Form;
use crate::steps::{
    actor, followed_workflow, holds, may_move, open_step, starting_workflow, step_emails,
};
use axum::{
    extract::{Multipart, Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use time::OffsetDateTime;

use motcua_calendar::WorkCalendar;
use motcua_domain::desk::DeskRight;
use motcua_domain::{
    Account, AccountId, Dossier, DossierStatus, ProcedureCase,
    desk::{StepTask, result_open},
    upload, vntime,
    workflow::{DossierResult, EndStep, ResultFile, StepChange, StepOutcome, StepRecord},
};
use motcua_store::StoreError;

use crate::{AppError, AppState, guard, layout::Layout, viewer::Viewer};

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
        match crate::dossiers::for_office(&state, &viewer, &code).await? {
            Ok(x) => x,
            Err(r) => return Ok(r),
        };
    let note = motcua_domain::text::normalize(&posted.ly_do);
    let task = StepTask::parse(&posted.viec);
    let typed = crate::desk::page::StepTyped {
        // the officer picked: for the next step when forwarding, for this step when assigning
        chosen: if task == Some(StepTask::Forward) {
            posted.can_bo_tiep.trim().to_string()
        } else {
            posted.can_bo.trim().to_string()
        },
        task,
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
                        return Ok(
                            Redirect::to(&crate::desk::page::after_action(&dossier.code))
                                .into_response(),
                        );
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
    crate::desk::page::rerender(
        &state,
        layout,
        dossier,
        details,
        rights,
        status,
        errors,
        crate::desk::page::Kept::Step(typed),
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
    typed: &crate::desk::page::StepTyped,
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
    let Some(task) = typed.task else {
        return Ok(refused("Chọn một việc với bước xử lý", "buoc-xu-ly"));
    };
    let picked_field = if task == StepTask::Forward {
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
    let cal = crate::dossiers::calendar(state).await?;
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
    let change = match task {
        StepTask::Take => {
            if open.assignee.is_some() || !holds(state, officer, open.role, &open.agency) {
                return Ok(Plan::Forbidden);
            }
            StepChange {
                end: Some(end(open, &by, StepOutcome::Assigned, None, now)),
                next: reassigned(officer),
                ..Default::default()
            }
        }
        StepTask::Assign => {
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
        StepTask::Forward => {
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
        StepTask::Return => {
            if !movable {
                return Ok(Plan::Forbidden);
            }
            if index == 0 {
                return Ok(refused(
                    "Đây là bước đầu tiên: không có bước trước để trả lại",
                    "buoc-xu-ly",
                ));
            }
            if !motcua_domain::dossier::is_reason(note) {
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
    };
    Ok(Plan::Change(Box::new(change)))
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

/// The result entry: number, signer, date and (optionally) the file of the document issued.
pub(crate) async fn enter_result(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let (officer, dossier, details, rights) =
        match crate::dossiers::for_office_with(&state, &viewer, &code, DeskRight::Process).await? {
            Ok(x) => x,
            Err(r) => return Ok(r),
        };
    let path = format!("/can-bo/ho-so/{code}");
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
                match crate::files::read_limited(field, state.uploads.max_file_bytes, &name).await {
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
    // a level-4 result file is signed by the issuing agency: its key must be there before anything is kept
    let sealer = if file.is_some()
        && state.catalogue.view().level_of(
            dossier.procedure.as_str(),
            &dossier.case,
            &dossier.agency,
        ) == Some(motcua_domain::OnlineServiceLevel::Level4)
    {
        match crate::seals::agency_key(&state, &dossier.agency) {
            Ok(key) => Some(key),
            Err(message) => {
                errors.push(("tep_ket_qua".into(), message));
                None
            }
        }
    } else {
        None
    };
    // the file is kept only when everything else is right
    let mut stored = None;
    if errors.is_empty()
        && let Some((name, bytes)) = file
    {
        let copy = sealer.as_ref().map(|_| bytes.clone());
        match crate::files::store_checked(&state, &name, bytes, &format!("ket-qua/{}", dossier.id))
            .await?
        {
            Ok(f) => {
                let seal = match (&sealer, copy) {
                    (Some(key), Some(bytes)) => {
                        match crate::seals::seal(&state, key, &f.key, &bytes).await? {
                            Ok(seal) => Some(seal),
                            Err(message) => {
                                errors.push(("tep_ket_qua".into(), message));
                                None
                            }
                        }
                    }
                    _ => None,
                };
                stored = Some((f, seal));
            }
            Err(message) => errors.push(("tep_ket_qua".into(), message)),
        }
    }
    let (number, signer, signed_on) = match checked {
        Ok(x) if errors.is_empty() => x,
        _ => {
            let typed = crate::desk::page::ResultTyped {
                number,
                signer,
                date,
            };
            return crate::desk::page::rerender(
                &state,
                layout,
                dossier,
                details,
                rights,
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
                crate::desk::page::Kept::Result(typed),
                None,
            )
            .await;
        }
    };
    let stored = stored.map(|(f, seal)| ResultFile {
        object_key: f.key,
        file_name: f.file_name,
        file_type: f.kind.mime().to_string(),
        size: f.size,
        sha256: f.sha256,
        seal,
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
        return Ok(crate::error::not_found().await);
    };
    crate::files::serve_stored(state, &file.object_key, &file.file_name, &file.file_type).await
}

pub(crate) async fn result_file_for_officer(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    match crate::dossiers::office_dossier(&state, &viewer, &code).await? {
        Ok(dossier) => send_result_file(&state, &dossier).await,
        Err(r) => Ok(r),
    }
}

pub(crate) async fn result_file_for_citizen(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    match crate::dossiers::owned_dossier(&state, &viewer, &code).await? {
        Ok(dossier)
            if matches!(
                dossier.status,
                DossierStatus::Processed | DossierStatus::ResultDelivered
            ) =>
        {
            send_result_file(&state, &dossier).await
        }
        Ok(_) => Ok(crate::error::not_found().await),
        Err(r) => Ok(r),
    }
}
