//! Level 4, fees paid online: an officer sets a fee (status 6, the clock paused), the applicant pays through the
//! built-in sandbox gateway, and only the gateway's signed notification settles the payment, once. On both
//! backends.

#[macro_use]
mod support;

/// A confirmed withdrawal with its reason.
const WITHDRAW: &str = "xac_nhan=co&ly_do=Kh%C3%B4ng+c%E1%BA%A7n+n%E1%BB%AFa";

use axum::http::StatusCode;
use motcua_domain::{
    AccountKind, DossierStatus, Vnd,
    payment::{Notice, Outcome, PaymentStatus, Provider, national_check_code, vnpay},
};
use motcua_testkit::{TestStore, fixtures::AGENCY};
use motcua_web::payments::PaymentSettings;
use support::{TestApp, encode_form, person, session_for};

on_both_backends!(
    a_fee_is_paid_online_through_the_sandbox_and_settled_once,
    a_fee_is_paid_online_through_the_sandbox_and_settled_once_on_postgresql,
    a_fee_is_paid_online_through_the_sandbox_and_settled_once_on
);

on_both_backends!(
    a_fee_paid_at_the_counter_is_recorded_with_its_receipt,
    a_fee_paid_at_the_counter_is_recorded_with_its_receipt_on_postgresql,
    a_fee_paid_at_the_counter_is_recorded_with_its_receipt_on
);

on_both_backends!(
    a_payment_that_arrives_after_withdrawal_is_flagged_and_refunded,
    a_payment_that_arrives_after_withdrawal_is_flagged_and_refunded_on_postgresql,
    a_payment_that_arrives_after_withdrawal_is_flagged_and_refunded_on
);

on_both_backends!(
    payments_left_pending_are_settled_by_reconciliation,
    payments_left_pending_are_settled_by_reconciliation_on_postgresql,
    payments_left_pending_are_settled_by_reconciliation_on
);

/// A dossier at the desk, with the officer's and the applicant's sessions and the two pages' paths.
struct Owing {
    app: TestApp,
    dossier: motcua_domain::Dossier,
    desk: String,
    mine: String,
    office: String,
    page: String,
}

/// A dossier accepted at reception by an officer who may also process it, with the desk's and the applicant's
/// sessions.
async fn received(db: TestStore) -> Owing {
    let (app, citizen, dossier) = support::with_submitted_dossier(db).await;
    let officer = person(
        "Trần Thị Bình",
        "binh@minhhoa.example.vn",
        AccountKind::Officer,
        &[
            &format!("reception@{AGENCY}"),
            &format!("specialist@{AGENCY}"),
        ],
    );
    let desk = session_for(&app, &officer, "b").await;
    let mine = support::session_existing(&app, citizen.id, "c").await;
    let office = format!("/can-bo/ho-so/{}", dossier.code);
    let page = format!("/ho-so/{}", dossier.code);
    app.post_form(&office, "hanh_dong=tiep_nhan", Some(&desk))
        .await;
    Owing {
        app,
        dossier,
        desk,
        mine,
        office,
        page,
    }
}

/// [`received`], then a fee of 50.000 đ set by the officer (status 6).
async fn owing_a_fee(db: TestStore) -> Owing {
    let w = received(db).await;
    w.app
        .post_form(
            &format!("{}/chuyen", w.office),
            &encode_form(&[
                ("den", "awaiting_financial_obligation"),
                ("so_tien", "50000"),
                ("ly_do", "Nộp lệ phí theo quy định"),
            ]),
            Some(&w.desk),
        )
        .await;
    w
}

/// Where a redirect goes, as a path with its query (the sandbox and the return page are on this portal).
fn local(reply: &support::Reply) -> String {
    let to = reply.headers["location"].to_str().unwrap();
    to.strip_prefix("https://dichvucong.example.vn")
        .unwrap_or(to)
        .to_string()
}

