//! The one-stop desk: the queue of online dossiers waiting for reception (1 working day each), the officers' inbox
//! sorted by due time, the officer's view of a dossier, the three reception answers — accept with an appointment
//! computed in working time, ask for everything missing at once, or refuse with a reason — and the later
//! changes of the state table (processing, pauses that move the due time, approval, delivery, stop, withdrawal),
//! each allowed to the roles the policy names. Every change is one transition with the applicant's e-mail in the
//! same commit.

use crate::desk::page::{asked_before, render};
use crate::dossiers::{calendar, for_office};
use crate::input::Form;
use crate::receiving::{self, Refusal};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use time::OffsetDateTime;

use motcua_domain::desk::DeskRight;
use motcua_domain::{
    ClockState, DossierStatus, Transition, desk,
    form::{self},
    payment::Charge,
    submission::OutgoingEmail,
    vntime,
};
use motcua_store::StoreError;

use crate::{AppError, AppState, guard, layout::Layout, viewer::Viewer};

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct AnswerForm {
    #[serde(default)]
    hanh_dong: String,
    #[serde(default)]
    ly_do: String,
    /// `co` once the officer confirmed a refusal.
    #[serde(default)]
    xac_nhan: String,
}

/// Accept, ask for a supplement, or refuse.
pub(crate) async fn answer(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
    Form(posted): Form<AnswerForm>,
) -> Result<Response, AppError> {
    let (officer, dossier, details, r) =
        match crate::dossiers::for_office_with(&state, &viewer, &code, DeskRight::Receive).await? {
            Ok(x) => x,
            Err(r) => return Ok(r),
        };
    let reason = motcua_domain::text::normalize(&posted.ly_do);
    let now = OffsetDateTime::now_utc();
    let actor = format!("{} ({})", officer.full_name, officer.id);
    // (a dossier no longer waiting is answered with the page read afresh, below)
    let refused = |refusal: Refusal| -> (StatusCode, Vec<(String, String)>) {
        match refusal {
            Refusal::NeedsReason(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                vec![("ly_do".into(), refusal.message().into())],
            ),
            _ => (
                StatusCode::CONFLICT,
                vec![("hanh-dong".into(), refusal.message().into())],
            ),
        }
    };
    let Some(answer) = desk::ReceptionAnswer::parse(&posted.hanh_dong) else {
        let errors = vec![(
            "hanh-dong".into(),
            "Chọn tiếp nhận, yêu cầu bổ sung hoặc từ chối".into(),
        )];
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&state, layout, dossier, details, r, errors, reason, None).await?,
        )
            .into_response());
    };
    let prepared =
        match receiving::prepare(&state, &dossier, &details, answer, &reason, actor, now).await? {
            Ok(prepared) => prepared,
            Err(Refusal::NotWaiting) => {
                let page = stale(&state, layout, dossier, details, r, reason).await?;
                return Ok((StatusCode::CONFLICT, page).into_response());
            }
            Err(refusal) => {
                let (status, errors) = refused(refusal);
                return Ok((
                    status,
                    render(&state, layout, dossier, details, r, errors, reason, None).await?,
                )
                    .into_response());
            }
        };
    // a refusal cannot be undone: asked once more, with the reason the citizen will read
    if answer == desk::ReceptionAnswer::Refuse && posted.xac_nhan != "co" {
        let mut page = render(
            &state,
            layout,
            dossier,
            details,
            r,
            vec![],
            reason.clone(),
            None,
        )
        .await?;
        page.confirm = Some(crate::desk::page::Confirm {
            action: format!("/can-bo/ho-so/{code}"),
            field: "hanh_dong",
            value: "tu_choi".into(),
            question: format!("Từ chối tiếp nhận hồ sơ {code}?"),
            yes: "Có, từ chối tiếp nhận",
            reason,
        });
        return Ok(page.into_response());
    }
    match receiving::commit(&state, &prepared).await? {
        // back to the queue, which says what was just done and offers the slip
        Ok(()) => Ok(Redirect::to(&crate::urls::with_query(
            "/can-bo/tiep-nhan",
            &[("vua_xu_ly", dossier.code.to_string())],
        ))
        .into_response()),
        Err(_) => Ok((
            StatusCode::CONFLICT,
            stale(&state, layout, dossier, details, r, reason).await?,
        )
            .into_response()),
    }
}

const NOT_NOW: &str = "Hồ sơ không còn chờ tiếp nhận (có thể cán bộ khác vừa xử lý hoặc công dân đã rút). Trang đã được cập nhật.";

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct MoveForm {
    #[serde(default)]
    den: String,
    /// The fee, with `den=awaiting_financial_obligation`.
    #[serde(default)]
    so_tien: String,
    #[serde(default)]
    ly_do: String,
    /// How the result is handed over (with `den=result_delivered`): tai_quay, buu_chinh or truc_tuyen.
    #[serde(default)]
    cach_tra: String,
    /// `co` once the officer confirmed stopping the dossier.
    #[serde(default)]
    xac_nhan: String,
}

