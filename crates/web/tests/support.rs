//! Shared by the test files of this crate; each uses part of it.
#![allow(dead_code)]

use axum::{
    body::Body,
    http::{HeaderMap, Request, StatusCode},
};
use http_body_util::BodyExt;
use motcua_testkit::TestStore;
use motcua_web::{AppState, Site, router};
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, memory::InMemory, path::Path};
use std::sync::Arc;
use tower::ServiceExt;

/// A test body (`async fn(TestStore)`) as two tests: `$name` on SQLite, and `$pg` on PostgreSQL when the
/// PostgreSQL suite is enabled (`MOTCUA_TEST_POSTGRES_URL`; the run says at its end whether it was).
#[allow(unused_macros)]
macro_rules! on_both_backends {
    ($name:ident, $pg:ident, $body:ident) => {
        #[tokio::test]
        async fn $name() {
            $body(motcua_testkit::sqlite_store().await).await
        }

        #[tokio::test]
        async fn $pg() {
            if let Some(db) = motcua_testkit::postgres_store().await {
                $body(db).await
            }
        }
    };
}

/// A pseudo-header for [`TestApp::send`]: the address the request's connection comes from (`ip:port`).
pub const PEER: &str = "x-test-peer";

/// An account for a test (a hash that matches no password: log in with [`session_for`]).
pub fn person(
    name: &str,
    email: &str,
    kind: motcua_domain::AccountKind,
    grants: &[&str],
) -> motcua_domain::Account {
    motcua_domain::Account {
        id: motcua_domain::AccountId::new(),
        kind,
        full_name: motcua_domain::NonEmptyText::parse(name).unwrap(),
        personal_id: None,
        birth_date: None,
        phone: None,
        email: Some(motcua_domain::Email::parse(email).unwrap()),
        address: None,
        password_hash: "$argon2id$unused".into(),
        email_verified_at: None,
        disabled: false,
        created_at: time::OffsetDateTime::now_utc(),
        grants: grants
            .iter()
            .map(|g| motcua_domain::RoleGrant::parse(g).unwrap())
            .collect(),
    }
}

/// Store `account` and give it a session: the cookie to send (`seed` is one hex digit, distinct per account).
pub async fn session_for(app: &TestApp, account: &motcua_domain::Account, seed: &str) -> String {
    app.db.store.accounts.create(account).await.unwrap();
    session_with_token(app, account.id, seed.repeat(64)).await
}

/// A session for an account already stored: the cookie to send (`seed` is one hex digit, distinct per session).
pub async fn session_existing(
    app: &TestApp,
    account: motcua_domain::AccountId,
    seed: &str,
) -> String {
    session_with_token(app, account, seed.repeat(64)).await
}

/// A session for an account already stored: the cookie to send (`n` distinct per session).
pub async fn session_numbered(app: &TestApp, account: motcua_domain::AccountId, n: u64) -> String {
    session_with_token(app, account, format!("{n:064x}")).await
}

async fn session_with_token(
    app: &TestApp,
    account: motcua_domain::AccountId,
    token: String,
) -> String {
    let now = time::OffsetDateTime::now_utc();
    app.db
        .store
        .sessions
        .create(&motcua_domain::Session {
            key: motcua_domain::SessionKey::of_token(&token),
            account,
            created_at: now,
            last_seen_at: now,
            expires_at: now + time::Duration::hours(8),
        })
        .await
        .unwrap();
    format!("__Host-motcua={token}")
}

/// An upload of `owner`'s for the first component of `draft` (its bytes are for the caller to store).
pub fn draft_upload(
    owner: &motcua_domain::Account,
    draft: motcua_domain::submission::DraftId,
    name: &str,
    size: u64,
) -> motcua_domain::submission::Upload {
    use motcua_domain::{
        submission::{Upload, UploadId},
        upload::FileType,
    };
    let id = UploadId(uuid::Uuid::new_v4());
    Upload {
        id,
        account: owner.id,
        draft,
        component: 0,
        file_name: name.into(),
        object_key: format!("uploads/{}", id.0),
        file_type: FileType::Pdf,
        size,
        sha256: "0".repeat(64),
        created_at: time::OffsetDateTime::now_utc(),
        dossier: None,
    }
}

/// `application/x-www-form-urlencoded` of these pairs.
pub fn encode_form(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    pub bytes: Vec<u8>,
}

pub struct TestApp {
    pub db: TestStore,
    pub state: AppState,
    pub files: Arc<InMemory>,
    /// Every e-mail the app sent.
    pub mail: motcua_notify::MemoryMailer,
}

