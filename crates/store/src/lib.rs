//! The storage boundary of motcua: one repository trait per aggregate (agencies, fields, the procedure
//! catalogue, dossiers with their history, code counters), the error they share, and [`Store`], the bundle the
//! rest of the program holds. Implementations live in `motcua-store-sqlite` and `motcua-store-postgres`; the
//! contract suite in `tests/` proves they behave the same.

use async_trait::async_trait;
use std::sync::Arc;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use motcua_domain::{
    Account, AccountId, Agency, AgencyCode, AuditEvent, CaseKey, Dossier, DossierCode, DossierId,
    Email, Field, HistoryEvent, LoginName, NewDossier, Phone, Procedure, ProcedureCode, RoleGrant,
    ServiceLevelAssignment, Session, SessionKey, TokenPurpose, Transition,
    api_client::{ApiCall, ApiClient, ApiClientId, ApiKey, PersonalToken},
    payment::{Charge, Payment, Settlement},
    postal::{Delivery, DeliveryEvent},
    rating::{Rating, SatisfactionFigures},
    submission::{Draft, DraftId, Job, OnlineDetails, Submission, Upload, UploadId},
    webhook::{Webhook, WebhookDelivery},
    workflow::{DossierResult, StepChange, StepRecord, Workflow},
};

pub type StoreResult<T> = Result<T, StoreError>;

/// What went wrong in storage, sorted by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist.
    #[error("không tìm thấy bản ghi")]
    NotFound,
    /// A unique key is taken, or the record changed under us (another officer acted first).
    #[error("xung đột dữ liệu: {0}")]
    Conflict(String),
    /// The data refers to something that does not exist, or breaks a rule the database enforces.
    #[error("dữ liệu không hợp lệ: {0}")]
    Constraint(String),
    /// The database cannot be reached: answer 503 and try again later.
    #[error("cơ sở dữ liệu tạm thời không truy cập được: {0}")]
    Unavailable(String),
    /// The database is there but too busy to serve this request now (no free connection in time, a lock held
    /// too long): answer 503 for this request only.
    #[error("cơ sở dữ liệu đang quá tải: {0}")]
    Busy(String),
    /// A stored value no longer parses into its domain type.
    #[error("dữ liệu lưu trữ bị hỏng: {0}")]
    Corrupt(String),
    /// The database URL or connection settings are wrong.
    #[error("cấu hình cơ sở dữ liệu không hợp lệ: {0}")]
    Configuration(String),
    #[error("lỗi cơ sở dữ liệu: {0}")]
    Other(String),
}

impl StoreError {
    /// The request cannot be served now (out or busy): 503.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_) | StoreError::Busy(_))
    }

    /// The database is out (not merely busy): every request would fail the same way for a while.
    pub fn is_outage(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// Agencies (cơ quan, đơn vị).
#[async_trait]
pub trait AgencyRepo: Send + Sync {
    /// Insert or update these agencies in one transaction; parents and successors may refer to agencies in
    /// the same batch. A merged agency keeps its successor and end date (a merger is never undone by an update).
    async fn upsert(&self, agencies: &[Agency]) -> StoreResult<()>;
    async fn get(&self, code: &AgencyCode) -> StoreResult<Option<Agency>>;
    /// All agencies, ordered by code.
    async fn list(&self) -> StoreResult<Vec<Agency>>;
    /// Merge one agency into another in one transaction (see [`Merger`]). Running the same merger again moves
    /// nothing twice; merging a retired agency into a different successor is a [`StoreError::Conflict`].
    async fn merge(&self, merger: &Merger) -> StoreResult<MergeReport>;
}

/// A merger (sáp nhập): `retired` ends on the day before `effective` and `successor` takes over its open work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merger {
    pub retired: AgencyCode,
    pub successor: AgencyCode,
    /// The first day the successor answers for the retired agency's work.
    pub effective: Date,
    pub at: OffsetDateTime,
    /// Who ran it (an account id, or `cli`), recorded in each moved dossier's history.
    pub actor: String,
}

/// What a merger did, and what it left for an administrator to review.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeReport {
    /// Open dossiers now at the successor, each with a history event; closed ones stay under the retired
    /// agency and keep their codes.
    pub moved: Vec<DossierCode>,
    /// Unsent drafts now addressed to the successor.
    pub drafts_moved: u32,
    /// Agencies below the retired one, now below the successor.
    pub children_moved: u32,
    /// Online levels in force at the retired agency, now also in force at the successor from `effective`.
    pub levels_carried: Vec<ServiceLevelAssignment>,
    /// Cases where the successor already has its own level, different from the retired agency's: kept, to
    /// review.
    pub levels_to_review: Vec<ServiceLevelAssignment>,
    /// Processing workflows with a step done by the retired agency: to be saved again with the successor.
    pub workflows_to_review: Vec<(ProcedureCode, CaseKey)>,
    /// Officers' roles held at the retired agency: to be granted again at the successor where still needed.
    pub grants_to_review: u32,
}

/// Fields (lĩnh vực).
#[async_trait]
pub trait FieldRepo: Send + Sync {
    async fn upsert(&self, fields: &[Field]) -> StoreResult<()>;
    /// All fields, ordered by name.
    async fn list(&self) -> StoreResult<Vec<Field>>;
}

/// A procedure as currently published, with its version number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredProcedure {
    pub procedure: Procedure,
    pub version: u32,
    pub updated_at: OffsetDateTime,
}

/// A catalogue to import in one go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogueBatch {
    pub agencies: Vec<Agency>,
    pub fields: Vec<Field>,
    pub procedures: Vec<Procedure>,
    pub service_levels: Vec<ServiceLevelAssignment>,
}

/// One version of a procedure: its number, when it was made, from which day it applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionInfo {
    pub version: u32,
    pub made_at: OffsetDateTime,
    pub effective_from: Date,
}

