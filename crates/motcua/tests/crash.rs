//! Killing the server (SIGKILL) in the middle of online submissions loses nothing and duplicates nothing: every
//! submission the client saw acknowledged is there after a restart, a retry of any submission returns the same
//! dossier, and no dossier exists without its history event and its files. A server that dies between the payment
//! gateway's notification and its answer loses nothing either: the gateway's retry settles the payment once. Runs
//! the real binary on SQLite.

mod common;

use common::{start_portal, start_portal_with};
use motcua_domain::{
    AgencyCode, CaseKey, DossierStatus, LoginName, ProcedureCode,
    form::Answers,
    payment::{PaymentStatus, vnpay},
    submission::{Draft, DraftId, Upload, UploadId},
    upload::FileType,
};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;
use time::OffsetDateTime;

/// One HTTP/1.1 request; the status and the headers of the answer (`Err` when the server went away).
fn http(
    base: &str,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: &str,
) -> std::io::Result<(u16, HashMap<String, String>)> {
    http_body(base, method, path, cookie, body).map(|(status, headers, _)| (status, headers))
}

/// [`http`] with the body of the answer.
fn http_body(
    base: &str,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: &str,
) -> std::io::Result<(u16, HashMap<String, String>, String)> {
    let host = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nSec-Fetch-Site: same-origin\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n{cookie}\r\n{body}",
        body.len()
    )?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let text = String::from_utf8_lossy(&answer);
    let (head, content) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status line"))?;
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect();
    Ok((status, headers, content.to_string()))
}

async fn open(dir: &Path) -> motcua_store::Store {
    let url = format!("sqlite://{}", dir.join("data/motcua.db").display());
    motcua_store_sql::SqlStore::connect_sqlite(&url)
        .await
        .unwrap()
        .into_store()
}

/// Drafts ready to submit (answers valid, the required file attached), written straight into the database.
async fn drafts(dir: &Path, n: usize) -> Vec<DraftId> {
    let store = open(dir).await;
    let account = store
        .accounts
        .find_by_login(&LoginName::parse("congdan@example.vn").unwrap())
        .await
        .unwrap()
        .expect("the demo citizen");
    let code = ProcedureCode::parse("1.000894").unwrap();
    let version = store
        .catalogue
        .get_procedure(&code)
        .await
        .unwrap()
        .unwrap()
        .version;
    let mut answers = Answers::new();
    for (k, v) in [
        ("nop_thay", "khong"),
        ("nguoi_nop_ho_ten", "Nguyễn Văn An"),
        ("nguoi_nop_so_dinh_danh", "001099012345"),
        ("nguoi_nop_dien_thoai", "0912345678"),
        ("nguoi_nop_dia_chi.tinh", "Tỉnh Đắk Lắk"),
        ("nguoi_nop_dia_chi.xa", "Phường Tân Lập"),
        ("noi_dung_de_nghi", "Đăng ký kết hôn"),
    ] {
        answers.insert(k.into(), vec![v.into()]);
    }
    let mut ids = Vec::new();
    for _ in 0..n {
        let now = OffsetDateTime::now_utc();
        let draft = Draft {
            id: DraftId::new(),
            account: account.id,
            procedure: code.clone(),
            procedure_version: version,
            case: CaseKey::parse("mac-dinh").unwrap(),
            agency: AgencyCode::parse("000.31.00.H56").unwrap(),
            answers: answers.clone(),
            created_at: now,
            updated_at: now,
            dossier: None,
        };
        store.submissions.save_draft(&draft).await.unwrap();
        let id = uuid::Uuid::now_v7();
        store
            .submissions
            .add_upload(
                &Upload {
                    id: UploadId(id),
                    account: account.id,
                    draft: draft.id,
                    component: 0,
                    file_name: "to-khai.pdf".into(),
                    object_key: format!("tep/crash/{id}"),
                    file_type: FileType::Pdf,
                    size: 100,
                    sha256: "00".repeat(32),
                    created_at: now,
                    dossier: None,
                },
                u64::MAX,
            )
            .await
            .unwrap();
        ids.push(draft.id);
    }
    ids
}

fn login(base: &str) -> String {
    login_as(base, "congdan@example.vn")
}

fn login_as(base: &str, who: &str) -> String {
    let (status, headers) = http(
        base,
        "POST",
        "/dang-nhap",
        None,
        &format!(
            "ten_dang_nhap={}&mat_khau=MotCua-2026&tiep=%2F",
            who.replace('@', "%40")
        ),
    )
    .unwrap();
    assert_eq!(status, 303);
    headers["set-cookie"].split(';').next().unwrap().to_string()
}