impl TestApp {
    /// Build the app over `db` as it is now (the catalogue is loaded once, like a starting server).
    pub async fn new(db: TestStore) -> TestApp {
        let files = Arc::new(InMemory::new());
        let state = AppState::new(
            db.store.clone(),
            Site {
                name: "Cổng Dịch vụ công tỉnh Minh Hòa".into(),
                public_url: "https://dichvucong.example.vn".into(),
                footer: motcua_web::SiteFooter {
                    owner: Some("Văn phòng UBND tỉnh Minh Hòa".into()),
                    address: None,
                    hotline: Some("1900 1234".into()),
                    email: Some("dichvucong@minhhoa.example.vn".into()),
                },
                place: Some("Minh Hòa".into()),
            },
            files.clone() as Arc<dyn ObjectStore>,
        )
        .await
        .expect("app state");
        let mail = motcua_notify::MemoryMailer::default();
        let state = state.with_mailer(Arc::new(mail.clone()));
        TestApp {
            db,
            state,
            files,
            mail,
        }
    }

    pub async fn put_file(&self, key: &str, bytes: &[u8]) {
        self.files
            .put(&Path::parse(key).unwrap(), PutPayload::from(bytes.to_vec()))
            .await
            .unwrap();
    }

    /// The same app on a fresh PostgreSQL schema, when the PostgreSQL suite is enabled.
    pub async fn postgres() -> Option<TestApp> {
        Some(TestApp::new(motcua_testkit::postgres_store().await?).await)
    }

    /// Pick up catalogue changes, as the refresher does on a running server.
    pub async fn refresh(&self) {
        self.state.catalogue.refresh(&self.db.store).await.unwrap();
    }

    /// Every e-mail sent so far, once the work done after answers has finished.
    pub async fn sent_mail(&self) -> Vec<motcua_notify::Message> {
        self.state.background.idle().await;
        self.mail.messages()
    }

    /// Deliver the outbox's mail now, as the worker would a minute later, and return every mail sent.
    pub async fn deliver_mail(&self) -> Vec<motcua_notify::Message> {
        let worker = motcua_web::worker::Worker {
            store: self.db.store.clone(),
            mailer: Arc::new(self.mail.clone()),
            files: self.files.clone(),
            sweep_after: time::Duration::hours(72),
            catalogue: Some(self.state.catalogue.clone()),
            public_url: "https://dichvucong.example.vn".into(),
        };
        worker
            .run_due(time::OffsetDateTime::now_utc() + time::Duration::minutes(1))
            .await
            .unwrap();
        self.sent_mail().await
    }

    pub async fn get(&self, path: &str) -> Reply {
        get_from(&self.state, path).await
    }
}

impl TestApp {
    /// Any request through the real router: `headers` as (name, value) pairs.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Reply {
        self.send_bytes(method, path, headers, body.as_bytes().to_vec())
            .await
    }

    /// Any request with a binary body (multipart uploads).
    pub async fn send_bytes(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        let mut peer = None;
        for (name, value) in headers {
            // the connection's address, as `serve` records it (not a header)
            if *name == PEER {
                peer = Some(value.parse::<std::net::SocketAddr>().expect("peer address"));
                continue;
            }
            request = request.header(*name, *value);
        }
        let mut request = request.body(Body::from(body)).unwrap();
        if let Some(peer) = peer {
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
        }
        let response = router(self.state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes,
        }
    }

    /// A form POST as a browser on our own pages sends it.
    pub async fn post_form(&self, path: &str, body: &str, cookie: Option<&str>) -> Reply {
        let mut headers = vec![
            ("content-type", "application/x-www-form-urlencoded"),
            ("sec-fetch-site", "same-origin"),
        ];
        if let Some(cookie) = cookie {
            headers.push(("cookie", cookie));
        }
        self.send("POST", path, &headers, body).await
    }

    /// A multipart form POST: parts as (name, file name for a file part, bytes).
    pub async fn post_multipart(
        &self,
        path: &str,
        parts: &[(&str, Option<&str>, &[u8])],
        cookie: Option<&str>,
    ) -> Reply {
        let boundary = "----motcua-test-boundary";
        let mut body = Vec::new();
        for (name, file, bytes) in parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match file {
                Some(f) => body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                ),
                None => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let content_type = format!("multipart/form-data; boundary={boundary}");
        let mut headers = vec![
            ("content-type", content_type.as_str()),
            ("sec-fetch-site", "same-origin"),
        ];
        if let Some(cookie) = cookie {
            headers.push(("cookie", cookie));
        }
        self.send_bytes("POST", path, &headers, body).await
    }

    /// A GET with a cookie.
    pub async fn get_with_cookie(&self, path: &str, cookie: &str) -> Reply {
        self.send("GET", path, &[("cookie", cookie)], "").await
    }
}

impl Reply {
    /// `name=value` of the cookie the response sets, for the next request.
    pub fn cookie(&self) -> Option<String> {
        self.headers
            .get_all(axum::http::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().to_string())
            .find(|c| !c.ends_with('='))
    }
}

/// One GET through the real router.
pub async fn get_from(state: &AppState, path: &str) -> Reply {
    {
        let response = router(state.clone())
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes,
        }
    }
}

