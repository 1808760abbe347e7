//! A database outage answered at once and without losing what was typed. When storage says it is unavailable,
//! a circuit breaker opens for a few seconds: meanwhile every request that would need the database gets the
//! 503 page straight away (with `Retry-After`) instead of waiting on the connection pool, and a form posted
//! without JavaScript comes back in that page with its values, ready to send again. After the pause the next
//! requests try the database again (half-open); one more failure opens the breaker again.

use crate::error::{DatabaseDown, RETRY_AFTER_SECONDS};
use crate::urls::needs_no_database;
use askama::Template;
use axum::{
    body::{Body, HttpBody},
    extract::Request,
    http::{HeaderValue, Method, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use std::sync::atomic::{AtomicI64, Ordering};
use time::OffsetDateTime;

use crate::{AppState, layout::Layout};

/// How long the breaker stays open after a failure.
const OPEN_FOR_MS: i64 = 5_000;
/// Largest form body kept for the 503 page (a form this big is an upload, not something typed).
const KEEP_FORM_BYTES: usize = 256 * 1024;

/// Open (refusing at once) until a moment; closed when that moment has passed.
#[derive(Debug, Default)]
pub struct Breaker {
    open_until_ms: AtomicI64,
}

fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

impl Breaker {
    pub fn is_open(&self) -> bool {
        self.open_until_ms.load(Ordering::Relaxed) > now_ms()
    }

    pub(crate) fn trip(&self) {
        self.open_until_ms
            .store(now_ms() + OPEN_FOR_MS, Ordering::Relaxed);
    }
}

/// Field names whose values are never written back into a page: passwords, and the identity number or phone
/// that proves a lookup.
fn is_secret(name: &str) -> bool {
    name.contains("mat_khau") || name == "xac_minh"
}

#[derive(Template)]
#[template(path = "unavailable.html")]
struct UnavailablePage {
    layout: Layout,
    action: String,
    /// What the visitor typed (passwords left out), to send again.
    fields: Vec<(String, String)>,
    /// The form had a password or files, which must be given again.
    lost_something: bool,
}

/// The 503 page; for a posted form, with its values and a button to send them again.
fn unavailable(path: &str, posted: Option<(Vec<(String, String)>, bool)>) -> Response {
    let (fields, lost) = posted.unwrap_or_default();
    let lost_something = lost || fields.iter().any(|(k, _)| is_secret(k));
    let page = UnavailablePage {
        layout: Layout::anonymous(),
        action: path.to_string(),
        fields: fields.into_iter().filter(|(k, _)| !is_secret(k)).collect(),
        lost_something,
    };
    let mut response = match page.render() {
        Ok(html) => (StatusCode::SERVICE_UNAVAILABLE, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "outage page did not render");
            crate::error::ErrorPage::for_status(StatusCode::SERVICE_UNAVAILABLE)
                .into_response_with(StatusCode::SERVICE_UNAVAILABLE)
        }
    };
    let h = response.headers_mut();
    h.insert(
        header::RETRY_AFTER,
        HeaderValue::from_static(RETRY_AFTER_SECONDS),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Middleware, outside the session layer: refuse at once while the breaker is open, open it when a request
/// found the database out, and keep a posted form's values for the 503 page.
pub(crate) async fn guard<F: Future<Output = Response>>(
    state: &AppState,
    request: Request,
    next: impl FnOnce(Request) -> F,
) -> Response {
    let path = request.uri().path().to_string();
    if needs_no_database(&path) {
        return next(request).await;
    }
    let form = request.method() == Method::POST && crate::input::is_form(request.headers());
    let multipart = request.method() == Method::POST && !form;
    // only a body known to be small (its length announced) is read ahead; anything else passes untouched
    let small = request
        .body()
        .size_hint()
        .upper()
        .is_some_and(|n| n <= KEEP_FORM_BYTES as u64);
    let (request, posted) = if form && small {
        let (parts, body) = request.into_parts();
        match axum::body::to_bytes(body, KEEP_FORM_BYTES).await {
            Ok(bytes) => {
                let kept = crate::input::pairs(&bytes);
                (
                    Request::from_parts(parts, Body::from(bytes)),
                    Some((kept, false)),
                )
            }
            // the body did not arrive whole: the route would refuse it anyway
            Err(_) => return crate::input::InputRejection::Unreadable.into_response(),
        }
    } else {
        (request, multipart.then(|| (Vec::new(), true)))
    };
    if state.breaker.is_open() {
        return unavailable(&path, posted);
    }
    let response = next(request).await;
    if response.extensions().get::<DatabaseDown>().is_some() {
        state.breaker.trip();
        return unavailable(&path, posted);
    }
    response
}
