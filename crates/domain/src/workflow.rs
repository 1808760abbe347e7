//! Processing workflows (quy trình nội bộ): the ordered steps a dossier of one procedure case goes through after
//! reception, each with the unit that does it, the role that holds it and its time quota in working hours, so that
//! lateness can be attributed to a unit (`domain.md` §4). A dossier copies the workflow when processing starts (its
//! snapshot); every hand-off after that is one [`StepRecord`]: who gave, who received, when, and whether the step
//! ended early, on time or late.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::{
    AccountId, AgencyCode, DossierId, ParseError, Role, TimeLimit, TimeUnit,
    submission::OutgoingEmail,
};

/// Roles that can hold a processing step: reception is before the workflow, administrators do not process.
pub const STEP_ROLES: [Role; 3] = [Role::Specialist, Role::HeadOfUnit, Role::Leader];

/// Most steps a workflow may have.
pub const MAX_STEPS: usize = 20;

/// One step of a workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowStep {
    pub name: String,
    /// The unit that does the step; `None` means the agency that received the dossier. Another agency makes it
    /// an inter-agency step: the dossier appears in that agency's inbox while the step is open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<AgencyCode>,
    #[serde(with = "role_key")]
    pub role: Role,
    pub quota_hours: u32,
}

mod role_key {
    use crate::Role;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(role: &Role, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(role.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Role, D::Error> {
        let text = String::deserialize(d)?;
        Role::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The ordered steps of a procedure case; the last one approves (a head of unit or a leader).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workflow {
    pub steps: Vec<WorkflowStep>,
}

/// Working hours in a time limit, when it is counted in working time (calendar-day limits have no fixed number).
/// A limit of 0 ("within the day of reception") gives its steps one working day at most, as the due time does.
pub fn limit_hours(limit: &TimeLimit) -> Option<u32> {
    match limit.unit {
        TimeUnit::WorkingDays => Some(limit.value.max(1).saturating_mul(8)),
        TimeUnit::WorkingHours => Some(limit.value.max(1)),
        TimeUnit::CalendarDays => None,
    }
}

impl Workflow {
    /// Check a workflow entered by an administrator. `total_hours` is the legal time limit in working hours, when
    /// there is one: the quotas may not add up to more. Errors name the step (1-based) they are about.
    pub fn new(steps: Vec<WorkflowStep>, total_hours: Option<u32>) -> Result<Self, Vec<String>> {
        let mut errors = Vec::new();
        if steps.is_empty() {
            errors.push("Quy trình phải có ít nhất một bước".to_string());
        }
        if steps.len() > MAX_STEPS {
            errors.push(format!("Quy trình có tối đa {MAX_STEPS} bước"));
        }
        let mut clean = Vec::with_capacity(steps.len());
        for (i, step) in steps.into_iter().enumerate() {
            let n = i + 1;
            let name = crate::text::normalize(&step.name);
            let length = name.chars().count();
            if !(2..=200).contains(&length) {
                errors.push(format!("Bước {n}: tên bước phải có từ 2 đến 200 ký tự"));
            }
            if !STEP_ROLES.contains(&step.role) {
                errors.push(format!(
                    "Bước {n}: vai trò phải là chuyên viên, trưởng đơn vị hoặc lãnh đạo (không phải {})",
                    step.role.label_vi().to_lowercase()
                ));
            }
            if !(1..=2000).contains(&step.quota_hours) {
                errors.push(format!(
                    "Bước {n}: định mức thời gian phải từ 1 đến 2000 giờ làm việc"
                ));
            }
            clean.push(WorkflowStep { name, ..step });
        }
        if let Some(last) = clean.last()
            && last.role == Role::Specialist
        {
            errors.push(
                "Bước cuối là bước phê duyệt: phải do trưởng đơn vị hoặc lãnh đạo thực hiện".into(),
            );
        }
        let sum: u64 = clean.iter().map(|s| u64::from(s.quota_hours)).sum();
        if let Some(total) = total_hours
            && sum > u64::from(total)
        {
            errors.push(format!(
                "Tổng định mức các bước ({sum} giờ) vượt thời hạn giải quyết ({total} giờ làm việc)"
            ));
        }
        if errors.is_empty() {
            Ok(Workflow { steps: clean })
        } else {
            Err(errors)
        }
    }

    /// The workflow used when an administrator has not set one: the specialist examines, the head of unit reviews,
    /// the leader approves, with 70 % / 15 % / 15 % of the time limit (at least one hour each; 8 working days
    /// when the limit is in calendar days or unknown).
    pub fn default_for(total_hours: Option<u32>) -> Self {
        let total = total_hours.unwrap_or(64).max(1);
        if total < 3 {
            return Workflow {
                steps: vec![WorkflowStep {
                    name: "Xử lý và phê duyệt".into(),
                    agency: None,
                    role: Role::HeadOfUnit,
                    quota_hours: total,
                }],
            };
        }
        let review = (total * 15 / 100).max(1);
        let approve = review;
        let examine = total - review - approve;
        Workflow {
            steps: vec![
                WorkflowStep {
                    name: "Thẩm định, xử lý hồ sơ".into(),
                    agency: None,
                    role: Role::Specialist,
                    quota_hours: examine,
                },
                WorkflowStep {
                    name: "Xem xét, trình ký".into(),
                    agency: None,
                    role: Role::HeadOfUnit,
                    quota_hours: review,
                },
                WorkflowStep {
                    name: "Phê duyệt, ký kết quả".into(),
                    agency: None,
                    role: Role::Leader,
                    quota_hours: approve,
                },
            ],
        }
    }

    pub fn total_hours(&self) -> u32 {
        self.steps.iter().map(|s| s.quota_hours).sum()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{\"steps\":[]}".into())
    }

    pub fn from_json(text: &str) -> Result<Self, ParseError> {
        serde_json::from_str(text)
            .map_err(|e| ParseError::Invalid(format!("Quy trình không đọc được: {e}")))
    }
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepOutcome {
    /// Given to an officer (the step stays, its holder changes).
    Assigned,
    /// Forwarded to the next step.
    Forwarded,
    /// Sent back to the previous step, with a reason.
    Returned,
    /// Approved: the last step ended with the result.
    Approved,
    /// The dossier left processing (stopped, withdrawn…).
    Closed,
}

impl StepOutcome {
    pub const ALL: [StepOutcome; 5] = [
        StepOutcome::Assigned,
        StepOutcome::Forwarded,
        StepOutcome::Returned,
        StepOutcome::Approved,
        StepOutcome::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StepOutcome::Assigned => "assigned",
            StepOutcome::Forwarded => "forwarded",
            StepOutcome::Returned => "returned",
            StepOutcome::Approved => "approved",
            StepOutcome::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|o| o.as_str() == text)
            .ok_or_else(|| ParseError::Invalid(format!("Kết quả bước “{text}” không tồn tại")))
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            StepOutcome::Assigned => "Giao / chuyển cán bộ",
            StepOutcome::Forwarded => "Chuyển bước tiếp theo",
            StepOutcome::Returned => "Trả lại bước trước",
            StepOutcome::Approved => "Phê duyệt",
            StepOutcome::Closed => "Kết thúc xử lý",
        }
    }
}

/// One holding of a step by a unit (and, once assigned, an officer): a row of the control sheet (slip 06).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRecord {
    pub dossier: DossierId,
    /// 1, 2, … per dossier, in the order of hand-offs.
    pub seq: u32,
    /// Position of the step in the dossier's workflow (0-based).
    pub index: u32,
    /// The version of the case's workflow the dossier follows (0: the default workflow).
    pub workflow_version: u32,
    pub name: String,
    pub agency: AgencyCode,
    pub role: Role,
    pub quota_hours: u32,
    pub assignee: Option<AccountId>,
    pub assignee_name: Option<String>,
    pub started_at: OffsetDateTime,
    /// Who handed the dossier over (`Name (account id)`).
    pub started_by: String,
    pub due_at: OffsetDateTime,
    pub ended_at: Option<OffsetDateTime>,
    pub ended_by: Option<String>,
    pub outcome: Option<StepOutcome>,
    pub note: Option<String>,
}

/// A step holding to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStep {
    pub index: u32,
    pub workflow_version: u32,
    pub name: String,
    pub agency: AgencyCode,
    pub role: Role,
    pub quota_hours: u32,
    pub assignee: Option<(AccountId, String)>,
    pub started_at: OffsetDateTime,
    pub started_by: String,
    pub due_at: OffsetDateTime,
}

/// The open holding to end, named by its `seq`: if it has already ended the change is refused (someone else
/// acted first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndStep {
    pub seq: u32,
    pub at: OffsetDateTime,
    pub by: String,
    pub outcome: StepOutcome,
    pub note: Option<String>,
}

