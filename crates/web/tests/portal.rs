//! The portal through its real router and a real store, in-process.

mod support;

use axum::http::{StatusCode, header};
use motcua_testkit::{TestStore, fixtures};
use support::TestApp;

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
    let app = TestApp::new(t).await;
    let reply = app.get("/").await;
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
    assert!(html.contains("Sở Tư pháp"));
    assert!(html.contains("/thu-tuc?linh_vuc=HOTICH"), "browse by field");
    assert!(html.contains("/thu-tuc?muc_do=4"), "browse by online level");
    assert!(html.contains("action=\"/thu-tuc\""), "a search box");
    // who runs it and how to reach them, from the configuration
    assert!(html.contains("Cơ quan chủ quản: Văn phòng UBND tỉnh Minh Hòa"));
    assert!(html.contains("<a href=\"tel:1900 1234\">1900 1234</a>"));
    assert!(!html.contains("Địa chỉ:"), "what is not set is not shown");
    // the portal needs no script: the ones there only suggest names as the citizen types (the form is a plain
    // GET), move the focus to an error summary and fold the navigation on a phone
    assert_eq!(
        html.matches("<script").count(),
        html.matches("<script src=\"/static/search.js\" defer></script>")
            .count()
            + html
                .matches("<script src=\"/static/errors.js\" defer></script>")
                .count()
            + html
                .matches("<script src=\"/static/menu.js\" defer></script>")
                .count(),
        "the portal needs no script"
    );
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
    let app = TestApp::new(motcua_testkit::sqlite_store().await).await;
    let reply = app.get("/").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.contains("0 thủ tục đang được công bố"));
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::new(motcua_testkit::sqlite_store().await).await;
    for path in ["/", "/khong-ton-tai", "/static/app.css", "/healthz"] {
        let reply = app.get(path).await;
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
    let app = TestApp::new(motcua_testkit::sqlite_store().await).await;
    for path in [
        "/khong-ton-tai",
        "/static/../Cargo.toml",
        "/static/khong-co.css",
    ] {
        let reply = app.get(path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(reply.body.contains("Không tìm thấy trang"), "{path}");
        assert!(reply.body.contains("Về trang chủ"));
    }
}

#[tokio::test]
async fn static_assets_are_served_from_the_binary() {
    let app = TestApp::new(motcua_testkit::sqlite_store().await).await;
    let reply = app.get("/static/app.css").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "text/css; charset=utf-8"
    );
    assert!(reply.body.contains(".site-header"));
}

#[tokio::test]
async fn health_and_readiness_answer_when_all_is_well() {
    let app = TestApp::new(motcua_testkit::sqlite_store().await).await;
    let live = app.get("/healthz").await;
    assert_eq!((live.status, live.body.as_str()), (StatusCode::OK, "ok"));
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&ready.body).unwrap();
    assert_eq!(json["status"], "ready");
    assert!(
        json.get("database").is_none(),
        "which database runs is nobody's business: {json}"
    );
}

#[tokio::test]
async fn an_unmigrated_database_is_not_ready() {
    // a node started against a database another node has not migrated yet: the catalogue cannot load, and
    // the readiness probe says why
    let t = motcua_testkit::sqlite_store_unmigrated().await;
    assert!(
        motcua_web::catalogue::Catalogue::load(&t.store)
            .await
            .is_err()
    );
    let state = motcua_web::AppState::from(motcua_web::Shared {
        store: t.store.clone(),
        site: std::sync::Arc::new(motcua_web::Site::default()),
        catalogue: std::sync::Arc::new(motcua_web::catalogue::Catalogue::empty()),
        sessions: Default::default(),
        mailer: std::sync::Arc::new(motcua_notify::MemoryMailer::default()),
        files: std::sync::Arc::new(object_store::memory::InMemory::new()),
        uploads: Default::default(),
        scanner: motcua_web::files::shared_scanner(),
        outbox_wake: Default::default(),
        proxies: Default::default(),
        breaker: Default::default(),
        background: Default::default(),
        payments: Default::default(),
        gateway: std::sync::Arc::new(motcua_web::payments::VnPay::new(
            Default::default(),
            "http://localhost",
        )),
        signing: Default::default(),
        post: std::sync::Arc::new(motcua_web::postal::ManualPost),
        misses: Default::default(),
        visits: Default::default(),
        latest_results: Default::default(),
        articles: Default::default(),
        month_figures: Default::default(),
        webhooks_to_private_networks: false,
    });
    let ready = support::get_from(&state, "/readyz").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    let json: serde_json::Value = serde_json::from_str(&ready.body).unwrap();
    assert_eq!(json["reason"], "migrations pending");
    assert_eq!(json["pending_migrations"][0], "1_foundation");
}

