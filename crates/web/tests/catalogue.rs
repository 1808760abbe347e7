//! Levels 1 and 2 as a citizen meets them: finding a procedure (search, filters, pages), reading everything
//! about it, downloading its form templates.

mod support;

use axum::http::{StatusCode, header};
use motcua_domain::{
    AgencyCode, CaseKey, NonEmptyText, OnlineServiceLevel, Procedure, ProcedureCode,
    ServiceLevelAssignment, procedure::TemplateRef,
};
use motcua_testkit::{TestStore, fixtures};
use support::TestApp;
use time::{OffsetDateTime, macros::date};
use unicode_normalization::UnicodeNormalization;

async fn level(t: &TestStore, code: &str, agency: &str, level: OnlineServiceLevel) {
    t.store
        .catalogue
        .set_service_level(&ServiceLevelAssignment {
            procedure: ProcedureCode::parse(code).unwrap(),
            case: CaseKey::parse("mac-dinh").unwrap(),
            agency: AgencyCode::parse(agency).unwrap(),
            level,
            effective_from: date!(2024 - 01 - 01),
        })
        .await
        .unwrap();
}

async fn save(t: &TestStore, p: &Procedure) {
    t.store
        .catalogue
        .save_procedure(p, OffsetDateTime::now_utc())
        .await
        .unwrap();
}

/// Birth registration (level 4) with a template, marriage (level 3), a construction permit at another agency
/// and field (level 2) with two fee lines, conditions and a legal basis.
async fn catalogue() -> TestApp {
    let t = motcua_testkit::sqlite_store().await;
    fixtures::seed_minimal(&t.store).await;
    t.store
        .fields
        .upsert(&[fixtures::field("XAYDUNG", "Xây dựng")])
        .await
        .unwrap();
    let mut birth = fixtures::procedure("1.001193", "Đăng ký khai sinh", fixtures::AGENCY);
    birth.cases[0].components[0].name = NonEmptyText::parse("Tờ khai đăng ký khai sinh").unwrap();
    birth.cases[0].components[0].template = Some(TemplateRef {
        file_name: NonEmptyText::parse("Tờ khai đăng ký khai sinh.rtf").unwrap(),
        object_key: "templates/1.001193/mac-dinh/1.rtf".into(),
    });
    save(&t, &birth).await;
    save(
        &t,
        &fixtures::procedure("1.000894", "Đăng ký kết hôn", fixtures::AGENCY),
    )
    .await;
    let mut permit = fixtures::procedure(
        "1.009974",
        "Cấp giấy phép xây dựng nhà ở riêng lẻ",
        fixtures::OTHER_AGENCY,
    );
    permit.fields = vec![motcua_domain::FieldCode::parse("XAYDUNG").unwrap()];
    permit.applicants = vec![motcua_domain::ApplicantKind::Organisation];
    permit.conditions = vec!["Phù hợp với quy hoạch chi tiết xây dựng".into()];
    permit.legal_bases = vec![motcua_domain::LegalBasis {
        number: NonEmptyText::parse("50/2014/QH13").unwrap(),
        title: NonEmptyText::parse("Luật Xây dựng").unwrap(),
        issued_on: Some(date!(2014 - 06 - 18)),
        issuer: Some("Quốc hội".into()),
    }];
    permit.cases[0].fees.push(motcua_domain::FeeLine {
        kind: motcua_domain::FeeKind::Fee,
        amount: motcua_domain::Vnd::new(1_234_000).unwrap(),
        description: NonEmptyText::parse("Phí thẩm định").unwrap(),
        online_amount: None,
        due: Default::default(),
        exemption_note: Some("Miễn cho hộ nghèo".into()),
        per_copy_of: None,
    });
    save(&t, &permit).await;
    level(&t, "1.001193", fixtures::AGENCY, OnlineServiceLevel::Level4).await;
    level(&t, "1.000894", fixtures::AGENCY, OnlineServiceLevel::Level3).await;
    level(
        &t,
        "1.009974",
        fixtures::OTHER_AGENCY,
        OnlineServiceLevel::Level2,
    )
    .await;
    let app = TestApp::new(t).await;
    app.put_file("templates/1.001193/mac-dinh/1.rtf", b"{\\rtf1 to khai}")
        .await;
    app
}

