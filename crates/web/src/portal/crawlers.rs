//! For search engines: `robots.txt` (the public portal may be indexed, the desk, the administration and personal
//! pages not) and `sitemap.xml` (the home page, the catalogue and every published procedure), with the site's public
//! address.

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};

use crate::AppState;

/// Paths no crawler has business with: personal, the back office, administration, actions.
const PRIVATE: &[&str] = &[
    "/can-bo",
    "/quan-tri",
    "/ho-so",
    "/ho-so-nhap",
    "/nop-ho-so",
    "/tai-khoan",
    "/dang-nhap",
    "/dang-ky",
    "/thanh-toan",
    "/danh-gia",
];

pub(crate) async fn robots(State(state): State<AppState>) -> Response {
    let mut text = String::from("User-agent: *\n");
    for path in PRIVATE {
        text.push_str(&format!("Disallow: {path}\n"));
    }
    text.push_str(&format!(
        "Allow: /\nSitemap: {}/sitemap.xml\n",
        state.site.public_url.trim_end_matches('/')
    ));
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

/// Text safe inside XML or SVG markup (element content).
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub(crate) async fn sitemap(State(state): State<AppState>) -> Response {
    let base = state.site.public_url.trim_end_matches('/').to_string();
    let view = state.catalogue.view();
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    let mut add = |path: &str| {
        xml.push_str(&format!(
            "  <url><loc>{}</loc></url>\n",
            escape(&format!("{base}{path}"))
        ));
    };
    add("/");
    add("/thu-tuc");
    add("/tra-cuu-ho-so");
    add("/ket-qua-giai-quyet");
    add("/thong-ke");
    for slug in ["tro-giup", "cau-hoi-thuong-gap", "lien-he"] {
        add(&format!("/trang/{slug}"));
    }
    for &i in &view.by_name {
        add(&format!("/thu-tuc/{}", view.entries[i].procedure.code));
    }
    xml.push_str("</urlset>\n");
    (
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        xml,
    )
        .into_response()
}
