//! The authorisation matrix: every route the router declares (`motcua_web::ROUTES`), asked with every method by
//! an anonymous visitor, the dossier's owner, another citizen, and an officer of each role at the dossier's agency
//! and at another one. Each gets exactly what the policy decides; refusals are audited.

mod support;

use axum::http::StatusCode;
use motcua_domain::{
    Account, AccountId, AccountKind, AgencyCode, AuditKind, NonEmptyText, Role,
    policy::{Action, Decision, decide},
};
use motcua_testkit::fixtures::{self, AGENCY, OTHER_AGENCY};
use support::TestApp;
use time::{Duration, OffsetDateTime};

const ROLES: [Role; 7] = Role::ALL;
/// Anonymous, another citizen, an officer of each role at each of two agencies, the owner.
const PERSONAS: usize = 2 + 2 * ROLES.len() + 1;

/// How a persona's request came out, as far as authorisation goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// Served, or refused for another reason than who is asking (bad input, not found, conflict…).
    Served,
    /// Log in first: a redirect to the login page, or 401 for the session endpoints.
    Login,
    /// 403, audited.
    Denied,
}

fn answer_of(reply: &support::Reply) -> Answer {
    let to_login = reply.status == StatusCode::SEE_OTHER
        && reply
            .headers
            .get("location")
            .and_then(|l| l.to_str().ok())
            .is_some_and(|l| l.starts_with("/dang-nhap"));
    match reply.status {
        StatusCode::UNAUTHORIZED => Answer::Login,
        StatusCode::FORBIDDEN => Answer::Denied,
        _ if to_login => Answer::Login,
        _ => Answer::Served,
    }
}

/// Who is asking: `None` for an anonymous visitor.
struct Persona {
    label: String,
    account: Option<Account>,
    cookie: Option<String>,
}

/// What a route needs.
#[derive(Clone, Copy)]
enum Rule {
    /// Anyone, logged in or not.
    Public,
    /// Anyone logged in.
    LoggedIn,
    /// The owner of the dossier or draft.
    Owner,
    /// A desk right at the dossier's agency.
    At(Desk),
    /// A desk right at some agency (the desk's own lists).
    Somewhere(Desk),
    /// Administration pages (an administrator of any agency).
    Administer,
    /// Portal content (an editor or an administrator of any agency).
    EditContent,
    /// Writing articles (editors and the head editor).
    WriteArticles,
    /// Approving articles (the head editor).
    ApproveArticles,
    /// Moderating comments (editors and the head editor).
    ModerateComments,
    /// Logging out: everyone ends at the login page.
    LogOut,
    /// The agencies' API: only an API client's key opens it, never a session (401 for every persona;
    /// what each client may do is the matrix of `tests/api_office.rs`).
    ApiKey,
}

/// Desk rights.
#[derive(Clone, Copy)]
enum Desk {
    Receive,
    Process,
    Approve,
    /// Any of the three.
    Any,
}

impl Desk {
    fn action(self, agency: &AgencyCode) -> Action<'_> {
        match self {
            Desk::Receive => Action::ReceiveDossiers(agency),
            Desk::Process => Action::ProcessDossiers(agency),
            Desk::Approve => Action::ApproveDossiers(agency),
            Desk::Any => Action::DeskWork(agency),
        }
    }
}