/// What an import did to the procedures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// The procedure catalogue. Procedure versions are immutable: saving a changed procedure creates a new
/// version, and a dossier keeps the version it was received under.
#[async_trait]
pub trait CatalogueRepo: Send + Sync {
    /// Save a procedure. If it differs from the current version a new version is created; if it is identical
    /// nothing changes. Returns the current version number.
    async fn save_procedure(&self, procedure: &Procedure, at: OffsetDateTime) -> StoreResult<u32> {
        self.save_procedure_from(procedure, at, motcua_domain::vntime::vn_date(at))
            .await
    }
    /// Save a procedure as a version that applies from `effective` (UTC+7 day): in force at once when that day has
    /// come, else kept until [`CatalogueRepo::promote_due`] finds its day. Identical to the latest version: nothing
    /// changes. Returns the number of the version saved (or of the latest, when nothing changed).
    async fn save_procedure_from(
        &self,
        procedure: &Procedure,
        at: OffsetDateTime,
        effective: Date,
    ) -> StoreResult<u32>;
    /// Put in force, for every procedure, the version that applies on `today` (the latest start on or before it,
    /// the newest among equal starts), never going back to an older version (a node whose clock lags cannot undo
    /// another's promotion); the number of procedures whose version changed.
    async fn promote_due(&self, today: Date) -> StoreResult<u32>;
    async fn get_procedure(&self, code: &ProcedureCode) -> StoreResult<Option<StoredProcedure>>;
    async fn get_procedure_version(
        &self,
        code: &ProcedureCode,
        version: u32,
    ) -> StoreResult<Option<Procedure>>;
    /// Current versions of all procedures, ordered by code.
    async fn list_procedures(&self) -> StoreResult<Vec<StoredProcedure>>;
    /// Every version of a procedure, oldest first.
    async fn versions(&self, code: &ProcedureCode) -> StoreResult<Vec<VersionInfo>>;
    /// Every online-level assignment of a procedure ever made (in force, past and scheduled), by case, agency
    /// and start date.
    async fn level_history(&self, code: &ProcedureCode)
    -> StoreResult<Vec<ServiceLevelAssignment>>;
    /// Write a whole catalogue (agencies, fields, procedures, levels) in one transaction: all of it or none.
    /// Procedures identical to their current version are left alone; changed ones get a new version.
    async fn import(&self, batch: &CatalogueBatch, at: OffsetDateTime)
    -> StoreResult<ImportReport>;
    /// Record the online level of a case at an agency from a date on (earlier assignments stay as history).
    async fn set_service_level(&self, assignment: &ServiceLevelAssignment) -> StoreResult<()>;
    /// The level in force on `on` for each case and agency of this procedure.
    async fn service_levels(
        &self,
        code: &ProcedureCode,
        on: Date,
    ) -> StoreResult<Vec<ServiceLevelAssignment>>;
    /// The level in force on `on` for every case and agency of every procedure, ordered by procedure, case,
    /// agency (one query for building the catalogue view).
    async fn all_service_levels(&self, on: Date) -> StoreResult<Vec<ServiceLevelAssignment>>;
    /// A number that grows whenever agencies, fields, procedures or levels change, so that every server node
    /// can notice and refresh what it derived from the catalogue.
    async fn catalogue_version(&self) -> StoreResult<i64>;
}

/// Dossier codes: a counter per agency and day (UTC+7) that never gives the same number twice.
#[async_trait]
pub trait CodeCounterRepo: Send + Sync {
    async fn reserve(&self, agency: &AgencyCode, day: Date) -> StoreResult<DossierCode>;
}

/// Dossiers and their append-only, hash-chained history.
#[async_trait]
pub trait DossierRepo: Send + Sync {
    /// Create a dossier together with its first history event.
    async fn create(&self, dossier: &NewDossier) -> StoreResult<Dossier>;
    async fn get(&self, id: DossierId) -> StoreResult<Option<Dossier>>;
    async fn get_by_code(&self, code: &DossierCode) -> StoreResult<Option<Dossier>>;
    /// Apply a status change and append its history event in one transaction, only if the dossier is still
    /// in `transition.from`; otherwise [`StoreError::Conflict`] and nothing changes.
    async fn record_transition(&self, transition: &Transition) -> StoreResult<HistoryEvent>;
    /// The whole history, oldest first.
    async fn history(&self, id: DossierId) -> StoreResult<Vec<HistoryEvent>>;
    /// The procedures with the most dossiers created since `since`, most first (ties by code), at most `limit`.
    async fn most_used_procedures(
        &self,
        since: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<(ProcedureCode, u64)>>;
    /// Dossiers with a result (approved, or handed over), the most recently approved first, and how many match:
    /// the public list "Kết quả giải quyết TTHC".
    async fn handled(&self, q: &HandledQuery) -> StoreResult<(Vec<HandledDossier>, u64)>;
    /// Dossiers of some agencies by when they last changed (the API's list for synchronising systems).
    async fn changed(&self, q: &ChangedQuery) -> StoreResult<Vec<Dossier>>;
}

/// Which handled dossiers to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandledQuery {
    pub agency: Option<AgencyCode>,
    /// Only these procedures (a field's); `None`: any.
    pub procedures: Option<Vec<ProcedureCode>>,
    /// Approved in `[from, to)`.
    pub approved_from: Option<OffsetDateTime>,
    pub approved_to: Option<OffsetDateTime>,
    pub offset: u32,
    pub limit: u32,
    /// Also count every match (a page of the list); without it the count is 0 (a widget of the latest).
    pub count: bool,
}

/// A dossier with a result, with when it was received and approved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandledDossier {
    pub dossier: Dossier,
    pub received_at: Option<OffsetDateTime>,
    pub approved_at: OffsetDateTime,
}

/// Accounts of citizens and officers, with officers' role grants.
#[async_trait]
pub trait AccountRepo: Send + Sync {
    /// Create an account with its grants in one transaction. A taken identity number, phone or e-mail is a
    /// [`StoreError::Conflict`]; a grant at an unknown agency is a [`StoreError::Constraint`].
    async fn create(&self, account: &Account) -> StoreResult<()>;
    async fn get(&self, id: AccountId) -> StoreResult<Option<Account>>;
    /// The account a citizen or officer names at login (identity number, phone or e-mail).
    async fn find_by_login(&self, name: &LoginName) -> StoreResult<Option<Account>>;
    /// Set a new password hash; every password-reset link of the account still outstanding ends with it.
    async fn set_password_hash(&self, id: AccountId, hash: &str) -> StoreResult<()>;
    /// Every officer account with its grants, ordered by name.
    async fn list_officers(&self) -> StoreResult<Vec<Account>>;
    /// Update contact data. A phone or e-mail taken by another account is a [`StoreError::Conflict`]; a changed
    /// e-mail is unverified again, and every link sent before (reset, verification) ends.
    async fn update_contact(
        &self,
        id: AccountId,
        phone: Option<&Phone>,
        email: Option<&Email>,
        address: Option<&str>,
    ) -> StoreResult<()>;
    /// Replace an officer's grants.
    async fn set_grants(&self, id: AccountId, grants: &[RoleGrant]) -> StoreResult<()>;
    /// Store a one-time link (by the hash of its token).
    async fn create_token(
        &self,
        key: &SessionKey,
        account: AccountId,
        purpose: TokenPurpose,
        expires_at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Use a one-time link: the account, if the link exists for this purpose, is unused and unexpired at `now`;
    /// it can never be used again, and neither can any other link of the account for the same purpose.
    async fn consume_token(
        &self,
        key: &SessionKey,
        purpose: TokenPurpose,
        now: OffsetDateTime,
    ) -> StoreResult<Option<AccountId>>;
    /// Whether a one-time link would still work at `now` (to show the form before using it).
    async fn token_usable(
        &self,
        key: &SessionKey,
        purpose: TokenPurpose,
        now: OffsetDateTime,
    ) -> StoreResult<bool>;
    async fn mark_email_verified(&self, id: AccountId, at: OffsetDateTime) -> StoreResult<()>;
}

/// Failed logins of one login subject (an account, or a login name that has none) from one address, or from
/// every address together ([`ANY_ADDRESS`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoginRecord {
    /// Consecutive failures since the last success.
    pub failures: u32,
    pub locked_until: Option<OffsetDateTime>,
    /// The last successful login from this address: it is one of the subject's usual addresses.
    pub last_success_at: Option<OffsetDateTime>,
}

impl LoginRecord {
    pub fn locked_at(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        self.locked_until.filter(|until| *until > now)
    }
}

/// The address under which failures from every address are counted together.
pub const ANY_ADDRESS: &str = "*";

