//! Citizen registration: every bad field gets its own Vietnamese message and loses nothing typed.

mod support;

use axum::http::{StatusCode, header};
use motcua_domain::LoginName;
use support::TestApp;

fn body(fields: &[(&str, &str)]) -> String {
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
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn good() -> Vec<(&'static str, &'static str)> {
    vec![
        ("ho_ten", "Nguyễn Thị Mai"),
        ("so_dinh_danh", "001 199 012 345"),
        ("ngay_sinh", "17/05/1990"),
        ("dien_thoai", "0987 654 321"),
        ("email", "Mai@Example.vn"),
        ("dia_chi", "Thôn Đông, xã An Bình"),
        ("mat_khau", "Mùa xuân 2026 ở Hòa Bình"),
        ("nhap_lai_mat_khau", "Mùa xuân 2026 ở Hòa Bình"),
    ]
}

#[tokio::test]
async fn a_citizen_registers_and_is_logged_in() {
    let app = TestApp::new(motcua_testkit::sqlite_store().await).await;
    assert!(app.get("/dang-ky").await.body.contains("Đăng ký tài khoản"));
    let reply = app.post_form("/dang-ky", &body(&good()), None).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.headers[header::LOCATION], "/tai-khoan?moi=1");
    let page = app
        .get_with_cookie("/tai-khoan", &reply.cookie().unwrap())
        .await;
    assert!(page.body.contains("Nguyễn Thị Mai"));
    assert!(page.body.contains("0xx xxx xxx 345"));
    let stored = app
        .db
        .store
        .accounts
        .find_by_login(&LoginName::parse("mai@example.vn").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.phone.unwrap().as_str(), "0987654321");
    assert!(stored.password_hash.starts_with("$argon2id$"));
    // and can log in with the identity number
    let login = app
        .post_form(
            "/dang-nhap",
            &body(&[
                ("ten_dang_nhap", "001199012345"),
                ("mat_khau", "Mùa xuân 2026 ở Hòa Bình"),
            ]),
            None,
        )
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn every_bad_field_is_named_and_everything_typed_is_kept_but_the_password() {
    let app = TestApp::new(motcua_testkit::sqlite_store().await).await;
    let bad = body(&[
        ("ho_ten", "  "),
        ("so_dinh_danh", "00119901234"),
        ("ngay_sinh", "31/02/1990"),
        ("dien_thoai", "0212345678"),
        ("email", "mai@"),
        ("dia_chi", "Thôn Đông"),
        ("mat_khau", "ngan1"),
        ("nhap_lai_mat_khau", "ngan1"),
    ]);
    let reply = app.post_form("/dang-ky", &bad, None).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = reply.body;
    assert!(html.contains("Có 6 thông tin cần sửa"), "{html}");
    for message in [
        "Họ và tên không được để trống",
        "Số định danh cá nhân phải có đúng 12 chữ số (bạn nhập 11 chữ số)",
        "Ngày sinh phải có dạng ngày/tháng/năm",
        "Số điện thoại di động phải có 10 chữ số",
        "Địa chỉ thư điện tử không hợp lệ",
        "Mật khẩu quá ngắn",
    ] {
        assert!(html.contains(message), "missing “{message}”");
    }
    assert!(
        html.contains("href=\"#so_dinh_danh\""),
        "the summary links to the field"
    );
    assert!(
        html.contains("value=\"00119901234\"")
            && html.contains("value=\"Thôn Đông\"")
            && html.contains("value=\"mai@\"")
    );
    assert!(!html.contains("ngan1"), "the password is never sent back");
    let mismatch: Vec<_> = good()
        .into_iter()
        .map(|(k, v)| {
            if k == "nhap_lai_mat_khau" {
                (k, "khác 2026 nhé")
            } else {
                (k, v)
            }
        })
        .collect();
    let reply = app.post_form("/dang-ky", &body(&mismatch), None).await;
    assert!(
        reply
            .body
            .contains("Hai lần nhập mật khẩu không giống nhau")
    );
}

#[tokio::test]
async fn identity_number_phone_or_email_already_used_are_each_said() {
    let app = TestApp::new(motcua_testkit::sqlite_store().await).await;
    assert_eq!(
        app.post_form("/dang-ky", &body(&good()), None).await.status,
        StatusCode::SEE_OTHER
    );
    let again = app.post_form("/dang-ky", &body(&good()), None).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        again
            .body
            .contains("Số định danh cá nhân này đã có tài khoản")
    );
    assert!(again.body.contains("Số điện thoại này đã được dùng"));
    assert!(again.body.contains("Địa chỉ thư điện tử này đã được dùng"));
    assert!(!again.headers.contains_key(header::SET_COOKIE));
}

#[tokio::test]
async fn a_cross_site_registration_is_refused() {
    let app = TestApp::new(motcua_testkit::sqlite_store().await).await;
    let reply = app
        .send(
            "POST",
            "/dang-ky",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("sec-fetch-site", "cross-site"),
            ],
            &body(&good()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(
        app.db
            .store
            .accounts
            .find_by_login(&LoginName::parse("mai@example.vn").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}
