//! Logging in and out, sessions that end on the server, CSRF refusal, the idle-warning endpoints.

mod support;

use axum::http::{StatusCode, header};
use motcua_domain::{
    Account, AccountId, AccountKind, AuditKind, Email, PersonalId, Phone, Session, SessionKey,
};
use support::TestApp;
use time::{Duration, OffsetDateTime};

const PASSWORD: &str = "Hòa Bình mùa xuân 2026";

async fn app_with_citizen() -> (TestApp, Account) {
    let app = TestApp::new(motcua_testkit::sqlite_store().await).await;
    let account = Account {
        id: AccountId::new(),
        kind: AccountKind::Citizen,
        full_name: motcua_domain::NonEmptyText::parse("Nguyễn Văn An").unwrap(),
        personal_id: Some(PersonalId::parse("001099012345").unwrap()),
        birth_date: None,
        phone: Some(Phone::parse("0912345678").unwrap()),
        email: Some(Email::parse("an@example.vn").unwrap()),
        address: None,
        password_hash: motcua_web::auth::hash_password(PASSWORD.into())
            .await
            .unwrap(),
        email_verified_at: None,
        disabled: false,
        created_at: OffsetDateTime::now_utc(),
        grants: vec![],
    };
    app.db.store.accounts.create(&account).await.unwrap();
    (app, account)
}

fn form(login: &str, password: &str, next: &str) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    format!(
        "ten_dang_nhap={}&mat_khau={}&tiep={}",
        enc(login),
        enc(password),
        enc(next)
    )
}

async fn audit_kinds(app: &TestApp) -> Vec<AuditKind> {
    app.db
        .store
        .audit
        .recent(50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

#[tokio::test]
async fn a_citizen_logs_in_with_identity_number_phone_or_email_and_sees_their_name() {
    let (app, _) = app_with_citizen().await;
    for login in ["001099012345", "0912 345 678", "AN@example.vn"] {
        let reply = app
            .post_form("/dang-nhap", &form(login, PASSWORD, "/thu-tuc"), None)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::SEE_OTHER,
            "{login}: {}",
            reply.body
        );
        assert_eq!(reply.headers[header::LOCATION], "/thu-tuc");
        let set_cookie = reply.headers[header::SET_COOKIE].to_str().unwrap();
        assert!(set_cookie.starts_with("__Host-motcua="), "{set_cookie}");
        assert!(
            set_cookie.contains("HttpOnly")
                && set_cookie.contains("SameSite=Lax")
                && set_cookie.contains("Secure")
        );
        let home = app.get_with_cookie("/", &reply.cookie().unwrap()).await;
        assert!(home.body.contains("Nguyễn Văn An"), "{login}");
        assert!(home.body.contains("Đăng xuất"));
        assert!(
            home.body.contains("Bạn đã không sử dụng Site, "),
            "the idle warning is on the page"
        );
        assert!(
            home.body
                .contains("Thời gian chờ: <strong><span id=\"dem-nguoc\">60</span> giây")
        );
        assert!(home.body.contains("data-idle-seconds=\"900\""));
    }
    assert_eq!(
        audit_kinds(&app)
            .await
            .iter()
            .filter(|k| **k == AuditKind::LoginSucceeded)
            .count(),
        3
    );
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_account_get_the_same_answer_and_are_audited() {
    let (app, _) = app_with_citizen().await;
    let wrong = app
        .post_form(
            "/dang-nhap",
            &form("an@example.vn", "sai mật khẩu 1", "/"),
            None,
        )
        .await;
    let unknown = app
        .post_form(
            "/dang-nhap",
            &form("khong@example.vn", "sai mật khẩu 1", "/"),
            None,
        )
        .await;
    for reply in [&wrong, &unknown] {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert!(
            reply
                .body
                .contains("Tên đăng nhập hoặc mật khẩu không đúng.")
        );
        assert!(!reply.headers.contains_key(header::SET_COOKIE));
        assert!(
            !reply.body.contains("sai mật khẩu 1"),
            "the password is never sent back"
        );
    }
    assert!(
        wrong.body.contains("value=\"an@example.vn\""),
        "what was typed is kept"
    );
    let events = app.db.store.audit.recent(10).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind == AuditKind::LoginFailed && !e.success)
            .count(),
        2
    );
    assert!(
        events
            .iter()
            .all(|e| e.subject.as_deref() != Some("an@example.vn")),
        "login names are masked"
    );
}

