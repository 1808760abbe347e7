//! The outbox delivers through a real SMTP conversation with a server started here: a refusal is retried later,
//! a job taken by a worker that died is taken again after its lease, and nothing depends on process memory.

use motcua_domain::{
    Account, AccountId, AccountKind, CaseKey, DossierId, Email, NonEmptyText, ProcedureCode,
    form::Answers,
    submission::{Draft, DraftId, OutgoingEmail, Submission},
};
use motcua_notify::SmtpMailer;
use motcua_store::Store;
use motcua_testkit::fixtures::{self, AGENCY, PROCEDURE};
use motcua_web::worker::Worker;
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// An SMTP server that refuses the first `refuse` recipients with 451 and keeps the DATA of accepted mails.
async fn smtp_server(refuse: usize) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let refused = Arc::new(Mutex::new(0usize));
    let keep = received.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let keep = keep.clone();
            let refused = refused.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 test ESMTP\r\n").await;
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") {
                        b"250-test\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("RCPT") {
                        let mut n = refused.lock().unwrap();
                        if *n < refuse {
                            *n += 1;
                            b"451 4.3.0 try again later\r\n"
                        } else {
                            b"250 ok\r\n"
                        }
                    } else if upper.starts_with("DATA") {
                        let _ = write.write_all(b"354 go ahead\r\n").await;
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        keep.lock().unwrap().push(data);
                        b"250 queued\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 ok\r\n"
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, received)
}

/// A submitted dossier whose confirmation mail waits in the outbox.
async fn submitted(store: &Store) -> motcua_domain::Dossier {
    fixtures::seed_minimal(store).await;
    let account = Account {
        id: AccountId::new(),
        kind: AccountKind::Citizen,
        full_name: NonEmptyText::parse("Nguyễn Văn An").unwrap(),
        personal_id: None,
        birth_date: None,
        phone: None,
        email: Some(Email::parse("an@example.vn").unwrap()),
        address: None,
        password_hash: "$argon2id$unused".into(),
        email_verified_at: None,
        disabled: false,
        created_at: OffsetDateTime::now_utc(),
        grants: vec![],
    };
    store.accounts.create(&account).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let draft = Draft {
        id: DraftId::new(),
        account: account.id,
        procedure: ProcedureCode::parse(PROCEDURE).unwrap(),
        procedure_version: 1,
        case: CaseKey::parse("mac-dinh").unwrap(),
        agency: motcua_domain::AgencyCode::parse(AGENCY).unwrap(),
        answers: Answers::new(),
        created_at: now,
        updated_at: now,
        dossier: None,
    };
    store.submissions.save_draft(&draft).await.unwrap();
    store
        .submissions
        .submit(&Submission {
            draft: draft.id,
            new_dossier: DossierId::new(),
            charge: None,
            by_post: None,
            account: account.id,
            applicant_name: account.full_name.clone(),
            applicant_phone: "0912345678".into(),
            applicant_personal_id: "001099012345".into(),
            on_behalf: false,
            answers: Answers::new(),
            at: now,
            emails: vec![OutgoingEmail {
                to: "an@example.vn".into(),
                subject: "Đã nhận hồ sơ {code} trực tuyến".into(),
                body: "Mã hồ sơ: {code}".into(),
            }],
        })
        .await
        .unwrap()
}

fn worker(store: &Store, port: u16) -> Worker {
    Worker {
        store: store.clone(),
        mailer: Arc::new(
            SmtpMailer::new("127.0.0.1", port, "Cổng Dịch vụ công <noreply@example.vn>").unwrap(),
        ),
        files: Arc::new(object_store::memory::InMemory::new()),
        sweep_after: Duration::hours(72),
        catalogue: None,
        public_url: "https://dichvucong.example.vn".into(),
    }
}

