//! Online submission (level 3): the citizen's draft, the files attached to it, and what one submission commits
//! at once — the dossier, its form data and files, the first history event and the outgoing notifications.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    AccountId, AgencyCode, CaseKey, DossierId, NonEmptyText, ProcedureCode, form::Answers,
    upload::FileType,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DraftId(pub Uuid);

impl DraftId {
    pub fn new() -> Self {
        DraftId(Uuid::now_v7())
    }
}

impl Default for DraftId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for DraftId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A dossier being prepared online (status "draft"): answers as typed, saved on every page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub id: DraftId,
    pub account: AccountId,
    pub procedure: ProcedureCode,
    /// The procedure version the form was opened under; submission snapshots this version.
    pub procedure_version: u32,
    pub case: CaseKey,
    pub agency: AgencyCode,
    /// What was typed, unvalidated (nothing typed is lost, even an invalid answer).
    pub answers: Answers,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// Set once submitted: the dossier it became.
    pub dossier: Option<DossierId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UploadId(pub Uuid);

impl std::fmt::Display for UploadId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// An uploaded file: temporary while it belongs to a draft, claimed when the dossier is submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub id: UploadId,
    pub account: AccountId,
    pub draft: DraftId,
    /// Index of the component (thành phần hồ sơ) of the case it is for.
    pub component: u16,
    /// The cleaned name it is shown and served under ([`crate::upload::clean_file_name`]).
    pub file_name: String,
    /// Where the bytes are: a generated key, never derived from the name.
    pub object_key: String,
    pub file_type: FileType,
    pub size: u64,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    pub created_at: OffsetDateTime,
    pub dossier: Option<DossierId>,
}

/// A message to send after the transaction commits (the outbox).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Everything one submission commits together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub draft: DraftId,
    /// Used only when the draft was not submitted before; a retry returns the first dossier.
    pub new_dossier: DossierId,
    pub account: AccountId,
    pub applicant_name: NonEmptyText,
    pub applicant_phone: String,
    pub applicant_personal_id: String,
    pub on_behalf: bool,
    /// The validated, normalised answers.
    pub answers: Answers,
    pub at: OffsetDateTime,
    /// Filled in with the dossier code by the store (`{code}` in subject and body).
    pub emails: Vec<OutgoingEmail>,
    /// The fee due with the submission (level 4), recorded with the new dossier: it goes to reception once paid.
    pub charge: Option<crate::payment::Charge>,
    /// The result asked for by post, to this address (level 4), recorded with the new dossier.
    pub by_post: Option<crate::postal::PostalAddress>,
}

/// What a submitted online dossier carries besides its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnlineDetails {
    pub account: Option<AccountId>,
    pub applicant_phone: Option<String>,
    pub applicant_personal_id: Option<String>,
    pub on_behalf: bool,
    pub answers: Answers,
}

/// A job of the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: Uuid,
    /// `email` for now.
    pub kind: String,
    /// JSON.
    pub payload: String,
    pub attempts: u32,
    pub run_at: OffsetDateTime,
}

/// When a failed job is tried again: 30 s, 1, 2, 4 … minutes, at most 6 hours apart.
pub fn retry_delay(attempts: u32) -> time::Duration {
    time::Duration::seconds(30 * (1i64 << attempts.min(10))).min(time::Duration::hours(6))
}

/// After this many attempts a job is left for an operator (it stays in the table with its last error).
pub const MAX_ATTEMPTS: u32 = 12;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_and_stay_bounded() {
        assert_eq!(retry_delay(0), time::Duration::seconds(30));
        assert_eq!(retry_delay(1), time::Duration::minutes(1));
        assert_eq!(retry_delay(30), time::Duration::hours(6));
        for n in 0..40 {
            assert!(retry_delay(n) <= retry_delay(n + 1));
        }
    }
}

/// A dossier handed in at the counter or by post and received on the spot: created and received in one commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intake {
    pub dossier: DossierId,
    pub agency: AgencyCode,
    pub procedure: ProcedureCode,
    pub procedure_version: u32,
    pub case: CaseKey,
    /// In person or post (an online dossier comes through [`Submission`]).
    pub channel: crate::Channel,
    /// The citizen's account, when one matches the applicant (the dossier then shows in "My dossiers").
    pub account: Option<AccountId>,
    pub applicant_name: NonEmptyText,
    pub applicant_phone: Option<String>,
    pub applicant_personal_id: Option<String>,
    pub answers: Answers,
    /// Who received it (`Name (account id)`).
    pub officer: String,
    pub at: OffsetDateTime,
    pub due_at: Option<OffsetDateTime>,
    pub emails: Vec<OutgoingEmail>,
}

/// The answer key of the officer's note at the counter.
pub const COUNTER_NOTE: &str = "ghi_chu_tiep_nhan";
/// The answer key of the components the counter received (one value per component, see [`Received`]).
pub const RECEIVED_COMPONENTS: &str = "thanh_phan_da_nhan";

/// What the counter received of one component of the case: how many originals (bản chính), certified copies
/// (bản sao chứng thực) and plain copies (bản sao, bản chụp). Slip 01 prints these in its components table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// The component's position in the case.
    pub component: usize,
    pub originals: u8,
    pub certified: u8,
    pub copies: u8,
}

/// The most papers of one kind the counter records for one component.
pub const MAX_RECEIVED: u8 = 99;

/// One row of the counter's checklist as the officer sent it: ticked or not, and the three counts as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChecklistRow {
    pub ticked: bool,
    pub originals: String,
    pub certified: String,
    pub copies: String,
}