/// Fixed-window counters and login failures kept in the database, so limits hold across server nodes.
#[async_trait]
pub trait RateLimitRepo: Send + Sync {
    /// Count one hit in `bucket` for the window starting at `window_start`; returns the hits so far in it.
    async fn hit(&self, bucket: &str, window_start: OffsetDateTime) -> StoreResult<u32>;
    /// What is known of `subject`'s logins from `ip` (all zero when nothing is).
    async fn login_record(&self, subject: &str, ip: &str) -> StoreResult<LoginRecord>;
    /// Count a login attempt of `subject` from `ip` as failed (a success clears it again); from `threshold`
    /// consecutive failures on, that pair is locked for `lock(failures)` from `at`. Returns the record after
    /// this attempt and the lock that was in force before it: counted atomically, so of many attempts at once
    /// only those before the lock see none.
    async fn login_failed(
        &self,
        subject: &str,
        ip: &str,
        at: OffsetDateTime,
        threshold: u32,
        lock: fn(u32) -> time::Duration,
    ) -> StoreResult<(LoginRecord, Option<OffsetDateTime>)>;
    /// A successful login from `ip`: that pair's failures and lock are cleared and the address remembered, and
    /// the count across every address ([`ANY_ADDRESS`]) is cleared too.
    async fn login_succeeded(&self, subject: &str, ip: &str, at: OffsetDateTime)
    -> StoreResult<()>;
    /// Clear every failure and lock of `subject` (a new password was set); usual addresses are kept.
    async fn clear_login_failures(&self, subject: &str) -> StoreResult<()>;
}

/// Logged-in sessions, shared by every server node.
#[async_trait]
pub trait SessionRepo: Send + Sync {
    async fn create(&self, session: &Session) -> StoreResult<()>;
    async fn find(&self, key: &SessionKey) -> StoreResult<Option<Session>>;
    /// Record activity (extends the idle timeout, never the absolute one).
    async fn touch(&self, key: &SessionKey, at: OffsetDateTime) -> StoreResult<()>;
    async fn delete(&self, key: &SessionKey) -> StoreResult<()>;
    /// End every session of an account ("log out everywhere", password change); returns how many.
    async fn delete_for_account(&self, account: AccountId) -> StoreResult<u64>;
}

/// The security audit trail (append-only).
#[async_trait]
pub trait AuditRepo: Send + Sync {
    async fn record(&self, event: &AuditEvent) -> StoreResult<()>;
    /// Events matching `filter`, newest first, one page.
    async fn search(
        &self,
        filter: &AuditFilter,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<AuditEvent>>;
    /// The most recent events, newest first.
    async fn recent(&self, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        self.search(&AuditFilter::default(), limit, 0).await
    }
}

/// Which audit events an administrator is looking for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<AccountId>,
    pub kind: Option<motcua_domain::AuditKind>,
    /// At or after.
    pub from: Option<OffsetDateTime>,
    /// Before.
    pub before: Option<OffsetDateTime>,
}

impl AuditFilter {
    /// The WHERE clause (`TRUE` when nothing is filtered) with `$n` placeholders from 1, and its parameters.
    pub fn where_clause(&self) -> (String, Vec<QueryParam>) {
        let mut parts = Vec::new();
        let mut params = Vec::new();
        if let Some(actor) = self.actor {
            params.push(QueryParam::Id(actor.0));
            parts.push(format!("actor_id = ${}", params.len()));
        }
        if let Some(kind) = self.kind {
            params.push(QueryParam::Text(kind.as_str().to_string()));
            parts.push(format!("kind = ${}", params.len()));
        }
        if let Some(from) = self.from {
            params.push(QueryParam::Time(from));
            parts.push(format!("at >= ${}", params.len()));
        }
        if let Some(before) = self.before {
            params.push(QueryParam::Time(before));
            parts.push(format!("at < ${}", params.len()));
        }
        if parts.is_empty() {
            ("1 = 1".into(), params)
        } else {
            (parts.join(" AND "), params)
        }
    }
}

/// Online submission: drafts, their uploads, and the one transaction that turns a draft into a dossier.
#[async_trait]
pub trait SubmissionRepo: Send + Sync {
    /// Insert or update a draft. A draft already submitted is not changed (`Conflict`).
    async fn save_draft(&self, draft: &Draft) -> StoreResult<()>;
    async fn get_draft(&self, id: DraftId) -> StoreResult<Option<Draft>>;
    /// Unsubmitted drafts of an account, most recently changed first.
    async fn drafts_for(&self, account: AccountId) -> StoreResult<Vec<Draft>>;
    /// Delete an unsubmitted draft of this account; returns its uploads (their objects are the caller's to
    /// delete).
    async fn delete_draft(&self, id: DraftId, account: AccountId) -> StoreResult<Vec<Upload>>;
    /// Record an upload, unless the draft's files would then exceed `max_total_bytes` (`Constraint`) or the
    /// draft was submitted (`Conflict`).
    async fn add_upload(&self, upload: &Upload, max_total_bytes: u64) -> StoreResult<()>;
    /// Record a file answering a supplement request (`upload.draft` is the draft the dossier came from): kept
    /// unclaimed until [`SubmissionRepo::send_supplement`]. `Conflict` if the draft was never submitted.
    async fn add_supplement_upload(&self, upload: &Upload, max_total_bytes: u64)
    -> StoreResult<()>;
    /// Send a supplement: the dossier's transition, the claim of the files added for it and, when processing
    /// resumes, the change to its workflow steps, in one commit: all of it or none.
    async fn send_supplement(
        &self,
        draft: DraftId,
        transition: &Transition,
        steps: Option<&StepChange>,
    ) -> StoreResult<HistoryEvent>;
    /// The draft an online dossier was submitted from.
    async fn draft_of(&self, dossier: DossierId) -> StoreResult<Option<DraftId>>;
    async fn get_upload(&self, id: UploadId) -> StoreResult<Option<Upload>>;
    /// Files of a draft, or of the dossier it became, in the order they were added.
    async fn uploads_for_draft(&self, draft: DraftId) -> StoreResult<Vec<Upload>>;
    async fn uploads_for_dossier(&self, dossier: DossierId) -> StoreResult<Vec<Upload>>;
    /// Remove an unclaimed upload of this draft; returns it so its object can be deleted.
    async fn remove_upload(&self, id: UploadId, draft: DraftId) -> StoreResult<Option<Upload>>;
    /// Unclaimed uploads created before `before` whose draft is gone or older than `before` too.
    async fn stale_uploads(&self, before: OffsetDateTime, limit: u32) -> StoreResult<Vec<Upload>>;
    /// Forget an unclaimed upload row (after its object was deleted).
    async fn forget_upload(&self, id: UploadId) -> StoreResult<()>;
    /// Submit: in one transaction, reserve the dossier code, create the dossier (status "submitted") with the
    /// form data and the draft's procedure version, claim the draft's files, append the first history event and
    /// queue the e-mails. A draft already submitted returns its dossier and changes nothing.
    async fn submit(&self, submission: &Submission) -> StoreResult<Dossier>;
    async fn online_details(&self, dossier: DossierId) -> StoreResult<Option<OnlineDetails>>;
    /// A counter or postal intake: the dossier created (submitted) and received, both history events, and the
    /// applicant's e-mail, in one transaction.
    async fn intake(&self, intake: &motcua_domain::submission::Intake) -> StoreResult<Dossier>;
    /// A state change and the e-mails it sends, committed together (the outbox).
    async fn transition_with_mail(
        &self,
        transition: &Transition,
        emails: &[motcua_domain::submission::OutgoingEmail],
    ) -> StoreResult<HistoryEvent>;
    /// Dossiers matching `query`, soonest due first (those without a due time by arrival), one page: an officer's
    /// queue or inbox.
    async fn queue(&self, query: &DossierQuery) -> StoreResult<Vec<Dossier>>;
    /// How many dossiers match `query` (its page ignored): the counts of an officer's work.
    async fn count(&self, query: &DossierQuery) -> StoreResult<u64>;
    /// Dossiers of any agency in these statuses whose due time falls before `before`, soonest first.
    async fn due_before(
        &self,
        before: OffsetDateTime,
        statuses: &[motcua_domain::DossierStatus],
        limit: u32,
    ) -> StoreResult<Vec<Dossier>>;
    /// Dossiers submitted from an account, newest first.
    async fn dossiers_for(&self, account: AccountId) -> StoreResult<Vec<Dossier>>;
}

