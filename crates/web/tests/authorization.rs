//! The authorisation matrix: every route that exists, asked by an anonymous visitor, a citizen, and an officer
//! of each role at agency A and at agency B. Each gets exactly what the policy grants; refusals are audited.

mod support;

use axum::http::StatusCode;
use motcua_domain::{
    Account, AccountId, AccountKind, AuditKind, Email, NonEmptyText, Role, RoleGrant, Session,
    SessionKey,
};
use motcua_testkit::fixtures::{self, AGENCY, OTHER_AGENCY};
use support::TestApp;
use time::{Duration, OffsetDateTime};

const ROLES: [Role; 6] = Role::ALL;

/// Personas: 0 anonymous, 1 citizen, then each role at A, then each role at B.
async fn personas(app: &TestApp) -> Vec<(String, Option<String>)> {
    let mut out = vec![("anonymous".to_string(), None)];
    let mut make = |label: String, kind: AccountKind, grants: Vec<RoleGrant>| {
        let n = out.len();
        let account = Account {
            id: AccountId::new(),
            kind,
            full_name: NonEmptyText::parse(&label).unwrap(),
            personal_id: None,
            birth_date: None,
            phone: None,
            email: Some(Email::parse(&format!("p{n}@example.vn")).unwrap()),
            address: None,
            password_hash: "$argon2id$unused".into(),
            email_verified_at: None,
            disabled: false,
            created_at: OffsetDateTime::now_utc(),
            grants,
        };
        let token = format!("{n:064x}");
        out.push((label, Some(format!("__Host-motcua={token}"))));
        (account, token)
    };
    let mut accounts = vec![make("citizen".into(), AccountKind::Citizen, vec![])];
    for agency in [AGENCY, OTHER_AGENCY] {
        for role in ROLES {
            let grant = RoleGrant::parse(&format!("{}@{agency}", role.as_str())).unwrap();
            accounts.push(make(
                format!("{}@{agency}", role.as_str()),
                AccountKind::Officer,
                vec![grant],
            ));
        }
    }
    let now = OffsetDateTime::now_utc();
    for (account, token) in accounts {
        app.db.store.accounts.create(&account).await.unwrap();
        app.db
            .store
            .sessions
            .create(&Session {
                key: SessionKey::of_token(&token),
                account: account.id,
                created_at: now,
                last_seen_at: now,
                expires_at: now + Duration::hours(8),
            })
            .await
            .unwrap();
    }
    out
}

