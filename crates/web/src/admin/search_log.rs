//! What citizens searched for and did not find: the catalogue searches with no results, or only partial matches,
//! over the last 30 days, most frequent first, for editors to improve procedure names and the synonym table. No personal data: the
//! queries are kept folded, without long numbers or e-mail addresses.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use time::{Duration, OffsetDateTime};

use motcua_domain::{policy::Action, vntime};

use crate::{AppError, AppState, guard, layout::Layout, urls, viewer::Viewer};

const PATH: &str = "/quan-tri/tim-kiem";

pub(crate) struct MissView {
    query: String,
    href: String,
    times: u32,
    results: u32,
    last: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "search_log.html")]
pub(crate) struct SearchLogPage {
    layout: Layout,
    misses: Vec<MissView>,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
) -> Result<Response, AppError> {
    if let Err(r) = guard::require(&state, &viewer, Action::EditContent, PATH).await {
        return Ok(r);
    }
    // this node's latest counts first
    crate::misses::flush(&state).await;
    let since = OffsetDateTime::now_utc() - Duration::days(30);
    let misses = state
        .store
        .search_log
        .misses(since, 200)
        .await?
        .into_iter()
        .map(|m| MissView {
            href: urls::with_query("/thu-tuc", &[("q", m.query.clone())]),
            query: m.query,
            times: m.times,
            results: m.results,
            last: vntime::format_datetime(m.last_at),
        })
        .collect();
    Ok(SearchLogPage { layout, misses }.into_response())
}
