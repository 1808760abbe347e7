//! A person withdraws their own dossier: at once while it still waits for reception, otherwise as a request the
//! agency decides on. One rule for the dossier's page and the API (`/api/v1/me`): the reason's length, the state
//! table, the history event with the reason the agency reads. The owner check is asked of the policy before.

use time::OffsetDateTime;

use motcua_domain::{Dossier, DossierStatus, Transition, submission::OnlineDetails};
use motcua_store::StoreError;

use crate::{AppError, AppState};

/// Why a withdrawal was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    ReasonTooShort,
    ReasonTooLong,
    /// The dossier's status allows no withdrawal (decided, delivered, already withdrawn).
    NotNow,
    /// Its status changed while the person was deciding.
    Changed,
}

impl Refusal {
    pub(crate) fn message(self) -> &'static str {
        match self {
            Refusal::ReasonTooShort => {
                "Ghi lý do rút hồ sơ (ít nhất 5 ký tự), để cơ quan tiếp nhận biết"
            }
            Refusal::ReasonTooLong => "Lý do dài quá 500 ký tự",
            Refusal::NotNow => "Hồ sơ ở trạng thái này không thể rút.",
            Refusal::Changed => "Trạng thái hồ sơ vừa thay đổi; hãy xem lại trước khi rút.",
        }
    }
}

/// What withdrawing would be now: `Withdrawn` at once (still waiting for reception), `WithdrawalRequested` (the
/// agency decides), or none.
pub(crate) fn outcome(status: DossierStatus) -> Option<DossierStatus> {
    if status == DossierStatus::Submitted && status.can_become(DossierStatus::Withdrawn) {
        Some(DossierStatus::Withdrawn)
    } else if status.can_become(DossierStatus::WithdrawalRequested) {
        Some(DossierStatus::WithdrawalRequested)
    } else {
        None
    }
}

/// The reason as typed, checked (already normalised).
pub(crate) fn check_reason(reason: &str) -> Result<(), Refusal> {
    match reason.chars().count() {
        n if n < 5 => Err(Refusal::ReasonTooShort),
        n if n > 500 => Err(Refusal::ReasonTooLong),
        _ => Ok(()),
    }
}

/// Withdraw (or ask to): the new status. `via` says how, in the history ("trên cổng dịch vụ công", "qua API …").
pub(crate) async fn withdraw(
    state: &AppState,
    dossier: &Dossier,
    details: &OnlineDetails,
    reason: &str,
    via: &str,
    now: OffsetDateTime,
) -> Result<Result<DossierStatus, Refusal>, AppError> {
    let Some(to) = outcome(dossier.status) else {
        return Ok(Err(Refusal::NotNow));
    };
    if let Err(refusal) = check_reason(reason) {
        return Ok(Err(refusal));
    }
    let actor = details
        .account
        .map(|a| a.to_string())
        .unwrap_or_else(|| "citizen".into());
    let Ok(t) = Transition::new(dossier.id, dossier.status, to, now, actor) else {
        return Ok(Err(Refusal::NotNow));
    };
    let t = t.with_reason(format!("Công dân yêu cầu rút hồ sơ {via}. Lý do: {reason}"));
    match state.store.dossiers.record_transition(&t).await {
        Ok(_) => Ok(Ok(to)),
        Err(StoreError::Conflict(_)) => Ok(Err(Refusal::Changed)),
        Err(e) => Err(e.into()),
    }
}
