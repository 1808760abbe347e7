//! Defects found by probing the portal from outside (issue 11): the client's address behind proxies, NUL bytes
//! in every form, a database outage, error pages, caching, HSTS, the readiness probe, the lookup form, the
//! counter's role check, the apology's bound, and the audit trail of refusals.

#[macro_use]
mod support;

use axum::http::{StatusCode, header};
use motcua_domain::{AccountKind, AuditKind};
use motcua_testkit::{
    TestStore,
    fixtures::{AGENCY, PROCEDURE},
};
use support::{PEER, TestApp, encode_form, person, session_for};

fn login_body(login: &str) -> String {
    encode_form(&[("ten_dang_nhap", login), ("mat_khau", "sai mật khẩu 1")])
}

async fn audit_ips(app: &TestApp, kind: AuditKind) -> Vec<Option<String>> {
    app.db
        .store
        .audit
        .recent(200)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == kind)
        .map(|e| e.ip)
        .collect()
}

#[tokio::test]
async fn a_forged_forwarded_header_neither_escapes_the_login_limit_nor_enters_the_audit() {
    let app = TestApp::new(motcua_testkit::sqlite_store().await).await;
    // no trusted proxy (the default): the header is the client's own words, even from loopback
    for peer in ["203.0.113.5:40000", "127.0.0.1:40000"] {
        let mut statuses = Vec::new();
        // twice the limit and one: even if they straddle the minute boundary, one minute holds more than 20
        for i in 0..41 {
            let forged = format!("198.51.100.{i}");
            let headers = [
                ("content-type", "application/x-www-form-urlencoded"),
                ("sec-fetch-site", "same-origin"),
                ("x-forwarded-for", forged.as_str()),
                (PEER, peer),
            ];
            statuses.push(
                app.send(
                    "POST",
                    "/dang-nhap",
                    &headers,
                    &login_body("khong@example.vn"),
                )
                .await
                .status,
            );
        }
        assert!(
            statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
            "{peer}: {statuses:?}"
        );
    }
    let ips = audit_ips(&app, AuditKind::LoginFailed).await;
    assert!(!ips.is_empty());
    assert!(
        ips.iter()
            .all(|ip| matches!(ip.as_deref(), Some("203.0.113.5" | "127.0.0.1"))),
        "the audit trail records the real peer, never the forged header: {ips:?}"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_is_counted_by_its_own_address() {
    let mut app = TestApp::new(motcua_testkit::sqlite_store().await).await;
    app.state = app.state.clone().with_proxies(
        motcua_web::session::TrustedProxies::parse(
            &["10.0.0.0/8".into()],
            motcua_web::session::ForwardedHeader::XForwardedFor,
        )
        .unwrap(),
    );
    let via_proxy = |chain: &'static str| {
        [
            ("content-type", "application/x-www-form-urlencoded"),
            ("sec-fetch-site", "same-origin"),
            ("x-forwarded-for", chain),
            (PEER, "10.1.2.3:8080"),
        ]
    };
    // one client rotates a forged left-most entry; the proxy appends the address it really saw (a minute may turn
    // between the attempts and start the count again: asked until refused, at most two windows' worth)
    let mut statuses = Vec::new();
    for i in 0..42 {
        if statuses.contains(&StatusCode::TOO_MANY_REQUESTS) {
            break;
        }
        let chain: &'static str = Box::leak(format!("192.0.2.{i}, 203.0.113.20").into_boxed_str());
        statuses.push(
            app.send(
                "POST",
                "/dang-nhap",
                &via_proxy(chain),
                &login_body("khong@example.vn"),
            )
            .await
            .status,
        );
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    // another client behind the same proxy is not affected: the site does not share one address
    let other = app
        .send(
            "POST",
            "/dang-nhap",
            &via_proxy("203.0.113.21"),
            &login_body("khong@example.vn"),
        )
        .await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED);
    let ips = audit_ips(&app, AuditKind::LoginFailed).await;
    assert!(ips.contains(&Some("203.0.113.21".into())));
    assert!(ips.contains(&Some("203.0.113.20".into())));
    assert!(
        !ips.iter()
            .any(|ip| ip.as_deref().is_some_and(|ip| ip.starts_with("192.0.2."))),
        "{ips:?}"
    );
    // a peer outside the trusted range is its own client whatever it says
    let direct = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("sec-fetch-site", "same-origin"),
        ("x-forwarded-for", "203.0.113.99"),
        (PEER, "198.51.100.77:1"),
    ];
    app.send(
        "POST",
        "/dang-nhap",
        &direct,
        &login_body("khong@example.vn"),
    )
    .await;
    let ips = audit_ips(&app, AuditKind::LoginFailed).await;
    assert!(ips.contains(&Some("198.51.100.77".into())));
    assert!(!ips.contains(&Some("203.0.113.99".into())));
}

