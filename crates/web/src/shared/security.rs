//! Security headers on every response (architecture.md §8): a CSP without inline script, no framing, no
//! sniffing, a strict referrer policy, and HSTS when the portal is served over HTTPS (a `public_url` of
//! `https://…`): sent over plain HTTP it would be ignored at best, and pin a development host to HTTPS at worst.

use axum::{
    extract::Request,
    http::{HeaderName, HeaderValue, header},
    response::Response,
};

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub(crate) async fn headers<F: Future<Output = Response>>(
    state: &crate::AppState,
    request: Request,
    next: impl FnOnce(Request) -> F,
) -> Response {
    let https = state.site.public_url.starts_with("https://");
    let mut response = next(request).await;
    let h = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(header::CONTENT_SECURITY_POLICY, CSP);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "strict-origin-when-cross-origin");
    if https {
        set(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    set(
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=()",
    );
    set(
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    response
}
