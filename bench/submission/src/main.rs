//! `motcua-bench-submission DATABASE_URL FILES_DIR [COUNT] [CONCURRENCY]`: measures online submissions with one
//! 200 KB PDF each, as the portal makes them — save the draft, store the file and record the upload, then the
//! submit transaction (code, dossier, history event, claimed file, outbox mail) — with CONCURRENCY clients.
//! Prints `submissions_per_second p50_ms p99_ms` on one line. The database must be empty or a bench leftover.
//!
//! `motcua-bench-submission --ipn DATABASE_URL FILES_DIR [COUNT] [CONCURRENCY]`: prepares COUNT dossiers each
//! owing a fee with a pending payment, then sends VNPay's signed notification for each through the portal's own
//! router (signature check, decision table, settlement with the dossier's return to processing) with CONCURRENCY
//! clients. Prints `notifications_per_second p50_ms p99_ms`.

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

async fn one(
    store: &Store,
    files: &dyn ObjectStore,
    account: AccountId,
    pdf: &bytes::Bytes,
) -> motcua_domain::Dossier {
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
            charge: None,
            by_post: None,
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
        .expect("submit")
}

/// Runs `count` operations with `concurrency` clients; prints `per_second p50_ms p99_ms`.
async fn measure<F, Fut>(count: usize, concurrency: usize, op: F)
where
    F: Fn(usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (op, next) = (op.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let t = Instant::now();
                op(i).await;
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

/// A submitted dossier, received, moved to status 6 with a fee of 50.000 đ, and a pending payment: its reference.
async fn owing(
    store: &Store,
    files: &dyn ObjectStore,
    account: AccountId,
    pdf: &bytes::Bytes,
) -> String {
    use motcua_domain::{
        DossierStatus, Transition, Vnd,
        payment::{Charge, Payment, PaymentStatus, Provider, transaction_ref},
        workflow::StepChange,
    };
    let d = one(store, files, account, pdf).await;
    let now = OffsetDateTime::now_utc();
    let received = Transition::new(d.id, d.status, DossierStatus::Received, now, "bench")
        .expect("transition")
        .with_due_at(now + time::Duration::days(7));
    store
        .dossiers
        .record_transition(&received)
        .await
        .expect("received");
    let charge = Charge {
        id: uuid::Uuid::now_v7(),
        dossier: d.id,
        amount: Vnd::new(50_000).expect("amount"),
        reason: "Lệ phí".into(),
        set_by: "bench".into(),
        set_at: now,
        paid_at: None,
        waived: None,
    };
    let to_fee = Transition::new(
        d.id,
        DossierStatus::Received,
        DossierStatus::AwaitingFinancialObligation,
        now,
        "bench",
    )
    .expect("transition")
    .with_reason("Nộp lệ phí");
    store
        .workflows
        .hand_off(
            Some(&to_fee),
            &StepChange {
                dossier: Some(d.id),
                charge: Some(charge.clone()),
                ..Default::default()
            },
        )
        .await
        .expect("fee");
    let id = uuid::Uuid::now_v7();
    let payment = Payment {
        id,
        charge: charge.id,
        dossier: d.id,
        provider: Provider::VnPay,
        txn_ref: transaction_ref(id),
        amount: charge.amount,
        status: PaymentStatus::Pending,
        created_at: now,
        created_by: "bench".into(),
        settled_at: None,
        gateway_ref: None,
        bank_code: None,
        flag: None,
    };
    store.payments.start(&payment).await.expect("payment");
    payment.txn_ref
}

/// VNPay's signed notification of a successful payment.
fn notification(txn_ref: &str, secret: &str) -> String {
    use motcua_domain::payment::vnpay;
    let mut fields: vnpay::Fields = [
        ("vnp_Amount", "5000000"),
        ("vnp_BankCode", "NCB"),
        ("vnp_BankTranNo", "VNP14226112"),
        ("vnp_CardType", "ATM"),
        ("vnp_OrderInfo", "Thanh toan phi le phi"),
        ("vnp_PayDate", "20261129101500"),
        ("vnp_ResponseCode", "00"),
        ("vnp_TmnCode", "MOTCUA01"),
        ("vnp_TransactionNo", "14226112"),
        ("vnp_TransactionStatus", "00"),
        ("vnp_TxnRef", txn_ref),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let hash = vnpay::sign(&fields, secret.as_bytes());
    fields.insert(vnpay::SECURE_HASH.into(), hash);
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.iter())
        .finish()
}

async fn ipn(store: Store, files: Arc<dyn ObjectStore>, count: usize, concurrency: usize) {
    use tower::ServiceExt;
    let account = seed(&store).await;
    let pdf = bytes::Bytes::from_static(b"%PDF-1.4\n%%EOF\n");
    let mut refs = Vec::with_capacity(count + 10);
    for _ in 0..count + 10 {
        refs.push(owing(&store, files.as_ref(), account, &pdf).await);
    }
    let state = motcua_web::AppState::new(store, motcua_web::Site::default(), files)
        .await
        .expect("app state");
    let secret = state.payments.secret.clone();
    let app = motcua_web::router(state);
    let send = move |txn_ref: String| {
        let (app, secret) = (app.clone(), secret.clone());
        async move {
            let request = axum::http::Request::get(format!(
                "/thanh-toan/thong-bao?{}",
                notification(&txn_ref, &secret)
            ))
            .body(axum::body::Body::empty())
            .expect("request");
            let reply = app.oneshot(request).await.expect("answer");
            assert!(reply.status().is_success(), "{}", reply.status());
        }
    };
    // warm up with the first ten
    for r in refs.drain(..10) {
        send(r).await;
    }
    let refs = Arc::new(refs);
    measure(count, concurrency, move |i| send(refs[i].clone())).await;
}

#[tokio::main]
async fn main() {
    let mut args: Vec<String> = std::env::args().collect();
    let notifications = args.get(1).is_some_and(|a| a == "--ipn");
    if notifications {
        args.remove(1);
    }
    let (Some(url), Some(dir)) = (args.get(1), args.get(2)) else {
        eprintln!(
            "usage: motcua-bench-submission [--ipn] DATABASE_URL FILES_DIR [COUNT] [CONCURRENCY]"
        );
        std::process::exit(2);
    };
    let count: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(2000);
    let concurrency: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(16);
    std::fs::create_dir_all(dir).expect("files dir");
    let files: Arc<dyn ObjectStore> =
        Arc::new(LocalFileSystem::new_with_prefix(dir).expect("files dir"));
    let store = open(url).await;
    if notifications {
        ipn(store, files, count, concurrency).await;
        return;
    }
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
    measure(count, concurrency, move |_| {
        let (store, files, pdf) = (store.clone(), files.clone(), pdf.clone());
        async move {
            one(&store, files.as_ref(), account, &pdf).await;
        }
    })
    .await;
}