// ---- NUL and control characters through every form -----------------------------------------------------

/// `name="value"` of an attribute in a tag, unescaped.
fn attr(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let end = tag[start..].find('"')? + start;
    Some(
        tag[start..end]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&#x27;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

struct FoundForm {
    action: String,
    post: bool,
    multipart: bool,
    autosave: Option<String>,
    fields: Vec<(String, String)>,
}

/// NUL, an escape and a bell inside ordinary Vietnamese text.
const POISON: &str = "Nguyễn\u{0}Văn\u{1b}[31m An\u{7}";

/// Every form on a page, each field filled: typed fields with [`POISON`], hidden ones and choices as given.
fn forms(html: &str) -> Vec<FoundForm> {
    let mut out = Vec::new();
    for chunk in html.split("<form").skip(1) {
        let Some(end) = chunk.find("</form>") else {
            continue;
        };
        let body = &chunk[..end];
        let open = &body[..body.find('>').unwrap_or(0)];
        let open = format!(" {open}");
        let mut fields: Vec<(String, String)> = Vec::new();
        let mut button_taken = false;
        for tag in body.split('<').skip(1) {
            let tag = format!(" {}", tag.split('>').next().unwrap_or_default());
            let Some(name) = attr(&tag, "name") else {
                continue;
            };
            if tag.starts_with(" input") {
                let kind = attr(&tag, "type").unwrap_or_else(|| "text".into());
                match kind.as_str() {
                    "hidden" => fields.push((name, attr(&tag, "value").unwrap_or_default())),
                    "file" | "submit" => {}
                    "checkbox" | "radio" => {
                        if !fields.iter().any(|(n, _)| *n == name) {
                            fields.push((name, attr(&tag, "value").unwrap_or_else(|| "on".into())));
                        }
                    }
                    _ => fields.push((name, POISON.into())),
                }
            } else if tag.starts_with(" textarea") {
                fields.push((name, POISON.into()));
            } else if tag.starts_with(" select") {
                // the first real option after this select
                let after = &body[body.find(tag.trim()).unwrap_or(0)..];
                let value = after
                    .split("<option")
                    .skip(1)
                    .filter_map(|o| {
                        attr(
                            &format!(" {}", o.split('>').next().unwrap_or_default()),
                            "value",
                        )
                    })
                    .find(|v| !v.is_empty())
                    .unwrap_or_default();
                fields.push((name, value));
            } else if tag.starts_with(" button") && !button_taken {
                button_taken = true;
                fields.push((name, attr(&tag, "value").unwrap_or_default()));
            }
        }
        out.push(FoundForm {
            action: attr(&open, "action").unwrap_or_default(),
            post: attr(&open, "method").is_some_and(|m| m.eq_ignore_ascii_case("post")),
            multipart: attr(&open, "enctype").is_some_and(|e| e.contains("multipart")),
            autosave: attr(&open, "data-autosave"),
            fields,
        });
    }
    out
}

/// Forms that would end the session or throw away what the crawl stands on.
fn skipped(action: &str) -> bool {
    action.is_empty()
        || action.starts_with("http")
        || action.contains("dang-xuat")
        || action.ends_with("/xoa")
        || action.ends_with("/rut")
        || action.starts_with("/phien/")
}

fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|h| {
            [
                "/can-bo/ho-so/",
                "/ho-so-nhap/",
                "/ho-so/",
                "/quan-tri/quy-trinh/",
                "/nop-ho-so/",
            ]
            .iter()
            .any(|p| h.starts_with(p))
                && !["/tep/", "/phieu/", ".pdf", "/ket-qua", "#"]
                    .iter()
                    .any(|x| h.contains(x))
        })
        .map(|h| h.replace("&amp;", "&"))
        .collect()
}