/// What the policy decides for this persona and rule.
fn expected(rule: Rule, who: &Persona, owner: &AccountId, agencies: &[AgencyCode; 2]) -> Answer {
    let within = |a: &AgencyCode, b: &AgencyCode| a == b;
    let decided = |action| match decide(who.account.as_ref(), action, &within) {
        Decision::Allow => Answer::Served,
        Decision::NeedsLogin => Answer::Login,
        Decision::Deny => Answer::Denied,
    };
    match rule {
        Rule::Public => Answer::Served,
        Rule::LoggedIn => decided(Action::ViewOwnAccount),
        Rule::Owner => decided(Action::OwnDossier(owner)),
        Rule::Administer => decided(Action::Administer),
        Rule::EditContent => decided(Action::EditContent),
        Rule::WriteArticles => decided(Action::WriteArticles),
        Rule::ApproveArticles => decided(Action::ApproveArticles),
        Rule::ModerateComments => decided(Action::ModerateComments),
        Rule::LogOut | Rule::ApiKey => Answer::Login,
        Rule::At(desk) => decided(desk.action(&agencies[0])),
        Rule::Somewhere(desk) => {
            let answers = agencies.each_ref().map(|a| decided(desk.action(a)));
            if answers.contains(&Answer::Served) {
                Answer::Served
            } else {
                answers[0]
            }
        }
    }
}

const DESK: Rule = Rule::At(Desk::Any);
const RECEIVE: Rule = Rule::At(Desk::Receive);
const APPROVE: Rule = Rule::At(Desk::Approve);
const PROCESS: Rule = Rule::At(Desk::Process);

