//! API clients: another system (a ministry's system, the province's data platform, a mobile app's back end) that
//! reads and acts on dossiers through `/api/v1` for the agencies an administrator named, within the scopes granted.
//! A client holds keys; a key is shown once when made and kept only as its SHA-256, so a copy of the database
//! lets nobody call the API. Keys expire, can be revoked one by one, and a client holds several at once so that a
//! key is rotated without a gap (make the new one, switch, revoke the old one).
//!
//! What a client may do on a dossier is decided by the policy, as for an officer: [`ApiClient::as_officer`] gives
//! the client the desk roles its scopes stand for at its agencies, and nothing else.

use std::fmt;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    Account, AccountId, AccountKind, AgencyCode, NonEmptyText, Role, RoleGrant, text::clean_input,
};

/// Identifier of an API client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ApiClientId(pub Uuid);

impl ApiClientId {
    pub fn new() -> Self {
        ApiClientId(Uuid::now_v7())
    }
}

impl Default for ApiClientId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for ApiClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a client may do at its agencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Read the agencies' dossiers and their history (`dossiers:read`).
    Read,
    /// Answer at reception as the one-stop desk does: receive, request a supplement, refuse
    /// (`dossiers:receive`; reading comes with it).
    Receive,
}

impl Scope {
    pub const ALL: [Scope; 2] = [Scope::Read, Scope::Receive];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "dossiers:read",
            Scope::Receive => "dossiers:receive",
        }
    }

    pub fn parse(input: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == input)
    }

    pub fn label(self) -> &'static str {
        match self {
            Scope::Read => "Đọc hồ sơ và lịch sử xử lý",
            Scope::Receive => "Tiếp nhận, yêu cầu bổ sung, từ chối hồ sơ (như cán bộ một cửa)",
        }
    }

    /// The desk role this scope stands for, if it acts.
    fn role(self) -> Option<Role> {
        match self {
            Scope::Read => None,
            Scope::Receive => Some(Role::Reception),
        }
    }
}

/// The requests a client may make in a minute unless the administrator says otherwise.
pub const DEFAULT_PER_MINUTE: u32 = 600;
/// The most an administrator may allow.
pub const MAX_PER_MINUTE: u32 = 60_000;

/// A system allowed to call the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiClient {
    pub id: ApiClientId,
    pub name: NonEmptyText,
    pub agencies: Vec<AgencyCode>,
    pub scopes: Vec<Scope>,
    /// Requests a minute, counted across every node.
    pub per_minute: u32,
    pub created_at: OffsetDateTime,
    /// Who made it (the administrator, as "name (id)").
    pub created_by: String,
    /// Switched off: every key is refused.
    pub disabled_at: Option<OffsetDateTime>,
}

impl ApiClient {
    /// Whether the client was granted `scope` (receiving includes reading) at `agency`.
    pub fn may(&self, scope: Scope, agency: &AgencyCode) -> bool {
        self.disabled_at.is_none()
            && self.agencies.contains(agency)
            && (self.scopes.contains(&scope)
                || (scope == Scope::Read && self.scopes.contains(&Scope::Receive)))
    }

    /// The client as the policy sees it: an officer holding, at each of its agencies (not below them), the desk
    /// role each acting scope stands for. Its id is the client's, so history names it.
    pub fn as_officer(&self) -> Account {
        let grants = self
            .scopes
            .iter()
            .filter_map(|s| s.role())
            .flat_map(|role| {
                self.agencies.iter().map(move |agency| RoleGrant {
                    role,
                    agency: agency.clone(),
                    include_sub_agencies: false,
                })
            })
            .collect();
        Account {
            id: AccountId(self.id.0),
            kind: AccountKind::Officer,
            full_name: self.name.clone(),
            personal_id: None,
            birth_date: None,
            phone: None,
            email: None,
            address: None,
            password_hash: String::new(),
            email_verified_at: None,
            disabled: self.disabled_at.is_some(),
            created_at: self.created_at,
            grants,
        }
    }