/// Visit pages as one person, post every form found with poisoned text, follow where the answers lead; every
/// answer must be below 500. Returns the form actions posted.
async fn crawl(app: &TestApp, cookie: Option<&str>, start: &[String]) -> Vec<String> {
    let mut queue: std::collections::VecDeque<String> = start.iter().cloned().collect();
    let mut seen = std::collections::HashSet::new();
    let mut pages = 0;
    let mut posted = Vec::new();
    let mut headers = vec![("sec-fetch-site", "same-origin")];
    if let Some(c) = cookie {
        headers.push(("cookie", c));
    }
    while let Some(path) = queue.pop_front() {
        if !seen.insert(path.clone()) || pages >= 80 {
            continue;
        }
        pages += 1;
        let page = app.send("GET", &path, &headers, "").await;
        assert!(page.status.as_u16() < 500, "GET {path}: {}", page.status);
        for link in links(&page.body) {
            queue.push_back(link);
        }
        for form in forms(&page.body) {
            let names: Vec<&str> = form.fields.iter().map(|(k, _)| k.as_str()).collect();
            let key = format!("form {} {names:?}", form.action);
            if skipped(&form.action) || !seen.insert(key) {
                continue;
            }
            let pairs: Vec<(&str, &str)> = form
                .fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let reply = if !form.post {
                let url = format!("{}?{}", form.action, encode_form(&pairs));
                app.send("GET", &url, &headers, "").await
            } else if form.multipart {
                let parts: Vec<(&str, Option<&str>, &[u8])> = pairs
                    .iter()
                    .map(|(k, v)| (*k, None, v.as_bytes()))
                    .collect();
                app.post_multipart(&form.action, &parts, cookie).await
            } else {
                app.post_form(&form.action, &encode_form(&pairs), cookie)
                    .await
            };
            assert!(
                reply.status.as_u16() < 500,
                "{} {} with {:?}: {}",
                if form.post { "POST" } else { "GET" },
                form.action,
                form.fields,
                reply.status
            );
            posted.push(form.action.clone());
            if let Some(autosave) = &form.autosave {
                let saved = app.post_form(autosave, &encode_form(&pairs), cookie).await;
                assert!(
                    saved.status.as_u16() < 500,
                    "autosave {autosave}: {}",
                    saved.status
                );
                posted.push(autosave.clone());
            }
            if let Some(location) = reply.headers.get(header::LOCATION)
                && let Ok(location) = location.to_str()
                && location.starts_with('/')
            {
                queue.push_back(location.to_string());
            }
            if reply.status.is_success() {
                for link in links(&reply.body) {
                    queue.push_back(link);
                }
            }
        }
    }
    posted
}

