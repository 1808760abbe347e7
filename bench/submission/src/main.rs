//! `motcua-bench-submission DATABASE_URL FILES_DIR [COUNT] [CONCURRENCY]`: measures online submissions with one
//! 200 KB PDF each, as the portal makes them — save the draft, store the file and record the upload, then the
//! submit transaction (code, dossier, history event, claimed file, outbox mail) — with CONCURRENCY clients.
//! Prints `submissions_per_second p50_ms p99_ms` on one line. The database must be empty or a bench leftover.

use motcua_domain::{
    Account, AccountId, AccountKind, AgencyCode, CaseKey, DossierId, Email, NonEmptyText,
    ProcedureCode,
    form::Answers,
    submission::{Draft, DraftId, OutgoingEmail, Submission, Upload, UploadId},
    upload::FileType,
};
use motcua_store::Store;
use object_store::{ObjectStore, ObjectStoreExt, local::LocalFileSystem, path::Path};
use std::sync::Arc;
use std::time::Instant;
use time::OffsetDateTime;

const AGENCY: &str = "000.00.06.H56";
const PROCEDURE: &str = "1.001193";

async fn open(url: &str) -> Store {
    let s = motcua_store_sql::SqlStore::connect(
        url,
        motcua_store_sql::PgSettings {
            max_connections: Some(32),
            ..Default::default()
        },
    )
    .await
    .expect("database");
    s.migrate().await.expect("migrations");
    s.into_store()
}

/// An agency, a field, a procedure and an account to submit from (kept if already there).
async fn seed(store: &Store) -> AccountId {
    let agency: motcua_domain::Agency = serde_json::from_value(serde_json::json!({
        "code": AGENCY, "name": "Sở Tư pháp", "level": "province", "valid_from": "2020-01-01"
    }))
    .expect("agency");
    store.agencies.upsert(&[agency]).await.expect("agency");
    store
        .fields
        .upsert(&[motcua_domain::Field {
            code: motcua_domain::FieldCode::parse("HOTICH").expect("field"),
            name: NonEmptyText::parse("Hộ tịch").expect("field"),
        }])
        .await
        .expect("field");
    let procedure: motcua_domain::Procedure = serde_json::from_value(serde_json::json!({
        "code": PROCEDURE, "name": "Đăng ký khai sinh", "fields": ["HOTICH"],
        "implementing_levels": ["province"], "agencies": [AGENCY], "applicants": ["citizen"],
        "cases": [{"key": "mac-dinh", "name": "Thông thường",
            "components": [{"name": "Tờ khai", "originals": 1, "copies": 0}],
            "time_limits": [{"channel": "online", "limit": {"value": 5, "unit": "working_days"}}]}]
    }))
    .expect("procedure");
    store
        .catalogue
        .save_procedure(&procedure, OffsetDateTime::now_utc())
        .await
        .expect("procedure");
    let email = Email::parse("bench@example.vn").expect("email");
    if let Some(a) = store
        .accounts
        .find_by_login(&motcua_domain::LoginName::Email(email.clone()))
        .await
        .expect("account")
    {
        return a.id;
    }
    let account = Account {
        id: AccountId::new(),
        kind: AccountKind::Citizen,
        full_name: NonEmptyText::parse("Nguyễn Văn An").expect("name"),
        personal_id: None,
        birth_date: None,
        phone: None,
        email: Some(email),
        address: None,
        password_hash: "$argon2id$bench".into(),
        email_verified_at: None,
        disabled: false,
        created_at: OffsetDateTime::now_utc(),
        grants: vec![],
    };
    store.accounts.create(&account).await.expect("account");
    account.id
}

async fn one(store: &Store, files: &dyn ObjectStore, account: AccountId, pdf: &bytes::Bytes) {
    let now = OffsetDateTime::now_utc();
    let mut answers = Answers::new();
    answers.insert("nguoi_nop_ho_ten".into(), vec!["Nguyễn Văn An".into()]);
    answers.insert(
        "noi_dung_de_nghi".into(),
        vec!["Đăng ký khai sinh cho con".into()],
    );
    let draft = Draft {
        id: DraftId::new(),
        account,
        procedure: ProcedureCode::parse(PROCEDURE).expect("code"),
        procedure_version: 1,
        case: CaseKey::parse("mac-dinh").expect("case"),
        agency: AgencyCode::parse(AGENCY).expect("agency"),
        answers: answers.clone(),
        created_at: now,
        updated_at: now,
        dossier: None,
    };
    store.submissions.save_draft(&draft).await.expect("draft");
    let id = uuid::Uuid::now_v7();
    let key = format!("tep/bench/{id}");
    files
        .put(&Path::from(key.as_str()), pdf.clone().into())
        .await
        .expect("file");
    store
        .submissions
        .add_upload(
            &Upload {
                id: UploadId(id),
                account,
                draft: draft.id,
                component: 0,
                file_name: "to-khai.pdf".into(),
                object_key: key,
                file_type: FileType::Pdf,
                size: pdf.len() as u64,
                sha256: "00".repeat(32),
                created_at: now,
                dossier: None,
            },
            u64::MAX,
        )
        .await
        .expect("upload");
    store
        .submissions
        .submit(&Submission {
            draft: draft.id,
            new_dossier: DossierId::new(),
            account,
            applicant_name: NonEmptyText::parse("Nguyễn Văn An").expect("name"),
            applicant_phone: "0912345678".into(),
            applicant_personal_id: "001099012345".into(),
            on_behalf: false,
            answers,
            at: now,
            emails: vec![OutgoingEmail {
                to: "bench@example.vn".into(),
                subject: "Đã nhận hồ sơ {code}".into(),
                body: "Mã hồ sơ: {code}".into(),
            }],
        })
        .await
        .expect("submit");
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(url), Some(dir)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: motcua-bench-submission DATABASE_URL FILES_DIR [COUNT] [CONCURRENCY]");
        std::process::exit(2);
    };
    let count: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(2000);
    let concurrency: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(16);
    std::fs::create_dir_all(dir).expect("files dir");
    let files: Arc<dyn ObjectStore> =
        Arc::new(LocalFileSystem::new_with_prefix(dir).expect("files dir"));
    let store = open(url).await;
    let account = seed(&store).await;
    // a 200 KB PDF
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.resize(200 * 1024 - 6, b' ');
    pdf.extend_from_slice(b"%%EOF\n");
    let pdf = bytes::Bytes::from(pdf);
    // warm up the pools
    for _ in 0..10 {
        one(&store, files.as_ref(), account, &pdf).await;
    }
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (store, files, pdf, next) = (store.clone(), files.clone(), pdf.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < count {
                let t = Instant::now();
                one(&store, files.as_ref(), account, &pdf).await;
                latencies.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.expect("task"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize];
    println!(
        "{:.1} {:.2} {:.2}",
        latencies.len() as f64 / elapsed,
        pct(0.5),
        pct(0.99)
    );
}
