//! Editors keep procedure records: a change is a new version (dossiers keep theirs), unpublishing takes the
//! procedure off the portal, levels are set from a date with their history, versions are compared side by side.

mod support;

use axum::http::StatusCode;
use motcua_domain::{AccountKind, ProcedureCode};
use motcua_testkit::fixtures::{AGENCY, PROCEDURE};
use support::encode_form;

/// The edit form as the page shows it, with these fields changed.
fn form_with(page: &str, changes: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    // every input, select and textarea of the record form with its current value
    let form = page
        .split("<form action=\"/quan-tri/thu-tuc/")
        .nth(1)
        .unwrap();
    let form = form.split("</form>").next().unwrap();
    let attr = |tag: &str, name: &str| -> Option<String> {
        tag.split(&format!(" {name}=\""))
            .nth(1)
            .map(|v| v.split('"').next().unwrap().to_string())
    };
    for (i, _) in form.match_indices('<') {
        let rest = &form[i + 1..];
        let tag = &rest[..rest.find('>').unwrap()];
        let Some(name) = attr(tag, "name") else {
            continue;
        };
        let after = &rest[tag.len() + 1..];
        let value = if tag.starts_with("textarea") {
            after.split("</textarea>").next().unwrap().to_string()
        } else if tag.starts_with("select") {
            let options = after.split("</select>").next().unwrap();
            options
                .split("<option value=\"")
                .skip(1)
                .find(|o| o.contains("\" selected>"))
                .or_else(|| options.split("<option value=\"").nth(1))
                .map(|o| o.split('"').next().unwrap().to_string())
                .unwrap_or_default()
        } else if tag.starts_with("input") {
            if attr(tag, "type").as_deref() == Some("checkbox") && !tag.contains(" checked") {
                continue;
            }
            attr(tag, "value").unwrap_or_default()
        } else {
            continue;
        };
        pairs.push((name, value.replace("&#38;", "&")));
    }
    for (name, value) in changes {
        pairs.retain(|(n, _)| n != name);
        if !value.is_empty() || !name.starts_with("cong_bo") {
            pairs.push((name.to_string(), value.to_string()));
        }
    }
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    encode_form(&refs)
}