async fn nul_through_every_text_field_of_every_form_on(db: TestStore) {
    let (app, citizen, dossier) = support::with_submitted_dossier(db).await;
    let citizen_cookie = support::session_existing(&app, citizen.id, "c").await;
    let officer = person(
        "Trần Thị Bình",
        "binh@minhhoa.example.vn",
        AccountKind::Officer,
        &[
            &format!("reception@{AGENCY}"),
            &format!("specialist@{AGENCY}"),
            &format!("head_of_unit@{AGENCY}"),
            &format!("administrator@{AGENCY}"),
        ],
    );
    let officer_cookie = session_for(&app, &officer, "d").await;
    let code = dossier.code.to_string();

    let mut posted = crawl(
        &app,
        None,
        &[
            "/dang-ky".into(),
            "/dang-nhap".into(),
            "/quen-mat-khau".into(),
            "/tra-cuu-ho-so".into(),
            "/thu-tuc".into(),
        ],
    )
    .await;
    posted.extend(
        crawl(
            &app,
            Some(&citizen_cookie),
            &[
                "/tai-khoan/lien-he".into(),
                format!("/nop-ho-so/{PROCEDURE}/mac-dinh/{AGENCY}"),
                format!("/ho-so/{code}"),
            ],
        )
        .await,
    );
    posted.extend(
        crawl(
            &app,
            Some(&officer_cookie),
            &[
                "/quan-tri/ngay-nghi".into(),
                "/quan-tri/nhat-ky-bao-mat".into(),
                format!("/quan-tri/quy-trinh/{PROCEDURE}/mac-dinh"),
                "/can-bo/tiep-nhan/truc-tiep".into(),
                "/can-bo/so-theo-doi".into(),
                "/can-bo/ho-so".into(),
                format!("/can-bo/ho-so/{code}"),
                // last: its forms change the crawling officer's own roles
                "/quan-tri/can-bo".into(),
            ],
        )
        .await,
    );
    // the forms the probe found failing, and the rest, were all reached
    for expected in [
        "/dang-ky",
        "/dang-nhap",
        "/quen-mat-khau",
        "/tra-cuu-ho-so",
        "/tai-khoan/lien-he",
        "/tu-dong-luu",
        "/trang/1",
        "/can-bo/ho-so",
        "/can-bo/tiep-nhan/truc-tiep",
        "/quan-tri/can-bo",
        "/quan-tri/ngay-nghi",
        "/quan-tri/nhat-ky-bao-mat",
        &format!("/can-bo/ho-so/{code}"),
    ] {
        assert!(
            posted
                .iter()
                .any(|a| a.ends_with(expected) || a == expected),
            "{expected} was not reached; posted: {posted:?}"
        );
    }
    // and nothing kept has a NUL or an escape character in it
    let drafts = app
        .db
        .store
        .submissions
        .drafts_for(citizen.id)
        .await
        .unwrap();
    for draft in drafts {
        let text = serde_json::to_string(&draft.answers).unwrap();
        assert!(
            !text.contains("\\u0000") && !text.contains("\\u001b"),
            "{text}"
        );
        assert!(
            text.contains("NguyễnVăn[31m An"),
            "what was typed is kept, cleaned: {text}"
        );
    }
}

on_both_backends!(
    nul_through_every_text_field_of_every_form,
    nul_through_every_text_field_of_every_form_on_postgresql,
    nul_through_every_text_field_of_every_form_on
);

// ---- a database outage ---------------------------------------------------------------------------------

