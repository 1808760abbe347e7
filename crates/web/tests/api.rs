//! The API (`/api/v1`) through the real router and a real store: the catalogue with the portal's filters, problem
//! details for every error, and the OpenAPI document, compared with the committed copy so that a change to the API
//! shows in review.

mod support;

use axum::http::StatusCode;
use motcua_testkit::{TestStore, fixtures};
use serde_json::Value;
use support::TestApp;

async fn seeded(t: TestStore) -> TestApp {
    fixtures::seed_minimal(&t.store).await;
    let mut building =
        fixtures::procedure("1.009972", "Cấp giấy phép xây dựng", fixtures::OTHER_AGENCY);
    building.applicants = vec![motcua_domain::ApplicantKind::Business];
    t.store
        .catalogue
        .save_procedure(&building, time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    TestApp::new(t).await
}

fn json(reply: &support::Reply) -> Value {
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("{e}: {}", reply.body))
}

fn codes(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap().to_string())
        .collect()
}

/// A problem details answer of this status and kind, in Vietnamese.
fn assert_problem(reply: &support::Reply, status: StatusCode, kind: &str) -> Value {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(
        reply.headers["content-type"], "application/problem+json",
        "{}",
        reply.body
    );
    let p = json(reply);
    assert_eq!(p["type"], format!("urn:motcua:problem:{kind}"));
    assert_eq!(p["status"], status.as_u16());
    assert!(!p["title"].as_str().unwrap().is_empty());
    assert!(!p["detail"].as_str().unwrap().is_empty());
    p
}

async fn the_catalogue_reads_as_on_the_portal(t: TestStore) {
    let app = seeded(t).await;
    let all = app.get("/api/v1/procedures").await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(all.headers["content-type"], "application/json");
    let all = json(&all);
    assert_eq!(all["total"], 2);
    // name order without a query, as the portal's list
    assert_eq!(codes(&all), ["1.009972", "1.001193"]);
    let item = &all["items"][1];
    assert_eq!(item["name"], "Đăng ký khai sinh");
    assert_eq!(item["url"], "/thu-tuc/1.001193");
    assert_eq!(item["agencies"][0], fixtures::AGENCY);
    assert_eq!(item["implementing_levels"][0], "tinh");

    // search without diacritics, and the same filters as the page
    let found = json(&app.get("/api/v1/procedures?q=dang+ky+khai+sinh").await);
    assert_eq!(codes(&found)[0], "1.001193");
    let at = json(
        &app.get(&format!(
            "/api/v1/procedures?agency={}",
            fixtures::OTHER_AGENCY
        ))
        .await,
    );
    assert_eq!(codes(&at), ["1.009972"]);
    let portal = app
        .get(&format!("/thu-tuc?co_quan={}", fixtures::OTHER_AGENCY))
        .await
        .body;
    assert!(portal.contains("1.009972") && !portal.contains("/thu-tuc/1.001193\""));
    let business = json(&app.get("/api/v1/procedures?audience=doanh-nghiep").await);
    assert_eq!(codes(&business), ["1.009972"]);
    let by_code = json(&app.get("/api/v1/procedures?sort=ma").await);
    assert_eq!(codes(&by_code), ["1.001193", "1.009972"]);
    // a code that names nothing matches nothing (not an error)
    let none = json(&app.get("/api/v1/procedures?field=KHONGCO").await);
    assert_eq!(none["total"], 0);
    assert_eq!(none["items"], Value::Array(vec![]));

    // paging
    let second = json(&app.get("/api/v1/procedures?per_page=1&page=2").await);
    assert_eq!(second["pages"], 2);
    assert_eq!(second["page"], 2);
    assert_eq!(codes(&second), ["1.001193"]);
    let beyond = json(&app.get("/api/v1/procedures?per_page=1&page=9").await);
    assert_eq!(codes(&beyond), Vec::<String>::new());
    assert_eq!(beyond["total"], 2);

    // values it cannot take: 400, each named, in Vietnamese
    let bad = app
        .get("/api/v1/procedures?page=0&per_page=500&online_level=9&audience=ai&sort=x")
        .await;
    let p = assert_problem(&bad, StatusCode::BAD_REQUEST, "bad-request");
    let named: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    for name in ["page", "per_page", "online_level", "audience", "sort"] {
        assert!(named.contains(&name), "{name} in {named:?}");
    }
    assert!(
        !p["errors"][0]["message"].as_str().unwrap().is_ascii(),
        "Vietnamese"
    );
    let long = "a".repeat(201);
    let p = assert_problem(
        &app.get(&format!("/api/v1/procedures?q={long}")).await,
        StatusCode::BAD_REQUEST,
        "bad-request",
    );
    assert_eq!(p["errors"][0]["name"], "q");

    // agencies and fields
    let agencies = json(&app.get("/api/v1/agencies").await);
    assert_eq!(agencies[0]["code"], fixtures::AGENCY);
    assert_eq!(agencies[0]["name"], "Sở Tư pháp");
    let fields = json(&app.get("/api/v1/fields").await);
    assert_eq!(fields[0]["code"], "HOTICH");
    assert_eq!(fields[0]["procedures"], 2);
}

