//! Editors keep the synonym and abbreviation table of catalogue search (CCCD ↔ căn cước, sổ đỏ ↔ giấy chứng nhận
//! quyền sử dụng đất, …): the built-in table until they first save theirs. Every node rebuilds its index when it
//! notices the catalogue version grew.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use time::OffsetDateTime;

use motcua_domain::{policy::Action, vntime};
use motcua_search::{SYNONYMS, Synonyms};
use motcua_store::SynonymTable;

use crate::{AppError, AppState, guard, input::Form, layout::Layout, viewer::Viewer};

const PATH: &str = "/quan-tri/tu-dong-nghia";
/// A table longer than this is refused: it is read into every node's memory and tried on every search.
const MAX_BYTES: usize = 64 * 1024;

#[derive(Template, WebTemplate)]
#[template(path = "synonyms.html")]
pub(crate) struct SynonymsPage {
    layout: Layout,
    text: String,
    /// When and by whom the table was last saved (`None`: the built-in one).
    saved: Option<String>,
    just_saved: bool,
    errors: Vec<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Saved {
    da_luu: Option<String>,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    crate::input::Query(q): crate::input::Query<Saved>,
) -> Result<Response, AppError> {
    if let Err(r) = guard::require(&state, &viewer, Action::EditContent, PATH).await {
        return Ok(r);
    }
    let table = state.store.search_log.synonyms().await?;
    Ok(SynonymsPage {
        layout,
        saved: table.as_ref().map(|t| vntime::format_datetime(t.saved_at)),
        text: table.map_or_else(|| SYNONYMS.to_string(), |t| t.text),
        just_saved: q.da_luu.is_some(),
        errors: vec![],
    }
    .into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct SynonymsForm {
    #[serde(default)]
    bang: String,
}

pub(crate) async fn save(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Form(f): Form<SynonymsForm>,
) -> Result<Response, AppError> {
    let editor = match guard::require(&state, &viewer, Action::EditContent, PATH).await {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    // NFC, one line ending, no trailing blanks: what is stored is what was meant
    let text: String = motcua_domain::text::normalize(&f.bang)
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n");
    let errors: Vec<String> = if text.len() > MAX_BYTES {
        vec![format!(
            "Bảng dài quá {} KB; bỏ bớt các dòng trùng hoặc không dùng đến",
            MAX_BYTES / 1024
        )]
    } else {
        match Synonyms::check(&text) {
            Ok(_) => vec![],
            Err(problems) => problems
                .into_iter()
                .map(|(line, problem)| format!("Dòng {line}: {problem}"))
                .collect(),
        }
    };
    if errors.is_empty() {
        state
            .store
            .search_log
            .save_synonyms(&SynonymTable {
                text,
                saved_at: OffsetDateTime::now_utc(),
                saved_by: editor.id.to_string(),
            })
            .await?;
        state.catalogue.refresh(&state.store).await?;
        return Ok(Redirect::to(&format!("{PATH}?da_luu=1")).into_response());
    }
    let saved = state
        .store
        .search_log
        .synonyms()
        .await?
        .map(|t| vntime::format_datetime(t.saved_at));
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        SynonymsPage {
            layout,
            text,
            saved,
            just_saved: false,
            errors,
        },
    )
        .into_response())
}
