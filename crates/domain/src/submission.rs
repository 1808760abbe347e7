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
