//! Cross-site request forgery defence for every state-changing request: the browser must say the request
//! came from our own pages (`Sec-Fetch-Site: same-origin`, or an `Origin` equal to ours: the scheme, host and port
//! of `public_url`, or the same scheme with the request's own host). Works without JavaScript and without tokens
//! in forms; the session cookie is also `SameSite=Lax`.

use axum::{
    extract::Request,
    http::{Method, StatusCode, header},
    response::Response,
};

use crate::{AppState, error::ErrorPage};

/// `scheme://host[:port]` of a URL, lower case.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| format!("{}://{}", scheme, host).to_ascii_lowercase())
}

fn same_origin(request: &Request, public_url: &str) -> bool {
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        // neither fetch metadata nor Origin: not a browser form post we can trust
        return false;
    };
    let origin = origin.trim().to_ascii_lowercase();
    let ours = origin_of(public_url);
    if ours.as_deref() == Some(origin.as_str()) {
        return true;
    }
    // the same scheme as ours with the host the browser asked for (a second name of the same site)
    let scheme = public_url
        .split_once("://")
        .map(|(s, _)| s)
        .unwrap_or("http");
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|host| origin == format!("{scheme}://{host}").to_ascii_lowercase())
}

pub(crate) async fn protect<F: Future<Output = Response>>(
    state: &AppState,
    request: Request,
    next: impl FnOnce(Request) -> F,
) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    // the payment provider's server-to-server notification comes from no browser: it is trusted only for its
    // signature, which the provider alone can make, and it acts for no session
    let signed_by_provider = request.uri().path() == crate::payments::NOTIFY_PATH;
    // the API never sees a browser's cookies (session.rs takes them off its requests), so a cross-site request
    // acts there as anyone may; what is not public will take a token a page cannot send on its own
    let api = request.uri().path().starts_with(crate::problem::API_PREFIX);
    if safe || signed_by_provider || api || same_origin(&request, &state.site.public_url) {
        return next(request).await;
    }
    tracing::warn!(path = %request.uri().path(), "cross-site request refused");
    ErrorPage::for_status(StatusCode::FORBIDDEN).into_response_with(StatusCode::FORBIDDEN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn post(headers: &[(&str, &str)]) -> Request {
        let mut r = Request::post("/dang-nhap");
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        r.body(Body::empty()).unwrap()
    }

    #[test]
    fn the_origin_must_match_scheme_host_and_port() {
        let ours = "https://dvc.example.vn";
        assert!(same_origin(
            &post(&[("origin", "https://dvc.example.vn")]),
            ours
        ));
        assert!(same_origin(
            &post(&[("origin", "HTTPS://DVC.example.vn")]),
            ours
        ));
        assert!(!same_origin(
            &post(&[("origin", "http://dvc.example.vn")]),
            ours
        ));
        assert!(!same_origin(
            &post(&[("origin", "https://dvc.example.vn:8443")]),
            ours
        ));
        assert!(!same_origin(
            &post(&[
                ("origin", "http://dvc.example.vn"),
                ("host", "dvc.example.vn")
            ]),
            ours
        ));
        assert!(same_origin(
            &post(&[
                ("origin", "https://10.0.0.5:8080"),
                ("host", "10.0.0.5:8080")
            ]),
            ours
        ));
        assert!(!same_origin(&post(&[("host", "dvc.example.vn")]), ours));
        assert!(!same_origin(
            &post(&[("sec-fetch-site", "cross-site")]),
            ours
        ));
    }
}
