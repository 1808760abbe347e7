//! The API for other systems, `/api/v1`: JSON, versioned in the path, documented by an OpenAPI 3.1 document that
//! utoipa builds from the handlers' own route annotations (the router and the document come from the same
//! `routes!` calls below, so a route cannot be served undocumented). Errors are RFC 9457 problem details
//! (`shared/problem.rs`). The document is served at `/api/v1/openapi.json`, and read as a portal page at
//! `/tai-lieu-api` drawn on the server from the same document (no script, nothing from elsewhere).
//!
//! The API reads the same rules and queries as the pages (the catalogue's `filters` and `find`). It never acts
//! for a browser's session: the frame takes cookies off its requests (`session.rs`), so the origin check of
//! cookie-bearing forms does not apply to it (`csrf.rs`).

pub(crate) mod catalogue;
pub(crate) mod clients;
pub(crate) mod dossiers;
pub(crate) mod me;
pub(crate) mod office;
pub(crate) mod webhooks;

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
        (name = "dossiers", description = "Hồ sơ: tra cứu tiến độ bằng mã hồ sơ và số điện thoại hoặc số định danh (công khai, giới hạn 10 lần/phút mỗi địa chỉ)"),
        (name = "me", description = "Cho chính người dân, doanh nghiệp: hồ sơ của tôi, với mã truy cập cá nhân tạo tại trang Tài khoản → Mã truy cập API (tiêu đề Authorization: Bearer <mã>). Tối đa 120 yêu cầu mỗi phút mỗi tài khoản."),
        (name = "office", description = "Cho hệ thống của cơ quan (ứng dụng kết nối do quản trị viên cấp khóa): hồ sơ của các cơ quan được giao, đồng bộ theo thời điểm thay đổi, tiếp nhận như bộ phận một cửa. Mỗi yêu cầu gửi tiêu đề Authorization: Bearer <khóa>; mỗi hệ thống có giới hạn số yêu cầu mỗi phút riêng và mọi lần gọi được ghi nhật ký.")
    ),
    modifiers(&KeyScheme),
    components(schemas(
        crate::problem::Problem,
        crate::problem::FieldProblem,
        catalogue::AudienceKey,
        catalogue::ImplementingLevelKey,
        catalogue::SortKey,
        office::StatusKey,
        webhooks::EventTypeKey
    ))
)]
struct ApiDoc;

/// The agencies' routes are called with an API client's key as a bearer token, a person's with their personal
/// token.
struct KeyScheme;

impl utoipa::Modify for KeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        openapi.components.get_or_insert_with(Default::default).add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "Khóa API do quản trị viên cấp (bắt đầu bằng motcua_), gửi trong tiêu đề Authorization: Bearer <khóa>",
                    ))
                    .build(),
            ),
        );
        openapi.components.get_or_insert_with(Default::default).add_security_scheme(
            "personal_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "Mã truy cập cá nhân (bắt đầu bằng motcua_pat_) tạo tại trang Tài khoản → Mã truy cập API, gửi trong tiêu đề Authorization: Bearer <mã>",
                    ))
                    .build(),
            ),
        );
    }
}

/// The largest body the API reads.
const BODY_LIMIT: usize = 64 * 1024;

/// The API's router and its document, from one list of routes. The agencies' routes pass the key check
/// (`clients::authenticate`) when there is a state to check against; the document alone needs none.
fn split(state: Option<AppState>) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let mut office = OpenApiRouter::new()
        .routes(routes!(office::list))
        .routes(routes!(office::one))
        .routes(routes!(office::answer_reception))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::delete))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::redeliver));
    let mut me = OpenApiRouter::new()
        .routes(routes!(me::dossiers))
        .routes(routes!(me::dossier))
        .routes(routes!(me::withdraw));
    if let Some(state) = state {
        office = office.route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            clients::authenticate,
        ));
        me = me.route_layer(axum::middleware::from_fn_with_state(
            state,
            clients::authenticate_person,
        ));
    }
    let (router, document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(catalogue::procedures))
        .routes(routes!(catalogue::procedure))
        .routes(routes!(catalogue::agencies))
        .routes(routes!(catalogue::fields))
        .routes(routes!(dossiers::lookup))
        .merge(office)
        .merge(me)
        // the API takes small JSON bodies only (for now): refused early, as problem details
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .split_for_parts();
    (router, with_unavailable(document))
}