async fn choose(app: &TestApp, pay_page: &str, outcome: &str) -> String {
    let query = pay_page.split_once('?').unwrap().1;
    let reply = app
        .send(
            "POST",
            "/cong-thanh-toan-thu-nghiem",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("sec-fetch-site", "same-origin"),
            ],
            &encode_form(&[("yeu_cau", query), ("ket_qua", outcome)]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let back = local(&reply);
    assert!(back.starts_with("/thanh-toan/ket-qua?"), "{back}");
    back
}

fn signed(fields: &[(&str, &str)]) -> String {
    let mut f: vnpay::Fields = fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let hash = vnpay::sign(&f, PaymentSettings::default().secret.as_bytes());
    f.insert(vnpay::SECURE_HASH.into(), hash);
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(f.iter())
        .finish()
}

async fn a_fee_is_paid_online_through_the_sandbox_and_settled_once_on(db: TestStore) {
    let Owing {
        app,
        dossier,
        desk,
        mine,
        office,
        page,
    } = received(db).await;
    // nothing owed yet: paying is refused plainly
    let early = app
        .post_form(&format!("{page}/thanh-toan"), "", Some(&mine))
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    assert!(early.body.contains("không có khoản phí"));

    // the officer's fee: a bad amount is refused with what was typed kept
    let move_on = format!("{office}/chuyen");
    let reason = "Nộp lệ phí cấp bản sao trích lục";
    let bad = app
        .post_form(
            &move_on,
            &encode_form(&[
                ("den", "awaiting_financial_obligation"),
                ("so_tien", "12,5"),
                ("ly_do", reason),
            ]),
            Some(&desk),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("không dùng dấu phẩy thập phân"),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("value=\"12,5\""));
    assert!(bad.body.contains(reason));
    let set = app
        .post_form(
            &move_on,
            &encode_form(&[
                ("den", "awaiting_financial_obligation"),
                ("so_tien", "50.000"),
                ("ly_do", reason),
            ]),
            Some(&desk),
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    let mine_page = app.get_with_cookie(&page, &mine).await;
    assert!(
        mine_page.body.contains("Cần nộp: 50.000 đ"),
        "{}",
        mine_page.body
    );
    assert!(mine_page.body.contains("Thanh toán trực tuyến"));

    // first attempt: the card is declined
    let go = app
        .post_form(&format!("{page}/thanh-toan"), "", Some(&mine))
        .await;
    assert_eq!(go.status, StatusCode::SEE_OTHER, "{}", go.body);
    let gateway = local(&go);
    assert!(
        gateway.starts_with("/cong-thanh-toan-thu-nghiem?"),
        "{gateway}"
    );
    assert!(gateway.contains("vnp_Amount=5000000&"));
    let sandbox = app.get(&gateway).await;
    assert_eq!(sandbox.status, StatusCode::OK);
    assert!(sandbox.body.contains("50.000 đ"));
    // a request the portal did not sign is refused by the gateway (97)
    let forged = app
        .get(&gateway.replace("vnp_Amount=5000000", "vnp_Amount=100"))
        .await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
    // no outcome chosen: the sandbox asks again, with the same signed request and nothing settled
    let query = gateway.split_once('?').unwrap().1;
    let unchosen = app
        .send(
            "POST",
            "/cong-thanh-toan-thu-nghiem",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("sec-fetch-site", "same-origin"),
            ],
            &encode_form(&[("yeu_cau", query)]),
        )
        .await;
    assert_eq!(unchosen.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unchosen
            .body
            .contains("Chọn một kết quả giao dịch thử nghiệm")
    );
    assert!(unchosen.body.contains("50.000 đ"));
    assert!(unchosen.body.contains("name=\"yeu_cau\""));
    assert_eq!(
        app.db.store.payments.payments(dossier.id).await.unwrap()[0].status,
        PaymentStatus::Pending
    );
    let back = choose(&app, &gateway, "tu_choi").await;
    let shown = app.get(&back).await;
    assert!(
        shown.body.contains("Thanh toán không thành công"),
        "{}",
        shown.body
    );
    assert!(shown.body.contains("không đủ số dư"));
    let payments = app.db.store.payments.payments(dossier.id).await.unwrap();
    assert_eq!(payments.len(), 1);
    assert_eq!(payments[0].status, PaymentStatus::Failed);
    let still = app
        .db
        .store
        .dossiers
        .get(dossier.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.status, DossierStatus::AwaitingFinancialObligation);

    // second attempt: paid, but the notification never arrives; the return page changes nothing
    let go = app
        .post_form(&format!("{page}/thanh-toan"), "", Some(&mine))
        .await;
    let back = choose(&app, &local(&go), "mat_ipn").await;
    let shown = app.get(&back).await;
    assert!(
        shown.body.contains("Đang chờ cổng thanh toán xác nhận"),
        "{}",
        shown.body
    );
    assert!(shown.body.contains("không cần thanh toán lại"));
    let pending = app.db.store.payments.payments(dossier.id).await.unwrap();
    assert_eq!(pending[1].status, PaymentStatus::Pending);

    // the gateway's notification (the same signed fields) settles it: the dossier resumes, the applicant is told
    let notification = back.replace("/thanh-toan/ket-qua?", "/thanh-toan/thong-bao?");
    let answer = app.get(&notification).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.body,
        r#"{"RspCode":"00","Message":"Confirm Success"}"#
    );
    let resumed = app
        .db
        .store
        .dossiers
        .get(dossier.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resumed.status, DossierStatus::Processing);
    assert!(resumed.due_at >= dossier.due_at);
    let paid = app.db.store.payments.payments(dossier.id).await.unwrap();
    assert_eq!(paid[1].status, PaymentStatus::Paid);
    assert!(paid[1].gateway_ref.is_some());
    let queued = app
        .db
        .store
        .outbox
        .claim(
            time::OffsetDateTime::now_utc() + time::Duration::minutes(1),
            time::Duration::minutes(1),
            100,
        )
        .await
        .unwrap();
    assert!(
        queued
            .iter()
            .any(|j| j.payload.contains("đã nhận tiền phí, lệ phí")
                && j.payload.contains("an@example.vn")),
        "the applicant is told"
    );
    let shown = app.get(&back).await;
    assert!(
        shown.body.contains("Thanh toán thành công"),
        "{}",
        shown.body
    );
    // the electronic receipt prints for the applicant and the desk; a failed payment has none
    let receipt = format!("{page}/bien-lai/{}", paid[1].txn_ref);
    let pdf = app.get_with_cookie(&receipt, &mine).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(pdf.headers["content-type"], "application/pdf");
    if let Some(text) = support::pdf_text(&pdf.bytes) {
        assert!(text.contains("BIÊN LAI THU PHÍ, LỆ PHÍ"), "{text}");
        assert!(text.contains("50.000 đ"), "{text}");
        assert!(text.contains(reason), "{text}");
    }
    let desk_pdf = app
        .get_with_cookie(&format!("{office}/bien-lai/{}", paid[1].txn_ref), &desk)
        .await;
    assert_eq!(desk_pdf.status, StatusCode::OK);
    let failed = app
        .get_with_cookie(&format!("{page}/bien-lai/{}", paid[0].txn_ref), &mine)
        .await;
    assert_eq!(failed.status, StatusCode::NOT_FOUND);
    let desk_page = app.get_with_cookie(&office, &desk).await;
    assert!(desk_page.body.contains("Đã nộp đủ."), "{}", desk_page.body);
    assert!(desk_page.body.contains("Đã thanh toán"));

    // the gateway retries: confirmed already, nothing changes
    let again = app.get(&notification).await;
    assert_eq!(
        again.body,
        r#"{"RspCode":"02","Message":"Order already confirmed"}"#
    );
    assert_eq!(
        app.db
            .store
            .dossiers
            .history(dossier.id)
            .await
            .unwrap()
            .len(),
        4,
        "submitted, received, awaiting the fee, processing"
    );
    // nothing left to pay
    let after = app
        .post_form(&format!("{page}/thanh-toan"), "", Some(&mine))
        .await;
    assert_eq!(after.status, StatusCode::CONFLICT);

    // the decision table through HTTP: tampered, unknown order, wrong amount
    let tampered = notification.replace("vnp_BankCode=NCB", "vnp_BankCode=VCB");
    assert!(app.get(&tampered).await.body.contains(r#""RspCode":"97""#));
    let txn = &paid[1].txn_ref;
    let unknown = signed(&[
        ("vnp_Amount", "5000000"),
        ("vnp_ResponseCode", "00"),
        ("vnp_TransactionStatus", "00"),
        ("vnp_TxnRef", "khong-co"),
    ]);
    let reply = app.get(&format!("/thanh-toan/thong-bao?{unknown}")).await;
    assert!(reply.body.contains(r#""RspCode":"01""#), "{}", reply.body);
    let wrong = signed(&[
        ("vnp_Amount", "100"),
        ("vnp_ResponseCode", "00"),
        ("vnp_TransactionStatus", "00"),
        ("vnp_TxnRef", txn),
    ]);
    let reply = app.get(&format!("/thanh-toan/thong-bao?{wrong}")).await;
    assert!(reply.body.contains(r#""RspCode":"04""#), "{}", reply.body);
    // a return the gateway did not sign shows nothing of the payment
    let unsigned = app
        .get(&format!(
            "/thanh-toan/ket-qua?vnp_TxnRef={txn}&vnp_ResponseCode=00"
        ))
        .await;
    assert_eq!(unsigned.status, StatusCode::BAD_REQUEST);
    assert!(!unsigned.body.contains("Thanh toán thành công"));
}

async fn a_fee_paid_at_the_counter_is_recorded_with_its_receipt_on(db: TestStore) {
    let (app, _citizen, dossier) = support::with_submitted_dossier(db).await;
    let reception = person(
        "Trần Thị Bình",
        "binh@minhhoa.example.vn",
        AccountKind::Officer,
        &[&format!("reception@{AGENCY}")],
    );
    let specialist = person(
        "Lê Văn Cường",
        "cuong@minhhoa.example.vn",
        AccountKind::Officer,
        &[&format!("specialist@{AGENCY}")],
    );
    let desk = session_for(&app, &reception, "b").await;
    let expert = session_for(&app, &specialist, "d").await;
    let office = format!("/can-bo/ho-so/{}", dossier.code);
    app.post_form(&office, "hanh_dong=tiep_nhan", Some(&desk))
        .await;
    let set = app
        .post_form(
            &format!("{office}/chuyen"),
            &encode_form(&[
                ("den", "awaiting_financial_obligation"),
                ("so_tien", "1.234.000"),
                ("ly_do", "Phí thẩm định hồ sơ theo diện tích"),
            ]),
            Some(&expert),
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    let counter = format!("{office}/nop-phi");
    // the specialist does not take money at the counter
    let refused = app
        .post_form(
            &counter,
            &encode_form(&[("cach_nop", "tien_mat"), ("so_bien_lai", "BL-0001")]),
            Some(&expert),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // a receipt number is required; the method chosen is kept
    let missing = app
        .post_form(
            &counter,
            &encode_form(&[("cach_nop", "chuyen_khoan")]),
            Some(&desk),
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.body.contains("Nhập số biên lai thu"));
    assert!(missing.body.contains("value=\"chuyen_khoan\" checked"));
    let paid = app
        .post_form(
            &counter,
            &encode_form(&[("cach_nop", "tien_mat"), ("so_bien_lai", "BL-0001")]),
            Some(&desk),
        )
        .await;
    assert_eq!(paid.status, StatusCode::SEE_OTHER, "{}", paid.body);
    let payments = app.db.store.payments.payments(dossier.id).await.unwrap();
    assert_eq!(payments.len(), 1);
    assert_eq!(
        payments[0].provider,
        motcua_domain::payment::Provider::Counter
    );
    assert_eq!(payments[0].status, PaymentStatus::Paid);
    assert_eq!(payments[0].gateway_ref.as_deref(), Some("BL-0001"));
    assert_eq!(payments[0].amount.amount(), 1_234_000);
    let resumed = app
        .db
        .store
        .dossiers
        .get(dossier.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resumed.status, DossierStatus::Processing);
    let page = app.get_with_cookie(&office, &desk).await;
    assert!(page.body.contains("Đã nộp đủ."));
    assert!(page.body.contains("BL-0001"));
    // recorded twice: nothing owed any more
    let again = app
        .post_form(
            &counter,
            &encode_form(&[("cach_nop", "tien_mat"), ("so_bien_lai", "BL-0002")]),
            Some(&desk),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(
        app.db
            .store
            .payments
            .payments(dossier.id)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn a_payment_that_arrives_after_withdrawal_is_flagged_and_refunded_on(db: TestStore) {
    let Owing {
        app,
        dossier,
        desk,
        mine,
        office,
        page,
    } = owing_a_fee(db).await;
    // the applicant goes to the gateway, then withdraws the dossier before paying; the desk agrees
    let go = app
        .post_form(&format!("{page}/thanh-toan"), "", Some(&mine))
        .await;
    let gateway = local(&go);
    let asked = app
        .post_form(&format!("{page}/rut"), WITHDRAW, Some(&mine))
        .await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER, "{}", asked.body);
    let agreed = app
        .post_form(
            &format!("{office}/chuyen"),
            "den=withdrawn&xac_nhan=co",
            Some(&desk),
        )
        .await;
    assert_eq!(agreed.status, StatusCode::SEE_OTHER, "{}", agreed.body);
    // the money arrives anyway: kept, flagged for refund, the dossier stays withdrawn
    let back = choose(&app, &gateway, "thanh_cong").await;
    assert!(app.get(&back).await.body.contains("Thanh toán thành công"));
    let paid = app.db.store.payments.payments(dossier.id).await.unwrap();
    assert_eq!(paid[0].status, PaymentStatus::Paid);
    assert!(
        paid[0]
            .flag
            .as_deref()
            .unwrap_or("")
            .contains("cần hoàn trả"),
        "{:?}",
        paid[0].flag
    );
    let withdrawn = app
        .db
        .store
        .dossiers
        .get(dossier.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(withdrawn.status, DossierStatus::Withdrawn);
    let desk_page = app.get_with_cookie(&office, &desk).await;
    assert!(desk_page.body.contains("cần hoàn trả"));
    assert!(desk_page.body.contains("Ghi nhận đã hoàn trả 50.000 đ"));
    // the refund needs its document; then it is recorded once
    let refund = format!("{office}/hoan-tien");
    let missing = app
        .post_form(
            &refund,
            &encode_form(&[("giao_dich", &paid[0].txn_ref)]),
            Some(&desk),
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.body.contains("Nhập số chứng từ chi hoàn trả"));
    let unknown = app
        .post_form(
            &refund,
            &encode_form(&[("giao_dich", "khong-co"), ("chung_tu", "UNC-0042")]),
            Some(&desk),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.body.contains("Chỉ hoàn trả khoản đã nộp"));
    let done = app
        .post_form(
            &refund,
            &encode_form(&[("giao_dich", &paid[0].txn_ref), ("chung_tu", "UNC-0042")]),
            Some(&desk),
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let refunded = app.db.store.payments.payments(dossier.id).await.unwrap();
    assert_eq!(refunded[0].status, PaymentStatus::Refunded);
    assert!(
        refunded[0]
            .flag
            .as_deref()
            .unwrap_or("")
            .contains("UNC-0042")
    );
    let twice = app
        .post_form(
            &refund,
            &encode_form(&[("giao_dich", &paid[0].txn_ref), ("chung_tu", "UNC-0043")]),
            Some(&desk),
        )
        .await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mine_page = app.get_with_cookie(&page, &mine).await;
    assert!(
        mine_page.body.contains("Đã hoàn tiền"),
        "the applicant sees the refund"
    );
}

async fn payments_left_pending_are_settled_by_reconciliation_on(db: TestStore) {
    let Owing {
        app,
        dossier,
        mine,
        page,
        ..
    } = owing_a_fee(db).await;
    // one attempt is abandoned before the gateway's page; the next is paid but its notification is lost
    app.post_form(&format!("{page}/thanh-toan"), "", Some(&mine))
        .await;
    let go = app
        .post_form(&format!("{page}/thanh-toan"), "", Some(&mine))
        .await;
    choose(&app, &local(&go), "mat_ipn").await;
    let now = time::OffsetDateTime::now_utc();
    assert_eq!(
        motcua_web::payments::reconcile(&app.state, now)
            .await
            .unwrap(),
        0,
        "too early: the gateway's page may still be open"
    );
    let later = now + motcua_web::payments::RECONCILE_AFTER + time::Duration::minutes(1);
    assert_eq!(
        motcua_web::payments::reconcile(&app.state, later)
            .await
            .unwrap(),
        2
    );
    let payments = app.db.store.payments.payments(dossier.id).await.unwrap();
    assert_eq!(
        payments[0].status,
        PaymentStatus::Failed,
        "the abandoned attempt"
    );
    assert_eq!(
        payments[1].status,
        PaymentStatus::Paid,
        "the lost notification"
    );
    let resumed = app
        .db
        .store
        .dossiers
        .get(dossier.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resumed.status, DossierStatus::Processing);
    assert_eq!(
        motcua_web::payments::reconcile(&app.state, later)
            .await
            .unwrap(),
        0,
        "nothing is settled twice"
    );
}

on_both_backends!(
    a_second_provider_plugs_in_without_touching_the_dossier_code,
    a_second_provider_plugs_in_without_touching_the_dossier_code_on_postgresql,
    a_second_provider_plugs_in_without_touching_the_dossier_code_on
);

/// The national payment platform (`domain.md` §10) as a second provider, written here against the public
/// interface only: its own field names, its check code (SHA-256 over the fields joined with `|` and the secret), a
/// JSON notification posted to the portal and its own JSON answer (`MaLoi`).
struct NationalPlatform {
    secret: String,
}

#[async_trait::async_trait]
impl motcua_web::payments::PaymentGateway for NationalPlatform {
    fn provider(&self) -> Provider {
        Provider::NationalPlatform
    }

    fn pay_url(&self, r: &motcua_web::payments::PayRequest<'_>) -> Option<String> {
        let amount = r.payment.amount.amount().to_string();
        let check = national_check_code(&[&r.payment.txn_ref, &amount], &self.secret);
        Some(format!(
            "https://thanhtoan.dichvucong.example.vn/thanh-toan?MaThamChieu={}&SoTien={amount}&MaXacThuc={check}",
            r.payment.txn_ref
        ))
    }

    fn read(&self, f: &motcua_web::payments::Fields) -> Option<Notice> {
        let get = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
        let check = national_check_code(
            &[
                get("MaThamChieu"),
                get("SoTien"),
                get("MaKetQua"),
                get("MaGiaoDich"),
            ],
            &self.secret,
        );
        (check == get("MaXacThuc")).then(|| Notice {
            txn_ref: get("MaThamChieu").to_string(),
            amount: get("SoTien").parse().ok().and_then(|a| Vnd::new(a).ok()),
            paid: get("MaKetQua") == "00",
            gateway_ref: Some(get("MaGiaoDich").to_string()),
            bank_code: None,
        })
    }

    fn reply(&self, outcome: Outcome) -> (&'static str, String) {
        let code = match outcome {
            Outcome::Confirmed => "00",
            Outcome::AlreadyConfirmed => "02",
            Outcome::OrderNotFound => "01",
            Outcome::InvalidAmount => "04",
            Outcome::InvalidSignature => "97",
            Outcome::Unknown => "99",
        };
        ("application/json", format!("{{\"MaLoi\":\"{code}\"}}"))
    }

    fn failure(&self, _: &motcua_web::payments::Fields) -> &'static str {
        "Giao dịch không thành công."
    }

    // the platform's QUERY message is not modelled here: a pending payment waits for its notification
    async fn query(
        &self,
        _: &motcua_web::AppState,
        _: &motcua_domain::payment::Payment,
    ) -> Result<motcua_domain::payment::QueryAnswer, String> {
        Ok(motcua_domain::payment::QueryAnswer::InProgress)
    }
}

async fn a_second_provider_plugs_in_without_touching_the_dossier_code_on(db: TestStore) {
    let Owing {
        mut app,
        dossier,
        mine,
        page,
        ..
    } = owing_a_fee(db).await;
    let secret = "BI-MAT-NEN-TANG-THANH-TOAN-QUOC-GIA";
    app.state = app
        .state
        .clone()
        .with_gateway(std::sync::Arc::new(NationalPlatform {
            secret: secret.into(),
        }));
    let go = app
        .post_form(&format!("{page}/thanh-toan"), "", Some(&mine))
        .await;
    assert_eq!(go.status, StatusCode::SEE_OTHER, "{}", go.body);
    let to = go.headers["location"].to_str().unwrap().to_string();
    assert!(
        to.starts_with("https://thanhtoan.dichvucong.example.vn/thanh-toan?MaThamChieu="),
        "{to}"
    );
    assert!(to.contains("SoTien=50000"), "{to}");
    let txn = to
        .split_once("MaThamChieu=")
        .unwrap()
        .1
        .split('&')
        .next()
        .unwrap()
        .to_string();
    let payment = app.db.store.payments.by_ref(&txn).await.unwrap().unwrap();
    assert_eq!(payment.provider, Provider::NationalPlatform);

    // the platform posts its JSON notification; a wrong check code changes nothing
    let notify = |amount: &str, check: Option<&str>| {
        let code = national_check_code(&[&txn, amount, "00", "QG-778899"], secret);
        format!(
            r#"{{"MaThamChieu":"{txn}","SoTien":{amount},"MaKetQua":"00","MaGiaoDich":"QG-778899","MaXacThuc":"{}"}}"#,
            check.unwrap_or(&code)
        )
    };
    let send = |body: String| {
        let app = &app;
        async move {
            app.send(
                "POST",
                "/thanh-toan/thong-bao",
                &[("content-type", "application/json")],
                &body,
            )
            .await
        }
    };
    let forged = send(notify("50000", Some("00ff"))).await;
    assert_eq!(forged.body, r#"{"MaLoi":"97"}"#);
    let wrong_amount = send(notify("5000", None)).await;
    assert_eq!(wrong_amount.body, r#"{"MaLoi":"04"}"#);
    assert_eq!(
        app.db
            .store
            .payments
            .by_ref(&txn)
            .await
            .unwrap()
            .unwrap()
            .status,
        PaymentStatus::Pending
    );
    let paid = send(notify("50000", None)).await;
    assert_eq!(paid.body, r#"{"MaLoi":"00"}"#);
    let again = send(notify("50000", None)).await;
    assert_eq!(again.body, r#"{"MaLoi":"02"}"#);
    // the same settlement as through VNPay: paid once, the dossier back in processing, the receipt there
    let settled = app.db.store.payments.by_ref(&txn).await.unwrap().unwrap();
    assert_eq!(settled.status, PaymentStatus::Paid);
    assert_eq!(settled.gateway_ref.as_deref(), Some("QG-778899"));
    let now = app
        .db
        .store
        .dossiers
        .get(dossier.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.status, DossierStatus::Processing);
    let theirs = app.get_with_cookie(&page, &mine).await;
    assert!(
        theirs.body.contains("Nền tảng thanh toán") || theirs.body.contains("QG-778899"),
        "{}",
        theirs.body
    );
    assert!(theirs.body.contains(&format!("/bien-lai/{txn}")));
}

on_both_backends!(
    a_fee_due_at_submission_is_paid_before_the_dossier_reaches_reception,
    a_fee_due_at_submission_is_paid_before_the_dossier_reaches_reception_on_postgresql,
    a_fee_due_at_submission_is_paid_before_the_dossier_reaches_reception_on
);

async fn a_fee_due_at_submission_is_paid_before_the_dossier_reaches_reception_on(db: TestStore) {
    use motcua_domain::{
        AgencyCode, CaseKey, FeeDue, OnlineServiceLevel, ProcedureCode, ServiceLevelAssignment,
        form::Answers,
        submission::{Draft, DraftId},
    };
    use motcua_testkit::fixtures::{self, PROCEDURE};
    fixtures::seed_minimal(&db.store).await;
    // the fixture's levy (100.000 đ, online 70.000 đ) is collected with the online submission, at level 4
    let code = ProcedureCode::parse(PROCEDURE).unwrap();
    let mut procedure = db
        .store
        .catalogue
        .get_procedure(&code)
        .await
        .unwrap()
        .unwrap()
        .procedure;
    procedure.cases[0].fees[0].due = FeeDue::AtSubmission;
    // 70.000 đ when submitted online
    procedure.cases[0].fees[0].online_amount = Some(Vnd::new(70_000).unwrap());
    db.store
        .catalogue
        .save_procedure(&procedure, time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    let version = db
        .store
        .catalogue
        .get_procedure(&code)
        .await
        .unwrap()
        .unwrap()
        .version;
    db.store
        .catalogue
        .set_service_level(&ServiceLevelAssignment {
            procedure: code.clone(),
            case: CaseKey::parse("mac-dinh").unwrap(),
            agency: AgencyCode::parse(AGENCY).unwrap(),
            level: OnlineServiceLevel::Level4,
            effective_from: time::macros::date!(2024 - 01 - 01),
        })
        .await
        .unwrap();
    let app = TestApp::new(db).await;
    let shown = app.get(&format!("/thu-tuc/{PROCEDURE}")).await;
    assert!(
        shown.body.contains("100.000 đ (nộp trực tuyến: 70.000 đ)"),
        "{}",
        shown.body
    );
    assert!(shown.body.contains("Khi nộp hồ sơ"));
    let citizen = person("Nguyễn Văn An", "an@example.vn", AccountKind::Citizen, &[]);
    let mine = session_for(&app, &citizen, "c").await;
    let desk = session_for(
        &app,
        &person(
            "Trần Thị Bình",
            "binh@minhhoa.example.vn",
            AccountKind::Officer,
            &[&format!("reception@{AGENCY}")],
        ),
        "b",
    )
    .await;
    let mut answers = Answers::new();
    for (k, v) in [
        ("nop_thay", "khong"),
        ("nguoi_nop_ho_ten", "Nguyễn Văn An"),
        ("nguoi_nop_so_dinh_danh", "001099012345"),
        ("nguoi_nop_dien_thoai", "0912345678"),
        ("nguoi_nop_email", "an@example.vn"),
        ("nguoi_nop_dia_chi.tinh", "Tỉnh Đắk Lắk"),
        ("nguoi_nop_dia_chi.xa", "Phường Tân Lập"),
        ("noi_dung_de_nghi", "Đăng ký khai sinh cho con"),
    ] {
        answers.insert(k.into(), vec![v.into()]);
    }
    let now = time::OffsetDateTime::now_utc();
    let draft = Draft {
        id: DraftId::new(),
        account: citizen.id,
        procedure: code,
        procedure_version: version,
        case: CaseKey::parse("mac-dinh").unwrap(),
        agency: AgencyCode::parse(AGENCY).unwrap(),
        answers,
        created_at: now,
        updated_at: now,
        dossier: None,
    };
    app.db.store.submissions.save_draft(&draft).await.unwrap();
    let upload = support::draft_upload(&citizen, draft.id, "to-khai.pdf", 40);
    app.put_file(&upload.object_key, b"%PDF-1.4\n%%EOF\n").await;
    app.db
        .store
        .submissions
        .add_upload(&upload, u64::MAX)
        .await
        .unwrap();

    // the check page says what is paid now, and offers the result by post
    let check = format!("/ho-so-nhap/{}/kiem-tra", draft.id);
    let page = app.get_with_cookie(&check, &mine).await;
    assert!(
        page.body
            .contains("Thanh toán trực tuyến 70.000 đ ngay sau khi nộp hồ sơ"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Gửi kết quả bản giấy qua bưu chính"));
    let mut by_post = vec![
        ("cam_doan", "co"),
        ("buu_chinh", "co"),
        ("nguoi_nhan", "Nguyễn Văn An"),
        ("dien_thoai_nhan", "0912345678"),
        ("tinh_thanh", ""),
        ("xa_phuong", "Phường Tân Lập"),
        ("dia_chi", "12 Lê Duẩn"),
    ];
    let refused = app
        .post_form(&check, &encode_form(&by_post), Some(&mine))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("Chọn tỉnh, thành phố trong danh sách")
    );
    assert!(refused.body.contains("value=\"12 Lê Duẩn\""));
    assert!(
        refused
            .body
            .contains("id=\"buu_chinh\" name=\"buu_chinh\" value=\"co\" checked")
    );
    by_post[4] = ("tinh_thanh", "Tỉnh Đắk Lắk");
    let sent = app
        .post_form(&check, &encode_form(&by_post), Some(&mine))
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let dossier_code = local(&sent)
        .trim_start_matches("/ho-so/")
        .trim_end_matches("/da-nop")
        .to_string();
    let page = format!("/ho-so/{dossier_code}");
    let dossier = app
        .db
        .store
        .dossiers
        .get_by_code(&dossier_code.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let charges = app.db.store.payments.charges(dossier.id).await.unwrap();
    assert_eq!(charges.len(), 1);
    assert_eq!(charges[0].amount.amount(), 70_000);
    // the address was kept with the submission
    let delivery = app
        .db
        .store
        .deliveries
        .delivery(dossier.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        delivery.address.one_line(),
        "12 Lê Duẩn, Phường Tân Lập, Tỉnh Đắk Lắk"
    );
    assert!(
        charges[0].reason.contains("Lệ phí"),
        "{}",
        charges[0].reason
    );
    // not at the desk until paid, and not received by its address either
    let queue = app.get_with_cookie("/can-bo/tiep-nhan", &desk).await;
    assert!(!queue.body.contains(&dossier_code), "{}", queue.body);
    let office = format!("/can-bo/ho-so/{dossier_code}");
    let early = app
        .post_form(&office, "hanh_dong=tiep_nhan", Some(&desk))
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    assert!(
        early.body.contains("chỉ tiếp nhận sau khi thanh toán"),
        "{}",
        early.body
    );
    assert!(
        !early.body.contains("name=\"hanh_dong\""),
        "no reception form yet"
    );
    let theirs = app.get_with_cookie(&page, &mine).await;
    assert!(theirs.body.contains("Cần nộp: 70.000 đ"), "{}", theirs.body);
    assert!(
        theirs
            .body
            .contains("được chuyển đến bộ phận tiếp nhận ngay sau khi bạn thanh toán")
    );
    let go = app
        .post_form(&format!("{page}/thanh-toan"), "", Some(&mine))
        .await;
    assert_eq!(go.status, StatusCode::SEE_OTHER, "{}", go.body);
    choose(&app, &local(&go), "thanh_cong").await;
    // paid: in the desk's queue, still waiting for reception, and the desk told
    let paid = app.db.store.payments.charges(dossier.id).await.unwrap();
    assert!(paid[0].paid_at.is_some());
    let queue = app.get_with_cookie("/can-bo/tiep-nhan", &desk).await;
    assert!(queue.body.contains(&dossier_code), "{}", queue.body);
    let now = app
        .db
        .store
        .dossiers
        .get(dossier.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.status, DossierStatus::Submitted);
    let mail = app.deliver_mail().await;
    let to_desk: Vec<_> = mail
        .iter()
        .filter(|m| m.subject.contains("chờ tiếp nhận"))
        .collect();
    assert_eq!(to_desk.len(), 1, "{mail:#?}");
    assert_eq!(to_desk[0].to, "binh@minhhoa.example.vn");
    let applicant = mail
        .iter()
        .find(|m| m.subject.contains("Đã nhận hồ sơ"))
        .expect("the receipt mail");
    assert!(
        applicant.body.contains("thu 70.000 đ khi nộp hồ sơ"),
        "{}",
        applicant.body
    );
}

on_both_backends!(
    a_pending_payment_is_settled_through_vnpays_status_query,
    a_pending_payment_is_settled_through_vnpays_status_query_on_postgresql,
    a_pending_payment_is_settled_through_vnpays_status_query_on
);

/// VNPay's merchant API played over real HTTP: it checks the signed `querydr` request and answers, call after call,
/// "in progress", then with a forged signature, then "paid" — each answer signed as VNPay signs it.
async fn fake_vnpay_api(
    secret: &'static str,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let app = axum::Router::new().route(
        "/merchant_webapi/api/transaction",
        axum::routing::post(move |axum::Json(asked): axum::Json<vnpay::Fields>| {
            let counter = counter.clone();
            async move {
                assert!(
                    vnpay::pipe_verify(&asked, &vnpay::QUERY_SIGNED, secret.as_bytes()),
                    "a signed querydr: {asked:?}"
                );
                assert_eq!(asked["vnp_Command"], "querydr");
                let call = counter.fetch_add(1, Ordering::SeqCst);
                let status = if call == 0 { "01" } else { "00" };
                let mut answer: vnpay::Fields = [
                    ("vnp_ResponseId", "r"),
                    ("vnp_Command", "querydr"),
                    ("vnp_ResponseCode", "00"),
                    ("vnp_Message", "QueryDR Success"),
                    ("vnp_TmnCode", asked["vnp_TmnCode"].as_str()),
                    ("vnp_TxnRef", asked["vnp_TxnRef"].as_str()),
                    ("vnp_Amount", "5000000"),
                    ("vnp_BankCode", "NCB"),
                    ("vnp_PayDate", "20261129120000"),
                    ("vnp_TransactionNo", "14555666"),
                    ("vnp_TransactionType", "01"),
                    ("vnp_TransactionStatus", status),
                    ("vnp_OrderInfo", "Thanh toan"),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
                let key = if call == 1 { "not the secret" } else { secret };
                let hash = vnpay::pipe_sign(&answer, &vnpay::ANSWER_SIGNED, key.as_bytes());
                answer.insert(vnpay::SECURE_HASH.into(), hash);
                axum::Json(answer)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (
        format!("http://{addr}/merchant_webapi/api/transaction"),
        calls,
    )
}

async fn a_pending_payment_is_settled_through_vnpays_status_query_on(db: TestStore) {
    const SECRET: &str = "KHOA-BI-MAT-CUA-VNPAY-CAP-CHO-DON-VI";
    let Owing {
        mut app,
        dossier,
        mine,
        page,
        ..
    } = owing_a_fee(db).await;
    let (api_url, calls) = fake_vnpay_api(SECRET).await;
    app.state = app.state.clone().with_payments(PaymentSettings {
        tmn_code: "MOTCUA01".into(),
        secret: SECRET.into(),
        gateway_url: "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html".into(),
        api_url,
        sandbox: false,
    });
    let go = app
        .post_form(&format!("{page}/thanh-toan"), "", Some(&mine))
        .await;
    assert_eq!(go.status, StatusCode::SEE_OTHER, "{}", go.body);
    let to = go.headers["location"].to_str().unwrap().to_string();
    assert!(
        to.starts_with("https://sandbox.vnpayment.vn/paymentv2/vpcpay.html?"),
        "{to}"
    );
    let txn = to
        .split_once("vnp_TxnRef=")
        .unwrap()
        .1
        .split('&')
        .next()
        .unwrap()
        .to_string();
    // the applicant closed the browser at the gateway; no notification came
    let later = time::OffsetDateTime::now_utc() + time::Duration::minutes(21);
    let status = |app: &TestApp| {
        let txn = txn.clone();
        let store = app.db.store.clone();
        async move { store.payments.by_ref(&txn).await.unwrap().unwrap().status }
    };
    // not asked before the gateway's page has closed
    assert_eq!(
        motcua_web::payments::reconcile(&app.state, time::OffsetDateTime::now_utc())
            .await
            .unwrap(),
        0
    );
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 0);
    // still in progress at the gateway; then an answer with a forged signature: nothing changes
    for _ in 0..2 {
        assert_eq!(
            motcua_web::payments::reconcile(&app.state, later)
                .await
                .unwrap(),
            0
        );
        assert_eq!(status(&app).await, PaymentStatus::Pending);
    }
    // paid: settled through the same checks as a notification, the dossier back in processing
    assert_eq!(
        motcua_web::payments::reconcile(&app.state, later)
            .await
            .unwrap(),
        1
    );
    assert_eq!(status(&app).await, PaymentStatus::Paid);
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 3);
    let now = app
        .db
        .store
        .dossiers
        .get(dossier.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.status, DossierStatus::Processing);
    // settled once: asked no more
    assert_eq!(
        motcua_web::payments::reconcile(&app.state, later)
            .await
            .unwrap(),
        0
    );
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 3);
}

on_both_backends!(
    an_officer_resumes_an_unpaid_dossier_only_with_a_legal_ground,
    an_officer_resumes_an_unpaid_dossier_only_with_a_legal_ground_on_postgresql,
    an_officer_resumes_an_unpaid_dossier_only_with_a_legal_ground_on
);

async fn an_officer_resumes_an_unpaid_dossier_only_with_a_legal_ground_on(db: TestStore) {
    let Owing {
        app,
        dossier,
        desk,
        mine,
        office,
        page,
    } = owing_a_fee(db).await;
    let move_on = format!("{office}/chuyen");
    let bare = app.post_form(&move_on, "den=processing", Some(&desk)).await;
    assert_eq!(bare.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bare.body.contains("ghi căn cứ miễn, giảm"), "{}", bare.body);
    let ground = "Miễn theo khoản 2 Điều 3 Nghị quyết 15/2025/NQ-HĐND";
    let r = app
        .post_form(
            &move_on,
            &encode_form(&[("den", "processing"), ("ly_do", ground)]),
            Some(&desk),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let history = app.db.store.dossiers.history(dossier.id).await.unwrap();
    let last = history.last().unwrap();
    assert_eq!(last.to, DossierStatus::Processing);
    assert!(last.reason.as_deref().unwrap_or("").contains(ground));
    // the fee stays listed as not paid, with its ground and nothing to pay it with
    let theirs = app.get_with_cookie(&page, &mine).await;
    assert!(theirs.body.contains("chưa nộp"), "{}", theirs.body);
    assert!(theirs.body.contains(ground), "{}", theirs.body);
    assert!(!theirs.body.contains("Thanh toán trực tuyến"));
    let pay = app
        .post_form(&format!("{page}/thanh-toan"), "", Some(&mine))
        .await;
    assert_eq!(pay.status, StatusCode::CONFLICT);
    let charges = app.db.store.payments.charges(dossier.id).await.unwrap();
    assert_eq!(
        charges[0].waived.as_ref().map(|w| w.1.as_str()),
        Some(ground)
    );
    // a later fee is the one owed and paid: the waived one is not asked for again
    let r = app
        .post_form(
            &move_on,
            &encode_form(&[
                ("den", "awaiting_financial_obligation"),
                ("so_tien", "20.000"),
                ("ly_do", "Phí cấp thêm bản sao theo yêu cầu"),
            ]),
            Some(&desk),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let theirs = app.get_with_cookie(&page, &mine).await;
    assert!(theirs.body.contains("Cần nộp: 20.000 đ"), "{}", theirs.body);
    let go = app
        .post_form(&format!("{page}/thanh-toan"), "", Some(&mine))
        .await;
    assert!(local(&go).contains("vnp_Amount=2000000"), "{}", local(&go));
    choose(&app, &local(&go), "thanh_cong").await;
    let now = app
        .db
        .store
        .dossiers
        .get(dossier.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        now.status,
        DossierStatus::Processing,
        "resumed once the new fee is paid"
    );
}
