//! The reception desk: the queue of online dossiers, the officer's view, and accept / supplement / refuse with
//! the due time computed in working time and the applicant told by e-mail in the same commit.

#[macro_use]
mod support;

use axum::http::{StatusCode, header};
use motcua_domain::{AccountId, AccountKind, CaseKey, DossierStatus, ProcedureCode};
use motcua_testkit::{
    TestStore,
    fixtures::{AGENCY, OTHER_AGENCY, PROCEDURE},
};
use support::TestApp;
use time::{Duration, OffsetDateTime};

use support::{pdf_text, person, session_for as login};

use support::with_submitted_dossier as setup;

on_both_backends!(
    a_reception_officer_accepts_with_a_working_time_due_date_and_the_citizen_is_told,
    a_reception_officer_accepts_with_a_working_time_due_date_and_the_citizen_is_told_on_postgresql,
    a_reception_officer_accepts_with_a_working_time_due_date_and_the_citizen_is_told_on
);

async fn a_reception_officer_accepts_with_a_working_time_due_date_and_the_citizen_is_told_on(
    db: TestStore,
) {
    let (app, _, dossier) = setup(db).await;
    let officer = person(
        "Trần Thị Tiếp Nhận",
        "tiepnhan@example.vn",
        AccountKind::Officer,
        &[&format!("reception@{AGENCY}")],
    );
    let cookie = login(&app, &officer, "d").await;
    let queue = app.get_with_cookie("/can-bo/tiep-nhan", &cookie).await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.body);
    assert!(queue.body.contains(&dossier.code.to_string()));
    assert!(queue.body.contains("Trong hạn") || queue.body.contains("Sắp đến hạn"));
    let path = format!("/can-bo/ho-so/{}", dossier.code);
    let page = app.get_with_cookie(&path, &cookie).await;
    assert!(page.body.contains("Đăng ký khai sinh"));
    assert!(page.body.contains("hẹn trả kết quả"));
    // a choice is required; a refusal needs its reason
    let none = app.post_form(&path, "ly_do=", Some(&cookie)).await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bare = app
        .post_form(&path, "hanh_dong=tu_choi&ly_do=", Some(&cookie))
        .await;
    assert_eq!(bare.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bare.body.contains("Ghi rõ lý do từ chối"));
    // accept
    let before = OffsetDateTime::now_utc();
    let ok = app
        .post_form(&path, "hanh_dong=tiep_nhan", Some(&cookie))
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let back = ok.headers[header::LOCATION].to_str().unwrap().to_string();
    assert_eq!(
        back,
        format!("/can-bo/tiep-nhan?vua_xu_ly={}", dossier.code)
    );
    let received = app
        .db
        .store
        .dossiers
        .get(dossier.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(received.status, DossierStatus::Received);
    // the queue says it worked, with the due time and the slip to print
    let banner = app.get_with_cookie(&back, &cookie).await;
    assert!(
        banner.body.contains(&format!(
            "Đã tiếp nhận hồ sơ {}, hẹn trả {}",
            dossier.code,
            motcua_domain::vntime::format_datetime(received.due_at.unwrap())
        )),
        "{}",
        banner.body
    );
    assert!(
        banner
            .body
            .contains(&format!("/can-bo/ho-so/{}/phieu/01", dossier.code))
    );
    // the timeline names who did what, never an account identifier
    let page = app
        .get_with_cookie(&format!("/can-bo/ho-so/{}", dossier.code), &cookie)
        .await;
    let timeline = page.body.split("timeline").nth(1).unwrap_or(&page.body);
    assert!(timeline.contains("Công dân Nguyễn Văn An"), "{}", page.body);
    assert!(timeline.contains("Trần Thị Tiếp Nhận"));
    assert!(!page.body.contains(&officer.id.to_string()));
    // a code the officer may not see gives no banner
    let other = app
        .get_with_cookie(
            "/can-bo/tiep-nhan?vua_xu_ly=000.00.07.H56-231027-0001",
            &cookie,
        )
        .await;
    assert!(!other.body.contains("Đã tiếp nhận hồ sơ"));
    // 5 working days in working time from now, by the same calendar
    let cal = motcua_calendar::WorkCalendar::new(
        Default::default(),
        motcua_calendar::Holidays::built_in(),
    );
    let due = received.due_at.expect("a due time");
    let expected = cal.due(before, motcua_calendar::Limit::WorkingDays(5), None);
    assert!(
        (due - expected).abs() < Duration::seconds(5),
        "{due} vs {expected}"
    );
    assert_eq!(
        cal.between(cal.start_of_counting(before, None), due)
            .whole_minutes(),
        40 * 60
    );
    // slip 01 prints with the due time and the officer's name, for the officer and for the applicant
    let slip = app
        .get_with_cookie(&format!("{path}/phieu/01"), &cookie)
        .await;
    assert_eq!(slip.status, StatusCode::OK);
    assert!(slip.bytes.starts_with(b"%PDF-"));
    // version 2, as Circular 01/2018 and 03/2025 print it: every field the form has
    if let Some(text) = support::pdf_layout_text(&slip.bytes) {
        let received_at = app
            .db
            .store
            .dossiers
            .history(dossier.id)
            .await
            .unwrap()
            .iter()
            .rev()
            .find(|e| e.to == DossierStatus::Received)
            .unwrap()
            .at;
        let today = motcua_domain::vntime::vn_date(received_at);
        for field in [
            "Mẫu số 01 (phiên bản 2)".to_string(),
            "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ".into(),
            format!("Số: {}/TNHS", dossier.code),
            motcua_domain::vntime::place_and_date(Some("Minh Hòa"), today),
            "Tiếp nhận hồ sơ của:".into(),
            "Nguyễn Văn An".into(),
            "Số điện thoại:".into(),
            "Thư điện tử:".into(),
            "Nội dung yêu cầu giải quyết:".into(),
            "Số lượng hồ sơ:".into(),
            "Thời gian giải quyết theo quy định:".into(),
            "5 ngày làm việc".into(),
            "Thời gian nhận hồ sơ:".into(),
            motcua_domain::vntime::format_in_words(received_at),
            "Thời gian trả kết quả:".into(),
            motcua_domain::vntime::format_in_words(due),
            "Thành phần hồ sơ đã nhận:".into(),
            "Tên giấy tờ".into(),
            "NGƯỜI NỘP HỒ SƠ".into(),
            "NGƯỜI TIẾP NHẬN HỒ SƠ".into(),
            "Trần Thị Tiếp Nhận".into(),
        ] {
            assert!(
                text.contains(&field),
                "{field} missing from slip 01:\n{text}"
            );
        }
        // the table's header names originals, certified copies and copies
        for header in ["Bản", "chính", "chứng thực", "Tệp điện"] {
            assert!(text.contains(header), "{header}: {text}");
        }
        assert_eq!(text.matches("\u{c}").count(), 1, "one page: {text}");
        // the request in full, however it wraps
        let flowing = pdf_text(&slip.bytes).unwrap_or_default();
        let flowing = flowing.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flowing.contains("Đăng ký khai sinh — Trường hợp thông thường"),
            "{flowing}"
        );
    }
    // no refusal slip for a dossier that was not refused
    assert_eq!(
        app.get_with_cookie(&format!("{path}/phieu/03"), &cookie)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // the citizen's mail is queued (with the submission's), and the dossier left the queue
    assert_eq!(app.db.store.outbox.pending().await.unwrap(), 2);
    let queue = app.get_with_cookie("/can-bo/tiep-nhan", &cookie).await;
    assert!(!queue.body.contains(&dossier.code.to_string()));
    // a second answer (another officer at the same moment) is refused, nothing changes
    let again = app
        .post_form(
            &path,
            "hanh_dong=tu_choi&ly_do=Thiếu giấy tờ quan trọng",
            Some(&cookie),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("Hồ sơ không còn chờ tiếp nhận"));
    assert_eq!(
        app.db
            .store
            .dossiers
            .history(dossier.id)
            .await
            .unwrap()
            .len(),
        2
    );
}

on_both_backends!(
    a_supplement_request_records_everything_missing_with_the_pause,
    a_supplement_request_records_everything_missing_with_the_pause_on_postgresql,
    a_supplement_request_records_everything_missing_with_the_pause_on
);