/// Which dossiers an officer's list shows, and which page of them.
#[derive(Debug, Clone, Default)]
pub struct DossierQuery {
    /// Dossiers received by these agencies (any agency when empty and `only` is given)…
    pub agencies: Vec<AgencyCode>,
    /// …and not by these.
    pub not_agencies: Vec<AgencyCode>,
    /// …in these statuses.
    pub statuses: Vec<motcua_domain::DossierStatus>,
    /// Only these dossiers (e.g. those whose open step is the officer's).
    pub only: Option<Vec<DossierId>>,
    pub channel: Option<motcua_domain::Channel>,
    /// Created at or after.
    pub created_from: Option<OffsetDateTime>,
    /// Created before.
    pub created_before: Option<OffsetDateTime>,
    /// Only those due before this instant (overdue).
    pub due_before: Option<OffsetDateTime>,
    /// Only those due at or after this instant (not yet overdue, with `due_before`: due soon).
    pub due_from: Option<OffsetDateTime>,
    /// Text typed in the search box, folded without diacritics: it matches the code or the applicant's name
    /// (see [`search_text`]), or the dossier is of one of `procedures` (whose names matched it).
    pub text: Option<(String, Vec<ProcedureCode>)>,
    pub limit: u32,
    pub offset: u32,
}

impl DossierQuery {
    pub fn new(
        agencies: &[AgencyCode],
        statuses: &[motcua_domain::DossierStatus],
        limit: u32,
    ) -> DossierQuery {
        DossierQuery {
            agencies: agencies.to_vec(),
            statuses: statuses.to_vec(),
            limit,
            ..Default::default()
        }
    }

    /// Nothing can match (no agency, no status, or an empty `only`).
    pub fn is_empty(&self) -> bool {
        (self.agencies.is_empty() && self.only.is_none())
            || self.statuses.is_empty()
            || self.only.as_ref().is_some_and(|o| o.is_empty())
    }

