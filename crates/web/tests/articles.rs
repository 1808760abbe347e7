//! Articles end to end through the router, on both backends: an editor writes and sends for approval, only the
//! head editor approves, readers find the approved version (home page, list, feed, print view), scripts never
//! reach a page, stars count once per reader and address, comments wait for an editor, floods get 429, and what
//! was typed comes back with every refusal.

#[macro_use]
mod support;

use axum::http::StatusCode;
use motcua_domain::AccountKind;
use motcua_testkit::TestStore;
use support::{PEER, TestApp, encode_form};

struct Newsroom {
    app: TestApp,
    editor: String,
    head: String,
    editor_id: motcua_domain::AccountId,
}

async fn newsroom(db: TestStore) -> Newsroom {
    motcua_testkit::fixtures::seed_minimal(&db.store).await;
    let app = TestApp::new(db).await;
    let editor = support::person(
        "Biên Tập Viên",
        "btv@example.vn",
        AccountKind::Officer,
        &["editor@000.00.06.H56"],
    );
    let head = support::person(
        "Trưởng Ban",
        "tbbt@example.vn",
        AccountKind::Officer,
        &["head_editor@000.00.06.H56"],
    );
    let editor_cookie = support::session_for(&app, &editor, "a").await;
    let head_cookie = support::session_for(&app, &head, "b").await;
    Newsroom {
        app,
        editor: editor_cookie,
        head: head_cookie,
        editor_id: editor.id,
    }
}

/// The OWASP cheat sheet's vectors, a few of each kind, as an editor might paste them.
const XSS: &str = "<p>Hướng dẫn</p><script>alert('XSS')</script><img src=x onerror=alert(1)>\
<a href=\"javascript:alert(1)\">bấm</a><a href=\"jav&#x09;ascript:alert(1)\">bấm</a><svg/onload=alert(1)>\
<iframe src=\"javascript:alert(1)\"></iframe><div style=\"background:url(javascript:alert(1))\">x</div>\
<p onclick=\"alert(1)\">Đoạn</p>";

fn assert_no_script(html: &str) {
    let lower = html.to_lowercase();
    // markup that runs: scripts, handlers, script links, frames (the same words escaped as text are harmless)
    for bad in [
        "<script>alert",
        "href=\"javascript:",
        "src=\"javascript:",
        " onerror=",
        " onload=",
        " onclick=",
        "<iframe",
        "<svg",
        "style=\"",
    ] {
        assert!(!lower.contains(bad), "{bad} reached the page");
    }
}