/// A hand-off: end the open holding, open the next, move the open step's due time (after a pause), and the
/// e-mails that tell people, all in one commit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StepChange {
    pub dossier: Option<DossierId>,
    pub end: Option<EndStep>,
    pub next: Option<NewStep>,
    /// New due time for the open holding (`seq`, due), e.g. after a pause.
    pub extend: Option<(u32, OffsetDateTime)>,
    pub emails: Vec<OutgoingEmail>,
    /// A fee set with the move to status 6 ("chờ thực hiện nghĩa vụ tài chính").
    pub charge: Option<crate::payment::Charge>,
    /// The fees still owed waived, with this legal ground (the dossier taken back to processing unpaid).
    pub waive: Option<String>,
}

/// The result of a dossier (kết quả giải quyết): the document issued, who signed it and when, and its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DossierResult {
    pub dossier: DossierId,
    pub document_number: String,
    pub signer: String,
    pub signed_on: Date,
    /// The scanned or signed document (object key, file name, type, size, sha256), when there is one.
    pub file: Option<ResultFile>,
    pub entered_by: String,
    pub entered_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultFile {
    pub object_key: String,
    pub file_name: String,
    pub file_type: String,
    pub size: u64,
    pub sha256: String,
    /// The issuing agency's signature over this file (level 4), when it was signed.
    pub seal: Option<Seal>,
}