#[tokio::test]
async fn a_malformed_login_name_says_what_to_type_and_keeps_it() {
    let (app, _) = app_with_citizen().await;
    let reply = app
        .post_form("/dang-nhap", &form("nguyen van an", PASSWORD, "/"), None)
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains(
        "Nhập số định danh cá nhân (12 chữ số), số điện thoại di động hoặc địa chỉ thư điện tử"
    ));
    assert!(reply.body.contains("value=\"nguyen van an\""));
    assert!(reply.body.contains("aria-invalid=\"true\""));
    let empty = app.post_form("/dang-nhap", "", None).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let (app, _) = app_with_citizen().await;
    let body = form("an@example.vn", PASSWORD, "/");
    let urlencoded = ("content-type", "application/x-www-form-urlencoded");
    for headers in [
        vec![urlencoded, ("sec-fetch-site", "cross-site")],
        vec![urlencoded, ("sec-fetch-site", "same-site")],
        vec![
            urlencoded,
            ("origin", "https://evil.example"),
            ("host", "dichvucong.example"),
        ],
        vec![urlencoded],
    ] {
        let reply = app.send("POST", "/dang-nhap", &headers, &body).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{headers:?}");
        assert!(reply.body.contains("Yêu cầu bị từ chối"));
        assert!(!reply.headers.contains_key(header::SET_COOKIE));
    }
    let same = app
        .send(
            "POST",
            "/dang-nhap",
            &[
                urlencoded,
                ("origin", "https://dvc.example"),
                ("host", "dvc.example"),
            ],
            &body,
        )
        .await;
    assert_eq!(
        same.status,
        StatusCode::SEE_OTHER,
        "an Origin equal to the host is ours"
    );
    assert!(!audit_kinds(&app).await.contains(&AuditKind::LoginFailed));
}

#[tokio::test]
async fn logging_out_ends_the_session_on_the_server() {
    let (app, _) = app_with_citizen().await;
    let cookie = app
        .post_form("/dang-nhap", &form("an@example.vn", PASSWORD, "/"), None)
        .await
        .cookie()
        .unwrap();
    let out = app.post_form("/dang-xuat", "", Some(&cookie)).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.headers[header::LOCATION], "/dang-nhap?da_dang_xuat=1");
    assert!(
        out.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    // the old cookie no longer works, even if the browser kept it
    let after = app.get_with_cookie("/", &cookie).await;
    assert!(!after.body.contains("Nguyễn Văn An"));
    assert!(after.body.contains("Đăng nhập"));
    assert!(
        app.get("/dang-nhap?da_dang_xuat=1")
            .await
            .body
            .contains("Bạn đã đăng xuất.")
    );
    assert!(audit_kinds(&app).await.contains(&AuditKind::LoggedOut));
}

#[tokio::test]
async fn an_idle_session_ends_on_the_server_and_the_login_page_says_why() {
    let (app, account) = app_with_citizen().await;
    let token = "a".repeat(64);
    let long_ago = OffsetDateTime::now_utc() - Duration::minutes(16);
    app.db
        .store
        .sessions
        .create(&Session {
            key: SessionKey::of_token(&token),
            account: account.id,
            created_at: long_ago,
            last_seen_at: long_ago,
            expires_at: long_ago + Duration::hours(8),
        })
        .await
        .unwrap();
    let cookie = format!("__Host-motcua={token}");
    let page = app.get_with_cookie("/dang-nhap", &cookie).await;
    assert!(
        page.body.contains("Phiên đăng nhập đã hết hạn"),
        "{}",
        page.body
    );
    assert!(
        page.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        app.db
            .store
            .sessions
            .find(&SessionKey::of_token(&token))
            .await
            .unwrap(),
        None
    );
    assert!(audit_kinds(&app).await.contains(&AuditKind::SessionExpired));
}