/// Write, send for approval and approve an article: its address.
async fn published(n: &Newsroom, title: &str, body: &str) -> String {
    let created = n
        .app
        .post_form(
            "/bien-tap/bai-viet/moi",
            &encode_form(&[
                ("chuyen_muc", "huong-dan"),
                ("tieu_de", title),
                ("tom_tat", "Các bước nộp hồ sơ trực tuyến"),
                ("noi_dung", body),
                ("thu_tuc", motcua_testkit::fixtures::PROCEDURE),
                ("hanh_dong", "gui"),
            ]),
            Some(&n.editor),
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let edit = created.headers["location"]
        .to_str()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    assert!(edit.starts_with("/bien-tap/bai-viet/"), "{edit}");
    // the editor cannot approve their own work
    let refused = n
        .app
        .post_form(
            &format!("{edit}/duyet"),
            "quyet_dinh=duyet&phien_ban=1",
            Some(&n.editor),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let approved = n
        .app
        .post_form(
            &format!("{edit}/duyet"),
            "quyet_dinh=duyet&phien_ban=1",
            Some(&n.head),
        )
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);
    let page = n.app.get_with_cookie(&edit, &n.head).await;
    let slug = page
        .body
        .split("href=\"/tin-tuc/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the article's address on its edit page")
        .to_string();
    format!("/tin-tuc/{slug}")
}

async fn approved_articles_reach_readers_without_scripts(db: TestStore) {
    let n = newsroom(db).await;
    let path = published(&n, "Hướng dẫn nộp hồ sơ trực tuyến", XSS).await;
    let page = n.app.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Hướng dẫn nộp hồ sơ trực tuyến"));
    assert!(
        page.body.contains("<p>Hướng dẫn</p>"),
        "the safe markup stays"
    );
    assert!(page.body.contains("Chưa có lượt đánh giá"));
    assert!(
        page.body.contains("/thu-tuc/1.001193"),
        "related procedure linked"
    );
    // the date is Vietnam's, dd/mm/yyyy
    let today = motcua_domain::vntime::format_date(motcua_domain::vntime::vn_date(
        time::OffsetDateTime::now_utc(),
    ));
    assert!(page.body.contains(&today), "{today}");
    assert_no_script(&page.body);
    let home = n.app.get("/").await;
    assert!(
        home.body.contains(&path),
        "the home page lists the newest articles"
    );
    let list = n.app.get("/tin-tuc?chuyen_muc=huong-dan").await;
    assert!(list.body.contains(&path));
    let other = n.app.get("/tin-tuc?chuyen_muc=thong-bao").await;
    assert!(!other.body.contains(&path));
    let feed = n.app.get("/tin-tuc.atom").await;
    assert_eq!(
        feed.headers["content-type"],
        "application/atom+xml; charset=utf-8"
    );
    assert!(
        feed.body
            .contains("<feed xmlns=\"http://www.w3.org/2005/Atom\"")
    );
    assert!(
        feed.body
            .contains(&format!("https://dichvucong.example.vn{path}"))
    );
    let print = n.app.get(&format!("{path}/ban-in")).await;
    assert_eq!(print.status, StatusCode::OK);
    assert_no_script(&print.body);
    // the editor's next version is not the readers' until approved
    let edit_path = n.app.get_with_cookie("/bien-tap", &n.editor).await;
    let edit = edit_path
        .body
        .split("<td><a href=\"/bien-tap/bai-viet/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let saved = n
        .app
        .post_form(
            &format!("/bien-tap/bai-viet/{edit}"),
            &encode_form(&[
                ("chuyen_muc", "huong-dan"),
                ("tieu_de", "Tiêu đề mới chưa duyệt"),
                ("tom_tat", "Tóm tắt"),
                ("noi_dung", "<p>Bản hai</p>"),
                ("phien_ban", "1"),
                ("hanh_dong", "luu"),
            ]),
            Some(&n.editor),
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    // a stale save (version 1 again) keeps what was typed and says why
    let stale = n
        .app
        .post_form(
            &format!("/bien-tap/bai-viet/{edit}"),
            &encode_form(&[
                ("chuyen_muc", "huong-dan"),
                ("tieu_de", "Bản cũ của tôi"),
                ("tom_tat", "Tóm tắt"),
                ("noi_dung", "<p>Viết dở</p>"),
                ("phien_ban", "1"),
                ("hanh_dong", "luu"),
            ]),
            Some(&n.editor),
        )
        .await;
    assert_eq!(stale.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(stale.body.contains("Bản cũ của tôi"));
    assert!(stale.body.contains("người khác lưu"));
    let page = n.app.get(&path).await;
    assert!(!page.body.contains("Tiêu đề mới chưa duyệt"));
    // taking it down hides it
    let down = n
        .app
        .post_form(&format!("/bien-tap/bai-viet/{edit}/go"), "", Some(&n.head))
        .await;
    assert_eq!(down.status, StatusCode::SEE_OTHER, "{}", down.body);
    assert_eq!(n.app.get(&path).await.status, StatusCode::NOT_FOUND);
}
on_both_backends!(
    approved_articles_reach_readers_without_scripts_sqlite,
    approved_articles_reach_readers_without_scripts_postgres,
    approved_articles_reach_readers_without_scripts
);

async fn an_article_form_refused_keeps_what_was_typed(db: TestStore) {
    let n = newsroom(db).await;
    let refused = n
        .app
        .post_form(
            "/bien-tap/bai-viet/moi",
            &encode_form(&[
                ("chuyen_muc", "huong-dan"),
                ("tieu_de", ""),
                ("tom_tat", "Tóm tắt đã gõ"),
                ("noi_dung", "<script>x</script>"),
                ("thu_tuc", "9.999999"),
                ("dang_luc", "31/02/2026 08:00"),
                ("hanh_dong", "luu"),
            ]),
            Some(&n.editor),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    for message in [
        "Nhập tiêu đề bài viết",
        "Nhập nội dung bài viết",
        "Không có thủ tục mã “9.999999”",
        "Thời điểm không đúng dạng",
    ] {
        assert!(refused.body.contains(message), "{message}");
    }
    assert!(refused.body.contains("Tóm tắt đã gõ"));
    // a citizen cannot reach the newsroom at all
    let citizen = support::person("Dân", "dan@example.vn", AccountKind::Citizen, &[]);
    let cookie = support::session_for(&n.app, &citizen, "c").await;
    assert_eq!(
        n.app.get_with_cookie("/bien-tap", &cookie).await.status,
        StatusCode::FORBIDDEN
    );
}
on_both_backends!(
    an_article_form_refused_keeps_what_was_typed_sqlite,
    an_article_form_refused_keeps_what_was_typed_postgres,
    an_article_form_refused_keeps_what_was_typed
);

async fn vote(
    app: &TestApp,
    path: &str,
    stars: &str,
    peer: &str,
    cookie: Option<&str>,
    json: bool,
) -> support::Reply {
    let mut headers = vec![
        ("content-type", "application/x-www-form-urlencoded"),
        ("sec-fetch-site", "same-origin"),
        (PEER, peer),
    ];
    if let Some(c) = cookie {
        headers.push(("cookie", c));
    }
    if json {
        headers.push(("accept", "application/json"));
    }
    app.send(
        "POST",
        &format!("{path}/danh-gia"),
        &headers,
        &format!("sao={stars}"),
    )
    .await
}

async fn stars_count_once_per_reader_and_address_a_day(db: TestStore) {
    let n = newsroom(db).await;
    let path = published(&n, "Thông báo lịch nghỉ Tết", "<p>Nội dung</p>").await;
    // without JavaScript: a form, then back to the article
    let first = vote(&n.app, &path, "4", "10.0.0.1:1", None, false).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let cookie = first.cookie().expect("the reader's cookie");
    assert!(cookie.starts_with("motcua_doc_gia="));
    let page = n.app.get(&path).await;
    assert!(
        page.body
            .contains("<strong>4,0/5</strong> — 1 lượt đánh giá"),
        "{}",
        page.body
    );
    // the same reader changes their mind: replaced, not added
    let changed = vote(&n.app, &path, "5", "10.0.0.1:1", Some(&cookie), true).await;
    assert_eq!(changed.status, StatusCode::OK);
    let answer: serde_json::Value = serde_json::from_str(&changed.body).unwrap();
    assert_eq!(answer["label"], "5,0/5 — 1 lượt đánh giá");
    // a new cookie from the same address the same day is not counted
    let stuffed = vote(&n.app, &path, "1", "10.0.0.1:1", None, false).await;
    assert_eq!(stuffed.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(stuffed.body.contains("địa chỉ mạng của bạn"));
    // the reader's id with a signature of someone's making is a new reader (and the address is used already);
    // were the signature not checked, this would change the vote instead
    let (name_id, _) = cookie.split_once('.').unwrap();
    let forged = format!("{name_id}.{}", "0".repeat(32));
    let forged = vote(&n.app, &path, "1", "10.0.0.1:1", Some(&forged), true).await;
    assert_eq!(forged.status, StatusCode::TOO_MANY_REQUESTS);
    // another reader elsewhere
    let other = vote(&n.app, &path, "3", "10.0.0.2:1", None, true).await;
    let answer: serde_json::Value = serde_json::from_str(&other.body).unwrap();
    assert_eq!(answer["label"], "4,0/5 — 2 lượt đánh giá");
    // one reader changing their vote in a loop is stopped
    let first = vote(&n.app, &path, "2", "10.0.0.5:1", None, true).await;
    let looped = first.cookie().unwrap();
    let mut last = first.status;
    for _ in 0..30 {
        last = vote(&n.app, &path, "3", "10.0.0.5:1", Some(&looped), true)
            .await
            .status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    // stars out of range are refused with a message
    let bad = vote(&n.app, &path, "6", "10.0.0.3:1", None, false).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Chọn từ 1 đến 5 sao"));
}
on_both_backends!(
    stars_count_once_per_reader_and_address_a_day_sqlite,
    stars_count_once_per_reader_and_address_a_day_postgres,
    stars_count_once_per_reader_and_address_a_day
);

async fn comment(app: &TestApp, path: &str, pairs: &[(&str, &str)], peer: &str) -> support::Reply {
    app.send(
        "POST",
        &format!("{path}/binh-luan"),
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("sec-fetch-site", "same-origin"),
            (PEER, peer),
        ],
        &encode_form(pairs),
    )
    .await
}

async fn comments_wait_for_an_editor_and_floods_get_429(db: TestStore) {
    let n = newsroom(db).await;
    let path = published(&n, "Hỏi đáp về căn cước", "<p>Nội dung</p>").await;
    // refused with each reason, what was typed kept
    let bad = comment(
        &n.app,
        &path,
        &[
            ("ten", ""),
            ("email", "sai"),
            ("noi_dung", "Câu hỏi của tôi"),
        ],
        "10.1.0.1:1",
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Nhập tên của bạn"));
    assert!(bad.body.contains("Địa chỉ thư điện tử không đúng dạng"));
    assert!(bad.body.contains("Câu hỏi của tôi"));
    // a robot filling the hidden field is thanked and forgotten
    let robot = comment(
        &n.app,
        &path,
        &[
            ("ten", "Bot"),
            ("noi_dung", "spam"),
            ("trang_web", "http://spam"),
        ],
        "10.1.0.2:1",
    )
    .await;
    assert_eq!(robot.status, StatusCode::SEE_OTHER);
    let xss = "<script>alert(1)</script> Tôi cần hỏi thêm";
    let sent = comment(
        &n.app,
        &path,
        &[
            ("ten", "Lê Thị Cúc"),
            ("email", "cuc@example.vn"),
            ("noi_dung", xss),
        ],
        "10.1.0.3:1",
    )
    .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    assert!(
        sent.headers["location"]
            .to_str()
            .unwrap()
            .contains("cho-duyet")
    );
    assert!(
        !n.app.get(&path).await.body.contains("Lê Thị Cúc"),
        "held until approved"
    );
    let held = n
        .app
        .get_with_cookie("/bien-tap/binh-luan", &n.editor)
        .await;
    assert!(held.body.contains("Lê Thị Cúc"));
    assert!(
        !held.body.contains("Bot"),
        "the robot's comment was not kept"
    );
    assert_no_script(&held.body);
    let id = held
        .body
        .split("action=\"/bien-tap/binh-luan/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    // a rejection needs a reason
    let no_reason = n
        .app
        .post_form(
            &format!("/bien-tap/binh-luan/{id}"),
            "quyet_dinh=tu-choi",
            Some(&n.editor),
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.body.contains("Nhập lý do từ chối"));
    let ok = n
        .app
        .post_form(
            &format!("/bien-tap/binh-luan/{id}"),
            "quyet_dinh=dang",
            Some(&n.editor),
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let page = n.app.get(&path).await;
    assert!(page.body.contains("Lê Thị Cúc"));
    assert!(page.body.contains("Bình luận (1)"));
    assert!(
        page.body
            .contains("&#60;script&#62;alert(1)&#60;/script&#62; Tôi cần hỏi thêm"),
        "shown as the text it is"
    );
    assert!(
        !page.body.contains("cuc@example.vn"),
        "the e-mail is never shown"
    );
    assert_no_script(&page.body);
    let mail = n.app.deliver_mail().await;
    assert!(
        mail.iter()
            .any(|m| m.to == "cuc@example.vn" && m.subject.contains("đã được đăng")),
        "{mail:?}"
    );
    // a flood from one address: the fourth in ten minutes is refused with 429, the text kept
    for i in 0..3 {
        let r = comment(
            &n.app,
            &path,
            &[
                ("ten", "Người gửi nhiều"),
                ("noi_dung", &format!("Lần {i}")),
            ],
            "10.1.0.9:1",
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
    }
    let flood = comment(
        &n.app,
        &path,
        &[("ten", "Người gửi nhiều"), ("noi_dung", "Lần thứ tư")],
        "10.1.0.9:1",
    )
    .await;
    assert_eq!(flood.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(flood.headers.contains_key("retry-after"));
    assert!(flood.body.contains("Lần thứ tư"));
    let _ = n.editor_id;
}
on_both_backends!(
    comments_wait_for_an_editor_and_floods_get_429_sqlite,
    comments_wait_for_an_editor_and_floods_get_429_postgres,
    comments_wait_for_an_editor_and_floods_get_429
);

async fn an_article_scheduled_for_later_waits_for_its_time(db: TestStore) {
    let n = newsroom(db).await;
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(3);
    let created = n
        .app
        .post_form(
            "/bien-tap/bai-viet/moi",
            &encode_form(&[
                ("chuyen_muc", "thong-bao"),
                ("tieu_de", "Thông báo hẹn giờ"),
                ("tom_tat", "Tóm tắt"),
                ("noi_dung", "<p>Nội dung</p>"),
                (
                    "dang_luc",
                    &motcua_domain::vntime::format_local_input(later),
                ),
                ("hanh_dong", "gui"),
            ]),
            Some(&n.editor),
        )
        .await;
    let edit = created.headers["location"]
        .to_str()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let approved = n
        .app
        .post_form(
            &format!("{edit}/duyet"),
            "quyet_dinh=duyet&phien_ban=1",
            Some(&n.head),
        )
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER);
    assert!(
        !n.app
            .get("/tin-tuc")
            .await
            .body
            .contains("Thông báo hẹn giờ")
    );
    let list = n.app.get_with_cookie("/bien-tap", &n.head).await;
    assert!(list.body.contains("Hẹn đăng"), "{}", list.body);
}
on_both_backends!(
    an_article_scheduled_for_later_waits_for_its_time_sqlite,
    an_article_scheduled_for_later_waits_for_its_time_postgres,
    an_article_scheduled_for_later_waits_for_its_time
);

async fn a_return_needs_a_reason_and_an_article_takes_images_only(db: TestStore) {
    let n = newsroom(db).await;
    let created = n
        .app
        .post_form(
            "/bien-tap/bai-viet/moi",
            &encode_form(&[
                ("chuyen_muc", "tin-tuc"),
                ("tieu_de", "Tin có ảnh"),
                ("tom_tat", "Tóm tắt"),
                ("noi_dung", "<p>Nội dung</p>"),
                ("hanh_dong", "gui"),
            ]),
            Some(&n.editor),
        )
        .await;
    let edit = created.headers["location"]
        .to_str()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    // sending it back without a reason is refused, and the page says why
    let no_reason = n
        .app
        .post_form(
            &format!("{edit}/duyet"),
            "quyet_dinh=tra-lai&phien_ban=1&ly_do=",
            Some(&n.head),
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.body.contains("Nhập lý do trả lại"));
    // with one, the editor reads it
    let returned = n
        .app
        .post_form(
            &format!("{edit}/duyet"),
            &encode_form(&[
                ("quyet_dinh", "tra-lai"),
                ("phien_ban", "1"),
                ("ly_do", "Thiếu nguồn tin"),
            ]),
            Some(&n.head),
        )
        .await;
    assert_eq!(returned.status, StatusCode::SEE_OTHER);
    let page = n.app.get_with_cookie(&edit, &n.editor).await;
    assert!(page.body.contains("Bị trả lại") && page.body.contains("Thiếu nguồn tin"));
    // a PDF is no image for an article; a PNG is kept and its markup handed back
    let pdf: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
    let refused = n
        .app
        .post_multipart(
            &format!("{edit}/anh"),
            &[("anh", Some("to-khai.pdf"), pdf)],
            Some(&n.editor),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("không phải ảnh JPEG hoặc PNG"));
    // a PNG cut short is said to be unreadable
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.resize(64, 0);
    let cut = n
        .app
        .post_multipart(
            &format!("{edit}/anh"),
            &[("anh", Some("anh.png"), &png)],
            Some(&n.editor),
        )
        .await;
    assert_eq!(cut.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!cut.body.contains("không phải ảnh"), "a PNG is an image");
    png.extend_from_slice(b"\0\0\0\0IEND\xaeB`\x82");
    let kept = n
        .app
        .post_multipart(
            &format!("{edit}/anh"),
            &[("anh", Some("anh.png"), &png)],
            Some(&n.editor),
        )
        .await;
    assert_eq!(kept.status, StatusCode::SEE_OTHER, "{}", kept.body);
    let back = kept.headers["location"].to_str().unwrap().to_string();
    let page = n.app.get_with_cookie(&back, &n.editor).await;
    assert!(page.body.contains("Đã tải ảnh lên"));
    let image = page
        .body
        .split("/anh-bai-viet/")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .map(|s| format!("/anh-bai-viet/{s}"))
        .expect("the image's address on the page");
    let served = n.app.get(&image).await;
    assert_eq!(served.status, StatusCode::OK, "{image}");
    assert_eq!(served.headers["content-type"], "image/png");
    assert_eq!(served.bytes, png);
}
on_both_backends!(
    a_return_needs_a_reason_and_an_article_takes_images_only_sqlite,
    a_return_needs_a_reason_and_an_article_takes_images_only_postgres,
    a_return_needs_a_reason_and_an_article_takes_images_only
);
