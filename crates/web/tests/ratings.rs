//! The applicant rates a handled dossier once, after the result was handed over; the desk sees the rating and its
//! agency's satisfaction figure. On both backends.

#[macro_use]
mod support;

use axum::http::StatusCode;
use motcua_domain::{AccountKind, DossierStatus, Transition};
use motcua_testkit::{TestStore, fixtures::AGENCY};
use support::{encode_form, person, session_for};

on_both_backends!(
    an_applicant_rates_a_delivered_dossier_once,
    an_applicant_rates_a_delivered_dossier_once_on_postgresql,
    an_applicant_rates_a_delivered_dossier_once_on
);

async fn an_applicant_rates_a_delivered_dossier_once_on(db: TestStore) {
    let (app, citizen, dossier) = support::with_submitted_dossier(db).await;
    let mine = support::session_existing(&app, citizen.id, "c").await;
    let officer = person(
        "Trần Thị Bình",
        "binh@minhhoa.example.vn",
        AccountKind::Officer,
        &[&format!("reception@{AGENCY}")],
    );
    let desk = session_for(&app, &officer, "b").await;
    let page = format!("/ho-so/{}", dossier.code);
    let rate = format!("{page}/danh-gia");
    // not before the result is handed over
    let early = app.post_form(&rate, "muc_do=5", Some(&mine)).await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    assert!(
        early
            .body
            .contains("Chỉ đánh giá được sau khi nhận kết quả")
    );
    handed_over(&app, &dossier).await;
    let form = app.get_with_cookie(&page, &mine).await;
    assert!(form.body.contains("Đánh giá việc giải quyết hồ sơ"));
    assert!(form.body.contains("Rất không hài lòng"));
    // a level is required; what was written stays
    let comment = "Cán bộ hướng dẫn tận tình, trả kết quả đúng hẹn";
    let missing = app
        .post_form(&rate, &encode_form(&[("y_kien", comment)]), Some(&mine))
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.body.contains("Chọn một mức đánh giá"));
    assert!(missing.body.contains(comment));
    let long = "ý".repeat(1001);
    let too_long = app
        .post_form(
            &rate,
            &encode_form(&[("muc_do", "4"), ("y_kien", &long)]),
            Some(&mine),
        )
        .await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_long.body.contains("dài quá 1.000 ký tự"));
    assert!(too_long.body.contains("value=\"4\" checked"));
    let given = app
        .post_form(
            &rate,
            &encode_form(&[("muc_do", "4"), ("y_kien", comment)]),
            Some(&mine),
        )
        .await;
    assert_eq!(given.status, StatusCode::SEE_OTHER, "{}", given.body);
    let shown = app.get_with_cookie(&page, &mine).await;
    assert!(shown.body.contains("Đánh giá của bạn"));
    assert!(shown.body.contains("<strong>Hài lòng</strong>"));
    assert!(!shown.body.contains("Gửi đánh giá"), "rated once: no form");
    // once per dossier: the first rating stays
    let again = app.post_form(&rate, "muc_do=1", Some(&mine)).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("mỗi hồ sơ chỉ được đánh giá một lần"));
    let kept = app
        .db
        .store
        .ratings
        .rating(dossier.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.level, motcua_domain::rating::Satisfaction::Satisfied);
    assert_eq!(kept.comment.as_deref(), Some(comment));
    // the desk sees it, and the agency's figure counts it
    let office = app
        .get_with_cookie(&format!("/can-bo/ho-so/{}", dossier.code), &desk)
        .await;
    assert!(office.body.contains("Đánh giá của người nộp"));
    assert!(office.body.contains(comment));
    let inbox = app.get_with_cookie("/can-bo/ho-so", &desk).await;
    assert!(
        inbox
            .body
            .contains("hài lòng trở lên: 100 % trong 1 đánh giá"),
        "{}",
        inbox.body
    );
}

