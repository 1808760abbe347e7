//! Administrators manage officer accounts, only at the agencies they administer.

mod support;

use axum::http::StatusCode;
use motcua_domain::{AccountKind, AuditKind, LoginName, RoleGrant};
use motcua_testkit::fixtures::{self, AGENCY, OTHER_AGENCY};
use support::TestApp;

async fn app_with_admin_of_a() -> (TestApp, String) {
    let db = motcua_testkit::sqlite_store().await;
    fixtures::seed_minimal(&db.store).await;
    let app = TestApp::new(db).await;
    let grant = format!("administrator@{AGENCY}");
    let admin = support::person(
        "Quản trị A",
        "admin.a@example.vn",
        AccountKind::Officer,
        &[&grant],
    );
    let cookie = support::session_for(&app, &admin, "d").await;
    (app, cookie)
}

#[tokio::test]
async fn an_administrator_creates_an_officer_who_can_then_log_in() {
    let (app, cookie) = app_with_admin_of_a().await;
    let page = app.get_with_cookie("/quan-tri/can-bo", &cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("value=\"{AGENCY}\"")));
    assert!(
        !page.body.contains(&format!("value=\"{OTHER_AGENCY}\"")),
        "only agencies this admin manages are offered"
    );

    let made = app
        .post_form("/quan-tri/can-bo", &format!("ho_ten=Tr%E1%BA%A7n%20Th%E1%BB%8B%20B%C3%ACnh&email=binh%40example.vn&vai_tro=reception&co_quan={AGENCY}"), Some(&cookie))
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    assert!(
        made.body
            .contains("Đã tạo tài khoản cán bộ <strong>Trần Thị Bình</strong>")
    );
    let password = made
        .body
        .split("Mật khẩu: <code>")
        .nth(1)
        .unwrap()
        .split("</code>")
        .next()
        .unwrap()
        .to_string();
    assert_eq!(password.len(), 16);
    let login = app
        .post_form(
            "/dang-nhap",
            &format!("ten_dang_nhap=binh%40example.vn&mat_khau={password}"),
            None,
        )
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    let officer = app
        .db
        .store
        .accounts
        .find_by_login(&LoginName::parse("binh@example.vn").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        officer.grants,
        vec![RoleGrant::parse(&format!("reception@{AGENCY}")).unwrap()]
    );
    let kinds: Vec<_> = app
        .db
        .store
        .audit
        .recent(20)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(kinds.contains(&AuditKind::AccountCreated));

    // roles: add one, withdraw one, each audited
    let path = format!("/quan-tri/can-bo/{}/vai-tro", officer.id);
    let add = app
        .post_form(
            &path,
            &format!("thao_tac=them&vai_tro=specialist&co_quan={AGENCY}"),
            Some(&cookie),
        )
        .await;
    assert_eq!(add.status, StatusCode::SEE_OTHER);
    let remove = app
        .post_form(
            &path,
            &format!("thao_tac=xoa&vai_tro=reception&co_quan={AGENCY}"),
            Some(&cookie),
        )
        .await;
    assert_eq!(remove.status, StatusCode::SEE_OTHER);
    let officer = app
        .db
        .store
        .accounts
        .get(officer.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        officer.grants,
        vec![RoleGrant::parse(&format!("specialist@{AGENCY}")).unwrap()]
    );
    let changes = app
        .db
        .store
        .audit
        .recent(50)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == AuditKind::RolesChanged)
        .count();
    assert_eq!(changes, 2);

    // another agency is out of reach
    let elsewhere = app
        .post_form(
            &path,
            &format!("thao_tac=them&vai_tro=leader&co_quan={OTHER_AGENCY}"),
            Some(&cookie),
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::FORBIDDEN);
    let denied = app
        .db
        .store
        .audit
        .recent(50)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == AuditKind::AccessDenied)
        .count();
    assert_eq!(
        denied, 1,
        "the attempt outside the administrator's agencies is logged"
    );
    let create_elsewhere = app
        .post_form(
            "/quan-tri/can-bo",
            &format!("ho_ten=X&email=x%40example.vn&vai_tro=leader&co_quan={OTHER_AGENCY}"),
            Some(&cookie),
        )
        .await;
    assert_eq!(create_elsewhere.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        create_elsewhere
            .body
            .contains("Bạn không quản lý cơ quan này")
    );
    assert!(
        create_elsewhere.body.contains("value=\"x@example.vn\""),
        "what was typed is kept"
    );
    let unknown = app
        .post_form(
            "/quan-tri/can-bo/khong-phai-id/vai-tro",
            "thao_tac=them&vai_tro=leader",
            Some(&cookie),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_officer_name_must_be_letters_and_the_officer_keeps_a_way_to_log_in() {
    let (app, cookie) = app_with_admin_of_a().await;
    // a name with a link in it is refused with a message, and what was typed is kept
    let bad = app
        .post_form(
            "/quan-tri/can-bo",
            &format!(
                "ho_ten=B%C3%ACnh+http%3A%2F%2Flua.example&email=binh%40example.vn&vai_tro=reception&co_quan={AGENCY}"
            ),
            Some(&cookie),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("chỉ gồm chữ cái"), "{}", bad.body);
    assert!(bad.body.contains("value=\"binh@example.vn\""));
    // the administrator's own contact page: an officer keeps an e-mail or a phone to log in with
    let emptied = app
        .post_form(
            "/tai-khoan/lien-he",
            "dien_thoai=&email=&dia_chi=",
            Some(&cookie),
        )
        .await;
    assert_eq!(emptied.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        emptied
            .body
            .contains("Cần thư điện tử hoặc số điện thoại để đăng nhập")
    );
    let still = app
        .db
        .store
        .accounts
        .find_by_login(&LoginName::parse("admin.a@example.vn").unwrap())
        .await
        .unwrap();
    assert!(still.is_some(), "nothing was saved");
}