/// The minimal catalogue at level 3, a citizen (`an@example.vn`) and one online dossier they submitted, waiting
/// for reception at `AGENCY`.
pub async fn with_submitted_dossier(
    db: motcua_testkit::TestStore,
) -> (TestApp, motcua_domain::Account, motcua_domain::Dossier) {
    with_submitted_files(db, &[]).await
}

/// [`with_submitted_dossier`] with these files (name, bytes) attached to the dossier, for its first component.
pub async fn with_submitted_files(
    db: motcua_testkit::TestStore,
    files: &[(&str, &[u8])],
) -> (TestApp, motcua_domain::Account, motcua_domain::Dossier) {
    use motcua_domain::{
        AccountKind, AgencyCode, CaseKey, OnlineServiceLevel, ProcedureCode,
        ServiceLevelAssignment,
        form::Answers,
        submission::{Draft, DraftId, OutgoingEmail, Submission},
    };
    use motcua_testkit::fixtures::{self, AGENCY, PROCEDURE};
    use time::{OffsetDateTime, macros::date};
    fixtures::seed_minimal(&db.store).await;
    db.store
        .catalogue
        .set_service_level(&ServiceLevelAssignment {
            procedure: ProcedureCode::parse(PROCEDURE).unwrap(),
            case: CaseKey::parse("mac-dinh").unwrap(),
            agency: AgencyCode::parse(AGENCY).unwrap(),
            level: OnlineServiceLevel::Level3,
            effective_from: date!(2024 - 01 - 01),
        })
        .await
        .unwrap();
    let app = TestApp::new(db).await;
    let citizen = person("Nguyễn Văn An", "an@example.vn", AccountKind::Citizen, &[]);
    app.db.store.accounts.create(&citizen).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let mut answers = Answers::new();
    answers.insert("nguoi_nop_email".into(), vec!["an@example.vn".into()]);
    answers.insert("noi_dung_de_nghi".into(), vec!["Đăng ký khai sinh".into()]);
    let draft = Draft {
        id: DraftId::new(),
        account: citizen.id,
        procedure: ProcedureCode::parse(PROCEDURE).unwrap(),
        procedure_version: 1,
        case: CaseKey::parse("mac-dinh").unwrap(),
        agency: AgencyCode::parse(AGENCY).unwrap(),
        answers: answers.clone(),
        created_at: now,
        updated_at: now,
        dossier: None,
    };
    app.db.store.submissions.save_draft(&draft).await.unwrap();
    for (name, bytes) in files {
        let upload = draft_upload(&citizen, draft.id, name, bytes.len() as u64);
        app.put_file(&upload.object_key, bytes).await;
        app.db
            .store
            .submissions
            .add_upload(&upload, u64::MAX)
            .await
            .unwrap();
    }
    let dossier = app
        .db
        .store
        .submissions
        .submit(&Submission {
            draft: draft.id,
            new_dossier: motcua_domain::DossierId::new(),
            charge: None,
            by_post: None,
            account: citizen.id,
            applicant_name: citizen.full_name.clone(),
            applicant_phone: "0912345678".into(),
            applicant_personal_id: "001099012345".into(),
            on_behalf: false,
            answers,
            at: now,
            emails: vec![OutgoingEmail {
                to: "an@example.vn".into(),
                subject: "Đã nhận hồ sơ {code}".into(),
                body: "x".into(),
            }],
        })
        .await
        .unwrap();
    (app, citizen, dossier)
}

/// The text of a PDF through Poppler's pdftotext, when installed (CI requires it).
pub fn pdf_text(bytes: &[u8]) -> Option<String> {
    pdf_text_with(bytes, &[])
}

/// The text of a PDF with each line laid out as printed (`pdftotext -layout`): a table's cells stay on their row.
pub fn pdf_layout_text(bytes: &[u8]) -> Option<String> {
    pdf_text_with(bytes, &["-layout"])
}

fn pdf_text_with(bytes: &[u8], options: &[&str]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("slip.pdf");
    std::fs::write(&file, bytes).unwrap();
    // kept for people to look at, with the screenshots, when the run keeps artifacts
    if let Ok(artifacts) = std::env::var("MOTCUA_TEST_ARTIFACTS") {
        let pdfs = std::path::Path::new(&artifacts).join("pdf");
        if std::fs::create_dir_all(&pdfs).is_ok() {
            use sha2::Digest;
            let name: String = sha2::Sha256::digest(bytes)[..6]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let _ = std::fs::write(pdfs.join(format!("{name}.pdf")), bytes);
        }
    }
    match std::process::Command::new("pdftotext")
        .args(options)
        .arg(&file)
        .arg("-")
        .output()
    {
        Ok(out) => Some(String::from_utf8_lossy(&out.stdout).into_owned()),
        Err(_) if std::env::var("MOTCUA_TEST_REQUIRE_PDFTOTEXT").is_ok() => {
            panic!("pdftotext (Debian poppler-utils) is required here")
        }
        Err(_) => {
            eprintln!(
                "skipped the text check of the slip: pdftotext (poppler-utils) not installed"
            );
            None
        }
    }
}
