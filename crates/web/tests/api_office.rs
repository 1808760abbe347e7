//! The agencies' part of the API (`/api/v1/office`) through the real router and a real store, on both backends:
//! keys (missing, wrong, revoked, expired, client switched off), each client's limit a minute, the call log, the
//! list for synchronising systems with its cursor, the reception answers made by the desk's own rule, the matrix of
//! what each client may do, and the administrators' pages that register clients and issue and revoke keys.

#[macro_use]
mod support;

use axum::http::StatusCode;
use motcua_domain::{
    AccountKind, AgencyCode, DossierStatus, NonEmptyText,
    api_client::{ApiClient, ApiClientId, ApiKey, Scope, key_hash, key_hint, key_text},
};
use motcua_testkit::{
    TestStore,
    fixtures::{AGENCY, OTHER_AGENCY},
};
use serde_json::Value;
use support::TestApp;
use time::{Duration, OffsetDateTime};

fn json(reply: &support::Reply) -> Value {
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("{e}: {}", reply.body))
}

fn assert_problem(reply: &support::Reply, status: StatusCode, kind: &str) -> Value {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(
        reply.headers["content-type"], "application/problem+json",
        "{}",
        reply.body
    );
    let p = json(reply);
    assert_eq!(p["type"], format!("urn:motcua:problem:{kind}"), "{p}");
    assert!(!p["detail"].as_str().unwrap().is_empty());
    p
}

/// A client of these agencies and scopes, stored with one key living `days` days: (client, key text).
async fn client(
    app: &TestApp,
    name: &str,
    agencies: &[&str],
    scopes: &[Scope],
    per_minute: u32,
    days: i64,
) -> (ApiClient, String) {
    let now = OffsetDateTime::now_utc();
    let c = ApiClient {
        id: ApiClientId::new(),
        name: NonEmptyText::parse(name).unwrap(),
        agencies: agencies
            .iter()
            .map(|a| AgencyCode::parse(a).unwrap())
            .collect(),
        scopes: scopes.to_vec(),
        per_minute,
        created_at: now,
        created_by: "test".into(),
        disabled_at: None,
    };
    let seed = *uuid::Uuid::new_v4().as_bytes();
    let mut random = [0u8; 32];
    random[..16].copy_from_slice(&seed);
    let text = key_text(&random);
    let key = ApiKey {
        hash: key_hash(&text),
        client: c.id,
        hint: key_hint(&text),
        created_at: now - Duration::days(2),
        expires_at: now + Duration::days(days),
        revoked_at: None,
    };
    app.db
        .store
        .api_clients
        .create_client(&c, &key)
        .await
        .unwrap();
    (c, text)
}

async fn call(app: &TestApp, method: &str, path: &str, key: &str, body: &str) -> support::Reply {
    let auth = format!("Bearer {key}");
    app.send(
        method,
        path,
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
        body,
    )
    .await
}