async fn a_database_outage_answers_503_not_a_panic(t: TestStore) {
    seeded(&t).await;
    let app = TestApp::new(t).await;
    app.db.simulate_outage().await;
    // the catalogue is served from memory: citizens can still read procedures
    let home = app.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Đăng ký khai sinh"));
    assert_eq!(app.get("/thu-tuc/1.001193").await.status, StatusCode::OK);
    // a refresh fails cleanly and keeps the catalogue it had
    let err = app
        .state
        .catalogue
        .refresh(&app.db.store)
        .await
        .unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    assert_eq!(app.get("/thu-tuc?q=khai+sinh").await.status, StatusCode::OK);
    // the probe tells the load balancer
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    // liveness does not depend on the database
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK);
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

#[tokio::test]
async fn search_engines_get_the_public_pages_and_are_kept_from_the_private_ones() {
    let db = motcua_testkit::sqlite_store().await;
    motcua_testkit::fixtures::seed_minimal(&db.store).await;
    let app = support::TestApp::new(db).await;
    let robots = app.get("/robots.txt").await;
    assert_eq!(robots.headers["content-type"], "text/plain; charset=utf-8");
    for line in [
        "Disallow: /can-bo",
        "Disallow: /quan-tri",
        "Disallow: /ho-so",
        "Allow: /",
    ] {
        assert!(robots.body.contains(line), "{}", robots.body);
    }
    assert!(
        robots
            .body
            .contains("Sitemap: https://dichvucong.example.vn/sitemap.xml")
    );
    let sitemap = app.get("/sitemap.xml").await;
    assert!(sitemap.body.starts_with("<?xml"));
    assert!(
        sitemap
            .body
            .contains("<loc>https://dichvucong.example.vn/thu-tuc/1.001193</loc>"),
        "{}",
        sitemap.body
    );
}