#[tokio::test]
async fn a_refused_mail_is_retried_later_by_whichever_worker_runs_then() {
    let db = motcua_testkit::sqlite_store().await;
    let dossier = submitted(&db.store).await;
    let (port, received) = smtp_server(1).await;
    let now = OffsetDateTime::now_utc();
    assert_eq!(worker(&db.store, port).run_due(now).await.unwrap(), 0);
    assert!(received.lock().unwrap().is_empty());
    assert_eq!(db.store.outbox.pending().await.unwrap(), 1);
    // not before its back-off
    assert_eq!(worker(&db.store, port).run_due(now).await.unwrap(), 0);
    // a new worker (a restarted server) delivers it when it is due
    let later = now + Duration::minutes(2);
    assert_eq!(worker(&db.store, port).run_due(later).await.unwrap(), 1);
    assert_eq!(db.store.outbox.pending().await.unwrap(), 0);
    let mails = received.lock().unwrap().clone();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("To: an@example.vn"), "{}", mails[0]);
    // the code is filled into subject and body (ASCII, so readable through the encodings)
    let code = dossier.code.to_string();
    assert!(mails[0].contains(&format!("?= {code}")), "{}", mails[0]);
    assert!(
        mails[0].contains(&format!("s=C6=A1: {code}")),
        "{}",
        mails[0]
    );
}

#[tokio::test]
async fn a_job_taken_by_a_worker_that_died_is_delivered_after_its_lease() {
    let db = motcua_testkit::sqlite_store().await;
    submitted(&db.store).await;
    let (port, received) = smtp_server(0).await;
    let now = OffsetDateTime::now_utc();
    // a worker takes the job and dies before sending it
    let taken = db
        .store
        .outbox
        .claim(now, Duration::minutes(5), 10)
        .await
        .unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(
        worker(&db.store, port).run_due(now).await.unwrap(),
        0,
        "still leased"
    );
    let after_lease = now + Duration::minutes(6);
    assert_eq!(
        worker(&db.store, port).run_due(after_lease).await.unwrap(),
        1
    );
    assert_eq!(received.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn uploads_never_submitted_are_swept_with_their_files() {
    use object_store::{ObjectStoreExt, PutPayload, memory::InMemory, path::Path};
    let db = motcua_testkit::sqlite_store().await;
    let dossier = submitted(&db.store).await;
    let files = Arc::new(InMemory::new());
    let account = dossier_account(&db.store, dossier.id).await;
    // an abandoned draft with one file, two days old
    let old = OffsetDateTime::now_utc() - Duration::days(4);
    let draft = Draft {
        id: DraftId::new(),
        account,
        procedure: ProcedureCode::parse(PROCEDURE).unwrap(),
        procedure_version: 1,
        case: CaseKey::parse("mac-dinh").unwrap(),
        agency: motcua_domain::AgencyCode::parse(AGENCY).unwrap(),
        answers: Answers::new(),
        created_at: old,
        updated_at: old,
        dossier: None,
    };
    db.store.submissions.save_draft(&draft).await.unwrap();
    let key = "tep/old/abandoned";
    files
        .put(
            &Path::from(key),
            PutPayload::from(b"%PDF-1.4 %%EOF".to_vec()),
        )
        .await
        .unwrap();
    let upload = motcua_domain::submission::Upload {
        id: motcua_domain::submission::UploadId(uuid::Uuid::now_v7()),
        account,
        draft: draft.id,
        component: 0,
        file_name: "a.pdf".into(),
        object_key: key.into(),
        file_type: motcua_domain::upload::FileType::Pdf,
        size: 14,
        sha256: "00".repeat(32),
        created_at: old,
        dossier: None,
    };
    db.store
        .submissions
        .add_upload(&upload, u64::MAX)
        .await
        .unwrap();
    let w = Worker {
        files: files.clone(),
        ..worker(&db.store, 1)
    };
    // four days without the draft being touched: past the 72 hours
    assert_eq!(w.sweep(OffsetDateTime::now_utc()).await.unwrap(), 1);
    assert!(
        files.get(&Path::from(key)).await.is_err(),
        "its file is deleted"
    );
    assert_eq!(
        db.store.submissions.get_upload(upload.id).await.unwrap(),
        None
    );
    // a second sweep finds nothing
    assert_eq!(w.sweep(OffsetDateTime::now_utc()).await.unwrap(), 0);
}

async fn dossier_account(store: &Store, dossier: motcua_domain::DossierId) -> AccountId {
    store
        .submissions
        .online_details(dossier)
        .await
        .unwrap()
        .unwrap()
        .account
        .unwrap()
}