    /// The WHERE clause with `$n` placeholders from `first`, and the parameters in order, for a backend to bind.
    pub fn where_clause(&self, first: usize) -> (String, Vec<QueryParam>) {
        let mut params = Vec::new();
        let mut push = |p: QueryParam| -> String {
            params.push(p);
            format!("${}", first + params.len() - 1)
        };
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|s| push(QueryParam::Text(s.as_str().to_string())))
            .collect();
        // a dossier whose fee is due with the submission reaches the desk once it is paid
        let mut sql = format!(
            "status IN ({}) AND NOT (status = 'submitted' AND id IN \
             (SELECT dossier_id FROM charges WHERE paid_at IS NULL AND waived_at IS NULL))",
            statuses.join(", ")
        );
        for (codes, op) in [(&self.agencies, "IN"), (&self.not_agencies, "NOT IN")] {
            if !codes.is_empty() {
                let marks: Vec<String> = codes
                    .iter()
                    .map(|a| push(QueryParam::Text(a.as_str().to_string())))
                    .collect();
                sql.push_str(&format!(" AND agency_code {op} ({})", marks.join(", ")));
            }
        }
        if let Some(only) = &self.only {
            let ids: Vec<String> = only.iter().map(|d| push(QueryParam::Id(d.0))).collect();
            sql.push_str(&format!(" AND id IN ({})", ids.join(", ")));
        }
        if let Some(c) = self.channel {
            sql.push_str(&format!(
                " AND channel = {}",
                push(QueryParam::Text(c.as_str().to_string()))
            ));
        }
        if let Some(t) = self.created_from {
            sql.push_str(&format!(" AND created_at >= {}", push(QueryParam::Time(t))));
        }
        if let Some(t) = self.created_before {
            sql.push_str(&format!(" AND created_at < {}", push(QueryParam::Time(t))));
        }
        if let Some(t) = self.due_from {
            sql.push_str(&format!(" AND due_at >= {}", push(QueryParam::Time(t))));
        }
        if let Some(t) = self.due_before {
            sql.push_str(&format!(" AND due_at < {}", push(QueryParam::Time(t))));
        }
        if let Some((folded, procedures)) = &self.text {
            let escaped: String = folded
                .chars()
                .flat_map(|c| match c {
                    '%' | '_' | '\\' => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            let like = push(QueryParam::Text(format!("%{escaped}%")));
            let mut either = format!("search_text LIKE {like} ESCAPE '\\'");
            if !procedures.is_empty() {
                let codes: Vec<String> = procedures
                    .iter()
                    .map(|p| push(QueryParam::Text(p.as_str().to_string())))
                    .collect();
                either.push_str(&format!(" OR procedure_code IN ({})", codes.join(", ")));
            }
            sql.push_str(&format!(" AND ({either})"));
        }
        (sql, params)
    }
}

/// What a dossier is found by in the officers' search: its code and applicant's name, folded without diacritics
/// (lower case, "đ" as "d"). Written with the dossier.
pub fn search_text(code: &str, applicant_name: &str) -> String {
    motcua_search::fold(&format!("{code} {applicant_name}"))
}

/// A value bound into a [`DossierQuery`]'s WHERE clause.
#[derive(Debug, Clone)]
pub enum QueryParam {
    Text(String),
    Id(uuid::Uuid),
    Time(OffsetDateTime),
}

/// The outbox: jobs written in the same transaction as the change that caused them, run by a worker.
#[async_trait]
pub trait OutboxRepo: Send + Sync {
    /// Take up to `limit` due jobs for `lease` (another worker will not take them meanwhile).
    async fn claim(
        &self,
        now: OffsetDateTime,
        lease: time::Duration,
        limit: u32,
    ) -> StoreResult<Vec<Job>>;
    async fn complete(&self, id: uuid::Uuid, at: OffsetDateTime) -> StoreResult<()>;
    /// Record a failure and when to try again (`None`: give up, leaving the job for an operator).
    async fn fail(
        &self,
        id: uuid::Uuid,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> StoreResult<()>;
    /// Jobs not done yet (including given up ones).
    async fn pending(&self) -> StoreResult<u64>;
    /// Queue an e-mail job unless one with the same `key` was ever queued (by any node); true if queued now.
    async fn enqueue_email_once(
        &self,
        key: &str,
        email: &motcua_domain::submission::OutgoingEmail,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// What the portal e-mailed to `account` at `address` (any case), newest first: the e-mails about the
    /// account's own dossiers, and, when the address was verified, everything sent to it since then (an address
    /// typed into a profile without proof shows nobody else's mail).
    async fn emails_to(
        &self,
        account: AccountId,
        address: &str,
        verified_since: Option<OffsetDateTime>,
        limit: u32,
    ) -> StoreResult<Vec<SentEmail>>;
}

/// An e-mail the portal queued for someone: what it said, when, and whether it has gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentEmail {
    pub subject: String,
    pub body: String,
    pub queued_at: OffsetDateTime,
    /// When the relay took it; `None` while it waits (or after it was given up).
    pub sent_at: Option<OffsetDateTime>,
    pub given_up: bool,
}

/// Holidays and make-up working days (the working-time calendar's data), shared by every node.
#[async_trait]
pub trait CalendarRepo: Send + Sync {
    /// Every listed day, by date.
    async fn days(&self) -> StoreResult<Vec<motcua_calendar::SpecialDay>>;
    /// Add or replace the entries of these dates.
    async fn put_days(&self, days: &[motcua_calendar::SpecialDay]) -> StoreResult<()>;
    /// Remove the entry of a date (it becomes an ordinary day again).
    async fn remove_day(&self, date: Date) -> StoreResult<bool>;
}

/// Processing workflows, each dossier's hand-offs through them, and results.
#[async_trait]
pub trait WorkflowRepo: Send + Sync {
    /// A saved version of a case's workflow (the newest when `version` is `None`), with its version number;
    /// `None` when there is no such version.
    async fn workflow(
        &self,
        procedure: &ProcedureCode,
        case: &CaseKey,
        version: Option<u32>,
    ) -> StoreResult<Option<(u32, Workflow)>>;
    /// Save a new version of a case's workflow (dossiers already in processing keep the steps they copied).
    async fn save_workflow(
        &self,
        procedure: &ProcedureCode,
        case: &CaseKey,
        workflow: &Workflow,
        at: OffsetDateTime,
        by: &str,
    ) -> StoreResult<u32>;
    /// Every holding of a dossier's steps, in order.
    async fn steps(&self, dossier: DossierId) -> StoreResult<Vec<StepRecord>>;
    /// A hand-off, and the status change that goes with it if any, in one commit: the open holding named by
    /// `change.end` is ended (a `Conflict` if it has already ended: someone acted first), the next is opened,
    /// the due time moved, the e-mails queued. Nothing is changed when any part is refused.
    async fn hand_off(
        &self,
        transition: Option<&Transition>,
        change: &StepChange,
    ) -> StoreResult<()>;
    /// Open holdings at these agencies, soonest due first.
    async fn open_steps(&self, agencies: &[AgencyCode], limit: u32)
    -> StoreResult<Vec<StepRecord>>;
    /// Open holdings assigned to this officer, soonest due first.
    async fn open_steps_of(&self, officer: AccountId, limit: u32) -> StoreResult<Vec<StepRecord>>;
    /// Record (or correct) a dossier's result.
    async fn save_result(&self, result: &DossierResult) -> StoreResult<()>;
    async fn result(&self, dossier: DossierId) -> StoreResult<Option<DossierResult>>;
    /// The result whose signed file has this public verification code.
    async fn result_by_seal(&self, code: &str) -> StoreResult<Option<DossierResult>>;
    /// Dossiers of these agencies received (reception event) between two instants, in order: the register.
    async fn received_between(
        &self,
        agencies: &[AgencyCode],
        from: OffsetDateTime,
        to: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<RegisterEntry>>;
}

/// One line of the register (slip 07): a dossier, when it was received, the applicant's phone and when its result
/// was handed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterEntry {
    pub dossier: Dossier,
    pub received_at: OffsetDateTime,
    pub applicant_phone: Option<String>,
    pub delivered_at: Option<OffsetDateTime>,
}

/// Fees set on dossiers (charges) and the payments made for them (level 4).
#[async_trait]
pub trait PaymentRepo: Send + Sync {
    /// A dossier's fees, oldest first.
    async fn charges(&self, dossier: DossierId) -> StoreResult<Vec<Charge>>;
    /// A dossier's payment attempts, oldest first.
    async fn payments(&self, dossier: DossierId) -> StoreResult<Vec<Payment>>;
    /// The payment a gateway names by its reference.
    async fn by_ref(&self, txn_ref: &str) -> StoreResult<Option<Payment>>;
    /// Start paying an unpaid charge of its full amount (a `Conflict` when it is paid already or the amount is
    /// not the charge's).
    async fn start(&self, payment: &Payment) -> StoreResult<()>;
    /// Settle a pending payment once, with what follows from it, in one commit. `Ok(false)` when it was settled
    /// already (another notification came first): nothing changes then.
    async fn settle(&self, settlement: &Settlement) -> StoreResult<bool>;
    /// Record that a paid payment was given back (`note`: when, by whom, with which document; the time it was
    /// paid stays). `Ok(false)` when it is not paid (refunded already).
    async fn refund(&self, txn_ref: &str, note: &str) -> StoreResult<bool>;
    /// Payments through this provider still pending that were started before `before`, oldest first.
    async fn pending_before(
        &self,
        provider: motcua_domain::payment::Provider,
        before: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Payment>>;
    /// The sandbox gateway's record of its answer for a payment (the signed fields, as a query string).
    async fn sandbox_record(
        &self,
        txn_ref: &str,
        fields: &str,
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    async fn sandbox_answer(&self, txn_ref: &str) -> StoreResult<Option<String>>;
}

/// The applicants' ratings of handled dossiers.
#[async_trait]
pub trait RatingRepo: Send + Sync {
    /// Record a rating: `Ok(false)` when the dossier was rated already (the first rating stays).
    async fn rate(&self, rating: &Rating) -> StoreResult<bool>;
    async fn rating(&self, dossier: DossierId) -> StoreResult<Option<Rating>>;
    /// The dossier's rating code for its hand-over slip: `fresh` the first time it is asked for, the same code
    /// every time after.
    async fn rating_token(
        &self,
        dossier: DossierId,
        fresh: &str,
        at: OffsetDateTime,
    ) -> StoreResult<String>;
    /// The dossier a rating code belongs to.
    async fn dossier_of_rating_token(&self, token: &str) -> StoreResult<Option<DossierId>>;
    /// How the dossiers of these agencies were rated since `since`.
    async fn figures(
        &self,
        agencies: &[AgencyCode],
        since: OffsetDateTime,
    ) -> StoreResult<SatisfactionFigures>;
}

/// A catalogue search that found nothing or little.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchMiss {
    /// Folded, without long numbers or e-mail addresses.
    pub query: String,
    /// Results the last time it was searched.
    pub results: u32,
    pub times: u32,
    pub first_at: OffsetDateTime,
    pub last_at: OffsetDateTime,
}

/// A page of the portal editors write (help, frequently asked questions, contact), as plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentPage {
    /// `tro-giup`, `cau-hoi-thuong-gap`, `lien-he`.
    pub slug: String,
    pub title: String,
    /// Paragraphs separated by blank lines; no markup.
    pub body: String,
    pub saved_at: OffsetDateTime,
    pub saved_by: String,
}

/// The pages editors write.
#[async_trait]
pub trait ContentRepo: Send + Sync {
    /// The page as last saved (`None`: never saved; the portal shows its built-in text).
    async fn page(&self, slug: &str) -> StoreResult<Option<ContentPage>>;
    /// Replace the page.
    async fn save_page(&self, page: &ContentPage) -> StoreResult<()>;
}

/// The log of catalogue searches with no or few results, read by editors.
#[async_trait]
pub trait SearchLogRepo: Send + Sync {
    /// Count one more search of `query` (already made anonymous) that gave `results` results.
    async fn record_miss(&self, query: &str, results: u32, at: OffsetDateTime) -> StoreResult<()>;
    /// The misses seen since `since`, most frequent first.
    async fn misses(&self, since: OffsetDateTime, limit: u32) -> StoreResult<Vec<SearchMiss>>;
    /// The synonym table as editors last saved it (`None`: never saved, the built-in one applies).
    async fn synonyms(&self) -> StoreResult<Option<SynonymTable>>;
    /// Replace the synonym table; every node rebuilds its search index (the catalogue version grows).
    async fn save_synonyms(&self, table: &SynonymTable) -> StoreResult<()>;
}

/// The synonym and abbreviation table of catalogue search, as text (see `motcua_search::Synonyms`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynonymTable {
    pub text: String,
    pub saved_at: OffsetDateTime,
    /// The editor's account id.
    pub saved_by: String,
}

/// Results by post.
#[async_trait]
pub trait DeliveryRepo: Send + Sync {
    /// Ask for (or change the address of) delivery by post: `Ok(false)` once the result was handed to the post.
    async fn ask(&self, delivery: &Delivery) -> StoreResult<bool>;
    async fn delivery(&self, dossier: DossierId) -> StoreResult<Option<Delivery>>;
    /// Record what happened to a delivery, with the dossier's change (delivered: the result handed over) and the
    /// applicant's e-mail, in one transaction. `Ok(false)` when the delivery was not at the stage the event needs
    /// (someone recorded it first).
    async fn record(
        &self,
        dossier: DossierId,
        event: &DeliveryEvent,
        at: OffsetDateTime,
        transition: Option<&Transition>,
        then: &StepChange,
    ) -> StoreResult<bool>;
}

/// Readiness of the database.
#[async_trait]
pub trait Health: Send + Sync {
    /// The database answers a trivial query.
    async fn ping(&self) -> StoreResult<()>;
    /// Migrations embedded in this binary that the database has not applied (empty when ready).
    async fn pending_migrations(&self) -> StoreResult<Vec<String>>;
}

/// Everything storage offers, as shared trait objects. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub backend: Backend,
    pub agencies: Arc<dyn AgencyRepo>,
    pub fields: Arc<dyn FieldRepo>,
    pub catalogue: Arc<dyn CatalogueRepo>,
    pub codes: Arc<dyn CodeCounterRepo>,
    pub dossiers: Arc<dyn DossierRepo>,
    pub accounts: Arc<dyn AccountRepo>,
    pub sessions: Arc<dyn SessionRepo>,
    pub audit: Arc<dyn AuditRepo>,
    pub rate_limits: Arc<dyn RateLimitRepo>,
    pub submissions: Arc<dyn SubmissionRepo>,
    pub outbox: Arc<dyn OutboxRepo>,
    pub calendar: Arc<dyn CalendarRepo>,
    pub workflows: Arc<dyn WorkflowRepo>,
    pub payments: Arc<dyn PaymentRepo>,
    pub ratings: Arc<dyn RatingRepo>,
    pub deliveries: Arc<dyn DeliveryRepo>,
    pub search_log: Arc<dyn SearchLogRepo>,
    pub content: Arc<dyn ContentRepo>,
    pub visits: Arc<dyn VisitRepo>,
    pub articles: Arc<dyn ArticleRepo>,
    pub stats: Arc<dyn StatsRepo>,
    pub api_clients: Arc<dyn ApiClientRepo>,
    pub webhooks: Arc<dyn WebhookRepo>,
    pub personal_tokens: Arc<dyn PersonalTokenRepo>,
    pub health: Arc<dyn Health>,
}

