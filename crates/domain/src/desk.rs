//! The one-stop desk's rules: the answers reception gives a new dossier, the tasks on a processing step, and the
//! table of later changes an officer may make (after reception) with the right each one needs. The web crate shows
//! and parses these; it never decides them.

use crate::AgencyCode;
use crate::dossier::{ClockState, DossierStatus};
use crate::policy::Action;

/// Reception's answer to a dossier that arrived (`domain.md` §4: accept, ask for a supplement, refuse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceptionAnswer {
    Accept,
    AskSupplement,
    Refuse,
}

impl ReceptionAnswer {
    pub const ALL: [ReceptionAnswer; 3] = [Self::Accept, Self::AskSupplement, Self::Refuse];

    /// The code a form posts.
    pub fn code(self) -> &'static str {
        match self {
            Self::Accept => "tiep_nhan",
            Self::AskSupplement => "bo_sung",
            Self::Refuse => "tu_choi",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }

    /// The status the dossier moves to.
    pub fn status(self) -> DossierStatus {
        match self {
            Self::Accept => DossierStatus::Received,
            Self::AskSupplement => DossierStatus::SupplementRequested,
            Self::Refuse => DossierStatus::Refused,
        }
    }

    /// A refusal and a supplement request must give their reason in writing.
    pub fn needs_reason(self) -> bool {
        self != Self::Accept
    }
}

/// What an officer does with a dossier's open processing step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepTask {
    /// Take an unassigned step one may hold.
    Take,
    /// Give the step to a colleague who may hold it (assign, or transfer).
    Assign,
    /// Hand the dossier on to the workflow's next step.
    Forward,
    /// Send it back to the previous step, with a reason.
    Return,
}

impl StepTask {
    pub const ALL: [StepTask; 4] = [Self::Take, Self::Assign, Self::Forward, Self::Return];

    /// The code a form posts.
    pub fn code(self) -> &'static str {
        match self {
            Self::Take => "nhan",
            Self::Assign => "giao",
            Self::Forward => "chuyen",
            Self::Return => "tra",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }
}

/// Which desk right a later change needs at the dossier's agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeskRight {
    Receive,
    Process,
    Approve,
}

impl DeskRight {
    /// The policy action that grants this right at `agency`.
    pub fn action(self, agency: &AgencyCode) -> Action<'_> {
        match self {
            Self::Receive => Action::ReceiveDossiers(agency),
            Self::Process => Action::ProcessDossiers(agency),
            Self::Approve => Action::ApproveDossiers(agency),
        }
    }
}

/// A change an officer may make to a received dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaterChange {
    pub to: DossierStatus,
    /// What the officer is offered, in Vietnamese.
    pub label: &'static str,
    /// The law asks for the reason in writing.
    pub needs_reason: bool,
    pub right: DeskRight,
}