fn submit(base: &str, cookie: &str, draft: DraftId) -> std::io::Result<String> {
    let (status, headers) = http(
        base,
        "POST",
        &format!("/ho-so-nhap/{draft}/kiem-tra"),
        Some(cookie),
        "cam_doan=co",
    )?;
    match (status, headers.get("location")) {
        (303, Some(to)) => Ok(to
            .trim_start_matches("/ho-so/")
            .trim_end_matches("/da-nop")
            .to_string()),
        other => Err(std::io::Error::other(format!("answer {other:?}"))),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_server_mid_submission_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (portal, base) = start_portal(dir.path());
    let cookie = login(&base);
    drop(portal);

    let mut all = Vec::new();
    let mut acknowledged: HashMap<DraftId, String> = HashMap::new();
    // kill early and later in a burst of concurrent submissions
    for kill_after_ms in [10u64, 30, 60] {
        let batch = drafts(dir.path(), 30).await;
        all.extend(batch.iter().copied());
        let (portal, base) = start_portal(dir.path());
        let threads: Vec<_> = batch
            .iter()
            .map(|&draft| {
                let (base, cookie) = (base.clone(), cookie.clone());
                std::thread::spawn(move || (draft, submit(&base, &cookie, draft)))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(kill_after_ms));
        drop(portal); // SIGKILL
        let mut seen = 0;
        for t in threads {
            if let (draft, Ok(code)) = t.join().unwrap() {
                acknowledged.insert(draft, code);
                seen += 1;
            }
        }
        eprintln!(
            "killed after {kill_after_ms} ms: {seen} of {} submissions acknowledged",
            batch.len()
        );
    }

    // after a restart, every client retries: the same dossier for those acknowledged, one dossier for each
    let (portal, base) = start_portal(dir.path());
    let mut codes = HashMap::new();
    for &draft in &all {
        let code = submit(&base, &cookie, draft).expect("a retry after the restart succeeds");
        if let Some(before) = acknowledged.get(&draft) {
            assert_eq!(&code, before, "an acknowledged dossier changed its code");
        }
        codes.insert(draft, code);
    }
    drop(portal);

    let store = open(dir.path()).await;
    let distinct: std::collections::HashSet<_> = codes.values().collect();
    assert_eq!(
        distinct.len(),
        all.len(),
        "one dossier per draft, no duplicate"
    );
    for &draft in &all {
        let d = store.submissions.get_draft(draft).await.unwrap().unwrap();
        let dossier_id = d.dossier.expect("the draft became a dossier");
        let dossier = store.dossiers.get(dossier_id).await.unwrap().unwrap();
        assert_eq!(dossier.code.to_string(), codes[&draft]);
        let history = store.dossiers.history(dossier_id).await.unwrap();
        assert_eq!(history.len(), 1, "its first history event, once");
        let files = store
            .submissions
            .uploads_for_dossier(dossier_id)
            .await
            .unwrap();
        assert_eq!(files.len(), 1, "its file claimed with it");
    }
}

/// A submitted dossier accepted at the desk with a fee of 50.000 đ set, and the applicant's payment started: the
/// dossier's code and the signed notification the gateway would send for it (paid).
async fn owing_and_paying(dir: &Path) -> (String, String) {
    let (portal, base) = start_portal(dir);
    let citizen = login(&base);
    drop(portal);
    let draft = drafts(dir, 1).await[0];
    let (portal, base) = start_portal(dir);
    let code = submit(&base, &citizen, draft).unwrap();
    let desk = login_as(&base, "motcua@minhhoa.example.vn");
    let (status, _) = http(
        &base,
        "POST",
        &format!("/can-bo/ho-so/{code}"),
        Some(&desk),
        "hanh_dong=tiep_nhan",
    )
    .unwrap();
    assert_eq!(status, 303, "accepted");
    let specialist = login_as(&base, "chuyenvien@minhhoa.example.vn");
    let (status, _, body) = http_body(
        &base,
        "POST",
        &format!("/can-bo/ho-so/{code}/chuyen"),
        Some(&specialist),
        "den=awaiting_financial_obligation&so_tien=50000&ly_do=Nop+le+phi+theo+quy+dinh",
    )
    .unwrap();
    assert_eq!(
        status,
        303,
        "fee set: {}",
        body.split("error-summary").nth(1).unwrap_or("")
    );
    let (status, headers) = http(
        &base,
        "POST",
        &format!("/ho-so/{code}/thanh-toan"),
        Some(&citizen),
        "",
    )
    .unwrap();
    assert_eq!(status, 303, "payment started");
    drop(portal);
    let request: vnpay::Fields =
        form_urlencoded::parse(headers["location"].split_once('?').unwrap().1.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    let mut ipn: vnpay::Fields = [
        ("vnp_Amount", request["vnp_Amount"].clone()),
        ("vnp_BankCode", "NCB".to_string()),
        ("vnp_ResponseCode", "00".into()),
        ("vnp_TmnCode", request["vnp_TmnCode"].clone()),
        ("vnp_TransactionNo", "14123456".into()),
        ("vnp_TransactionStatus", "00".into()),
        ("vnp_TxnRef", request["vnp_TxnRef"].clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let hash = vnpay::sign(
        &ipn,
        motcua_web::payments::PaymentSettings::default()
            .secret
            .as_bytes(),
    );
    ipn.insert(vnpay::SECURE_HASH.into(), hash);
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(ipn.iter())
        .finish();
    (code, format!("/thanh-toan/thong-bao?{query}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_between_the_gateway_notification_and_its_answer_settles_the_payment_once()
{
    let dir = tempfile::tempdir().unwrap();
    // dies before committing: the retry settles it (00); dies after committing: the retry is told 02
    for (point, answer) in [("before_commit", "00"), ("after_commit", "02")] {
        let (code, notification) = owing_and_paying(dir.path()).await;
        let (portal, base) =
            start_portal_with(dir.path(), &[("MOTCUA_FAULT_PAYMENT_NOTICE", point)]);
        assert!(
            http_body(&base, "GET", &notification, None, "").is_err(),
            "{point}: the server died before answering"
        );
        drop(portal);
        let (portal, base) = start_portal(dir.path());
        let (status, _, body) = http_body(&base, "GET", &notification, None, "").unwrap();
        assert_eq!(status, 200);
        assert!(
            body.contains(&format!("\"RspCode\":\"{answer}\"")),
            "{point}: {body}"
        );
        // and any further retry is told it was confirmed already
        let (_, _, body) = http_body(&base, "GET", &notification, None, "").unwrap();
        assert!(body.contains("\"RspCode\":\"02\""), "{point}: {body}");
        drop(portal);

        let store = open(dir.path()).await;
        let dossier = store
            .dossiers
            .get_by_code(&code.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        let payments = store.payments.payments(dossier.id).await.unwrap();
        assert_eq!(payments.len(), 1);
        assert_eq!(payments[0].status, PaymentStatus::Paid, "{point}");
        assert_eq!(
            dossier.status,
            DossierStatus::Processing,
            "{point}: resumed once paid"
        );
        let resumed = store
            .dossiers
            .history(dossier.id)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.from == Some(DossierStatus::AwaitingFinancialObligation))
            .count();
        assert_eq!(resumed, 1, "{point}: resumed exactly once");
    }
}

/// A page read by a browser identified by `reader` (the address is the loopback for all: the browser tells
/// readers apart).
fn read_page(base: &str, reader: usize) -> u16 {
    let host = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) \
         Chrome/131.0 reader-{reader}\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    String::from_utf8_lossy(&answer)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

async fn visitors_today(dir: &Path) -> u64 {
    let store = open(dir).await;
    let now = OffsetDateTime::now_utc();
    store
        .visits
        .counts(
            motcua_domain::vntime::vn_date(now),
            now - time::Duration::hours(1),
        )
        .await
        .unwrap()
        .today
}

/// The visitor counters after a restart: a node stopped by SIGTERM writes every visitor it noted; one killed
/// outright loses at most those noted since its last write (every 5 s), and the ones written before are kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visitor_counts_survive_a_stop_and_lose_at_most_seconds_to_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let (portal, base) = start_portal(dir.path());
    for reader in 1..=5 {
        assert_eq!(read_page(&base, reader), 200);
    }
    // a write happens within 5 s
    std::thread::sleep(Duration::from_millis(6_500));
    for reader in 6..=8 {
        assert_eq!(read_page(&base, reader), 200);
    }
    drop(portal); // SIGKILL, right after three more readers
    let after_kill = visitors_today(dir.path()).await;
    assert!(
        (5..=8).contains(&after_kill),
        "the written visitors are kept: {after_kill}"
    );
    eprintln!(
        "kill -9 right after 3 new readers: {} of 8 counted, {} lost (noted less than 5 s before)",
        after_kill,
        8 - after_kill
    );
    // a graceful stop writes what it noted
    let (portal, base) = start_portal(dir.path());
    for reader in 9..=10 {
        assert_eq!(read_page(&base, reader), 200);
    }
    let pid = portal.0.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut portal = portal;
    let _ = portal.0.wait();
    assert_eq!(visitors_today(dir.path()).await, after_kill + 2);
}