/// The public statistics. Counted from the dossiers themselves (`by_agency`), or read by month from the figures
/// the worker keeps (`by_month`, ADR 0009): the same numbers once the worker has recounted what changed.
#[async_trait]
pub trait StatsRepo: Send + Sync {
    /// Per agency and procedure, for dossiers submitted or approved in `[from, to)`, and those open at `now`,
    /// counted now.
    async fn by_agency(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<AgencyStats>>;
    /// Per agency and procedure, the month starting on `first` (Vietnam's date) as last recounted, and those open
    /// at `now`.
    async fn by_month(&self, first: Date, now: OffsetDateTime) -> StoreResult<Vec<AgencyStats>>;
    /// Recount up to `limit` of the months marked as changed; how many were recounted.
    async fn refresh(&self, limit: u32) -> StoreResult<usize>;
    /// The dossiers of `agency` behind `gap` in `[from, to)` (or open at `now`), newest first, at most `limit`.
    async fn gap(
        &self,
        agency: &AgencyCode,
        gap: Gap,
        from: OffsetDateTime,
        to: OffsetDateTime,
        now: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Dossier>>;
}

/// The dossiers behind one gap of an agency's index: those that keep a metric from its full points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gap {
    /// Approved in the period after their appointment.
    HandledLate,
    /// Open now and past their appointment.
    Overdue,
    /// Submitted in the period without files.
    NotDigitised,
    /// Approved in the period without an electronic result.
    NoElectronicResult,
    /// Submitted in the period at the counter or by post.
    NotOnline,
    /// Submitted in the period with a fee not paid online.
    NotPaidOnline,
    /// Rated in the period below "satisfied".
    Unsatisfied,
}

/// One agency's figures for a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyStats {
    pub agency: AgencyCode,
    /// The procedure the figures are of (pages add them up by agency, field or procedure).
    pub procedure: String,
    pub figures: Figures,
}

/// The figures of a period (an agency's, or several added together).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    /// Submitted in the period, by channel.
    pub in_person: u64,
    pub online: u64,
    pub post: u64,
    /// Approved in the period (a dossier is approved once), by the appointment.
    pub on_time: u64,
    pub late: u64,
    /// Open at the moment asked (received, not yet approved), and of those past their appointment.
    pub in_progress: u64,
    pub overdue: u64,
    /// Ratings given in the period, and those "satisfied" or better (4 or 5).
    pub ratings: u64,
    pub satisfied: u64,
    /// Submitted in the period with files attached (their papers digitised).
    pub digitised: u64,
    /// Approved in the period with an electronic result (a result file).
    pub e_results: u64,
    /// Submitted in the period with a fee to pay (not waived), and of those paid online.
    pub fee_bearing: u64,
    pub paid_online: u64,
}

impl Figures {
    /// Submitted in the period, all channels.
    pub fn submitted(&self) -> u64 {
        self.in_person + self.online + self.post
    }
}

