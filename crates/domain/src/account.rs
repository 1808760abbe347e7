//! Accounts: citizens (who apply) and officers (who receive, process and approve), and the roles officers are
//! granted per agency. Whether an account may do something is decided by the policy module, never here.

use serde::{Deserialize, Serialize};
use std::fmt;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::{AgencyCode, Email, NonEmptyText, ParseError, PersonalId, Phone};

/// Internal identifier of an account (UUIDv7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(pub Uuid);

impl AccountId {
    pub fn new() -> Self {
        AccountId(Uuid::now_v7())
    }
}

impl Default for AccountId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// Công dân, doanh nghiệp (applicants)
    Citizen,
    /// Cán bộ, công chức
    Officer,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Citizen => "citizen",
            AccountKind::Officer => "officer",
        }
    }

    pub fn parse(input: &str) -> Result<Self, ParseError> {
        match input {
            "citizen" => Ok(AccountKind::Citizen),
            "officer" => Ok(AccountKind::Officer),
            other => Err(ParseError::Invalid(format!(
                "Loại tài khoản “{other}” không tồn tại"
            ))),
        }
    }
}

/// An officer's role. Every role is granted for one agency (and optionally its sub-agencies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Cán bộ một cửa: receives and checks dossiers, returns results.
    Reception,
    /// Chuyên viên: processes dossiers.
    Specialist,
    /// Trưởng phòng, trưởng đơn vị: assigns, reviews, approves supplement requests and apologies.
    HeadOfUnit,
    /// Lãnh đạo: approves and signs results.
    Leader,
    /// Biên tập viên: news and portal content.
    Editor,
    /// Trưởng ban biên tập: approves articles before readers see them.
    HeadEditor,
    /// Quản trị hệ thống.
    Administrator,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Reception,
        Role::Specialist,
        Role::HeadOfUnit,
        Role::Leader,
        Role::Editor,
        Role::HeadEditor,
        Role::Administrator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reception => "reception",
            Role::Specialist => "specialist",
            Role::HeadOfUnit => "head_of_unit",
            Role::Leader => "leader",
            Role::Editor => "editor",
            Role::HeadEditor => "head_editor",
            Role::Administrator => "administrator",
        }
    }

    pub fn parse(input: &str) -> Result<Self, ParseError> {
        Self::ALL.into_iter().find(|r| r.as_str() == input).ok_or_else(|| {
            ParseError::Invalid(format!(
                "Vai trò “{input}” không tồn tại (reception, specialist, head_of_unit, leader, editor, head_editor, administrator)"
            ))
        })
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Role::Reception => "Cán bộ một cửa",
            Role::Specialist => "Chuyên viên",
            Role::HeadOfUnit => "Trưởng đơn vị",
            Role::Leader => "Lãnh đạo phê duyệt",
            Role::Editor => "Biên tập viên",
            Role::HeadEditor => "Trưởng ban biên tập",
            Role::Administrator => "Quản trị hệ thống",
        }
    }
}

/// A role held at an agency.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RoleGrant {
    pub role: Role,
    pub agency: AgencyCode,
    /// Also at every agency below it.
    pub include_sub_agencies: bool,
}

impl RoleGrant {
    /// `reception@000.00.06.H56`, with `+` at the end for sub-agencies (`leader@000.00.00.H56+`).
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let (role, agency) = input.trim().split_once('@').ok_or_else(|| {
            ParseError::Invalid(format!(
                "Quyền “{input}” phải có dạng vai_trò@mã_cơ_quan (ví dụ reception@000.00.06.H56)"
            ))
        })?;
        let (agency, include_sub_agencies) = match agency.strip_suffix('+') {
            Some(a) => (a, true),
            None => (agency, false),
        };
        Ok(RoleGrant {
            role: Role::parse(role)?,
            agency: AgencyCode::parse(agency)?,
            include_sub_agencies,
        })
    }
}

impl fmt::Display for RoleGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}@{}{}",
            self.role.as_str(),
            self.agency,
            if self.include_sub_agencies { "+" } else { "" }
        )
    }
}

/// An account as stored (the password only as its argon2id hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub kind: AccountKind,
    pub full_name: NonEmptyText,
    pub personal_id: Option<PersonalId>,
    pub birth_date: Option<Date>,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
    pub address: Option<String>,
    /// PHC string (`$argon2id$…`).
    pub password_hash: String,
    pub email_verified_at: Option<OffsetDateTime>,
    pub disabled: bool,
    pub created_at: OffsetDateTime,
    pub grants: Vec<RoleGrant>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_parse_and_print_back() {
        for text in ["reception@000.00.06.H56", "leader@000.00.00.H56+"] {
            assert_eq!(RoleGrant::parse(text).unwrap().to_string(), text);
        }
        assert!(RoleGrant::parse("reception").is_err());
        assert!(
            RoleGrant::parse("boss@000.00.06.H56")
                .unwrap_err()
                .to_string()
                .contains("không tồn tại")
        );
        assert!(RoleGrant::parse("reception@H56").is_err());
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
    }
}