#[tokio::test]
async fn help_pages_start_with_built_in_text_and_editors_rewrite_them() {
    let db = motcua_testkit::sqlite_store().await;
    fixtures::seed_minimal(&db.store).await;
    let app = TestApp::new(db).await;
    let faq = app.get("/trang/cau-hoi-thuong-gap").await;
    assert!(
        faq.body
            .contains("<h1 id=\"trang\">Câu hỏi thường gặp</h1>")
    );
    assert!(
        faq.body
            .contains("<h2>Tôi quên mật khẩu thì làm thế nào?</h2>")
    );
    assert!(
        !faq.body.contains("Sửa trang này"),
        "only editors are offered the editor"
    );
    assert_eq!(
        app.get("/trang/khong-co").await.status,
        StatusCode::NOT_FOUND
    );
    let home = app.get("/").await;
    assert!(
        home.body.contains("href=\"/trang/lien-he\""),
        "linked from every page"
    );

    let editor = support::person(
        "Vũ Thị Giang",
        "giang@minhhoa.example.vn",
        motcua_domain::AccountKind::Officer,
        &[&format!("editor@{}", fixtures::AGENCY)],
    );
    let cookie = support::session_for(&app, &editor, "e").await;
    assert!(
        app.get_with_cookie("/trang/lien-he", &cookie)
            .await
            .body
            .contains("href=\"/quan-tri/trang/lien-he\"")
    );
    let empty = app
        .post_form(
            "/quan-tri/trang/lien-he",
            &support::encode_form(&[("tieu_de", "Liên hệ"), ("noi_dung", "  ")]),
            Some(&cookie),
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("Nhập nội dung trang") && empty.body.contains("value=\"Liên hệ\""));
    let saved = app
        .post_form(
            "/quan-tri/trang/lien-he",
            &support::encode_form(&[
                ("tieu_de", "Liên hệ với chúng tôi"),
                (
                    "noi_dung",
                    "## Bộ phận một cửa\nSố 8 Lê Lợi\nMở cửa 7:30–17:00\n\n<b>Không phải HTML</b>",
                ),
            ]),
            Some(&cookie),
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let page = app.get("/trang/lien-he").await;
    assert!(
        page.body
            .contains("<h1 id=\"trang\">Liên hệ với chúng tôi</h1>")
    );
    assert!(page.body.contains("<h2>Bộ phận một cửa</h2>"));
    assert!(
        page.body
            .contains("<p>Số 8 Lê Lợi<br>Mở cửa 7:30–17:00</p>"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("&#60;b&#62;Không phải HTML&#60;/b&#62;"),
        "typed markup is shown, not run"
    );
}

async fn visitors_are_counted_once_a_day_without_robots_or_files(db: TestStore) {
    fixtures::seed_minimal(&db.store).await;
    let app = TestApp::new(db).await;
    const BROWSER: &str =
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36";
    let visit = |peer: &'static str, ua: &'static str, path: &'static str| {
        let app = &app;
        async move {
            app.send(
                "GET",
                path,
                &[(support::PEER, peer), ("user-agent", ua)],
                "",
            )
            .await
        }
    };
    // a node fetches the day's salt when it starts (before it answers)
    motcua_web::visits::flush(&app.state).await;
    // two readers, one of them on three pages; a robot, a health check and a stylesheet are not readers
    visit("203.0.113.7:5000", BROWSER, "/").await;
    visit("203.0.113.7:5001", BROWSER, "/thu-tuc").await;
    visit("203.0.113.7:5002", BROWSER, "/tra-cuu-ho-so").await;
    visit("198.51.100.9:6000", BROWSER, "/").await;
    visit("192.0.2.1:7000", "Googlebot/2.1", "/").await;
    visit("192.0.2.2:7000", BROWSER, "/healthz").await;
    visit("192.0.2.3:7000", BROWSER, "/static/app.css").await;
    motcua_web::visits::flush(&app.state).await;
    let page = visit("198.51.100.9:6000", BROWSER, "/").await;
    assert!(
        page.body
            .contains("đang truy cập: 2 · hôm nay: 2 · tháng này: 2 · tổng: 2"),
        "{}",
        page.body
    );
    // no address is kept: only hashes
    let today = motcua_domain::vntime::vn_date(time::OffsetDateTime::now_utc());
    let counts = app
        .db
        .store
        .visits
        .counts(
            today,
            time::OffsetDateTime::now_utc() - time::Duration::hours(1),
        )
        .await
        .unwrap();
    assert_eq!((counts.today, counts.total), (2, 2));
    // a second node on the same database counts the same reader once, and shows the same counts
    let other = motcua_web::AppState::new(
        app.db.store.clone(),
        motcua_web::Site::default(),
        app.files.clone(),
    )
    .await
    .unwrap();
    motcua_web::visits::flush(&other).await;
    let mut request = axum::http::Request::builder()
        .uri("/")
        .header("user-agent", BROWSER)
        .body(axum::body::Body::empty())
        .unwrap();
    request.extensions_mut().insert(axum::extract::ConnectInfo(
        "203.0.113.7:5009".parse::<std::net::SocketAddr>().unwrap(),
    ));
    use tower::ServiceExt;
    let answer = motcua_web::router(other.clone())
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    motcua_web::visits::flush(&other).await;
    motcua_web::visits::flush(&app.state).await;
    assert_eq!(app.state.visits.snapshot().today, 2);
    assert_eq!(other.visits.snapshot().today, 2);
}

#[tokio::test]
async fn visitors_are_counted_once_a_day_without_robots_or_files_on_sqlite() {
    visitors_are_counted_once_a_day_without_robots_or_files(motcua_testkit::sqlite_store().await)
        .await;
}

#[tokio::test]
async fn visitors_are_counted_once_a_day_without_robots_or_files_on_postgres() {
    if let Some(db) = motcua_testkit::postgres_store().await {
        visitors_are_counted_once_a_day_without_robots_or_files(db).await;
    }
}