#[tokio::test]
async fn an_editor_changes_a_fee_as_a_new_version_and_earlier_dossiers_keep_theirs() {
    let (app, _citizen, dossier) =
        support::with_submitted_dossier(motcua_testkit::sqlite_store().await).await;
    let editor = support::person(
        "Biên tập viên",
        "bt@example.vn",
        AccountKind::Officer,
        &[&format!("editor@{AGENCY}")],
    );
    let cookie = support::session_for(&app, &editor, "a").await;
    let path = format!("/quan-tri/thu-tuc/{PROCEDURE}");
    let list = app
        .get_with_cookie("/quan-tri/thu-tuc?q=khai+sinh", &cookie)
        .await;
    assert!(
        list.body.contains(&format!("href=\"{path}\"")),
        "{}",
        list.body
    );
    let page = app.get_with_cookie(&path, &cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("value=\"100000\""),
        "the fee as it stands"
    );

    // a wrong amount and a cut-off hour out of the day: refused, each said, typed values kept
    let bad = app
        .post_form(
            &path,
            &form_with(
                &page.body,
                &[
                    ("th0_phi0_so_tien", "mười nghìn"),
                    ("th0_han_online_gio", "20"),
                ],
            ),
            Some(&cookie),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Có 2 thông tin cần sửa"), "{}", bad.body);
    assert!(bad.body.contains("value=\"mười nghìn\"") && bad.body.contains("từ 8 đến 17"));
    assert_eq!(
        app.db
            .store
            .catalogue
            .get_procedure(&ProcedureCode::parse(PROCEDURE).unwrap())
            .await
            .unwrap()
            .unwrap()
            .version,
        1
    );

    // a fee per copy must name a number field of the case's form: said, what was typed kept, nothing saved
    let per_copy = app
        .post_form(
            &path,
            &form_with(&page.body, &[("th0_phi0_theo_ban", "so_ban_sao")]),
            Some(&cookie),
        )
        .await;
    assert_eq!(per_copy.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        per_copy
            .body
            .contains("tính theo số bản của trường “so_ban_sao”"),
        "{}",
        per_copy.body
    );
    assert!(per_copy.body.contains("value=\"so_ban_sao\""));

    // the rest of the record's fields: each mistake named, each typed value kept
    let more = app
        .post_form(
            &path,
            &form_with(
                &page.body,
                &[
                    ("so_bo", "0"),
                    ("can_cu", "Luật Hộ tịch | Luật số 60/2014/QH13 | 32/13/2014"),
                    ("th0_tp0_chinh", "nhiều"),
                    ("th0_han_online_so", "năm"),
                ],
            ),
            Some(&cookie),
        )
        .await;
    assert_eq!(more.status, StatusCode::UNPROCESSABLE_ENTITY);
    for message in [
        "Số bộ hồ sơ là một số từ 1 đến 20",
        "Căn cứ pháp lý dòng 1",
        "số bản chính của “Tờ khai” là một số từ 0 đến 20",
        "thời hạn là một số nguyên",
    ] {
        assert!(more.body.contains(message), "{message}: {}", more.body);
    }
    assert!(more.body.contains("32/13/2014</textarea>") && more.body.contains("value=\"nhiều\""));

    // unchanged: no new version
    let same = app
        .post_form(&path, &form_with(&page.body, &[]), Some(&cookie))
        .await;
    assert_eq!(same.status, StatusCode::OK, "{}", same.body);
    assert!(same.body.contains("Không có thay đổi nào"), "{}", same.body);

    let saved = app
        .post_form(
            &path,
            &form_with(
                &page.body,
                &[
                    ("th0_phi0_so_tien", "120.000"),
                    ("th0_han_online_gio", "15"),
                    ("th0_tp0_sao", "2"),
                    ("th0_tp1_ten", "Giấy chứng sinh"),
                    ("th0_tp1_chinh", "1"),
                    ("th0_tp1_bat_buoc", "1"),
                ],
            ),
            Some(&cookie),
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let code = ProcedureCode::parse(PROCEDURE).unwrap();
    let stored = app
        .db
        .store
        .catalogue
        .get_procedure(&code)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.version, 2);
    let case = &stored.procedure.cases[0];
    assert_eq!(case.fees[0].amount.amount(), 120_000);
    let components: Vec<(&str, u8, u8, bool)> = case
        .components
        .iter()
        .map(|c| (c.name.as_str(), c.originals, c.copies, c.required))
        .collect();
    assert_eq!(
        components,
        [("Tờ khai", 1, 2, true), ("Giấy chứng sinh", 1, 0, true)]
    );
    assert_eq!(
        case.time_limit_for(motcua_domain::Channel::Online)
            .unwrap()
            .cutoff_hour,
        Some(15)
    );
    // the dossier sent before stays on version 1 and its fee
    assert_eq!(dossier.procedure_version, 1);
    let v1 = app
        .db
        .store
        .catalogue
        .get_procedure_version(&code, 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v1.cases[0].fees[0].amount.amount(), 100_000);
    // the portal shows the new fee
    let public = app.get(&format!("/thu-tuc/{PROCEDURE}")).await;
    assert!(public.body.contains("120.000 đ"), "{}", public.body);

    // side by side
    let diff = app
        .get_with_cookie(&format!("{path}/phien-ban?tu=1&den=2"), &cookie)
        .await;
    assert!(
        diff.body
            .contains("Trường hợp › 1 › Phí, lệ phí › 1 › Số tiền"),
        "{}",
        diff.body
    );
    assert!(diff.body.contains("<del>100000</del>") && diff.body.contains("<ins>120000</ins>"));

    // a form opened on version 1 cannot undo version 2
    let stale = app
        .post_form(
            &path,
            &form_with(&page.body, &[("th0_phi0_so_tien", "90.000")]),
            Some(&cookie),
        )
        .await;
    assert_eq!(stale.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        stale.body.contains("vừa được lưu thành phiên bản 2"),
        "{}",
        stale.body
    );
    assert!(stale.body.contains("value=\"90.000\""));

    // a level from a date on, with history
    let level = app
        .post_form(
            &format!("{path}/muc-do"),
            &encode_form(&[
                ("truong_hop", "mac-dinh"),
                ("co_quan", AGENCY),
                ("muc_do", "4"),
                ("tu_ngay", "01/01/2099"),
            ]),
            Some(&cookie),
        )
        .await;
    assert_eq!(level.status, StatusCode::SEE_OTHER, "{}", level.body);
    let page = app.get_with_cookie(&path, &cookie).await;
    assert!(
        page.body.contains("01/01/2099") && page.body.contains("Đang áp dụng"),
        "{}",
        page.body
    );
    let elsewhere = support::person(
        "Biên tập xã",
        "btx@example.vn",
        AccountKind::Officer,
        &["editor@000.00.07.H56"],
    );
    let elsewhere = support::session_for(&app, &elsewhere, "c").await;
    let refused = app
        .post_form(
            &format!("{path}/muc-do"),
            &encode_form(&[
                ("truong_hop", "mac-dinh"),
                ("co_quan", AGENCY),
                ("muc_do", "2"),
                ("tu_ngay", "01/01/2099"),
            ]),
            Some(&elsewhere),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        refused.headers.get("location")
    );
    assert!(
        refused.body.contains("nằm ngoài phạm vi"),
        "{}",
        refused.body
    );
    let bad_level = app
        .post_form(
            &format!("{path}/muc-do"),
            &encode_form(&[
                ("truong_hop", "khong-co"),
                ("co_quan", AGENCY),
                ("muc_do", "5"),
                ("tu_ngay", "32/01/2027"),
            ]),
            Some(&cookie),
        )
        .await;
    assert_eq!(bad_level.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad_level.body.contains("Có 3 thông tin cần sửa")
            && bad_level.body.contains("value=\"32/01/2027\"")
    );

    // saved ahead: the portal keeps the fee in force until the day comes; a day already past is refused
    let page = app.get_with_cookie(&path, &cookie).await;
    let past = app
        .post_form(
            &path,
            &form_with(
                &page.body,
                &[
                    ("th0_phi0_so_tien", "200.000"),
                    ("ap_dung_tu", "01/01/2020"),
                ],
            ),
            Some(&cookie),
        )
        .await;
    assert_eq!(past.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        past.body.contains("không được trước hôm nay")
            && past.body.contains("value=\"01/01/2020\"")
    );
    let ahead = app
        .post_form(
            &path,
            &form_with(
                &page.body,
                &[
                    ("th0_phi0_so_tien", "200.000"),
                    ("ap_dung_tu", "01/01/2099"),
                ],
            ),
            Some(&cookie),
        )
        .await;
    assert_eq!(ahead.status, StatusCode::SEE_OTHER, "{}", ahead.body);
    let page = app
        .get_with_cookie(ahead.headers["location"].to_str().unwrap(), &cookie)
        .await;
    assert!(
        page.body
            .contains("Đã lưu phiên bản 3, áp dụng từ ngày 01/01/2099"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Sắp áp dụng"));
    let public = app.get(&format!("/thu-tuc/{PROCEDURE}")).await;
    assert!(public.body.contains("120.000 đ") && !public.body.contains("200.000 đ"));
    assert_eq!(
        app.db
            .store
            .catalogue
            .get_procedure(&code)
            .await
            .unwrap()
            .unwrap()
            .version,
        2
    );
    // while version 3 waits for its day, a change for today would be undone on that day: refused
    let today_change = app
        .post_form(
            &path,
            &form_with(&page.body, &[("th0_phi0_so_tien", "130.000")]),
            Some(&cookie),
        )
        .await;
    assert_eq!(today_change.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        today_change
            .body
            .contains("Phiên bản 3 đã được lưu để áp dụng từ 01/01/2099"),
        "{}",
        today_change.body
    );
    app.db
        .store
        .catalogue
        .promote_due(time::macros::date!(2099 - 01 - 01))
        .await
        .unwrap();
    assert_eq!(
        app.db
            .store
            .catalogue
            .get_procedure(&code)
            .await
            .unwrap()
            .unwrap()
            .version,
        3
    );

    // unpublished: off the portal, no new dossiers, still there for the editor
    let page = app.get_with_cookie(&path, &cookie).await;
    let hidden = app
        .post_form(
            &path,
            &form_with(&page.body, &[("cong_bo", "")]),
            Some(&cookie),
        )
        .await;
    assert_eq!(hidden.status, StatusCode::SEE_OTHER, "{}", hidden.body);
    assert_eq!(
        app.get(&format!("/thu-tuc/{PROCEDURE}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(
        !app.get("/thu-tuc?q=khai+sinh")
            .await
            .body
            .contains(&format!("/thu-tuc/{PROCEDURE}\""))
    );
    assert!(
        app.get_with_cookie("/quan-tri/thu-tuc", &cookie)
            .await
            .body
            .contains("Ngừng công bố")
    );
}

#[tokio::test]
async fn an_editor_is_offered_only_the_pages_an_editor_may_open() {
    let db = motcua_testkit::sqlite_store().await;
    motcua_testkit::fixtures::seed_minimal(&db.store).await;
    let app = support::TestApp::new(db).await;
    let editor = support::person(
        "Biên tập viên",
        "bt@example.vn",
        AccountKind::Officer,
        &[&format!("editor@{AGENCY}")],
    );
    let cookie = support::session_for(&app, &editor, "a").await;
    let page = app.get_with_cookie("/quan-tri/thu-tuc", &cookie).await;
    let nav = page
        .body
        .split("aria-label=\"Quản trị\"")
        .nth(1)
        .unwrap()
        .split("</nav>")
        .next()
        .unwrap();
    let hrefs: Vec<&str> = nav
        .split("href=\"")
        .skip(1)
        .map(|h| h.split('"').next().unwrap())
        .collect();
    assert_eq!(
        hrefs,
        [
            "/quan-tri/thu-tuc",
            "/quan-tri/tim-kiem",
            "/quan-tri/tu-dong-nghia"
        ]
    );
    // no desk role: no "Việc của tôi" in the menu (it would answer 403)
    assert!(!page.body.contains("href=\"/can-bo\""));
    for href in hrefs {
        assert_eq!(
            app.get_with_cookie(href, &cookie).await.status,
            StatusCode::OK,
            "{href}"
        );
    }
}