/// The dossier page again after a refused later change, with what was typed in its form.
#[allow(clippy::too_many_arguments)]
async fn render_typed(
    state: &AppState,
    layout: crate::layout::Layout,
    dossier: motcua_domain::Dossier,
    details: motcua_domain::submission::OnlineDetails,
    r: crate::dossiers::Rights,
    errors: Vec<(String, String)>,
    reason: String,
    posted: &MoveForm,
) -> Result<crate::desk::page::DossierPage, AppError> {
    let mut page = render(state, layout, dossier, details, r, errors, reason, None).await?;
    keep_typed(&mut page, posted);
    Ok(page)
}

/// What was typed in the later-change form, shown again in it.
fn keep_typed(page: &mut crate::desk::page::DossierPage, posted: &MoveForm) {
    page.chosen = posted.den.clone();
    page.amount = posted.so_tien.clone();
}

/// The dossier page read afresh after someone else changed the dossier first (answered with 409).
pub(crate) async fn stale(
    state: &AppState,
    layout: crate::layout::Layout,
    dossier: motcua_domain::Dossier,
    details: motcua_domain::submission::OnlineDetails,
    r: crate::dossiers::Rights,
    reason: String,
) -> Result<crate::desk::page::DossierPage, AppError> {
    let fresh = state
        .store
        .dossiers
        .get(dossier.id)
        .await?
        .unwrap_or(dossier);
    render(
        state,
        layout,
        fresh,
        details,
        r,
        vec![],
        reason,
        Some(NOT_NOW),
    )
    .await
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
        desk::later_changes(dossier.status, asked_before(&events))
            .into_iter()
            .find(|c| c.to == to)
    });
    let Some(desk::LaterChange {
        to,
        needs_reason,
        right,
        ..
    }) = change
    else {
        let errors = vec![(
            "hanh-dong-sau".into(),
            "Chọn một việc có thể làm với hồ sơ ở trạng thái này".into(),
        )];
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render_typed(&state, layout, dossier, details, r, errors, reason, &posted).await?,
        )
            .into_response());
    };
    if !r.holds(right) {
        // allowed by the state table, not to this role: refused and audited by the policy
        let path = format!("/can-bo/ho-so/{code}");
        if let Err(resp) =
            guard::require(&state, &viewer, right.action(dossier.code.agency()), &path).await
        {
            return Ok(resp);
        }
    }
    // a financial obligation names its amount: the fee the applicant then pays (online or at the counter)
    let fee = if to == DossierStatus::AwaitingFinancialObligation {
        match motcua_domain::payment::parse_charge(&posted.so_tien) {
            Ok(amount) => Some(amount),
            Err(message) => {
                let errors = vec![("so_tien".to_string(), message.to_string())];
                return Ok((
                    StatusCode::UNPROCESSABLE_ENTITY,
                    render_typed(&state, layout, dossier, details, r, errors, reason, &posted)
                        .await?,
                )
                    .into_response());
            }
        }
    } else {
        None
    };
    // resuming by hand while a fee is unpaid is an exemption or a reduction: its legal ground is recorded
    let exempting = dossier.status == DossierStatus::AwaitingFinancialObligation
        && to == DossierStatus::Processing
        && crate::payments::owes(&state, &dossier).await?;
    if exempting && !motcua_domain::dossier::is_reason(&reason) {
        let errors = vec![(
            "ly_do_sau".into(),
            "Công dân chưa nộp phí, lệ phí: ghi căn cứ miễn, giảm (văn bản, điều khoản) để tiếp tục xử lý".into(),
        )];
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render_typed(&state, layout, dossier, details, r, errors, reason, &posted).await?,
        )
            .into_response());
    }
    if needs_reason && !motcua_domain::dossier::is_reason(&reason) {
        let errors = vec![(
            "ly_do_sau".into(),
            "Ghi rõ lý do (ít nhất 10 ký tự): pháp luật yêu cầu nêu lý do cho việc này".into(),
        )];
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render_typed(&state, layout, dossier, details, r, errors, reason, &posted).await?,
        )
            .into_response());
    }
    let now = OffsetDateTime::now_utc();
    let actor_name = format!("{} ({})", officer.full_name, officer.id);
    let Ok(mut t) = Transition::new(dossier.id, dossier.status, to, now, actor_name.clone()) else {
        let mut page = stale(&state, layout, dossier, details, r, reason).await?;
        keep_typed(&mut page, &posted);
        return Ok((StatusCode::CONFLICT, page).into_response());
    };
    // stopping, refusing and granting a withdrawal cannot be undone: asked once more, with the reason the citizen
    // will read
    let final_step = match to {
        DossierStatus::Stopped => Some(("Dừng giải quyết hồ sơ", "Có, dừng giải quyết")),
        DossierStatus::Refused => Some(("Từ chối giải quyết hồ sơ", "Có, từ chối giải quyết")),
        DossierStatus::Withdrawn => Some(("Đồng ý cho rút hồ sơ", "Có, đồng ý cho rút")),
        _ => None,
    };
    if let (Some((question, yes)), false) = (final_step, posted.xac_nhan == "co") {
        let mut page = render(
            &state,
            layout,
            dossier,
            details,
            r,
            vec![],
            reason.clone(),
            None,
        )
        .await?;
        page.confirm = Some(crate::desk::page::Confirm {
            action: format!("/can-bo/ho-so/{code}/chuyen"),
            field: "den",
            value: to.as_str().into(),
            question: format!("{question} {code}?"),
            yes,
            reason,
        });
        return Ok(page.into_response());
    }
    if to == DossierStatus::ResultDelivered {
        // who and when are the event's; how is its reason
        let Some(how) = delivery_label(&posted.cach_tra) else {
            let errors = vec![(
                "cach_tra".to_string(),
                "Chọn cách trả kết quả (tại quầy, qua bưu chính hoặc bản điện tử)".to_string(),
            )];
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render_typed(&state, layout, dossier, details, r, errors, reason, &posted).await?,
            )
                .into_response());
        };
        t = t.with_reason(if reason.is_empty() {
            how.to_string()
        } else {
            format!("{how}: {reason}")
        });
    } else if exempting {
        t = t.with_reason(format!(
            "Tiếp tục xử lý khi chưa nộp phí, lệ phí — căn cứ miễn, giảm: {reason}"
        ));
    } else if needs_reason || !reason.is_empty() {
        t = t.with_reason(reason.clone());
    }
    // leaving a pause: the working time it took is added to the due time (and to the open step's)
    let cal = calendar(&state).await?;
    let pause_since = (dossier.status.clock() == ClockState::Paused)
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
                render_typed(&state, layout, dossier, details, r, errors, reason, &posted).await?,
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
    change.charge = fee.map(|amount| Charge {
        id: uuid::Uuid::now_v7(),
        dossier: dossier.id,
        amount,
        reason: reason.clone(),
        set_by: actor_name.clone(),
        set_at: now,
        paid_at: None,
        waived: None,
    });
    change.waive = exempting.then(|| reason.clone());
    match state.store.workflows.hand_off(Some(&t), &change).await {
        Ok(()) => {
            state.outbox_wake.notify_one();
            Ok(Redirect::to(&crate::desk::page::after_action(&dossier.code)).into_response())
        }
        Err(StoreError::Conflict(_)) => {
            let mut page = stale(&state, layout, dossier, details, r, reason).await?;
            keep_typed(&mut page, &posted);
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
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
    let (officer, dossier, details, r) =
        match crate::dossiers::for_office_with(&state, &viewer, &code, DeskRight::Approve).await? {
            Ok(x) => x,
            Err(r) => return Ok(r),
        };
    let reason = motcua_domain::text::normalize(&f.ly_do);
    let typed = motcua_domain::text::normalize(&f.ngay_hen_moi);
    let cal = calendar(&state).await?;
    let mut errors = Vec::new();
    let now = OffsetDateTime::now_utc();
    // a date within a year of today, so that the working-time arithmetic below stays in range
    let new_day =
        form::parse_date(&typed).filter(|d| (*d - vntime::vn_date(now)).whole_days().abs() <= 366);
    let new_due = new_day.map(|d| {
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
        // compared as days too: a day off before the appointment (a Sunday before a Monday's) rolls forward to the
        // next working moment, which may fall after the appointment, yet it is no later day
        (Some(new), Some(floor), _)
            if new <= floor || new_day.is_some_and(|d| d <= vntime::vn_date(floor)) =>
        errors.push((
            "ngay_hen_moi".into(),
            format!(
                "Ngày hẹn mới phải sau ngày hẹn hiện tại và sau hôm nay: chọn từ ngày {} trở đi",
                vntime::vn_date(floor)
                    .next_day()
                    .map(vntime::format_date)
                    .unwrap_or_default()
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
    if !motcua_domain::dossier::is_reason(&reason) {
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
            Ok(Redirect::to(&crate::desk::page::after_action(&dossier.code)).into_response())
        }
        Err(StoreError::Conflict(_)) => Ok((
            StatusCode::CONFLICT,
            stale(&state, layout, dossier, details, r, reason).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}