/// Procedure codes in the order the result list shows them.
fn listed(body: &str) -> Vec<String> {
    body.split("<h2 class=\"result-title\"><a href=\"/thu-tuc/")
        .skip(1)
        .map(|rest| rest[..8].to_string())
        .collect()
}

#[tokio::test]
async fn with_or_without_diacritics_in_any_case_or_normal_form_search_finds_the_same_first() {
    let app = catalogue().await;
    let nfd: String = "Đăng ký khai sinh".nfd().collect();
    for q in [
        "dang ky khai sinh",
        "Đăng ký khai sinh",
        "ĐĂNG KÝ KHAI SINH",
        nfd.as_str(),
        "khai sin",
    ] {
        let reply = app.get(&format!("/thu-tuc?q={}", urlencode(q))).await;
        assert_eq!(reply.status, StatusCode::OK, "{q}");
        let codes = listed(&reply.body);
        assert_eq!(
            codes.first().map(String::as_str),
            Some("1.001193"),
            "{q}: {codes:?}"
        );
    }
}

#[tokio::test]
async fn matches_are_highlighted_and_counted() {
    let app = catalogue().await;
    let reply = app.get("/thu-tuc?q=khai+sinh").await;
    assert!(
        reply
            .body
            .contains("Đăng ký <mark>khai</mark> <mark>sinh</mark>"),
        "{}",
        reply.body
    );
    assert!(reply.body.contains("Tìm thấy 1 thủ tục cho “khai sinh”"));
}

#[tokio::test]
async fn a_small_typo_still_finds_the_procedure() {
    let app = catalogue().await;
    let reply = app.get("/thu-tuc?q=giay+phep+xay+dugn").await;
    assert_eq!(listed(&reply.body), ["1.009974"]);
}

#[tokio::test]
async fn a_procedure_code_goes_straight_to_its_page() {
    let app = catalogue().await;
    let reply = app.get("/thu-tuc?q=+1.001193+").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.headers[header::LOCATION], "/thu-tuc/1.001193");
}

#[tokio::test]
async fn nothing_found_says_what_to_try() {
    let app = catalogue().await;
    let reply = app.get("/thu-tuc?q=zzzz+qqqq").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.contains("Không tìm thấy thủ tục phù hợp"));
    assert!(reply.body.contains("không dấu đều được"));
}

#[tokio::test]
async fn hostile_queries_are_answered_not_failed() {
    let app = catalogue().await;
    let long = "a".repeat(10_000);
    for path in [
        format!("/thu-tuc?q={long}"),
        "/thu-tuc?q=%00%07%1B%5B31m".to_string(),
        "/thu-tuc?q=%ZZ&trang=-1".to_string(),
        "/thu-tuc?trang=99999999999999999999".to_string(),
        "/thu-tuc?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E".to_string(),
    ] {
        let reply = app.get(&path).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{}",
            &path[..path.len().min(60)]
        );
        assert!(
            !reply.body.contains("<script>alert"),
            "search text is escaped"
        );
    }
}