async fn an_outage_is_answered_at_once_as_such_keeping_what_was_typed_on(db: TestStore) {
    let (app, citizen, _) = support::with_submitted_dossier(db).await;
    let cookie = session_for(
        &app,
        &person(
            "Phạm Văn Cường",
            "cuong@example.vn",
            AccountKind::Citizen,
            &[],
        ),
        "e",
    )
    .await;
    let _ = citizen;
    app.db.simulate_outage().await;
    // a logged-in person is not shown as logged out: the page says the service is briefly unavailable
    let page = app.get_with_cookie("/ho-so-cua-toi", &cookie).await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.body.contains("Hệ thống tạm thời gián đoạn"));
    assert!(
        !page.body.contains("id=\"ten_dang_nhap\""),
        "not turned into 'logged out'"
    );
    assert!(page.headers.contains_key(header::RETRY_AFTER));
    // a form posted without JavaScript comes back with what was typed, ready to send again
    let posted = app
        .post_form(
            "/tai-khoan/lien-he",
            &encode_form(&[
                ("dien_thoai", "0912345678"),
                ("dia_chi", "Thôn Đông, xã An Bình"),
                ("mat_khau_hien_tai", "bí mật 2026"),
            ]),
            Some(&cookie),
        )
        .await;
    assert_eq!(posted.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(posted.headers.contains_key(header::RETRY_AFTER));
    assert!(posted.body.contains("Thôn Đông, xã An Bình"));
    assert!(posted.body.contains("name=\"dia_chi\""));
    assert!(posted.body.contains("action=\"/tai-khoan/lien-he\""));
    assert!(
        !posted.body.contains("bí mật"),
        "a password is never written back"
    );
    assert_eq!(
        posted.headers[header::CACHE_CONTROL],
        "no-store",
        "typed data is not cached"
    );
    // a post from another site is refused before it could come back in our page, ready to be re-sent from here
    let forged = app
        .send(
            "POST",
            "/tai-khoan/lien-he",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("sec-fetch-site", "cross-site"),
                ("cookie", cookie.as_str()),
            ],
            "email=ke.gian%40example.vn",
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(!forged.body.contains("ke.gian"));
    // assets are served without the database, even to a logged-in person
    let css = app.get_with_cookie("/static/app.css", &cookie).await;
    assert_eq!(css.status, StatusCode::OK);
    // the breaker is open: the probe and anonymous pages that need the database answer 503 at once
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    let lookup = app
        .post_form(
            "/tra-cuu-ho-so",
            &encode_form(&[
                ("ma", "000.00.06.H56-261128-0001"),
                ("xac_minh", "0912345678"),
            ]),
            None,
        )
        .await;
    assert_eq!(lookup.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(lookup.body.contains("000.00.06.H56-261128-0001"));
    // liveness does not depend on the database
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK);
}

on_both_backends!(
    an_outage_is_answered_at_once_as_such_keeping_what_was_typed,
    an_outage_is_answered_at_once_as_such_keeping_what_was_typed_on_postgresql,
    an_outage_is_answered_at_once_as_such_keeping_what_was_typed_on
);

// ---- what answers say and carry ------------------------------------------------------------------------

