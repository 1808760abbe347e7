//! Level 4, electronic results: the result file of a level-4 dossier is signed by the issuing agency (detached
//! CMS), the applicant finds it with its verification link and QR code, and the public verification page says
//! "khớp" only for the untouched file. On both backends.

#[macro_use]
mod support;

use axum::http::StatusCode;
use motcua_domain::{
    AccountKind, AgencyCode, CaseKey, OnlineServiceLevel, ProcedureCode, ServiceLevelAssignment,
};
use motcua_testkit::{
    TestStore,
    fixtures::{AGENCY, PROCEDURE},
};
use support::{TestApp, person, session_for};
use time::macros::date;

on_both_backends!(
    a_level_4_result_is_signed_and_verified_on_the_public_page,
    a_level_4_result_is_signed_and_verified_on_the_public_page_on_postgresql,
    a_level_4_result_is_signed_and_verified_on_the_public_page_on
);

on_both_backends!(
    a_level_3_result_is_not_signed,
    a_level_3_result_is_not_signed_on_postgresql,
    a_level_3_result_is_not_signed_on
);

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

/// A dossier received and in processing by an officer who may receive, process and approve, with the officer's
/// session, the applicant's session and the dossier's code.
async fn in_processing(
    db: TestStore,
    level: OnlineServiceLevel,
) -> (TestApp, String, String, String) {
    let (app, citizen, dossier) = support::with_submitted_dossier(db).await;
    app.db
        .store
        .catalogue
        .set_service_level(&ServiceLevelAssignment {
            procedure: ProcedureCode::parse(PROCEDURE).unwrap(),
            case: CaseKey::parse("mac-dinh").unwrap(),
            agency: AgencyCode::parse(AGENCY).unwrap(),
            level,
            effective_from: date!(2024 - 06 - 01),
        })
        .await
        .unwrap();
    app.refresh().await;
    let officer = person(
        "Trần Thị Bình",
        "binh@minhhoa.example.vn",
        AccountKind::Officer,
        &[
            &format!("reception@{AGENCY}"),
            &format!("specialist@{AGENCY}"),
            &format!("leader@{AGENCY}"),
        ],
    );
    let desk = session_for(&app, &officer, "b").await;
    let mine = support::session_existing(&app, citizen.id, "c").await;
    let code = dossier.code.to_string();
    let r = app
        .post_form(
            &format!("/can-bo/ho-so/{code}"),
            "hanh_dong=tiep_nhan",
            Some(&desk),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    (app, desk, mine, code)
}

/// The dossier with this code and its recorded result.
async fn result_of(
    app: &TestApp,
    code: &str,
) -> (
    motcua_domain::Dossier,
    motcua_domain::workflow::DossierResult,
) {
    let dossier = app
        .db
        .store
        .dossiers
        .get_by_code(&code.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let result = app
        .db
        .store
        .workflows
        .result(dossier.id)
        .await
        .unwrap()
        .unwrap();
    (dossier, result)
}

async fn enter_result(app: &TestApp, desk: &str, code: &str) {
    let r = app
        .post_multipart(
            &format!("/can-bo/ho-so/{code}/ket-qua"),
            &[
                ("so", None, b"12/GKS".as_slice()),
                ("nguoi_ky", None, "Lê Văn Ký".as_bytes()),
                ("ngay_ky", None, b"02/01/2026".as_slice()),
                ("tep", Some("ket-qua.pdf"), PDF),
            ],
            Some(desk),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

async fn a_level_4_result_is_signed_and_verified_on_the_public_page_on(db: TestStore) {
    let (app, desk, mine, code) = in_processing(db, OnlineServiceLevel::Level4).await;
    enter_result(&app, &desk, &code).await;
    let (dossier, result) = result_of(&app, &code).await;
    let seal = result.file.as_ref().unwrap().seal.clone().expect("signed");
    let verify = format!("/xac-thuc/{}", seal.code);
    // the officer's page links the verification page
    let office = app
        .get_with_cookie(&format!("/can-bo/ho-so/{code}"), &desk)
        .await;
    assert!(office.body.contains(&verify), "{}", office.body);

    // not public before approval: a result may still change until then
    assert_eq!(app.get(&verify).await.status, StatusCode::NOT_FOUND);
    // through the workflow's steps to approval; then the applicant sees the result, its link and QR code
    let r = app
        .post_form(
            &format!("/can-bo/ho-so/{code}/chuyen"),
            "den=processing",
            Some(&desk),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    for _ in 0..5 {
        let steps = app.db.store.workflows.steps(dossier.id).await.unwrap();
        let Some(open) = steps.iter().find(|s| s.ended_at.is_none()) else {
            break;
        };
        let r = app
            .post_form(
                &format!("/can-bo/ho-so/{code}/buoc"),
                &format!("viec=chuyen&buoc={}", open.seq),
                Some(&desk),
            )
            .await;
        // the last step is ended by the approval itself
        if r.status != StatusCode::SEE_OTHER {
            assert!(r.body.contains("Đây là bước cuối"), "{}", r.body);
            break;
        }
    }
    let r = app
        .post_form(
            &format!("/can-bo/ho-so/{code}/chuyen"),
            "den=processed",
            Some(&desk),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // the signature is a detached CMS signature of the agency over exactly that file
    let p7s = app.get(&format!("{verify}/chu-ky")).await;
    assert_eq!(p7s.status, StatusCode::OK);
    let verified = motcua_signing::verify_detached(PDF, &p7s.bytes).unwrap();
    assert_eq!(verified.fingerprint, seal.fingerprint);
    assert!(
        verified.signer.common_name.contains(AGENCY),
        "{:?}",
        verified.signer
    );

    // anyone with the code sees what the document is, nothing about the applicant
    let page = app.get(&verify).await;
    assert_eq!(page.status, StatusCode::OK);
    for shown in ["12/GKS", "Lê Văn Ký", "02/01/2026", &seal.fingerprint] {
        assert!(page.body.contains(shown), "{shown}: {}", page.body);
    }
    assert!(!page.body.contains("Nguyễn Văn An"));
    // the untouched file matches; a changed one, or another file, does not
    let check = |bytes: Vec<u8>| {
        let app = &app;
        let verify = verify.clone();
        async move {
            app.post_multipart(&verify, &[("tep", Some("ban-nhan-duoc.pdf"), &bytes)], None)
                .await
        }
    };
    let same = check(PDF.to_vec()).await;
    assert_eq!(same.status, StatusCode::OK);
    assert!(same.body.contains("<h2>Khớp</h2>"), "{}", same.body);
    let mut changed = PDF.to_vec();
    changed[10] = b'9';
    let other = check(changed).await;
    assert!(other.body.contains("<h2>Không khớp</h2>"), "{}", other.body);
    assert!(other.body.contains("đã bị thay đổi"), "{}", other.body);
    let nothing = app
        .post_multipart(&verify, &[("tep", Some(""), b"".as_slice())], None)
        .await;
    assert_eq!(nothing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(nothing.body.contains("Chọn tệp văn bản cần kiểm tra"));
    // an unknown or malformed code is simply not found
    assert_eq!(
        app.get("/xac-thuc/khongcoma").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/xac-thuc/..%2F..").await.status,
        StatusCode::NOT_FOUND
    );

    let theirs = app.get_with_cookie(&format!("/ho-so/{code}"), &mine).await;
    assert!(
        theirs.body.contains("Kết quả điện tử có chữ ký số"),
        "{}",
        theirs.body
    );
    assert!(
        theirs
            .body
            .contains(&format!("http://localhost:8080{verify}"))
            || theirs.body.contains(&verify)
    );
    assert!(theirs.body.contains("<svg"), "{}", theirs.body);

    // the stored signature gone (a storage fault): the copy cannot be checked now, which is said as such, never as a
    // mismatch
    use object_store::ObjectStoreExt;
    app.files
        .delete(&object_store::path::Path::from(seal.signature_key.as_str()))
        .await
        .unwrap();
    let unavailable = app
        .post_multipart(&verify, &[("tep", Some("ban.pdf"), PDF)], None)
        .await;
    assert_eq!(unavailable.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        unavailable.body.contains("Chưa kiểm tra được"),
        "{}",
        unavailable.body
    );
    assert!(!unavailable.body.contains("Không khớp"));
}

async fn a_level_3_result_is_not_signed_on(db: TestStore) {
    let (app, desk, _, code) = in_processing(db, OnlineServiceLevel::Level3).await;
    enter_result(&app, &desk, &code).await;
    let (_, result) = result_of(&app, &code).await;
    assert!(result.file.unwrap().seal.is_none());
}
