//! News, guidance and notices for readers: the lists by category (paged), the article page (date, body, related
//! articles and procedures, stars, comments), its print view, the Atom feed, article images, and what readers
//! send: a vote (a form, or the same form through `fetch` without a reload) and a comment (held for an editor).
//! Pages come from the in-memory article list (`shared/articles.rs`), not from the database on every view.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Json,
    body::Body,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use object_store::ObjectStoreExt;
use time::{Duration, OffsetDateTime};

use motcua_domain::{
    article::{self, Category, CommentInput, CommentStatus, Stars},
    upload::FileType,
    vntime,
};
use motcua_store::{LiveArticle, NewComment, StoreError, Vote, VoteOutcome};

use crate::{
    AppError, AppState,
    articles::{self as cache, live, shown},
    error::not_found,
    input::{Form, Query},
    layout::Layout,
    session::start_of,
    viewer::Viewer,
};

/// Articles per page of a list.
const PAGE: usize = 10;
/// Entries of the feed.
const FEED: usize = 20;
/// Related articles under an article.
const RELATED: usize = 5;
/// Comments one address may send in [`COMMENT_WINDOW`].
const COMMENTS_PER_WINDOW: u32 = 3;
const COMMENT_WINDOW: Duration = Duration::minutes(10);
/// Votes (new or changed) one address may send in [`COMMENT_WINDOW`]: a reader changes their mind a few times,
/// a script changing one vote in a loop is stopped.
const VOTES_PER_WINDOW: u32 = 30;

/// An article in a list.
#[derive(Debug, Clone)]
pub(crate) struct Card {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub date: String,
    pub category: &'static str,
    pub category_code: &'static str,
    pub rating: String,
    pub comments: u64,
}

impl Card {
    pub(crate) fn of(a: &LiveArticle) -> Card {
        Card {
            slug: a.slug.clone(),
            title: a.title.clone(),
            summary: a.summary.clone(),
            date: vntime::format_date(vntime::vn_date(a.publish_at)),
            category: a.category.label(),
            category_code: a.category.code(),
            rating: article::rating_label(a.stars_sum, a.stars_count),
            comments: a.comments,
        }
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    chuyen_muc: String,
    #[serde(default)]
    trang: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "articles.html")]
pub(crate) struct ListPage {
    layout: Layout,
    /// (code, label, current)
    categories: Vec<(&'static str, &'static str, bool)>,
    /// No category chosen.
    every: bool,
    heading: &'static str,
    cards: Vec<Card>,
    total: usize,
    pages: Vec<(u64, String, bool)>,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    layout: Layout,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let category = Category::parse(q.chuyen_muc.trim());
    if !q.chuyen_muc.trim().is_empty() && category.is_none() {
        return Ok(not_found().await);
    }
    let all = live(&state).await?;
    let now = OffsetDateTime::now_utc();
    let matching: Vec<&LiveArticle> = all
        .iter()
        .filter(|a| shown(a, now) && category.is_none_or(|c| a.category == c))
        .collect();
    let page_count = matching.len().div_ceil(PAGE).max(1) as u64;
    let current = q
        .trang
        .trim()
        .parse::<u64>()
        .unwrap_or(1)
        .clamp(1, page_count);
    let href = |n: u64| {
        let mut pairs = Vec::new();
        if let Some(c) = category {
            pairs.push(("chuyen_muc", c.code().to_string()));
        }
        if n > 1 {
            pairs.push(("trang", n.to_string()));
        }
        crate::urls::with_query("/tin-tuc", &pairs)
    };
    let start = (current as usize - 1) * PAGE;
    Ok(ListPage {
        layout,
        categories: Category::ALL
            .into_iter()
            .map(|c| (c.code(), c.label(), Some(c) == category))
            .collect(),
        every: category.is_none(),
        heading: category.map_or("Tin tức — Hướng dẫn — Thông báo", Category::label),
        cards: matching
            .iter()
            .skip(start)
            .take(PAGE)
            .map(|a| Card::of(a))
            .collect(),
        total: matching.len(),
        pages: crate::urls::page_links(page_count, current, href),
    }
    .into_response())
}

/// What a reader typed into the comment form, kept when it is refused.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(crate) struct CommentForm {
    #[serde(default)]
    pub ten: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub noi_dung: String,
    /// Hidden from people; a robot fills it.
    #[serde(default)]
    pub trang_web: String,
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ArticleQuery {
    /// What just happened: `da-danh-gia`, `cho-duyet`, `da-dang`.
    #[serde(default)]
    xong: String,
}

/// A published comment as shown: the name and text (escaped by the template), never the e-mail.
pub(crate) struct CommentView {
    name: String,
    date: String,
    body: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "article.html")]
