//! Turning stored columns back into domain types, shared by both backends so that they parse (and report
//! corrupt data) the same way. Each backend reads its columns into plain values and calls these.

use time::{Date, OffsetDateTime};
use uuid::Uuid;

use motcua_domain::{
    Agency, AgencyCode, AgencyLevel, CaseKey, Channel, Dossier, DossierCode, DossierId,
    DossierStatus, EventHash, Field, FieldCode, HistoryEvent, NonEmptyText, OnlineServiceLevel,
    Procedure, ProcedureCode, ServiceLevelAssignment,
};

use crate::{StoreError, StoreResult};

fn corrupt(what: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {err}"))
}

pub fn agency_code(value: &str) -> StoreResult<AgencyCode> {
    AgencyCode::parse(value).map_err(|e| corrupt("agency code", e))
}

fn opt_agency_code(value: Option<String>) -> StoreResult<Option<AgencyCode>> {
    value.as_deref().map(agency_code).transpose()
}

fn text(value: &str, what: &'static str) -> StoreResult<NonEmptyText> {
    NonEmptyText::parse(value).map_err(|e| corrupt(what, e))
}

/// An agency row.
pub struct AgencyRow {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub level: String,
    pub address: Option<String>,
    pub valid_from: Date,
    pub valid_until: Option<Date>,
    pub successor_code: Option<String>,
}

impl AgencyRow {
    pub fn decode(self) -> StoreResult<Agency> {
        Ok(Agency {
            code: agency_code(&self.code)?,
            name: text(&self.name, "agency name")?,
            parent: opt_agency_code(self.parent_code)?,
            level: AgencyLevel::parse(&self.level).map_err(|e| corrupt("agency level", e))?,
            address: self.address,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            successor: opt_agency_code(self.successor_code)?,
        })
    }
}

pub fn field(code: &str, name: &str) -> StoreResult<Field> {
    Ok(Field {
        code: FieldCode::parse(code).map_err(|e| corrupt("field code", e))?,
        name: text(name, "field name")?,
    })
}

pub fn procedure_code(value: &str) -> StoreResult<ProcedureCode> {
    ProcedureCode::parse(value).map_err(|e| corrupt("procedure code", e))
}

/// A procedure version's JSON document.
pub fn procedure_document(document: serde_json::Value) -> StoreResult<Procedure> {
    serde_json::from_value(document).map_err(|e| corrupt("procedure document", e))
}

pub fn version(value: i64) -> StoreResult<u32> {
    u32::try_from(value).map_err(|e| corrupt("version", e))
}

pub fn service_level(
    procedure: &str,
    case: &str,
    agency: &str,
    level: i64,
    effective_from: Date,
) -> StoreResult<ServiceLevelAssignment> {
    let level = u8::try_from(level)
        .map_err(|e| corrupt("online level", e))
        .and_then(|l| OnlineServiceLevel::try_from(l).map_err(|e| corrupt("online level", e)))?;
    Ok(ServiceLevelAssignment {
        procedure: procedure_code(procedure)?,
        case: CaseKey::parse(case).map_err(|e| corrupt("case key", e))?,
        agency: agency_code(agency)?,
        level,
        effective_from,
    })
}

pub fn dossier_code(value: &str) -> StoreResult<DossierCode> {
    DossierCode::parse(value).map_err(|e| corrupt("dossier code", e))
}

pub fn dossier_status(value: &str) -> StoreResult<DossierStatus> {
    DossierStatus::parse(value).map_err(|e| corrupt("dossier status", e))
}

/// A dossier row.
pub struct DossierRow {
    pub id: Uuid,
    pub code: String,
    pub agency_code: String,
    pub procedure_code: String,
    pub procedure_version: i64,
    pub case_key: String,
    pub channel: String,
    pub status: String,
    pub applicant_name: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub due_at: Option<OffsetDateTime>,
}

impl DossierRow {
    pub fn decode(self) -> StoreResult<Dossier> {
        Ok(Dossier {
            id: DossierId(self.id),
            code: dossier_code(&self.code)?,
            agency: agency_code(&self.agency_code)?,
            procedure: procedure_code(&self.procedure_code)?,
            procedure_version: version(self.procedure_version)?,
            case: CaseKey::parse(&self.case_key).map_err(|e| corrupt("case key", e))?,
            channel: Channel::parse(&self.channel).map_err(|e| corrupt("channel", e))?,
            status: dossier_status(&self.status)?,
            applicant_name: text(&self.applicant_name, "applicant name")?,
            created_at: self.created_at,
            updated_at: self.updated_at,
            due_at: self.due_at,
        })
    }
}

/// A history event row.
pub struct EventRow {
    pub id: Uuid,
    pub dossier_id: Uuid,
    pub seq: i64,
    pub at: OffsetDateTime,
    pub actor: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: Option<String>,
    pub due_at: Option<OffsetDateTime>,
    pub prev_hash: Option<String>,
    pub hash: String,
}