#[tokio::test]
async fn logging_in_again_replaces_the_session_id() {
    let (app, _) = app_with_citizen().await;
    let first = app
        .post_form("/dang-nhap", &form("an@example.vn", PASSWORD, "/"), None)
        .await
        .cookie()
        .unwrap();
    let second = app
        .post_form(
            "/dang-nhap",
            &form("an@example.vn", PASSWORD, "/"),
            Some(&first),
        )
        .await
        .cookie()
        .unwrap();
    assert_ne!(first, second);
    assert!(
        !app.get_with_cookie("/", &first)
            .await
            .body
            .contains("Nguyễn Văn An"),
        "the old id is dead"
    );
    assert!(
        app.get_with_cookie("/", &second)
            .await
            .body
            .contains("Nguyễn Văn An")
    );
}

#[tokio::test]
async fn after_login_only_local_addresses_are_followed() {
    let (app, _) = app_with_citizen().await;
    for next in ["https://evil.example/", "//evil.example/x"] {
        let reply = app
            .post_form("/dang-nhap", &form("an@example.vn", PASSWORD, next), None)
            .await;
        assert_eq!(reply.headers[header::LOCATION], "/", "{next}");
    }
}

#[tokio::test]
async fn tampered_cookies_are_ignored_not_errors() {
    let (app, _) = app_with_citizen().await;
    for cookie in [
        "__Host-motcua=../../etc/passwd",
        "__Host-motcua=",
        "__Host-motcua=%00",
        &format!("__Host-motcua={}", "f".repeat(64)),
    ] {
        let reply = app.get_with_cookie("/", cookie).await;
        assert_eq!(reply.status, StatusCode::OK, "{cookie}");
        assert!(reply.body.contains("Đăng nhập"));
    }
}