    /// How the client is named in a dossier's history.
    pub fn actor(&self) -> String {
        format!("Hệ thống {} (API, {})", self.name, self.id)
    }
}

/// What an administrator typed to make a client, checked.
#[derive(Debug, Clone, Default)]
pub struct ApiClientInput {
    pub name: String,
    /// Agency codes, one per line or separated by commas or spaces.
    pub agencies: String,
    pub scopes: Vec<String>,
    pub per_minute: String,
}

impl ApiClientInput {
    /// The client, or each field's problem in Vietnamese. `known(code)` says whether an agency is in the tree,
    /// `managed(code)` whether the administrator may name it.
    pub fn check(
        &self,
        known: &dyn Fn(&AgencyCode) -> bool,
        managed: &dyn Fn(&AgencyCode) -> bool,
        by: String,
        at: OffsetDateTime,
    ) -> Result<ApiClient, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        let name = clean_input(&self.name);
        let name = match NonEmptyText::parse(&name) {
            Ok(n) if name.chars().count() <= 200 => Some(n),
            Ok(_) => {
                errors.push(("ten", "Tên hệ thống dài quá 200 ký tự".to_string()));
                None
            }
            Err(_) => {
                errors.push((
                    "ten",
                    "Nhập tên hệ thống kết nối (ví dụ: Hệ thống thông tin của Sở Tư pháp)"
                        .to_string(),
                ));
                None
            }
        };
        let mut agencies = Vec::new();
        for word in self
            .agencies
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .filter(|w| !w.is_empty())
        {
            match AgencyCode::parse(word) {
                Ok(code) if known(&code) && managed(&code) => {
                    if !agencies.contains(&code) {
                        agencies.push(code)
                    }
                }
                Ok(code) if known(&code) => {
                    errors.push(("co_quan", format!("Bạn không quản lý cơ quan mã “{word}”")))
                }
                _ => errors.push((
                    "co_quan",
                    format!("Không có cơ quan mã “{word}” trong danh mục"),
                )),
            }
        }
        if agencies.is_empty() && !errors.iter().any(|(f, _)| *f == "co_quan") {
            errors.push((
                "co_quan",
                "Nhập mã ít nhất một cơ quan mà hệ thống được làm việc thay".to_string(),
            ));
        }
        let mut scopes = Vec::new();
        for s in &self.scopes {
            match Scope::parse(s.trim()) {
                Some(scope) if !scopes.contains(&scope) => scopes.push(scope),
                Some(_) => {}
                None => errors.push(("pham_vi", format!("Không có phạm vi “{s}”"))),
            }
        }
        scopes.sort();
        if scopes.is_empty() && !errors.iter().any(|(f, _)| *f == "pham_vi") {
            errors.push(("pham_vi", "Chọn ít nhất một phạm vi".to_string()));
        }
        let typed = self.per_minute.trim();
        let per_minute = if typed.is_empty() {
            Some(DEFAULT_PER_MINUTE)
        } else {
            match typed.parse::<u32>() {
                Ok(n) if (1..=MAX_PER_MINUTE).contains(&n) => Some(n),
                _ => {
                    errors.push((
                        "gioi_han",
                        format!("Giới hạn là một số từ 1 đến {MAX_PER_MINUTE} yêu cầu mỗi phút"),
                    ));
                    None
                }
            }
        };
        match (name, per_minute) {
            (Some(name), Some(per_minute)) if errors.is_empty() => Ok(ApiClient {
                id: ApiClientId::new(),
                name,
                agencies,
                scopes,
                per_minute,
                created_at: at,
                created_by: by,
                disabled_at: None,
            }),
            _ => Err(errors),
        }
    }
}

/// What every key starts with, so a key found in a repository or a log is recognised (secret scanners).
pub const KEY_PREFIX: &str = "motcua_";