pub fn event_hash(hex: &str) -> StoreResult<EventHash> {
    EventHash::from_hex(hex).ok_or_else(|| corrupt("event hash", hex))
}

impl EventRow {
    pub fn decode(self) -> StoreResult<HistoryEvent> {
        Ok(HistoryEvent {
            id: self.id,
            dossier: DossierId(self.dossier_id),
            seq: version(self.seq)?,
            at: self.at,
            actor: self.actor,
            from: self
                .from_status
                .as_deref()
                .map(dossier_status)
                .transpose()?,
            to: dossier_status(&self.to_status)?,
            reason: self.reason,
            due_at: self.due_at,
            prev_hash: self.prev_hash.as_deref().map(event_hash).transpose()?,
            hash: event_hash(&self.hash)?,
        })
    }
}

/// Parse a UUID stored as text (SQLite).
pub fn uuid_text(value: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(value).map_err(|e| corrupt("uuid", e))
}

/// An account row (grants read separately).
pub struct AccountRow {
    pub id: Uuid,
    pub kind: String,
    pub full_name: String,
    pub personal_id: Option<String>,
    pub birth_date: Option<Date>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub password_hash: String,
    pub email_verified_at: Option<OffsetDateTime>,
    pub disabled: bool,
    pub created_at: OffsetDateTime,
}

impl AccountRow {
    pub fn decode(
        self,
        grants: Vec<motcua_domain::RoleGrant>,
    ) -> StoreResult<motcua_domain::Account> {
        use motcua_domain::{AccountKind, Email, PersonalId, Phone};
        Ok(motcua_domain::Account {
            id: motcua_domain::AccountId(self.id),
            kind: AccountKind::parse(&self.kind).map_err(|e| corrupt("account kind", e))?,
            full_name: text(&self.full_name, "full name")?,
            personal_id: self
                .personal_id
                .as_deref()
                .map(PersonalId::parse)
                .transpose()
                .map_err(|e| corrupt("personal id", e))?,
            birth_date: self.birth_date,
            phone: self
                .phone
                .as_deref()
                .map(Phone::parse)
                .transpose()
                .map_err(|e| corrupt("phone", e))?,
            email: self
                .email
                .as_deref()
                .map(Email::parse)
                .transpose()
                .map_err(|e| corrupt("email", e))?,
            address: self.address,
            password_hash: self.password_hash,
            email_verified_at: self.email_verified_at,
            disabled: self.disabled,
            created_at: self.created_at,
            grants,
        })
    }
}

pub fn grant(
    role: &str,
    agency: &str,
    include_sub_agencies: bool,
) -> StoreResult<motcua_domain::RoleGrant> {
    Ok(motcua_domain::RoleGrant {
        role: motcua_domain::Role::parse(role).map_err(|e| corrupt("role", e))?,
        agency: agency_code(agency)?,
        include_sub_agencies,
    })
}

pub fn audit_kind(value: &str) -> StoreResult<motcua_domain::AuditKind> {
    motcua_domain::AuditKind::parse(value).ok_or_else(|| corrupt("audit kind", value))
}

/// A draft as both backends read it.
pub struct DraftRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub procedure_code: String,
    pub procedure_version: i64,
    pub case_key: String,
    pub agency_code: String,
    /// JSON text of the answers.
    pub answers: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub dossier_id: Option<Uuid>,
}

impl DraftRow {
    pub fn decode(self) -> StoreResult<motcua_domain::submission::Draft> {
        use motcua_domain::submission::{Draft, DraftId};
        Ok(Draft {
            id: DraftId(self.id),
            account: motcua_domain::AccountId(self.account_id),
            procedure: procedure_code(&self.procedure_code)?,
            procedure_version: version(self.procedure_version)?,
            case: motcua_domain::CaseKey::parse(&self.case_key)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            agency: agency_code(&self.agency_code)?,
            answers: answers(&self.answers)?,
            created_at: self.created_at,
            updated_at: self.updated_at,
            dossier: self.dossier_id.map(motcua_domain::DossierId),
        })
    }
}

/// Form answers stored as JSON text.
pub fn answers(json: &str) -> StoreResult<motcua_domain::form::Answers> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("form answers: {e}")))
}

pub fn answers_json(answers: &motcua_domain::form::Answers) -> String {
    // a map of strings to lists of strings always serialises
    serde_json::to_string(answers).unwrap_or_else(|_| "{}".into())
}

/// An upload as both backends read it.
pub struct UploadRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub draft_id: Uuid,
    pub component: i64,
    pub file_name: String,
    pub object_key: String,
    pub file_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: OffsetDateTime,
    pub dossier_id: Option<Uuid>,
}

