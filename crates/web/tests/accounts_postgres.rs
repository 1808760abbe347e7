//! The account journey end to end on PostgreSQL (the other account tests run on SQLite; the store contract
//! suite covers both): register, verify the e-mail, log in, get locked out, reset the password, log out.

mod support;

use axum::http::StatusCode;
use support::TestApp;

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

#[tokio::test]
async fn the_whole_account_journey_works_on_postgresql() {
    let Some(app) = TestApp::postgres().await else {
        return;
    };
    let password = "Mùa xuân 2026 ở Hòa Bình";
    let form = [
        ("ho_ten", "Trần Thị Mai"),
        ("so_dinh_danh", "001199012345"),
        ("ngay_sinh", "17/05/1990"),
        ("dien_thoai", "0987654321"),
        ("email", "mai@example.vn"),
        ("mat_khau", password),
        ("nhap_lai_mat_khau", password),
        ("dong_y", "co"),
    ]
    .iter()
    .map(|(k, v)| format!("{k}={}", enc(v)))
    .collect::<Vec<_>>()
    .join("&");
    let registered = app.post_form("/dang-ky", &form, None).await;
    assert_eq!(
        registered.status,
        StatusCode::SEE_OTHER,
        "{}",
        registered.body
    );
    let verify = app.sent_mail().await[0].body.clone();
    // registering the same details again answers the same, and tells the owner
    let again = app.post_form("/dang-ky", &form, None).await;
    assert_eq!(
        again.headers[axum::http::header::LOCATION],
        registered.headers[axum::http::header::LOCATION]
    );
    assert!(
        app.sent_mail()
            .await
            .iter()
            .any(|m| m.to == "mai@example.vn" && m.body.contains("Tài khoản mới không được tạo"))
    );
    let link = verify[verify.find("/xac-thuc-email").unwrap()..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(app.get(&link).await.status, StatusCode::OK);
    assert_eq!(app.get(&link).await.status, StatusCode::GONE);

    let login = |p: &str| format!("ten_dang_nhap=001199012345&mat_khau={}", enc(p));
    let cookie = app
        .post_form("/dang-nhap", &login(password), None)
        .await
        .cookie()
        .unwrap();
    assert!(
        app.get_with_cookie("/tai-khoan", &cookie)
            .await
            .body
            .contains("0xx xxx xxx 345")
    );
    for _ in 0..5 {
        assert_eq!(
            app.post_form("/dang-nhap", &login("sai mật khẩu 1"), None)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        app.post_form("/dang-nhap", &login(password), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED,
        "locked"
    );

    app.post_form("/quen-mat-khau", "ten_dang_nhap=mai%40example.vn", None)
        .await;
    let reset = app.sent_mail().await.last().unwrap().body.clone();
    let token = reset[reset.find("ma=").unwrap() + 3..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let new = "Mật khẩu mới hẳn 2027";
    let done = app
        .post_form(
            "/dat-lai-mat-khau",
            &format!(
                "ma={token}&mat_khau={}&nhap_lai_mat_khau={}",
                enc(new),
                enc(new)
            ),
            None,
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get_with_cookie("/tai-khoan", &cookie).await.status,
        StatusCode::SEE_OTHER,
        "old sessions ended"
    );
    let fresh = app.post_form("/dang-nhap", &login(new), None).await;
    assert_eq!(
        fresh.status,
        StatusCode::SEE_OTHER,
        "the reset also lifts the lock"
    );
    let out = app
        .post_form("/dang-xuat", "", fresh.cookie().as_deref())
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
}
