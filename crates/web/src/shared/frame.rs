//! Every request's way in and out, as one middleware: security headers, Vietnamese error pages, the cross-site
//! check, the outage guard, the session and the visitor counter, each still its own function in its own module,
//! called here in that order (outermost first). One `from_fn` layer instead of six: each layer boxes a future and
//! clones the router's inner service per request, and six no-op layers alone took a third of what a trivial axum
//! server answers on this machine (docs/benchmarks.md, issue 16).

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};

use crate::{AppState, csrf, error, outage, security, session, visits};

pub(crate) async fn frame(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let state = &state;
    security::headers(state, request, async move |request| {
        error::vietnamese_pages(request, async move |request| {
            csrf::protect(state, request, async move |request| {
                // the outage guard sits inside the origin check: a cross-site post is refused before its fields
                // could come back in our own 503 page, ready to be sent again from here
                outage::guard(state, request, async move |request| {
                    // the visitor counter inside the session: it knows the client's address
                    session::load(state, request, async move |request| {
                        visits::count(&state.visits, request, async move |request| {
                            next.run(request).await
                        })
                        .await
                    })
                    .await
                })
                .await
            })
            .await
        })
        .await
    })
    .await
}
