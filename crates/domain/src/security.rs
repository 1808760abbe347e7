//! Sessions and the security audit trail, as plain records. Tokens never appear here: a session is known by
//! the SHA-256 of its cookie token, so a copy of the database does not let anyone log in.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::AccountId;

/// SHA-256 (hex) of a session token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionKey(String);

impl SessionKey {
    pub fn of_token(token: &str) -> SessionKey {
        let digest = Sha256::digest(token.as_bytes());
        SessionKey(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// A key read back from storage.
    pub fn from_stored(hex: String) -> SessionKey {
        SessionKey(hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a one-time link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenPurpose {
    PasswordReset,
    EmailVerification,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::PasswordReset => "password_reset",
            TokenPurpose::EmailVerification => "email_verification",
        }
    }
}

/// A logged-in session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub key: SessionKey,
    pub account: AccountId,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    /// The absolute end, however active the session is.
    pub expires_at: OffsetDateTime,
}

impl Session {
    /// Whether the session is still usable at `now` with this idle timeout.
    pub fn is_alive(&self, now: OffsetDateTime, idle: time::Duration) -> bool {
        now < self.expires_at && now - self.last_seen_at < idle
    }
}

/// Kinds of security event, kept as stable strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    LoginSucceeded,
    LoginFailed,
    LockedOut,
    LoggedOut,
    LoggedOutEverywhere,
    SessionExpired,
    PasswordChanged,
    PasswordResetRequested,
    AccountCreated,
    RolesChanged,
    AccessDenied,
    ContactChanged,
    /// An API client made, switched off or on, or one of its keys issued or revoked.
    ApiClientChanged,
}

impl AuditKind {
    pub const ALL: [AuditKind; 13] = [
        AuditKind::LoginSucceeded,
        AuditKind::LoginFailed,
        AuditKind::LockedOut,
        AuditKind::LoggedOut,
        AuditKind::LoggedOutEverywhere,
        AuditKind::SessionExpired,
        AuditKind::PasswordChanged,
        AuditKind::PasswordResetRequested,
        AuditKind::AccountCreated,
        AuditKind::RolesChanged,
        AuditKind::AccessDenied,
        AuditKind::ContactChanged,
        AuditKind::ApiClientChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::LoginSucceeded => "login_succeeded",
            AuditKind::LoginFailed => "login_failed",
            AuditKind::LockedOut => "locked_out",
            AuditKind::LoggedOut => "logged_out",
            AuditKind::LoggedOutEverywhere => "logged_out_everywhere",
            AuditKind::SessionExpired => "session_expired",
            AuditKind::PasswordChanged => "password_changed",
            AuditKind::PasswordResetRequested => "password_reset_requested",
            AuditKind::AccountCreated => "account_created",
            AuditKind::RolesChanged => "roles_changed",
            AuditKind::AccessDenied => "access_denied",
            AuditKind::ContactChanged => "contact_changed",
            AuditKind::ApiClientChanged => "api_client_changed",
        }
    }

    pub fn parse(input: &str) -> Option<AuditKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == input)
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            AuditKind::LoginSucceeded => "Đăng nhập thành công",
            AuditKind::LoginFailed => "Đăng nhập thất bại",
            AuditKind::LockedOut => "Tạm khóa do đăng nhập sai nhiều lần",
            AuditKind::LoggedOut => "Đăng xuất",
            AuditKind::LoggedOutEverywhere => "Đăng xuất trên mọi thiết bị",
            AuditKind::SessionExpired => "Hết phiên làm việc",
            AuditKind::PasswordChanged => "Đổi mật khẩu",
            AuditKind::PasswordResetRequested => "Yêu cầu đặt lại mật khẩu",
            AuditKind::AccountCreated => "Tạo tài khoản",
            AuditKind::RolesChanged => "Thay đổi quyền",
            AuditKind::AccessDenied => "Truy cập bị từ chối",
            AuditKind::ContactChanged => "Đổi số điện thoại hoặc thư điện tử",
            AuditKind::ApiClientChanged => "Thay đổi hệ thống kết nối API hoặc khóa API",
        }
    }
}

/// One entry of the security audit trail: who, what, when, from where, with what outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: Uuid,
    pub at: OffsetDateTime,
    pub kind: AuditKind,
    /// The account acting, when known.
    pub actor: Option<AccountId>,
    /// What the event was about (a masked login name, a route, an account id), never a secret.
    pub subject: Option<String>,
    pub ip: Option<String>,
    pub success: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn keys_are_hashes_not_tokens() {
        let key = SessionKey::of_token("bí mật");
        assert_eq!(key.as_str().len(), 64);
        assert!(!key.as_str().contains("bí"));
        assert_eq!(key, SessionKey::of_token("bí mật"));
    }

    #[test]
    fn a_session_dies_when_idle_or_at_its_absolute_end() {
        let s = Session {
            key: SessionKey::of_token("t"),
            account: AccountId::new(),
            created_at: datetime!(2026-01-05 01:00 UTC),
            last_seen_at: datetime!(2026-01-05 02:00 UTC),
            expires_at: datetime!(2026-01-05 09:00 UTC),
        };
        let idle = time::Duration::minutes(15);
        assert!(s.is_alive(datetime!(2026-01-05 02:14 UTC), idle));
        assert!(!s.is_alive(datetime!(2026-01-05 02:15 UTC), idle));
        let mut busy = s.clone();
        busy.last_seen_at = datetime!(2026-01-05 08:59 UTC);
        assert!(!busy.is_alive(datetime!(2026-01-05 09:00 UTC), idle));
        for kind in AuditKind::ALL {
            assert_eq!(AuditKind::parse(kind.as_str()), Some(kind));
        }
    }
}
