//! The portal through its real router and a real store, in-process.

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt;
use motcua_store::Store;
use motcua_testkit::{TestStore, fixtures};
use motcua_web::{AppState, Site, router};
use std::sync::Arc;
use tower::ServiceExt;

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn get(store: &Store, path: &str) -> Reply {
    let app = router(AppState {
        store: store.clone(),
        site: Arc::new(Site {
            name: "Cổng Dịch vụ công tỉnh Minh Hòa".into(),
        }),
    });
    let response = app
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

async fn seeded(t: &TestStore) {
    fixtures::seed_minimal(&t.store).await;
    t.store
        .catalogue
        .set_service_level(&motcua_domain::ServiceLevelAssignment {
            procedure: motcua_domain::ProcedureCode::parse(fixtures::PROCEDURE).unwrap(),
            case: motcua_domain::CaseKey::parse("mac-dinh").unwrap(),
            agency: motcua_domain::AgencyCode::parse(fixtures::AGENCY).unwrap(),
            level: motcua_domain::OnlineServiceLevel::Level4,
            effective_from: time::macros::date!(2024 - 01 - 01),
        })
        .await
        .unwrap();
}

async fn the_home_page_lists_the_catalogue_in_vietnamese(t: TestStore) {
    seeded(&t).await;
    let reply = get(&t.store, "/").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    let html = reply.body;
    assert!(html.contains("<html lang=\"vi\">"));
    assert!(html.contains("Cổng Dịch vụ công tỉnh Minh Hòa"));
    assert!(html.contains("Đăng ký khai sinh"));
    assert!(html.contains("1.001193"));
    assert!(html.contains("Mức độ 4"));
    assert!(html.contains("Dịch vụ công trực tuyến toàn trình"));
    assert!(html.contains("5 ngày làm việc"));
    assert!(html.contains("100.000 đ"), "money shown as 100.000 đ");
    assert!(html.contains("Sở Tư pháp"));
    assert!(!html.contains("<script"), "the portal needs no script");
}

#[tokio::test]
async fn the_home_page_lists_the_catalogue_in_vietnamese_on_sqlite() {
    the_home_page_lists_the_catalogue_in_vietnamese(motcua_testkit::sqlite_store().await).await;
}

#[tokio::test]
async fn the_home_page_lists_the_catalogue_in_vietnamese_on_postgres() {
    if let Some(t) = motcua_testkit::postgres_store().await {
        the_home_page_lists_the_catalogue_in_vietnamese(t).await;
    }
}

#[tokio::test]
async fn an_empty_catalogue_says_so() {
    let t = motcua_testkit::sqlite_store().await;
    let reply = get(&t.store, "/").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply
            .body
            .contains("Chưa có thủ tục hành chính nào được công bố.")
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let t = motcua_testkit::sqlite_store().await;
    for path in ["/", "/khong-ton-tai", "/static/app.css", "/healthz"] {
        let reply = get(&t.store, path).await;
        let csp = reply.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(
            reply.headers[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff",
            "{path}"
        );
        assert!(
            reply
                .headers
                .contains_key(header::STRICT_TRANSPORT_SECURITY),
            "{path}"
        );
        assert!(
            reply.headers.contains_key(header::REFERRER_POLICY),
            "{path}"
        );
    }
}

#[tokio::test]
async fn an_unknown_address_gets_a_vietnamese_404_page() {
    let t = motcua_testkit::sqlite_store().await;
    for path in [
        "/khong-ton-tai",
        "/static/../Cargo.toml",
        "/static/khong-co.css",
    ] {
        let reply = get(&t.store, path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(reply.body.contains("Không tìm thấy trang"), "{path}");
        assert!(reply.body.contains("Về trang chủ"));
    }
}

#[tokio::test]
async fn static_assets_are_served_from_the_binary() {
    let t = motcua_testkit::sqlite_store().await;
    let reply = get(&t.store, "/static/app.css").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "text/css; charset=utf-8"
    );
    assert!(reply.body.contains(".site-header"));
}

#[tokio::test]
async fn health_and_readiness_answer_when_all_is_well() {
    let t = motcua_testkit::sqlite_store().await;
    let live = get(&t.store, "/healthz").await;
    assert_eq!((live.status, live.body.as_str()), (StatusCode::OK, "ok"));
    let ready = get(&t.store, "/readyz").await;
    assert_eq!(ready.status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&ready.body).unwrap();
    assert_eq!(json["status"], "ready");
    assert_eq!(json["database"], "SQLite");
}

#[tokio::test]
async fn an_unmigrated_database_is_not_ready() {
    let t = motcua_testkit::sqlite_store_unmigrated().await;
    let ready = get(&t.store, "/readyz").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    let json: serde_json::Value = serde_json::from_str(&ready.body).unwrap();
    assert_eq!(json["reason"], "migrations pending");
    assert_eq!(json["pending_migrations"][0], "1_foundation");
}

async fn a_database_outage_answers_503_not_a_panic(t: TestStore) {
    seeded(&t).await;
    t.simulate_outage().await;
    let home = get(&t.store, "/").await;
    assert_eq!(home.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(home.body.contains("Hệ thống tạm thời gián đoạn"));
    let ready = get(&t.store, "/readyz").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    // liveness does not depend on the database
    assert_eq!(get(&t.store, "/healthz").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_database_outage_answers_503_not_a_panic_on_sqlite() {
    a_database_outage_answers_503_not_a_panic(motcua_testkit::sqlite_store().await).await;
}

#[tokio::test]
async fn a_database_outage_answers_503_not_a_panic_on_postgres() {
    if let Some(t) = motcua_testkit::postgres_store().await {
        a_database_outage_answers_503_not_a_panic(t).await;
    }
}
