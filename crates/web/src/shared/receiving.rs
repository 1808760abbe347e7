//! The three reception answers to a dossier waiting at the one-stop desk — accept with an appointment computed in
//! working time, ask once for everything missing, or refuse with a reason — as one rule for the desk's page and
//! the API: the same checks in the same order, the same transition of the state table, the same e-mail to the
//! applicant in the same commit. Who may answer is asked of the policy before (`DeskRight::Receive`).

use time::OffsetDateTime;

use motcua_domain::{
    Dossier, DossierStatus, Transition, desk::ReceptionAnswer, form, submission::OnlineDetails,
    submission::OutgoingEmail, vntime,
};
use motcua_store::StoreError;

use crate::{AppError, AppState, dossiers::calendar};

/// Why an answer was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A fee due with the submission is not paid yet.
    Unpaid,
    /// A supplement request or a refusal needs its reason in writing.
    NeedsReason(ReceptionAnswer),
    /// The dossier is no longer waiting for reception (someone answered first, or the citizen withdrew).
    NotWaiting,
}

impl Refusal {
    pub(crate) fn message(self) -> &'static str {
        match self {
            Refusal::Unpaid => {
                "Công dân chưa nộp phí, lệ phí thu khi nộp hồ sơ: chỉ tiếp nhận sau khi thanh toán"
            }
            Refusal::NeedsReason(ReceptionAnswer::Refuse) => {
                "Ghi rõ lý do từ chối tiếp nhận (ít nhất 10 ký tự): pháp luật yêu cầu nêu lý do bằng văn bản"
            }
            Refusal::NeedsReason(_) => {
                "Liệt kê một lần đầy đủ các giấy tờ cần bổ sung, hoàn thiện và lý do (ít nhất 10 ký tự)"
            }
            Refusal::NotWaiting => {
                "Hồ sơ không còn chờ tiếp nhận (có thể cán bộ khác vừa xử lý hoặc công dân đã rút)."
            }
        }
    }
}

/// An answer checked and ready to be made.
pub(crate) struct Prepared {
    pub transition: Transition,
    emails: Vec<OutgoingEmail>,
}

/// Check an answer to `dossier` by `actor` at `now` (`reason` already normalised) and prepare its transition and
/// the applicant's e-mail.
pub(crate) async fn prepare(
    state: &AppState,
    dossier: &Dossier,
    details: &OnlineDetails,
    answer: ReceptionAnswer,
    reason: &str,
    actor: String,
    now: OffsetDateTime,
) -> Result<Result<Prepared, Refusal>, AppError> {
    if dossier.status == DossierStatus::Submitted && crate::payments::owes(state, dossier).await? {
        return Ok(Err(Refusal::Unpaid));
    }
    let (to, needs_reason) = (answer.status(), answer.needs_reason());
    if needs_reason && !motcua_domain::dossier::is_reason(reason) {
        return Ok(Err(Refusal::NeedsReason(answer)));
    }
    let Ok(mut t) = Transition::new(dossier.id, dossier.status, to, now, actor) else {
        return Ok(Err(Refusal::NotWaiting));
    };
    if needs_reason {
        t = t.with_reason(reason.to_string());
    }
    let mut due_text = String::new();
    if to == DossierStatus::Received {
        let procedure = state
            .store
            .catalogue
            .get_procedure_version(&dossier.procedure, dossier.procedure_version)
            .await?;
        if let Some((limit, cutoff, _)) = crate::dossiers::case_of(&procedure, dossier)
            .and_then(|c| crate::dossiers::limit_of(&c, dossier.channel))
        {
            let due = calendar(state).await?.due(now, limit, cutoff);
            due_text = vntime::format_datetime(due);
            t = t.with_due_at(due);
        }
    }
    let email = form::first(&details.answers, form::APPLICANT_EMAIL).to_string();
    let tracking = format!(
        "{}/ho-so/{{code}}",
        state.site.public_url.trim_end_matches('/')
    );
    let emails = if email.is_empty() {
        vec![]
    } else {
        let (subject, body) = match to {
            DossierStatus::Received => (
                "Hồ sơ {code} đã được tiếp nhận".to_string(),
                format!(
                    "Hồ sơ {{code}} đã được tiếp nhận.\nNgày hẹn trả kết quả: {due_text}.\nTheo dõi hồ sơ: {tracking}\n"
                ),
            ),
            DossierStatus::SupplementRequested => (
                "Hồ sơ {code} cần bổ sung".to_string(),
                format!(
                    "Cơ quan yêu cầu bổ sung, hoàn thiện hồ sơ {{code}}:\n\n{reason}\n\nBổ sung trực tuyến tại: {tracking}\n"
                ),
            ),
            _ => (
                "Hồ sơ {code} không được tiếp nhận".to_string(),
                format!(
                    "Hồ sơ {{code}} không được tiếp nhận.\nLý do: {reason}\n\nXem chi tiết: {tracking}\n"
                ),
            ),
        };
        vec![OutgoingEmail {
            to: email,
            subject,
            body,
        }]
    };
    Ok(Ok(Prepared {
        transition: t,
        emails,
    }))
}

/// Make the prepared answer: the transition and the e-mail in one commit, unless someone changed the dossier first.
pub(crate) async fn commit(
    state: &AppState,
    prepared: &Prepared,
) -> Result<Result<(), Refusal>, AppError> {
    match state
        .store
        .submissions
        .transition_with_mail(&prepared.transition, &prepared.emails)
        .await
    {
        Ok(_) => {
            state.outbox_wake.notify_one();
            Ok(Ok(()))
        }
        Err(StoreError::Conflict(_)) => Ok(Err(Refusal::NotWaiting)),
        Err(e) => Err(e.into()),
    }
}