on_both_backends!(
    a_counter_applicant_rates_through_the_hand_over_slip_once,
    a_counter_applicant_rates_through_the_hand_over_slip_once_on_postgresql,
    a_counter_applicant_rates_through_the_hand_over_slip_once_on
);

async fn a_counter_applicant_rates_through_the_hand_over_slip_once_on(db: TestStore) {
    let (app, _, dossier) = support::with_submitted_dossier(db).await;
    let officer = person(
        "Trần Thị Bình",
        "binh@minhhoa.example.vn",
        AccountKind::Officer,
        &[&format!("reception@{AGENCY}")],
    );
    let desk = session_for(&app, &officer, "b").await;
    let slip = format!("/can-bo/ho-so/{}/phieu/tra-ket-qua", dossier.code);
    // no hand-over slip before the hand-over
    assert_eq!(
        app.get_with_cookie(&slip, &desk).await.status,
        StatusCode::NOT_FOUND
    );
    handed_over(&app, &dossier).await;
    let office = app
        .get_with_cookie(&format!("/can-bo/ho-so/{}", dossier.code), &desk)
        .await;
    assert!(office.body.contains(&slip), "{}", office.body);
    let pdf = app.get_with_cookie(&slip, &desk).await;
    assert_eq!(pdf.status, StatusCode::OK);
    // the slip's code is the dossier's one rating code, the same on every print
    let token = app
        .db
        .store
        .ratings
        .rating_token(dossier.id, "khac", time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_ne!(token, "khac");
    if let Some(text) = support::pdf_text(&pdf.bytes) {
        let flat: String = text.split_whitespace().collect();
        assert!(flat.contains(&format!("/danh-gia/{token}")), "{text}");
        assert!(text.contains("PHIẾU TRẢ KẾT QUẢ"), "{text}");
    }
    // anyone holding the slip rates without an account; nothing personal is shown
    let page = format!("/danh-gia/{token}");
    let form = app.get(&page).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("Rất hài lòng"));
    assert!(form.body.contains(&dossier.code.to_string()));
    assert!(!form.body.contains("Nguyễn Văn An"));
    let comment = "Nhanh, đúng hẹn";
    let missing = app
        .post_form(&page, &encode_form(&[("y_kien", comment)]), None)
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.body.contains("Chọn một mức đánh giá"));
    assert!(missing.body.contains(comment));
    let given = app
        .post_form(
            &page,
            &encode_form(&[("muc_do", "5"), ("y_kien", comment)]),
            None,
        )
        .await;
    assert_eq!(given.status, StatusCode::SEE_OTHER);
    let thanks = app.get(&format!("{page}?da_gui=1")).await;
    assert!(thanks.body.contains("Cảm ơn bạn đã đánh giá"));
    assert!(!thanks.body.contains("<form action=\"/danh-gia/"));
    // the comment is not shown to whoever holds the slip
    assert!(!thanks.body.contains(comment));
    let rating = app
        .db
        .store
        .ratings
        .rating(dossier.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rating.level.score(), 5);
    assert_eq!(rating.account, None);
    // the code works once
    let again = app.post_form(&page, "muc_do=1", None).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("đã được đánh giá"));
    assert_eq!(
        app.db
            .store
            .ratings
            .rating(dossier.id)
            .await
            .unwrap()
            .unwrap()
            .level
            .score(),
        5
    );
    assert_eq!(
        app.get("/danh-gia/khongco").await.status,
        StatusCode::NOT_FOUND
    );
}

/// The dossier received, processed and its result handed over (straight in the store).
async fn handed_over(app: &support::TestApp, dossier: &motcua_domain::Dossier) {
    let mut status = dossier.status;
    for to in [
        DossierStatus::Received,
        DossierStatus::Processed,
        DossierStatus::ResultDelivered,
    ] {
        let t = Transition::new(
            dossier.id,
            status,
            to,
            time::OffsetDateTime::now_utc(),
            "Trần Thị Bình (test)",
        )
        .unwrap();
        app.db.store.dossiers.record_transition(&t).await.unwrap();
        status = to;
    }
}