impl Received {
    /// The checklist of a case's components, checked: every required component ticked, every ticked one with at
    /// least one paper, counts whole numbers up to [`MAX_RECEIVED`]. Errors are (row index, field suffix,
    /// message), the suffix naming the input that is wrong (`""` for the tick, `chinh`, `chung_thuc`, `sao`).
    pub fn from_checklist(
        components: &[crate::procedure::Component],
        rows: &[ChecklistRow],
    ) -> Result<Vec<Received>, Vec<(usize, &'static str, String)>> {
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for (i, component) in components.iter().enumerate() {
            let row = rows.get(i).cloned().unwrap_or_default();
            if !row.ticked {
                if component.required {
                    errors.push((
                        i,
                        "",
                        format!(
                            "Chưa nhận “{}” (thành phần bắt buộc): nếu người nộp chưa có, hướng dẫn bổ sung thay vì tiếp nhận",
                            component.name
                        ),
                    ));
                }
                continue;
            }
            let mut count = |typed: &str, suffix: &'static str, what: &str| -> u8 {
                let typed = typed.trim();
                if typed.is_empty() {
                    return 0;
                }
                match typed.parse::<u8>() {
                    Ok(n) if n <= MAX_RECEIVED => n,
                    _ => {
                        errors.push((
                            i,
                            suffix,
                            format!(
                                "Số {what} của “{}” phải là số nguyên từ 0 đến {MAX_RECEIVED}",
                                component.name
                            ),
                        ));
                        0
                    }
                }
            };
            let received = Received {
                component: i,
                originals: count(&row.originals, "chinh", "bản chính"),
                certified: count(&row.certified, "chung_thuc", "bản sao chứng thực"),
                copies: count(&row.copies, "sao", "bản sao"),
            };
            if received.originals == 0 && received.certified == 0 && received.copies == 0 {
                if !errors.iter().any(|(row, _, _)| *row == i) {
                    errors.push((
                        i,
                        "chinh",
                        format!("Nhập số bản đã nhận của “{}”", component.name),
                    ));
                }
                continue;
            }
            out.push(received);
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }

    /// As kept in the dossier's answers: `component:originals:certified:copies`.
    pub fn encode(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.component, self.originals, self.certified, self.copies
        )
    }

    /// The components the counter received, from a dossier's answers (none for an online dossier).
    pub fn in_answers(answers: &Answers) -> Vec<Received> {
        answers
            .get(RECEIVED_COMPONENTS)
            .into_iter()
            .flatten()
            .filter_map(|v| {
                let mut parts = v.split(':').map(str::parse::<u32>);
                let mut next = || parts.next().and_then(Result::ok);
                let component = usize::try_from(next()?).ok()?;
                let mut small = || u8::try_from(next()?).ok();
                Some(Received {
                    component,
                    originals: small()?,
                    certified: small()?,
                    copies: small()?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod received_tests {
    use super::*;
    use crate::procedure::Component;
    use proptest::prelude::*;

    fn component(name: &str, required: bool) -> Component {
        Component {
            name: NonEmptyText::parse(name).unwrap(),
            originals: 1,
            copies: 0,
            required,
            template: None,
            from_form: false,
        }
    }

    fn row(ticked: bool, o: &str, c: &str, s: &str) -> ChecklistRow {
        ChecklistRow {
            ticked,
            originals: o.into(),
            certified: c.into(),
            copies: s.into(),
        }
    }

    #[test]
    fn a_required_component_must_be_received_and_counted() {
        let components = [
            component("Tờ khai", true),
            component("Giấy ủy quyền", false),
        ];
        let ok = Received::from_checklist(
            &components,
            &[row(true, "1", "", "2"), row(false, "", "", "")],
        )
        .unwrap();
        assert_eq!(
            ok,
            vec![Received {
                component: 0,
                originals: 1,
                certified: 0,
                copies: 2
            }]
        );
        let missing = Received::from_checklist(&components, &[]).unwrap_err();
        assert_eq!(missing.len(), 1);
        assert!(missing[0].2.contains("Tờ khai"), "{missing:?}");
        let nothing = Received::from_checklist(
            &components,
            &[row(true, "0", "", ""), row(true, "x", "", "")],
        )
        .unwrap_err();
        assert_eq!(
            nothing[0],
            (0, "chinh", "Nhập số bản đã nhận của “Tờ khai”".into())
        );
        assert_eq!(nothing[1].1, "chinh");
        assert!(nothing[1].2.contains("từ 0 đến 99"));
    }

    proptest! {
        #[test]
        fn what_is_received_reads_back_from_the_answers(
            counts in proptest::collection::vec((0u8..=99, 0u8..=99, 0u8..=99), 0..6)
        ) {
            let components: Vec<Component> = (0..counts.len())
                .map(|i| component(&format!("Giấy {i}"), false))
                .collect();
            let rows: Vec<ChecklistRow> = counts
                .iter()
                .map(|(o, c, s)| row(true, &o.to_string(), &c.to_string(), &s.to_string()))
                .collect();
            match Received::from_checklist(&components, &rows) {
                Ok(received) => {
                    let mut answers = Answers::new();
                    answers.insert(
                        RECEIVED_COMPONENTS.into(),
                        received.iter().map(Received::encode).collect(),
                    );
                    prop_assert_eq!(Received::in_answers(&answers), received);
                }
                // only a component with no paper at all is refused
                Err(errors) => {
                    for (i, _, _) in errors {
                        prop_assert_eq!(counts[i], (0, 0, 0));
                    }
                }
            }
        }
    }
}
