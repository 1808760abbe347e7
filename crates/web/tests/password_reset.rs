//! Forgotten passwords and e-mail verification: one-time, expiring links by e-mail; no account enumeration.

mod support;

use axum::http::{StatusCode, header};
use motcua_domain::{
    Account, AccountId, AccountKind, AuditKind, Email, LoginName, NonEmptyText, Phone,
};
use support::TestApp;
use time::OffsetDateTime;

const OLD: &str = "Mật khẩu cũ 2025";
const NEW: &str = "Mật khẩu mới 2026";

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn app() -> TestApp {
    let app = TestApp::new(motcua_testkit::sqlite_store().await).await;
    let account = Account {
        id: AccountId::new(),
        kind: AccountKind::Citizen,
        full_name: NonEmptyText::parse("Nguyễn Văn An").unwrap(),
        personal_id: None,
        birth_date: None,
        phone: Some(Phone::parse("0912345678").unwrap()),
        email: Some(Email::parse("an@example.vn").unwrap()),
        address: None,
        password_hash: motcua_web::auth::hash_password(OLD.into()).await.unwrap(),
        email_verified_at: Some(OffsetDateTime::now_utc()),
        disabled: false,
        created_at: OffsetDateTime::now_utc(),
        grants: vec![],
    };
    app.db.store.accounts.create(&account).await.unwrap();
    app
}

fn link_in(body: &str, path: &str) -> String {
    let start = body
        .find(&format!("https://dichvucong.example.vn{path}?ma="))
        .expect("a link in the e-mail");
    body[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_start_matches("https://dichvucong.example.vn")
        .to_string()
}

async fn login(app: &TestApp, password: &str) -> StatusCode {
    app.post_form(
        "/dang-nhap",
        &format!(
            "ten_dang_nhap={}&mat_khau={}",
            enc("0912345678"),
            enc(password)
        ),
        None,
    )
    .await
    .status
}

#[tokio::test]
async fn a_reset_link_sets_a_new_password_once_and_ends_old_sessions() {
    let app = app().await;
    let old_session = app
        .post_form(
            "/dang-nhap",
            &format!("ten_dang_nhap=an%40example.vn&mat_khau={}", enc(OLD)),
            None,
        )
        .await
        .cookie()
        .unwrap();

    let asked = app
        .post_form("/quen-mat-khau", "ten_dang_nhap=0912345678", None)
        .await;
    assert_eq!(asked.status, StatusCode::OK);
    assert!(
        asked
            .body
            .contains("Nếu tài khoản tồn tại và có địa chỉ thư điện tử")
    );
    let mails = app.sent_mail().await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, "an@example.vn");
    assert!(mails[0].subject.contains("đặt lại mật khẩu"));
    let link = link_in(&mails[0].body, "/dat-lai-mat-khau");

    let form = app.get(&link).await;
    assert_eq!(form.status, StatusCode::OK);
    let token = link.split("ma=").nth(1).unwrap();
    // a weak password is refused without using up the link
    let weak = app
        .post_form(
            "/dat-lai-mat-khau",
            &format!("ma={token}&mat_khau=ngan&nhap_lai_mat_khau=ngan"),
            None,
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.body.contains("Mật khẩu quá ngắn"));
    let done = app
        .post_form(
            "/dat-lai-mat-khau",
            &format!(
                "ma={token}&mat_khau={}&nhap_lai_mat_khau={}",
                enc(NEW),
                enc(NEW)
            ),
            None,
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.headers[header::LOCATION], "/dang-nhap?doi_mat_khau=1");
    assert!(
        app.get("/dang-nhap?doi_mat_khau=1")
            .await
            .body
            .contains("Đã đặt mật khẩu mới")
    );

    assert!(
        !app.get_with_cookie("/tai-khoan", &old_session)
            .await
            .body
            .contains("Nguyễn Văn An"),
        "old sessions end"
    );
    assert_eq!(login(&app, OLD).await, StatusCode::UNAUTHORIZED);
    assert_eq!(login(&app, NEW).await, StatusCode::SEE_OTHER);

    // the link is spent
    let again = app.get(&link).await;
    assert_eq!(again.status, StatusCode::GONE);
    assert!(again.body.contains("Liên kết không còn dùng được"));
    let reuse = app
        .post_form(
            "/dat-lai-mat-khau",
            &format!(
                "ma={token}&mat_khau={}&nhap_lai_mat_khau={}",
                enc(NEW),
                enc(NEW)
            ),
            None,
        )
        .await;
    assert_eq!(reuse.status, StatusCode::GONE);
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
    assert!(
        kinds.contains(&AuditKind::PasswordResetRequested)
            && kinds.contains(&AuditKind::PasswordChanged)
    );
}