/// The matrix: one row per route and method of `motcua_web::ROUTES`. A new route without a row fails
/// `every_route_has_a_row_in_the_matrix`.
const MATRIX: &[(&str, &str, Rule)] = &[
    ("GET", "/", Rule::Public),
    ("GET", "/trang/{slug}", Rule::Public),
    ("GET", "/quan-tri/trang/{slug}", Rule::EditContent),
    ("POST", "/quan-tri/trang/{slug}", Rule::EditContent),
    ("GET", "/chi-so-766", Rule::Public),
    ("GET", "/can-bo/chi-so-766/{agency}", DESK),
    ("GET", "/can-bo/chi-so-766/{agency}/{metric}", DESK),
    ("GET", "/tin-tuc", Rule::Public),
    ("GET", "/tin-tuc.atom", Rule::Public),
    ("GET", "/tin-tuc/{slug}", Rule::Public),
    ("GET", "/tin-tuc/{slug}/ban-in", Rule::Public),
    ("POST", "/tin-tuc/{slug}/danh-gia", Rule::Public),
    ("POST", "/tin-tuc/{slug}/binh-luan", Rule::Public),
    ("GET", "/anh-bai-viet/{file}", Rule::Public),
    ("GET", "/bien-tap", Rule::WriteArticles),
    ("GET", "/bien-tap/bai-viet/moi", Rule::WriteArticles),
    ("POST", "/bien-tap/bai-viet/moi", Rule::WriteArticles),
    ("GET", "/bien-tap/bai-viet/{id}", Rule::WriteArticles),
    ("POST", "/bien-tap/bai-viet/{id}", Rule::WriteArticles),
    (
        "POST",
        "/bien-tap/bai-viet/{id}/duyet",
        Rule::ApproveArticles,
    ),
    ("POST", "/bien-tap/bai-viet/{id}/go", Rule::ApproveArticles),
    (
        "GET",
        "/bien-tap/bai-viet/{id}/phien-ban/{version}",
        Rule::WriteArticles,
    ),
    ("POST", "/bien-tap/bai-viet/{id}/anh", Rule::WriteArticles),
    ("GET", "/bien-tap/binh-luan", Rule::ModerateComments),
    ("POST", "/bien-tap/binh-luan/{id}", Rule::ModerateComments),
    ("GET", "/robots.txt", Rule::Public),
    ("GET", "/sitemap.xml", Rule::Public),
    ("GET", "/thu-tuc", Rule::Public),
    ("GET", "/thu-tuc/goi-y", Rule::Public),
    ("GET", "/thu-tuc/{code}", Rule::Public),
    (
        "GET",
        "/thu-tuc/{code}/mau/{case}/{component}",
        Rule::Public,
    ),
    ("GET", "/dang-nhap", Rule::Public),
    ("POST", "/dang-nhap", Rule::Public),
    ("POST", "/dang-xuat", Rule::LogOut),
    ("GET", "/dang-ky", Rule::Public),
    ("POST", "/dang-ky", Rule::Public),
    ("GET", "/quen-mat-khau", Rule::Public),
    ("POST", "/quen-mat-khau", Rule::Public),
    ("GET", "/dat-lai-mat-khau", Rule::Public),
    ("POST", "/dat-lai-mat-khau", Rule::Public),
    ("GET", "/xac-thuc-email", Rule::Public),
    ("GET", "/ket-qua-giai-quyet", Rule::Public),
    ("GET", "/thong-ke", Rule::Public),
    ("GET", "/thong-ke.csv", Rule::Public),
    ("GET", "/thong-ke.xlsx", Rule::Public),
    ("POST", "/phien/gia-han", Rule::LoggedIn),
    ("GET", "/phien/trang-thai", Rule::LoggedIn),
    ("GET", "/tai-khoan", Rule::LoggedIn),
    ("POST", "/tai-khoan/dang-xuat-moi-noi", Rule::LogOut),
    ("GET", "/tai-khoan/lien-he", Rule::LoggedIn),
    ("POST", "/tai-khoan/lien-he", Rule::LoggedIn),
    ("GET", "/tai-khoan/du-lieu", Rule::LoggedIn),
    ("GET", "/tai-khoan/ma-truy-cap", Rule::LoggedIn),
    ("POST", "/tai-khoan/ma-truy-cap", Rule::LoggedIn),
    ("GET", "/tai-khoan/mat-khau", Rule::LoggedIn),
    ("POST", "/tai-khoan/mat-khau", Rule::LoggedIn),
    ("GET", "/quan-tri/nhat-ky-bao-mat", Rule::Administer),
    ("GET", "/quan-tri/ngay-nghi", Rule::Administer),
    ("GET", "/quan-tri/tim-kiem", Rule::EditContent),
    ("GET", "/quan-tri/tu-dong-nghia", Rule::EditContent),
    ("POST", "/quan-tri/tu-dong-nghia", Rule::EditContent),
    ("GET", "/quan-tri/thu-tuc", Rule::EditContent),
    ("GET", "/quan-tri/thu-tuc/{procedure}", Rule::EditContent),
    ("POST", "/quan-tri/thu-tuc/{procedure}", Rule::EditContent),
    (
        "POST",
        "/quan-tri/thu-tuc/{procedure}/muc-do",
        Rule::EditContent,
    ),
    (
        "GET",
        "/quan-tri/thu-tuc/{procedure}/phien-ban",
        Rule::EditContent,
    ),
    ("POST", "/quan-tri/ngay-nghi", Rule::Administer),
    ("GET", "/quan-tri/quy-trinh", Rule::Administer),
    (
        "GET",
        "/quan-tri/quy-trinh/{procedure}/{case}",
        Rule::Administer,
    ),
    (
        "POST",
        "/quan-tri/quy-trinh/{procedure}/{case}",
        Rule::Administer,
    ),
    ("GET", "/quan-tri/can-bo", Rule::Administer),
    ("POST", "/quan-tri/can-bo", Rule::Administer),
    // which clients an administrator sees and changes depends on their grants: tests/api_office.rs
    ("GET", "/quan-tri/ket-noi-api", Rule::Administer),
    ("POST", "/quan-tri/ket-noi-api", Rule::Administer),
    ("GET", "/quan-tri/ket-noi-api/{id}", Rule::Administer),
    ("POST", "/quan-tri/ket-noi-api/{id}", Rule::Administer),
    // which agency's roles may be changed depends on the grant posted: tests/officers.rs
    ("POST", "/quan-tri/can-bo/{id}/vai-tro", Rule::Administer),
    // which agencies may be edited or merged depends on the administrator's grants: tests/agencies.rs
    ("GET", "/quan-tri/co-quan", Rule::Administer),
    ("POST", "/quan-tri/co-quan", Rule::Administer),
    ("GET", "/quan-tri/co-quan/{agency}", Rule::Administer),
    ("POST", "/quan-tri/co-quan/{agency}", Rule::Administer),
    (
        "POST",
        "/quan-tri/co-quan/{agency}/sap-nhap",
        Rule::Administer,
    ),
    ("GET", "/nop-ho-so/{code}/{case}/{agency}", Rule::LoggedIn),
    ("POST", "/nop-ho-so/{code}/{case}/{agency}", Rule::LoggedIn),
    ("GET", "/ho-so-nhap/{id}", Rule::Owner),
    ("POST", "/ho-so-nhap/{id}/xoa", Rule::Owner),
    ("GET", "/ho-so-nhap/{id}/trang/{page}", Rule::Owner),
    ("POST", "/ho-so-nhap/{id}/trang/{page}", Rule::Owner),
    (
        "POST",
        "/ho-so-nhap/{id}/trang/{page}/tu-dong-luu",
        Rule::Owner,
    ),
    ("GET", "/ho-so-nhap/{id}/giay-to", Rule::Owner),
    ("POST", "/ho-so-nhap/{id}/giay-to", Rule::Owner),
    ("GET", "/ho-so-nhap/{id}/tep/{file}", Rule::Owner),
    ("POST", "/ho-so-nhap/{id}/tep/{file}/xoa", Rule::Owner),
    ("GET", "/ho-so-nhap/{id}/kiem-tra", Rule::Owner),
    ("POST", "/ho-so-nhap/{id}/kiem-tra", Rule::Owner),
    ("GET", "/ho-so-cua-toi", Rule::LoggedIn),
    ("GET", "/ho-so/{code}", Rule::Owner),
    ("GET", "/ho-so/{code}/da-nop", Rule::Owner),
    ("GET", "/ho-so/{code}/rut", Rule::Owner),
    ("POST", "/ho-so/{code}/rut", Rule::Owner),
    ("POST", "/ho-so/{code}/bo-sung", Rule::Owner),
    ("POST", "/ho-so/{code}/bo-sung/{file}/xoa", Rule::Owner),
    ("POST", "/ho-so/{code}/gui-bo-sung", Rule::Owner),
    ("GET", "/ho-so/{code}/bien-nhan.pdf", Rule::Owner),
    ("POST", "/ho-so/{code}/thanh-toan", Rule::Owner),
    ("POST", "/ho-so/{code}/danh-gia", Rule::Owner),
    ("POST", "/ho-so/{code}/buu-chinh", Rule::Owner),
    // the hand-over slip's QR code: whoever holds the rating code rates, once
    ("GET", "/danh-gia/{token}", Rule::Public),
    ("POST", "/danh-gia/{token}", Rule::Public),
    // the gateway's return and notification, and the sandbox gateway: signed, not logged in
    ("GET", "/thanh-toan/ket-qua", Rule::Public),
    ("GET", "/thanh-toan/thong-bao", Rule::Public),
    ("POST", "/thanh-toan/thong-bao", Rule::Public),
    ("GET", "/cong-thanh-toan-thu-nghiem", Rule::Public),
    ("POST", "/cong-thanh-toan-thu-nghiem", Rule::Public),
    ("GET", "/ho-so/{code}/tep/{file}", Rule::Owner),
    ("GET", "/ho-so/{code}/ket-qua", Rule::Owner),
    // the verification page of a signed result: anyone holding its code (from the QR) may check a copy
    ("GET", "/xac-thuc/{code}", Rule::Public),
    ("POST", "/xac-thuc/{code}", Rule::Public),
    ("GET", "/xac-thuc/{code}/chu-ky", Rule::Public),
    ("GET", "/ho-so/{code}/phieu/{so}", Rule::Owner),
    ("GET", "/tra-cuu-ho-so", Rule::Public),
    ("POST", "/tra-cuu-ho-so", Rule::Public),
    ("GET", "/can-bo/tiep-nhan", Rule::Somewhere(Desk::Receive)),
    (
        "GET",
        "/can-bo/tiep-nhan/truc-tiep",
        Rule::Somewhere(Desk::Receive),
    ),
    (
        "POST",
        "/can-bo/tiep-nhan/truc-tiep",
        Rule::Somewhere(Desk::Receive),
    ),
    ("GET", "/can-bo/ho-so/{code}", DESK),
    ("POST", "/can-bo/ho-so/{code}", RECEIVE),
    ("GET", "/can-bo/ho-so/{code}/tep/{file}", DESK),
    ("POST", "/can-bo/ho-so/{code}/chuyen", DESK),
    ("POST", "/can-bo/ho-so/{code}/xin-loi", APPROVE),
    ("POST", "/can-bo/ho-so/{code}/nop-phi", RECEIVE),
    ("POST", "/can-bo/ho-so/{code}/buu-chinh", RECEIVE),
    ("POST", "/can-bo/ho-so/{code}/hoan-tien", RECEIVE),
    ("GET", "/can-bo/ho-so/{code}/bien-lai/{txn}", DESK),
    ("GET", "/ho-so/{code}/bien-lai/{txn}", Rule::Owner),
    ("POST", "/can-bo/ho-so/{code}/buoc", DESK),
    ("GET", "/can-bo/ho-so/{code}/ket-qua", DESK),
    ("POST", "/can-bo/ho-so/{code}/ket-qua", PROCESS),
    ("GET", "/can-bo/ho-so/{code}/phieu/{so}", DESK),
    ("GET", "/can-bo", Rule::Somewhere(Desk::Any)),
    ("GET", "/can-bo/ho-so", Rule::Somewhere(Desk::Any)),
    ("GET", "/can-bo/so-theo-doi", Rule::Somewhere(Desk::Any)),
    ("GET", "/healthz", Rule::Public),
    ("GET", "/readyz", Rule::Public),
    ("GET", "/static/{file}", Rule::Public),
    ("GET", "/tai-lieu-api", Rule::Public),
    ("GET", "/api/v1/openapi.json", Rule::Public),
    ("GET", "/api/v1/procedures", Rule::Public),
    ("GET", "/api/v1/procedures/{code}", Rule::Public),
    ("GET", "/api/v1/agencies", Rule::Public),
    ("GET", "/api/v1/fields", Rule::Public),
    ("POST", "/api/v1/dossiers/lookup", Rule::Public),
    ("GET", "/api/v1/office/dossiers", Rule::ApiKey),
    ("GET", "/api/v1/office/dossiers/{code}", Rule::ApiKey),
    (
        "POST",
        "/api/v1/office/dossiers/{code}/reception",
        Rule::ApiKey,
    ),
    ("GET", "/api/v1/me/dossiers", Rule::ApiKey),
    ("GET", "/api/v1/me/dossiers/{code}", Rule::ApiKey),
    (
        "POST",
        "/api/v1/me/dossiers/{code}/withdrawal",
        Rule::ApiKey,
    ),
    ("GET", "/api/v1/office/webhooks", Rule::ApiKey),
    ("POST", "/api/v1/office/webhooks", Rule::ApiKey),
    ("DELETE", "/api/v1/office/webhooks/{id}", Rule::ApiKey),
    (
        "GET",
        "/api/v1/office/webhooks/{id}/deliveries",
        Rule::ApiKey,
    ),
    (
        "POST",
        "/api/v1/office/webhooks/{id}/deliveries/{event}/redeliver",
        Rule::ApiKey,
    ),
];

