//! Writing articles: the editors' list, a new article, editing (every save a version, the body sanitised on save,
//! never trusted), sending for approval, the head editor's approval or return with a reason, taking an article
//! down, images uploaded to the file store, and any earlier version read back.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Multipart, Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use time::OffsetDateTime;
use uuid::Uuid;

use motcua_domain::{
    Account,
    article::{self, Category, Status, Step},
    policy::Action,
    text::normalize,
    upload::FileType,
    vntime,
};
use motcua_store::{Article, ArticleCopy, NewArticle, Review, StoreError};

use crate::{
    AppError, AppState,
    articles::IMAGE_PREFIX,
    error::not_found,
    files::{read_limited, store_checked},
    guard,
    input::{Form, Query},
    layout::Layout,
    viewer::Viewer,
};

const HOME: &str = "/bien-tap";
/// Articles per page of the editors' list.
const PAGE: u32 = 25;

/// An article in the editors' list.
pub(crate) struct Row {
    id: Uuid,
    title: String,
    category: &'static str,
    status: &'static str,
    /// "Đang đăng", "Hẹn đăng 08:00 01/12/2026", "Đã gỡ", or empty.
    live: String,
    updated: String,
}

fn live_label(a: &Article, now: OffsetDateTime) -> String {
    match (a.live_version, a.live_from) {
        (Some(_), Some(at)) if at > now => format!("Hẹn đăng {}", vntime::format_datetime(at)),
        (Some(_), _) if a.live_until.is_some_and(|u| u <= now) => "Hết hạn đăng".into(),
        (Some(v), _) if v == a.copy.version => "Đang đăng".into(),
        (Some(v), _) => format!("Đang đăng bản {v}"),
        (None, _) if a.approved_at.is_some() => "Đã gỡ".into(),
        (None, _) => String::new(),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct HomeQuery {
    #[serde(default)]
    trang_thai: String,
    #[serde(default)]
    trang: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "newsroom.html")]
pub(crate) struct HomePage {
    layout: Layout,
    rows: Vec<Row>,
    total: u64,
    /// (code, label, current)
    filters: Vec<(&'static str, &'static str, bool)>,
    every: bool,
    pages: Vec<(u64, String, bool)>,
    held_comments: u64,
    approver: bool,
}

pub(crate) async fn home(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Query(q): Query<HomeQuery>,
) -> Result<Response, AppError> {
    let account = match guard::require(&state, &viewer, Action::WriteArticles, HOME).await {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let status = Status::parse(q.trang_thai.trim());
    let page = q.trang.trim().parse::<u32>().unwrap_or(1).clamp(1, 10_000);
    let (list, total) = state
        .store
        .articles
        .list(status, PAGE, u64::from((page - 1) * PAGE))
        .await?;
    let now = OffsetDateTime::now_utc();
    let (_, held_comments) = state.store.articles.held_comments(0).await?;
    let page_count = total.div_ceil(u64::from(PAGE)).max(1);
    let href = |n: u64| {
        let mut pairs = Vec::new();
        if let Some(s) = status {
            pairs.push(("trang_thai", s.code().to_string()));
        }
        if n > 1 {
            pairs.push(("trang", n.to_string()));
        }
        crate::urls::with_query(HOME, &pairs)
    };
    Ok(HomePage {
        layout,
        rows: list
            .iter()
            .map(|a| Row {
                id: a.id,
                title: a.copy.title.clone(),
                category: a.copy.category.label(),
                status: a.status.label(),
                live: live_label(a, now),
                updated: vntime::format_datetime(a.copy.saved_at),
            })
            .collect(),
        total,
        filters: Status::ALL
            .into_iter()
            .map(|s| (s.code(), s.label(), Some(s) == status))
            .collect(),
        every: status.is_none(),
        pages: crate::urls::page_links(page_count, u64::from(page), href),
        held_comments,
        approver: guard::allows(&state.catalogue, &account, Action::ApproveArticles),
    }
    .into_response())
}

/// What the editor typed, kept when it is refused.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(crate) struct ArticleForm {
    #[serde(default)]
    pub chuyen_muc: String,
    #[serde(default)]
    pub tieu_de: String,
    #[serde(default)]
    pub tom_tat: String,
    #[serde(default)]
    pub noi_dung: String,
    /// Related procedure codes, separated by commas, spaces or lines.
    #[serde(default)]
    pub thu_tuc: String,
    /// When readers see it (empty: at approval) and stop seeing it.
    #[serde(default)]
    pub dang_luc: String,
    #[serde(default)]
    pub go_luc: String,
    /// The version the editor opened.
    #[serde(default)]
    pub phien_ban: String,
    /// `luu` (save) or `gui` (save and send for approval).
    #[serde(default)]
    pub hanh_dong: String,
}

impl ArticleForm {
    fn of(a: &Article) -> ArticleForm {
        ArticleForm {
            chuyen_muc: a.copy.category.code().into(),
            tieu_de: a.copy.title.clone(),
            tom_tat: a.copy.summary.clone(),
            noi_dung: a.copy.body.clone(),
            thu_tuc: a.copy.procedures.join(", "),
            dang_luc: a
                .copy
                .publish_at
                .map(vntime::format_local_input)
                .unwrap_or_default(),
            go_luc: a
                .copy
                .unpublish_at
                .map(vntime::format_local_input)
                .unwrap_or_default(),
            phien_ban: a.copy.version.to_string(),
            hanh_dong: String::new(),
        }
    }

    /// The copy to save (the body sanitised), or each problem against its field.
    fn check(
        &self,
        state: &AppState,
        author: &Account,
        now: OffsetDateTime,
    ) -> Result<ArticleCopy, Vec<(String, String)>> {
        let mut errors: Vec<(String, String)> = Vec::new();
        let mut error = |field: &str, message: String| errors.push((field.into(), message));
        let category = Category::parse(self.chuyen_muc.trim());
        if category.is_none() {
            error("chuyen_muc", "Chọn chuyên mục của bài viết".into());
        }
        let title = normalize(&self.tieu_de);
        if title.is_empty() {
            error("tieu_de", "Nhập tiêu đề bài viết".into());
        } else if title.chars().count() > article::MAX_TITLE {
            error(
                "tieu_de",
                format!("Tiêu đề dài quá {} ký tự", article::MAX_TITLE),
            );
        }
        let summary = normalize(&self.tom_tat);
        if summary.is_empty() {
            error(
                "tom_tat",
                "Nhập tóm tắt (hiện ở danh sách tin và trong bản tin Atom)".into(),
            );
        } else if summary.chars().count() > article::MAX_SUMMARY {
            error(
                "tom_tat",
                format!("Tóm tắt dài quá {} ký tự", article::MAX_SUMMARY),
            );
        }
        let typed = normalize(&self.noi_dung);
        let body = motcua_richtext::sanitize(&typed);
        let text = motcua_richtext::plain_text(&body);
        if text.trim().is_empty() && !body.contains("<img") {
            error("noi_dung", "Nhập nội dung bài viết".into());
        } else if typed.len() > article::MAX_BODY_HTML
            || text.chars().count() > article::MAX_BODY_TEXT
        {
            error(
                "noi_dung",
                format!(
                    "Nội dung dài quá {} ký tự",
                    motcua_domain::money::grouped(article::MAX_BODY_TEXT as u64)
                ),
            );
        }
        let view = state.catalogue.view();
        let mut procedures: Vec<String> = Vec::new();
        for code in self
            .thu_tuc
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            if view.get(code).is_none() {
                error(
                    "thu_tuc",
                    format!("Không có thủ tục mã “{code}” trong danh mục"),
                );
            } else if !procedures.iter().any(|p| p == code) {
                procedures.push(code.to_string());
            }
        }
        let time_of = |typed: &str, field: &str, errors: &mut Vec<(String, String)>| {
            if typed.trim().is_empty() {
                return None;
            }
            let at = vntime::parse_local_datetime(typed);
            if at.is_none() {
                errors.push((
                    field.into(),
                    "Thời điểm không đúng dạng ngày/tháng/năm giờ:phút, ví dụ 01/12/2026 08:00"
                        .into(),
                ));
            }
            at
        };
        let publish_at = time_of(&self.dang_luc, "dang_luc", &mut errors);
        let unpublish_at = time_of(&self.go_luc, "go_luc", &mut errors);
        if let Some(until) = unpublish_at {
            if until <= now {
                errors.push((
                    "go_luc".into(),
                    "Thời điểm gỡ bài đã qua: bạn đọc sẽ không thấy bài. Để trống hoặc chọn một thời điểm sau này"
                        .into(),
                ));
            } else if until <= publish_at.unwrap_or(now) {
                errors.push((
                    "go_luc".into(),
                    "Thời điểm gỡ bài phải sau thời điểm đăng".into(),
                ));
            }
        }
        match (category, errors.is_empty()) {
            (Some(category), true) => Ok(ArticleCopy {
                version: 1,
                category,
                title,
                summary,
                body,
                procedures,
                saved_by: author.id,
                saved_at: now,
                publish_at,
                unpublish_at,
            }),
            _ => Err(errors),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "newsroom_article.html")]
pub(crate) struct EditPage {
    layout: Layout,
    /// `None`: a new article.
    article: Option<ArticleView>,
    form: ArticleForm,
    errors: Vec<(String, String)>,
    categories: Vec<(&'static str, &'static str)>,
    /// What just happened, or an uploaded image's markup to paste.
    notice: Option<String>,
    /// The head editor's reason as typed, when a decision was refused.
    reason: String,
    image: Option<String>,
    allowed_image_path: &'static str,
}

impl EditPage {
    /// The page for `article` (`None`: a new one) with `form` as typed and these errors; nothing else to say.
    fn new(
        layout: Layout,
        article: Option<ArticleView>,
        form: ArticleForm,
        errors: Vec<(String, String)>,
    ) -> EditPage {
        EditPage {
            layout,
            article,
            form,
            errors,
            categories: categories(),
            notice: None,
            reason: String::new(),
            image: None,
            allowed_image_path: motcua_richtext::IMAGE_PATH,
        }
    }

    /// Refused: 422 with the page.
    fn refused(self) -> Response {
        (StatusCode::UNPROCESSABLE_ENTITY, self).into_response()
    }
}

/// What the edit page shows of a saved article beside its form.
pub(crate) struct ArticleView {
    id: Uuid,
    slug: String,
    status: &'static str,
    live: String,
    review_note: Option<String>,
    /// The head editor may decide now (the copy waits for approval).
    can_review: bool,
    can_unpublish: bool,
    /// The saved body as readers will see it.
    preview: String,
    /// (version, saved at)
    versions: Vec<(u32, String)>,
}

fn categories() -> Vec<(&'static str, &'static str)> {
    Category::ALL
        .into_iter()
        .map(|c| (c.code(), c.label()))
        .collect()
}

async fn view_of(
    state: &AppState,
    account: &Account,
    a: &Article,
) -> Result<ArticleView, AppError> {
    let approver = guard::allows(&state.catalogue, account, Action::ApproveArticles);
    Ok(ArticleView {
        id: a.id,
        slug: a.slug.clone(),
        status: a.status.label(),
        live: live_label(a, OffsetDateTime::now_utc()),
        review_note: a.review_note.clone(),
        can_review: approver && a.status == Status::Submitted,
        can_unpublish: approver && a.live_version.is_some(),
        preview: a.copy.body.clone(),
        versions: state
            .store
            .articles
            .versions(a.id)
            .await?
            .into_iter()
            .map(|v| (v.version, vntime::format_datetime(v.saved_at)))
            .collect(),
    })
}

pub(crate) async fn new_page(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
) -> Result<Response, AppError> {
    if let Err(r) = guard::require(&state, &viewer, Action::WriteArticles, HOME).await {
        return Ok(r);
    }
    let form = ArticleForm {
        chuyen_muc: Category::News.code().into(),
        ..Default::default()
    };
    Ok(EditPage::new(layout, None, form, vec![]).into_response())
}

pub(crate) async fn create(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Form(f): Form<ArticleForm>,
) -> Result<Response, AppError> {
    let author = match guard::require(&state, &viewer, Action::WriteArticles, HOME).await {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let now = OffsetDateTime::now_utc();
    let copy = match f.check(&state, &author, now) {
        Ok(c) => c,
        Err(errors) => {
            return Ok(EditPage::new(layout, None, f, errors).refused());
        }
    };
    let id = Uuid::now_v7();
    let slug = article::slug(&motcua_search::fold(&copy.title), id);
    state
        .store
        .articles
        .create(&NewArticle { id, slug, copy })
        .await?;
    if f.hanh_dong == "gui" {
        return submit(&state, &author, id, 1, now).await;
    }
    Ok(Redirect::to(&format!("{HOME}/bai-viet/{id}?xong=luu")).into_response())
}

async fn submit(
    state: &AppState,
    author: &Account,
    id: Uuid,
    version: u32,
    now: OffsetDateTime,
) -> Result<Response, AppError> {
    state
        .store
        .articles
        .review(&Review {
            id,
            version,
            step: Step::Submit,
            by: author.id,
            note: None,
            at: now,
        })
        .await?;
    Ok(Redirect::to(&format!("{HOME}/bai-viet/{id}?xong=gui")).into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct EditQuery {
    #[serde(default)]
    xong: String,
    /// An image just uploaded (its address).
    #[serde(default)]
    anh: String,
}

fn notice_of(done: &str) -> Option<String> {
    Some(
        match done {
            "luu" => "Đã lưu bản nháp.",
            "gui" => "Đã lưu và gửi bài viết cho trưởng ban biên tập duyệt.",
            "duyet" => "Đã duyệt: bài viết hiện với bạn đọc từ thời điểm đăng.",
            "tra-lai" => "Đã trả lại bài viết cho biên tập viên kèm lý do.",
            "go" => "Đã gỡ bài viết: bạn đọc không còn thấy bài này.",
            "anh" => "Đã tải ảnh lên. Chép đoạn mã dưới đây vào nội dung ở chỗ muốn đặt ảnh.",
            _ => return None,
        }
        .to_string(),
    )
}

async fn load(state: &AppState, id: &str) -> Result<Option<Article>, AppError> {
    let Ok(id) = Uuid::parse_str(id) else {
        return Ok(None);
    };
    Ok(state.store.articles.get(id).await?)
}

pub(crate) async fn edit_page(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<EditQuery>,
) -> Result<Response, AppError> {
    let account = match guard::require(&state, &viewer, Action::WriteArticles, HOME).await {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let Some(a) = load(&state, &id).await? else {
        return Ok(not_found().await);
    };
    let image = Some(q.anh.trim())
        .filter(|p| p.starts_with(motcua_richtext::IMAGE_PATH) && !p.contains(['"', '<', '>']))
        .map(|p| format!("<p><img src=\"{p}\" alt=\"Mô tả ảnh\"></p>"));
    let view = view_of(&state, &account, &a).await?;
    Ok(EditPage {
        notice: notice_of(&q.xong),
        image,
        ..EditPage::new(layout, Some(view), ArticleForm::of(&a), vec![])
    }
    .into_response())
}

pub(crate) async fn save(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(f): Form<ArticleForm>,
) -> Result<Response, AppError> {
    let author = match guard::require(&state, &viewer, Action::WriteArticles, HOME).await {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let Some(a) = load(&state, &id).await? else {
        return Ok(not_found().await);
    };
    let now = OffsetDateTime::now_utc();
    let refuse = |errors: Vec<(String, String)>, f: ArticleForm| async {
        let view = view_of(&state, &author, &a).await?;
        Ok::<_, AppError>(EditPage::new(layout, Some(view), f, errors).refused())
    };
    let copy = match f.check(&state, &author, now) {
        Ok(c) => c,
        Err(errors) => return refuse(errors, f).await,
    };
    let opened = f.phien_ban.trim().parse::<u32>().unwrap_or(0);
    let version = match state.store.articles.save(a.id, opened, &copy, now).await {
        Ok(v) => v,
        Err(StoreError::Conflict(_)) => {
            let errors = vec![(
                "noi_dung".to_string(),
                format!(
                    "Bài viết đã có bản {} do người khác lưu sau khi bạn mở trang. Nội dung bạn viết vẫn ở dưới đây: \
                     hãy chép lại, mở bản mới nhất rồi sửa tiếp.",
                    a.copy.version
                ),
            )];
            return refuse(errors, f).await;
        }
        Err(e) => return Err(e.into()),
    };
    if f.hanh_dong == "gui" {
        return submit(&state, &author, a.id, version, now).await;
    }
    Ok(Redirect::to(&format!("{HOME}/bai-viet/{}?xong=luu", a.id)).into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ReviewForm {
    /// `duyet` or `tra-lai`.
    #[serde(default)]
    quyet_dinh: String,
    #[serde(default)]
    ly_do: String,
    #[serde(default)]
    phien_ban: String,
}

pub(crate) async fn review(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(f): Form<ReviewForm>,
) -> Result<Response, AppError> {
    let head = match guard::require(&state, &viewer, Action::ApproveArticles, HOME).await {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let Some(a) = load(&state, &id).await? else {
        return Ok(not_found().await);
    };
    let reason = normalize(&f.ly_do);
    let step = match f.quyet_dinh.as_str() {
        "duyet" => Step::Approve,
        "tra-lai" => Step::Return,
        _ => {
            return refuse_review(
                &state,
                layout,
                &head,
                &a,
                "Chọn duyệt hoặc trả lại",
                &reason,
            )
            .await;
        }
    };
    if step == Step::Return && reason.is_empty() {
        return refuse_review(
            &state,
            layout,
            &head,
            &a,
            "Nhập lý do trả lại để biên tập viên biết cần sửa gì",
            &reason,
        )
        .await;
    }
    let version = f.phien_ban.trim().parse::<u32>().unwrap_or(0);
    let outcome = state
        .store
        .articles
        .review(&Review {
            id: a.id,
            version,
            step,
            by: head.id,
            note: (step == Step::Return).then(|| reason.clone()),
            at: OffsetDateTime::now_utc(),
        })
        .await;
    match outcome {
        Ok(_) => {}
        Err(StoreError::Conflict(why)) => {
            let message = format!("Không thực hiện được: {why}.");
            return refuse_review(&state, layout, &head, &a, &message, &reason).await;
        }
        Err(e) => return Err(e.into()),
    }
    state.articles.changed();
    let done = if step == Step::Approve {
        "duyet"
    } else {
        "tra-lai"
    };
    Ok(Redirect::to(&format!("{HOME}/bai-viet/{}?xong={done}", a.id)).into_response())
}

async fn refuse_review(
    state: &AppState,
    layout: Layout,
    account: &Account,
    a: &Article,
    message: &str,
    reason: &str,
) -> Result<Response, AppError> {
    let view = view_of(state, account, a).await?;
    let errors = vec![("ly_do".into(), message.to_string())];
    Ok(EditPage {
        reason: reason.to_string(),
        ..EditPage::new(layout, Some(view), ArticleForm::of(a), errors)
    }
    .refused())
}

pub(crate) async fn unpublish(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let head = match guard::require(&state, &viewer, Action::ApproveArticles, HOME).await {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let Some(a) = load(&state, &id).await? else {
        return Ok(not_found().await);
    };
    match state
        .store
        .articles
        .unpublish(a.id, head.id, OffsetDateTime::now_utc())
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict(why)) => {
            return refuse_review(
                &state,
                layout,
                &head,
                &a,
                &format!("Không gỡ được: {why}."),
                "",
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    }
    state.articles.changed();
    Ok(Redirect::to(&format!("{HOME}/bai-viet/{}?xong=go", a.id)).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "newsroom_version.html")]
pub(crate) struct VersionPage {
    layout: Layout,
    id: Uuid,
    version: u32,
    saved: String,
    copy: ArticleCopy,
    category: &'static str,
}

pub(crate) async fn version_page(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path((id, version)): Path<(String, String)>,
) -> Result<Response, AppError> {
    if let Err(r) = guard::require(&state, &viewer, Action::WriteArticles, HOME).await {
        return Ok(r);
    }
    let (Ok(id), Ok(version)) = (Uuid::parse_str(&id), version.parse::<u32>()) else {
        return Ok(not_found().await);
    };
    let Some(copy) = state.store.articles.version(id, version).await? else {
        return Ok(not_found().await);
    };
    Ok(VersionPage {
        layout,
        id,
        version,
        saved: vntime::format_datetime(copy.saved_at),
        category: copy.category.label(),
        copy,
    }
    .into_response())
}

/// An image for an article: checked as an attachment is (size, type from its bytes, the scanner), kept in the
/// file store, and its markup handed back to paste into the body.
pub(crate) async fn upload_image(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let account = match guard::require(&state, &viewer, Action::WriteArticles, HOME).await {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let Some(a) = load(&state, &id).await? else {
        return Ok(not_found().await);
    };
    let mut problem = "Chọn một ảnh JPEG hoặc PNG để tải lên.".to_string();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => {
                problem = "Tải ảnh lên bị gián đoạn. Hãy chọn lại ảnh và thử lại.".into();
                break;
            }
        };
        if field.name() != Some("anh") {
            continue;
        }
        let name = field.file_name().unwrap_or("").to_string();
        if name.is_empty() {
            continue;
        }
        let bytes = match read_limited(field, state.uploads.max_file_bytes, &name).await {
            Ok(b) => b,
            Err(refusal) => {
                problem = refusal.to_string();
                break;
            }
        };
        // an article takes images only (the attachment checks would let a PDF through)
        match motcua_domain::upload::sniff(&name, &bytes) {
            Ok(FileType::Jpeg | FileType::Png) => {}
            Ok(FileType::Pdf) => {
                problem = format!("Tệp “{name}” không phải ảnh JPEG hoặc PNG.");
                break;
            }
            // empty, cut short, of another type: said as for any upload
            Err(refusal) => {
                problem = refusal.to_string();
                break;
            }
        }
        match store_checked(&state, &name, bytes, IMAGE_PREFIX).await? {
            Ok(stored) => {
                let path = format!(
                    "{}{}.{}",
                    motcua_richtext::IMAGE_PATH,
                    stored.id,
                    stored.kind.extension()
                );
                return Ok(Redirect::to(&crate::urls::with_query(
                    &format!("{HOME}/bai-viet/{}", a.id),
                    &[("xong", "anh".into()), ("anh", path)],
                ))
                .into_response());
            }
            Err(message) => problem = message,
        }
        break;
    }
    let view = view_of(&state, &account, &a).await?;
    let errors = vec![("anh".into(), problem)];
    Ok(EditPage::new(layout, Some(view), ArticleForm::of(&a), errors).refused())
}
