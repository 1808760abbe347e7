//! Killing the server (SIGKILL) in the middle of online submissions loses nothing and duplicates nothing: every
//! submission the client saw acknowledged is there after a restart, a retry of any submission returns the same
//! dossier, and no dossier exists without its history event and its files. Runs the real binary on SQLite.

mod common;

use common::start_portal;
use motcua_domain::{
    AgencyCode, CaseKey, LoginName, ProcedureCode,
    form::Answers,
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
    let head = text.split("\r\n\r\n").next().unwrap_or("");
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
    Ok((status, headers))
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
    let (status, headers) = http(
        base,
        "POST",
        "/dang-nhap",
        None,
        "ten_dang_nhap=congdan%40example.vn&mat_khau=MotCua-2026&tiep=%2F",
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