/// A key's secret text from 32 random bytes: `motcua_` and 64 hex digits.
pub fn key_text(random: &[u8; 32]) -> String {
    let mut text = String::with_capacity(KEY_PREFIX.len() + 64);
    text.push_str(KEY_PREFIX);
    for b in random {
        text.push_str(&format!("{b:02x}"));
    }
    text
}

/// The SHA-256 (hex) a key is kept and found by. A key is 256 random bits, so a fast hash is enough: there is
/// nothing to guess.
pub fn key_hash(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The part of a key shown to administrators to tell keys apart (never enough to use it).
pub fn key_hint(text: &str) -> String {
    text.chars().take(KEY_PREFIX.len() + 6).collect()
}

/// How long a new key lives unless the administrator says otherwise.
pub const DEFAULT_KEY_DAYS: i64 = 365;
/// The longest a key may live.
pub const MAX_KEY_DAYS: i64 = 730;

/// A key as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub hash: String,
    pub client: ApiClientId,
    pub hint: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

impl ApiKey {
    /// A new key for `client` from 32 random bytes, living `days` days from `now`: its text (to show once, never
    /// kept) and the record kept.
    pub fn issue(
        client: ApiClientId,
        random: &[u8; 32],
        now: OffsetDateTime,
        days: i64,
    ) -> (String, ApiKey) {
        let text = key_text(random);
        let key = ApiKey {
            hash: key_hash(&text),
            client,
            hint: key_hint(&text),
            created_at: now,
            expires_at: now + time::Duration::days(days),
            revoked_at: None,
        };
        (text, key)
    }

    /// Whether the key opens the API at `now`.
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// What every personal token starts with (a citizen's own key to the API, for an app or a script of theirs).
pub const PERSONAL_PREFIX: &str = "motcua_pat_";

/// How long a personal token lives unless its owner says otherwise, and at most.
pub const DEFAULT_PERSONAL_DAYS: i64 = 90;
pub const MAX_PERSONAL_DAYS: i64 = 365;

/// A personal token as kept: it acts for its owner on the owner's own dossiers, nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalToken {
    pub hash: String,
    pub account: AccountId,
    /// What the owner called it ("Ứng dụng trên điện thoại").
    pub label: String,
    pub hint: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

impl PersonalToken {
    /// A new token for `account` from 32 random bytes: its text (shown once) and the record kept.
    pub fn issue(
        account: AccountId,
        label: String,
        random: &[u8; 32],
        now: OffsetDateTime,
        days: i64,
    ) -> (String, PersonalToken) {
        let text = format!("{PERSONAL_PREFIX}{}", &key_text(random)[KEY_PREFIX.len()..]);
        let token = PersonalToken {
            hash: key_hash(&text),
            account,
            label,
            hint: text.chars().take(PERSONAL_PREFIX.len() + 6).collect(),
            created_at: now,
            expires_at: now + time::Duration::days(days),
            revoked_at: None,
        };
        (text, token)
    }

    /// Whether the token opens the API at `now`.
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// One call, for the call log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiCall {
    pub client: ApiClientId,
    pub key_hint: String,
    pub at: OffsetDateTime,
    pub method: String,
    /// The path without its query (queries may carry names).
    pub path: String,
    pub status: u16,
    pub millis: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, agencies: &str, scopes: &[&str], per_minute: &str) -> ApiClientInput {
        ApiClientInput {
            name: name.into(),
            agencies: agencies.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            per_minute: per_minute.into(),
        }
    }

    fn known(code: &AgencyCode) -> bool {
        code.as_str().ends_with("H56")
    }

    #[test]
    fn a_client_is_made_only_from_known_agencies_and_real_scopes() {
        let at = OffsetDateTime::UNIX_EPOCH;
        let ok = input(
            " Sở Tư pháp ",
            "000.31.00.H56, 000.32.00.H56\n000.31.00.H56",
            &["dossiers:receive", "dossiers:read"],
            "",
        )
        .check(&known, &|_| true, "admin".into(), at)
        .unwrap();
        assert_eq!(ok.name.as_str(), "Sở Tư pháp");
        assert_eq!(ok.agencies.len(), 2, "a repeated code counts once");
        assert_eq!(ok.scopes, vec![Scope::Read, Scope::Receive]);
        assert_eq!(ok.per_minute, DEFAULT_PER_MINUTE);

        let errors = input("", "000.00.07.H57 xyz", &["dossiers:delete"], "0")
            .check(&known, &|_| true, "admin".into(), at)
            .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            fields,
            vec!["ten", "co_quan", "co_quan", "pham_vi", "gioi_han"]
        );
        assert!(errors[1].1.contains("000.00.07.H57"));
        let errors = input("X", "", &[], "60001")
            .check(&known, &|_| true, "admin".into(), at)
            .unwrap_err();
        assert_eq!(errors.len(), 3);
    }

    #[test]
    fn receiving_includes_reading_and_only_at_the_clients_agencies() {
        let at = OffsetDateTime::UNIX_EPOCH;
        let ward = AgencyCode::parse("000.31.00.H56").unwrap();
        let other = AgencyCode::parse("000.32.00.H56").unwrap();
        let reader = input("A", "000.31.00.H56", &["dossiers:read"], "")
            .check(&known, &|_| true, "x".into(), at)
            .unwrap();
        assert!(reader.may(Scope::Read, &ward));
        assert!(!reader.may(Scope::Receive, &ward));
        assert!(!reader.may(Scope::Read, &other));
        assert!(
            reader.as_officer().grants.is_empty(),
            "reading is no desk role"
        );
        let mut desk = input("B", "000.31.00.H56", &["dossiers:receive"], "")
            .check(&known, &|_| true, "x".into(), at)
            .unwrap();
        assert!(desk.may(Scope::Read, &ward));
        assert!(desk.may(Scope::Receive, &ward));
        let officer = desk.as_officer();
        assert_eq!(officer.grants.len(), 1);
        assert_eq!(officer.grants[0].role, Role::Reception);
        assert!(!officer.grants[0].include_sub_agencies);
        desk.disabled_at = Some(at);
        assert!(!desk.may(Scope::Read, &ward));
        assert!(desk.as_officer().disabled);
    }

    #[test]
    fn personal_tokens_are_told_apart_from_clients_keys() {
        let at = OffsetDateTime::UNIX_EPOCH;
        let (text, token) =
            PersonalToken::issue(AccountId::new(), "Điện thoại".into(), &[0xcd; 32], at, 30);
        assert!(text.starts_with("motcua_pat_cdcd"));
        assert_eq!(text.len(), PERSONAL_PREFIX.len() + 64);
        assert_eq!(token.hash, key_hash(&text));
        assert_eq!(token.hint, "motcua_pat_cdcdcd");
        assert!(token.is_live(at));
        assert!(!token.is_live(at + time::Duration::days(30)));
        assert_ne!(key_hash(&text), key_hash(&key_text(&[0xcd; 32])));
    }

    #[test]
    fn keys_are_kept_as_their_hash_and_shown_by_a_short_hint() {
        let text = key_text(&[0xab; 32]);
        assert_eq!(text.len(), KEY_PREFIX.len() + 64);
        assert!(text.starts_with("motcua_abab"));
        let hash = key_hash(&text);
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, key_hash(&key_text(&[0xac; 32])));
        assert_eq!(key_hint(&text), "motcua_ababab");
        let at = OffsetDateTime::UNIX_EPOCH;
        let key = ApiKey {
            hash,
            client: ApiClientId::new(),
            hint: key_hint(&text),
            created_at: at,
            expires_at: at + time::Duration::days(1),
            revoked_at: None,
        };
        assert!(key.is_live(at));
        assert!(!key.is_live(at + time::Duration::days(1)), "expired");
        let revoked = ApiKey {
            revoked_at: Some(at),
            ..key
        };
        assert!(!revoked.is_live(at));
    }
}
