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
        let status = match &self {
            AppError::NotFound | AppError::Store(StoreError::NotFound) => StatusCode::NOT_FOUND,
            AppError::Store(e) if e.is_unavailable() => {
                tracing::warn!(error = %e, "database unavailable");
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Store(e) => {
                tracing::error!(error = %e, "storage error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
            AppError::Files(e) => {
                tracing::error!(error = %e, "file storage error");
                StatusCode::SERVICE_UNAVAILABLE
            }
        };
        ErrorPage::for_status(status).into_response_with(status)
    }
}

/// A panic in a handler is a bug: log it, answer 500 with the usual page.
pub(crate) fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ErrorPage::for_status(StatusCode::INTERNAL_SERVER_ERROR)
        .into_response_with(StatusCode::INTERNAL_SERVER_ERROR)
}
