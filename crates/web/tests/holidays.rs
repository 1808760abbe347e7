//! Administrators keep holidays and make-up days; the reception desk's due times follow them at once.

mod support;

use axum::http::StatusCode;
use motcua_calendar::DayKind;
use motcua_domain::AccountKind;
use support::TestApp;
use time::macros::date;

async fn admin(app: &TestApp, grants: &[&str], seed: &str) -> String {
    let email = format!("{seed}@example.vn");
    let account = support::person("Quản trị", &email, AccountKind::Officer, grants);
    support::session_for(app, &account, seed).await
}

#[tokio::test]
async fn an_administrator_adds_confirms_and_removes_days_with_clear_refusals() {
    let db = motcua_testkit::sqlite_store().await;
    motcua_testkit::fixtures::seed_minimal(&db.store).await;
    let app = TestApp::new(db).await;
    let cookie = admin(&app, &["administrator@000.00.06.H56"], "a").await;
    let page = app
        .get_with_cookie("/quan-tri/ngay-nghi?nam=2027", &cookie)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);

    // a make-up day on a Monday is refused, with the date as people write it, and the form keeps the input
    let bad = app
        .post_form(
            "/quan-tri/ngay-nghi",
            "hanh_dong=luu&ngay=04%2F01%2F2027&loai=lam_bu&ten=L%C3%A0m%20b%C3%B9",
            Some(&cookie),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body
            .contains("04/01/2027: ngày làm bù phải là thứ Bảy hoặc Chủ nhật"),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("value=\"04/01/2027\""));
    let no_date = app
        .post_form(
            "/quan-tri/ngay-nghi",
            "hanh_dong=luu&ngay=31%2F02%2F2027&ten=x",
            Some(&cookie),
        )
        .await;
    assert!(no_date.body.contains("Nhập ngày có thật"));

    // proposals for 2027 from the lunar calendar, marked until confirmed
    let reply = app
        .post_form(
            "/quan-tri/ngay-nghi",
            "hanh_dong=de_xuat&nam=2027",
            Some(&cookie),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let days = app.db.store.calendar.days().await.unwrap();
    let tet_eve = days
        .iter()
        .find(|d| d.date == date!(2027 - 02 - 05))
        .expect("Tết eve 2027");
    assert!(tet_eve.proposed);
    let page = app
        .get_with_cookie("/quan-tri/ngay-nghi?nam=2027", &cookie)
        .await;
    assert!(page.body.contains("Đề xuất, chưa xác nhận"));
    app.post_form(
        "/quan-tri/ngay-nghi",
        "hanh_dong=xac_nhan&ngay=05%2F02%2F2027",
        Some(&cookie),
    )
    .await;
    let days = app.db.store.calendar.days().await.unwrap();
    assert!(
        !days
            .iter()
            .find(|d| d.date == date!(2027 - 02 - 05))
            .unwrap()
            .proposed
    );

    // a make-up Saturday and a removal
    let ok = app
        .post_form(
            "/quan-tri/ngay-nghi",
            "hanh_dong=luu&ngay=13%2F02%2F2027&loai=lam_bu&ten=L%C3%A0m%20b%C3%B9%20T%E1%BA%BFt",
            Some(&cookie),
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let days = app.db.store.calendar.days().await.unwrap();
    assert_eq!(
        days.iter()
            .find(|d| d.date == date!(2027 - 02 - 13))
            .unwrap()
            .kind,
        DayKind::MakeUp
    );
    app.post_form(
        "/quan-tri/ngay-nghi",
        "hanh_dong=xoa&ngay=13%2F02%2F2027",
        Some(&cookie),
    )
    .await;
    assert!(
        !app.db
            .store
            .calendar
            .days()
            .await
            .unwrap()
            .iter()
            .any(|d| d.date == date!(2027 - 02 - 13))
    );

    // not for officers without the administrator role
    let officer = admin(&app, &["reception@000.00.06.H56"], "b").await;
    let refused = app
        .post_form(
            "/quan-tri/ngay-nghi",
            "hanh_dong=de_xuat&nam=2028",
            Some(&officer),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        !app.db
            .store
            .calendar
            .days()
            .await
            .unwrap()
            .iter()
            .any(|d| d.date.year() == 2028)
    );
}
