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
        ("dong_y", "co"),
    ]
}

#[tokio::test]
async fn a_citizen_registers_then_logs_in() {
    let app = TestApp::new(motcua_testkit::sqlite_store().await).await;
    assert!(app.get("/dang-ky").await.body.contains("Đăng ký tài khoản"));
    let reply = app.post_form("/dang-ky", &body(&good()), None).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.headers[header::LOCATION], "/dang-nhap?da_dang_ky=1");
    assert!(
        !reply.headers.contains_key(header::SET_COOKIE),
        "not logged in straight away: the answer must not differ for details already registered"
    );
    let notice = app.get("/dang-nhap?da_dang_ky=1").await;
    assert!(notice.body.contains("Đã nhận đăng ký"));
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
    // and logs in with the identity number
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
    let page = app
        .get_with_cookie("/tai-khoan", &login.cookie().unwrap())
        .await;
    assert!(page.body.contains("Nguyễn Thị Mai"));
    assert!(page.body.contains("0xx xxx xxx 345"));
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
    assert!(html.contains("Có 7 thông tin cần sửa"), "{html}");
    for message in [
        "Đánh dấu đồng ý để cơ quan được xử lý dữ liệu cá nhân của bạn khi giải quyết thủ tục",
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
async fn details_already_registered_get_the_same_answer_and_their_owner_is_told() {
    let app = TestApp::new(motcua_testkit::sqlite_store().await).await;
    let first = app.post_form("/dang-ky", &body(&good()), None).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let before = app.sent_mail().await.len();
    // the same identity number with another phone and e-mail, and an officer's e-mail: the answers are those of
    // a new registration, to the letter
    let officer = support::person(
        "Lê Văn Cán",
        "canbo@minhhoa.example.vn",
        motcua_domain::AccountKind::Officer,
        &[],
    );
    app.db.store.accounts.create(&officer).await.unwrap();
    for taken in [
        vec![("dien_thoai", "0911000111"), ("email", "khac@example.vn")],
        vec![
            ("so_dinh_danh", "001199099999"),
            ("dien_thoai", "0911000222"),
            ("email", "canbo@minhhoa.example.vn"),
        ],
    ] {
        let fields: Vec<(&str, &str)> = good()
            .into_iter()
            .map(|(k, v)| {
                taken
                    .iter()
                    .find(|(t, _)| *t == k)
                    .map_or((k, v), |(t, tv)| (*t, *tv))
            })
            .collect();
        let again = app.post_form("/dang-ky", &body(&fields), None).await;
        assert_eq!(again.status, first.status);
        assert_eq!(
            again.headers[header::LOCATION],
            first.headers[header::LOCATION]
        );
        assert_eq!(again.body, first.body);
        assert!(!again.headers.contains_key(header::SET_COOKIE));
    }
    let mails = app.sent_mail().await;
    let told: Vec<&str> = mails[before..].iter().map(|m| m.to.as_str()).collect();
    assert_eq!(told, ["mai@example.vn", "canbo@minhhoa.example.vn"]);
    assert!(mails[before].body.contains("Tài khoản mới không được tạo"));
    assert!(
        app.db
            .store
            .accounts
            .find_by_login(&LoginName::parse("0911000111").unwrap())
            .await
            .unwrap()
            .is_none(),
        "no second account"
    );
}

#[tokio::test]
async fn a_name_must_be_letters_of_a_sane_length() {
    let app = TestApp::new(motcua_testkit::sqlite_store().await).await;
    for name in [
        "Mai https://lua-dao.example",
        &"A".repeat(101),
        "Mai\nBcc: x@y.vn",
    ] {
        let fields: Vec<(&str, &str)> = good()
            .into_iter()
            .map(|(k, v)| if k == "ho_ten" { (k, name) } else { (k, v) })
            .collect();
        let reply = app.post_form("/dang-ky", &body(&fields), None).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{name:?}");
        assert!(reply.body.contains("href=\"#ho_ten\""));
    }
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

#[tokio::test]
async fn a_new_citizen_sent_to_log_in_to_apply_registers_and_lands_back_on_the_procedure() {
    let app = TestApp::new(motcua_testkit::sqlite_store().await).await;
    let apply = "/nop-ho-so/1.001193/mac-dinh/000.00.06.H56";
    // the login wall says why, and its registration link keeps where the citizen was going
    let wall = app
        .get(&format!("/dang-nhap?tiep={}", apply.replace('/', "%2F")))
        .await;
    assert!(
        wall.body
            .contains("Đăng nhập hoặc đăng ký để nộp hồ sơ trực tuyến"),
        "{}",
        wall.body
    );
    let register = wall
        .body
        .split("Chưa có tài khoản? <a href=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .replace("&#38;", "&");
    assert_eq!(
        register,
        "/dang-ky?tiep=%2Fnop-ho-so%2F1.001193%2Fmac-dinh%2F000.00.06.H56"
    );
    let form = app.get(&register).await;
    assert!(
        form.body
            .contains(&format!("name=\"tiep\" value=\"{apply}\"")),
        "{}",
        form.body
    );
    // a mistake keeps the destination too
    let mut wrong = good();
    wrong.retain(|(k, _)| *k != "ho_ten");
    wrong.push(("tiep", apply));
    let again = app.post_form("/dang-ky", &body(&wrong), None).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        again
            .body
            .contains(&format!("name=\"tiep\" value=\"{apply}\""))
    );

    let mut fields = good();
    fields.push(("tiep", apply));
    let reply = app.post_form("/dang-ky", &body(&fields), None).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let to_login = reply.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        to_login,
        "/dang-nhap?da_dang_ky=1&tiep=%2Fnop-ho-so%2F1.001193%2Fmac-dinh%2F000.00.06.H56"
    );
    let login_page = app.get(&to_login).await;
    assert!(login_page.body.contains("Đã nhận đăng ký"));
    assert!(
        login_page
            .body
            .contains(&format!("name=\"tiep\" value=\"{apply}\""))
    );
    let login = app
        .post_form(
            "/dang-nhap",
            &body(&[
                ("ten_dang_nhap", "001199012345"),
                ("mat_khau", "Mùa xuân 2026 ở Hòa Bình"),
                ("tiep", apply),
            ]),
            None,
        )
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    assert_eq!(login.headers[header::LOCATION], apply);
    // a destination off the site is never followed
    let mut away = good();
    away[1] = ("so_dinh_danh", "001199012346");
    away[3] = ("dien_thoai", "0987654322");
    away[4] = ("email", "khac@example.vn");
    away.push(("tiep", "//evil.example/x"));
    let reply = app.post_form("/dang-ky", &body(&away), None).await;
    assert_eq!(reply.headers[header::LOCATION], "/dang-nhap?da_dang_ky=1");
}