#[tokio::test]
async fn every_route_answers_each_persona_as_the_policy_says() {
    let db = motcua_testkit::sqlite_store().await;
    fixtures::seed_minimal(&db.store).await;
    let app = TestApp::new(db).await;
    let people = personas(&app).await;
    let admin = |label: &str| label.starts_with("administrator@");
    // (method, path, expected status for a persona label)
    type Expect = fn(&str) -> u16;
    let public: Expect = |_| 200;
    let logged_in_ok: Expect = |who| if who == "anonymous" { 303 } else { 200 };
    let routes: Vec<(&str, &str, Expect)> = vec![
        ("GET", "/", public),
        ("GET", "/thu-tuc", public),
        ("GET", "/thu-tuc?q=khai+sinh", public),
        ("GET", "/thu-tuc/1.001193", public),
        ("GET", "/dang-nhap", public),
        ("GET", "/dang-ky", public),
        ("GET", "/quen-mat-khau", public),
        ("GET", "/dat-lai-mat-khau", |_| 410),
        ("GET", "/xac-thuc-email", |_| 410),
        ("GET", "/healthz", public),
        ("GET", "/readyz", public),
        ("GET", "/static/app.css", public),
        ("GET", "/tai-khoan", logged_in_ok),
        ("GET", "/tai-khoan/lien-he", logged_in_ok),
        ("GET", "/tai-khoan/du-lieu", logged_in_ok),
        ("GET", "/tai-khoan/mat-khau", logged_in_ok),
        ("GET", "/phien/trang-thai", |who| {
            if who == "anonymous" { 401 } else { 200 }
        }),
        ("POST", "/phien/gia-han", |who| {
            if who == "anonymous" { 401 } else { 204 }
        }),
        ("GET", "/quan-tri/nhat-ky-bao-mat", |who| {
            if who == "anonymous" {
                303
            } else if who.starts_with("administrator@") {
                200
            } else {
                403
            }
        }),
        ("GET", "/quan-tri/ngay-nghi", |who| {
            if who == "anonymous" {
                303
            } else if who.starts_with("administrator@") {
                200
            } else {
                403
            }
        }),
        ("GET", "/ho-so-cua-toi", logged_in_ok),
        ("GET", "/tra-cuu-ho-so", public),
        // the reception desk: reception, heads of unit and administrators of an agency
        ("GET", "/can-bo/tiep-nhan", |who| {
            if who == "anonymous" {
                303
            } else if ["reception@", "head_of_unit@", "administrator@"]
                .iter()
                .any(|r| who.starts_with(r))
            {
                200
            } else {
                403
            }
        }),
        ("GET", "/quan-tri/can-bo", |who| {
            if who == "anonymous" {
                303
            } else if who.starts_with("administrator@") {
                200
            } else {
                403
            }
        }),
    ];
    let mut denials = 0;
    let mut n: u32 = 0;
    for (method, path, expect) in &routes {
        for (who, cookie) in &people {
            // each request from an address of its own: this checks the policy, not the limit on refusals
            n += 1;
            let peer = format!("10.{}.{}.{}:1", n >> 16 & 255, n >> 8 & 255, n & 255);
            let mut headers = vec![
                ("sec-fetch-site", "same-origin"),
                (support::PEER, peer.as_str()),
            ];
            if let Some(c) = cookie {
                headers.push(("cookie", c.as_str()));
            }
            let reply = app.send(method, path, &headers, "").await;
            assert_eq!(
                reply.status.as_u16(),
                expect(who),
                "{method} {path} as {who}"
            );
            if reply.status == StatusCode::FORBIDDEN {
                denials += 1;
                assert!(reply.body.contains("Bạn không có quyền truy cập trang này"));
            }
            if reply.status == StatusCode::SEE_OTHER && path.starts_with("/quan-tri/") {
                assert!(
                    reply.headers["location"]
                        .to_str()
                        .unwrap()
                        .starts_with("/dang-nhap?tiep=%2Fquan-tri")
                );
            }
        }
    }
    // three administration pages, refused to everyone logged in who is not an administrator, and the reception
    // desk refused to everyone logged in without a reception role
    let receives = |w: &str| {
        ["reception@", "head_of_unit@", "administrator@"]
            .iter()
            .any(|r| w.starts_with(r))
    };
    assert_eq!(
        denials,
        3 * people
            .iter()
            .filter(|(w, _)| *w != "anonymous" && !admin(w))
            .count()
            + people
                .iter()
                .filter(|(w, _)| *w != "anonymous" && !receives(w))
                .count()
    );
    let audited = app.db.store.audit.recent(500).await.unwrap();
    assert_eq!(
        audited
            .iter()
            .filter(|e| e.kind == AuditKind::AccessDenied)
            .count(),
        denials,
        "every refusal is logged"
    );

    // logging out everywhere ends only that person's sessions
    let (_, citizen_cookie) = &people[1];
    let (_, reception_cookie) = &people[2];
    let out = app
        .post_form(
            "/tai-khoan/dang-xuat-moi-noi",
            "",
            citizen_cookie.as_deref(),
        )
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get_with_cookie("/tai-khoan", citizen_cookie.as_deref().unwrap())
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.get_with_cookie("/tai-khoan", reception_cookie.as_deref().unwrap())
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_account_page_masks_the_identity_number_and_lists_roles() {
    let (app, cookie) = {
        let db = motcua_testkit::sqlite_store().await;
        fixtures::seed_minimal(&db.store).await;
        let app = TestApp::new(db).await;
        let people = personas(&app).await;
        (app, people[2].1.clone().unwrap())
    };
    let page = app.get_with_cookie("/tai-khoan", &cookie).await;
    assert!(
        page.body.contains("Cán bộ một cửa — Sở Tư pháp"),
        "{}",
        page.body
    );
    let citizen = Account {
        id: AccountId::new(),
        kind: AccountKind::Citizen,
        full_name: NonEmptyText::parse("Nguyễn Văn An").unwrap(),
        personal_id: Some(motcua_domain::PersonalId::parse("001099012345").unwrap()),
        birth_date: None,
        phone: None,
        email: None,
        address: None,
        password_hash: String::new(),
        email_verified_at: None,
        disabled: false,
        created_at: OffsetDateTime::now_utc(),
        grants: vec![],
    };
    app.db.store.accounts.create(&citizen).await.unwrap();
    let token = "c".repeat(64);
    let now = OffsetDateTime::now_utc();
    app.db
        .store
        .sessions
        .create(&Session {
            key: SessionKey::of_token(&token),
            account: citizen.id,
            created_at: now,
            last_seen_at: now,
            expires_at: now + Duration::hours(1),
        })
        .await
        .unwrap();
    let page = app
        .get_with_cookie("/tai-khoan", &format!("__Host-motcua={token}"))
        .await;
    assert!(page.body.contains("0xx xxx xxx 345"));
    assert!(
        !page.body.contains("001099012345"),
        "the full number is never shown"
    );
}