impl UploadRow {
    pub fn decode(self) -> StoreResult<motcua_domain::submission::Upload> {
        use motcua_domain::submission::{DraftId, Upload, UploadId};
        Ok(Upload {
            id: UploadId(self.id),
            account: motcua_domain::AccountId(self.account_id),
            draft: DraftId(self.draft_id),
            component: u16::try_from(self.component)
                .map_err(|e| StoreError::Corrupt(format!("component {}: {e}", self.component)))?,
            file_name: self.file_name,
            object_key: self.object_key,
            file_type: motcua_domain::upload::FileType::parse(&self.file_type)
                .ok_or_else(|| StoreError::Corrupt(format!("file type {}", self.file_type)))?,
            size: u64::try_from(self.size)
                .map_err(|e| StoreError::Corrupt(format!("size {}: {e}", self.size)))?,
            sha256: self.sha256,
            created_at: self.created_at,
            dossier: self.dossier_id.map(motcua_domain::DossierId),
        })
    }
}

/// The payload of an `email` job: the message with the dossier code filled in.
pub fn email_payload(
    email: &motcua_domain::submission::OutgoingEmail,
    code: &DossierCode,
) -> String {
    let code = code.to_string();
    serde_json::json!({
        "to": email.to,
        "subject": email.subject.replace("{code}", &code),
        "body": email.body.replace("{code}", &code),
    })
    .to_string()
}

/// A stored step holding, column by column.
pub struct StepRow {
    pub dossier_id: Uuid,
    pub seq: i64,
    pub step_index: i64,
    pub workflow_version: i64,
    pub name: String,
    pub agency_code: String,
    pub role: String,
    pub quota_hours: i64,
    pub assignee: Option<Uuid>,
    pub assignee_name: Option<String>,
    pub started_at: OffsetDateTime,
    pub started_by: String,
    pub due_at: OffsetDateTime,
    pub ended_at: Option<OffsetDateTime>,
    pub ended_by: Option<String>,
    pub outcome: Option<String>,
    pub note: Option<String>,
}

impl StepRow {
    pub fn decode(self) -> StoreResult<motcua_domain::workflow::StepRecord> {
        let small = |v: i64, what: &str| u32::try_from(v).map_err(|e| corrupt(what, e));
        Ok(motcua_domain::workflow::StepRecord {
            dossier: DossierId(self.dossier_id),
            seq: small(self.seq, "step seq")?,
            index: small(self.step_index, "step index")?,
            workflow_version: small(self.workflow_version, "workflow version")?,
            name: self.name,
            agency: agency_code(&self.agency_code)?,
            role: motcua_domain::Role::parse(&self.role).map_err(|e| corrupt("step role", e))?,
            quota_hours: small(self.quota_hours, "step quota")?,
            assignee: self.assignee.map(motcua_domain::AccountId),
            assignee_name: self.assignee_name,
            started_at: self.started_at,
            started_by: self.started_by,
            due_at: self.due_at,
            ended_at: self.ended_at,
            ended_by: self.ended_by,
            outcome: self
                .outcome
                .as_deref()
                .map(motcua_domain::workflow::StepOutcome::parse)
                .transpose()
                .map_err(|e| corrupt("step outcome", e))?,
            note: self.note,
        })
    }
}

/// A stored result, column by column.
pub struct ResultRow {
    pub dossier_id: Uuid,
    pub document_number: String,
    pub signer: String,
    pub signed_on: String,
    pub file_key: Option<String>,
    pub file_name: Option<String>,
    pub file_type: Option<String>,
    pub file_size: Option<i64>,
    pub file_sha256: Option<String>,
    pub entered_by: String,
    pub entered_at: OffsetDateTime,
    pub seal_signature_key: Option<String>,
    pub seal_code: Option<String>,
    pub seal_fingerprint: Option<String>,
    pub seal_signed_by: Option<String>,
    pub seal_at: Option<OffsetDateTime>,
}

impl ResultRow {
    pub fn decode(self) -> StoreResult<motcua_domain::workflow::DossierResult> {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let file = match (self.file_key, self.file_name, self.file_type) {
            (Some(object_key), Some(file_name), Some(file_type)) => {
                Some(motcua_domain::workflow::ResultFile {
                    object_key,
                    file_name,
                    file_type,
                    size: u64::try_from(self.file_size.unwrap_or(0))
                        .map_err(|e| corrupt("result file size", e))?,
                    sha256: self.file_sha256.unwrap_or_default(),
                    seal: match (
                        self.seal_signature_key,
                        self.seal_code,
                        self.seal_fingerprint,
                        self.seal_at,
                    ) {
                        (Some(signature_key), Some(code), Some(fingerprint), Some(at)) => {
                            Some(motcua_domain::workflow::Seal {
                                signature_key,
                                code,
                                fingerprint,
                                signed_by: self.seal_signed_by.unwrap_or_default(),
                                at,
                            })
                        }
                        _ => None,
                    },
                })
            }
            _ => None,
        };
        Ok(motcua_domain::workflow::DossierResult {
            dossier: DossierId(self.dossier_id),
            document_number: self.document_number,
            signer: self.signer,
            signed_on: Date::parse(&self.signed_on, format)
                .map_err(|e| corrupt("result signed on", e))?,
            file,
            entered_by: self.entered_by,
            entered_at: self.entered_at,
        })
    }
}

/// A date as stored (`yyyy-mm-dd`).
pub fn iso_date(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}