impl std::ops::AddAssign for Figures {
    fn add_assign(&mut self, o: Figures) {
        self.in_person += o.in_person;
        self.online += o.online;
        self.post += o.post;
        self.on_time += o.on_time;
        self.late += o.late;
        self.in_progress += o.in_progress;
        self.overdue += o.overdue;
        self.ratings += o.ratings;
        self.satisfied += o.satisfied;
        self.digitised += o.digitised;
        self.e_results += o.e_results;
        self.fee_bearing += o.fee_bearing;
        self.paid_online += o.paid_online;
    }
}

/// API clients, their keys (kept as hashes) and the log of their calls.
#[async_trait]
pub trait ApiClientRepo: Send + Sync {
    /// A new client and its first key, in one commit.
    async fn create_client(&self, client: &ApiClient, first_key: &ApiKey) -> StoreResult<()>;
    async fn client(&self, id: ApiClientId) -> StoreResult<Option<ApiClient>>;
    /// Every client, newest first.
    async fn clients(&self) -> StoreResult<Vec<ApiClient>>;
    /// Switch a client off (`Some`) or on again (`None`); false when there is no such client.
    async fn set_disabled(&self, id: ApiClientId, at: Option<OffsetDateTime>) -> StoreResult<bool>;
    async fn add_key(&self, key: &ApiKey) -> StoreResult<()>;
    /// A client's keys, newest first.
    async fn keys(&self, client: ApiClientId) -> StoreResult<Vec<ApiKey>>;
    /// Revoke the client's key with this hash; false when there is none or it was already revoked.
    async fn revoke_key(
        &self,
        client: ApiClientId,
        hash: &str,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// The key with this hash and its client, whatever their state (the caller says whether they open the API).
    async fn find_key(&self, hash: &str) -> StoreResult<Option<(ApiKey, ApiClient)>>;
    async fn record_call(&self, call: &ApiCall) -> StoreResult<()>;
    /// The newest calls, of one client or of all, at most `limit`.
    async fn calls(&self, client: Option<ApiClientId>, limit: u32) -> StoreResult<Vec<ApiCall>>;
    /// Forget calls made before `before`; how many.
    async fn forget_calls_before(&self, before: OffsetDateTime) -> StoreResult<u64>;
}

/// Webhooks: subscriptions of API clients, and their deliveries (written with each history event that one wants,
/// by the store itself, in the same commit), tried by the worker.
#[async_trait]
pub trait WebhookRepo: Send + Sync {
    async fn create_webhook(&self, webhook: &Webhook) -> StoreResult<()>;
    /// A client's live subscriptions, oldest first.
    async fn webhooks(&self, client: ApiClientId) -> StoreResult<Vec<Webhook>>;
    /// A client's live subscription.
    async fn webhook(&self, client: ApiClientId, id: Uuid) -> StoreResult<Option<Webhook>>;
    /// End a subscription: nothing more is written for it, and what waits is not sent. False when there is none.
    async fn remove_webhook(
        &self,
        client: ApiClientId,
        id: Uuid,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Take deliveries due at `now` (pushing their next try `lease` ahead, so no other worker takes them), each
    /// with its subscription.
    /// Only live subscriptions of clients in service, at most two of one subscription, none of those in `busy`.
    async fn claim_deliveries(
        &self,
        now: OffsetDateTime,
        lease: time::Duration,
        limit: u32,
        busy: &[Uuid],
    ) -> StoreResult<Vec<(WebhookDelivery, Webhook, DossierId)>>;
    /// Record a try: delivered (`next_at` None and `delivered` true), to be tried again at `next_at`, or given up.
    /// Only by the try that holds the delivery (`attempts` as taken); false when another took it since.
    async fn record_try(&self, attempt: &DeliveryTry) -> StoreResult<bool>;
    /// A subscription's deliveries, newest first.
    async fn deliveries(&self, webhook: Uuid, limit: u32) -> StoreResult<Vec<WebhookDelivery>>;
    /// Send a delivery again now, once, whatever became of it (a manual redelivery); false when there is none.
    async fn redeliver(&self, webhook: Uuid, event: Uuid, now: OffsetDateTime)
    -> StoreResult<bool>;
    /// Forget deliveries finished (delivered or given up) and made before `before`; how many.
    async fn forget_deliveries_before(&self, before: OffsetDateTime) -> StoreResult<u64>;
}

/// The outcome of one try of a delivery.
#[derive(Debug, Clone)]
pub struct DeliveryTry {
    pub webhook: Uuid,
    pub event: Uuid,
    /// The delivery's count of attempts as taken (the try's claim on it).
    pub attempts: u32,
    pub at: OffsetDateTime,
    pub delivered: bool,
    /// The receiver's status, when it answered.
    pub status: Option<u16>,
    pub error: Option<String>,
    /// When to try again (`None`: delivered or given up).
    pub next_at: Option<OffsetDateTime>,
}

/// Personal tokens: a person's own keys to the API (kept as hashes).
#[async_trait]
pub trait PersonalTokenRepo: Send + Sync {
    async fn add_personal_token(&self, token: &PersonalToken) -> StoreResult<()>;
    /// A person's tokens, newest first.
    async fn personal_tokens(&self, account: AccountId) -> StoreResult<Vec<PersonalToken>>;
    /// Revoke the person's token with this hash; false when there is none or it was already revoked.
    async fn revoke_personal_token(
        &self,
        account: AccountId,
        hash: &str,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// The token with this hash, whatever its state.
    async fn find_personal_token(&self, hash: &str) -> StoreResult<Option<PersonalToken>>;
    /// Revoke every live token of a person (a new password, logging out everywhere); how many.
    async fn revoke_all_personal_tokens(
        &self,
        account: AccountId,
        at: OffsetDateTime,
    ) -> StoreResult<u64>;
}

/// Which dossiers a synchronising system reads next: those of `agencies` changed after a point, oldest change
/// first. A change's time is the node's clock when it was made, not the order of commits: a change committed a
/// moment after another may carry an earlier time, so a reader that must miss nothing reads again from a little
/// before its last point (`updated_since`) and skips what it holds.
#[derive(Debug, Clone, Default)]
pub struct ChangedQuery {
    pub agencies: Vec<AgencyCode>,
    pub statuses: Vec<motcua_domain::DossierStatus>,
    /// Changed at or after this instant.
    pub updated_since: Option<OffsetDateTime>,
    /// After this (updated at, id): the cursor of the previous page.
    pub after: Option<(OffsetDateTime, DossierId)>,
    pub limit: u32,
}

/// The visitor counters of the footer. Nodes count in memory and write here every few seconds: a visitor is a
/// hash under the day's salt (no address is kept), counted once a day whichever node saw them.
#[async_trait]
pub trait VisitRepo: Send + Sync {
    /// The salt of `day`: the one stored, or `candidate` stored now (every node gets the same one).
    async fn salt(&self, day: Date, candidate: &str) -> StoreResult<String>;
    /// Record visitors seen on `day` (hash, last seen), in one commit; each counts once for the day, whichever
    /// node saw them and however often. How many were new.
    async fn record(&self, day: Date, seen: &[(String, OffsetDateTime)]) -> StoreResult<u64>;
    /// The counters on `day`: visitors seen since `online_since`, that day's, that month's (from the 1st), all.
    async fn counts(&self, day: Date, online_since: OffsetDateTime) -> StoreResult<VisitCounts>;
    /// Forget the visitors and salts of days before `day` (the counts per day stay); how many visitors went.
    async fn forget_before(&self, day: Date) -> StoreResult<u64>;
}

/// The footer's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VisitCounts {
    /// Seen in the last few minutes.
    pub online: u64,
    pub today: u64,
    pub month: u64,
    pub total: u64,
}

/// Articles of the portal: the editors' copies with every saved version, the approved version readers see, votes
/// and comments. Counts of stars and published comments are kept on the article in the same transaction as the
/// vote or the moderation that changes them.
#[async_trait]
pub trait ArticleRepo: Send + Sync {
    /// A new article: its first version, as a draft.
    async fn create(&self, article: &NewArticle) -> StoreResult<()>;
    /// Save the editors' copy as a new version (the article becomes a draft again; readers keep the approved
    /// version). `Conflict` when someone saved since `expected_version` was read. Returns the new version.
    async fn save(
        &self,
        id: Uuid,
        expected_version: u32,
        copy: &ArticleCopy,
        at: OffsetDateTime,
    ) -> StoreResult<u32>;
    async fn get(&self, id: Uuid) -> StoreResult<Option<Article>>;
    /// One saved version, or `None`.
    async fn version(&self, id: Uuid, version: u32) -> StoreResult<Option<ArticleCopy>>;
    /// Every version, newest first, bodies left empty.
    async fn versions(&self, id: Uuid) -> StoreResult<Vec<ArticleCopy>>;
    /// The editors' list, most recently changed first, one page, and how many there are in all.
    async fn list(
        &self,
        status: Option<motcua_domain::article::Status>,
        limit: u32,
        offset: u64,
    ) -> StoreResult<(Vec<Article>, u64)>;
    /// Move version `version` of the article by `step` (submit, approve, return): `Conflict` when the step
    /// cannot be taken from where it stands or the copy changed meanwhile. An approval makes the version what
    /// readers see, from `publish_at` (or now). Returns the new status.
    async fn review(&self, review: &Review) -> StoreResult<motcua_domain::article::Status>;
    /// Take the article down: readers no longer see it until it is approved again.
    async fn unpublish(&self, id: Uuid, by: AccountId, at: OffsetDateTime) -> StoreResult<()>;
    /// Every article with an approved version not taken down (those scheduled for later too), newest publish
    /// time first, without bodies.
    async fn live(&self) -> StoreResult<Vec<LiveArticle>>;
    /// A reader's vote: one per reader and article (a changed vote replaces the old one), and one new vote per
    /// address and article a day.
    async fn vote(&self, vote: &Vote) -> StoreResult<VoteOutcome>;
    /// A reader's comment, held or published as `comment.status` says.
    async fn comment(&self, comment: &NewComment) -> StoreResult<()>;
    /// The newest `limit` comments of one article in `status`, oldest of them first.
    async fn comments(
        &self,
        article: Uuid,
        status: motcua_domain::article::CommentStatus,
        limit: u32,
    ) -> StoreResult<Vec<Comment>>;
    /// Comments waiting for an editor, oldest first, at most `limit`, with how many wait in all.
    async fn held_comments(&self, limit: u32) -> StoreResult<(Vec<Comment>, u64)>;
    /// One comment waiting for an editor, or `None` (no such comment, or decided already).
    async fn held_comment(&self, id: Uuid) -> StoreResult<Option<Comment>>;
    /// Publish or reject a held comment, queueing `email` to the commenter in the same transaction. `Ok(None)`
    /// when the comment is not held (someone else decided first).
    async fn moderate(&self, decision: &Moderation) -> StoreResult<Option<Comment>>;
    /// A key shared by every node: the one stored under `name`, or `candidate` stored now.
    async fn site_key(&self, name: &str, candidate: &str) -> StoreResult<String>;
}

/// What an editor writes: one version of an article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleCopy {
    pub version: u32,
    pub category: motcua_domain::article::Category,
    pub title: String,
    pub summary: String,
    /// Sanitised HTML.
    pub body: String,
    /// Codes of related procedures.
    pub procedures: Vec<String>,
    pub saved_by: AccountId,
    pub saved_at: OffsetDateTime,
    /// When readers see this version once approved (`None`: from its approval) and stop seeing it.
    pub publish_at: Option<OffsetDateTime>,
    pub unpublish_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewArticle {
    pub id: Uuid,
    pub slug: String,
    /// Version 1.
    pub copy: ArticleCopy,
}

/// An article as editors see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    pub id: Uuid,
    pub slug: String,
    pub status: motcua_domain::article::Status,
    /// The editors' copy (the newest version).
    pub copy: ArticleCopy,
    /// The version readers see, if any.
    pub live_version: Option<u32>,
    /// Why the head editor sent it back.
    pub review_note: Option<String>,
    pub created_by: AccountId,
    pub created_at: OffsetDateTime,
    pub approved_by: Option<AccountId>,
    pub approved_at: Option<OffsetDateTime>,
    /// When readers see the live version, and until when (set from it at approval).
    pub live_from: Option<OffsetDateTime>,
    pub live_until: Option<OffsetDateTime>,
    pub stars_sum: u64,
    pub stars_count: u64,
    pub comments: u64,
}

/// A move of the editorial work on one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub id: Uuid,
    pub version: u32,
    pub step: motcua_domain::article::Step,
    pub by: AccountId,
    pub note: Option<String>,
    pub at: OffsetDateTime,
}