#[tokio::test]
async fn the_catalogue_reads_as_on_the_portal_on_sqlite() {
    the_catalogue_reads_as_on_the_portal(motcua_testkit::sqlite_store().await).await;
}

#[tokio::test]
async fn the_catalogue_reads_as_on_the_portal_on_postgres() {
    if let Some(t) = motcua_testkit::postgres_store().await {
        the_catalogue_reads_as_on_the_portal(t).await;
    }
}

async fn one_procedure_has_what_a_dossier_needs(t: TestStore) {
    let app = seeded(t).await;
    let reply = app
        .get(&format!("/api/v1/procedures/{}", fixtures::PROCEDURE))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let p = json(&reply);
    assert_eq!(p["code"], fixtures::PROCEDURE);
    assert_eq!(p["version"], 1);
    assert_eq!(p["agencies"][0]["name"], "Sở Tư pháp");
    assert_eq!(p["fields"][0]["name"], "Hộ tịch");
    assert_eq!(p["applicants"][0], "citizen");
    let case = &p["cases"][0];
    assert_eq!(case["key"], "mac-dinh");
    assert_eq!(case["components"][0]["name"], "Tờ khai");
    assert_eq!(case["components"][0]["template_url"], Value::Null);
    assert_eq!(case["fees"][0]["amount"], 100000);
    assert_eq!(case["fees"][0]["text"], "100.000 đ");
    assert_eq!(case["fees"][0]["kind"], "levy");
    let limits: Vec<&str> = case["time_limits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["channel"].as_str().unwrap())
        .collect();
    assert_eq!(limits, ["in_person", "online"]);
    assert_eq!(case["time_limits"][0]["value"], 5);
    assert_eq!(case["time_limits"][0]["unit"], "working_days");
    assert_eq!(case["time_limits"][0]["text"], "5 ngày làm việc");

    let missing = app.get("/api/v1/procedures/1.999999").await;
    let p = assert_problem(&missing, StatusCode::NOT_FOUND, "not-found");
    assert!(p["detail"].as_str().unwrap().contains("1.999999"));
}

#[tokio::test]
async fn one_procedure_has_what_a_dossier_needs_on_sqlite() {
    one_procedure_has_what_a_dossier_needs(motcua_testkit::sqlite_store().await).await;
}

#[tokio::test]
async fn one_procedure_has_what_a_dossier_needs_on_postgres() {
    if let Some(t) = motcua_testkit::postgres_store().await {
        one_procedure_has_what_a_dossier_needs(t).await;
    }
}

#[tokio::test]
async fn every_error_under_the_api_is_problem_details() {
    let app = seeded(motcua_testkit::sqlite_store().await).await;
    let unknown = app.get("/api/v1/khong-co").await;
    assert_problem(&unknown, StatusCode::NOT_FOUND, "not-found");
    // a method the route does not take: 405 with Allow, not the origin check's 403 (the API takes no cookies)
    let wrong = app
        .send(
            "DELETE",
            "/api/v1/fields",
            &[("origin", "https://elsewhere.example")],
            "",
        )
        .await;
    assert_problem(&wrong, StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed");
    assert!(wrong.headers["allow"].to_str().unwrap().contains("GET"));
    // the pages keep their Vietnamese HTML errors
    let page = app.get("/khong-co").await;
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    // an outage: 503 with Retry-After, as problem details
    app.db.simulate_outage().await;
    // a request that needs the database (a session cookie to look up) finds it out, and the node answers 503
    // until it is back; the API does not read that cookie at all
    let cookie = format!("{}={}", app.state.sessions.cookie_name(), "a".repeat(64));
    let read = app.get_with_cookie("/api/v1/procedures", &cookie).await;
    assert_eq!(
        read.status,
        StatusCode::OK,
        "served from memory, no session looked up"
    );
    let page = app.get_with_cookie("/", &cookie).await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    let down = app.get("/api/v1/procedures").await;
    let p = assert_problem(&down, StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    assert!(down.headers.contains_key("retry-after"));
    assert_eq!(p["retry_after"], 5);
}

#[tokio::test]
async fn the_documentation_page_is_drawn_from_the_document_with_nothing_from_elsewhere() {
    let app = seeded(motcua_testkit::sqlite_store().await).await;
    let page = app.get("/tai-lieu-api").await;
    assert_eq!(page.status, StatusCode::OK);
    // the request body's members are listed too
    assert!(page.body.contains("<code>proof</code>"), "{}", page.body);
    for op in [
        "GET /api/v1/procedures",
        "GET /api/v1/procedures/{code}",
        "GET /api/v1/agencies",
    ] {
        assert!(page.body.contains(op), "{op}");
    }
    assert!(page.body.contains("per_page"));
    assert!(page.body.contains("href=\"/api/v1/openapi.json\""));
    // no asset from another host: scripts, styles and images are our own
    for attribute in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
        assert!(!page.body.contains(attribute), "{attribute}");
    }
    let document = app.get("/api/v1/openapi.json").await;
    assert_eq!(document.status, StatusCode::OK);
    assert_eq!(json(&document)["openapi"], "3.1.0");
}

/// The committed document: `docs/api/openapi.json`. After a deliberate change to the API, write it again with
/// `MOTCUA_UPDATE_SNAPSHOTS=1 cargo test -p motcua-web --test api` and review the difference.
#[test]
fn the_openapi_document_is_the_committed_one() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/api/openapi.json");
    let now = motcua_web::api::openapi().to_pretty_json().unwrap() + "\n";
    if std::env::var("MOTCUA_UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &now).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == now,
        "the API's OpenAPI document changed: review it and write it again with MOTCUA_UPDATE_SNAPSHOTS=1 \
         (docs/api/openapi.json)"
    );
    // every operation documents its answers and has a stable name
    let doc: Value = serde_json::from_str(&now).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(op["operationId"].is_string(), "{method} {path}");
            let success = op["responses"]
                .as_object()
                .unwrap()
                .keys()
                .any(|status| status.starts_with('2'));
            assert!(success, "{method} {path}: no success answer documented");
        }
    }
}

