//! Who is looking at the page: put into every request by the session middleware, read by every handler and by
//! the page frame.

use axum::{extract::FromRequestParts, http::request::Parts};
use std::convert::Infallible;

use motcua_domain::{Account, SessionKey};

/// Who is looking at the page. Put into every request by [`load`].
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    pub account: Option<Account>,
    pub session: Option<SessionKey>,
    /// The request came with a session that had ended (idle or absolute timeout).
    pub expired: bool,
    /// The client's address (see [`client_address`]), for rate limits and the audit trail.
    pub ip: Option<String>,
}

impl Viewer {
    /// The address as a rate-limit key part.
    pub(crate) fn ip_key(&self) -> &str {
        self.ip.as_deref().unwrap_or("unknown")
    }
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
