//! Readers' comments waiting for an editor: publish, or reject with a reason. A commenter who left an e-mail
//! address is told either way, through the outbox in the same commit as the decision.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use time::OffsetDateTime;
use uuid::Uuid;

use motcua_domain::{policy::Action, submission::OutgoingEmail, text::normalize, vntime};
use motcua_store::{Comment, Moderation};

use crate::{
    AppError, AppState,
    error::not_found,
    guard,
    input::{Form, Query},
    layout::Layout,
    viewer::Viewer,
};

const PATH: &str = "/bien-tap/binh-luan";
/// Comments shown at once (the oldest first: the longest waiting).
const SHOWN: u32 = 50;

pub(crate) struct CommentRow {
    id: Uuid,
    article_title: String,
    article_slug: String,
    name: String,
    has_email: bool,
    date: String,
    body: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "newsroom_comments.html")]
pub(crate) struct CommentsPage {
    layout: Layout,
    rows: Vec<CommentRow>,
    total: u64,
    notice: Option<&'static str>,
    /// A refusal: (comment id, message, the reason typed).
    problem: Option<(Uuid, String, String)>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct DoneQuery {
    #[serde(default)]
    xong: String,
}

async fn page(
    state: &AppState,
    layout: Layout,
    notice: Option<&'static str>,
    problem: Option<(Uuid, String, String)>,
) -> Result<CommentsPage, AppError> {
    let (list, total) = state.store.articles.held_comments(SHOWN).await?;
    Ok(CommentsPage {
        layout,
        rows: list.iter().map(row).collect(),
        total,
        notice,
        problem,
    })
}

fn row(c: &Comment) -> CommentRow {
    CommentRow {
        id: c.id,
        article_title: c.article_title.clone(),
        article_slug: c.article_slug.clone(),
        name: c.name.clone(),
        has_email: c.email.is_some(),
        date: vntime::format_datetime(c.created_at),
        body: c.body.lines().map(str::to_string).collect(),
    }
}

pub(crate) async fn list(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Query(q): Query<DoneQuery>,
) -> Result<Response, AppError> {
    if let Err(r) = guard::require(&state, &viewer, Action::ModerateComments, PATH).await {
        return Ok(r);
    }
    let notice = match q.xong.as_str() {
        "dang" => Some("Đã đăng bình luận."),
        "tu-choi" => Some("Đã từ chối bình luận."),
        "da-xu-ly" => Some("Bình luận này đã được người khác xử lý."),
        _ => None,
    };
    Ok(page(&state, layout, notice, None).await?.into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct DecisionForm {
    /// `dang` or `tu-choi`.
    #[serde(default)]
    quyet_dinh: String,
    #[serde(default)]
    ly_do: String,
}

pub(crate) async fn decide(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(f): Form<DecisionForm>,
) -> Result<Response, AppError> {
    let editor = match guard::require(&state, &viewer, Action::ModerateComments, PATH).await {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let Ok(id) = Uuid::parse_str(&id) else {
        return Ok(not_found().await);
    };
    let reason = normalize(&f.ly_do);
    let publish = match f.quyet_dinh.as_str() {
        "dang" => true,
        "tu-choi" => false,
        _ => {
            let p = page(
                &state,
                layout,
                None,
                Some((id, "Chọn đăng hoặc từ chối".into(), reason)),
            )
            .await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response());
        }
    };
    if !publish && reason.is_empty() {
        let p = page(
            &state,
            layout,
            None,
            Some((
                id,
                "Nhập lý do từ chối (người gửi sẽ được báo nếu để lại thư điện tử)".into(),
                reason,
            )),
        )
        .await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response());
    }
    let Some(comment) = state.store.articles.held_comment(id).await? else {
        return Ok(Redirect::to(&format!("{PATH}?xong=da-xu-ly")).into_response());
    };
    // the commenter's own words (their name) are never echoed: an address typed by someone else gets only the
    // portal's text
    let email = comment.email.as_ref().map(|to| {
        let link = format!("{}/tin-tuc/{}", state.site.public_url, comment.article_slug);
        if publish {
            OutgoingEmail {
                to: to.clone(),
                subject: format!("{}: bình luận của bạn đã được đăng", state.site.name),
                body: format!(
                    "Xin chào,\n\nBình luận bạn gửi về bài viết “{}” đã được đăng:\n{link}\n\nCảm ơn bạn đã góp ý.\n\n{}",
                    comment.article_title, state.site.name
                ),
            }
        } else {
            OutgoingEmail {
                to: to.clone(),
                subject: format!("{}: bình luận của bạn không được đăng", state.site.name),
                body: format!(
                    "Xin chào,\n\nBình luận bạn gửi về bài viết “{}” không được đăng vì: {reason}\n\n\
                     Bạn có thể gửi bình luận khác tại {link}\n\n{}",
                    comment.article_title, state.site.name
                ),
            }
        }
    });
    let decided = state
        .store
        .articles
        .moderate(&Moderation {
            comment: id,
            publish,
            reason: (!publish).then_some(reason),
            by: editor.id,
            at: OffsetDateTime::now_utc(),
            email,
        })
        .await?;
    if decided.is_none() {
        return Ok(Redirect::to(&format!("{PATH}?xong=da-xu-ly")).into_response());
    }
    state.outbox_wake.notify_one();
    if publish {
        state.articles.changed();
    }
    let done = if publish { "dang" } else { "tu-choi" };
    Ok(Redirect::to(&format!("{PATH}?xong={done}")).into_response())
}