/// The routes and methods the router declares (`layer` is not a method).
fn declared() -> Vec<(String, String)> {
    let pages = motcua_web::ROUTES.iter().flat_map(|(path, methods)| {
        methods
            .iter()
            .filter(|m| **m != "layer")
            .map(move |m| (m.to_uppercase(), path.to_string()))
    });
    // the API's routes are declared by their OpenAPI annotations: the document lists them
    let document = serde_json::to_value(motcua_web::api::openapi()).unwrap();
    let api: Vec<(String, String)> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    pages.chain(api).collect()
}

#[test]
fn every_route_has_a_row_in_the_matrix() {
    let rows: Vec<(String, String)> = MATRIX
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    let routes = declared();
    let missing: Vec<_> = routes.iter().filter(|r| !rows.contains(r)).collect();
    assert!(
        missing.is_empty(),
        "routes with no row in the authorisation matrix: {missing:?}"
    );
    let stale: Vec<_> = rows.iter().filter(|r| !routes.contains(r)).collect();
    assert!(
        stale.is_empty(),
        "rows for routes that no longer exist: {stale:?}"
    );
    assert!(
        routes.len() >= 75,
        "the router declares {} routes",
        routes.len()
    );
}

/// A fresh app for one route: the minimal catalogue, a citizen's received dossier (with a file), another draft of
/// theirs (with a file), and every persona logged in.
struct World {
    app: TestApp,
    people: Vec<Persona>,
    owner: AccountId,
    /// The dossier's agency, and another.
    agencies: [AgencyCode; 2],
    /// Placeholder → value in the paths.
    values: Vec<(&'static str, String)>,
}

async fn world() -> World {
    use motcua_domain::submission::{Draft, DraftId};
    let (app, owner, dossier) = support::with_submitted_files(
        motcua_testkit::sqlite_store().await,
        &[("giay-to.pdf", b"%PDF-1.7\n")],
    )
    .await;
    let store = &app.db.store;
    let now = OffsetDateTime::now_utc();
    let dossier_file = store
        .submissions
        .uploads_for_dossier(dossier.id)
        .await
        .unwrap()
        .remove(0);
    // accepted at reception, so its receipt slip exists
    let t = motcua_domain::Transition::new(
        dossier.id,
        dossier.status,
        motcua_domain::DossierStatus::Received,
        now,
        "Tiếp nhận (test)",
    )
    .unwrap()
    .with_due_at(now + Duration::days(10));
    store.dossiers.record_transition(&t).await.unwrap();
    // a draft not sent yet, with a file
    let draft = Draft {
        id: DraftId::new(),
        account: owner.id,
        procedure: motcua_domain::ProcedureCode::parse(fixtures::PROCEDURE).unwrap(),
        procedure_version: 1,
        case: motcua_domain::CaseKey::parse("mac-dinh").unwrap(),
        agency: AgencyCode::parse(AGENCY).unwrap(),
        answers: Default::default(),
        created_at: now,
        updated_at: now,
        dossier: None,
    };
    store.submissions.save_draft(&draft).await.unwrap();
    let draft_file = support::draft_upload(&owner, draft.id, "to-khai.pdf", 9);
    app.put_file(&draft_file.object_key, b"%PDF-1.7\n").await;
    store
        .submissions
        .add_upload(&draft_file, u64::MAX)
        .await
        .unwrap();

    let mut people = vec![Persona {
        label: "anonymous".into(),
        account: None,
        cookie: None,
    }];
    let other = support::person(
        "Trần Thị Bình",
        "binh@example.vn",
        AccountKind::Citizen,
        &[],
    );
    people.push(Persona {
        label: "other citizen".into(),
        cookie: Some(support::session_for(&app, &other, "2").await),
        account: Some(other),
    });
    let mut officer_of_a = None;
    for agency in [AGENCY, OTHER_AGENCY] {
        for role in ROLES {
            let label = format!("{}@{agency}", role.as_str());
            let n = people.len();
            let officer = support::person(
                &label,
                &format!("p{n}@example.vn"),
                AccountKind::Officer,
                &[&label],
            );
            app.db.store.accounts.create(&officer).await.unwrap();
            let cookie = support::session_numbered(&app, officer.id, n as u64).await;
            if agency == AGENCY && role == Role::Reception {
                officer_of_a = Some(officer.id);
            }
            people.push(Persona {
                label,
                cookie: Some(cookie),
                account: Some(officer),
            });
        }
    }
    // the owner is asked last: a post of theirs may delete or withdraw what the others ask for
    people.push(Persona {
        label: "owner".into(),
        cookie: Some(support::session_numbered(&app, owner.id, 1).await),
        account: Some(owner.clone()),
    });
    let values = vec![
        ("/thu-tuc/{code}", fixtures::PROCEDURE.to_string()),
        ("/nop-ho-so/{code}", fixtures::PROCEDURE.to_string()),
        ("/api/v1/procedures/{code}", fixtures::PROCEDURE.to_string()),
        ("{code}", dossier.code.to_string()),
        ("{case}", "mac-dinh".into()),
        ("{component}", "0".into()),
        ("{agency}", AGENCY.into()),
        ("{procedure}", fixtures::PROCEDURE.into()),
        ("/quan-tri/can-bo/{id}", officer_of_a.unwrap().to_string()),
        ("{id}", draft.id.to_string()),
        ("/ho-so-nhap/{id}/tep/{file}", draft_file.id.to_string()),
        ("{file}", dossier_file.id.to_string()),
        ("{page}", "1".into()),
        ("{version}", "1".into()),
        ("{metric}", "dung-han".into()),
        ("{so}", "01".into()),
        ("{txn}", "khong-co-giao-dich".into()),
        ("{event}", "khong-co-su-kien".into()),
        ("{slug}", "tro-giup".into()),
        ("{token}", "khongcoma".into()),
        ("/static/{file}", "app.css".into()),
    ];
    World {
        app,
        people,
        owner: owner.id,
        agencies: [AGENCY, OTHER_AGENCY].map(|a| AgencyCode::parse(a).unwrap()),
        values,
    }
}

/// The route's pattern with this world's values: a value keyed by a prefix of the pattern wins over one keyed by
/// the placeholder alone.
fn concrete(pattern: &str, values: &[(&'static str, String)]) -> String {
    let mut path = pattern.to_string();
    for (key, value) in values.iter().filter(|(k, _)| k.starts_with('/')) {
        if pattern.starts_with(key) {
            let placeholder = &key[key.rfind('{').unwrap()..];
            let at = key.rfind('{').unwrap();
            path = format!(
                "{}{}{}",
                &path[..at],
                value,
                &path[at + placeholder.len()..]
            );
        }
    }
    for (key, value) in values.iter().filter(|(k, _)| k.starts_with('{')) {
        path = path.replace(key, value);
    }
    path
}

#[tokio::test]
async fn every_route_answers_each_persona_as_the_policy_says() {
    let mut asked = 0;
    let mut wrong = Vec::new();
    let mut n: u32 = 0;
    for (method, pattern, rule) in MATRIX {
        // a fresh world for each route: a post that deletes, withdraws or logs out spoils nothing for the next
        let w = world().await;
        let path = concrete(pattern, &w.values);
        assert!(!path.contains('{'), "{pattern} → {path}");
        let multipart = *method == "POST" && (path.ends_with("/giay-to") || path.ends_with("/anh"))
            || path.ends_with("/bo-sung")
            || (*method == "POST" && path.ends_with("/ket-qua"));
        let mut denials = 0;
        for who in &w.people {
            // each request from an address of its own: this checks the policy, not the limits
            n += 1;
            let peer = format!("10.{}.{}.{}:1", n >> 16 & 255, n >> 8 & 255, n & 255);
            let boundary = "matrix";
            let content_type = if multipart {
                format!("multipart/form-data; boundary={boundary}")
            } else {
                "application/x-www-form-urlencoded".into()
            };
            let body = if multipart {
                format!("--{boundary}--\r\n")
            } else {
                String::new()
            };
            let mut headers = vec![
                ("sec-fetch-site", "same-origin"),
                (support::PEER, peer.as_str()),
                ("content-type", content_type.as_str()),
            ];
            if let Some(c) = &who.cookie {
                headers.push(("cookie", c.as_str()));
            }
            let reply = w.app.send(method, &path, &headers, &body).await;
            asked += 1;
            let got = answer_of(&reply);
            let want = expected(*rule, who, &w.owner, &w.agencies);
            if got != want {
                wrong.push(format!(
                    "{method} {path} as {}: {} ({got:?}), the policy says {want:?}",
                    who.label, reply.status
                ));
            }
            if got == Answer::Denied {
                denials += 1;
                assert!(
                    reply.body.contains("Bạn không có quyền truy cập trang này"),
                    "{method} {path} as {}",
                    who.label
                );
            }
            assert!(
                !reply.status.is_server_error(),
                "{method} {path} as {}: {}",
                who.label,
                reply.status
            );
        }
        let audited = w.app.db.store.audit.recent(500).await.unwrap();
        assert_eq!(
            audited
                .iter()
                .filter(|e| e.kind == AuditKind::AccessDenied)
                .count(),
            denials,
            "{method} {pattern}: every refusal is logged"
        );
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(
        asked,
        MATRIX.len() * PERSONAS,
        "every persona on every route"
    );
}

/// A citizen and a reception officer at `AGENCY`, logged in: (account, cookie) each.
async fn citizen_and_reception(app: &TestApp) -> ((Account, String), (Account, String)) {
    let citizen = support::person("Công dân", "cd@example.vn", AccountKind::Citizen, &[]);
    let grant = format!("reception@{AGENCY}");
    let reception = support::person("Cán bộ", "cb@example.vn", AccountKind::Officer, &[&grant]);
    let c = support::session_for(app, &citizen, "a").await;
    let r = support::session_for(app, &reception, "b").await;
    ((citizen, c), (reception, r))
}

#[tokio::test]
async fn logging_out_everywhere_ends_only_that_persons_sessions() {
    let db = motcua_testkit::sqlite_store().await;
    fixtures::seed_minimal(&db.store).await;
    let app = TestApp::new(db).await;
    let ((_, citizen), (_, reception)) = citizen_and_reception(&app).await;
    let out = app
        .post_form("/tai-khoan/dang-xuat-moi-noi", "", Some(&citizen))
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get_with_cookie("/tai-khoan", &citizen).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.get_with_cookie("/tai-khoan", &reception).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_account_page_masks_the_identity_number_and_lists_roles() {
    let (app, cookie) = {
        let db = motcua_testkit::sqlite_store().await;
        fixtures::seed_minimal(&db.store).await;
        let app = TestApp::new(db).await;
        let (_, (_, reception)) = citizen_and_reception(&app).await;
        (app, reception)
    };
    let page = app.get_with_cookie("/tai-khoan", &cookie).await;
    assert!(
        page.body.contains("Cán bộ một cửa — Sở Tư pháp"),
        "{}",
        page.body
    );
    let citizen = Account {
        id: AccountId::new(),
        kind: AccountKind::Citizen,
        full_name: NonEmptyText::parse("Nguyễn Văn An").unwrap(),
        personal_id: Some(motcua_domain::PersonalId::parse("001099012345").unwrap()),
        birth_date: None,
        phone: None,
        email: None,
        address: None,
        password_hash: String::new(),
        email_verified_at: None,
        disabled: false,
        created_at: OffsetDateTime::now_utc(),
        grants: vec![],
    };
    let cookie = support::session_for(&app, &citizen, "c").await;
    let page = app.get_with_cookie("/tai-khoan", &cookie).await;
    assert!(page.body.contains("0xx xxx xxx 345"));
    assert!(
        !page.body.contains("001099012345"),
        "the full number is never shown"
    );
}
