//! Where each account lands after logging in, and "Việc của tôi": an officer's counts, each a link to its list.

mod support;

use axum::http::{StatusCode, header};
use motcua_domain::AccountKind;
use motcua_testkit::fixtures::AGENCY;
use support::{TestApp, encode_form};

const PASSWORD: &str = "Mật khẩu đủ dài 2026";

async fn with_password(app: &TestApp, email: &str, kind: AccountKind, grants: &[&str]) {
    let mut account = support::person("Cán bộ Một Cửa", email, kind, grants);
    account.password_hash = motcua_web::auth::hash_password(PASSWORD.into())
        .await
        .unwrap();
    app.db.store.accounts.create(&account).await.unwrap();
}

async fn lands(app: &TestApp, email: &str) -> (String, String) {
    let reply = app
        .post_form(
            "/dang-nhap",
            &encode_form(&[
                ("ten_dang_nhap", email),
                ("mat_khau", PASSWORD),
                ("tiep", "/"),
            ]),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    (
        reply.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .to_string(),
        reply.cookie().unwrap(),
    )
}

#[tokio::test]
async fn officers_land_on_their_work_editors_on_the_catalogue_citizens_on_the_portal() {
    let (app, _citizen, _dossier) =
        support::with_submitted_dossier(motcua_testkit::sqlite_store().await).await;
    with_password(
        &app,
        "motcua@example.vn",
        AccountKind::Officer,
        &[&format!("reception@{AGENCY}")],
    )
    .await;
    with_password(
        &app,
        "bientap@example.vn",
        AccountKind::Officer,
        &[&format!("editor@{AGENCY}")],
    )
    .await;
    with_password(&app, "dan@example.vn", AccountKind::Citizen, &[]).await;

    let (to, cookie) = lands(&app, "motcua@example.vn").await;
    assert_eq!(to, "/can-bo");
    let home = app.get_with_cookie("/can-bo", &cookie).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Việc của tôi"));
    let tile = |label: &str| -> String {
        let before = home
            .body
            .split(&format!("<span class=\"tile-label\">{label}</span>"))
            .next()
            .unwrap();
        before
            .rsplit("<span class=\"tile-count\">")
            .next()
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(tile("Chờ tiếp nhận"), "1", "{}", home.body);
    assert_eq!(tile("Quá hạn"), "0");
    assert!(home.body.contains("href=\"/can-bo/ho-so?qua_han=1\""));
    // a page asked for still wins
    let reply = app
        .post_form(
            "/dang-nhap",
            &encode_form(&[
                ("ten_dang_nhap", "motcua@example.vn"),
                ("mat_khau", PASSWORD),
                ("tiep", "/can-bo/ho-so"),
            ]),
            None,
        )
        .await;
    assert_eq!(reply.headers[header::LOCATION], "/can-bo/ho-so");

    // editors land in the newsroom
    assert_eq!(lands(&app, "bientap@example.vn").await.0, "/bien-tap");
    let (to, cookie) = lands(&app, "dan@example.vn").await;
    assert_eq!(to, "/");
    assert_eq!(
        app.get_with_cookie("/can-bo", &cookie).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn due_soon_counts_and_lists_the_dossiers_due_within_a_working_day() {
    let (app, _citizen, dossier) =
        support::with_submitted_dossier(motcua_testkit::sqlite_store().await).await;
    let now = time::OffsetDateTime::now_utc();
    let t = motcua_domain::Transition::new(
        dossier.id,
        dossier.status,
        motcua_domain::DossierStatus::Received,
        now,
        "Cán bộ (x)",
    )
    .unwrap()
    .with_due_at(now + time::Duration::hours(2));
    app.db.store.dossiers.record_transition(&t).await.unwrap();
    let officer = support::person(
        "Chuyên viên",
        "cv@example.vn",
        AccountKind::Officer,
        &[&format!("specialist@{AGENCY}")],
    );
    let cookie = support::session_for(&app, &officer, "c").await;
    let home = app.get_with_cookie("/can-bo", &cookie).await;
    let tile = |label: &str| -> String {
        let before = home
            .body
            .split(&format!("<span class=\"tile-label\">{label}</span>"))
            .next()
            .unwrap();
        before
            .rsplit("<span class=\"tile-count\">")
            .next()
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        tile("Sắp đến hạn (trong 1 ngày làm việc)"),
        "1",
        "{}",
        home.body
    );
    assert_eq!(tile("Quá hạn"), "0");
    let code = dossier.code.to_string();
    let soon = app
        .get_with_cookie("/can-bo/ho-so?sap_den_han=1", &cookie)
        .await;
    assert!(soon.body.contains(&code), "{}", soon.body);
    let late = app
        .get_with_cookie("/can-bo/ho-so?qua_han=1", &cookie)
        .await;
    assert!(!late.body.contains(&format!("/can-bo/ho-so/{code}\"")));
}
