//! The applicant rates how their dossier was handled: once, after the result was handed over, on the five levels
//! of `domain.md` §9, with an optional comment.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use time::OffsetDateTime;

use motcua_domain::rating::{MAX_COMMENT_CHARS, Rating, Satisfaction, may_rate};

use crate::input::Form;
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
    let level = posted
        .muc_do
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(Satisfaction::from_score);
    let (status, error, notice) = match level {
        _ if !may_rate(dossier.status) => (StatusCode::CONFLICT, None, Some(NOT_YET)),
        None => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("Chọn một mức đánh giá, từ Rất hài lòng đến Rất không hài lòng"),
            None,
        ),
        Some(_) if comment.chars().count() > MAX_COMMENT_CHARS => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("Ý kiến dài quá 1.000 ký tự: hãy rút gọn"),
            None,
        ),
        Some(level) => {
            let rating = Rating {
                dossier: dossier.id,
                level,
                comment: (!comment.is_empty()).then(|| comment.clone()),
                at: OffsetDateTime::now_utc(),
                account: viewer.account.as_ref().map(|a| a.id),
            };
            if state.store.ratings.rate(&rating).await? {
                return Ok(Redirect::to(&format!("{path}#danh-gia")).into_response());
            }
            (StatusCode::CONFLICT, None, Some(RATED))
        }
    };
    let mut page = render_dossier(&state, layout, dossier, details, false, notice).await?;
    page.rating_level = posted.muc_do;
    page.rating_comment = comment;
    page.rating_error = error;
    Ok((status, page).into_response())
}

const NOT_YET: &str = "Chỉ đánh giá được sau khi nhận kết quả giải quyết hồ sơ.";
const RATED: &str = "Hồ sơ này đã được đánh giá; mỗi hồ sơ đánh giá một lần.";
