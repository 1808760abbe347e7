//! What every page's frame needs: the site name, who is logged in, and the idle timeout for the warning.

use askama::Template;
use askama_web::WebTemplate;
use axum::{extract::FromRequestParts, http::request::Parts};
use std::convert::Infallible;

use crate::{AppState, viewer::Viewer};

#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub site_name: String,
    /// Who runs the portal, in the footer.
    pub footer: crate::SiteFooter,
    /// The logged-in person's name, when someone is logged in.
    pub user_name: Option<String>,
    /// Idle timeout in seconds (the page warns 60 seconds before).
    pub idle_seconds: i64,
    /// An officer is logged in (the back-office link is shown; every page still checks its own rights).
    pub officer: bool,
    /// An administrator is logged in (the administration link is shown).
    pub admin: bool,
    /// An officer with a role at a desk (reception, processing, approval, administration): "Việc của tôi" is shown.
    pub desk: bool,
    /// An editor or head editor (not an administrator) is logged in: the link to the newsroom is shown.
    pub editor: bool,
    /// The visitor counters (online now, today, this month, total), as of the last write; none on error pages.
    pub visits: Option<motcua_store::VisitCounts>,
}

impl Layout {
    /// A count as the footer shows it: `12.345`.
    pub fn count(&self, n: &u64) -> String {
        motcua_domain::money::grouped(*n)
    }
}

impl Layout {
    /// For pages rendered outside a request's state (error pages).
    pub fn anonymous() -> Layout {
        let site = crate::site();
        Layout {
            site_name: site.name,
            footer: site.footer,
            user_name: None,
            idle_seconds: 0,
            officer: false,
            admin: false,
            desk: false,
            editor: false,
            visits: None,
        }
    }
}

impl FromRequestParts<AppState> for Layout {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let viewer = parts
            .extensions
            .get::<Viewer>()
            .cloned()
            .unwrap_or_default();
        Ok(Layout {
            site_name: state.site.name.clone(),
            footer: state.site.footer.clone(),
            officer: viewer
                .account
                .as_ref()
                .is_some_and(|a| a.kind == motcua_domain::AccountKind::Officer),
            admin: viewer.account.as_ref().is_some_and(|a| {
                !a.disabled
                    && a.grants
                        .iter()
                        .any(|g| g.role == motcua_domain::Role::Administrator)
            }),
            desk: viewer
                .account
                .as_ref()
                .is_some_and(motcua_domain::policy::works_at_a_desk),
            editor: viewer.account.as_ref().is_some_and(|a| {
                !a.disabled
                    && a.grants.iter().any(|g| {
                        matches!(
                            g.role,
                            motcua_domain::Role::Editor | motcua_domain::Role::HeadEditor
                        )
                    })
            }),
            user_name: viewer.account.map(|a| a.full_name.to_string()),
            idle_seconds: state.sessions.idle.whole_seconds(),
            visits: Some(state.visits.snapshot()),
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "message.html")]
pub(crate) struct MessagePage {
    pub layout: Layout,
    pub title: String,
    pub message: String,
    pub link: (String, String),
}