/// The later changes of the state table an officer can make from `status` (after reception). `asked_before`: a
/// supplement was already requested once, so a second request needs the approval right (head of unit). The
/// citizen's own changes (sending a supplement, asking to withdraw) are not here.
pub fn later_changes(status: DossierStatus, asked_before: bool) -> Vec<LaterChange> {
    use DossierStatus as S;
    if status == S::Submitted {
        return vec![];
    }
    status
        .next_statuses()
        .filter_map(|to| {
            let (label, needs_reason, right) = match (status, to) {
                (S::WithdrawalRequested, S::Received | S::Processing) => (
                    "Không chấp nhận rút, tiếp tục giải quyết",
                    true,
                    DeskRight::Receive,
                ),
                (S::WithdrawalRequested, S::Withdrawn) => {
                    ("Đồng ý cho rút hồ sơ", false, DeskRight::Receive)
                }
                (from, S::Processing) if from.clock() == ClockState::Paused => (
                    "Tiếp tục xử lý (thời hạn được cộng thêm thời gian tạm dừng)",
                    false,
                    DeskRight::Process,
                ),
                (_, S::Processing) => ("Chuyển xử lý", false, DeskRight::Process),
                (_, S::Processed) => (
                    "Phê duyệt: đã xử lý xong, có kết quả",
                    false,
                    DeskRight::Approve,
                ),
                (_, S::ResultDelivered) => {
                    ("Đã trả kết quả cho công dân", false, DeskRight::Receive)
                }
                (_, S::SupplementRequested) => (
                    "Yêu cầu bổ sung, hoàn thiện hồ sơ",
                    true,
                    if asked_before {
                        DeskRight::Approve
                    } else {
                        DeskRight::Process
                    },
                ),
                (_, S::AwaitingFinancialObligation) => (
                    "Chờ công dân thực hiện nghĩa vụ tài chính",
                    true,
                    DeskRight::Process,
                ),
                (_, S::Stopped) => ("Dừng giải quyết hồ sơ", true, DeskRight::Approve),
                (_, S::Refused) => ("Từ chối giải quyết", true, DeskRight::Receive),
                _ => return None,
            };
            Some(LaterChange {
                to,
                label,
                needs_reason,
                right,
            })
        })
        .collect()
}

/// Whether a result may be entered or corrected: from reception until it is handed over.
pub fn result_open(status: DossierStatus) -> bool {
    matches!(
        status,
        DossierStatus::Received
            | DossierStatus::Processing
            | DossierStatus::AwaitingFinancialObligation
            | DossierStatus::Processed
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_status() -> impl Strategy<Value = DossierStatus> {
        proptest::sample::select(DossierStatus::ALL.to_vec())
    }

    proptest! {
        /// The desk offers only changes of the state table, each once, and never the citizen's own.
        #[test]
        fn later_changes_are_allowed_transitions_made_by_officers(status in any_status(), asked in any::<bool>()) {
            let changes = later_changes(status, asked);
            for c in &changes {
                prop_assert!(status.can_become(c.to), "{status:?} → {:?}", c.to);
                prop_assert!(!matches!(c.to, DossierStatus::Submitted | DossierStatus::WithdrawalRequested));
                prop_assert!(!c.label.is_empty());
                prop_assert_eq!(changes.iter().filter(|o| o.to == c.to).count(), 1);
            }
            if status == DossierStatus::Submitted {
                prop_assert!(changes.is_empty(), "reception answers a new dossier, not this table");
            }
        }

        /// Every change that ends or pauses the citizen's case with a refusal-like outcome gives a reason.
        #[test]
        fn refusals_stops_and_supplements_need_a_reason(status in any_status(), asked in any::<bool>()) {
            for c in later_changes(status, asked) {
                if matches!(c.to, DossierStatus::Refused | DossierStatus::Stopped | DossierStatus::SupplementRequested) {
                    prop_assert!(c.needs_reason);
                }
            }
        }
    }

    #[test]
    fn a_second_supplement_request_needs_the_head_of_unit() {
        let first = later_changes(DossierStatus::Processing, false);
        let second = later_changes(DossierStatus::Processing, true);
        let right = |cs: &[LaterChange]| {
            cs.iter()
                .find(|c| c.to == DossierStatus::SupplementRequested)
                .map(|c| c.right)
        };
        assert_eq!(right(&first), Some(DeskRight::Process));
        assert_eq!(right(&second), Some(DeskRight::Approve));
    }

    #[test]
    fn codes_round_trip_and_unknown_codes_are_refused() {
        for a in ReceptionAnswer::ALL {
            assert_eq!(ReceptionAnswer::parse(a.code()), Some(a));
            assert!(DossierStatus::Submitted.can_become(a.status()));
        }
        for t in StepTask::ALL {
            assert_eq!(StepTask::parse(t.code()), Some(t));
        }
        assert_eq!(ReceptionAnswer::parse(""), None);
        assert_eq!(StepTask::parse("NHAN"), None);
    }
}
