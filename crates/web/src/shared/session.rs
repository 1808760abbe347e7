//! Sessions in the browser: a random token in a cookie (`__Host-motcua` over HTTPS; `motcua_session` when
//! plain HTTP is allowed for development), known to the database only by its hash. Every request loads the
//! viewer; an idle or expired session ends on the server whatever the browser does.

use crate::viewer::Viewer;
use axum::{
    extract::{ConnectInfo, Request},
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use std::net::{IpAddr, SocketAddr};
use time::{Duration, OffsetDateTime};

use motcua_domain::{AuditKind, Session, SessionKey};

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

/// A session token from the cookie `name`: 64 hex digits, or nothing.
pub(crate) fn cookie_token(headers: &HeaderMap, name: &str) -> Option<String> {
    cookie_value(headers, name)
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The value of the cookie `name`, as sent.
pub(crate) fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// 32 random bytes from the OS generator (through two v4 UUIDs: 244 random bits), for tokens and keys.
pub fn random_bytes() -> [u8; 32] {
    let mut random = [0u8; 32];
    random[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    random[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    random
}

/// A new random token (from [`random_bytes`], hex).
pub(crate) fn new_token() -> String {
    random_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Touch the session at most once a minute, so browsing does not write on every request.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// Middleware: work out the client's address and resolve the session cookie into a [`Viewer`]. A database
/// error is answered as such (503 while it is out), never by showing a logged-in person as logged out. Pages
/// seen by a logged-in person, and answers that set a cookie, are never cached.
pub(crate) async fn load<F: Future<Output = Response>>(
    state: &AppState,
    mut request: Request,
    next: impl FnOnce(Request) -> F,
) -> Response {
    let settings = &state.sessions;
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let mut viewer = Viewer {
        ip: client_address(peer, request.headers(), &state.proxies).map(|ip| ip.to_string()),
        ..Viewer::default()
    };
    let mut clear = false;
    // assets and probes need no session: they are served even while the database is out. The API never acts
    // for a browser's session: its cookies are taken off the request here, so no API handler can read one (and
    // the API is spared the origin check of cookie-bearing forms, csrf.rs)
    if request.uri().path().starts_with(crate::problem::API_PREFIX) {
        request.headers_mut().remove(header::COOKIE);
    }
    let sessionless = crate::urls::needs_no_database(request.uri().path());
    if !sessionless && let Some(token) = cookie_token(request.headers(), settings.cookie_name()) {
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
                    match state.store.accounts.get(session.account).await {
                        Ok(Some(account)) if !account.disabled => {
                            viewer.account = Some(account);
                            viewer.session = Some(key);
                        }
                        Ok(_) => clear = true,
                        Err(e) => return crate::AppError::Store(e).into_response(),
                    }
                } else {
                    end_expired(state, &session).await;
                    viewer.expired = true;
                    clear = true;
                }
            }
            // the cookie names a session that has ended (expired and swept, or logged out elsewhere)
            Ok(None) => {
                viewer.expired = true;
                clear = true;
            }
            Err(e) => return crate::AppError::Store(e).into_response(),
        }
    }
    let private = viewer.account.is_some();
    request.extensions_mut().insert(viewer);
    let mut response = next(request).await;
    if clear
        && !response.headers().contains_key(header::SET_COOKIE)
        && let Ok(value) = HeaderValue::from_str(&settings.clear_cookie())
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    if private || response.headers().contains_key(header::SET_COOKIE) {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

async fn end_expired(state: &AppState, session: &Session) {
    let _ = state.store.sessions.delete(&session.key).await;
    crate::audit::record(
        state,
        AuditKind::SessionExpired,
        Some(session.account),
        None,
        None,
        true,
    )
    .await;
}

/// Which header a trusted reverse proxy writes the client's address into.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (nginx, HAProxy, most load balancers).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for=proxy1`.
    Forwarded,
}

/// The reverse proxies in front of motcua, whose word about the client's address is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    pub networks: Vec<ipnet::IpNet>,
    pub header: ForwardedHeader,
}

impl TrustedProxies {
    /// Parse `trusted_proxies` entries: addresses (`10.0.0.5`, `::1`) or CIDR ranges (`10.0.0.0/8`).
    pub fn parse(entries: &[String], header: ForwardedHeader) -> Result<TrustedProxies, String> {
        let networks = entries
            .iter()
            .map(|e| {
                let e = e.trim();
                e.parse::<ipnet::IpNet>()
                    .or_else(|_| e.parse::<IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| format!("\u{201c}{e}\u{201d} không phải địa chỉ IP hay dải CIDR"))
            })
            .collect::<Result<_, _>>()?;
        Ok(TrustedProxies { networks, header })
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.networks.iter().any(|n| n.contains(&ip))
    }
}

/// The hops a forwarding header lists, left (the original client) to right (the nearest proxy); `None` for an
/// entry that is not an address (`unknown`, an obfuscated name, garbage).
fn forwarded_hops(headers: &HeaderMap, which: ForwardedHeader) -> Vec<Option<IpAddr>> {
    let (name, is_forwarded) = match which {
        ForwardedHeader::XForwardedFor => ("x-forwarded-for", false),
        ForwardedHeader::Forwarded => ("forwarded", true),
    };
    let mut hops = Vec::new();
    for value in headers.get_all(name) {
        let Ok(value) = value.to_str() else {
            hops.push(None);
            continue;
        };
        for element in value.split(',') {
            let node = if is_forwarded {
                element
                    .split(';')
                    .filter_map(|pair| pair.trim().split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                    .map(|(_, v)| v.trim().trim_matches('"').to_string())
            } else {
                Some(element.trim().to_string())
            };
            hops.push(node.as_deref().and_then(parse_node));
        }
    }
    hops
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]:4711`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest
            .split(']')
            .next()?
            .parse::<IpAddr>()
            .ok()
            .map(|ip| ip.to_canonical());
    }
    node.parse::<SocketAddr>()
        .ok()
        .map(|s| s.ip().to_canonical())
}

/// The client's address. The connection's own address, unless it comes from a trusted proxy: then the right-most
/// address in the forwarding header that is not itself a trusted proxy (everything left of it was written by
/// the client and could be forged). Without a connection address (in-process tests) it is unknown.
pub fn client_address(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    proxies: &TrustedProxies,
) -> Option<IpAddr> {
    let mut client = peer?.to_canonical();
    if !proxies.trusts(client) {
        return Some(client);
    }
    for hop in forwarded_hops(headers, proxies.header).into_iter().rev() {
        match hop {
            // a trusted proxy said this much; what it passed on from further left is not worth more
            None => return Some(client),
            Some(ip) => {
                client = ip;
                if !proxies.trusts(ip) {
                    return Some(ip);
                }
            }
        }
    }
    Some(client)
}

/// The start of the fixed window (a minute, an hour) containing `at`, for rate limits.
pub(crate) fn start_of(at: OffsetDateTime, window: Duration) -> OffsetDateTime {
    let secs = window.whole_seconds().max(1);
    let start = at.unix_timestamp() - at.unix_timestamp().rem_euclid(secs);
    OffsetDateTime::from_unix_timestamp(start).unwrap_or(at)
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

#[cfg(test)]
mod address_tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored_even_from_loopback() {
        let none = TrustedProxies::default();
        let forged = headers(&[("x-forwarded-for", "198.51.100.1")]);
        assert_eq!(
            client_address(Some(ip("127.0.0.1")), &forged, &none),
            Some(ip("127.0.0.1"))
        );
        assert_eq!(
            client_address(Some(ip("203.0.113.5")), &forged, &none),
            Some(ip("203.0.113.5"))
        );
        assert_eq!(client_address(None, &forged, &none), None);
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_address_counts() {
        let proxies = TrustedProxies::parse(
            &["10.0.0.0/8".into(), "192.0.2.7".into()],
            ForwardedHeader::XForwardedFor,
        )
        .unwrap();
        // the client forged the left-most entry; the proxy appended the address it saw
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9, 10.1.1.1")]);
        assert_eq!(
            client_address(Some(ip("192.0.2.7")), &h, &proxies),
            Some(ip("203.0.113.9"))
        );
        // two header lines count as one list
        let h = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        assert_eq!(
            client_address(Some(ip("10.0.0.2")), &h, &proxies),
            Some(ip("203.0.113.9"))
        );
        // an untrusted peer's header is not read at all
        assert_eq!(
            client_address(Some(ip("203.0.113.50")), &h, &proxies),
            Some(ip("203.0.113.50"))
        );
        // a garbage hop stops the walk at the last proxy that spoke
        let h = headers(&[("x-forwarded-for", "1.2.3.4, nonsense")]);
        assert_eq!(
            client_address(Some(ip("10.0.0.2")), &h, &proxies),
            Some(ip("10.0.0.2"))
        );
        // a trusted peer without the header is the client itself
        assert_eq!(
            client_address(Some(ip("10.0.0.2")), &HeaderMap::new(), &proxies),
            Some(ip("10.0.0.2"))
        );
    }

    #[test]
    fn the_standard_forwarded_header_when_configured() {
        let proxies = TrustedProxies::parse(&["::1".into()], ForwardedHeader::Forwarded).unwrap();
        let h = headers(&[(
            "forwarded",
            "for=192.0.2.60;proto=https, for=\"[2001:db8:cafe::17]:4711\";by=x",
        )]);
        assert_eq!(
            client_address(Some(ip("::1")), &h, &proxies),
            Some(ip("2001:db8:cafe::17"))
        );
        // X-Forwarded-For is then ignored
        let h = headers(&[("x-forwarded-for", "198.51.100.1")]);
        assert_eq!(
            client_address(Some(ip("::1")), &h, &proxies),
            Some(ip("::1"))
        );
    }

    #[test]
    fn bad_entries_are_refused_with_a_message() {
        let e = TrustedProxies::parse(&["10.0.0.0/33".into()], ForwardedHeader::XForwardedFor)
            .unwrap_err();
        assert!(e.contains("10.0.0.0/33"));
    }
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