/// The API's routes, served.
pub(crate) fn router(state: AppState) -> Router<AppState> {
    split(Some(state)).0
}

/// Every operation may answer 503 while the database is out (the node's outage breaker answers every request
/// that way until it is back, even those served from memory): said once here rather than on each handler.
fn with_unavailable(mut document: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let response = ResponseBuilder::new()
        .description("The database is out for a moment; try again after Retry-After seconds")
        .content(
            crate::problem::CONTENT_TYPE,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build();
    for item in document.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            operation
                .responses
                .responses
                .entry("503".into())
                .or_insert_with(|| response.clone().into());
        }
    }
    document
}

/// The OpenAPI document (for tests, and for the routes below).
pub fn openapi() -> utoipa::openapi::OpenApi {
    split(None).1
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
    /// (name, where, required, meaning)
    pub parameters: Vec<(String, String, bool, String)>,
    /// The JSON body's members: (name, type, required, meaning)
    pub body: Vec<(String, String, bool, String)>,
    pub responses: Vec<(String, String)>,
}

/// What the page shows, read once from the document.
pub(crate) struct Reading {
    description: String,
    version: String,
    operations: Vec<OperationDoc>,
}

#[derive(Template, WebTemplate)]
#[template(path = "api_docs.html")]
pub(crate) struct DocsPage {
    pub layout: Layout,
    pub doc: &'static Reading,
}

static READING: LazyLock<Reading> = LazyLock::new(|| read(&DOCUMENT));

fn read(document: &str) -> Reading {
    let value: serde_json::Value = serde_json::from_str(document).unwrap_or_default();
    let text = |v: &serde_json::Value, k: &str| {
        v.get(k)
            .and_then(|x| x.as_str())
            .unwrap_or_default()
            .to_string()
    };
    // a body's schema is a reference to the components
    let members = |op: &serde_json::Value| -> Vec<(String, String, bool, String)> {
        let Some(reference) = op
            .pointer("/requestBody/content/application~1json/schema/$ref")
            .and_then(|r| r.as_str())
        else {
            return Vec::new();
        };
        let name = reference.rsplit('/').next().unwrap_or_default();
        let schema = &value["components"]["schemas"][name];
        let required: Vec<&str> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(|x| x.as_str()).collect())
            .unwrap_or_default();
        schema["properties"]
            .as_object()
            .map(|props| {
                props
                    .iter()
                    .map(|(k, p)| {
                        (
                            k.clone(),
                            text(p, "type"),
                            required.contains(&k.as_str()),
                            text(p, "description"),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut operations = Vec::new();
    for (path, item) in value["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let parameters = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .map(|p| {
                            (
                                text(p, "name"),
                                text(p, "in"),
                                p["required"].as_bool().unwrap_or(false),
                                text(p, "description"),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let responses = op["responses"]
                .as_object()
                .map(|rs| {
                    rs.iter()
                        .map(|(code, r)| (code.clone(), text(r, "description")))
                        .collect()
                })
                .unwrap_or_default();
            operations.push(OperationDoc {
                method: method.to_uppercase(),
                path: path.clone(),
                anchor: text(op, "operationId"),
                summary: text(op, "summary"),
                description: text(op, "description"),
                parameters,
                body: members(op),
                responses,
            });
        }
    }
    Reading {
        description: text(&value["info"], "description"),
        version: text(&value["info"], "version"),
        operations,
    }
}

/// `GET /tai-lieu-api`: the API's documentation as a portal page.
pub(crate) async fn docs(layout: Layout) -> DocsPage {
    DocsPage {
        layout,
        doc: &READING,
    }
}
