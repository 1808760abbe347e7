//! Cross-site request forgery defence for every state-changing request: the browser must say the request
//! came from our own pages (`Sec-Fetch-Site: same-origin`, or an `Origin` equal to our host). Works without
//! JavaScript and without tokens in forms; the session cookie is also `SameSite=Lax`.

use axum::{
    extract::Request,
    http::{Method, StatusCode, header},
    middleware::Next,
    response::Response,
};

use crate::error::ErrorPage;

fn same_origin(request: &Request) -> bool {
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    match (origin, host) {
        (Some(origin), Some(host)) => {
            let origin_host = origin
                .split_once("://")
                .map(|(_, rest)| rest)
                .unwrap_or(origin);
            origin_host.eq_ignore_ascii_case(host)
        }
        // neither fetch metadata nor Origin: not a browser form post we can trust
        _ => false,
    }
}

pub(crate) async fn protect(request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if safe || same_origin(&request) {
        return next.run(request).await;
    }
    tracing::warn!(path = %request.uri().path(), "cross-site request refused");
    ErrorPage::for_status(StatusCode::FORBIDDEN).into_response_with(StatusCode::FORBIDDEN)
}