#[tokio::test]
async fn an_unknown_account_gets_the_same_answer_and_no_mail() {
    let app = app().await;
    let known = app
        .post_form("/quen-mat-khau", "ten_dang_nhap=0912345678", None)
        .await;
    let unknown = app
        .post_form("/quen-mat-khau", "ten_dang_nhap=0987654321", None)
        .await;
    assert_eq!(known.status, unknown.status);
    assert_eq!(
        known.body.replace("0912345678", "X"),
        unknown.body.replace("0987654321", "X")
    );
    assert_eq!(app.sent_mail().await.len(), 1);
    let malformed = app
        .post_form("/quen-mat-khau", "ten_dang_nhap=abc", None)
        .await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(malformed.body.contains("value=\"abc\""));
}

#[tokio::test]
async fn tampered_or_made_up_links_get_a_clear_page() {
    let app = app().await;
    for path in [
        "/dat-lai-mat-khau",
        "/dat-lai-mat-khau?ma=abc",
        &format!("/dat-lai-mat-khau?ma={}", "0".repeat(64)),
        "/xac-thuc-email?ma=%00",
    ] {
        let reply = app.get(path).await;
        assert_eq!(reply.status, StatusCode::GONE, "{path}");
        assert!(reply.body.contains("Liên kết không còn dùng được"));
    }
}

#[tokio::test]
async fn a_new_citizen_verifies_their_email_once() {
    let app = TestApp::new(motcua_testkit::sqlite_store().await).await;
    let form = [
        ("ho_ten", "Trần Thị Mai"),
        ("so_dinh_danh", "001199012345"),
        ("ngay_sinh", "17/05/1990"),
        ("dien_thoai", "0987654321"),
        ("email", "mai@example.vn"),
        ("mat_khau", NEW),
        ("nhap_lai_mat_khau", NEW),
        ("dong_y", "co"),
    ]
    .iter()
    .map(|(k, v)| format!("{k}={}", enc(v)))
    .collect::<Vec<_>>()
    .join("&");
    assert_eq!(
        app.post_form("/dang-ky", &form, None).await.status,
        StatusCode::SEE_OTHER
    );
    let mails = app.sent_mail().await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].subject.contains("xác thực"));
    let link = link_in(&mails[0].body, "/xac-thuc-email");
    let verified = app.get(&link).await;
    assert_eq!(verified.status, StatusCode::OK);
    assert!(verified.body.contains("Đã xác thực địa chỉ thư điện tử"));
    let account = app
        .db
        .store
        .accounts
        .find_by_login(&LoginName::parse("mai@example.vn").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(account.email_verified_at.is_some());
    assert_eq!(app.get(&link).await.status, StatusCode::GONE);
    // nowhere in particular to go on to: the account page
    assert!(verified.body.contains("href=\"/tai-khoan\""));
}

#[tokio::test]
async fn the_verification_link_carries_the_citizen_on_to_where_they_were_going() {
    let app = TestApp::new(motcua_testkit::sqlite_store().await).await;
    let going = "/nop-ho-so/1.001193/mac-dinh/000.00.06.H56";
    let form = [
        ("ho_ten", "Trần Thị Mai"),
        ("so_dinh_danh", "001199012345"),
        ("ngay_sinh", "17/05/1990"),
        ("dien_thoai", "0987654321"),
        ("email", "mai@example.vn"),
        ("mat_khau", NEW),
        ("nhap_lai_mat_khau", NEW),
        ("dong_y", "co"),
        ("tiep", going),
    ]
    .iter()
    .map(|(k, v)| format!("{k}={}", enc(v)))
    .collect::<Vec<_>>()
    .join("&");
    assert_eq!(
        app.post_form("/dang-ky", &form, None).await.status,
        StatusCode::SEE_OTHER
    );
    let mails = app.sent_mail().await;
    let link = link_in(&mails[0].body, "/xac-thuc-email");
    assert!(link.contains("&tiep=%2Fnop-ho-so%2F1.001193"), "{link}");
    let verified = app.get(&link).await;
    assert_eq!(verified.status, StatusCode::OK);
    assert!(
        verified
            .body
            .contains(&format!("href=\"{going}\">Tiếp tục nộp hồ sơ")),
        "{}",
        verified.body
    );
}