pub(crate) struct ArticlePage {
    layout: Layout,
    card: Card,
    body: std::sync::Arc<String>,
    procedures: Vec<(String, String)>,
    related: Vec<Card>,
    average: String,
    votes: u64,
    comments: Vec<CommentView>,
    form: CommentForm,
    errors: Vec<(String, String)>,
    /// (class, text) under the stars or the comment form.
    vote_notice: Option<(&'static str, String)>,
    comment_notice: Option<(&'static str, String)>,
    /// The comment form's answer when sent by a citizen who is logged in.
    logged_in: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "article_print.html")]
pub(crate) struct PrintPage {
    site_name: String,
    card: Card,
    body: std::sync::Arc<String>,
    address: String,
}

async fn find(state: &AppState, slug: &str) -> Result<Option<LiveArticle>, AppError> {
    let now = OffsetDateTime::now_utc();
    Ok(live(state)
        .await?
        .iter()
        .find(|a| a.slug == slug && shown(a, now))
        .cloned())
}

async fn article_page(
    state: &AppState,
    layout: Layout,
    viewer: &Viewer,
    a: &LiveArticle,
    form: CommentForm,
    errors: Vec<(String, String)>,
) -> Result<ArticlePage, AppError> {
    let body = cache::body(state, a).await?;
    let comments = cache::comments(state, a).await?;
    let view = state.catalogue.view();
    let procedures = a
        .procedures
        .iter()
        .filter_map(|code| {
            view.get(code)
                .map(|e| (code.clone(), e.procedure.name.to_string()))
        })
        .collect();
    let now = OffsetDateTime::now_utc();
    let related = live(state)
        .await?
        .iter()
        .filter(|r| r.id != a.id && r.category == a.category && shown(r, now))
        .take(RELATED)
        .map(Card::of)
        .collect();
    Ok(ArticlePage {
        layout,
        card: Card::of(a),
        body,
        procedures,
        related,
        average: article::average_label(a.stars_sum, a.stars_count),
        votes: a.stars_count,
        comments: comments
            .iter()
            .map(|c| CommentView {
                name: c.name.clone(),
                date: vntime::format_datetime(c.created_at),
                body: c.body.lines().map(str::to_string).collect(),
            })
            .collect(),
        form,
        errors,
        vote_notice: None,
        comment_notice: None,
        logged_in: viewer.account.is_some(),
    })
}

pub(crate) async fn page(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(slug): Path<String>,
    Query(q): Query<ArticleQuery>,
) -> Result<Response, AppError> {
    let Some(a) = find(&state, &slug).await? else {
        return Ok(not_found().await);
    };
    // an anonymous reader without a notice gets the page drawn once for what it shows (most readers)
    let drawn_from = if viewer.account.is_none() && q.xong.is_empty() {
        let drawn_from = crate::articles::PageState {
            list: std::sync::Arc::downgrade(&live(&state).await?),
            catalogue: std::sync::Arc::downgrade(&state.catalogue.view()),
            version: a.version,
            comments: a.comments,
            stars: (a.stars_sum, a.stars_count),
            visits: layout.visits,
        };
        if let Some(html) = state.articles.page(a.id, &drawn_from) {
            return Ok(axum::response::Html(html).into_response());
        }
        Some(drawn_from)
    } else {
        None
    };
    let mut page =
        article_page(&state, layout, &viewer, &a, CommentForm::default(), vec![]).await?;
    if let Some(drawn_from) = drawn_from {
        match askama::Template::render(&page) {
            Ok(html) => {
                let html = bytes::Bytes::from(html);
                state.articles.keep_page(a.id, drawn_from, html.clone());
                return Ok(axum::response::Html(html).into_response());
            }
            // drawn as usual below, which says what went wrong
            Err(e) => tracing::warn!(error = %e, "an article page was not kept"),
        }
    }
    match q.xong.as_str() {
        "da-danh-gia" => {
            page.vote_notice = Some(("success", "Cảm ơn bạn đã đánh giá bài viết.".into()));
        }
        "cho-duyet" => {
            page.comment_notice = Some((
                "success",
                "Cảm ơn bạn. Bình luận đã được gửi và sẽ hiện sau khi biên tập viên duyệt.".into(),
            ));
        }
        "da-dang" => {
            page.comment_notice = Some(("success", "Bình luận của bạn đã được đăng.".into()));
        }
        _ => {}
    }
    Ok(page.into_response())
}

pub(crate) async fn print(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let Some(a) = find(&state, &slug).await? else {
        return Ok(not_found().await);
    };
    Ok(PrintPage {
        site_name: state.site.name.clone(),
        body: cache::body(&state, &a).await?,
        address: format!("{}/tin-tuc/{}", state.site.public_url, a.slug),
        card: Card::of(&a),
    }
    .into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct VoteForm {
    #[serde(default)]
    sao: String,
}

/// The answer to a vote sent by the page's script.
#[derive(serde::Serialize)]
struct VoteAnswer {
    ok: bool,
    message: String,
    label: String,
    average: String,
    votes: u64,
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

pub(crate) async fn vote(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(f): Form<VoteForm>,
) -> Result<Response, AppError> {
    let Some(a) = find(&state, &slug).await? else {
        return Ok(not_found().await);
    };
    let json = wants_json(&headers);
    let Some(stars) = Stars::parse(&f.sao) else {
        let message = "Chọn từ 1 đến 5 sao rồi gửi đánh giá";
        return refuse_vote(
            &state,
            layout,
            &viewer,
            &a,
            json,
            StatusCode::UNPROCESSABLE_ENTITY,
            message,
        )
        .await;
    };
    let now = OffsetDateTime::now_utc();
    let hits = state
        .store
        .rate_limits
        .hit(
            &format!("danh-gia:{}", viewer.ip_key()),
            start_of(now, COMMENT_WINDOW),
        )
        .await?;
    if hits > VOTES_PER_WINDOW {
        let message = "Bạn đã gửi nhiều lượt đánh giá trong ít phút. Vui lòng thử lại sau ít phút.";
        let refused = refuse_vote(
            &state,
            layout,
            &viewer,
            &a,
            json,
            StatusCode::TOO_MANY_REQUESTS,
            message,
        );
        return Ok(retry_after(refused.await?));
    }
    let (voter, cookie) = cache::reader(&state, &headers).await?;
    let day = vntime::vn_date(now);
    let outcome = state
        .store
        .articles
        .vote(&Vote {
            article: a.id,
            voter,
            day,
            address: cache::address_of(&state, viewer.ip_key(), day).await?,
            stars: stars.get(),
            at: now,
        })
        .await;
    // two readers of one address racing: the database's constraint refused the second
    let outcome = match outcome {
        Err(StoreError::Conflict(_)) => VoteOutcome::AddressUsedToday,
        other => other?,
    };
    let mut response = if outcome == VoteOutcome::AddressUsedToday {
        let message = "Hôm nay bài viết này đã nhận một lượt đánh giá từ địa chỉ mạng của bạn. \
                       Mỗi địa chỉ được đánh giá mỗi bài một lần trong ngày; bạn có thể đánh giá lại vào ngày mai.";
        refuse_vote(
            &state,
            layout,
            &viewer,
            &a,
            json,
            StatusCode::TOO_MANY_REQUESTS,
            message,
        )
        .await?
    } else {
        state.articles.changed();
        if json {
            let fresh = find(&state, &slug).await?.unwrap_or(a);
            let message = if outcome == VoteOutcome::Changed {
                format!("Đã đổi đánh giá của bạn thành {} sao.", stars.get())
            } else {
                format!("Cảm ơn bạn đã đánh giá {} sao.", stars.get())
            };
            vote_json(StatusCode::OK, true, message, &fresh)
        } else {
            Redirect::to(&format!("/tin-tuc/{slug}?xong=da-danh-gia#danh-gia")).into_response()
        }
    };
    if let Some(cookie) = cookie
        && let Ok(value) = HeaderValue::from_str(&cookie)
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// A vote refused: the message as JSON for the page's script, or the article page with it under the stars.
async fn refuse_vote(
    state: &AppState,
    layout: Layout,
    viewer: &Viewer,
    a: &LiveArticle,
    json: bool,
    status: StatusCode,
    message: &str,
) -> Result<Response, AppError> {
    if json {
        return Ok(vote_json(status, false, message.to_string(), a));
    }
    let mut page = article_page(state, layout, viewer, a, CommentForm::default(), vec![]).await?;
    page.vote_notice = Some(("error", message.to_string()));
    Ok((status, page).into_response())
}

/// A refusal by a rate limit says when to try again (the end of the longest window).
fn retry_after(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(COMMENT_WINDOW.whole_seconds() as u64),
    );
    response
}

fn vote_json(status: StatusCode, ok: bool, message: String, a: &LiveArticle) -> Response {
    (
        status,
        Json(VoteAnswer {
            ok,
            message,
            label: article::rating_label(a.stars_sum, a.stars_count),
            average: article::average_label(a.stars_sum, a.stars_count),
            votes: a.stars_count,
        }),
    )
        .into_response()
}

pub(crate) async fn comment(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(slug): Path<String>,
    Form(f): Form<CommentForm>,
) -> Result<Response, AppError> {
    let Some(a) = find(&state, &slug).await? else {
        return Ok(not_found().await);
    };
    // a robot filled the hidden field: answered as if held, nothing kept
    if !f.trang_web.trim().is_empty() {
        return Ok(
            Redirect::to(&format!("/tin-tuc/{slug}?xong=cho-duyet#binh-luan")).into_response(),
        );
    }
    let input = match CommentInput::check(&f.ten, &f.email, &f.noi_dung) {
        Ok(input) => input,
        Err(errors) => {
            let errors = errors
                .into_iter()
                .map(|(field, message)| (field.to_string(), message))
                .collect();
            let page = article_page(&state, layout, &viewer, &a, f, errors).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let now = OffsetDateTime::now_utc();
    let hits = state
        .store
        .rate_limits
        .hit(
            &format!("binh-luan:{}", viewer.ip_key()),
            start_of(now, COMMENT_WINDOW),
        )
        .await?;
    if hits > COMMENTS_PER_WINDOW {
        let mut page = article_page(&state, layout, &viewer, &a, f, vec![]).await?;
        page.comment_notice = Some((
            "error",
            format!(
                "Bạn đã gửi {COMMENTS_PER_WINDOW} bình luận trong {} phút. Vui lòng đợi ít phút rồi gửi lại; \
                 nội dung bạn viết vẫn còn trong ô dưới đây.",
                COMMENT_WINDOW.whole_minutes()
            ),
        ));
        return Ok(retry_after(
            (StatusCode::TOO_MANY_REQUESTS, page).into_response(),
        ));
    }
    let citizen = viewer
        .account
        .as_ref()
        .filter(|a| a.kind == motcua_domain::AccountKind::Citizen && !a.disabled);
    let status = if citizen.is_some() && state.articles.settings.publish_citizen_comments {
        CommentStatus::Published
    } else {
        CommentStatus::Held
    };
    state
        .store
        .articles
        .comment(&NewComment {
            id: uuid::Uuid::now_v7(),
            article: a.id,
            name: input.name,
            email: input.email,
            body: input.body,
            status,
            account: citizen.map(|c| c.id),
            at: now,
        })
        .await?;
    let done = if status == CommentStatus::Published {
        state.articles.changed();
        "da-dang"
    } else {
        "cho-duyet"
    };
    Ok(Redirect::to(&format!("/tin-tuc/{slug}?xong={done}#binh-luan")).into_response())
}

#[derive(Template)]
#[template(path = "articles_feed.xml")]
struct Feed {
    site_name: String,
    base: String,
    updated: String,
    entries: Vec<FeedEntry>,
}

struct FeedEntry {
    id: String,
    title: String,
    summary: String,
    category: &'static str,
    published: String,
    link: String,
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The Atom feed of the newest articles.
pub(crate) async fn feed(State(state): State<AppState>) -> Result<Response, AppError> {
    let now = OffsetDateTime::now_utc();
    let list: Vec<LiveArticle> = live(&state)
        .await?
        .iter()
        .filter(|a| shown(a, now))
        .take(FEED)
        .cloned()
        .collect();
    let base = state.site.public_url.trim_end_matches('/').to_string();
    let feed = Feed {
        site_name: state.site.name.clone(),
        updated: rfc3339(
            list.first()
                .map(|a| a.publish_at)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        ),
        entries: list
            .iter()
            .take(FEED)
            .map(|a| FeedEntry {
                id: format!("urn:uuid:{}", a.id),
                title: a.title.clone(),
                summary: a.summary.clone(),
                category: a.category.label(),
                published: rfc3339(a.publish_at),
                link: format!("{base}/tin-tuc/{}", a.slug),
            })
            .collect(),
        base,
    };
    let xml = match feed.render() {
        Ok(xml) => xml,
        Err(e) => {
            tracing::error!(error = %e, "the article feed did not render");
            return Ok(StatusCode::INTERNAL_SERVER_ERROR.into_response());
        }
    };
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/atom+xml; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=60"),
            ),
        ],
        xml,
    )
        .into_response())
}

/// An image of an article: `{id}.jpg` or `{id}.png`, as the editor uploaded it (checked then).
pub(crate) async fn image(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    let Some((id, extension)) = file.split_once('.') else {
        return Ok(not_found().await);
    };
    let kind = [FileType::Jpeg, FileType::Png]
        .into_iter()
        .find(|k| k.extension() == extension);
    let (Ok(id), Some(kind)) = (uuid::Uuid::parse_str(id), kind) else {
        return Ok(not_found().await);
    };
    let path = object_store::path::Path::from(format!("{}/{id}", cache::IMAGE_PREFIX));
    let bytes = match state.files.get(&path).await {
        Ok(r) => r.bytes().await.map_err(AppError::files)?,
        Err(object_store::Error::NotFound { .. }) => return Ok(not_found().await),
        Err(e) => return Err(AppError::files(e)),
    };
    let mut response = Response::new(Body::from(bytes));
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind.mime()));
    // an image's key never changes: it may be kept
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400, immutable"),
    );
    Ok(response)
}
