//! The API for other systems, `/api/v1`: JSON, versioned in the path, documented by an OpenAPI 3.1 document that
//! utoipa builds from the handlers' own route annotations (the router and the document come from the same
//! `routes!` calls below, so a route cannot be served undocumented). Errors are RFC 9457 problem details
//! (`shared/problem.rs`). The document is served at `/api/v1/openapi.json`, and read as a page at `/api/v1`
//! drawn on the server from the same document (no script, nothing from elsewhere).
//!
//! The API reads the same rules and queries as the pages (the catalogue's `filters` and `find`); it never
//! acts on a session cookie, so the cross-site check of forms does not apply to it.

pub(crate) mod catalogue;
pub(crate) mod dossiers;

use std::sync::LazyLock;

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Router,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{AppState, layout::Layout};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "motcua API",
        version = "1",
        description = "API của cổng dịch vụ công và hệ thống một cửa điện tử motcua: danh mục thủ tục hành chính, \
                       cơ quan, lĩnh vực, tra cứu hồ sơ. Lỗi trả về theo RFC 9457 (application/problem+json) với `type` ổn định \
                       và `title`, `detail` bằng tiếng Việt. Ngày theo ISO 8601; số tiền tính bằng đồng.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later")
    ),
    tags(
        (name = "catalogue", description = "Danh mục thủ tục hành chính, cơ quan và lĩnh vực (công khai, không cần xác thực)"),
        (name = "dossiers", description = "Hồ sơ: tra cứu tiến độ bằng mã hồ sơ và số điện thoại hoặc số định danh (công khai, giới hạn 10 lần/phút mỗi địa chỉ)")
    ),
    components(schemas(
        crate::problem::Problem,
        crate::problem::FieldProblem,
        catalogue::AudienceKey,
        catalogue::ImplementingLevelKey,
        catalogue::SortKey
    ))
)]
struct ApiDoc;

/// The largest body the API reads.
const BODY_LIMIT: usize = 16 * 1024;

/// The API's router and its document, from one list of routes.
pub(crate) fn parts() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(catalogue::procedures))
        .routes(routes!(catalogue::procedure))
        .routes(routes!(catalogue::agencies))
        .routes(routes!(catalogue::fields))
        .routes(routes!(dossiers::lookup))
        // the API takes small JSON bodies only (for now): refused early, as problem details
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .split_for_parts()
}

/// The OpenAPI document (for tests, and for the routes below).
pub fn openapi() -> utoipa::openapi::OpenApi {
    parts().1
}

/// The document as served, made once.
static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| openapi().to_pretty_json().unwrap_or_default());

/// `GET /api/v1/openapi.json`.
pub(crate) async fn document() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
        ],
        DOCUMENT.as_str(),
    )
        .into_response()
}

/// One operation as the documentation page shows it.
pub(crate) struct OperationDoc {
    pub method: String,
    pub path: String,
    pub anchor: String,
    pub summary: String,
    pub description: String,
    pub parameters: Vec<(String, String, bool, String)>,
    pub responses: Vec<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "api_docs.html")]
pub(crate) struct DocsPage {
    pub layout: Layout,
    pub description: String,
    pub version: String,
    pub operations: Vec<OperationDoc>,
}

/// The page's reading of the document: every path and method, in the document's order.
fn operations() -> Vec<OperationDoc> {
    let value: serde_json::Value = serde_json::from_str(&DOCUMENT).unwrap_or_default();
    let text = |v: &serde_json::Value, k: &str| {
        v.get(k)
            .and_then(|x| x.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let mut out = Vec::new();
    let Some(paths) = value.get("paths").and_then(|p| p.as_object()) else {
        return out;
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            let parameters = op
                .get("parameters")
                .and_then(|p| p.as_array())
                .map(|ps| {
                    ps.iter()
                        .map(|p| {
                            (
                                text(p, "name"),
                                text(p, "in"),
                                p.get("required").and_then(|r| r.as_bool()).unwrap_or(false),
                                text(p, "description"),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let responses = op
                .get("responses")
                .and_then(|r| r.as_object())
                .map(|rs| {
                    rs.iter()
                        .map(|(code, r)| (code.clone(), text(r, "description")))
                        .collect()
                })
                .unwrap_or_default();
            out.push(OperationDoc {
                method: method.to_uppercase(),
                path: path.clone(),
                anchor: text(op, "operationId"),
                summary: text(op, "summary"),
                description: text(op, "description"),
                parameters,
                responses,
            });
        }
    }
    out
}

/// `GET /api/v1`: the documentation as a page.
pub(crate) async fn docs(layout: Layout) -> DocsPage {
    let doc = openapi();
    DocsPage {
        layout,
        description: doc.info.description.clone().unwrap_or_default(),
        version: doc.info.version.clone(),
        operations: operations(),
    }
}