/// A result file signed by the issuing agency: a detached CMS signature kept beside the file, and the public code
/// of the page where anyone can check a copy of the file against it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seal {
    /// Where the signature (`.p7s`, DER) is kept in the file store.
    pub signature_key: String,
    /// The code of the public verification page (`/xac-thuc/{code}`): random, not guessable from the dossier.
    pub code: String,
    /// SHA-256 fingerprint of the signing certificate (lowercase hex).
    pub fingerprint: String,
    /// The certificate's subject (common name).
    pub signed_by: String,
    pub at: OffsetDateTime,
}

/// Refusals of a result entry, by form field.
pub type FieldErrors = Vec<(&'static str, String)>;

/// Check what an officer typed as the result; errors by field (`so`, `nguoi_ky`, `ngay_ky`).
pub fn check_result(
    number: &str,
    signer: &str,
    signed_on: Option<Date>,
    today: Date,
) -> Result<(String, String, Date), FieldErrors> {
    let number = crate::text::normalize(number);
    let signer = crate::text::normalize(signer);
    let mut errors = Vec::new();
    if !(1..=100).contains(&number.chars().count()) {
        errors.push((
            "so",
            "Nhập số, ký hiệu văn bản kết quả (tối đa 100 ký tự), ví dụ 123/GCN-UBND".to_string(),
        ));
    }
    if !(2..=200).contains(&signer.chars().count()) {
        errors.push(("nguoi_ky", "Nhập họ tên người ký (2–200 ký tự)".to_string()));
    }
    match signed_on {
        None => errors.push((
            "ngay_ky",
            "Nhập ngày ký dạng ngày/tháng/năm, ví dụ 05/03/2026".to_string(),
        )),
        Some(d) if d > today => {
            errors.push(("ngay_ky", "Ngày ký không thể sau hôm nay".to_string()))
        }
        Some(_) => {}
    }
    match (errors.is_empty(), signed_on) {
        (true, Some(d)) => Ok((number, signer, d)),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn step(name: &str, role: Role, hours: u32) -> WorkflowStep {
        WorkflowStep {
            name: name.into(),
            agency: None,
            role,
            quota_hours: hours,
        }
    }

    #[test]
    fn a_workflow_is_checked_step_by_step() {
        let ok = Workflow::new(
            vec![
                step(" Thẩm định ", Role::Specialist, 30),
                step("Phê duyệt", Role::Leader, 10),
            ],
            Some(40),
        )
        .unwrap();
        assert_eq!(ok.steps[0].name, "Thẩm định");
        assert_eq!(ok.total_hours(), 40);

        let errors = Workflow::new(
            vec![
                step("x", Role::Reception, 0),
                step("Thẩm định", Role::Specialist, 50),
            ],
            Some(40),
        )
        .unwrap_err();
        assert!(errors.iter().any(|e| e.starts_with("Bước 1: tên")));
        assert!(errors.iter().any(|e| e.starts_with("Bước 1: vai trò")));
        assert!(errors.iter().any(|e| e.starts_with("Bước 1: định mức")));
        assert!(errors.iter().any(|e| e.starts_with("Bước cuối")));
        assert!(errors.iter().any(|e| e.contains("vượt thời hạn")));
        assert!(Workflow::new(vec![], None).is_err());
    }

    #[test]
    fn a_same_day_limit_gives_its_steps_one_working_day() {
        let same_day = TimeLimit {
            value: 0,
            unit: TimeUnit::WorkingDays,
        };
        assert_eq!(limit_hours(&same_day), Some(8));
        let w = Workflow::default_for(limit_hours(&same_day));
        assert_eq!(w.steps.len(), 3);
        assert_eq!(w.steps[0].role, Role::Specialist);
    }

    #[test]
    fn a_workflow_round_trips_through_json() {
        let w = Workflow::default_for(Some(80));
        assert_eq!(Workflow::from_json(&w.to_json()).unwrap(), w);
        assert!(
            Workflow::from_json(r#"{"steps":[{"name":"a","role":"boss","quota_hours":1}]}"#)
                .is_err()
        );
    }

    #[test]
    fn a_result_needs_a_number_a_signer_and_a_past_date() {
        let today = date!(2026 - 03 - 05);
        let ok = check_result(" 12/GP ", "Nguyễn Văn A", Some(today), today).unwrap();
        assert_eq!(ok.0, "12/GP");
        let errors = check_result("", "A", Some(date!(2026 - 03 - 06)), today).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["so", "nguoi_ky", "ngay_ky"]);
    }

    proptest! {
        /// The default workflow is always valid against the limit it was made for, and uses all of it.
        #[test]
        fn the_default_workflow_fits_its_limit(total in 1u32..20_000) {
            let w = Workflow::default_for(Some(total));
            prop_assert_eq!(w.total_hours(), total);
            let checked = Workflow::new(w.steps.clone(), Some(total));
            if w.steps.iter().all(|s| s.quota_hours <= 2000) {
                prop_assert!(checked.is_ok(), "{:?}", checked);
            }
        }

        #[test]
        fn outcomes_parse_back(i in 0usize..5) {
            let o = StepOutcome::ALL[i];
            prop_assert_eq!(StepOutcome::parse(o.as_str()).unwrap(), o);
        }
    }
}
