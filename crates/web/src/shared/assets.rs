//! Static assets, embedded in the binary so a deployment is one file.

use axum::{
    extract::Path,
    http::header,
    response::{IntoResponse, Response},
};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../static/app.css"),
    },
    Asset {
        name: "session.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/session.js"),
    },
    Asset {
        name: "draft.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/draft.js"),
    },
    Asset {
        name: "errors.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/errors.js"),
    },
    Asset {
        name: "communes.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/communes.js"),
    },
    Asset {
        name: "menu.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/menu.js"),
    },
    Asset {
        name: "search.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/search.js"),
    },
    Asset {
        name: "stars.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/stars.js"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        bytes: include_bytes!("../../static/favicon.svg"),
    },
];

pub(crate) async fn serve(Path(file): Path<String>) -> Response {
    // every province's communes, for the commune lists (built once from the embedded data)
    if file == "xa-phuong.json" {
        return (
            [
                (header::CONTENT_TYPE, "application/json; charset=utf-8"),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            motcua_domain::form::communes_json(),
        )
            .into_response();
    }
    match ASSETS.iter().find(|a| a.name == file) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, asset.content_type),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            asset.bytes,
        )
            .into_response(),
        None => crate::error::not_found().await,
    }
}
