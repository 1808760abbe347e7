//! The applicant rates how their dossier was handled: once, after the result was handed over, on the five levels
//! of `domain.md` §9, with an optional comment — from "Hồ sơ của tôi", or without an account through the QR code
//! on the hand-over slip (`/danh-gia/{code}`, the dossier's rating code).

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use time::OffsetDateTime;

use askama::Template;
use askama_web::WebTemplate;
use motcua_domain::{
    AccountId, Dossier,
    rating::{MAX_COMMENT_CHARS, Rating, Satisfaction, may_rate},
};

use crate::input::{Form, Query};
use crate::{
    AppError, AppState, citizen::tracking::render_dossier, dossiers::owned, layout::Layout,
    viewer::Viewer,
};

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct RatingForm {
    /// 1 (very dissatisfied) … 5 (very satisfied)
    #[serde(default)]
    muc_do: String,
    #[serde(default)]
    y_kien: String,
}

pub(crate) async fn rate(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
    Form(posted): Form<RatingForm>,
) -> Result<Response, AppError> {
    let path = format!("/ho-so/{code}");
    let (dossier, details) = match owned(&state, &viewer, &code, &path).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let comment = motcua_domain::text::normalize(&posted.y_kien);
    let (status, error, notice) = match record(
        &state,
        &dossier,
        &posted,
        &comment,
        viewer.account.as_ref().map(|a| a.id),
    )
    .await?
    {
        Recorded::Done => return Ok(Redirect::to(&format!("{path}#danh-gia")).into_response()),
        Recorded::Refused(status, error, notice) => (status, error, notice),
    };
    let mut page = render_dossier(&state, layout, dossier, details, false, notice).await?;
    page.rating_level = posted.muc_do;
    page.rating_comment = comment;
    page.rating_error = error;
    Ok((status, page).into_response())
}

/// What became of a posted rating.
enum Recorded {
    Done,
    /// The answer's status, the form's error or the page's notice.
    Refused(StatusCode, Option<&'static str>, Option<&'static str>),
}

/// Check a posted rating and record it, once per dossier.
async fn record(
    state: &AppState,
    dossier: &Dossier,
    posted: &RatingForm,
    comment: &str,
    account: Option<AccountId>,
) -> Result<Recorded, AppError> {
    let level = posted
        .muc_do
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(Satisfaction::from_score);
    Ok(match level {
        _ if !may_rate(dossier.status) => {
            Recorded::Refused(StatusCode::CONFLICT, None, Some(NOT_YET))
        }
        None => Recorded::Refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("Chọn một mức đánh giá, từ Rất hài lòng đến Rất không hài lòng"),
            None,
        ),
        Some(_) if comment.chars().count() > MAX_COMMENT_CHARS => Recorded::Refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("Ý kiến dài quá 1.000 ký tự: hãy rút gọn"),
            None,
        ),
        Some(level) => {
            let rating = Rating {
                dossier: dossier.id,
                level,
                comment: (!comment.is_empty()).then(|| comment.to_string()),
                at: OffsetDateTime::now_utc(),
                account,
            };
            if state.store.ratings.rate(&rating).await? {
                Recorded::Done
            } else {
                Recorded::Refused(StatusCode::CONFLICT, None, Some(RATED))
            }
        }
    })
}

/// The rating page of the hand-over slip's QR code: the dossier named by its code and procedure only (whoever holds
/// the slip rates; nothing personal is shown), and the rating form until it is used.
#[derive(Template, WebTemplate)]
#[template(path = "rate_by_code.html")]
pub(crate) struct RateByCodePage {
    layout: Layout,
    code: String,
    procedure: String,
    agency: String,
    /// The level given, once rated (the comment is not shown: whoever holds the slip sees this page).
    rating: Option<&'static str>,
    can_rate: bool,
    notice: Option<&'static str>,
    thanks: bool,
    rating_action: String,
    rating_level: String,
    rating_comment: String,
    rating_error: Option<&'static str>,
    levels: Vec<(u8, &'static str)>,
}

async fn by_token(state: &AppState, token: &str) -> Result<Option<Dossier>, AppError> {
    if token.len() > 64 || !token.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Ok(None);
    }
    let Some(id) = state.store.ratings.dossier_of_rating_token(token).await? else {
        return Ok(None);
    };
    Ok(state.store.dossiers.get(id).await?)
}

async fn token_page(
    state: &AppState,
    layout: Layout,
    token: &str,
    dossier: &Dossier,
) -> Result<RateByCodePage, AppError> {
    let view = state.catalogue.view();
    let rating = state.store.ratings.rating(dossier.id).await?;
    Ok(RateByCodePage {
        layout,
        code: dossier.code.to_string(),
        procedure: view.procedure_name(dossier.procedure.as_str()).to_string(),
        agency: view.agency_name(&dossier.agency).to_string(),
        can_rate: rating.is_none() && may_rate(dossier.status),
        rating: rating.map(|r| r.level.label_vi()),
        notice: None,
        thanks: false,
        rating_action: format!("/danh-gia/{token}"),
        rating_level: String::new(),
        rating_comment: String::new(),
        rating_error: None,
        levels: Satisfaction::ALL
            .iter()
            .map(|s| (s.score(), s.label_vi()))
            .collect(),
    })
}

pub(crate) async fn rate_by_code_page(
    State(state): State<AppState>,
    layout: Layout,
    Path(token): Path<String>,
    Query(q): Query<Thanks>,
) -> Result<Response, AppError> {
    let Some(dossier) = by_token(&state, &token).await? else {
        return Ok(crate::error::not_found().await);
    };
    let mut page = token_page(&state, layout, &token, &dossier).await?;
    page.thanks = q.da_gui.is_some() && page.rating.is_some();
    Ok(page.into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Thanks {
    da_gui: Option<String>,
}

pub(crate) async fn rate_by_code(
    State(state): State<AppState>,
    layout: Layout,
    Path(token): Path<String>,
    Form(posted): Form<RatingForm>,
) -> Result<Response, AppError> {
    let Some(dossier) = by_token(&state, &token).await? else {
        return Ok(crate::error::not_found().await);
    };
    let comment = motcua_domain::text::normalize(&posted.y_kien);
    let (status, error, notice) = match record(&state, &dossier, &posted, &comment, None).await? {
        Recorded::Done => {
            return Ok(Redirect::to(&format!("/danh-gia/{token}?da_gui=1")).into_response());
        }
        Recorded::Refused(status, error, notice) => (status, error, notice),
    };
    let mut page = token_page(&state, layout, &token, &dossier).await?;
    page.notice = notice;
    page.rating_level = posted.muc_do;
    page.rating_comment = comment;
    page.rating_error = error;
    Ok((status, page).into_response())
}

const NOT_YET: &str = "Chỉ đánh giá được sau khi nhận kết quả giải quyết hồ sơ.";
const RATED: &str = "Hồ sơ này đã được đánh giá; mỗi hồ sơ chỉ được đánh giá một lần.";