async fn a_supplement_request_records_everything_missing_with_the_pause_on(db: TestStore) {
    let (app, citizen, dossier) = setup(db).await;
    let officer = person(
        "Cán bộ",
        "cb@example.vn",
        AccountKind::Officer,
        &[&format!("reception@{AGENCY}")],
    );
    let cookie = login(&app, &officer, "e").await;
    let path = format!("/can-bo/ho-so/{}", dossier.code);
    let reply = app
        .post_form(
            &path,
            "hanh_dong=bo_sung&ly_do=1.%20T%E1%BB%9D%20khai%3A%20thi%E1%BA%BFu%20ch%E1%BB%AF%20k%C3%BD",
            Some(&cookie),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let d = app
        .db
        .store
        .dossiers
        .get(dossier.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.status, DossierStatus::SupplementRequested);
    let _ = citizen;
    let history = app.db.store.dossiers.history(dossier.id).await.unwrap();
    assert_eq!(
        history.last().unwrap().reason.as_deref(),
        Some("1. Tờ khai: thiếu chữ ký")
    );
}

on_both_backends!(
    officers_of_other_agencies_and_citizens_are_refused,
    officers_of_other_agencies_and_citizens_are_refused_on_postgresql,
    officers_of_other_agencies_and_citizens_are_refused_on
);

async fn officers_of_other_agencies_and_citizens_are_refused_on(db: TestStore) {
    let (app, _, dossier) = setup(db).await;
    let elsewhere = person(
        "Cán bộ khác",
        "khac@example.vn",
        AccountKind::Officer,
        &[&format!("reception@{OTHER_AGENCY}")],
    );
    let cookie = login(&app, &elsewhere, "f").await;
    let path = format!("/can-bo/ho-so/{}", dossier.code);
    assert_eq!(
        app.get_with_cookie(&path, &cookie).await.status,
        StatusCode::FORBIDDEN
    );
    let posted = app
        .post_form(&path, "hanh_dong=tiep_nhan", Some(&cookie))
        .await;
    assert_eq!(posted.status, StatusCode::FORBIDDEN);
    let queue = app.get_with_cookie("/can-bo/tiep-nhan", &cookie).await;
    assert!(!queue.body.contains(&dossier.code.to_string()));
    let someone = person("Công dân", "cd@example.vn", AccountKind::Citizen, &[]);
    let cookie = login(&app, &someone, "1").await;
    assert_eq!(
        app.get_with_cookie("/can-bo/tiep-nhan", &cookie)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get_with_cookie(&path, &cookie).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.db
            .store
            .dossiers
            .get(dossier.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        DossierStatus::Submitted
    );
}

on_both_backends!(
    a_dossier_goes_from_reception_through_processing_and_approval_to_delivery_by_role,
    a_dossier_goes_from_reception_through_processing_and_approval_to_delivery_by_role_on_postgresql,
    a_dossier_goes_from_reception_through_processing_and_approval_to_delivery_by_role_on
);

async fn a_dossier_goes_from_reception_through_processing_and_approval_to_delivery_by_role_on(
    db: TestStore,
) {
    let (app, _, dossier) = setup(db).await;
    let desk = person(
        "Tiếp nhận",
        "tn@example.vn",
        AccountKind::Officer,
        &[&format!("reception@{AGENCY}")],
    );
    let specialist = person(
        "Chuyên viên",
        "cv@example.vn",
        AccountKind::Officer,
        &[&format!("specialist@{AGENCY}")],
    );
    let head = person(
        "Trưởng phòng",
        "tp@example.vn",
        AccountKind::Officer,
        &[&format!("head_of_unit@{AGENCY}")],
    );
    let (specialist_id, head_id) = (specialist.id, head.id);
    let (desk, specialist, head) = (
        login(&app, &desk, "7").await,
        login(&app, &specialist, "8").await,
        login(&app, &head, "9").await,
    );
    let path = format!("/can-bo/ho-so/{}", dossier.code);
    let status = || async {
        app.db
            .store
            .dossiers
            .get(dossier.id)
            .await
            .unwrap()
            .unwrap()
    };
    let go = |cookie: String, body: &'static str| {
        let path = format!("{path}/chuyen");
        let app = &app;
        async move { app.post_form(&path, body, Some(&cookie)).await }
    };
    assert_eq!(
        app.post_form(&path, "hanh_dong=tiep_nhan", Some(&desk))
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let due = status().await.due_at.unwrap();
    // no approval before the workflow: nothing is skipped
    let skip = go(head.clone(), "den=processed").await;
    assert_eq!(skip.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        skip.body.contains("chưa vào quy trình xử lý"),
        "{}",
        skip.body
    );
    assert_eq!(status().await.status, DossierStatus::Received);

    // the specialist sees what they may do, and only that
    let page = app.get_with_cookie(&path, &specialist).await;
    assert!(page.body.contains("Chuyển xử lý"), "{}", page.body);
    assert!(!page.body.contains("Phê duyệt"));
    assert_eq!(
        go(specialist.clone(), "den=processing").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(status().await.status, DossierStatus::Processing);
    // approving is the head of unit's: refused (and audited)
    assert_eq!(
        go(specialist.clone(), "den=processed").await.status,
        StatusCode::FORBIDDEN
    );
    // a supplement request needs a reason
    let bare = go(specialist.clone(), "den=supplement_requested&ly_do=").await;
    assert_eq!(bare.status, StatusCode::UNPROCESSABLE_ENTITY);
    let ask = go(specialist.clone(), "den=supplement_requested&ly_do=B%E1%BA%A3n%20sao%20gi%E1%BA%A5y%20t%E1%BB%9D%20b%E1%BB%8B%20m%E1%BB%9D").await;
    assert_eq!(ask.status, StatusCode::SEE_OTHER);
    assert_eq!(status().await.status, DossierStatus::SupplementRequested);
    assert_eq!(
        go(specialist.clone(), "den=processing").await.status,
        StatusCode::SEE_OTHER
    );
    // the pause is added back: the due time never moves earlier
    assert!(status().await.due_at.unwrap() >= due);
    // a second supplement request needs the head of unit
    let second = "den=supplement_requested&ly_do=Thi%E1%BA%BFu%20b%E1%BA%A3n%20ch%C3%ADnh%20t%E1%BB%9D%20khai";
    assert_eq!(
        go(specialist.clone(), second).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(go(head.clone(), second).await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        go(head.clone(), "den=processing").await.status,
        StatusCode::SEE_OTHER
    );
    // the workflow: the specialist who started processing holds the first step (pause time added to it too)
    let steps = app.db.store.workflows.steps(dossier.id).await.unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].assignee, Some(specialist_id));
    assert!(steps[0].ended_at.is_none());
    // approval is refused before the last step, and nothing changes
    let early = go(head.clone(), "den=processed").await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        early.body.contains("chưa qua hết các bước"),
        "{}",
        early.body
    );
    assert_eq!(status().await.status, DossierStatus::Processing);
    // the specialist forwards to the head of unit, who is told by e-mail
    let step = |app: &TestApp| {
        let id = dossier.id;
        let store = app.db.store.clone();
        async move {
            store
                .workflows
                .steps(id)
                .await
                .unwrap()
                .into_iter()
                .find(|s| s.ended_at.is_none())
                .unwrap()
        }
    };
    let open = step(&app).await;
    let forward = format!("viec=chuyen&buoc={}&can_bo_tiep={head_id}", open.seq);
    let handed = app
        .post_form(&format!("{path}/buoc"), &forward, Some(&specialist))
        .await;
    assert_eq!(handed.status, StatusCode::SEE_OTHER);
    // the page says what happened and what comes next, to the officer who did it only
    let after = handed.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(after, format!("{path}?xong=1"));
    let banner = app.get_with_cookie(&after, &specialist).await;
    assert!(
        banner
            .body
            .contains(&format!("Đã chuyển hồ sơ {} cho", dossier.code)),
        "{}",
        banner.body
    );
    assert!(banner.body.contains(&format!("{path}/phieu/06")));
    let others = app.get_with_cookie(&after, &head).await;
    assert!(
        !others.body.contains("Đã chuyển hồ sơ"),
        "not the head's doing"
    );
    // the same form posted again (a double click, a stale page) changes nothing
    assert_eq!(
        app.post_form(&format!("{path}/buoc"), &forward, Some(&specialist))
            .await
            .status,
        StatusCode::CONFLICT
    );
    let open = step(&app).await;
    assert_eq!((open.index, open.assignee), (1, Some(head_id)));
    // the head forwards to the leader's step (no leader here: the head of unit approves in their place)
    assert_eq!(
        app.post_form(
            &format!("{path}/buoc"),
            &format!("viec=chuyen&buoc={}", open.seq),
            Some(&head)
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    // the result is required before approval
    let no_result = go(head.clone(), "den=processed").await;
    assert_eq!(no_result.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_result.body.contains("Nhập kết quả giải quyết"));
    let result = app
        .post_multipart(
            &format!("{path}/ket-qua"),
            &[
                ("so", None, "125/QĐ-UBND".as_bytes()),
                ("nguoi_ky", None, "Lê Văn Ký".as_bytes()),
                ("ngay_ky", None, b"02/01/2025".as_slice()),
            ],
            Some(&head),
        )
        .await;
    assert_eq!(result.status, StatusCode::SEE_OTHER, "{}", result.body);
    assert_eq!(
        go(head.clone(), "den=processed").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(status().await.status, DossierStatus::Processed);
    let approved = app.get_with_cookie(&format!("{path}?xong=1"), &head).await;
    assert!(
        approved
            .body
            .contains(&format!("Đã phê duyệt hồ sơ {}", dossier.code)),
        "{}",
        approved.body
    );
    let steps = app.db.store.workflows.steps(dossier.id).await.unwrap();
    assert_eq!(steps.len(), 3);
    assert!(steps.iter().all(|s| s.ended_at.is_some()));
    // delivery is the desk's (reception, or the head of unit who also answers for the desk): a specialist cannot
    assert_eq!(
        go(specialist.clone(), "den=result_delivered").await.status,
        StatusCode::FORBIDDEN
    );
    // how it is handed over is asked, and recorded with who and when
    let how = go(desk.clone(), "den=result_delivered").await;
    assert_eq!(how.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(how.body.contains("Chọn cách trả kết quả"));
    assert_eq!(status().await.status, DossierStatus::Processed);
    assert_eq!(
        go(
            desk.clone(),
            "den=result_delivered&cach_tra=buu_chinh&ly_do=EMS%20EA123456789VN"
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(status().await.status, DossierStatus::ResultDelivered);
    let delivered = app.db.store.dossiers.history(dossier.id).await.unwrap();
    let delivered = delivered.last().unwrap();
    assert_eq!(
        delivered.reason.as_deref(),
        Some("Gửi qua dịch vụ bưu chính: EMS EA123456789VN")
    );
    assert!(delivered.actor.starts_with("Tiếp nhận ("));
    // nothing more can happen to it
    assert_eq!(
        go(desk.clone(), "den=processing").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let history = app.db.store.dossiers.history(dossier.id).await.unwrap();
    let path_taken: Vec<DossierStatus> = history.iter().map(|e| e.to).collect();
    use DossierStatus as S;
    assert_eq!(
        path_taken,
        vec![
            S::Submitted,
            S::Received,
            S::Processing,
            S::SupplementRequested,
            S::Processing,
            S::SupplementRequested,
            S::Processing,
            S::Processed,
            S::ResultDelivered
        ]
    );
    motcua_domain::HistoryEvent::verify_chain(&history).unwrap();
    // the applicant was told at each change (the submission's mail plus eight changes), the head of unit once
    assert_eq!(app.db.store.outbox.pending().await.unwrap(), 10);
    // each step is marked against its deadline (all done at once here: early)
    let page = app.get_with_cookie(&path, &desk).await;
    assert!(page.body.contains("Trước hạn"), "{}", page.body);
    assert!(!page.body.contains("class=\"tag qua-han\""));
    // the register of the day lists it as delivered, with when
    let today = motcua_calendar::dmy(motcua_domain::vntime::vn_date(OffsetDateTime::now_utc()))
        .replace('/', "%2F");
    let book = app
        .get_with_cookie(
            &format!("/can-bo/so-theo-doi?in_so=1&tu={today}&den={today}"),
            &desk,
        )
        .await;
    assert_eq!(book.status, StatusCode::OK);
    // register 07, version 2: a landscape table, the dossier on its row with its delivery time
    let pdf = String::from_utf8_lossy(&book.bytes);
    assert!(pdf.contains("/MediaBox [0 0 842 595]"), "landscape A4");
    if let Some(text) = support::pdf_layout_text(&book.bytes) {
        let delivered = app
            .db
            .store
            .dossiers
            .history(dossier.id)
            .await
            .unwrap()
            .iter()
            .find(|e| e.to == DossierStatus::ResultDelivered)
            .unwrap()
            .at;
        for field in [
            "Mẫu số 07 (phiên bản 2)".to_string(),
            "SỔ THEO DÕI HỒ SƠ".into(),
            "Tên thủ tục".into(),
            "Cơ quan".into(),
            "Hẹn trả".into(),
            "NGƯỜI LẬP SỔ".into(),
            "Nguyễn Văn An".into(),
            "Sở Tư pháp".into(),
            "Đăng ký khai sinh".into(),
            motcua_domain::vntime::format_datetime(delivered)[..5].to_string(),
        ] {
            assert!(
                text.contains(&field),
                "{field} missing from register 07:\n{text}"
            );
        }
        let row = text.lines().find(|l| l.contains("Nguyễn Văn An")).unwrap();
        assert!(row.contains("Đã trả kết"), "{row}");
    }
    // the inbox is empty again
    let inbox = app.get_with_cookie("/can-bo/ho-so", &desk).await;
    assert_eq!(inbox.status, StatusCode::OK);
    assert!(!inbox.body.contains(&dossier.code.to_string()));
}

on_both_backends!(
    a_walk_in_is_entered_at_the_counter_received_at_once_and_linked_to_the_citizen,
    a_walk_in_is_entered_at_the_counter_received_at_once_and_linked_to_the_citizen_on_postgresql,
    a_walk_in_is_entered_at_the_counter_received_at_once_and_linked_to_the_citizen_on
);

async fn a_walk_in_is_entered_at_the_counter_received_at_once_and_linked_to_the_citizen_on(
    db: TestStore,
) {
    let (app, _, _) = setup(db).await;
    let officer = person(
        "Tiếp nhận",
        "quay@example.vn",
        AccountKind::Officer,
        &[&format!("reception@{AGENCY}")],
    );
    let cookie = login(&app, &officer, "4").await;
    let mut walk_in = person("Lê Văn Hải", "hai@example.vn", AccountKind::Citizen, &[]);
    walk_in.phone = Some(motcua_domain::Phone::parse("0987654321").unwrap());
    app.db.store.accounts.create(&walk_in).await.unwrap();
    let page = app
        .get_with_cookie("/can-bo/tiep-nhan/truc-tiep", &cookie)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let offer = format!("{AGENCY}|{PROCEDURE}|mac-dinh");
    assert!(page.body.contains(&offer), "{}", page.body);
    assert!(!page.body.contains("Thành phần hồ sơ đã nhận"));
    // choosing the procedure shows its checklist, nothing received yet, what was typed kept
    let chosen = app
        .post_form(
            "/can-bo/tiep-nhan/truc-tiep",
            &format!(
                "thu_tuc={}&buoc=chon&kenh=truc_tiep&ho_ten=L%C3%AA",
                offer.replace('|', "%7C")
            ),
            Some(&cookie),
        )
        .await;
    assert_eq!(chosen.status, StatusCode::OK, "{}", chosen.body);
    assert!(chosen.body.contains("Thành phần hồ sơ đã nhận"));
    assert!(chosen.body.contains("name=\"tp_0\""), "{}", chosen.body);
    assert!(chosen.body.contains("value=\"Lê\""));
    assert!(!chosen.body.contains("<title>Lỗi"));
    // Enter in a field sends the first button again: the same procedure keeps what was ticked
    let again = app
        .post_form(
            "/can-bo/tiep-nhan/truc-tiep",
            &format!(
                "thu_tuc={0}&thu_tuc_da_chon={0}&buoc=chon&kenh=truc_tiep&ho_ten=L%C3%AA&tp_0=1&tp_0_chinh=2",
                offer.replace('|', "%7C")
            ),
            Some(&cookie),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(
        again.body.contains("name=\"tp_0\" value=\"1\" checked"),
        "{}",
        again.body
    );
    assert!(again.body.contains("value=\"2\""));
    assert!(
        app.db
            .store
            .submissions
            .dossiers_for(walk_in.id)
            .await
            .unwrap()
            .is_empty()
    );
    // mistakes: specific messages, everything typed kept
    let bad = app
        .post_form(
            "/can-bo/tiep-nhan/truc-tiep",
            &format!(
                "thu_tuc={0}&thu_tuc_da_chon={0}&kenh=truc_tiep&ho_ten=&dien_thoai=12345&email=khong-phai-email&tp_0_chinh=3",
                offer.replace('|', "%7C")
            ),
            Some(&cookie),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Nhập họ và tên người nộp hồ sơ"));
    // the required declaration not ticked: not received, the officer told what to do instead
    assert!(
        bad.body
            .contains("Chưa nhận “Tờ khai” (thành phần bắt buộc)"),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("id=\"tp_0_chinh\" name=\"tp_0_chinh\" type=\"text\" inputmode=\"numeric\" size=\"3\" value=\"3\""));
    assert!(bad.body.contains("value=\"12345\""));
    assert!(bad.body.contains("value=\"khong-phai-email\""));
    assert!(
        bad.body.contains(" selected>"),
        "the chosen procedure stays chosen"
    );
    // entered properly: received at once, due in working time, in the citizen's "My dossiers"
    let ok = app
        .post_form(
            "/can-bo/tiep-nhan/truc-tiep",
            &format!("thu_tuc={0}&thu_tuc_da_chon={0}&tp_0=1&tp_0_chinh=1&tp_0_chung_thuc=0&tp_0_sao=2&kenh=truc_tiep&ho_ten=L%C3%AA%20V%C4%83n%20H%E1%BA%A3i&dien_thoai=0987%20654%20321&ghi_chu=Thi%E1%BA%BFu%20b%E1%BA%A3n%20ch%E1%BB%A5p%20CCCD", offer.replace('|', "%7C")),
            Some(&cookie),
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let mine = app
        .db
        .store
        .submissions
        .dossiers_for(walk_in.id)
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    let d = &mine[0];
    assert_eq!(d.status, DossierStatus::Received);
    assert_eq!(d.channel, motcua_domain::Channel::InPerson);
    assert!(d.due_at.is_some());
    assert_eq!(
        ok.headers[header::LOCATION],
        format!("/can-bo/ho-so/{}?xong=1", d.code).as_str()
    );
    // it says so, with the slip to print
    let banner = app
        .get_with_cookie(&format!("/can-bo/ho-so/{}?xong=1", d.code), &cookie)
        .await;
    assert!(
        banner
            .body
            .contains(&format!("Đã tiếp nhận hồ sơ {}, hẹn trả", d.code)),
        "{}",
        banner.body
    );
    assert!(
        banner
            .body
            .contains(&format!("/can-bo/ho-so/{}/phieu/01", d.code))
    );
    // the officer's page shows what was received on paper, and the note
    let page = app
        .get_with_cookie(&format!("/can-bo/ho-so/{}", d.code), &cookie)
        .await;
    assert!(
        page.body.contains("Tờ khai: 1 bản chính, 2 bản sao"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("Ghi chú khi tiếp nhận: Thiếu bản chụp CCCD")
    );
    // slip 01 (version 2) prints the checklist in its components table, never empty
    let slip = app
        .get_with_cookie(&format!("/can-bo/ho-so/{}/phieu/01", d.code), &cookie)
        .await;
    assert_eq!(slip.status, StatusCode::OK);
    if let Some(text) = support::pdf_layout_text(&slip.bytes) {
        let row = text
            .lines()
            .find(|l| l.contains("Tờ khai"))
            .unwrap_or_else(|| panic!("no components row: {text}"));
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells, ["1", "Tờ", "khai", "01", "—", "02", "—"], "{text}");
        assert!(text.contains("Mẫu số 01 (phiên bản 2)"), "{text}");
        assert!(text.contains("Kênh nộp:"), "{text}");
        assert!(text.contains("Trực tiếp"), "{text}");
    }
    // an officer of another agency cannot receive for this one
    let other = person(
        "Khác",
        "khac2@example.vn",
        AccountKind::Officer,
        &[&format!("reception@{OTHER_AGENCY}")],
    );
    let other = login(&app, &other, "5").await;
    let refused = app
        .post_form(
            "/can-bo/tiep-nhan/truc-tiep",
            &format!(
                "thu_tuc={}&kenh=truc_tiep&ho_ten=X&dien_thoai=0987654321",
                offer.replace('|', "%7C")
            ),
            Some(&other),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

on_both_backends!(
    the_head_of_unit_apologises_with_a_later_date_and_the_status_stays,
    the_head_of_unit_apologises_with_a_later_date_and_the_status_stays_on_postgresql,
    the_head_of_unit_apologises_with_a_later_date_and_the_status_stays_on
);

async fn the_head_of_unit_apologises_with_a_later_date_and_the_status_stays_on(db: TestStore) {
    let (app, _, dossier) = setup(db).await;
    let desk = person(
        "Tiếp nhận",
        "tn2@example.vn",
        AccountKind::Officer,
        &[&format!("reception@{AGENCY}")],
    );
    let specialist = person(
        "Chuyên viên",
        "cv2@example.vn",
        AccountKind::Officer,
        &[&format!("specialist@{AGENCY}")],
    );
    let head = person(
        "Phạm Thị Dung",
        "tp2@example.vn",
        AccountKind::Officer,
        &[&format!("head_of_unit@{AGENCY}")],
    );
    let (desk, specialist, head) = (
        login(&app, &desk, "6").await,
        login(&app, &specialist, "0").await,
        login(&app, &head, "b").await,
    );
    let path = format!("/can-bo/ho-so/{}", dossier.code);
    app.post_form(&path, "hanh_dong=tiep_nhan", Some(&desk))
        .await;
    let due = app
        .db
        .store
        .dossiers
        .get(dossier.id)
        .await
        .unwrap()
        .unwrap()
        .due_at
        .unwrap();
    let page = app.get_with_cookie(&path, &head).await;
    assert!(page.body.contains("Xin lỗi và hẹn lại ngày trả kết quả"));
    assert!(
        !app.get_with_cookie(&path, &specialist)
            .await
            .body
            .contains("id=\"xin-loi\"")
    );
    let apologise = |cookie: String, date: String| {
        let path = format!("{path}/xin-loi");
        let app = &app;
        async move {
            app.post_form(
                &path,
                &format!("ngay_hen_moi={}&ly_do=C%E1%BA%A7n%20x%C3%A1c%20minh%20th%C3%AAm%20v%E1%BB%9Bi%20c%C6%A1%20quan%20kh%C3%A1c", date.replace('/', "%2F")),
                Some(&cookie),
            )
            .await
        }
    };
    let due_date = motcua_domain::vntime::vn_date(due);
    let earlier = motcua_calendar::dmy(due_date - Duration::days(1));
    let later = motcua_calendar::dmy(due_date + Duration::days(14));
    assert_eq!(
        apologise(specialist.clone(), later.clone()).await.status,
        StatusCode::FORBIDDEN
    );
    let bad = apologise(head.clone(), "31/02/2027".into()).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Nhập ngày hẹn mới có thật"));
    let early = apologise(head.clone(), earlier).await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        early
            .body
            .contains("Ngày hẹn mới phải sau ngày hẹn hiện tại")
    );
    // no date arithmetic overflows, and no appointment is put off indefinitely
    let far = apologise(head.clone(), "31/12/9999".into()).await;
    assert_eq!(far.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(far.body.contains("trong vòng một năm tới"));
    let too_late = apologise(
        head.clone(),
        motcua_calendar::dmy(due_date + Duration::days(90)),
    )
    .await;
    assert_eq!(too_late.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        too_late
            .body
            .contains("không được quá 30 ngày làm việc sau ngày hẹn hiện tại")
    );
    let ok = apologise(head.clone(), later).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let d = app
        .db
        .store
        .dossiers
        .get(dossier.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.status, DossierStatus::Received);
    let new_due = d.due_at.unwrap();
    assert!(new_due > due);
    // the new time is the end of a working day
    let local = new_due.to_offset(motcua_calendar::VN);
    assert_eq!((local.hour(), local.minute()), (17, 0));
    let history = app.db.store.dossiers.history(dossier.id).await.unwrap();
    let last = history.last().unwrap();
    assert_eq!(
        (last.from, last.to),
        (Some(DossierStatus::Received), DossierStatus::Received)
    );
    motcua_domain::HistoryEvent::verify_chain(&history).unwrap();
    let slip = app
        .get_with_cookie(&format!("{path}/phieu/04"), &head)
        .await;
    assert_eq!(slip.status, StatusCode::OK);
    if let Some(text) = pdf_text(&slip.bytes) {
        assert!(
            text.contains("VĂN BẢN XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ"),
            "{text}"
        );
        assert!(text.contains("Phạm Thị Dung"), "{text}");
    }
}

on_both_backends!(
    the_inbox_filters_by_text_without_diacritics_status_channel_and_dates,
    the_inbox_filters_by_text_without_diacritics_status_channel_and_dates_on_postgresql,
    the_inbox_filters_by_text_without_diacritics_status_channel_and_dates_on
);

async fn the_inbox_filters_by_text_without_diacritics_status_channel_and_dates_on(db: TestStore) {
    let (app, _, dossier) = setup(db).await;
    let desk = person(
        "Tiếp nhận",
        "tn3@example.vn",
        AccountKind::Officer,
        &[&format!("reception@{AGENCY}")],
    );
    let desk = login(&app, &desk, "c").await;
    let path = format!("/can-bo/ho-so/{}", dossier.code);
    app.post_form(&path, "hanh_dong=tiep_nhan", Some(&desk))
        .await;
    let code = dossier.code.to_string();
    let shows = |query: &'static str| {
        let app = &app;
        let desk = desk.clone();
        let code = code.clone();
        async move {
            let page = app
                .get_with_cookie(&format!("/can-bo/ho-so?{query}"), &desk)
                .await;
            assert_eq!(page.status, StatusCode::OK, "{query}");
            page.body.contains(&code)
        }
    };
    assert!(shows("").await);
    assert!(
        shows("q=nguyen+van+an").await,
        "applicant without diacritics"
    );
    assert!(shows("q=dang+ky+khai+sinh").await, "procedure name");
    assert!(!shows("q=tran+thi").await);
    assert!(shows("trang_thai=received").await);
    assert!(!shows("trang_thai=processing").await);
    assert!(shows("kenh=online").await);
    assert!(!shows("kenh=post").await);
    assert!(!shows("qua_han=1").await, "not overdue");
    assert!(!shows("tu=01%2F01%2F2099").await);
    let bad = app.get_with_cookie("/can-bo/ho-so?tu=hom+qua", &desk).await;
    assert!(bad.body.contains("Ngày “từ” phải có dạng ngày/tháng/năm"));

    // a hundred walk-ins later, the inbox pages by 100, soonest due first, keeping the filters
    let offer = format!("{AGENCY}|{PROCEDURE}|mac-dinh").replace('|', "%7C");
    for i in 0..100 {
        let r = app
            .post_form(
                "/can-bo/tiep-nhan/truc-tiep",
                &format!(
                    "thu_tuc={offer}&thu_tuc_da_chon={offer}&tp_0=1&tp_0_chinh=1&kenh=truc_tiep&ho_ten=L%C3%AA%20V%C4%83n%20H%E1%BA%A3i&dien_thoai=09876{i:05}"
                ),
                Some(&desk),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let rows = |body: &str| body.matches("<tr><td><a href=\"/can-bo/ho-so/").count();
    let first = app.get_with_cookie("/can-bo/ho-so", &desk).await;
    assert_eq!(rows(&first.body), 100);
    assert!(
        first.body.contains(&code),
        "the soonest due is on the first page"
    );
    assert!(
        first.body.contains("href=\"/can-bo/ho-so?trang=2\""),
        "{}",
        first.body
    );
    let second = app.get_with_cookie("/can-bo/ho-so?trang=2", &desk).await;
    assert_eq!(rows(&second.body), 1);
    assert!(second.body.contains("href=\"/can-bo/ho-so?trang=1\""));
    let search = app
        .get_with_cookie("/can-bo/ho-so?q=le+van+hai&kenh=in_person", &desk)
        .await;
    assert_eq!(rows(&search.body), 100);
    assert!(!search.body.contains(&code));
    assert!(!search.body.contains("rel=\"next\""));
}

on_both_backends!(
    heads_of_unit_are_reminded_once_of_dossiers_due_within_a_working_day,
    heads_of_unit_are_reminded_once_of_dossiers_due_within_a_working_day_on_postgresql,
    heads_of_unit_are_reminded_once_of_dossiers_due_within_a_working_day_on
);

async fn heads_of_unit_are_reminded_once_of_dossiers_due_within_a_working_day_on(db: TestStore) {
    let (app, _, dossier) = setup(db).await;
    let head = person(
        "Trưởng phòng",
        "tp9@example.vn",
        AccountKind::Officer,
        &[&format!("head_of_unit@{AGENCY}")],
    );
    let specialist = person(
        "Chuyên viên",
        "cv9@example.vn",
        AccountKind::Officer,
        &[&format!("specialist@{AGENCY}")],
    );
    app.db.store.accounts.create(&head).await.unwrap();
    app.db.store.accounts.create(&specialist).await.unwrap();
    let now = OffsetDateTime::now_utc();
    // received with a due time two working hours away
    let cal = motcua_calendar::WorkCalendar::default();
    let due = cal.add(now, Duration::hours(2));
    let t = motcua_domain::Transition::new(
        dossier.id,
        DossierStatus::Submitted,
        DossierStatus::Received,
        now,
        "officer",
    )
    .unwrap()
    .with_due_at(due);
    app.db.store.dossiers.record_transition(&t).await.unwrap();
    let before = app.db.store.outbox.pending().await.unwrap();
    let worker = |app: &TestApp| motcua_web::worker::Worker {
        store: app.db.store.clone(),
        mailer: std::sync::Arc::new(app.mail.clone()),
        files: app.files.clone(),
        sweep_after: Duration::hours(72),
        catalogue: Some(app.state.catalogue.clone()),
        public_url: "https://dichvucong.example.vn".into(),
    };
    // two nodes run the reminder job: one mail, to the head of unit only
    assert_eq!(worker(&app).remind_due_soon(now).await.unwrap(), 1);
    assert_eq!(worker(&app).remind_due_soon(now).await.unwrap(), 0);
    assert_eq!(app.db.store.outbox.pending().await.unwrap(), before + 1);
    worker(&app).run_due(now).await.unwrap();
    let sent = app.sent_mail().await;
    let reminder = sent
        .iter()
        .find(|m| m.subject.contains("sắp đến hạn"))
        .expect("a reminder");
    assert_eq!(reminder.to, "tp9@example.vn");
    assert!(reminder.body.contains(&dossier.code.to_string()));
}

/// A desk officer, two specialists and the head of unit at the dossier's agency, logged in.
struct Unit {
    desk: String,
    a: (AccountId, String),
    b: (AccountId, String),
    head: (AccountId, String),
}

async fn unit(app: &TestApp) -> Unit {
    let desk = person(
        "Bàn Một Cửa",
        "mc@example.vn",
        AccountKind::Officer,
        &[&format!("reception@{AGENCY}")],
    );
    let a = person(
        "Chuyên Viên An",
        "cva@example.vn",
        AccountKind::Officer,
        &[&format!("specialist@{AGENCY}")],
    );
    let b = person(
        "Chuyên Viên Bình",
        "cvb@example.vn",
        AccountKind::Officer,
        &[&format!("specialist@{AGENCY}")],
    );
    let head = person(
        "Trưởng Phòng Dung",
        "tpd@example.vn",
        AccountKind::Officer,
        &[&format!("head_of_unit@{AGENCY}")],
    );
    Unit {
        desk: login(app, &desk, "c").await,
        a: (a.id, login(app, &a, "d").await),
        b: (b.id, login(app, &b, "e").await),
        head: (head.id, login(app, &head, "f").await),
    }
}

async fn open_step(
    app: &TestApp,
    dossier: motcua_domain::DossierId,
) -> motcua_domain::workflow::StepRecord {
    app.db
        .store
        .workflows
        .steps(dossier)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.ended_at.is_none())
        .expect("an open step")
}

/// Accept, then start processing as `starter`.
async fn into_processing(app: &TestApp, u: &Unit, code: &str, starter: &str) {
    let path = format!("/can-bo/ho-so/{code}");
    let r = app
        .post_form(&path, "hanh_dong=tiep_nhan", Some(&u.desk))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = app
        .post_form(&format!("{path}/chuyen"), "den=processing", Some(starter))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

async fn emails_to(app: &TestApp, to: &str) -> Vec<String> {
    app.db
        .store
        .outbox
        .claim(OffsetDateTime::now_utc(), Duration::seconds(1), 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.payload.contains(to))
        .map(|j| j.payload)
        .collect()
}

on_both_backends!(
    officers_assign_forward_and_return_steps_and_a_stale_form_changes_nothing,
    officers_assign_forward_and_return_steps_and_a_stale_form_changes_nothing_on_postgresql,
    officers_assign_forward_and_return_steps_and_a_stale_form_changes_nothing_on
);

async fn officers_assign_forward_and_return_steps_and_a_stale_form_changes_nothing_on(
    db: TestStore,
) {
    let (app, citizen, dossier) = setup(db).await;
    let u = unit(&app).await;
    let code = dossier.code.to_string();
    let path = format!("/can-bo/ho-so/{code}");
    let step_url = format!("{path}/buoc");
    into_processing(&app, &u, &code, &u.a.1).await;
    let first = open_step(&app, dossier.id).await;
    assert_eq!((first.index, first.assignee), (0, Some(u.a.0)));
    // the step's due time is its quota (70 % of 40 working hours) in working time from now
    assert!(first.due_at > first.started_at);

    // an officer who does not exist, or nobody chosen: said plainly, the note kept in its own form
    let unknown = app
        .post_form(
            &step_url,
            &format!(
                "viec=giao&buoc={}&can_bo=ai-do&ly_do=giao%20g%E1%BA%A5p",
                first.seq
            ),
            Some(&u.head.1),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.body.contains("Cán bộ được chọn không tồn tại"));
    assert!(unknown.body.contains(">giao gấp</textarea>"));
    let nobody = app
        .post_form(
            &step_url,
            &format!("viec=giao&buoc={}&can_bo=", first.seq),
            Some(&u.head.1),
        )
        .await;
    assert_eq!(nobody.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(nobody.body.contains("Chọn cán bộ nhận hồ sơ"));
    assert_eq!(open_step(&app, dossier.id).await.seq, first.seq);
    // the head of unit transfers it to the other specialist, who is told by e-mail
    let r = app
        .post_form(
            &step_url,
            &format!("viec=giao&buoc={}&can_bo={}", first.seq, u.b.0),
            Some(&u.head.1),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let now_b = open_step(&app, dossier.id).await;
    assert_eq!((now_b.index, now_b.assignee), (0, Some(u.b.0)));
    assert_eq!(
        now_b.due_at, first.due_at,
        "a transfer keeps the step's due time"
    );
    // the head may hand it on but not take it over themselves
    let seize = app
        .post_form(
            &step_url,
            &format!("viec=nhan&buoc={}", now_b.seq),
            Some(&u.head.1),
        )
        .await;
    assert_eq!(seize.status, StatusCode::FORBIDDEN);
    assert_eq!(open_step(&app, dossier.id).await.assignee, Some(u.b.0));
    let mail = emails_to(&app, "cvb@example.vn").await;
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert!(mail[0].contains(&code) && mail[0].contains("Trưởng Phòng Dung"));

    // the first specialist's page was stale: their forward is refused and nothing moves
    let stale = app
        .post_form(
            &step_url,
            &format!("viec=chuyen&buoc={}", first.seq),
            Some(&u.a.1),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(
        stale.body.contains("vừa được cán bộ khác chuyển"),
        "{}",
        stale.body
    );
    assert_eq!(open_step(&app, dossier.id).await.seq, now_b.seq);
    // and now that it is not theirs, they may not move it at all (refused and audited)
    let not_theirs = app
        .post_form(
            &step_url,
            &format!("viec=chuyen&buoc={}", now_b.seq),
            Some(&u.a.1),
        )
        .await;
    assert_eq!(not_theirs.status, StatusCode::FORBIDDEN);

    // the holder forwards to the head of unit
    let r = app
        .post_form(
            &step_url,
            &format!("viec=chuyen&buoc={}&can_bo_tiep={}", now_b.seq, u.head.0),
            Some(&u.b.1),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let review = open_step(&app, dossier.id).await;
    assert_eq!((review.index, review.assignee), (1, Some(u.head.0)));

    // returning needs a reason; what was typed is kept
    let short = app
        .post_form(
            &step_url,
            &format!("viec=tra&buoc={}&ly_do=thi%E1%BA%BFu", review.seq),
            Some(&u.head.1),
        )
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        short.body.contains("Ghi rõ lý do trả lại"),
        "{}",
        short.body
    );
    assert!(short.body.contains(">thiếu</textarea>"));
    assert_eq!(open_step(&app, dossier.id).await.seq, review.seq);
    // with a reason it goes back to whoever held the previous step
    let r = app
        .post_form(
            &step_url,
            &format!(
                "viec=tra&buoc={}&ly_do=Thi%E1%BA%BFu%20x%C3%A1c%20minh%20n%C6%A1i%20c%C6%B0%20tr%C3%BA",
                review.seq
            ),
            Some(&u.head.1),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let back = open_step(&app, dossier.id).await;
    assert_eq!((back.index, back.assignee), (0, Some(u.b.0)));

    // an officer of another agency cannot act on it
    let stranger = person(
        "Người Ngoài",
        "ngoai@example.vn",
        AccountKind::Officer,
        &[&format!("head_of_unit@{OTHER_AGENCY}")],
    );
    let stranger = login(&app, &stranger, "1").await;
    let r = app
        .post_form(
            &step_url,
            &format!("viec=chuyen&buoc={}", back.seq),
            Some(&stranger),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.headers);
    assert_eq!(open_step(&app, dossier.id).await.seq, back.seq);

    // the page shows the control sheet; slip 06 prints every hand-off, for the office only
    let page = app.get_with_cookie(&path, &u.head.1).await;
    assert!(page.body.contains("Các bước xử lý"));
    assert!(
        page.body
            .contains("Trả lại bước trước: Thiếu xác minh nơi cư trú"),
        "{}",
        page.body
    );
    let sheet = app
        .get_with_cookie(&format!("{path}/phieu/06"), &u.head.1)
        .await;
    assert_eq!(sheet.status, StatusCode::OK);
    if let Some(text) = pdf_text(&sheet.bytes) {
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(text.contains("PHIẾU KIỂM SOÁT"), "{text}");
        assert!(text.contains("Chuyên Viên Bình"), "{text}");
        assert!(text.contains("Thiếu xác minh nơi cư trú"), "{text}");
    }
    // version 2: the hand-over table of the circular, a row per hand-over with giver, receiver, time, result
    // against the step's deadline and room for both signatures
    if let Some(text) = support::pdf_layout_text(&sheet.bytes) {
        for field in [
            "Mẫu số 06 (phiên bản 2)",
            "Giao, nhận hồ sơ",
            "Thời gian",
            "Kết quả",
            "(trước hạn /",
            "giao ký",
            "nhận ký",
            "Ghi chú",
            "Giao: ",
            "Nhận: ",
        ] {
            assert!(
                text.contains(field),
                "{field} missing from slip 06:\n{text}"
            );
        }
        let steps = app.db.store.workflows.steps(dossier.id).await.unwrap();
        let rows = text
            .lines()
            .filter(|l| {
                l.trim_start().starts_with(|c: char| c.is_ascii_digit()) && l.contains("Giao: ")
            })
            .count();
        assert_eq!(rows, steps.len(), "one row per hand-over:\n{text}");
        assert!(
            text.contains("Trước hạn") || text.contains("Đúng hạn"),
            "{text}"
        );
    }
    let citizen_cookie = support::session_existing(&app, citizen.id, "2").await;
    assert_eq!(
        app.get_with_cookie(&format!("/ho-so/{code}/phieu/06"), &citizen_cookie)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let steps = app.db.store.workflows.steps(dossier.id).await.unwrap();
    assert_eq!(steps.len(), 4);
    assert_eq!(
        steps.iter().filter(|s| s.ended_at.is_none()).count(),
        1,
        "one open step at a time"
    );
}

on_both_backends!(
    an_administrator_sets_a_workflow_with_a_step_at_another_agency,
    an_administrator_sets_a_workflow_with_a_step_at_another_agency_on_postgresql,
    an_administrator_sets_a_workflow_with_a_step_at_another_agency_on
);

async fn an_administrator_sets_a_workflow_with_a_step_at_another_agency_on(db: TestStore) {
    let (app, _, dossier) = setup(db).await;
    let u = unit(&app).await;
    let admin = person(
        "Quản Trị",
        "qt@example.vn",
        AccountKind::Officer,
        &[
            &format!("administrator@{AGENCY}"),
            &format!("administrator@{OTHER_AGENCY}"),
        ],
    );
    let admin = login(&app, &admin, "3").await;
    // an administrator of one agency cannot put a step at another
    let local = person(
        "Quản Trị Sở",
        "qts@example.vn",
        AccountKind::Officer,
        &[&format!("administrator@{AGENCY}")],
    );
    let local = login(&app, &local, "6").await;
    let foreign = app
        .post_form(
            &format!("/quan-tri/quy-trinh/{PROCEDURE}/mac-dinh"),
            &format!(
                "ten_0=Th%E1%BA%A9m%20%C4%91%E1%BB%8Bnh&co_quan_0={OTHER_AGENCY}&vai_tro_0=specialist&gio_0=8\
                 &ten_1=Ph%C3%AA%20duy%E1%BB%87t&co_quan_1=&vai_tro_1=leader&gio_1=4"
            ),
            Some(&local),
        )
        .await;
    assert_eq!(
        foreign.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        foreign.headers.get("location")
    );
    assert!(
        foreign.body.contains("không quản trị cơ quan này"),
        "{}",
        foreign.body
    );
    let editor = format!("/quan-tri/quy-trinh/{PROCEDURE}/mac-dinh");
    // the list shows the default
    let list = app.get_with_cookie("/quan-tri/quy-trinh", &admin).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("Mặc định (3 bước)"), "{}", list.body);
    // only administrators
    assert_eq!(
        app.get_with_cookie(&editor, &u.head.1).await.status,
        StatusCode::FORBIDDEN
    );
    // mistakes are named, and what was typed stays
    let bad = app
        .post_form(
            &editor,
            &format!(
                "ten_0=Th%E1%BA%A9m%20%C4%91%E1%BB%8Bnh&co_quan_0=&vai_tro_0=specialist&gio_0=muoi\
                 &ten_1=L%E1%BA%A5y%20%C3%BD%20ki%E1%BA%BFn&co_quan_1={OTHER_AGENCY}&vai_tro_1=specialist&gio_1=30\
                 &ten_2=Ph%C3%AA%20duy%E1%BB%87t&co_quan_2=&vai_tro_2=specialist&gio_2=4"
            ),
            Some(&admin),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("Bước 1: định mức là số giờ làm việc"),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("value=\"muoi\""));
    let over = app
        .post_form(
            &editor,
            &format!(
                "ten_0=Th%E1%BA%A9m%20%C4%91%E1%BB%8Bnh&co_quan_0=&vai_tro_0=specialist&gio_0=16\
                 &ten_1=L%E1%BA%A5y%20%C3%BD%20ki%E1%BA%BFn&co_quan_1={OTHER_AGENCY}&vai_tro_1=specialist&gio_1=30\
                 &ten_2=Ph%C3%AA%20duy%E1%BB%87t&co_quan_2=&vai_tro_2=specialist&gio_2=4"
            ),
            Some(&admin),
        )
        .await;
    assert_eq!(over.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        over.body.contains("vượt thời hạn giải quyết (40 giờ"),
        "{}",
        over.body
    );
    assert!(over.body.contains("Bước cuối là bước phê duyệt"));
    let ok = app
        .post_form(
            &editor,
            &format!(
                "ten_0=Th%E1%BA%A9m%20%C4%91%E1%BB%8Bnh&co_quan_0=&vai_tro_0=specialist&gio_0=16\
                 &ten_1=L%E1%BA%A5y%20%C3%BD%20ki%E1%BA%BFn&co_quan_1={OTHER_AGENCY}&vai_tro_1=specialist&gio_1=16\
                 &ten_2=Ph%C3%AA%20duy%E1%BB%87t&co_quan_2=&vai_tro_2=head_of_unit&gio_2=4\
                 &ten_3=&co_quan_3=&vai_tro_3=specialist&gio_3="
            ),
            Some(&admin),
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let (version, saved) = app
        .db
        .store
        .workflows
        .workflow(
            &ProcedureCode::parse(PROCEDURE).unwrap(),
            &CaseKey::parse("mac-dinh").unwrap(),
            None,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!((version, saved.steps.len()), (1, 3));

    // a dossier now follows it: the second step is at the other agency
    let code = dossier.code.to_string();
    into_processing(&app, &u, &code, &u.a.1).await;
    let first = open_step(&app, dossier.id).await;
    assert_eq!((first.workflow_version, first.quota_hours), (1, 16));
    let there = person(
        "Chuyên Viên Xây Dựng",
        "xd@example.vn",
        AccountKind::Officer,
        &[&format!("specialist@{OTHER_AGENCY}")],
    );
    let there = login(&app, &there, "4").await;
    // before the step reaches them, the other agency sees nothing
    assert_eq!(
        app.get_with_cookie(&format!("/can-bo/ho-so/{code}"), &there)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let r = app
        .post_form(
            &format!("/can-bo/ho-so/{code}/buoc"),
            &format!("viec=chuyen&buoc={}", first.seq),
            Some(&u.a.1),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let inter = open_step(&app, dossier.id).await;
    assert_eq!(inter.agency.as_str(), OTHER_AGENCY);
    assert_eq!(inter.assignee, None);
    // nobody is named: everyone who may take it there is told
    let told = emails_to(&app, "xd@example.vn").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].contains("chờ đơn vị của anh/chị nhận xử lý"));
    // now it is in their inbox, they open it and take the step
    let inbox = app.get_with_cookie("/can-bo/ho-so", &there).await;
    assert!(inbox.body.contains(&code), "{}", inbox.body);
    assert!(inbox.body.contains("Lấy ý kiến"));
    let page = app
        .get_with_cookie(&format!("/can-bo/ho-so/{code}"), &there)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Nhận xử lý bước này"), "{}", page.body);
    let r = app
        .post_form(
            &format!("/can-bo/ho-so/{code}/buoc"),
            &format!("viec=nhan&buoc={}", inter.seq),
            Some(&there),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let taken = open_step(&app, dossier.id).await;
    assert!(taken.assignee.is_some());
    assert_eq!(taken.due_at, inter.due_at);
    // "assigned to me" lists it for them and not for the specialist at home
    assert!(
        app.get_with_cookie("/can-bo/ho-so?cua_toi=1", &there)
            .await
            .body
            .contains(&code)
    );
    assert!(
        !app.get_with_cookie("/can-bo/ho-so?cua_toi=1", &u.a.1)
            .await
            .body
            .contains(&code)
    );
    // they send it on to the approval step back home
    let r = app
        .post_form(
            &format!("/can-bo/ho-so/{code}/buoc"),
            &format!("viec=chuyen&buoc={}", taken.seq),
            Some(&there),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let last = open_step(&app, dossier.id).await;
    assert_eq!((last.index, last.agency.as_str()), (2, AGENCY));
}

on_both_backends!(
    the_result_is_checked_kept_and_shown_to_the_applicant_once_processed,
    the_result_is_checked_kept_and_shown_to_the_applicant_once_processed_on_postgresql,
    the_result_is_checked_kept_and_shown_to_the_applicant_once_processed_on
);

async fn the_result_is_checked_kept_and_shown_to_the_applicant_once_processed_on(db: TestStore) {
    let (app, citizen, dossier) = setup(db).await;
    let u = unit(&app).await;
    let code = dossier.code.to_string();
    let path = format!("/can-bo/ho-so/{code}");
    into_processing(&app, &u, &code, &u.a.1).await;
    let result_url = format!("{path}/ket-qua");
    let bad = app
        .post_multipart(
            &result_url,
            &[
                ("so", None, "".as_bytes()),
                ("nguoi_ky", None, "Lê Văn Ký".as_bytes()),
                ("ngay_ky", None, b"31/02/2026".as_slice()),
            ],
            Some(&u.a.1),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Nhập số, ký hiệu văn bản kết quả"));
    assert!(bad.body.contains("Nhập ngày ký dạng ngày/tháng/năm"));
    assert!(bad.body.contains("value=\"Lê Văn Ký\""));
    assert!(bad.body.contains("value=\"31/02/2026\""));
    // a file that is not what it claims is refused
    let fake = app
        .post_multipart(
            &result_url,
            &[
                ("so", None, b"12/GKS".as_slice()),
                ("nguoi_ky", None, "Lê Văn Ký".as_bytes()),
                ("ngay_ky", None, b"02/01/2026".as_slice()),
                (
                    "tep",
                    Some("ket-qua.pdf"),
                    b"MZ not a pdf at all".as_slice(),
                ),
            ],
            Some(&u.a.1),
        )
        .await;
    assert_eq!(
        fake.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        fake.body
    );
    assert!(
        app.db
            .store
            .workflows
            .result(dossier.id)
            .await
            .unwrap()
            .is_none()
    );
    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
    let ok = app
        .post_multipart(
            &result_url,
            &[
                ("so", None, b"12/GKS".as_slice()),
                ("nguoi_ky", None, "Lê Văn Ký".as_bytes()),
                ("ngay_ky", None, b"02/01/2026".as_slice()),
                ("tep", Some("ket-qua.pdf"), pdf.as_slice()),
            ],
            Some(&u.a.1),
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let officer_file = app.get_with_cookie(&result_url, &u.head.1).await;
    assert_eq!(officer_file.status, StatusCode::OK);
    assert_eq!(officer_file.bytes, pdf.to_vec());
    // the applicant sees it only once processed
    let citizen_cookie = support::session_existing(&app, citizen.id, "2").await;
    let theirs = format!("/ho-so/{code}/ket-qua");
    assert_eq!(
        app.get_with_cookie(&theirs, &citizen_cookie).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(
        !app.get_with_cookie(&format!("/ho-so/{code}"), &citizen_cookie)
            .await
            .body
            .contains("12/GKS")
    );
    // through the steps to approval
    for (who, next) in [(&u.a.1, Some(u.head.0)), (&u.head.1, None)] {
        let open = open_step(&app, dossier.id).await;
        let mut body = format!("viec=chuyen&buoc={}", open.seq);
        if let Some(id) = next {
            body.push_str(&format!("&can_bo_tiep={id}"));
        }
        let r = app
            .post_form(&format!("{path}/buoc"), &body, Some(who))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let r = app
        .post_form(&format!("{path}/chuyen"), "den=processed", Some(&u.head.1))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = app
        .get_with_cookie(&format!("/ho-so/{code}"), &citizen_cookie)
        .await;
    assert!(
        page.body.contains("12/GKS") && page.body.contains("ket-qua.pdf"),
        "{}",
        page.body
    );
    let file = app.get_with_cookie(&theirs, &citizen_cookie).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.bytes, pdf.to_vec());
    // someone else's dossier is refused (and the refusal audited)
    let other = person("Người Khác", "khac9@example.vn", AccountKind::Citizen, &[]);
    let other = login(&app, &other, "5").await;
    assert_eq!(
        app.get_with_cookie(&theirs, &other).await.status,
        StatusCode::FORBIDDEN
    );
}

on_both_backends!(
    a_stopped_dossier_has_its_notice_and_the_register_lists_what_was_received,
    a_stopped_dossier_has_its_notice_and_the_register_lists_what_was_received_on_postgresql,
    a_stopped_dossier_has_its_notice_and_the_register_lists_what_was_received_on
);

async fn a_stopped_dossier_has_its_notice_and_the_register_lists_what_was_received_on(
    db: TestStore,
) {
    let (app, citizen, dossier) = setup(db).await;
    let u = unit(&app).await;
    let code = dossier.code.to_string();
    let path = format!("/can-bo/ho-so/{code}");
    into_processing(&app, &u, &code, &u.a.1).await;
    let stop = "den=stopped&ly_do=Ng%C6%B0%E1%BB%9Di%20n%E1%BB%99p%20%C4%91%C3%A3%20chuy%E1%BB%83n%20%C4%91i%20n%C6%A1i%20kh%C3%A1c";
    // asked once more first, with the reason the citizen will read; nothing changes yet
    let ask = app
        .post_form(&format!("{path}/chuyen"), stop, Some(&u.head.1))
        .await;
    assert_eq!(ask.status, StatusCode::OK, "{}", ask.body);
    assert!(ask.body.contains(&format!("Dừng giải quyết hồ sơ {code}?")));
    assert!(
        ask.body.contains("Người nộp đã chuyển đi nơi khác")
            && ask.body.contains("Có, dừng giải quyết")
    );
    assert_ne!(
        app.db
            .store
            .dossiers
            .get(dossier.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        DossierStatus::Stopped
    );
    let r = app
        .post_form(
            &format!("{path}/chuyen"),
            &format!("{stop}&xac_nhan=co"),
            Some(&u.head.1),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // the open step was closed with the dossier
    let steps = app.db.store.workflows.steps(dossier.id).await.unwrap();
    assert!(steps.iter().all(|s| s.ended_at.is_some()));
    let citizen_cookie = support::session_existing(&app, citizen.id, "2").await;
    let notice = app
        .get_with_cookie(&format!("/ho-so/{code}/phieu/05"), &citizen_cookie)
        .await;
    assert_eq!(notice.status, StatusCode::OK);
    if let Some(text) = pdf_text(&notice.bytes) {
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(text.contains("THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ"), "{text}");
        assert!(text.contains("Người nộp đã chuyển đi nơi khác"), "{text}");
    }

    // the register of the month lists it; wrong dates are named and kept
    let today = motcua_calendar::dmy(motcua_domain::vntime::vn_date(OffsetDateTime::now_utc()))
        .replace('/', "%2F");
    let form = app.get_with_cookie("/can-bo/so-theo-doi", &u.desk).await;
    assert_eq!(form.status, StatusCode::OK);
    let bad = app
        .get_with_cookie(
            "/can-bo/so-theo-doi?in_so=1&tu=32%2F13%2F2026&den=",
            &u.desk,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Nhập ngày bắt đầu"));
    assert!(bad.body.contains("value=\"32/13/2026\""));
    let book = app
        .get_with_cookie(
            &format!("/can-bo/so-theo-doi?in_so=1&tu={today}&den={today}"),
            &u.desk,
        )
        .await;
    assert_eq!(book.status, StatusCode::OK);
    assert_eq!(book.headers[header::CONTENT_TYPE], "application/pdf");
    if let Some(text) = support::pdf_layout_text(&book.bytes) {
        assert!(text.contains("SỔ THEO DÕI HỒ SƠ"), "{text}");
        let row = text
            .lines()
            .find(|l| l.contains("Nguyễn Văn An"))
            .unwrap_or_default();
        assert!(row.contains(&code) && row.contains("Dừng xử lý"), "{text}");
    }
    // a citizen has no register
    assert_eq!(
        app.get_with_cookie("/can-bo/so-theo-doi", &citizen_cookie)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

on_both_backends!(
    fees_pause_the_step_and_a_withdrawal_after_reception_closes_it,
    fees_pause_the_step_and_a_withdrawal_after_reception_closes_it_on_postgresql,
    fees_pause_the_step_and_a_withdrawal_after_reception_closes_it_on
);

async fn fees_pause_the_step_and_a_withdrawal_after_reception_closes_it_on(db: TestStore) {
    let (app, citizen, dossier) = setup(db).await;
    let u = unit(&app).await;
    let code = dossier.code.to_string();
    let path = format!("/can-bo/ho-so/{code}");
    into_processing(&app, &u, &code, &u.a.1).await;
    let before = open_step(&app, dossier.id).await;
    let due_before = app
        .db
        .store
        .dossiers
        .get(dossier.id)
        .await
        .unwrap()
        .unwrap()
        .due_at
        .unwrap();
    // asking for the fees needs a reason, then pauses the clock
    let bare = app
        .post_form(
            &format!("{path}/chuyen"),
            "den=awaiting_financial_obligation&so_tien=50000",
            Some(&u.a.1),
        )
        .await;
    assert_eq!(bare.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bare.body.contains("Ghi rõ lý do"), "the reason is required");
    let r = app
        .post_form(
            &format!("{path}/chuyen"),
            "den=awaiting_financial_obligation&so_tien=50000&ly_do=N%E1%BB%99p%20l%E1%BB%87%20ph%C3%AD%20tr%C6%B0%E1%BB%9Bc%20b%C6%B0%E1%BB%9Bc%20th%E1%BA%A9m%20%C4%91%E1%BB%8Bnh",
            Some(&u.a.1),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // no hand-off while paused
    let paused = app
        .post_form(
            &format!("{path}/buoc"),
            &format!("viec=chuyen&buoc={}", before.seq),
            Some(&u.a.1),
        )
        .await;
    assert_eq!(paused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(paused.body.contains("Chỉ chuyển bước khi hồ sơ đang xử lý"));
    // resumed (exempted, with its legal ground): the dossier's and the step's due times never move earlier
    let r = app
        .post_form(
            &format!("{path}/chuyen"),
            &support::encode_form(&[
                ("den", "processing"),
                ("ly_do", "Miễn theo Nghị quyết 15/2025/NQ-HĐND"),
            ]),
            Some(&u.a.1),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let resumed = app
        .db
        .store
        .dossiers
        .get(dossier.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resumed.status, DossierStatus::Processing);
    assert!(resumed.due_at.unwrap() >= due_before);
    let step = open_step(&app, dossier.id).await;
    assert_eq!(step.seq, before.seq, "the same holding goes on");
    assert!(step.due_at >= before.due_at);

    // the applicant asks to withdraw; the desk agrees; the open step closes with the dossier
    let citizen_cookie = support::session_existing(&app, citizen.id, "2").await;
    let r = app
        .post_form(
            &format!("/ho-so/{code}/rut"),
            "xac_nhan=co&ly_do=Kh%C3%B4ng+c%E1%BA%A7n+n%E1%BB%AFa",
            Some(&citizen_cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        app.db
            .store
            .dossiers
            .get(dossier.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        DossierStatus::WithdrawalRequested
    );
    let r = app
        .post_form(
            &format!("{path}/chuyen"),
            "den=withdrawn&xac_nhan=co",
            Some(&u.desk),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let steps = app.db.store.workflows.steps(dossier.id).await.unwrap();
    assert!(steps.iter().all(|s| s.ended_at.is_some()), "{steps:?}");
    assert_eq!(
        steps.last().unwrap().outcome,
        Some(motcua_domain::workflow::StepOutcome::Closed)
    );
    let history = app.db.store.dossiers.history(dossier.id).await.unwrap();
    motcua_domain::HistoryEvent::verify_chain(&history).unwrap();
    use DossierStatus as S;
    assert_eq!(
        history.iter().map(|e| e.to).collect::<Vec<_>>(),
        vec![
            S::Submitted,
            S::Received,
            S::Processing,
            S::AwaitingFinancialObligation,
            S::Processing,
            S::WithdrawalRequested,
            S::Withdrawn
        ]
    );
}

#[tokio::test]
async fn a_refusal_at_reception_is_asked_once_more_before_it_is_made() {
    let (app, _, dossier) = setup(motcua_testkit::sqlite_store().await).await;
    let officer = person(
        "Trần Thị Tiếp Nhận",
        "tiepnhan@example.vn",
        AccountKind::Officer,
        &[&format!("reception@{AGENCY}")],
    );
    let cookie = login(&app, &officer, "d").await;
    let path = format!("/can-bo/ho-so/{}", dossier.code);
    let refuse = support::encode_form(&[
        ("hanh_dong", "tu_choi"),
        ("ly_do", "Thủ tục không thuộc thẩm quyền của cơ quan"),
    ]);
    let ask = app.post_form(&path, &refuse, Some(&cookie)).await;
    assert_eq!(ask.status, StatusCode::OK);
    assert!(
        ask.body
            .contains(&format!("Từ chối tiếp nhận hồ sơ {}?", dossier.code))
    );
    assert!(
        ask.body.contains("name=\"xac_nhan\" value=\"co\"") && ask.body.contains("Không, quay lại")
    );
    let status = || {
        let store = app.db.store.clone();
        async move {
            store
                .dossiers
                .get(dossier.id)
                .await
                .unwrap()
                .unwrap()
                .status
        }
    };
    assert_eq!(status().await, DossierStatus::Submitted, "nothing yet");
    let done = app
        .post_form(&path, &format!("{refuse}&xac_nhan=co"), Some(&cookie))
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(status().await, DossierStatus::Refused);
    let queue = app
        .get_with_cookie(done.headers[header::LOCATION].to_str().unwrap(), &cookie)
        .await;
    assert!(queue.body.contains("Đã từ chối tiếp nhận hồ sơ") && queue.body.contains("phieu/03"));
}

on_both_backends!(
    a_slip_issued_before_layout_2_still_prints_as_version_1,
    a_slip_issued_before_layout_2_still_prints_as_version_1_on_postgresql,
    a_slip_issued_before_layout_2_still_prints_as_version_1_on
);

/// A dossier received at the counter in June 2026, before layout 2 came into force on 29/11/2026: its slip 01
/// re-prints as it was issued (version 1: one signature, the list of components, no "Số:" line), while a
/// dossier received today prints version 2.
async fn a_slip_issued_before_layout_2_still_prints_as_version_1_on(db: TestStore) {
    let (app, _, _) = setup(db).await;
    let officer = person(
        "Đỗ Văn Cũ",
        "cu@example.vn",
        AccountKind::Officer,
        &[&format!("reception@{AGENCY}")],
    );
    let cookie = login(&app, &officer, "8").await;
    let procedure = app
        .db
        .store
        .catalogue
        .get_procedure(&ProcedureCode::parse(PROCEDURE).unwrap())
        .await
        .unwrap()
        .unwrap();
    let at = time::macros::datetime!(2026-06-01 02:00 UTC);
    let mut answers = motcua_domain::form::Answers::new();
    answers.insert(
        motcua_domain::submission::RECEIVED_COMPONENTS.into(),
        vec!["0:1:0:0".into()],
    );
    let old = app
        .db
        .store
        .submissions
        .intake(&motcua_domain::submission::Intake {
            dossier: motcua_domain::DossierId::new(),
            agency: motcua_domain::AgencyCode::parse(AGENCY).unwrap(),
            procedure: ProcedureCode::parse(PROCEDURE).unwrap(),
            procedure_version: procedure.version,
            case: CaseKey::parse("mac-dinh").unwrap(),
            channel: motcua_domain::Channel::InPerson,
            account: None,
            applicant_name: motcua_domain::NonEmptyText::parse("Hà Thị Xưa").unwrap(),
            applicant_phone: Some("0911111111".into()),
            applicant_personal_id: None,
            answers,
            officer: format!("Đỗ Văn Cũ ({})", officer.id),
            at,
            due_at: Some(at + Duration::days(7)),
            emails: vec![],
        })
        .await
        .unwrap();
    let slip = app
        .get_with_cookie(&format!("/can-bo/ho-so/{}/phieu/01", old.code), &cookie)
        .await;
    assert_eq!(slip.status, StatusCode::OK);
    if let Some(text) = pdf_text(&slip.bytes) {
        assert!(text.contains("Mẫu số 01 (phiên bản 1)"), "{text}");
        assert!(text.contains("NGƯỜI TIẾP NHẬN, XỬ LÝ"), "{text}");
        assert!(text.contains("Đỗ Văn Cũ"), "{text}");
        assert!(text.contains("Hẹn trả kết quả:"), "{text}");
        assert!(!text.contains("NGƯỜI NỘP HỒ SƠ"), "{text}");
        assert!(!text.contains("/TNHS"), "{text}");
    }
    assert!(!String::from_utf8_lossy(&slip.bytes).contains("/MediaBox [0 0 842 595]"));
}

on_both_backends!(
    the_public_list_of_results_shows_handled_dossiers_with_masked_names,
    the_public_list_of_results_shows_handled_dossiers_with_masked_names_on_postgresql,
    the_public_list_of_results_shows_handled_dossiers_with_masked_names_on
);

/// A dossier approved appears on "Kết quả giải quyết TTHC" and on the home page's widget with the applicant's name
/// masked, filtered by agency, field and month; bad filters get a message with what was typed kept.
async fn the_public_list_of_results_shows_handled_dossiers_with_masked_names_on(db: TestStore) {
    let (app, _, dossier) = setup(db).await;
    // nothing handled yet: the list is empty and the home page has no widget
    let empty = app.get("/ket-qua-giai-quyet").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.body.contains("Không có hồ sơ nào phù hợp"));
    let now = OffsetDateTime::now_utc();
    let walk = [
        (DossierStatus::Submitted, DossierStatus::Received),
        (DossierStatus::Received, DossierStatus::Processing),
        (DossierStatus::Processing, DossierStatus::Processed),
    ];
    for (i, (from, to)) in walk.into_iter().enumerate() {
        let t = motcua_domain::Transition::new(
            dossier.id,
            from,
            to,
            now + Duration::seconds(i as i64),
            "Cán bộ (x)",
        )
        .unwrap()
        .with_due_at(now + Duration::days(5));
        app.db.store.dossiers.record_transition(&t).await.unwrap();
    }
    let list = app.get("/ket-qua-giai-quyet").await;
    assert!(
        list.body.contains(&dossier.code.to_string()),
        "{}",
        list.body
    );
    assert!(list.body.contains("Nguyễn V. A."), "{}", list.body);
    assert!(!list.body.contains("Nguyễn Văn An"), "the name is masked");
    assert!(list.body.contains("Trước hạn"));
    let home = app.get("/").await;
    assert!(home.body.contains("id=\"ket-qua-moi\"") && home.body.contains("Nguyễn V. A."));
    // filters: this month and this agency find it; another month or agency does not
    let month = {
        let d = motcua_domain::vntime::vn_date(now);
        format!("{:02}%2F{}", u8::from(d.month()), d.year())
    };
    let found = app
        .get(&format!(
            "/ket-qua-giai-quyet?thang={month}&co_quan={AGENCY}&linh_vuc=HOTICH"
        ))
        .await;
    assert!(
        found.body.contains(&dossier.code.to_string()),
        "{}",
        found.body
    );
    let other = app
        .get(&format!("/ket-qua-giai-quyet?co_quan={OTHER_AGENCY}"))
        .await;
    assert!(!other.body.contains(&dossier.code.to_string()));
    let old = app.get("/ket-qua-giai-quyet?thang=01%2F2001").await;
    assert!(!old.body.contains(&dossier.code.to_string()));
    // the statistics count it once the worker has recounted the month: submitted online, approved early, in a
    // table, a chart and a CSV file
    assert!(
        app.db.store.stats.refresh(100).await.unwrap() > 0,
        "its month was marked as changed"
    );
    let stats = app.get("/thong-ke").await;
    assert_eq!(stats.status, StatusCode::OK);
    let row = stats
        .body
        .split("<th scope=\"row\">Sở Tư pháp</th>")
        .nth(1)
        .unwrap_or_else(|| panic!("the agency's row: {}", stats.body));
    let cells: Vec<&str> = row
        .split("</tr>")
        .next()
        .unwrap()
        .split("<td>")
        .skip(1)
        .map(|c| c.trim_end_matches("</td>"))
        .collect();
    assert_eq!(
        &cells[..8],
        ["0", "1", "0", "1", "1", "0", "100,0 %", "0"],
        "{row}"
    );
    assert!(
        stats.body.contains("<svg") && stats.body.contains("Sở Tư pháp: 1 đúng hạn, 0 quá hạn")
    );
    let csv = app.get(&format!("/thong-ke.csv?thang={month}")).await;
    assert_eq!(csv.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert!(csv.body.starts_with('\u{feff}'));
    assert!(
        csv.body
            .contains("Sở Tư pháp,0,1,0,1,1,0,\"100,0 %\",0,0,\"100,0 %\",—"),
        "{}",
        csv.body
    );
    // the same month by procedure and by field, on the page and in the downloads
    let by_procedure = app
        .get(&format!("/thong-ke?thang={month}&theo=thu-tuc"))
        .await;
    assert!(
        by_procedure
            .body
            .contains("<th scope=\"row\">Đăng ký khai sinh</th><td>0</td><td>1</td>"),
        "{}",
        by_procedure.body
    );
    let by_field = app
        .get(&format!("/thong-ke?thang={month}&theo=linh-vuc"))
        .await;
    assert!(by_field.body.contains("<th scope=\"col\">Lĩnh vực</th>"));
    assert!(
        by_field
            .body
            .contains("<th scope=\"row\">Hộ tịch</th><td>0</td><td>1</td>")
    );
    let csv = app
        .get(&format!("/thong-ke.csv?thang={month}&theo=thu-tuc"))
        .await;
    assert!(
        csv.body.starts_with("\u{feff}Thủ tục,Nhận trực tiếp,"),
        "{}",
        csv.body
    );
    let xlsx = app.get(&format!("/thong-ke.xlsx?thang={month}")).await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.bytes.starts_with(b"PK"), "a workbook");
    assert!(
        xlsx.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .ends_with(".xlsx\"")
    );
    for download in ["/thong-ke.csv", "/thong-ke.xlsx"] {
        let refused = app.get(&format!("{download}?thang=mot+nam")).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused.body.contains("Tháng viết dạng tháng/năm"),
            "{download}"
        );
    }
    let wrong = app.get("/thong-ke?thang=13%2F2026").await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong.body.contains("value=\"13/2026\"")
            && wrong.body.contains("Tháng viết dạng tháng/năm")
    );
    // bad filters: said, and kept
    let bad = app
        .get("/ket-qua-giai-quyet?thang=thang+muoi&co_quan=abc")
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body
            .contains("Tháng viết dạng tháng/năm, ví dụ 11/2026")
    );
    assert!(bad.body.contains("Chọn cơ quan trong danh sách"));
    assert!(bad.body.contains("value=\"thang muoi\""));
}
