//! "What was just done", said after an officer's action on a dossier: the change as it now stands and the next
//! step (the slip to print, the list to go back to). One home for the banner of the reception queue and of the
//! dossier page; it is read from the dossier's own record, and only for a change this officer made, so an
//! address cannot make the portal claim something that did not happen.

use motcua_domain::{AccountId, Dossier, DossierStatus, vntime};

use crate::{AppError, AppState};

/// The banner: what happened, and links to what comes next (href, label).
pub(crate) struct Done {
    pub text: String,
    pub links: Vec<(String, &'static str)>,
}

/// What `officer` last did to `dossier`, if its latest change (a status, an apology, a hand-off) is theirs.
pub(crate) async fn banner(
    state: &AppState,
    dossier: &Dossier,
    officer: AccountId,
) -> Result<Option<Done>, AppError> {
    let mine = |actor: &str| actor.ends_with(&format!("({officer})"));
    let events = state.store.dossiers.history(dossier.id).await?;
    let steps = state.store.workflows.steps(dossier.id).await?;
    let code = &dossier.code;
    let slip = |so: &str| format!("/can-bo/ho-so/{code}/phieu/{so}");
    let inbox = ("/can-bo/ho-so".to_string(), "Về danh sách hồ sơ");
    let last_event = events.last();
    let last_step = steps.iter().max_by_key(|s| (s.started_at, s.seq));
    // a hand-off after the last change of status: who has it now, until when
    if let Some(step) = last_step
        && last_event.is_none_or(|e| step.started_at > e.at)
    {
        if !mine(&step.started_by) {
            return Ok(None);
        }
        let holder = step
            .assignee_name
            .clone()
            .unwrap_or_else(|| "đơn vị".into());
        return Ok(Some(Done {
            text: format!(
                "Đã chuyển hồ sơ {code} cho {holder} — bước “{}”, hạn {}.",
                step.name,
                vntime::format_datetime(step.due_at)
            ),
            links: vec![inbox, (slip("06"), "In phiếu 06 (kiểm soát quá trình)")],
        }));
    }
    let Some(event) = last_event.filter(|e| mine(&e.actor)) else {
        return Ok(None);
    };
    let due = |e: &motcua_domain::HistoryEvent| {
        e.due_at
            .or(dossier.due_at)
            .map(|d| format!(", hẹn trả {}", vntime::format_datetime(d)))
            .unwrap_or_default()
    };
    let (text, links) = if crate::slips::is_apology(event) {
        (
            format!("Đã gửi văn bản xin lỗi cho hồ sơ {code}{}.", due(event)),
            vec![(slip("04"), "In văn bản 04 (xin lỗi, hẹn lại)"), inbox],
        )
    } else {
        match event.to {
            DossierStatus::Received => (
                format!("Đã tiếp nhận hồ sơ {code}{}.", due(event)),
                vec![
                    (slip("01"), "In phiếu 01 (giấy tiếp nhận, hẹn trả)"),
                    ("/can-bo/tiep-nhan".into(), "Hồ sơ chờ tiếp nhận"),
                ],
            ),
            DossierStatus::SupplementRequested => (
                format!(
                    "Đã yêu cầu bổ sung hồ sơ {code}; công dân được báo trên cổng (và qua thư điện tử nếu có)."
                ),
                vec![
                    (slip("02"), "In phiếu 02 (yêu cầu bổ sung)"),
                    ("/can-bo/tiep-nhan".into(), "Hồ sơ chờ tiếp nhận"),
                ],
            ),
            DossierStatus::Refused => (
                format!("Đã từ chối tiếp nhận hồ sơ {code}; công dân được báo lý do."),
                vec![
                    (slip("03"), "In phiếu 03 (từ chối tiếp nhận)"),
                    ("/can-bo/tiep-nhan".into(), "Hồ sơ chờ tiếp nhận"),
                ],
            ),
            DossierStatus::Stopped => (
                format!("Đã dừng giải quyết hồ sơ {code}; công dân được báo lý do."),
                vec![(slip("05"), "In thông báo 05 (dừng giải quyết)"), inbox],
            ),
            DossierStatus::Processed => (
                format!("Đã phê duyệt hồ sơ {code}: kết quả chờ trả cho công dân."),
                vec![(slip("06"), "In phiếu 06 (kiểm soát quá trình)"), inbox],
            ),
            DossierStatus::ResultDelivered => (
                format!("Đã trả kết quả hồ sơ {code}."),
                vec![
                    (
                        slip(crate::slips::HAND_OVER),
                        "In phiếu trả kết quả (có mã QR đánh giá)",
                    ),
                    inbox,
                ],
            ),
            other => (
                format!("Hồ sơ {code} đã chuyển sang “{}”.", other.label_vi()),
                vec![inbox],
            ),
        }
    };
    Ok(Some(Done { text, links }))
}
