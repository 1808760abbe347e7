//! One error type for the HTTP edge: every failure becomes an accessible Vietnamese page with the right status
//! (503 when the database is out, never a panic), and internal details go to the log, not to the visitor.

use askama::Template;
use axum::{
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use motcua_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("không tìm thấy")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
    /// File storage failed (disk, bucket).
    #[error("lưu trữ tệp: {0}")]
    Files(String),
    /// The request's form or query could not be read.
    #[error("yêu cầu không đọc được")]
    Input(#[from] InputRejection),
}

impl AppError {
    pub(crate) fn files(e: object_store::Error) -> AppError {
        AppError::Files(e.to_string())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage {
    pub layout: crate::layout::Layout,
    pub status: u16,
    pub title: &'static str,
    pub message: &'static str,
}

impl ErrorPage {
    pub fn for_status(status: StatusCode) -> Self {
        let (title, message) = match status {
            StatusCode::BAD_REQUEST => (
                "Yêu cầu không hợp lệ",
                "Địa chỉ hoặc nội dung gửi lên không đọc được (có thể do ký tự lạ hoặc đường dẫn bị cắt). Hãy mở lại trang từ trang chủ và thử lại.",
            ),
            StatusCode::UNAUTHORIZED => (
                "Cần đăng nhập",
                "Trang này chỉ dành cho người đã đăng nhập. Hãy đăng nhập rồi thử lại.",
            ),
            StatusCode::METHOD_NOT_ALLOWED => (
                "Thao tác không được hỗ trợ",
                "Địa chỉ này không nhận thao tác vừa gửi. Hãy mở lại trang và dùng các nút trên trang.",
            ),
            StatusCode::CONFLICT => (
                "Hồ sơ vừa được thay đổi",
                "Một người khác vừa thao tác trên nội dung này. Hãy tải lại trang để xem trạng thái mới nhất.",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => (
                "Nội dung gửi lên quá lớn",
                "Tệp hoặc nội dung bạn gửi vượt quá dung lượng cho phép. Hãy giảm dung lượng tệp (ví dụ quét với độ phân giải thấp hơn) rồi gửi lại.",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "Định dạng gửi lên không được hỗ trợ",
                "Nội dung phải được gửi từ biểu mẫu trên trang của cổng dịch vụ công. Hãy mở lại trang và gửi lại.",
            ),
            StatusCode::UNPROCESSABLE_ENTITY => (
                "Thông tin gửi lên không hợp lệ",
                "Một số ô có giá trị không đúng dạng (ví dụ chữ ở ô chỉ nhận số). Hãy mở lại trang, kiểm tra và gửi lại.",
            ),
            StatusCode::NOT_FOUND => (
                "Không tìm thấy trang",
                "Địa chỉ bạn mở không tồn tại hoặc đã được chuyển đi. Hãy kiểm tra lại đường dẫn hoặc quay về trang chủ.",
            ),
            StatusCode::TOO_MANY_REQUESTS => (
                "Bạn đã thử quá nhiều lần",
                "Để bảo vệ tài khoản, hệ thống tạm dừng nhận yêu cầu này từ thiết bị của bạn. Vui lòng chờ 1 phút rồi thử lại.",
            ),
            StatusCode::FORBIDDEN => (
                "Yêu cầu bị từ chối",
                "Yêu cầu này không xuất phát từ trang của cổng dịch vụ công nên đã bị từ chối để bảo vệ tài khoản của bạn. Hãy mở lại trang và thử lại.",
            ),
            StatusCode::SERVICE_UNAVAILABLE => (
                "Hệ thống tạm thời gián đoạn",
                "Cơ sở dữ liệu tạm thời không truy cập được. Dữ liệu của bạn không bị mất; vui lòng thử lại sau ít phút.",
            ),
            _ => (
                "Đã xảy ra lỗi",
                "Hệ thống gặp lỗi khi xử lý yêu cầu. Lỗi đã được ghi lại; vui lòng thử lại sau.",
            ),
        };
        ErrorPage {
            layout: crate::layout::Layout::anonymous(),
            status: status.as_u16(),
            title,
            message,
        }
    }

    /// Logged in, but this page is not for this account.
    pub fn access_denied() -> Self {
        ErrorPage {
            layout: crate::layout::Layout::anonymous(),
            status: 403,
            title: "Bạn không có quyền truy cập trang này",
            message: "Tài khoản của bạn không được cấp quyền cho trang hoặc thao tác này. Nếu bạn cho rằng đây là nhầm lẫn, hãy liên hệ quản trị hệ thống của cơ quan.",
        }
    }

    pub fn into_response_with(self, status: StatusCode) -> Response {
        match self.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "error page did not render");
                (status, self.title).into_response()
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = match self {
            AppError::Input(rejection) => return rejection.into_response(),
            AppError::NotFound | AppError::Store(StoreError::NotFound) => StatusCode::NOT_FOUND,
            AppError::Store(ref e) if e.is_unavailable() => {
                tracing::warn!(error = %e, "database unavailable");
                let mut response = ErrorPage::for_status(StatusCode::SERVICE_UNAVAILABLE)
                    .into_response_with(StatusCode::SERVICE_UNAVAILABLE);
                // only an outage opens the breaker; a busy moment answers this one request
                if e.is_outage() {
                    response.extensions_mut().insert(crate::error::DatabaseDown);
                }
                return response;
            }
            AppError::Store(ref e) => {
                tracing::error!(error = %e, "storage error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
            AppError::Files(ref e) => {
                tracing::error!(error = %e, "file storage error");
                StatusCode::SERVICE_UNAVAILABLE
            }
        };
        ErrorPage::for_status(status).into_response_with(status)
    }
}

/// 429 with the usual page and `Retry-After`.
pub(crate) fn too_many(retry_after_seconds: u32) -> Response {
    let mut response = ErrorPage::for_status(StatusCode::TOO_MANY_REQUESTS)
        .into_response_with(StatusCode::TOO_MANY_REQUESTS);
    if let Ok(value) = axum::http::HeaderValue::from_str(&retry_after_seconds.to_string()) {
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, value);
    }
    response
}

/// Middleware: every error answer is a Vietnamese page. Answers made outside our handlers (a body over the
/// limit, a path that is not UTF-8, a method the route does not take, a broken multipart body) come from axum as
/// English plain text or empty; they are replaced here, keeping their status and headers. JSON answers (the
/// session status endpoint, the probes) are left as they are. Every 503 says when to try again. Under `/api/`
/// every error answer becomes problem details instead ([`crate::problem`]).
pub(crate) async fn vietnamese_pages<F: Future<Output = Response>>(
    request: axum::extract::Request,
    next: impl FnOnce(axum::extract::Request) -> F,
) -> Response {
    let api = request.uri().path().starts_with(crate::problem::API_PREFIX);
    let mut response = next(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    if api {
        return crate::problem::replace(response);
    }
    let content_type = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !(content_type.starts_with("text/html") || content_type.contains("json")) {
        let mut page = ErrorPage::for_status(status).into_response_with(status);
        for (name, value) in response.headers() {
            if name != axum::http::header::CONTENT_TYPE
                && name != axum::http::header::CONTENT_LENGTH
            {
                page.headers_mut().append(name.clone(), value.clone());
            }
        }
        *page.extensions_mut() = std::mem::take(response.extensions_mut());
        response = page;
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .entry(axum::http::header::RETRY_AFTER)
            .or_insert(axum::http::HeaderValue::from_static(
                crate::error::RETRY_AFTER_SECONDS,
            ));
    }
    response
}

/// A panic in a handler is a bug: log it, answer 500 with the usual page.
pub(crate) fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ErrorPage::for_status(StatusCode::INTERNAL_SERVER_ERROR)
        .into_response_with(StatusCode::INTERNAL_SERVER_ERROR)
}

pub(crate) async fn not_found() -> Response {
    ErrorPage::for_status(StatusCode::NOT_FOUND).into_response_with(StatusCode::NOT_FOUND)
}

/// Why a form or query could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputRejection {
    /// Not a form post (415).
    #[error("không phải biểu mẫu")]
    NotAForm,
    /// Larger than the route allows (413).
    #[error("quá lớn")]
    TooLarge,
    /// The body could not be read (400).
    #[error("không đọc được")]
    Unreadable,
    /// A value does not fit its field, e.g. letters where a number goes (422).
    #[error("giá trị không hợp lệ: {0}")]
    Invalid(String),
}

impl InputRejection {
    pub fn status(&self) -> StatusCode {
        match self {
            InputRejection::NotAForm => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            InputRejection::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            InputRejection::Unreadable => StatusCode::BAD_REQUEST,
            InputRejection::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

impl IntoResponse for InputRejection {
    fn into_response(self) -> Response {
        if let InputRejection::Invalid(reason) = &self {
            tracing::info!(%reason, "malformed form or query");
        }
        let status = self.status();
        ErrorPage::for_status(status).into_response_with(status)
    }
}

pub(crate) use crate::problem::RETRY_AFTER_SECONDS;

/// Put on a response by the error handling when storage was unavailable.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DatabaseDown;
