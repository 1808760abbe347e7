//! Sessions in the browser: a random token in a cookie (`__Host-motcua` over HTTPS; `motcua_session` when
//! plain HTTP is allowed for development), known to the database only by its hash. Every request loads the
//! viewer; an idle or expired session ends on the server whatever the browser does.

use axum::{
    extract::{ConnectInfo, FromRequestParts, Request, State},
    http::{HeaderMap, HeaderValue, header, request::Parts},
    middleware::Next,
    response::Response,
};
use std::{convert::Infallible, net::SocketAddr};
use time::{Duration, OffsetDateTime};

use motcua_domain::{Account, AuditEvent, AuditKind, Session, SessionKey};

use crate::AppState;

/// How sessions behave.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// Logged out after this long without activity (a 60-second warning comes first in the browser).
    pub idle: Duration,
    /// Logged out this long after login, whatever the activity.
    pub absolute: Duration,
    /// Cookies only over HTTPS (`Secure`, `__Host-` prefix). Off only for plain-HTTP development.
    pub secure_cookies: bool,
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            idle: Duration::minutes(15),
            absolute: Duration::hours(8),
            secure_cookies: true,
        }
    }
}

impl SessionSettings {
    pub fn cookie_name(&self) -> &'static str {
        if self.secure_cookies {
            "__Host-motcua"
        } else {
            "motcua_session"
        }
    }

    /// `Set-Cookie` for a new session token.
    pub(crate) fn cookie(&self, token: &str) -> String {
        let secure = if self.secure_cookies { "; Secure" } else { "" };
        format!(
            "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            self.cookie_name(),
            self.absolute.whole_seconds()
        )
    }

    /// `Set-Cookie` that removes the session cookie.
    pub(crate) fn clear_cookie(&self) -> String {
        let secure = if self.secure_cookies { "; Secure" } else { "" };
        format!(
            "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}",
            self.cookie_name()
        )
    }
}

/// Who is looking at the page. Put into every request by [`load`].
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    pub account: Option<Account>,
    pub session: Option<SessionKey>,
    /// The request came with a session that had ended (idle or absolute timeout).
    pub expired: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Viewer>()
            .cloned()
            .unwrap_or_default())
    }
}

pub(crate) fn cookie_token(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A new random token (256 bits from the OS generator, hex).
pub(crate) fn new_token() -> String {
    let bytes = [
        uuid::Uuid::new_v4().into_bytes(),
        uuid::Uuid::new_v4().into_bytes(),
    ]
    .concat();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Touch the session at most once a minute, so browsing does not write on every request.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// Middleware: resolve the session cookie into a [`Viewer`]. A database error leaves the visitor anonymous for
/// this request rather than failing pages that need no login.
pub(crate) async fn load(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let settings = &state.sessions;
    let mut viewer = Viewer::default();
    let mut clear = false;
    if let Some(token) = cookie_token(request.headers(), settings.cookie_name()) {
        let key = SessionKey::of_token(&token);
        match state.store.sessions.find(&key).await {
            Ok(Some(session)) => {
                let now = OffsetDateTime::now_utc();
                // `/phien/trang-thai` asks how long is left; it must not count as activity
                let passive = request.uri().path() == "/phien/trang-thai";
                if session.is_alive(now, settings.idle) {
                    if !passive && now - session.last_seen_at >= TOUCH_EVERY {
                        let _ = state.store.sessions.touch(&key, now).await;
                    }
                    if let Ok(Some(account)) = state.store.accounts.get(session.account).await
                        && !account.disabled
                    {
                        viewer = Viewer {
                            account: Some(account),
                            session: Some(key),
                            expired: false,
                        };
                    }
                } else {
                    end_expired(&state, &session).await;
                    viewer.expired = true;
                    clear = true;
                }
            }
            Ok(None) => clear = true,
            Err(e) => tracing::warn!(error = %e, "session lookup failed"),
        }
    }
    request.extensions_mut().insert(viewer);
    let mut response = next.run(request).await;
    if clear
        && !response.headers().contains_key(header::SET_COOKIE)
        && let Ok(value) = HeaderValue::from_str(&settings.clear_cookie())
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

async fn end_expired(state: &AppState, session: &Session) {
    let _ = state.store.sessions.delete(&session.key).await;
    let _ = state
        .store
        .audit
        .record(&AuditEvent {
            id: uuid::Uuid::now_v7(),
            at: OffsetDateTime::now_utc(),
            kind: AuditKind::SessionExpired,
            actor: Some(session.account),
            subject: None,
            ip: None,
            success: true,
        })
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_host_only_http_only_and_secure_by_default() {
        let settings = SessionSettings::default();
        let cookie = settings.cookie("ab");
        assert!(cookie.starts_with("__Host-motcua=ab; Path=/; HttpOnly; SameSite=Lax"));
        assert!(cookie.ends_with("; Secure"));
        let dev = SessionSettings {
            secure_cookies: false,
            ..SessionSettings::default()
        };
        assert!(
            dev.cookie("ab").starts_with("motcua_session=ab;")
                && !dev.cookie("ab").contains("Secure")
        );
    }

    #[test]
    fn only_well_formed_tokens_are_read_from_cookies() {
        let token = new_token();
        assert_eq!(token.len(), 64);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("a=b; motcua_session={token}")).unwrap(),
        );
        assert_eq!(cookie_token(&headers, "motcua_session"), Some(token));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("motcua_session=../../etc"),
        );
        assert_eq!(cookie_token(&headers, "motcua_session"), None);
    }
}

/// The client's address: the connection's, or — only when the connection comes from this machine, i.e. a
/// reverse proxy in front of us — the first address of `X-Forwarded-For`. Anyone else could forge that header.
pub(crate) fn client_ip(parts: &axum::http::Extensions, headers: &HeaderMap) -> Option<String> {
    let peer = parts.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let forwarded = || {
        headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().chars().take(64).collect::<String>())
            .filter(|v| !v.is_empty())
    };
    match peer {
        Some(ip) if ip.is_loopback() => forwarded().or(Some(ip.to_string())),
        Some(ip) => Some(ip.to_string()),
        None => forwarded(),
    }
}

/// The start of the fixed window (a minute, an hour) containing `at`, for rate limits.
pub(crate) fn start_of(at: OffsetDateTime, window: Duration) -> OffsetDateTime {
    let secs = window.whole_seconds().max(1);
    let start = at.unix_timestamp() - at.unix_timestamp().rem_euclid(secs);
    OffsetDateTime::from_unix_timestamp(start).unwrap_or(at)
}

#[cfg(test)]
mod window_tests {
    use super::start_of;
    use time::{Duration, macros::datetime};

    #[test]
    fn windows_start_on_the_minute_and_the_hour() {
        let at = datetime!(2026-01-05 02:17:45.5 UTC);
        assert_eq!(
            start_of(at, Duration::MINUTE),
            datetime!(2026-01-05 02:17 UTC)
        );
        assert_eq!(
            start_of(at, Duration::HOUR),
            datetime!(2026-01-05 02:00 UTC)
        );
    }
}
