//! Level 4, results by post: the applicant gives an address (one of the 34 provinces, a commune, a street) until
//! the result is handed to the post; the desk records the hand-over with its tracking number, then delivered (the
//! result is handed over) or returned. On both backends.

#[macro_use]
mod support;

use axum::http::StatusCode;
use motcua_domain::{AccountKind, DossierStatus, Transition, postal::DeliveryStage};
use motcua_testkit::{TestStore, fixtures::AGENCY};
use support::{encode_form, person, session_for};

on_both_backends!(
    a_result_goes_by_post_to_the_address_given,
    a_result_goes_by_post_to_the_address_given_on_postgresql,
    a_result_goes_by_post_to_the_address_given_on
);

async fn a_result_goes_by_post_to_the_address_given_on(db: TestStore) {
    let (app, citizen, dossier) = support::with_submitted_dossier(db).await;
    let mine = support::session_existing(&app, citizen.id, "c").await;
    let officer = person(
        "Trần Thị Bình",
        "binh@minhhoa.example.vn",
        AccountKind::Officer,
        &[&format!("reception@{AGENCY}")],
    );
    let desk = session_for(&app, &officer, "b").await;
    let code = dossier.code.to_string();
    let page = format!("/ho-so/{code}");
    let ask = format!("{page}/buu-chinh");
    let post = format!("/can-bo/ho-so/{code}/buu-chinh");

    let form = app.get_with_cookie(&page, &mine).await;
    assert!(form.body.contains("Đăng ký nhận qua bưu chính"));
    assert!(form.body.contains("Tỉnh Đắk Lắk") && form.body.contains("Thành phố Huế"));
    // every part is checked; what was typed stays
    let bad = app
        .post_form(
            &ask,
            &encode_form(&[
                ("nguoi_nhan", "Nguyễn Văn An"),
                ("dien_thoai_nhan", "12345"),
                ("tinh_thanh", "Tỉnh Bình Phước"),
                ("xa_phuong", ""),
                ("dia_chi", "12 Lê Duẩn"),
            ]),
            Some(&mine),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    for message in [
        "Nhập số điện thoại di động của người nhận",
        "Chọn tỉnh, thành phố trong danh sách",
        "Nhập xã, phường hoặc đặc khu",
    ] {
        assert!(bad.body.contains(message), "{message}");
    }
    assert!(bad.body.contains("value=\"12 Lê Duẩn\""));
    assert!(bad.body.contains("value=\"12345\""));
    let address = [
        ("nguoi_nhan", "Nguyễn Văn An"),
        ("dien_thoai_nhan", "0912 345 678"),
        ("tinh_thanh", "Tỉnh Đắk Lắk"),
        ("xa_phuong", "Phường Tân Lập"),
        ("dia_chi", "12 Lê Duẩn"),
    ];
    let ok = app
        .post_form(&ask, &encode_form(&address), Some(&mine))
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let asked = app.get_with_cookie(&page, &mine).await;
    assert!(asked.body.contains("Đã đăng ký nhận qua bưu chính"));
    assert!(
        asked
            .body
            .contains("12 Lê Duẩn, Phường Tân Lập, Tỉnh Đắk Lắk")
    );
    assert!(
        asked
            .body
            .contains("<option selected>Tỉnh Đắk Lắk</option>")
    );

    // the desk sees the address; nothing goes to the post before the result is approved
    let r = app
        .post_form(
            &format!("/can-bo/ho-so/{code}"),
            "hanh_dong=tiep_nhan",
            Some(&desk),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let office = app
        .get_with_cookie(&format!("/can-bo/ho-so/{code}"), &desk)
        .await;
    assert!(office.body.contains("0912345678"), "{}", office.body);
    let early = app
        .post_form(&post, "viec=giao&ma_van_don=EL123456789VN", Some(&desk))
        .await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        early
            .body
            .contains("Chỉ gửi bưu chính khi hồ sơ đã có kết quả")
    );
    assert!(early.body.contains("value=\"EL123456789VN\""));
    let t = Transition::new(
        dossier.id,
        DossierStatus::Received,
        DossierStatus::Processed,
        time::OffsetDateTime::now_utc(),
        "Lãnh đạo (test)",
    )
    .unwrap();
    app.db.store.dossiers.record_transition(&t).await.unwrap();
    let nonsense = app.post_form(&post, "viec=bay-di", Some(&desk)).await;
    assert_eq!(nonsense.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(nonsense.body.contains("Chọn việc cần ghi nhận"));
    let missing = app
        .post_form(&post, "viec=giao&ma_van_don=", Some(&desk))
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.body.contains("Nhập mã vận đơn"));
    let handed = app
        .post_form(&post, "viec=giao&ma_van_don=el+123+456+789+vn", Some(&desk))
        .await;
    assert_eq!(handed.status, StatusCode::SEE_OTHER, "{}", handed.body);
    let delivery = app
        .db
        .store
        .deliveries
        .delivery(dossier.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(delivery.stage(), DeliveryStage::WithPost);
    assert_eq!(delivery.handed.as_ref().unwrap().1, "EL123456789VN");
    // once with the post the address is fixed, and a second hand-over is refused
    let late = app
        .post_form(&ask, &encode_form(&address), Some(&mine))
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    assert!(late.body.contains("không đổi địa chỉ được nữa"));
    let twice = app
        .post_form(&post, "viec=giao&ma_van_don=EL999", Some(&desk))
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    let no_reason = app
        .post_form(&post, "viec=chuyen_hoan&ly_do=", Some(&desk))
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.body.contains("Ghi lý do bưu chính chuyển hoàn"));

    // delivered: the result is handed over, with the tracking number in the history
    let done = app.post_form(&post, "viec=da_phat", Some(&desk)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let now = app
        .db
        .store
        .dossiers
        .get(dossier.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.status, DossierStatus::ResultDelivered);
    let history = app.db.store.dossiers.history(dossier.id).await.unwrap();
    let last = history.last().unwrap();
    assert!(
        last.reason
            .as_deref()
            .is_some_and(|r| r.contains("EL123456789VN")),
        "{last:?}"
    );
    let theirs = app.get_with_cookie(&page, &mine).await;
    assert!(theirs.body.contains("Đã phát thành công"));
    assert!(!theirs.body.contains("Đổi địa chỉ nhận"));

    // the applicant was told when it left for the post
    let sent = app.deliver_mail().await;
    let mail = sent
        .iter()
        .find(|m| m.subject.contains("kết quả đã gửi qua bưu chính"))
        .expect("the hand-over mail");
    assert_eq!(mail.to, "an@example.vn");
    assert!(mail.body.contains("EL123456789VN"));
    assert!(mail.subject.contains(&code));
}