#[tokio::test]
async fn every_error_answer_is_a_vietnamese_page() {
    let (app, _, dossier) =
        support::with_submitted_dossier(motcua_testkit::sqlite_store().await).await;
    let officer = person(
        "Trần Thị Bình",
        "binh@minhhoa.example.vn",
        AccountKind::Officer,
        &[&format!("reception@{AGENCY}")],
    );
    let cookie = session_for(&app, &officer, "d").await;
    let same = ("sec-fetch-site", "same-origin");
    // (method, path, headers, body, the status expected; `None`: any 4xx)
    type Case<'a> = (
        &'a str,
        String,
        Vec<(&'a str, &'a str)>,
        Vec<u8>,
        Option<StatusCode>,
    );
    let cases: Vec<Case> = vec![
        // not a form
        (
            "POST",
            format!("/can-bo/ho-so/{}/xin-loi", dossier.code),
            vec![
                same,
                ("cookie", cookie.as_str()),
                ("content-type", "application/json"),
            ],
            b"{}".to_vec(),
            Some(StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ),
        // a path that is not UTF-8
        ("GET", "/thu-tuc/%FF%FE".into(), vec![], vec![], None),
        (
            "GET",
            "/can-bo/ho-so/%FF".into(),
            vec![("cookie", cookie.as_str())],
            vec![],
            None,
        ),
        // a method the route does not take
        (
            "DELETE",
            "/dang-nhap".into(),
            vec![same],
            vec![],
            Some(StatusCode::METHOD_NOT_ALLOWED),
        ),
        // a broken multipart body
        (
            "POST",
            format!("/can-bo/ho-so/{}/ket-qua", "000.00.06.H56-261128-0001"),
            vec![
                same,
                ("cookie", cookie.as_str()),
                ("content-type", "multipart/form-data; boundary=x"),
            ],
            b"--y\r\nrubbish".to_vec(),
            None,
        ),
        // a value that does not fit its field (letters where a number goes)
        (
            "POST",
            "/quan-tri/ngay-nghi".into(),
            vec![
                same,
                ("cookie", cookie.as_str()),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            b"nam=abc&nam=1".to_vec(),
            None,
        ),
        // over the body limit
        (
            "POST",
            "/dang-ky".into(),
            vec![same, ("content-type", "application/x-www-form-urlencoded")],
            vec![b'a'; 3 * 1024 * 1024],
            Some(StatusCode::PAYLOAD_TOO_LARGE),
        ),
    ];
    for (method, path, headers, body, status) in cases {
        let reply = app.send_bytes(method, &path, &headers, body).await;
        assert!(
            reply.status.is_client_error(),
            "{method} {path}: {} {}",
            reply.status,
            reply.body
        );
        if let Some(status) = status {
            assert_eq!(reply.status, status, "{method} {path}");
        }
        assert!(
            reply.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{method} {path}"
        );
        assert!(
            reply.body.contains("<html lang=\"vi\">"),
            "{method} {path}: {}",
            reply.body
        );
        assert!(reply.body.contains("Mã lỗi"), "{method} {path}");
    }
}

#[tokio::test]
async fn pages_for_a_logged_in_person_are_never_cached_and_hsts_only_over_https() {
    let (app, _, _) = support::with_submitted_dossier(motcua_testkit::sqlite_store().await).await;
    let cookie = session_for(
        &app,
        &person(
            "Phạm Văn Cường",
            "cuong@example.vn",
            AccountKind::Citizen,
            &[],
        ),
        "e",
    )
    .await;
    for path in ["/tai-khoan", "/ho-so-cua-toi", "/thu-tuc"] {
        let reply = app.get_with_cookie(path, &cookie).await;
        assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store", "{path}");
    }
    let anonymous = app.get("/thu-tuc").await;
    assert!(!anonymous.headers.contains_key(header::CACHE_CONTROL));
    // the test site is https: HSTS is sent
    assert!(
        anonymous
            .headers
            .contains_key(header::STRICT_TRANSPORT_SECURITY)
    );
    // a site served over plain HTTP does not send it
    let mut plain = TestApp::new(motcua_testkit::sqlite_store().await).await;
    plain.state = motcua_web::AppState::new(
        plain.db.store.clone(),
        motcua_web::Site {
            name: "Cổng thử".into(),
            public_url: "http://127.0.0.1:8080".into(),
            ..motcua_web::Site::default()
        },
        plain.files.clone(),
    )
    .await
    .unwrap();
    let reply = plain.get("/").await;
    assert!(
        !reply
            .headers
            .contains_key(header::STRICT_TRANSPORT_SECURITY)
    );
    // and its Origin check wants the http origin, not any scheme
    let post = |origin: &'static str| {
        let plain = &plain;
        async move {
            plain
                .send(
                    "POST",
                    "/dang-nhap",
                    &[
                        ("content-type", "application/x-www-form-urlencoded"),
                        ("origin", origin),
                        ("host", "127.0.0.1:8080"),
                    ],
                    &login_body("khong@example.vn"),
                )
                .await
                .status
        }
    };
    assert_eq!(
        post("http://127.0.0.1:8080").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(post("https://127.0.0.1:8080").await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_lookup_takes_the_identity_number_only_in_a_posted_form() {
    let (app, _, dossier) =
        support::with_submitted_dossier(motcua_testkit::sqlite_store().await).await;
    let code = dossier.code.to_string();
    // the QR code on a receipt links with the code only: it is filled in
    let page = app
        .get(&format!("/tra-cuu-ho-so?ma={code}&xac_minh=001099012345"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("value=\"{code}\"")));
    assert!(page.body.contains("method=\"post\""));
    assert!(
        !page.body.contains("001099012345"),
        "nothing is looked up from the address"
    );
    assert!(!page.body.contains("Quá trình xử lý"));
    let found = app
        .post_form(
            "/tra-cuu-ho-so",
            &encode_form(&[("ma", &code), ("xac_minh", "001099012345")]),
            None,
        )
        .await;
    assert_eq!(found.status, StatusCode::OK);
    assert!(found.body.contains("Quá trình xử lý"));
}

#[tokio::test]
async fn the_counter_checks_the_role_before_the_input_and_the_ready_probe_names_no_engine() {
    let (app, _, _) = support::with_submitted_dossier(motcua_testkit::sqlite_store().await).await;
    let citizen = session_for(
        &app,
        &person(
            "Phạm Văn Cường",
            "cuong@example.vn",
            AccountKind::Citizen,
            &[],
        ),
        "e",
    )
    .await;
    // garbage that would fail validation: a citizen still gets 403, not a list of field errors
    let reply = app
        .post_form(
            "/can-bo/tiep-nhan/truc-tiep",
            "thu_tuc=abc&ho_ten=&so_dinh_danh=12",
            Some(&citizen),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(!reply.body.contains("thông tin cần sửa"));
    let ready = app.get("/readyz").await;
    assert!(!ready.body.contains("SQLite") && !ready.body.contains("database\""));
}

#[tokio::test]
async fn refusals_are_audited_with_the_address_and_cannot_flood_the_trail() {
    let (app, _, dossier) =
        support::with_submitted_dossier(motcua_testkit::sqlite_store().await).await;
    let citizen = session_for(
        &app,
        &person(
            "Phạm Văn Cường",
            "cuong@example.vn",
            AccountKind::Citizen,
            &[],
        ),
        "e",
    )
    .await;
    let path = format!("/can-bo/ho-so/{}", dossier.code);
    let mut statuses = Vec::new();
    // refusals are counted per minute: 61 of them put at least 31 in one minute even when the burst straddles a
    // minute boundary (a slow machine)
    let minute = || time::OffsetDateTime::now_utc().unix_timestamp() / 60;
    let first_minute = minute();
    for _ in 0..61 {
        statuses.push(
            app.send(
                "GET",
                &path,
                &[("cookie", citizen.as_str()), (PEER, "203.0.113.44:5")],
                "",
            )
            .await
            .status,
        );
    }
    let minutes = minute() - first_minute + 1;
    assert_eq!(statuses[0], StatusCode::FORBIDDEN);
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    if minutes == 1 {
        assert_eq!(*statuses.last().unwrap(), StatusCode::TOO_MANY_REQUESTS);
    }
    let denied = audit_ips(&app, AuditKind::AccessDenied).await;
    assert!(
        (1..=30 * minutes as usize).contains(&denied.len()),
        "at most 30 a minute from one address: {} in {minutes} minute(s)",
        denied.len()
    );
    assert!(
        denied
            .iter()
            .all(|ip| ip.as_deref() == Some("203.0.113.44"))
    );
}

#[tokio::test]
async fn the_audit_trail_pages_and_filters_for_administrators() {
    let app = TestApp::new(motcua_testkit::sqlite_store().await).await;
    let admin = person(
        "Quản Trị Viên",
        "quantri@minhhoa.example.vn",
        AccountKind::Officer,
        &[&format!("administrator@{AGENCY}")],
    );
    motcua_testkit::fixtures::seed_minimal(&app.db.store).await;
    let cookie = session_for(&app, &admin, "a").await;
    for i in 0..120 {
        app.send(
            "POST",
            "/dang-nhap",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("sec-fetch-site", "same-origin"),
                (PEER, &format!("198.51.100.{}:1", i / 15)),
            ],
            &login_body("khong@example.vn"),
        )
        .await;
    }
    let first = app
        .get_with_cookie("/quan-tri/nhat-ky-bao-mat?loai=login_failed", &cookie)
        .await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(first.body.contains("Trang sau"));
    assert_eq!(first.body.matches("<tr><td>").count(), 100);
    let second = app
        .get_with_cookie(
            "/quan-tri/nhat-ky-bao-mat?loai=login_failed&trang=2",
            &cookie,
        )
        .await;
    assert!(second.body.contains("Trang trước"));
    assert!(second.body.matches("<tr><td>").count() >= 20);
    let bad = app
        .get_with_cookie("/quan-tri/nhat-ky-bao-mat?tu_ngay=31/12/9999", &cookie)
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("value=\"31/12/9999\""));
    let by_actor = app
        .get_with_cookie(
            "/quan-tri/nhat-ky-bao-mat?nguoi=quantri%40minhhoa.example.vn",
            &cookie,
        )
        .await;
    assert_eq!(by_actor.status, StatusCode::OK);
    assert!(!by_actor.body.contains("<td>Đăng nhập thất bại</td>"));
}

#[tokio::test]
async fn extreme_dates_and_numbers_get_a_clear_answer_never_a_panic() {
    let (app, _, dossier) =
        support::with_submitted_dossier(motcua_testkit::sqlite_store().await).await;
    let officer = person(
        "Trần Thị Bình",
        "binh@minhhoa.example.vn",
        AccountKind::Officer,
        &[
            &format!("reception@{AGENCY}"),
            &format!("head_of_unit@{AGENCY}"),
            &format!("administrator@{AGENCY}"),
        ],
    );
    let cookie = session_for(&app, &officer, "d").await;
    let code = dossier.code.to_string();
    let gets = [
        "/can-bo/so-theo-doi?in_so=1&tu=01/01/2026&den=31/12/9999".to_string(),
        "/can-bo/so-theo-doi?in_so=1&tu=01/01/0001&den=31/12/2026".to_string(),
        "/can-bo/ho-so?tu=31/12/9999&den=01/01/0001&trang=99999999999999999999".to_string(),
        "/can-bo/ho-so?trang=-1".to_string(),
        "/thu-tuc?trang=18446744073709551616".to_string(),
        "/quan-tri/nhat-ky-bao-mat?tu_ngay=01/01/1&trang=4294967296".to_string(),
        "/quan-tri/ngay-nghi?nam=99999".to_string(),
    ];
    for path in &gets {
        let reply = app.get_with_cookie(path, &cookie).await;
        assert!(reply.status.as_u16() < 500, "GET {path}: {}", reply.status);
    }
    let register = app
        .get_with_cookie(
            "/can-bo/so-theo-doi?in_so=1&tu=01/01/2026&den=31/12/9999",
            &cookie,
        )
        .await;
    assert_eq!(register.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(register.body.contains("ngày/tháng/năm"));
    let posts = [
        (
            "/quan-tri/ngay-nghi".to_string(),
            "hanh_dong=them&ngay=31%2F12%2F9999&loai=off&ten=T%E1%BA%BFt".to_string(),
        ),
        (
            format!("/quan-tri/quy-trinh/{PROCEDURE}/mac-dinh"),
            "ten_0=X&vai_tro_0=specialist&don_vi_0=&gio_0=99999999999999999999".to_string(),
        ),
        (
            format!("/can-bo/ho-so/{code}/xin-loi"),
            "ngay_hen_moi=31%2F12%2F9999&ly_do=C%E1%BA%A7n+x%C3%A1c+minh+th%C3%AAm".to_string(),
        ),
    ];
    for (path, body) in &posts {
        let reply = app.post_form(path, body, Some(&cookie)).await;
        assert!(reply.status.as_u16() < 500, "POST {path}: {}", reply.status);
    }
}