#[tokio::test]
async fn a_citizen_updates_contact_data_and_a_new_email_is_verified_again() {
    let app = app().await;
    let cookie = app
        .post_form(
            "/dang-nhap",
            &format!("ten_dang_nhap=0912345678&mat_khau={}", enc(OLD)),
            None,
        )
        .await
        .cookie()
        .unwrap();
    let page = app.get_with_cookie("/tai-khoan/lien-he", &cookie).await;
    assert!(page.body.contains("value=\"an@example.vn\""));
    let bad = app
        .post_form(
            "/tai-khoan/lien-he",
            "dien_thoai=123&email=an%40&dia_chi=X",
            Some(&cookie),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("Số điện thoại di động phải có 10 chữ số")
            && bad.body.contains("value=\"an@\"")
    );
    let ok = app
        .post_form(
            "/tai-khoan/lien-he",
            &format!(
                "dien_thoai=0912345678&email=an.moi%40example.vn&dia_chi=Th%C3%B4n%20T%C3%A2y&mat_khau_hien_tai={}",
                enc(OLD)
            ),
            Some(&cookie),
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let account = app
        .db
        .store
        .accounts
        .find_by_login(&LoginName::parse("an.moi@example.vn").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.address.as_deref(), Some("Thôn Tây"));
    let mails = app.sent_mail().await;
    assert!(
        mails
            .iter()
            .any(|m| m.to == "an.moi@example.vn" && m.subject.contains("xác thực"))
    );
    assert!(
        mails
            .iter()
            .any(|m| m.to == "an@example.vn"
                && m.subject.contains("thông tin đăng nhập đã thay đổi")),
        "the old address is told"
    );
    let data = app.get_with_cookie("/tai-khoan/du-lieu", &cookie).await;
    assert_eq!(
        data.headers[header::CONTENT_TYPE],
        "application/json; charset=utf-8"
    );
    let json: serde_json::Value = serde_json::from_str(&data.body).unwrap();
    assert_eq!(json["tai_khoan"]["email"], "an.moi@example.vn");
    assert!(
        !data.body.contains("argon2"),
        "the password hash is never exported"
    );
    assert_eq!(
        app.get("/tai-khoan/du-lieu").await.status,
        StatusCode::SEE_OTHER,
        "anonymous: log in first"
    );
}

#[tokio::test]
async fn a_logged_in_citizen_changes_the_password_and_every_session_ends() {
    let app = app().await;
    let cookie = app
        .post_form(
            "/dang-nhap",
            &format!("ten_dang_nhap=0912345678&mat_khau={}", enc(OLD)),
            None,
        )
        .await
        .cookie()
        .unwrap();
    let wrong = app
        .post_form(
            "/tai-khoan/mat-khau",
            &format!(
                "mat_khau_hien_tai=sai&mat_khau_moi={}&nhap_lai_mat_khau={}",
                enc(NEW),
                enc(NEW)
            ),
            Some(&cookie),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("Mật khẩu hiện tại không đúng"));
    let weak = app
        .post_form(
            "/tai-khoan/mat-khau",
            &format!(
                "mat_khau_hien_tai={}&mat_khau_moi=ngan&nhap_lai_mat_khau=ngan",
                enc(OLD)
            ),
            Some(&cookie),
        )
        .await;
    assert!(weak.body.contains("Mật khẩu quá ngắn"));
    let done = app
        .post_form(
            "/tai-khoan/mat-khau",
            &format!(
                "mat_khau_hien_tai={}&mat_khau_moi={}&nhap_lai_mat_khau={}",
                enc(OLD),
                enc(NEW),
                enc(NEW)
            ),
            Some(&cookie),
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get_with_cookie("/tai-khoan", &cookie).await.status,
        StatusCode::SEE_OTHER,
        "the session ended"
    );
    assert_eq!(login(&app, NEW).await, StatusCode::SEE_OTHER);
}

async fn ask_reset(app: &TestApp) -> String {
    let before = app.sent_mail().await.len();
    app.post_form("/quen-mat-khau", "ten_dang_nhap=0912345678", None)
        .await;
    let mails = app.sent_mail().await;
    assert_eq!(mails.len(), before + 1, "one more reset mail");
    let link = link_in(&mails[before].body, "/dat-lai-mat-khau");
    link.split("ma=").nth(1).unwrap().to_string()
}

async fn reset_with(app: &TestApp, token: &str, password: &str) -> StatusCode {
    app.post_form(
        "/dat-lai-mat-khau",
        &format!(
            "ma={token}&mat_khau={}&nhap_lai_mat_khau={}",
            enc(password),
            enc(password)
        ),
        None,
    )
    .await
    .status
}

#[tokio::test]
async fn an_earlier_reset_link_ends_when_a_later_one_is_used_or_the_password_changes() {
    let app = app().await;
    let first = ask_reset(&app).await;
    let second = ask_reset(&app).await;
    assert_eq!(reset_with(&app, &second, NEW).await, StatusCode::SEE_OTHER);
    assert_eq!(
        reset_with(&app, &first, "Kẻ gian đặt 2026").await,
        StatusCode::GONE,
        "the link mailed first died with the second's use"
    );
    assert_eq!(login(&app, NEW).await, StatusCode::SEE_OTHER);

    // a link outstanding when the password is changed from the account page dies too
    let third = ask_reset(&app).await;
    let cookie = app
        .post_form(
            "/dang-nhap",
            &format!("ten_dang_nhap=0912345678&mat_khau={}", enc(NEW)),
            None,
        )
        .await
        .cookie()
        .unwrap();
    let changed = app
        .post_form(
            "/tai-khoan/mat-khau",
            &format!(
                "mat_khau_hien_tai={}&mat_khau_moi={}&nhap_lai_mat_khau={}",
                enc(NEW),
                enc(OLD),
                enc(OLD)
            ),
            Some(&cookie),
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    assert_eq!(
        reset_with(&app, &third, "Kẻ gian đặt 2026").await,
        StatusCode::GONE
    );
    assert_eq!(login(&app, OLD).await, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn recovery_mail_goes_only_to_a_verified_address_and_is_capped_per_account() {
    let app = app().await;
    let unverified = Account {
        id: AccountId::new(),
        kind: AccountKind::Citizen,
        full_name: NonEmptyText::parse("Lê Văn Bình").unwrap(),
        personal_id: None,
        birth_date: None,
        phone: Some(Phone::parse("0911111111").unwrap()),
        email: Some(Email::parse("binh@example.vn").unwrap()),
        address: None,
        password_hash: motcua_web::auth::hash_password(OLD.into()).await.unwrap(),
        email_verified_at: None,
        disabled: false,
        created_at: OffsetDateTime::now_utc(),
        grants: vec![],
    };
    app.db.store.accounts.create(&unverified).await.unwrap();
    let asked = app
        .post_form("/quen-mat-khau", "ten_dang_nhap=0911111111", None)
        .await;
    assert_eq!(asked.status, StatusCode::OK);
    assert!(
        app.sent_mail().await.is_empty(),
        "an address never proved by its owner gets no recovery link"
    );
    // the verified account: three mails an hour, however often it is asked (each asking looks the same)
    for _ in 0..5 {
        let reply = app
            .post_form("/quen-mat-khau", "ten_dang_nhap=0912345678", None)
            .await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    assert_eq!(app.sent_mail().await.len(), 3);
}

#[tokio::test]
async fn changing_the_phone_or_email_needs_the_current_password_and_the_phone_stays_required() {
    let app = app().await;
    let cookie = app
        .post_form(
            "/dang-nhap",
            &format!("ten_dang_nhap=0912345678&mat_khau={}", enc(OLD)),
            None,
        )
        .await
        .cookie()
        .unwrap();
    // a stolen session alone cannot move the account's recovery elsewhere
    let no_password = app
        .post_form(
            "/tai-khoan/lien-he",
            "dien_thoai=0912345678&email=ke.gian%40example.vn&dia_chi=",
            Some(&cookie),
        )
        .await;
    assert_eq!(no_password.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_password.body.contains("Nhập mật khẩu hiện tại"));
    assert!(
        no_password.body.contains("value=\"ke.gian@example.vn\""),
        "what was typed is kept"
    );
    let wrong = app
        .post_form(
            "/tai-khoan/lien-he",
            "dien_thoai=0912345678&email=ke.gian%40example.vn&mat_khau_hien_tai=sai-roi-123",
            Some(&cookie),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("Mật khẩu hiện tại không đúng"));
    // a form without the phone field does not clear the phone the citizen logs in with
    let without_phone = app
        .post_form(
            "/tai-khoan/lien-he",
            "email=an%40example.vn&dia_chi=X",
            Some(&cookie),
        )
        .await;
    assert_eq!(without_phone.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(without_phone.body.contains("Nhập số điện thoại di động"));
    // the address alone changes without the password
    let address = app
        .post_form(
            "/tai-khoan/lien-he",
            "dien_thoai=0912345678&email=an%40example.vn&dia_chi=Th%C3%B4n%20%C4%90%C3%B4ng",
            Some(&cookie),
        )
        .await;
    assert_eq!(address.status, StatusCode::SEE_OTHER);
    let account = app
        .db
        .store
        .accounts
        .find_by_login(&LoginName::parse("0912345678").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        account.email.as_ref().map(|e| e.as_str()),
        Some("an@example.vn")
    );
    assert_eq!(account.address.as_deref(), Some("Thôn Đông"));
    assert!(account.email_verified_at.is_some());
    assert!(app.sent_mail().await.is_empty(), "nothing to tell");

    // with the password: changed, the old address told, and recovery waits for the new one's verification
    let moved = app
        .post_form(
            "/tai-khoan/lien-he",
            &format!(
                "dien_thoai=0912345678&email=an.moi%40example.vn&mat_khau_hien_tai={}",
                enc(OLD)
            ),
            Some(&cookie),
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER);
    let before = app.sent_mail().await.len();
    app.post_form("/quen-mat-khau", "ten_dang_nhap=0912345678", None)
        .await;
    assert_eq!(
        app.sent_mail().await.len(),
        before,
        "no recovery link to an address not yet verified"
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
    assert!(kinds.contains(&AuditKind::ContactChanged));
}

#[tokio::test]
async fn a_password_is_the_same_whether_typed_composed_or_decomposed() {
    use unicode_normalization::UnicodeNormalization;
    let app = app().await;
    // an account whose hash was made before passwords were normalised, from a keyboard sending NFD
    let decomposed: String = "Mật khẩu Hòa Bình 2026".nfd().collect();
    let legacy = {
        use argon2::password_hash::PasswordHasher;
        let d = decomposed.clone();
        tokio::task::spawn_blocking(move || {
            argon2::Argon2::default()
                .hash_password(d.as_bytes())
                .unwrap()
                .to_string()
        })
        .await
        .unwrap()
    };
    let account = app
        .db
        .store
        .accounts
        .find_by_login(&LoginName::parse("0912345678").unwrap())
        .await
        .unwrap()
        .unwrap();
    app.db
        .store
        .accounts
        .set_password_hash(account.id, &legacy)
        .await
        .unwrap();
    // typed on another keyboard (composed): accepted once, and the hash is replaced by one of the NFC form
    assert_eq!(
        login(&app, "Mật khẩu Hòa Bình 2026").await,
        StatusCode::SEE_OTHER
    );
    let rehashed = app
        .db
        .store
        .accounts
        .get(account.id)
        .await
        .unwrap()
        .unwrap()
        .password_hash;
    assert_ne!(rehashed, legacy);
    assert_eq!(login(&app, &decomposed).await, StatusCode::SEE_OTHER);
    assert_eq!(
        login(&app, "Mật khẩu Hòa Bình 2026").await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        login(&app, "Mat khau Hoa Binh 2026").await,
        StatusCode::UNAUTHORIZED
    );
}