#[tokio::test]
async fn filters_combine_and_unknown_values_are_ignored_with_a_notice() {
    let app = catalogue().await;
    let by_field = app.get("/thu-tuc?linh_vuc=HOTICH").await;
    assert_eq!(
        listed(&by_field.body),
        ["1.000894", "1.001193"],
        "sorted by name: “kết hôn” before “khai sinh”"
    );
    let both = app.get("/thu-tuc?linh_vuc=HOTICH&muc_do=3").await;
    assert_eq!(listed(&both.body), ["1.000894"]);
    let agency = app
        .get(&format!("/thu-tuc?co_quan={}", fixtures::OTHER_AGENCY))
        .await;
    assert_eq!(listed(&agency.body), ["1.009974"]);
    let business = app.get("/thu-tuc?doi_tuong=doanh-nghiep").await;
    assert_eq!(listed(&business.body), ["1.009974"]);
    let province = app.get("/thu-tuc?cap=tinh&q=dang+ky").await;
    assert_eq!(listed(&province.body).len(), 2);
    let bad = app
        .get("/thu-tuc?muc_do=9&linh_vuc=KHONGCO&cap=huyen&sap_xep=x")
        .await;
    assert_eq!(bad.status, StatusCode::OK);
    assert_eq!(
        listed(&bad.body).len(),
        3,
        "bad filters are dropped, not applied"
    );
    assert!(bad.body.contains("Mức độ đã chọn không hợp lệ"));
    assert!(bad.body.contains("Lĩnh vực đã chọn không tồn tại"));
    let by_level = app.get("/thu-tuc?sap_xep=muc-do").await;
    assert_eq!(listed(&by_level.body), ["1.001193", "1.000894", "1.009974"]);
    let by_code = app.get("/thu-tuc?sap_xep=ma").await;
    assert_eq!(listed(&by_code.body), ["1.000894", "1.001193", "1.009974"]);
}

#[tokio::test]
async fn long_lists_are_paged_with_shareable_links() {
    let t = motcua_testkit::sqlite_store().await;
    fixtures::seed_minimal(&t.store).await;
    for n in 0..25 {
        let code = format!("2.{:06}", n);
        save(
            &t,
            &fixtures::procedure(&code, &format!("Thủ tục mẫu số {n:02}"), fixtures::AGENCY),
        )
        .await;
    }
    let app = TestApp::new(t).await;
    let first = app.get("/thu-tuc?q=thu+tuc+mau").await;
    assert_eq!(listed(&first.body).len(), 20);
    assert!(
        first
            .body
            .contains("href=\"/thu-tuc?q=thu%20tuc%20mau&#38;trang=2\""),
        "next page link keeps the query"
    );
    let second = app.get("/thu-tuc?q=thu+tuc+mau&trang=2").await;
    assert_eq!(listed(&second.body).len(), 5);
    assert!(second.body.contains("trang 2/2"));
    let beyond = app.get("/thu-tuc?q=thu+tuc+mau&trang=7").await;
    assert!(
        beyond.body.contains("trang 2/2"),
        "a page past the end shows the last"
    );
}

#[tokio::test]
async fn the_procedure_page_shows_the_whole_record() {
    let app = catalogue().await;
    let reply = app.get("/thu-tuc/1.009974").await;
    assert_eq!(reply.status, StatusCode::OK);
    let html = reply.body;
    for text in [
        "Cấp giấy phép xây dựng nhà ở riêng lẻ",
        "1.009974",
        "Xây dựng",
        "Sở Xây dựng",
        "Cấp tỉnh",
        "Tổ chức",
        "Mức độ 2",
        "Cung cấp thông tin",
        "Tờ khai",
        "5 ngày làm việc",
        "Trực tiếp",
        "Trực tuyến",
        "Lệ phí",
        "100.000 đ",
        "Phí thẩm định",
        "1.234.000 đ",
        "Miễn cho hộ nghèo",
        "Phù hợp với quy hoạch chi tiết xây dựng",
        "50/2014/QH13",
        "Luật Xây dựng",
        "18/06/2014",
        // level 2: how to apply in person
        "nộp hồ sơ trực tiếp tại cơ quan",
        "Số 1 đường Trần Phú",
    ] {
        assert!(html.contains(text), "the procedure page lacks “{text}”");
    }
}