async fn keys_are_checked_on_every_request(t: TestStore) {
    let (app, _, dossier) = support::with_submitted_dossier(t).await;
    let list = "/api/v1/office/dossiers";
    let none = app.send("GET", list, &[], "").await;
    assert_problem(&none, StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(
        none.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    // a session is no key
    let officer = support::person(
        "Cán bộ",
        "cb@example.vn",
        AccountKind::Officer,
        &[&format!("reception@{AGENCY}")],
    );
    let cookie = support::session_for(&app, &officer, "c").await;
    let with_session = app.send("GET", list, &[("cookie", &cookie)], "").await;
    assert_problem(&with_session, StatusCode::UNAUTHORIZED, "unauthorized");
    let wrong = call(&app, "GET", list, &key_text(&[7; 32]), "").await;
    assert_problem(&wrong, StatusCode::UNAUTHORIZED, "unauthorized");
    let basic = app
        .send("GET", list, &[("authorization", "Basic dXNlcjpwYXNz")], "")
        .await;
    assert_problem(&basic, StatusCode::UNAUTHORIZED, "unauthorized");

    let (live, key) = client(&app, "Sở Tư pháp", &[AGENCY], &[Scope::Read], 600, 30).await;
    assert_eq!(
        call(&app, "GET", list, &key, "").await.status,
        StatusCode::OK
    );
    let one = format!("{list}/{}", dossier.code);
    assert_eq!(
        call(&app, "GET", &one, &key, "").await.status,
        StatusCode::OK
    );

    let (_, expired) = client(&app, "Hết hạn", &[AGENCY], &[Scope::Read], 600, -1).await;
    let p = assert_problem(
        &call(&app, "GET", list, &expired, "").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert!(p["detail"].as_str().unwrap().contains("hết hạn"));

    let now = OffsetDateTime::now_utc();
    assert!(
        app.db
            .store
            .api_clients
            .revoke_key(live.id, &key_hash(&key), now)
            .await
            .unwrap()
    );
    let p = assert_problem(
        &call(&app, "GET", list, &key, "").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert!(p["detail"].as_str().unwrap().contains("thu hồi"));

    let (paused, paused_key) = client(&app, "Tạm dừng", &[AGENCY], &[Scope::Read], 600, 30).await;
    app.db
        .store
        .api_clients
        .set_disabled(paused.id, Some(now))
        .await
        .unwrap();
    assert_problem(
        &call(&app, "GET", list, &paused_key, "").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    // the public part needs no key
    assert_eq!(app.get("/api/v1/procedures").await.status, StatusCode::OK);
}
on_both_backends!(
    keys_are_checked_on_every_request_sqlite,
    keys_are_checked_on_every_request_postgres,
    keys_are_checked_on_every_request
);

async fn each_client_has_its_own_limit_and_every_call_is_logged(t: TestStore) {
    let (app, _, _) = support::with_submitted_dossier(t).await;
    let list = "/api/v1/office/dossiers";
    let (slow, key) = client(&app, "Hai lần", &[AGENCY], &[Scope::Read], 2, 30).await;
    let (other, other_key) = client(&app, "Khác", &[AGENCY], &[Scope::Read], 600, 30).await;
    // a minute may turn between the calls: then the count starts again, so ask until refused (at most twice over)
    let mut statuses = Vec::new();
    let refused = loop {
        let reply = call(&app, "GET", list, &key, "").await;
        statuses.push(reply.status.as_u16());
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            break reply;
        }
        assert!(statuses.len() <= 6, "never limited: {statuses:?}");
    };
    let p = assert_problem(&refused, StatusCode::TOO_MANY_REQUESTS, "too-many-requests");
    let wait: u32 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(p["retry_after"], wait);
    assert!(p["detail"].as_str().unwrap().contains("2 yêu cầu mỗi phút"));
    // another client is not held back by it
    assert_eq!(
        call(&app, "GET", list, &other_key, "").await.status,
        StatusCode::OK
    );
    // the log: every call of the client, newest first, refused ones too, with the key's hint and no query
    call(
        &app,
        "GET",
        &format!("{list}?limit=1&status=submitted"),
        &other_key,
        "",
    )
    .await;
    let calls = app
        .db
        .store
        .api_clients
        .calls(Some(slow.id), 100)
        .await
        .unwrap();
    let logged: Vec<u16> = calls.iter().rev().map(|c| c.status).collect();
    assert_eq!(logged, statuses);
    assert!(calls.iter().all(|c| c.method == "GET" && c.path == list));
    assert!(calls.iter().all(|c| key.starts_with(&c.key_hint)));
    let theirs = app
        .db
        .store
        .api_clients
        .calls(Some(other.id), 100)
        .await
        .unwrap();
    assert_eq!(theirs.len(), 2);
    assert_eq!(theirs[0].path, list, "the query is not logged");
    let all = app.db.store.api_clients.calls(None, 100).await.unwrap();
    assert_eq!(all.len(), calls.len() + theirs.len());
    // a wrong key is not a client's call
    call(&app, "GET", list, &key_text(&[9; 32]), "").await;
    assert_eq!(
        app.db
            .store
            .api_clients
            .calls(None, 100)
            .await
            .unwrap()
            .len(),
        all.len()
    );
}
on_both_backends!(
    each_client_has_its_own_limit_and_every_call_is_logged_sqlite,
    each_client_has_its_own_limit_and_every_call_is_logged_postgres,
    each_client_has_its_own_limit_and_every_call_is_logged
);

async fn a_system_reads_its_agencies_dossiers_as_they_change(t: TestStore) {
    let (app, _, dossier) = support::with_submitted_dossier(t).await;
    let (_, key) = client(
        &app,
        "Nền tảng dữ liệu",
        &[AGENCY, OTHER_AGENCY],
        &[Scope::Read],
        600,
        30,
    )
    .await;
    let list = "/api/v1/office/dossiers";
    let page = call(&app, "GET", list, &key, "").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.headers["content-type"], "application/json");
    let page = json(&page);
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["code"], dossier.code.to_string());
    assert_eq!(items[0]["status"], "submitted");
    assert_eq!(items[0]["channel"], "online");
    assert_eq!(items[0]["applicant_name"], "Nguyễn Văn An");
    assert_eq!(page["has_more"], false, "one page only");
    // the last page still says where it ended, to ask again later from there
    let ended_at = page["next_cursor"].as_str().unwrap().to_string();

    // page by page: a full page says more may follow, the page after it is empty
    let first = json(&call(&app, "GET", &format!("{list}?limit=1"), &key, "").await);
    assert_eq!(first["has_more"], true);
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    assert_eq!(cursor, ended_at);
    let rest = json(
        &call(
            &app,
            "GET",
            &format!("{list}?limit=1&cursor={cursor}"),
            &key,
            "",
        )
        .await,
    );
    assert_eq!(rest["items"].as_array().unwrap().len(), 0);
    assert_eq!(
        rest["next_cursor"],
        cursor.as_str(),
        "an empty page ends where it began"
    );
    assert_eq!(rest["has_more"], false);
    // a cursor too long to be a time is refused, not overflowed
    let huge = format!("{list}?cursor={}.{}", "9".repeat(40), "0".repeat(32));
    assert_problem(
        &call(&app, "GET", &huge, &key, "").await,
        StatusCode::BAD_REQUEST,
        "bad-request",
    );

    // a change after the cursor is read from it
    let now = OffsetDateTime::now_utc();
    let t = motcua_domain::Transition::new(
        dossier.id,
        dossier.status,
        DossierStatus::Received,
        now,
        "Cán bộ (test)",
    )
    .unwrap()
    .with_due_at(now + Duration::days(5));
    app.db.store.dossiers.record_transition(&t).await.unwrap();
    let changed = json(
        &call(
            &app,
            "GET",
            &format!("{list}?limit=1&cursor={cursor}"),
            &key,
            "",
        )
        .await,
    );
    assert_eq!(changed["items"][0]["status"], "received");
    assert!(
        changed["items"][0]["due_at"]
            .as_str()
            .unwrap()
            .ends_with("+07:00")
    );

    // filters
    let q = |query: &str| format!("{list}?{query}");
    let received = json(&call(&app, "GET", &q("status=received"), &key, "").await);
    assert_eq!(received["items"].as_array().unwrap().len(), 1);
    let submitted = json(&call(&app, "GET", &q("status=submitted"), &key, "").await);
    assert_eq!(submitted["items"].as_array().unwrap().len(), 0);
    let other = json(&call(&app, "GET", &q(&format!("agency={OTHER_AGENCY}")), &key, "").await);
    assert_eq!(other["items"].as_array().unwrap().len(), 0);
    let later = json(
        &call(
            &app,
            "GET",
            &q("updated_since=2099-01-01T00:00:00%2B07:00"),
            &key,
            "",
        )
        .await,
    );
    assert_eq!(later["items"].as_array().unwrap().len(), 0);
    let since = json(
        &call(
            &app,
            "GET",
            &q("updated_since=2020-01-01T00:00:00Z"),
            &key,
            "",
        )
        .await,
    );
    assert_eq!(since["items"].as_array().unwrap().len(), 1);

    // bad parameters: 400 naming each one
    let bad = call(
        &app,
        "GET",
        &q("agency=khong-dung&status=xyz&updated_since=hom-qua&cursor=abc&limit=0"),
        &key,
        "",
    )
    .await;
    let p = assert_problem(&bad, StatusCode::BAD_REQUEST, "bad-request");
    let names: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["agency", "status", "updated_since", "cursor", "limit"]
    );
    // an agency not the client's
    let elsewhere = call(&app, "GET", &q("agency=000.00.07.H57"), &key, "").await;
    assert_problem(&elsewhere, StatusCode::FORBIDDEN, "forbidden");

    // one dossier in full
    let one = call(&app, "GET", &format!("{list}/{}", dossier.code), &key, "").await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    let one = json(&one);
    assert_eq!(one["applicant_phone"], "0912345678");
    assert_eq!(one["applicant_personal_id"], "001099012345");
    assert_eq!(one["applicant_email"], "an@example.vn");
    assert_eq!(one["answers"]["noi_dung_de_nghi"][0], "Đăng ký khai sinh");
    let history = one["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1]["from_status"], "submitted");
    assert_eq!(history[1]["status"], "received");
    assert_eq!(history[1]["actor"], "Cán bộ (test)");
    let missing = call(
        &app,
        "GET",
        &format!("{list}/000.00.06.H56-991231-9999"),
        &key,
        "",
    )
    .await;
    assert_problem(&missing, StatusCode::NOT_FOUND, "not-found");

    // a client of another agency does not see it
    let (_, stranger) = client(
        &app,
        "Cơ quan khác",
        &[OTHER_AGENCY],
        &[Scope::Read],
        600,
        30,
    )
    .await;
    let theirs = json(&call(&app, "GET", list, &stranger, "").await);
    assert_eq!(theirs["items"].as_array().unwrap().len(), 0);
    let refused = call(
        &app,
        "GET",
        &format!("{list}/{}", dossier.code),
        &stranger,
        "",
    )
    .await;
    assert_problem(&refused, StatusCode::FORBIDDEN, "forbidden");
}
on_both_backends!(
    a_system_reads_its_agencies_dossiers_as_they_change_sqlite,
    a_system_reads_its_agencies_dossiers_as_they_change_postgres,
    a_system_reads_its_agencies_dossiers_as_they_change
);

async fn reception_through_the_api_keeps_the_desks_rules(t: TestStore) {
    let (app, _, dossier) = support::with_submitted_dossier(t).await;
    let path = format!("/api/v1/office/dossiers/{}/reception", dossier.code);
    let (_, reader) = client(&app, "Chỉ đọc", &[AGENCY], &[Scope::Read], 600, 30).await;
    let (_, elsewhere) = client(
        &app,
        "Nơi khác",
        &[OTHER_AGENCY],
        &[Scope::Receive],
        600,
        30,
    )
    .await;
    let (desk, key) = client(
        &app,
        "Hệ thống một cửa của Sở",
        &[AGENCY],
        &[Scope::Receive],
        600,
        30,
    )
    .await;
    let receive = r#"{"answer":"receive"}"#;
    assert_problem(
        &call(&app, "POST", &path, &reader, receive).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_problem(
        &call(&app, "POST", &path, &elsewhere, receive).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    // bad bodies
    let p = assert_problem(
        &call(
            &app,
            "POST",
            &path,
            &key,
            r#"{"answer":"request_supplement","reason":"thiếu"}"#,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-input",
    );
    assert_eq!(p["errors"][0]["name"], "reason");
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("bổ sung")
    );
    let p = assert_problem(
        &call(&app, "POST", &path, &key, r#"{"answer":"accept"}"#).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-input",
    );
    assert_eq!(p["errors"][0]["name"], "answer");
    assert_problem(
        &call(
            &app,
            "POST",
            &path,
            &key,
            r#"{"answer":"receive","by":"x"}"#,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-input",
    );
    assert_problem(
        &call(&app, "POST", &path, &key, "{answer").await,
        StatusCode::BAD_REQUEST,
        "bad-request",
    );
    let form = app
        .send(
            "POST",
            &path,
            &[
                ("authorization", &format!("Bearer {key}")),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            "answer=receive",
        )
        .await;
    assert_problem(
        &form,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
    );
    let big = format!(r#"{{"answer":"refuse","reason":"{}"}}"#, "x".repeat(70_000));
    assert_problem(
        &call(&app, "POST", &path, &key, &big).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload-too-large",
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
        DossierStatus::Submitted,
        "nothing refused changed the dossier"
    );

    // received: the appointment in working time, the history naming the system, the applicant's e-mail
    let done = call(&app, "POST", &path, &key, receive).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let done = json(&done);
    assert_eq!(done["status"], "received");
    assert!(done["due_at"].as_str().is_some());
    let last = done["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["status"], "received");
    assert_eq!(last["actor"], desk.actor());
    assert!(
        last["actor"]
            .as_str()
            .unwrap()
            .contains("Hệ thống một cửa của Sở")
    );
    assert_eq!(last["due_at"], done["due_at"]);
    let mail = app.deliver_mail().await;
    assert!(
        mail.iter()
            .any(|m| m.subject == format!("Hồ sơ {} đã được tiếp nhận", dossier.code)),
        "{:?}",
        mail.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    // the same answer again: the dossier no longer waits (409), and nothing more is written
    let again = call(&app, "POST", &path, &key, receive).await;
    assert_problem(&again, StatusCode::CONFLICT, "conflict");
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
    reception_through_the_api_keeps_the_desks_rules_sqlite,
    reception_through_the_api_keeps_the_desks_rules_postgres,
    reception_through_the_api_keeps_the_desks_rules
);

/// What each client may do on a dossier of `AGENCY`: every scope set, at the dossier's agency and at another,
/// asked on every agencies' route, against what the client's scopes say.
async fn the_matrix_of_clients(t: TestStore) {
    let (app, _, dossier) = support::with_submitted_dossier(t).await;
    let one = format!("/api/v1/office/dossiers/{}", dossier.code);
    let reception = format!("{one}/reception");
    let mut wrong = Vec::new();
    let sets: [&[Scope]; 3] = [
        &[Scope::Read],
        &[Scope::Receive],
        &[Scope::Read, Scope::Receive],
    ];
    for (n, scopes) in sets.iter().enumerate() {
        for agency in [AGENCY, OTHER_AGENCY] {
            let (_, key) = client(&app, &format!("Hệ thống {n}"), &[agency], scopes, 600, 30).await;
            let here = agency == AGENCY;
            let receives = scopes.contains(&Scope::Receive);
            // a reason too short: allowed clients get 422 and nothing changes, so every client asks the same
            let asks = [
                ("GET", one.as_str(), "", here, StatusCode::OK),
                (
                    "POST",
                    reception.as_str(),
                    r#"{"answer":"refuse","reason":"ngắn"}"#,
                    here && receives,
                    StatusCode::UNPROCESSABLE_ENTITY,
                ),
            ];
            for (method, path, body, allowed, served) in asks {
                let reply = call(&app, method, path, &key, body).await;
                let want = if allowed {
                    served
                } else {
                    StatusCode::FORBIDDEN
                };
                if reply.status != want {
                    wrong.push(format!(
                        "{method} {path} by {scopes:?}@{agency}: {}, expected {want}",
                        reply.status
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
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
    the_matrix_of_clients_sqlite,
    the_matrix_of_clients_postgres,
    the_matrix_of_clients
);

/// The key shown on the page, once.
fn shown_key(body: &str) -> Option<String> {
    let at = body.find("motcua_")?;
    let key: String = body[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (key.len() == 71).then_some(key)
}

async fn administrators_register_systems_and_manage_their_keys(t: TestStore) {
    let (app, _, _) = support::with_submitted_dossier(t).await;
    let admin = support::person(
        "Quản trị",
        "qt@example.vn",
        AccountKind::Officer,
        &[&format!("administrator@{AGENCY}")],
    );
    let cookie = support::session_for(&app, &admin, "a").await;
    let headers = |c: &str| {
        vec![
            ("cookie", c.to_string()),
            ("sec-fetch-site", "same-origin".into()),
        ]
    };
    let post = |path: &str, body: String| {
        let h = headers(&cookie);
        let app = &app;
        let path = path.to_string();
        async move {
            let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let mut h = h;
            h.push(("content-type", "application/x-www-form-urlencoded"));
            app.send("POST", &path, &h, &body).await
        }
    };
    let page = app.get_with_cookie("/quan-tri/ket-noi-api", &cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Đăng ký hệ thống mới"));

    // bad input: each field's message, what was typed kept
    let bad = post(
        "/quan-tri/ket-noi-api",
        support::encode_form(&[
            ("ten", ""),
            ("co_quan", &format!("{OTHER_AGENCY}\n000.00.99.H99")),
            ("gioi_han", "nhiều"),
        ]),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Nhập tên hệ thống kết nối"));
    assert!(
        bad.body
            .contains(&format!("Bạn không quản lý cơ quan mã “{OTHER_AGENCY}”")),
        "not managed by this administrator"
    );
    assert!(bad.body.contains("Chọn ít nhất một phạm vi"));
    assert!(bad.body.contains("Giới hạn là một số từ 1 đến"));
    assert!(
        bad.body
            .contains("Không có cơ quan mã “000.00.99.H99” trong danh mục")
    );
    assert!(
        bad.body.contains("000.00.99.H99\n") || bad.body.contains("000.00.99.H99</textarea>"),
        "typed agencies kept"
    );
    assert!(bad.body.contains("value=\"nhiều\""));
    assert!(app.db.store.api_clients.clients().await.unwrap().is_empty());

    let made = post(
        "/quan-tri/ket-noi-api",
        support::encode_form(&[
            ("ten", "Hệ thống Sở Tư pháp"),
            ("co_quan", AGENCY),
            ("pham_vi_doc", "dossiers:read"),
            ("gioi_han", "100"),
        ]),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(made.headers["cache-control"], "no-store");
    let key = shown_key(&made.body).expect("the key is shown once");
    let clients = app.db.store.api_clients.clients().await.unwrap();
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0].per_minute, 100);
    let list = "/api/v1/office/dossiers";
    assert_eq!(
        call(&app, "GET", list, &key, "").await.status,
        StatusCode::OK
    );

    // the client's page: never the key again, the call log
    let page_path = format!("/quan-tri/ket-noi-api/{}", clients[0].id);
    let page = app.get_with_cookie(&page_path, &cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(shown_key(&page.body).is_none(), "shown once only");
    assert!(page.body.contains(&format!("GET {list}")), "the call log");
    assert!(page.body.contains(&key_hint(&key)));

    // a second key, then the first revoked: the second still opens the API
    let second = post(&page_path, "hanh_dong=tao_khoa&so_ngay=30".into()).await;
    assert_eq!(second.status, StatusCode::OK);
    let second = shown_key(&second.body).unwrap();
    assert_ne!(second, key);
    let too_long = post(&page_path, "hanh_dong=tao_khoa&so_ngay=9999".into()).await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_long.body.contains("value=\"9999\""));
    let revoked = post(
        &page_path,
        format!("hanh_dong=thu_hoi&khoa={}", key_hash(&key)),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert_eq!(
        call(&app, "GET", list, &key, "").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call(&app, "GET", list, &second, "").await.status,
        StatusCode::OK
    );
    let twice = post(
        &page_path,
        format!("hanh_dong=thu_hoi&khoa={}", key_hash(&key)),
    )
    .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);

    // switched off and on
    post(&page_path, "hanh_dong=tam_dung".into()).await;
    assert_eq!(
        call(&app, "GET", list, &second, "").await.status,
        StatusCode::UNAUTHORIZED
    );
    post(&page_path, "hanh_dong=mo_lai".into()).await;
    assert_eq!(
        call(&app, "GET", list, &second, "").await.status,
        StatusCode::OK
    );

    // every change is in the security audit trail
    let audited = app.db.store.audit.recent(100).await.unwrap();
    let changes = audited
        .iter()
        .filter(|e| e.kind == motcua_domain::AuditKind::ApiClientChanged)
        .count();
    assert_eq!(changes, 5, "made, key issued, key revoked, off, on");

    // an administrator of another agency neither sees nor changes it
    let other_admin = support::person(
        "Quản trị khác",
        "qt2@example.vn",
        AccountKind::Officer,
        &[&format!("administrator@{OTHER_AGENCY}")],
    );
    let other = support::session_for(&app, &other_admin, "b").await;
    let theirs = app.get_with_cookie("/quan-tri/ket-noi-api", &other).await;
    assert!(!theirs.body.contains("Hệ thống Sở Tư pháp"));
    let refused = app.get_with_cookie(&page_path, &other).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}
on_both_backends!(
    administrators_register_systems_and_manage_their_keys_sqlite,
    administrators_register_systems_and_manage_their_keys_postgres,
    administrators_register_systems_and_manage_their_keys
);

/// A receiver of webhooks on this machine: it answers with the statuses given, in turn (the last one after that),
/// and keeps every request (headers and body).
struct Receiver {
    url: String,
    got: std::sync::Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, String)>>>,
}

async fn receiver(answers: Vec<u16>) -> Receiver {
    use std::sync::{Arc, Mutex};
    let got: Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>> = Arc::default();
    let kept = got.clone();
    let answers = Arc::new(Mutex::new(answers));
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let kept = kept.clone();
            let answers = answers.clone();
            async move {
                kept.lock().unwrap().push((headers, body));
                let mut a = answers.lock().unwrap();
                let status = if a.len() > 1 { a.remove(0) } else { a[0] };
                StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Receiver { url, got }
}

/// The Standard Webhooks signature checked by another implementation than ours: Python's standard library.
fn verified_by_python(
    secret: &str,
    id: &str,
    timestamp: &str,
    body: &str,
    signature: &str,
) -> bool {
    let script = "import base64,hashlib,hmac,sys\n\
        secret,id,ts,sig=sys.argv[1:5]\n\
        body=sys.stdin.read()\n\
        key=base64.b64decode(secret.split('_',1)[1])\n\
        mac=base64.b64encode(hmac.new(key,f'{id}.{ts}.{body}'.encode(),hashlib.sha256).digest()).decode()\n\
        sys.exit(0 if any(s=='v1,'+mac for s in sig.split(' ')) else 1)\n";
    let mut child = std::process::Command::new("python3")
        .args(["-c", script, secret, id, timestamp, signature])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("python3 checks the signature independently");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    child.wait().unwrap().success()
}

async fn webhooks_are_signed_retried_logged_and_redelivered(t: TestStore) {
    let (mut app, _, dossier) = support::with_submitted_dossier(t).await;
    // the receivers of this test are on this machine: allowed as for a trial
    let strict = app.state.clone();
    app.state = app.state.clone().with_private_webhooks(true);
    let store = app.db.store.clone();
    let (_, key) = client(
        &app,
        "Hệ thống nhận sự kiện",
        &[AGENCY],
        &[Scope::Receive],
        600,
        30,
    )
    .await;
    let (_, stranger) = client(
        &app,
        "Cơ quan khác",
        &[OTHER_AGENCY],
        &[Scope::Read],
        600,
        30,
    )
    .await;
    // a receiver that fails once, then takes everything; one that is down; one of another agency
    let flaky = receiver(vec![500, 204]).await;
    let hooks = "/api/v1/office/webhooks";
    let made = call(
        &app,
        "POST",
        hooks,
        &key,
        &format!(r#"{{"url":"{}","events":["dossier.received"]}}"#, flaky.url),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let made = json(&made);
    let secret = made["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    let flaky_id = made["id"].as_str().unwrap().to_string();
    let down = call(
        &app,
        "POST",
        hooks,
        &key,
        r#"{"url":"http://127.0.0.1:9/hook"}"#,
    )
    .await;
    assert_eq!(down.status, StatusCode::CREATED);
    let other = receiver(vec![200]).await;
    let theirs = call(
        &app,
        "POST",
        hooks,
        &stranger,
        &format!(r#"{{"url":"{}"}}"#, other.url),
    )
    .await;
    assert_eq!(theirs.status, StatusCode::CREATED);
    // bad subscriptions
    let p = assert_problem(
        &call(
            &app,
            "POST",
            hooks,
            &key,
            r#"{"url":"ftp://example.vn/hook","events":["paid"]}"#,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-input",
    );
    let names: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["url", "events"]);
    let listed = json(&call(&app, "GET", hooks, &key, "").await);
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert!(
        listed[0].get("secret").is_none(),
        "the secret is shown once"
    );

    // the dossier is received through the API: one delivery to each of the client's subscriptions
    let path = format!("/api/v1/office/dossiers/{}/reception", dossier.code);
    let done = call(&app, "POST", &path, &key, r#"{"answer":"receive"}"#).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let now = OffsetDateTime::now_utc();
    let delivered = motcua_web::worker::deliver_webhooks(&store, None, now, true)
        .await
        .unwrap();
    assert_eq!(delivered, 0, "the flaky one failed, the down one too");
    assert_eq!(flaky.got.lock().unwrap().len(), 1);
    assert!(
        other.got.lock().unwrap().is_empty(),
        "another agency's system hears nothing"
    );
    let log = json(
        &call(
            &app,
            "GET",
            &format!("{hooks}/{flaky_id}/deliveries"),
            &key,
            "",
        )
        .await,
    );
    assert_eq!(log[0]["state"], "pending");
    assert_eq!(log[0]["attempts"], 1);
    assert_eq!(log[0]["last_status"], 500);
    assert_eq!(log[0]["event_type"], "dossier.received");

    // tried again when due: delivered, with the same webhook-id
    let later = now + Duration::minutes(1);
    let delivered = motcua_web::worker::deliver_webhooks(&store, None, later, true)
        .await
        .unwrap();
    assert_eq!(delivered, 1);
    let got = flaky.got.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    let header = |i: usize, name: &str| got[i].0[name].to_str().unwrap().to_string();
    assert_eq!(header(0, "webhook-id"), header(1, "webhook-id"));
    assert_eq!(got[0].1, got[1].1, "the same body on every try");
    assert!(verified_by_python(
        &secret,
        &header(1, "webhook-id"),
        &header(1, "webhook-timestamp"),
        &got[1].1,
        &header(1, "webhook-signature"),
    ));
    assert!(
        !verified_by_python(
            &secret,
            &header(1, "webhook-id"),
            &header(1, "webhook-timestamp"),
            &got[1].1.replace("received", "refused"),
            &header(1, "webhook-signature")
        ),
        "a changed body fails the check"
    );
    let body: Value = serde_json::from_str(&got[1].1).unwrap();
    assert_eq!(body["type"], "dossier.received");
    assert_eq!(body["data"]["code"], dossier.code.to_string());
    assert_eq!(body["data"]["from_status"], "submitted");
    let log = json(
        &call(
            &app,
            "GET",
            &format!("{hooks}/{flaky_id}/deliveries"),
            &key,
            "",
        )
        .await,
    );
    assert_eq!(log[0]["state"], "delivered");
    assert_eq!(log[0]["attempts"], 2);
    assert_eq!(log[0]["message_id"], header(1, "webhook-id"));

    // a manual redelivery sends it once more
    let event = log[0]["event_id"].as_str().unwrap();
    let again = call(
        &app,
        "POST",
        &format!("{hooks}/{flaky_id}/deliveries/{event}/redeliver"),
        &key,
        "",
    )
    .await;
    assert_eq!(again.status, StatusCode::ACCEPTED);
    let soon = OffsetDateTime::now_utc();
    assert_eq!(
        motcua_web::worker::deliver_webhooks(&store, None, soon, true)
            .await
            .unwrap(),
        1
    );
    assert_eq!(flaky.got.lock().unwrap().len(), 3);
    let missing = call(
        &app,
        "POST",
        &format!(
            "{hooks}/{flaky_id}/deliveries/{}/redeliver",
            uuid::Uuid::nil()
        ),
        &key,
        "",
    )
    .await;
    assert_problem(&missing, StatusCode::NOT_FOUND, "not-found");
    // a subscription is the client's own
    let foreign = call(
        &app,
        "GET",
        &format!("{hooks}/{flaky_id}/deliveries"),
        &stranger,
        "",
    )
    .await;
    assert_problem(&foreign, StatusCode::NOT_FOUND, "not-found");

    // ended: nothing more is written for it
    let ended = call(&app, "DELETE", &format!("{hooks}/{flaky_id}"), &key, "").await;
    assert_eq!(ended.status, StatusCode::NO_CONTENT);
    assert_eq!(
        call(&app, "DELETE", &format!("{hooks}/{flaky_id}"), &key, "")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        json(&call(&app, "GET", hooks, &key, "").await)
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let ended_id = uuid::Uuid::parse_str(&flaky_id).unwrap();
    let before = store
        .webhooks
        .deliveries(ended_id, 100)
        .await
        .unwrap()
        .len();
    let from = store
        .dossiers
        .get(dossier.id)
        .await
        .unwrap()
        .unwrap()
        .status;
    let t = motcua_domain::Transition::new(
        dossier.id,
        from,
        DossierStatus::Processing,
        OffsetDateTime::now_utc(),
        "Cán bộ (test)",
    )
    .unwrap();
    store.dossiers.record_transition(&t).await.unwrap();
    assert_eq!(
        store
            .webhooks
            .deliveries(ended_id, 100)
            .await
            .unwrap()
            .len(),
        before,
        "nothing more is written for an ended subscription"
    );

    // where private networks are not allowed (the default): no subscription to this machine, and none sent there
    let refused = strict_call(&strict, &key, &format!(r#"{{"url":"{}"}}"#, other.url)).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    let later = OffsetDateTime::now_utc() + Duration::minutes(10);
    motcua_web::worker::deliver_webhooks(&store, None, later, false)
        .await
        .unwrap();
    let down_id = json(&call(&app, "GET", hooks, &key, "").await)[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let log = json(
        &call(
            &app,
            "GET",
            &format!("{hooks}/{down_id}/deliveries"),
            &key,
            "",
        )
        .await,
    );
    assert!(
        log.as_array().unwrap().iter().any(|d| d["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("mạng nội bộ"))),
        "{log}"
    );
}

/// A request to an app whose state does not allow private networks for webhooks.
async fn strict_call(state: &motcua_web::AppState, key: &str, body: &str) -> support::Reply {
    use tower::ServiceExt;
    let request = axum::http::Request::post("/api/v1/office/webhooks")
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    let response = motcua_web::router(state.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    support::Reply {
        status,
        headers: Default::default(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes: bytes.to_vec(),
    }
}
on_both_backends!(
    webhooks_are_signed_retried_logged_and_redelivered_sqlite,
    webhooks_are_signed_retried_logged_and_redelivered_postgres,
    webhooks_are_signed_retried_logged_and_redelivered
);

/// The document lists every status a dossier can be in (the `status` filter's values), no more, no less.
#[test]
fn the_status_filter_documents_every_status() {
    let document = serde_json::to_value(motcua_web::api::openapi()).unwrap();
    let mut listed: Vec<String> = document["components"]["schemas"]["StatusKey"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let mut statuses: Vec<String> = DossierStatus::ALL
        .into_iter()
        .filter(|s| *s != DossierStatus::Draft)
        .map(|s| s.as_str().to_string())
        .collect();
    listed.sort();
    statuses.sort();
    assert_eq!(listed, statuses);
}
