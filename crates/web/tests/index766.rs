//! The Decision 766 index through the router, on both backends: the public ranking with its chart and table,
//! officers' figures behind it (numerator, denominator, points, advice) and the dossiers behind a gap, and a
//! month that is not one answered with its message and what was typed.

#[macro_use]
mod support;

use axum::http::StatusCode;
use motcua_domain::AccountKind;
use motcua_testkit::{TestStore, fixtures::AGENCY};

async fn the_index_ranks_agencies_and_officers_see_what_is_behind_it(db: TestStore) {
    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
    let (app, _citizen, dossier) = support::with_submitted_files(db, &[("to-khai.pdf", pdf)]).await;
    let month = motcua_domain::vntime::vn_date(time::OffsetDateTime::now_utc());
    let month = format!("{:02}/{}", u8::from(month.month()), month.year());

    app.db.store.stats.refresh(100).await.unwrap();
    let public = app.get("/chi-so-766").await;
    assert_eq!(public.status, StatusCode::OK);
    assert!(public.body.contains("<svg"), "a chart drawn on the server");
    assert!(public.body.contains("role=\"img\""));
    assert!(public.body.contains("Xếp hạng cơ quan theo tổng điểm"));
    assert!(
        !public.body.contains("/can-bo/chi-so-766/"),
        "no officers' links for the public"
    );

    let officer = support::person(
        "Cán Bộ",
        "cb@example.vn",
        AccountKind::Officer,
        &[&format!("reception@{AGENCY}")],
    );
    let cookie = support::session_for(&app, &officer, "d").await;
    let ranking = app.get_with_cookie("/chi-so-766", &cookie).await;
    let detail = format!(
        "/can-bo/chi-so-766/{AGENCY}?thang={}",
        month.replace('/', "%2F")
    );
    assert!(
        ranking.body.contains(&detail.replace("&", "&amp;")) || ranking.body.contains(&detail),
        "{}",
        ranking.body
    );

    let page = app.get_with_cookie(&detail, &cookie).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    // one dossier received this month, online, with its papers as files: those metrics are met
    for text in [
        "Hồ sơ nộp trực tuyến</th><td>1</td><td>1</td><td>100,0 %</td><td>8/8</td>",
        "Hồ sơ tiếp nhận có thành phần được số hóa</th><td>1</td><td>1</td>",
        "Số hóa hồ sơ: 22/22",
    ] {
        assert!(page.body.contains(text), "{text}");
    }

    // the dossiers behind a gap: none lack files here
    let gap = app
        .get_with_cookie(
            &format!(
                "/can-bo/chi-so-766/{AGENCY}/so-hoa-ho-so?thang={}",
                month.replace('/', "%2F")
            ),
            &cookie,
        )
        .await;
    assert_eq!(gap.status, StatusCode::OK);
    assert!(
        !gap.body.contains(&dossier.code.to_string()),
        "it has its files"
    );
    let online = app
        .get_with_cookie(
            &format!("/can-bo/chi-so-766/{AGENCY}/ho-so-truc-tuyen"),
            &cookie,
        )
        .await;
    assert!(online.body.contains("Không có hồ sơ nào"));
    // a catalogue metric has no dossiers to list; an unknown one is not found
    for metric in ["thu-tuc-truc-tuyen", "khong-co"] {
        let r = app
            .get_with_cookie(&format!("/can-bo/chi-so-766/{AGENCY}/{metric}"), &cookie)
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{metric}");
    }
    // an officer of another agency is refused
    let other = support::person(
        "Người Khác",
        "khac@example.vn",
        AccountKind::Officer,
        &["reception@000.00.07.H56"],
    );
    let other_cookie = support::session_for(&app, &other, "e").await;
    assert_eq!(
        app.get_with_cookie(&format!("/can-bo/chi-so-766/{AGENCY}"), &other_cookie)
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    let bad = app.get("/chi-so-766?thang=13%2F2026").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Tháng viết dạng tháng/năm"));
    assert!(bad.body.contains("value=\"13/2026\""));
}
on_both_backends!(
    the_index_ranks_agencies_and_officers_see_what_is_behind_it_sqlite,
    the_index_ranks_agencies_and_officers_see_what_is_behind_it_postgres,
    the_index_ranks_agencies_and_officers_see_what_is_behind_it
);
