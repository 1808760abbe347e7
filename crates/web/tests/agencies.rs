//! Administrators keep the agency tree from the page: add, edit, move, retire and merge, only within the
//! agencies they administer; a merger moves open dossiers to the successor and the public pages follow it.

mod support;

use axum::http::StatusCode;
use motcua_domain::{AccountKind, AgencyCode, DossierStatus};
use motcua_testkit::fixtures::{self, AGENCY, OTHER_AGENCY, PROCEDURE};
use support::{TestApp, encode_form};

async fn admin(app: &TestApp, grants: &[&str]) -> String {
    let admin = support::person(
        "Quản trị tỉnh",
        "quantri@example.vn",
        AccountKind::Officer,
        grants,
    );
    support::session_for(app, &admin, "b").await
}

#[tokio::test]
async fn an_administrator_adds_edits_moves_and_retires_agencies_under_their_own() {
    let db = motcua_testkit::sqlite_store().await;
    fixtures::seed_minimal(&db.store).await;
    let app = TestApp::new(db).await;
    let cookie = admin(&app, &[&format!("administrator@{AGENCY}+")]).await;

    let page = app.get_with_cookie("/quan-tri/co-quan", &cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Sở Tư pháp") && !page.body.contains("Sở Xây dựng"),
        "only their own"
    );

    // every mistake named at its field, what was typed kept
    let bad = app
        .post_form(
            "/quan-tri/co-quan",
            &encode_form(&[
                ("ma", "000.17.06"),
                ("ten", "Phòng Hộ tịch"),
                ("cap", "province"),
                ("cap_tren", AGENCY),
                ("hieu_luc_tu", "31/02/2025"),
            ]),
            Some(&cookie),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Có 2 thông tin cần sửa"), "{}", bad.body);
    assert!(bad.body.contains("id=\"ma-loi\"") && bad.body.contains("id=\"hieu_luc_tu-loi\""));
    assert!(
        bad.body.contains("value=\"Phòng Hộ tịch\"") && bad.body.contains("value=\"000.17.06\"")
    );
    // outside their tree: refused, nothing saved
    let outside = app
        .post_form(
            "/quan-tri/co-quan",
            &encode_form(&[
                ("ma", "000.17.07.H56"),
                ("ten", "Phòng X"),
                ("cap", "province"),
                ("cap_tren", OTHER_AGENCY),
            ]),
            Some(&cookie),
        )
        .await;
    assert_eq!(outside.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(outside.body.contains("trong phạm vi bạn quản trị"));

    for (code, name) in [
        ("000.17.06.H56", "Phòng Hộ tịch"),
        ("000.18.06.H56", "Phòng Chứng thực"),
    ] {
        let made = app
            .post_form(
                "/quan-tri/co-quan",
                &encode_form(&[
                    ("ma", code),
                    ("ten", name),
                    ("cap", "province"),
                    ("cap_tren", AGENCY),
                ]),
                Some(&cookie),
            )
            .await;
        assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    }
    let stored = |code: &str| {
        let store = app.db.store.clone();
        let code = AgencyCode::parse(code).unwrap();
        async move { store.agencies.get(&code).await.unwrap().unwrap() }
    };
    assert_eq!(
        stored("000.17.06.H56").await.parent,
        Some(AgencyCode::parse(AGENCY).unwrap())
    );

    // move one under the other, and not under itself
    let cycle = app
        .post_form(
            "/quan-tri/co-quan/000.17.06.H56",
            &encode_form(&[
                ("ten", "Phòng Hộ tịch"),
                ("cap", "province"),
                ("cap_tren", "000.17.06.H56"),
                ("hieu_luc_tu", "01/01/2020"),
            ]),
            Some(&cookie),
        )
        .await;
    assert_eq!(cycle.status, StatusCode::UNPROCESSABLE_ENTITY);
    let moved = app
        .post_form(
            "/quan-tri/co-quan/000.18.06.H56",
            &encode_form(&[
                ("ten", "Phòng Chứng thực"),
                ("cap", "province"),
                ("cap_tren", "000.17.06.H56"),
                ("dia_chi", "Số 1 Lê Lợi"),
            ]),
            Some(&cookie),
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    let after = stored("000.18.06.H56").await;
    assert_eq!(
        after.parent,
        Some(AgencyCode::parse("000.17.06.H56").unwrap())
    );
    assert_eq!(after.address.as_deref(), Some("Số 1 Lê Lợi"));
    let tree = app.get_with_cookie("/quan-tri/co-quan", &cookie).await;
    let (a, b) = (
        tree.body.find("Phòng Hộ tịch").unwrap(),
        tree.body.find("Phòng Chứng thực").unwrap(),
    );
    assert!(
        a < b && tree.body.contains("class=\"depth-2\""),
        "the child is listed under its parent"
    );

    // retired: an end date before its start is refused, a right one saved
    let early = app
        .post_form(
            "/quan-tri/co-quan/000.18.06.H56",
            &encode_form(&[
                ("ten", "Phòng Chứng thực"),
                ("cap", "province"),
                ("cap_tren", "000.17.06.H56"),
                ("hieu_luc_tu", "01/01/2026"),
                ("hieu_luc_den", "31/12/2025"),
            ]),
            Some(&cookie),
        )
        .await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(early.body.contains("value=\"31/12/2025\""));
    let retire = app
        .post_form(
            "/quan-tri/co-quan/000.18.06.H56",
            &encode_form(&[
                ("ten", "Phòng Chứng thực"),
                ("cap", "province"),
                ("cap_tren", "000.17.06.H56"),
                ("hieu_luc_tu", "01/01/2024"),
                ("hieu_luc_den", "31/12/2025"),
            ]),
            Some(&cookie),
        )
        .await;
    assert_eq!(retire.status, StatusCode::SEE_OTHER, "{}", retire.body);
    let tree = app.get_with_cookie("/quan-tri/co-quan", &cookie).await;
    assert!(
        tree.body.contains("Hết hiệu lực từ 01/01/2026"),
        "{}",
        tree.body
    );

    // another administrator's agency is not there for them
    let other = app
        .get_with_cookie(&format!("/quan-tri/co-quan/{OTHER_AGENCY}"), &cookie)
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn merging_moves_open_dossiers_once_and_the_portal_shows_the_successor() {
    let (app, _citizen, dossier) =
        support::with_submitted_dossier(motcua_testkit::sqlite_store().await).await;
    let cookie = admin(
        &app,
        &[
            &format!("administrator@{AGENCY}+"),
            &format!("administrator@{OTHER_AGENCY}+"),
        ],
    )
    .await;
    let before = app.get(&format!("/thu-tuc/{PROCEDURE}")).await;
    assert!(before.body.contains("Sở Tư pháp"));

    // ending it with a date alone would leave its open dossier with nobody
    let ended = app
        .post_form(
            &format!("/quan-tri/co-quan/{AGENCY}"),
            &encode_form(&[
                ("ten", "Sở Tư pháp"),
                ("cap", "province"),
                ("hieu_luc_tu", "01/01/2020"),
                ("hieu_luc_den", "30/06/2025"),
            ]),
            Some(&cookie),
        )
        .await;
    assert_eq!(
        ended.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        ended.body
    );
    assert!(ended.body.contains("hãy sáp nhập vào cơ quan"));

    let path = format!("/quan-tri/co-quan/{AGENCY}/sap-nhap");
    // no successor chosen, a date that does not exist: each said, the date kept
    let wrong = app
        .post_form(
            &path,
            &encode_form(&[("ke_thua", ""), ("ngay", "31/06/2025"), ("xac_nhan", "1")]),
            Some(&cookie),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong.body.contains("Chọn cơ quan kế thừa") && wrong.body.contains("Nhập ngày có thật")
    );
    assert!(wrong.body.contains("value=\"31/06/2025\""));
    // without the confirmation nothing happens, and the choice is kept
    let unconfirmed = app
        .post_form(
            &path,
            &encode_form(&[("ke_thua", OTHER_AGENCY), ("ngay", "01/07/2025")]),
            Some(&cookie),
        )
        .await;
    assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unconfirmed.body.contains("không hoàn tác được"));
    assert!(
        unconfirmed
            .body
            .contains(&format!("value=\"{OTHER_AGENCY}\" selected"))
    );
    assert_eq!(
        app.db
            .store
            .dossiers
            .get(dossier.id)
            .await
            .unwrap()
            .unwrap()
            .agency
            .as_str(),
        AGENCY
    );

    let merged = app
        .post_form(
            &path,
            &encode_form(&[
                ("ke_thua", OTHER_AGENCY),
                ("ngay", "01/07/2025"),
                ("xac_nhan", "1"),
            ]),
            Some(&cookie),
        )
        .await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.body);
    assert!(
        merged
            .body
            .contains("Đã sáp nhập vào Sở Xây dựng từ ngày 01/07/2025"),
        "{}",
        merged.body
    );
    assert!(merged.body.contains(&dossier.code.to_string()));
    let now = app
        .db
        .store
        .dossiers
        .get(dossier.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.agency.as_str(), OTHER_AGENCY);
    assert_eq!(now.code, dossier.code, "the dossier keeps its code");
    assert_eq!(now.status, DossierStatus::Submitted);
    let history = app.db.store.dossiers.history(dossier.id).await.unwrap();
    assert!(
        history
            .last()
            .unwrap()
            .reason
            .as_deref()
            .unwrap()
            .contains("do sáp nhập")
    );

    // the public page names the successor only; applying goes there
    let after = app.get(&format!("/thu-tuc/{PROCEDURE}")).await;
    assert!(
        after.body.contains("Sở Xây dựng") && !after.body.contains("Sở Tư pháp"),
        "{}",
        after.body
    );

    // a second merger of the same agency elsewhere is refused with the reason
    let again = app
        .post_form(
            &path,
            &encode_form(&[
                ("ke_thua", OTHER_AGENCY),
                ("ngay", "01/07/2025"),
                ("xac_nhan", "1"),
            ]),
            Some(&cookie),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "the same merger is harmless");
    assert_eq!(
        app.db
            .store
            .dossiers
            .history(dossier.id)
            .await
            .unwrap()
            .len(),
        history.len(),
        "moved once"
    );
}
