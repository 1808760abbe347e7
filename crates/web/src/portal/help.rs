//! Help, frequently asked questions and contact: pages editors write as plain text (paragraphs separated by blank
//! lines, `## ` for a heading), with built-in text (`crates/web/content/`) until they first save one.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use time::OffsetDateTime;

use motcua_domain::policy::Action;
use motcua_store::ContentPage;

use crate::{
    AppError, AppState, error::not_found, guard, input::Form, layout::Layout, viewer::Viewer,
};

/// The pages there are: slug and built-in text (its first line is the title).
const PAGES: &[(&str, &str)] = &[
    ("tro-giup", include_str!("../../content/tro-giup.txt")),
    (
        "cau-hoi-thuong-gap",
        include_str!("../../content/cau-hoi-thuong-gap.txt"),
    ),
    ("lien-he", include_str!("../../content/lien-he.txt")),
];

/// Longest page an editor may save.
const MAX_BODY_CHARS: usize = 20_000;

/// One block of a page: a heading or a paragraph (its lines).
pub(crate) enum Block {
    Heading(String),
    Paragraph(Vec<String>),
}

fn blocks(body: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    let flush = |lines: &mut Vec<String>, out: &mut Vec<Block>| {
        if !lines.is_empty() {
            out.push(Block::Paragraph(std::mem::take(lines)));
        }
    };
    for line in body.lines().map(str::trim) {
        if line.is_empty() {
            flush(&mut lines, &mut out);
        } else if let Some(heading) = line.strip_prefix("## ") {
            flush(&mut lines, &mut out);
            out.push(Block::Heading(heading.to_string()));
        } else {
            lines.push(line.to_string());
        }
    }
    flush(&mut lines, &mut out);
    out
}

/// The page as editors saved it, or as built in: (title, body).
async fn text_of(state: &AppState, slug: &str) -> Result<Option<(String, String)>, AppError> {
    let Some((_, built_in)) = PAGES.iter().find(|(s, _)| *s == slug) else {
        return Ok(None);
    };
    Ok(Some(match state.store.content.page(slug).await? {
        Some(p) => (p.title, p.body),
        None => {
            let (title, body) = built_in.split_once('\n').unwrap_or((built_in, ""));
            (title.trim().to_string(), body.trim().to_string())
        }
    }))
}

#[derive(Template, WebTemplate)]
#[template(path = "help.html")]
pub(crate) struct HelpPage {
    layout: Layout,
    title: String,
    blocks: Vec<Block>,
    /// The editor's link, for those who may edit.
    edit: Option<String>,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let Some((title, body)) = text_of(&state, &slug).await? else {
        return Ok(not_found().await);
    };
    let edit = viewer
        .account
        .as_ref()
        .filter(|a| guard::allows(&state.catalogue, a, Action::EditContent))
        .map(|_| format!("/quan-tri/trang/{slug}"));
    Ok(HelpPage {
        layout,
        title,
        blocks: blocks(&body),
        edit,
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "help_edit.html")]
pub(crate) struct EditPage {
    layout: Layout,
    slug: String,
    title: String,
    body: String,
    errors: Vec<(String, String)>,
}

pub(crate) async fn edit(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let path = format!("/quan-tri/trang/{slug}");
    if let Err(r) = guard::require(&state, &viewer, Action::EditContent, &path).await {
        return Ok(r);
    }
    let Some((title, body)) = text_of(&state, &slug).await? else {
        return Ok(not_found().await);
    };
    Ok(EditPage {
        layout,
        slug,
        title,
        body,
        errors: vec![],
    }
    .into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct EditForm {
    #[serde(default)]
    tieu_de: String,
    #[serde(default)]
    noi_dung: String,
}

pub(crate) async fn save(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(slug): Path<String>,
    Form(f): Form<EditForm>,
) -> Result<Response, AppError> {
    let path = format!("/quan-tri/trang/{slug}");
    let editor = match guard::require(&state, &viewer, Action::EditContent, &path).await {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    if !PAGES.iter().any(|(s, _)| *s == slug) {
        return Ok(not_found().await);
    }
    let title = motcua_domain::text::normalize(&f.tieu_de);
    let body: String = motcua_domain::text::normalize(&f.noi_dung)
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n");
    let mut errors = Vec::new();
    if title.is_empty() || title.chars().count() > 200 {
        errors.push((
            "tieu_de".to_string(),
            "Nhập tiêu đề trang (tối đa 200 ký tự)".to_string(),
        ));
    }
    if body.trim().is_empty() {
        errors.push(("noi_dung".to_string(), "Nhập nội dung trang".to_string()));
    } else if body.chars().count() > MAX_BODY_CHARS {
        errors.push((
            "noi_dung".to_string(),
            format!("Nội dung dài quá {MAX_BODY_CHARS} ký tự"),
        ));
    }
    if errors.is_empty() {
        state
            .store
            .content
            .save_page(&ContentPage {
                slug: slug.clone(),
                title,
                body,
                saved_at: OffsetDateTime::now_utc(),
                saved_by: editor.id.to_string(),
            })
            .await?;
        return Ok(Redirect::to(&format!("/trang/{slug}")).into_response());
    }
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        EditPage {
            layout,
            slug,
            title,
            body,
            errors,
        },
    )
        .into_response())
}