async fn a_dossier_is_looked_up_as_on_the_page(t: TestStore) {
    let (app, _citizen, dossier) = support::with_submitted_dossier(t).await;
    let peer = "198.51.100.7:4000";
    let ask = |body: String, content_type: &'static str| {
        let app = &app;
        async move {
            app.send(
                "POST",
                "/api/v1/dossiers/lookup",
                &[("content-type", content_type), (support::PEER, peer)],
                &body,
            )
            .await
        }
    };
    let body =
        |code: &str, proof: &str| serde_json::json!({"code": code, "proof": proof}).to_string();
    let code = dossier.code.to_string();
    let started_minute = time::OffsetDateTime::now_utc().unix_timestamp() / 60;
    let found = ask(
        body(&code.to_lowercase(), "0912 345 678"),
        "application/json",
    )
    .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    let v = json(&found);
    assert_eq!(v["code"], code);
    assert_eq!(v["status"], "submitted");
    assert_eq!(v["status_label"], "Mới đăng ký");
    assert_eq!(v["procedure"], "Đăng ký khai sinh");
    assert!(v["submitted_at"].as_str().unwrap().ends_with("+07:00"));
    assert_eq!(v["events"][0]["status"], "submitted");
    assert!(!found.body.contains("Nguyễn Văn An"), "nothing personal");
    assert_eq!(
        ask(body(&code, "001099012345"), "application/json")
            .await
            .status,
        StatusCode::OK
    );
    let wrong = ask(body(&code, "0987654321"), "application/json").await;
    assert_problem(&wrong, StatusCode::NOT_FOUND, "not-found");

    // bad input: each a problem with the right status, never a 5xx
    let invalid = ask(body("abc", ""), "application/json").await;
    let p = assert_problem(&invalid, StatusCode::UNPROCESSABLE_ENTITY, "invalid-input");
    assert_eq!(p["errors"][0]["name"], "code");
    assert_eq!(p["errors"][1]["name"], "proof");
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Mã hồ sơ")
    );
    assert_problem(
        &ask("{\"code\": ".into(), "application/json").await,
        StatusCode::BAD_REQUEST,
        "bad-request",
    );
    assert_problem(
        &ask(body(&code, "0912345678"), "text/plain").await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
    );
    assert_problem(
        &ask(
            serde_json::json!({"code": code, "proof": "0912345678", "extra": 1}).to_string(),
            "application/json",
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-input",
    );
    assert_problem(
        &ask(
            serde_json::json!({"code": code, "proof": 912345678}).to_string(),
            "application/json",
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-input",
    );
    assert_problem(
        &ask(body(&code, &"9".repeat(70_000)), "application/json").await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload-too-large",
    );

    // the limit is the page's, shared with it: 10 lookups a minute per address (the 3 well-formed ones above
    // counted, the refused bodies not). The window is the calendar minute: when it turns during the test the
    // count starts again, and only "refused within two windows' worth" can be asserted.
    let minute = || time::OffsetDateTime::now_utc().unix_timestamp() / 60;
    let first_minute = minute();
    let page = app
        .send(
            "POST",
            "/tra-cuu-ho-so",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("sec-fetch-site", "same-origin"),
                (support::PEER, peer),
            ],
            &format!("ma={code}&xac_minh=0987654321"),
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let mut statuses = Vec::new();
    let mut refused = None;
    for _ in 5..=21 {
        let reply = ask(body(&code, "0912345678"), "application/json").await;
        statuses.push(reply.status);
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(reply);
            break;
        }
    }
    let refused = refused.unwrap_or_else(|| panic!("never refused: {statuses:?}"));
    if minute() == first_minute && started_minute == first_minute {
        // one window: exactly the 11th lookup is refused (the page's counted as the 4th)
        assert_eq!(statuses.len(), 7, "{statuses:?}");
    }
    let p = assert_problem(&refused, StatusCode::TOO_MANY_REQUESTS, "too-many-requests");
    assert!(refused.headers.contains_key("retry-after"));
    assert_eq!(p["retry_after"], 60);
}

#[tokio::test]
async fn a_dossier_is_looked_up_as_on_the_page_on_sqlite() {
    a_dossier_is_looked_up_as_on_the_page(motcua_testkit::sqlite_store().await).await;
}

#[tokio::test]
async fn a_dossier_is_looked_up_as_on_the_page_on_postgres() {
    if let Some(t) = motcua_testkit::postgres_store().await {
        a_dossier_is_looked_up_as_on_the_page(t).await;
    }
}
