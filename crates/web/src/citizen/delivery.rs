//! The applicant asks for the result by post (or changes the address) until it is handed to the post.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use time::OffsetDateTime;

use motcua_domain::postal::{Delivery, check_address, may_ask};

use crate::input::Form;
use crate::{
    AppError, AppState, citizen::tracking::render_dossier, dossiers::owned, layout::Layout,
    postal::AddressForm, viewer::Viewer,
};

pub(crate) async fn ask_post(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
    Form(posted): Form<AddressForm>,
) -> Result<Response, AppError> {
    let path = format!("/ho-so/{code}");
    let (dossier, details) = match owned(&state, &viewer, &code, &path).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let checked = check_address(
        &posted.nguoi_nhan,
        &posted.dien_thoai_nhan,
        &posted.tinh_thanh,
        &posted.xa_phuong,
        &posted.dia_chi,
    );
    let (status, errors, notice) = match checked {
        _ if !may_ask(dossier.status) => (StatusCode::CONFLICT, vec![], Some(TOO_LATE)),
        Err(errors) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            errors
                .into_iter()
                .map(|(f, m)| (f.to_string(), m.to_string()))
                .collect(),
            None,
        ),
        Ok(address) => {
            let delivery = Delivery {
                dossier: dossier.id,
                address,
                asked_at: OffsetDateTime::now_utc(),
                handed: None,
                delivered_at: None,
                returned: None,
            };
            if state.store.deliveries.ask(&delivery).await? {
                return Ok(Redirect::to(&format!("{path}#buu-chinh")).into_response());
            }
            (StatusCode::CONFLICT, vec![], Some(HANDED))
        }
    };
    let mut page = render_dossier(&state, layout, dossier, details, false, notice).await?;
    page.post = posted;
    page.post_errors = errors;
    Ok((status, page).into_response())
}

const TOO_LATE: &str = "Hồ sơ đã kết thúc: không đăng ký nhận kết quả qua bưu chính được nữa.";
const HANDED: &str = "Kết quả đã được giao cho bưu chính: không đổi địa chỉ được nữa. Liên hệ bộ phận một cửa nếu cần.";