#[tokio::test]
async fn the_page_of_an_online_procedure_says_what_can_be_done_online() {
    let app = catalogue().await;
    let html = app.get("/thu-tuc/1.001193").await.body;
    assert!(html.contains("Dịch vụ công trực tuyến toàn trình"));
    // level 4 says how to pay and how the result arrives
    assert!(html.contains("thanh toán phí, lệ phí trực tuyến qua cổng thanh toán"));
    assert!(html.contains("khi cơ quan thông báo số tiền"));
    assert!(html.contains("bản điện tử có chữ ký số"));
    assert!(html.contains("qua bưu chính"));
    let html = app.get("/thu-tuc/1.000894").await.body;
    assert!(html.contains("nộp phí, lệ phí và nhận kết quả trực tiếp"));
}

#[tokio::test]
async fn an_unknown_procedure_gets_a_404_that_offers_search() {
    let app = catalogue().await;
    for path in [
        "/thu-tuc/9.999999",
        "/thu-tuc/khong-phai-ma",
        "/thu-tuc/%E2%80%AE",
    ] {
        let reply = app.get(path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(reply.body.contains("Không tìm thấy thủ tục"), "{path}");
        assert!(reply.body.contains("role=\"search\""), "{path}");
    }
}

#[tokio::test]
async fn a_form_template_downloads_with_its_vietnamese_name_and_type() {
    let app = catalogue().await;
    let page = app.get("/thu-tuc/1.001193").await.body;
    assert!(page.contains("href=\"/thu-tuc/1.001193/mau/mac-dinh/1\""));
    let reply = app.get("/thu-tuc/1.001193/mau/mac-dinh/1").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers[header::CONTENT_TYPE], "application/rtf");
    let disposition = reply.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"To khai dang ky khai sinh.rtf\""),
        "{disposition}"
    );
    assert!(
        disposition.contains("filename*=UTF-8''T%E1%BB%9D%20khai"),
        "{disposition}"
    );
    assert_eq!(reply.bytes, b"{\\rtf1 to khai}");
    for missing in [
        "/thu-tuc/1.001193/mau/mac-dinh/2",
        "/thu-tuc/1.001193/mau/khac/1",
        "/thu-tuc/1.001193/mau/mac-dinh/0",
        "/thu-tuc/1.000894/mau/mac-dinh/1",
    ] {
        assert_eq!(
            app.get(missing).await.status,
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
}

#[tokio::test]
async fn two_server_nodes_converge_on_a_changed_catalogue_without_restart() {
    let app = catalogue().await;
    // a second node on the same database
    let other = motcua_web::AppState::new(
        app.db.store.clone(),
        motcua_web::Site::default(),
        std::sync::Arc::new(object_store::memory::InMemory::new()),
    )
    .await
    .unwrap();
    let mut renamed = fixtures::procedure("1.000894", "Đăng ký kết hôn lưu động", fixtures::AGENCY);
    renamed.cases[0].name = NonEmptyText::parse("Kết hôn lưu động").unwrap();
    save(&app.db, &renamed).await;
    assert!(app.state.catalogue.refresh(&app.db.store).await.unwrap());
    assert!(other.catalogue.refresh(&app.db.store).await.unwrap());
    assert!(
        !other.catalogue.refresh(&app.db.store).await.unwrap(),
        "nothing changed since"
    );
    for state in [&app.state, &other] {
        let reply = support::get_from(state, "/thu-tuc?q=luu+dong").await;
        assert_eq!(listed(&reply.body), ["1.000894"]);
        assert!(
            support::get_from(state, "/thu-tuc/1.000894")
                .await
                .body
                .contains("Phiên bản thông tin thủ tục: 2")
        );
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn the_home_page_shows_the_most_used_procedures_once_there_are_dossiers() {
    let app = catalogue().await;
    assert!(
        !app.get("/")
            .await
            .body
            .contains("Thủ tục được sử dụng nhiều nhất"),
        "no dossiers yet"
    );
    for _ in 0..2 {
        let code = app
            .db
            .store
            .codes
            .reserve(
                &AgencyCode::parse(fixtures::AGENCY).unwrap(),
                date!(2026 - 01 - 05),
            )
            .await
            .unwrap();
        app.db
            .store
            .dossiers
            .create(&motcua_domain::NewDossier {
                id: motcua_domain::DossierId::new(),
                code,
                procedure: ProcedureCode::parse("1.000894").unwrap(),
                procedure_version: 1,
                case: CaseKey::parse("mac-dinh").unwrap(),
                channel: motcua_domain::Channel::Online,
                status: motcua_domain::DossierStatus::Submitted,
                applicant_name: NonEmptyText::parse("Trần Thị Bình").unwrap(),
                created_at: OffsetDateTime::now_utc(),
                actor: "test".into(),
            })
            .await
            .unwrap();
    }
    // dossiers do not change the catalogue version: a new snapshot (next day, or a catalogue change) counts them
    let fresh = motcua_web::catalogue::Catalogue::load(&app.db.store)
        .await
        .unwrap();
    let view = fresh.view();
    assert_eq!(view.most_used.len(), 1);
    assert_eq!(
        view.entries[view.most_used[0]].procedure.code.as_str(),
        "1.000894"
    );
    // and the running node shows them after its next reload
    app.db
        .store
        .fields
        .upsert(&[fixtures::field("MOI", "Lĩnh vực mới")])
        .await
        .unwrap();
    app.refresh().await;
    let home = app.get("/").await.body;
    let section = home
        .split("Thủ tục được sử dụng nhiều nhất")
        .nth(1)
        .expect("the section is shown");
    assert!(
        section
            .split("</section>")
            .next()
            .unwrap()
            .contains("Đăng ký kết hôn")
    );
}

#[tokio::test]
async fn a_query_with_a_word_nothing_has_still_lists_the_closest_and_strikes_the_word() {
    let app = catalogue().await;
    let html = app.get("/thu-tuc?q=lam+giay+khai+sinh+zzqx").await.body;
    let first = html
        .find("/thu-tuc/1.001193")
        .expect("birth registration listed");
    assert!(
        html.find("/thu-tuc/1.009974")
            .is_none_or(|other| first < other),
        "{html}"
    );
    assert!(html.contains("gần đúng nhất"), "{html}");
    assert!(
        html.contains("Không tìm thấy:") && html.contains("<s>zzqx</s>"),
        "{html}"
    );
    // a word too far from any catalogue word gets a suggestion
    let html = app.get("/thu-tuc?q=ket+hno").await.body;
    assert!(
        html.contains("Có phải bạn muốn tìm: <a href=\"/thu-tuc?q=ket%20h%C3%B4n\">ket hôn</a>"),
        "{html}"
    );
    // spelling variants are one word: kí/ký
    let html = app
        .get("/thu-tuc?q=%C4%91%C4%83ng+k%C3%AD+khai+sinh")
        .await
        .body;
    assert!(html.contains("/thu-tuc/1.001193"), "{html}");
    assert!(!html.contains("gần đúng nhất"));
}

#[tokio::test]
async fn the_search_box_suggests_procedures_as_json() {
    let app = catalogue().await;
    let reply = app.get("/thu-tuc/goi-y?q=khai+si").await;
    assert_eq!(reply.headers["content-type"], "application/json");
    let items: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(items[0]["ma"], "1.001193", "{items}");
    assert_eq!(items[0]["ten"], "Đăng ký khai sinh");
    assert!(items.as_array().unwrap().len() <= 8);
    // too short, or nothing: an empty list, never an error
    assert_eq!(app.get("/thu-tuc/goi-y?q=k").await.body, "[]");
    assert_eq!(app.get("/thu-tuc/goi-y").await.body, "[]");
    let home = app.get("/").await.body;
    assert!(home.contains("list=\"q-danh-sach\"") && home.contains("/static/search.js"));
}

#[tokio::test]
async fn searches_that_find_little_are_logged_without_personal_data_for_editors() {
    let app = catalogue().await;
    for _ in 0..2 {
        app.get("/thu-tuc?q=zzqx+0912345678+an%40example.vn").await;
    }
    app.get("/thu-tuc?q=khai+sinh").await;
    // counted in memory, written by the periodic flush
    motcua_web::misses::flush(&app.state).await;
    let misses = app
        .db
        .store
        .search_log
        .misses(
            time::OffsetDateTime::now_utc() - time::Duration::hours(1),
            10,
        )
        .await
        .unwrap();
    assert_eq!(misses.len(), 1, "{misses:?}");
    assert_eq!(misses[0].query, "zzqx … …");
    assert_eq!(misses[0].times, 2);
    assert_eq!(misses[0].results, 0);
    let editor = support::person(
        "Vũ Thị Giang",
        "giang@minhhoa.example.vn",
        motcua_domain::AccountKind::Officer,
        &[&format!("editor@{}", fixtures::AGENCY)],
    );
    let cookie = support::session_for(&app, &editor, "e").await;
    let page = app.get_with_cookie("/quan-tri/tim-kiem", &cookie).await;
    assert_eq!(page.status, axum::http::StatusCode::OK);
    assert!(page.body.contains("zzqx … …"), "{}", page.body);
    assert!(!page.body.contains("0912345678"));
    let citizen = support::person(
        "Nguyễn Văn An",
        "an@example.vn",
        motcua_domain::AccountKind::Citizen,
        &[],
    );
    let cookie = support::session_for(&app, &citizen, "c").await;
    assert_eq!(
        app.get_with_cookie("/quan-tri/tim-kiem", &cookie)
            .await
            .status,
        axum::http::StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn an_editor_teaches_search_a_new_everyday_name() {
    let app = catalogue().await;
    let before = app.get("/thu-tuc?q=zzkhaisinh").await;
    assert!(
        before.body.contains("Tìm thấy 0 thủ tục"),
        "{}",
        before.body
    );
    let editor = support::person(
        "Vũ Thị Giang",
        "giang@minhhoa.example.vn",
        motcua_domain::AccountKind::Officer,
        &[&format!("editor@{}", fixtures::AGENCY)],
    );
    let cookie = support::session_for(&app, &editor, "e").await;
    let page = app
        .get_with_cookie("/quan-tri/tu-dong-nghia", &cookie)
        .await;
    assert!(
        page.body.contains("cccd | căn cước công dân"),
        "the built-in table to start from"
    );

    // a broken line: refused with its number, what was typed kept
    let typed = "cccd | căn cước\nzzkhaisinh ->";
    let refused = app
        .post_form(
            "/quan-tri/tu-dong-nghia",
            &support::encode_form(&[("bang", typed)]),
            Some(&cookie),
        )
        .await;
    assert_eq!(refused.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("Dòng 2: cần cụm từ ở cả hai bên dấu -&#62;"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("zzkhaisinh -&#62;</textarea>"));

    let saved = app
        .post_form(
            "/quan-tri/tu-dong-nghia",
            &support::encode_form(&[("bang", "zzkhaisinh -> khai sinh\r\n")]),
            Some(&cookie),
        )
        .await;
    assert_eq!(saved.status, axum::http::StatusCode::SEE_OTHER);
    let after = app.get("/thu-tuc?q=zzkhaisinh").await;
    assert!(
        after.body.contains("href=\"/thu-tuc/1.001193\""),
        "{}",
        after.body
    );
    let table = app.db.store.search_log.synonyms().await.unwrap().unwrap();
    assert_eq!(table.text, "zzkhaisinh -> khai sinh");
    assert_eq!(table.saved_by, editor.id.to_string());
}