/// An article readers may see (now, or from `publish_at`), without its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveArticle {
    pub id: Uuid,
    pub slug: String,
    pub version: u32,
    pub category: motcua_domain::article::Category,
    pub title: String,
    pub summary: String,
    pub procedures: Vec<String>,
    pub publish_at: OffsetDateTime,
    pub unpublish_at: Option<OffsetDateTime>,
    pub stars_sum: u64,
    pub stars_count: u64,
    pub comments: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vote {
    pub article: Uuid,
    /// The reader (a hash of their cookie).
    pub voter: String,
    /// Vietnam's date of the vote, and the reader's address hashed under it.
    pub day: Date,
    pub address: String,
    pub stars: u8,
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoteOutcome {
    /// A first vote of this reader.
    Counted,
    /// The reader's earlier vote replaced.
    Changed,
    /// Another reader at this address voted on this article today: not counted.
    AddressUsedToday,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewComment {
    pub id: Uuid,
    pub article: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub body: String,
    pub status: motcua_domain::article::CommentStatus,
    pub account: Option<AccountId>,
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: Uuid,
    pub article: Uuid,
    /// The article's title and address (the moderation list).
    pub article_title: String,
    pub article_slug: String,
    pub name: String,
    pub email: Option<String>,
    pub body: String,
    pub status: motcua_domain::article::CommentStatus,
    pub reason: Option<String>,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moderation {
    pub comment: Uuid,
    pub publish: bool,
    pub reason: Option<String>,
    pub by: AccountId,
    pub at: OffsetDateTime,
    /// The message to the commenter, when they left an address.
    pub email: Option<motcua_domain::submission::OutgoingEmail>,
}

/// Which database is behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

pub mod decode;
