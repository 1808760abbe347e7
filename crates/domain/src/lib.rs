//! The pure rules of motcua: the records of the administrative-procedure catalogue, online service levels,
//! dossier statuses and their allowed transitions, human codes and money.
//!
//! Nothing here does I/O. Every type that reaches this crate from the outside world is parsed into a newtype
//! that cannot hold an invalid value ("parse, don't validate"), so code further in never re-checks.

pub mod account;
pub mod agency;
pub mod api_client;
pub mod article;
pub mod desk;
pub mod dossier;
pub mod error;
pub mod field;
pub mod form;
pub mod identity;
pub mod index766;
pub mod level;
pub mod money;
pub mod payment;
pub mod policy;
pub mod postal;
pub mod procedure;
pub mod rating;
pub mod security;
pub mod submission;
pub mod text;
pub mod upload;
pub mod vntime;
pub mod webhook;
pub mod workflow;

pub use account::{Account, AccountId, AccountKind, Role, RoleGrant};
pub use agency::{Agency, AgencyCode, AgencyField, AgencyInput, AgencyLevel};
pub use dossier::{
    Channel, ClockState, Dossier, DossierCode, DossierId, DossierStatus, EventHash, HistoryEvent,
    NewDossier, Transition,
};
pub use error::ParseError;
pub use field::{Field, FieldCode};
pub use identity::{Email, LoginName, PersonalId, Phone, check_password};
pub use level::{OnlineServiceLevel, ServiceLevelAssignment};
pub use money::Vnd;
pub use procedure::{
    ApplicantKind, CaseKey, ChannelTimeLimit, Component, FeeDue, FeeKind, FeeLine,
    ImplementingLevel, LegalBasis, Procedure, ProcedureCase, ProcedureCode, TimeLimit, TimeUnit,
};
pub use security::{AuditEvent, AuditKind, Session, SessionKey, TokenPurpose};
pub use text::NonEmptyText;