#[tokio::test]
async fn the_idle_warning_asks_the_server_and_keeps_the_session_alive() {
    let (app, _) = app_with_citizen().await;
    assert_eq!(
        app.get("/phien/trang-thai").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.post_form("/phien/gia-han", "", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let cookie = app
        .post_form("/dang-nhap", &form("an@example.vn", PASSWORD, "/"), None)
        .await
        .cookie()
        .unwrap();
    let status = app.get_with_cookie("/phien/trang-thai", &cookie).await;
    let json: serde_json::Value = serde_json::from_str(&status.body).unwrap();
    let left = json["seconds_left"].as_i64().unwrap();
    assert!((890..=900).contains(&left), "{left}");
    assert_eq!(
        app.post_form("/phien/gia-han", "", Some(&cookie))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let script = app.get("/static/session.js").await;
    assert_eq!(
        script.headers[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert!(script.body.contains("/phien/trang-thai"));
}

#[tokio::test]
async fn five_wrong_passwords_lock_that_address_even_against_the_right_one_and_say_so() {
    let (app, _) = app_with_citizen().await;
    let from = |ip: &'static str| {
        [
            ("content-type", "application/x-www-form-urlencoded"),
            ("sec-fetch-site", "same-origin"),
            (support::PEER, ip),
        ]
    };
    // the owner logs in from home first: that address becomes a usual one
    let home = from("198.51.100.20:5000");
    let ok = app
        .send(
            "POST",
            "/dang-nhap",
            &home,
            &form("an@example.vn", PASSWORD, "/"),
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    // a stranger tries five wrong passwords
    let stranger = from("203.0.113.66:4000");
    for _ in 0..5 {
        let reply = app
            .send(
                "POST",
                "/dang-nhap",
                &stranger,
                &form("an@example.vn", "sai mật khẩu 1", "/"),
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let locked = app
        .send(
            "POST",
            "/dang-nhap",
            &stranger,
            &form("an@example.vn", PASSWORD, "/"),
        )
        .await;
    assert_eq!(
        locked.status,
        StatusCode::UNAUTHORIZED,
        "locked there: even the right password is refused for now"
    );
    assert!(
        locked
            .body
            .contains("đang tạm khóa đăng nhập từ thiết bị này đến"),
        "the lock is said plainly, not as a wrong password"
    );
    assert!(!locked.body.contains("không đúng"));
    assert!(!locked.headers.contains_key(header::SET_COOKIE));
    assert!(audit_kinds(&app).await.contains(&AuditKind::LockedOut));
    // the owner, from their usual address, is not locked out by the stranger
    let ok = app
        .send(
            "POST",
            "/dang-nhap",
            &home,
            &form("an@example.vn", PASSWORD, "/"),
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    // an unknown name locks the same way, so the lock says nothing about which names exist
    for _ in 0..5 {
        app.send(
            "POST",
            "/dang-nhap",
            &stranger,
            &form("khong-ai@example.vn", "sai mật khẩu 1", "/"),
        )
        .await;
    }
    let unknown = app
        .send(
            "POST",
            "/dang-nhap",
            &stranger,
            &form("khong-ai@example.vn", "sai mật khẩu 1", "/"),
        )
        .await;
    assert!(
        unknown
            .body
            .contains("đang tạm khóa đăng nhập từ thiết bị này đến")
    );
    // when the lock is lifted (a new password), the right password works from there too
    app.db
        .store
        .rate_limits
        .clear_login_failures("ten:an@example.vn")
        .await
        .unwrap();
    let ok = app
        .send(
            "POST",
            "/dang-nhap",
            &stranger,
            &form("an@example.vn", PASSWORD, "/"),
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn attempts_at_once_are_counted_before_any_is_checked() {
    let (app, account) = app_with_citizen().await;
    let headers = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("sec-fetch-site", "same-origin"),
        (support::PEER, "203.0.113.77:1"),
    ];
    let body = form("an@example.vn", "sai mật khẩu 1", "/");
    let attempts: Vec<_> = (0..12)
        .map(|_| app.send("POST", "/dang-nhap", &headers, &body))
        .collect();
    futures_util::future::join_all(attempts).await;
    let checked = app
        .db
        .store
        .audit
        .recent(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| {
            e.kind == AuditKind::LoginFailed
                && e.actor == Some(account.id)
                && !e
                    .subject
                    .as_deref()
                    .unwrap_or_default()
                    .contains("đang khóa")
        })
        .count();
    assert!(
        checked <= 5,
        "{checked} passwords were checked: a burst must not get past the limit of 5"
    );
}

#[tokio::test]
async fn many_addresses_together_lock_the_name_except_where_its_owner_logs_in() {
    let (app, _) = app_with_citizen().await;
    let headers = |ip: String| {
        vec![
            (
                "content-type".to_string(),
                "application/x-www-form-urlencoded".to_string(),
            ),
            ("sec-fetch-site".to_string(), "same-origin".to_string()),
            (support::PEER.to_string(), ip),
        ]
    };
    let send = |ip: String, password: &'static str| {
        let app = &app;
        async move {
            let h = headers(ip);
            let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            app.send(
                "POST",
                "/dang-nhap",
                &h,
                &form("an@example.vn", password, "/"),
            )
            .await
        }
    };
    assert_eq!(
        send("198.51.100.20:1".into(), PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    // twenty failures spread over ten addresses: no single address reaches five
    for i in 0..20 {
        send(format!("203.0.113.{}:1", i % 10), "sai mật khẩu 1").await;
    }
    let elsewhere = send("192.0.2.99:1".into(), PASSWORD).await;
    assert!(
        elsewhere.body.contains("đang tạm khóa"),
        "a new address is locked out for a while"
    );
    assert_eq!(
        send("198.51.100.20:1".into(), PASSWORD).await.status,
        StatusCode::SEE_OTHER,
        "the owner's usual address still works"
    );
}

#[tokio::test]
async fn too_many_attempts_from_one_address_get_429_with_retry_after() {
    let (app, _) = app_with_citizen().await;
    let body = form("khong@example.vn", "sai mật khẩu 1", "/");
    // the limit is per fixed minute: on a slow machine the 22 attempts may straddle two minutes, and then
    // they are tried again from a fresh address (the behaviour is the same in any one minute)
    let minute = || {
        OffsetDateTime::now_utc()
            .replace_second(0)
            .unwrap()
            .replace_nanosecond(0)
            .unwrap()
    };
    let mut tries = 0;
    let (headers, reply) = loop {
        tries += 1;
        let started = minute();
        let headers = [
            ("content-type", "application/x-www-form-urlencoded"),
            ("sec-fetch-site", "same-origin"),
            (
                support::PEER,
                ["203.0.113.7:1", "203.0.113.9:1", "203.0.113.10:1"][tries - 1],
            ),
        ];
        let mut statuses = Vec::new();
        for _ in 0..21 {
            statuses.push(app.send("POST", "/dang-nhap", &headers, &body).await.status);
        }
        let reply = app.send("POST", "/dang-nhap", &headers, &body).await;
        if minute() != started && tries < 3 {
            continue;
        }
        assert!(
            statuses[..20]
                .iter()
                .all(|s| *s == StatusCode::UNAUTHORIZED),
            "{statuses:?}"
        );
        break (headers, reply);
    };
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.headers[header::RETRY_AFTER], "60");
    assert!(reply.body.contains("Bạn đã thử quá nhiều lần"));
    // another address is not affected
    let other = [headers[0], headers[1], (support::PEER, "203.0.113.8:1")];
    assert_eq!(
        app.send("POST", "/dang-nhap", &other, &body).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn after_an_idle_logout_logging_in_returns_to_the_page_the_citizen_was_on() {
    let (app, _) = app_with_citizen().await;
    let cookie = app
        .post_form("/dang-nhap", &form("an@example.vn", PASSWORD, "/"), None)
        .await
        .cookie()
        .unwrap();
    // what the idle warning sends at zero
    let out = app
        .post_form(
            "/dang-xuat",
            "ly_do=het-han&tiep=%2Fho-so-nhap%2Fabc%2Ftrang%2F2",
            Some(&cookie),
        )
        .await;
    let to = out.headers[header::LOCATION].to_str().unwrap().to_string();
    assert_eq!(
        to,
        "/dang-nhap?het_han=1&tiep=%2Fho-so-nhap%2Fabc%2Ftrang%2F2"
    );
    let page = app.get(&to).await;
    assert!(page.body.contains("Phiên đăng nhập đã hết hạn"));
    assert!(
        page.body
            .contains("name=\"tiep\" value=\"/ho-so-nhap/abc/trang/2\"")
    );
    let back = app
        .post_form(
            "/dang-nhap",
            &form("an@example.vn", PASSWORD, "/ho-so-nhap/abc/trang/2"),
            None,
        )
        .await;
    assert_eq!(back.headers[header::LOCATION], "/ho-so-nhap/abc/trang/2");
    // a page that answered a form sent to a dossier's action address comes back as the dossier's page
    let cookie = back.cookie().unwrap();
    let out = app
        .post_form(
            "/dang-xuat",
            "ly_do=het-han&tiep=%2Fho-so%2FX-1%2Fthanh-toan",
            Some(&cookie),
        )
        .await;
    assert_eq!(
        out.headers[header::LOCATION],
        "/dang-nhap?het_han=1&tiep=%2Fho-so%2FX-1"
    );
    let cookie = app
        .post_form("/dang-nhap", &form("an@example.vn", PASSWORD, "/"), None)
        .await
        .cookie()
        .unwrap();
    // never somewhere else
    let out = app
        .post_form(
            "/dang-xuat",
            "ly_do=het-han&tiep=https%3A%2F%2Fevil.example",
            Some(&cookie),
        )
        .await;
    assert_eq!(out.headers[header::LOCATION], "/dang-nhap?het_han=1");
}
