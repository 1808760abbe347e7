//! Errors of the API as RFC 9457 problem details (`application/problem+json`): a stable `type` per kind of
//! problem, a Vietnamese `title` and `detail`, the HTTP `status`, and for bad input the fields at fault. Every
//! error answer under `/api/` is one of these, wherever it was made: a handler, an extractor, the router (405),
//! the body limit (413), the outage guard (503); `error::vietnamese_pages` turns the others into one (so a handler
//! may answer a storage error as `AppError`, and the outage breaker still sees it).

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

/// Where the API lives; its errors are problem details rather than pages.
pub const API_PREFIX: &str = "/api/";

pub const CONTENT_TYPE: &str = "application/problem+json";

/// Seconds a client is asked to wait after a 503 (`Retry-After`), on pages and in the API.
pub(crate) const RETRY_AFTER_SECONDS: &str = "5";

/// One field of the request that is at fault.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The parameter or JSON member, as named in this document.
    #[schema(example = "page")]
    pub name: String,
    /// What is wrong with it, in Vietnamese.
    #[schema(example = "Số trang phải là số nguyên từ 1 trở lên")]
    pub message: String,
}

/// An error, as RFC 9457 problem details.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// Stable identifier of the kind of problem (`urn:motcua:problem:…`): compare this, not the text.
    #[serde(rename = "type")]
    #[schema(example = "urn:motcua:problem:not-found")]
    pub kind: String,
    /// Short Vietnamese summary, the same for every problem of this kind.
    #[schema(example = "Không tìm thấy")]
    pub title: String,
    /// The HTTP status code.
    #[schema(example = 404)]
    pub status: u16,
    /// Vietnamese explanation of this occurrence.
    #[schema(example = "Không có thủ tục mã 1.999999 đang được công bố.")]
    pub detail: String,
    /// The fields at fault, for a request that could not be accepted as sent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(nullable = false)]
    pub errors: Vec<FieldProblem>,
    /// Seconds to wait before trying again (429 and 503), also sent as `Retry-After`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub retry_after: Option<u32>,
}

impl Problem {
    /// A problem of the kind that goes with `status`, with that kind's title and a standard detail.
    pub fn for_status(status: StatusCode) -> Problem {
        let (slug, title, detail) = match status {
            StatusCode::BAD_REQUEST => (
                "bad-request",
                "Yêu cầu không hợp lệ",
                "Yêu cầu không đọc được: kiểm tra địa chỉ, tham số và nội dung gửi lên.",
            ),
            StatusCode::UNAUTHORIZED => (
                "unauthorized",
                "Chưa xác thực",
                "Yêu cầu cần một mã truy cập hợp lệ.",
            ),
            StatusCode::FORBIDDEN => (
                "forbidden",
                "Không có quyền",
                "Mã truy cập này không được phép thực hiện thao tác này.",
            ),
            StatusCode::NOT_FOUND => (
                "not-found",
                "Không tìm thấy",
                "Địa chỉ này không có trong API.",
            ),
            StatusCode::METHOD_NOT_ALLOWED => (
                "method-not-allowed",
                "Phương thức không được hỗ trợ",
                "Địa chỉ này không nhận phương thức vừa gửi; xem tiêu đề Allow.",
            ),
            StatusCode::NOT_ACCEPTABLE => (
                "not-acceptable",
                "Định dạng trả về không được hỗ trợ",
                "API chỉ trả về JSON.",
            ),
            StatusCode::CONFLICT => (
                "conflict",
                "Xung đột",
                "Dữ liệu vừa được thay đổi bởi một yêu cầu khác; đọc lại rồi thử lại.",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => (
                "payload-too-large",
                "Nội dung gửi lên quá lớn",
                "Nội dung vượt quá dung lượng cho phép.",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "unsupported-media-type",
                "Định dạng gửi lên không được hỗ trợ",
                "Nội dung phải là JSON (Content-Type: application/json).",
            ),
            StatusCode::UNPROCESSABLE_ENTITY => (
                "invalid-input",
                "Dữ liệu không hợp lệ",
                "Một số trường có giá trị không đúng; xem danh sách errors.",
            ),
            StatusCode::TOO_MANY_REQUESTS => (
                "too-many-requests",
                "Quá nhiều yêu cầu",
                "Đã vượt giới hạn số yêu cầu; chờ theo tiêu đề Retry-After rồi thử lại.",
            ),
            StatusCode::SERVICE_UNAVAILABLE => (
                "unavailable",
                "Hệ thống tạm thời gián đoạn",
                "Cơ sở dữ liệu tạm thời không truy cập được; không có dữ liệu nào bị mất. Thử lại sau.",
            ),
            s if s.is_client_error() => (
                "client-error",
                "Yêu cầu không được chấp nhận",
                "Yêu cầu không được chấp nhận; xem mã trạng thái HTTP.",
            ),
            _ => (
                "internal",
                "Lỗi hệ thống",
                "Hệ thống gặp lỗi khi xử lý yêu cầu; lỗi đã được ghi lại.",
            ),
        };
        let retry_after = match status {
            StatusCode::TOO_MANY_REQUESTS => Some(60),
            StatusCode::SERVICE_UNAVAILABLE => RETRY_AFTER_SECONDS.parse().ok(),
            _ => None,
        };
        Problem {
            kind: format!("urn:motcua:problem:{slug}"),
            title: title.into(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            retry_after,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Problem {
        self.detail = detail.into();
        self
    }

    /// 400 with the parameters at fault.
    pub fn invalid(errors: Vec<FieldProblem>) -> Problem {
        Problem {
            errors,
            ..Problem::for_status(StatusCode::BAD_REQUEST)
                .with_detail("Một số tham số có giá trị không đúng; xem danh sách errors.")
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::for_status(StatusCode::NOT_FOUND).with_detail(detail)
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = self.retry_after;
        let mut response = (status, Json(self)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if let Some(seconds) = retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            headers.insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// Replace an error answer that is not problem details already (a page, axum's plain text) by the problem of its
/// status, keeping its headers (`Allow`, `Retry-After`) and extensions (the outage marker).
pub fn replace(mut response: Response) -> Response {
    let already = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(CONTENT_TYPE.as_bytes()));
    if already {
        return response;
    }
    let mut problem = Problem::for_status(response.status());
    // the answer's own wait, when it said one, is the one to tell
    if let Some(seconds) = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
    {
        problem.retry_after = Some(seconds);
    }
    let mut problem = problem.into_response();
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE
            && name != header::CONTENT_LENGTH
            && !problem.headers().contains_key(name)
        {
            problem.headers_mut().append(name.clone(), value.clone());
        }
    }
    *problem.extensions_mut() = std::mem::take(response.extensions_mut());
    problem
}
