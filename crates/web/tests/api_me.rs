//! A person's own part of the API (`/api/v1/me`) with personal tokens, through the real router and a real store,
//! on both backends: the tokens page (made once, revoked), the token checks, the limit a minute, and that a token
//! reads its owner's dossiers only.

#[macro_use]
mod support;

use axum::http::StatusCode;
use motcua_domain::{AccountKind, api_client::key_hash};
use motcua_testkit::TestStore;
use serde_json::Value;

fn json(reply: &support::Reply) -> Value {
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("{e}: {}", reply.body))
}

/// The token shown on the page, once.
fn shown(body: &str) -> Option<String> {
    let at = body.find("motcua_pat_")?;
    let token: String = body[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (token.len() == "motcua_pat_".len() + 64).then_some(token)
}

async fn post(app: &support::TestApp, path: &str, token: &str, body: &str) -> support::Reply {
    let auth = format!("Bearer {token}");
    app.send(
        "POST",
        path,
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
        body,
    )
    .await
}

async fn get(app: &support::TestApp, path: &str, token: &str) -> support::Reply {
    let auth = format!("Bearer {token}");
    app.send("GET", path, &[("authorization", auth.as_str())], "")
        .await
}

async fn a_person_reads_their_own_dossiers_with_a_personal_token(t: TestStore) {
    let (app, citizen, dossier) = support::with_submitted_dossier(t).await;
    let cookie = support::session_existing(&app, citizen.id, "d").await;
    let form = |body: &str| {
        let app = &app;
        let cookie = cookie.clone();
        let body = body.to_string();
        async move {
            app.send(
                "POST",
                "/tai-khoan/ma-truy-cap",
                &[
                    ("cookie", cookie.as_str()),
                    ("sec-fetch-site", "same-origin"),
                    ("content-type", "application/x-www-form-urlencoded"),
                ],
                &body,
            )
            .await
        }
    };
    let page = app.get_with_cookie("/tai-khoan/ma-truy-cap", &cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Bạn chưa có mã truy cập nào"));
    // bad input: each message, what was typed kept
    let bad = form("hanh_dong=tao&ten=&so_ngay=400").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Đặt tên cho mã"));
    assert!(bad.body.contains("Thời hạn là số ngày từ 1 đến 365"));
    assert!(bad.body.contains("value=\"400\""));
    // made: shown once, never stored as text
    let made =
        form("hanh_dong=tao&ten=%E1%BB%A8ng+d%E1%BB%A5ng+c%E1%BB%A7a+t%C3%B4i&so_ngay=30").await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    assert_eq!(made.headers["cache-control"], "no-store");
    let token = shown(&made.body).expect("the token is shown once");
    let again = app.get_with_cookie("/tai-khoan/ma-truy-cap", &cookie).await;
    assert!(!again.body.contains(&token), "shown once only");
    assert!(again.body.contains("Ứng dụng của tôi"));

    // my dossiers, and one with its history
    let mine = get(&app, "/api/v1/me/dossiers", &token).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    let mine = json(&mine);
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["code"], dossier.code.to_string());
    assert_eq!(mine[0]["status"], "submitted");
    let one = get(
        &app,
        &format!("/api/v1/me/dossiers/{}", dossier.code),
        &token,
    )
    .await;
    assert_eq!(one.status, StatusCode::OK);
    let one = json(&one);
    assert_eq!(one["history"][0]["status"], "submitted");
    assert!(
        one["procedure_name"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
    );

    // another person's token sees none of it: their list is empty, the dossier is "not found"
    let other = support::person(
        "Trần Thị Bình",
        "binh@example.vn",
        AccountKind::Citizen,
        &[],
    );
    let other_cookie = support::session_for(&app, &other, "e").await;
    let theirs = app
        .send(
            "POST",
            "/tai-khoan/ma-truy-cap",
            &[
                ("cookie", other_cookie.as_str()),
                ("sec-fetch-site", "same-origin"),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            "hanh_dong=tao&ten=B",
        )
        .await;
    let their_token = shown(&theirs.body).unwrap();
    assert_eq!(
        json(&get(&app, "/api/v1/me/dossiers", &their_token).await),
        serde_json::json!([])
    );
    let refused = get(
        &app,
        &format!("/api/v1/me/dossiers/{}", dossier.code),
        &their_token,
    )
    .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(refused.headers["content-type"], "application/problem+json");
    // a client's key, a session, a wrong token: 401
    let cookie_only = app
        .send(
            "GET",
            "/api/v1/me/dossiers",
            &[("cookie", cookie.as_str())],
            "",
        )
        .await;
    assert_eq!(cookie_only.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        get(&app, "/api/v1/me/dossiers", "motcua_pat_00")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // withdrawing through the API: the page's rule (a reason), only the owner, once
    let withdraw = format!("/api/v1/me/dossiers/{}/withdrawal", dossier.code);
    let short = post(&app, &withdraw, &token, r#"{"reason":"x"}"#).await;
    assert_eq!(
        short.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        short.body
    );
    assert_eq!(json(&short)["errors"][0]["name"], "reason");
    let unknown = post(&app, &withdraw, &token, r#"{"reason":"Nộp nhầm","why":1}"#).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    let foreign = post(
        &app,
        &withdraw,
        &their_token,
        r#"{"reason":"Không phải của tôi"}"#,
    )
    .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    let done = post(
        &app,
        &withdraw,
        &token,
        r#"{"reason":"Tôi đã nộp nhầm thủ tục."}"#,
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let done = json(&done);
    assert_eq!(
        done["status"], "withdrawn",
        "at once: it was still waiting for reception"
    );
    let last = done["history"].as_array().unwrap().last().unwrap().clone();
    assert!(
        last["reason"]
            .as_str()
            .unwrap()
            .contains("Tôi đã nộp nhầm thủ tục.")
    );
    let again = post(
        &app,
        &withdraw,
        &token,
        r#"{"reason":"Tôi đã nộp nhầm thủ tục."}"#,
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(
        app.db
            .store
            .dossiers
            .history(dossier.id)
            .await
            .unwrap()
            .len(),
        2,
        "withdrawn once"
    );

    // revoked on the page: 401 at once, the other person's token still works
    let revoked = form(&format!("hanh_dong=thu_hoi&ma={}", key_hash(&token))).await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    let after = get(&app, "/api/v1/me/dossiers", &token).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert!(json(&after)["detail"].as_str().unwrap().contains("thu hồi"));
    assert_eq!(
        get(&app, "/api/v1/me/dossiers", &their_token).await.status,
        StatusCode::OK
    );
    // nobody revokes another's token
    let not_theirs = form(&format!("hanh_dong=thu_hoi&ma={}", key_hash(&their_token))).await;
    assert_eq!(not_theirs.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        get(&app, "/api/v1/me/dossiers", &their_token).await.status,
        StatusCode::OK
    );
    // a personal token opens no agency's part, and an agency's key opens no person's part
    let office = get(&app, "/api/v1/office/dossiers", &their_token).await;
    assert_eq!(office.status, StatusCode::UNAUTHORIZED);
    // the limit a minute per account (120): 429 with Retry-After, whichever token
    let mut refused = None;
    for _ in 0..130 {
        let reply = get(&app, "/api/v1/me/dossiers", &their_token).await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(reply);
            break;
        }
        assert_eq!(reply.status, StatusCode::OK);
    }
    let refused = refused.expect("limited within 130 requests");
    assert!(refused.headers.contains_key("retry-after"));
    // logging out everywhere ends the person's tokens with their sessions
    let out = app
        .send(
            "POST",
            "/tai-khoan/dang-xuat-moi-noi",
            &[
                ("cookie", other_cookie.as_str()),
                ("sec-fetch-site", "same-origin"),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            "",
        )
        .await;
    assert!(out.status.is_redirection(), "{}", out.status);
    let ended = get(&app, "/api/v1/me/dossiers", &their_token).await;
    assert_eq!(ended.status, StatusCode::UNAUTHORIZED);
    assert!(json(&ended)["detail"].as_str().unwrap().contains("thu hồi"));

    // an expired token: 401
    let now = time::OffsetDateTime::now_utc();
    let (old, record) = motcua_domain::api_client::PersonalToken::issue(
        citizen.id,
        "Cũ".into(),
        &[5; 32],
        now - time::Duration::days(31),
        30,
    );
    app.db
        .store
        .personal_tokens
        .add_personal_token(&record)
        .await
        .unwrap();
    let expired = get(&app, "/api/v1/me/dossiers", &old).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert!(
        json(&expired)["detail"]
            .as_str()
            .unwrap()
            .contains("hết hạn")
    );
}
on_both_backends!(
    a_person_reads_their_own_dossiers_with_a_personal_token_sqlite,
    a_person_reads_their_own_dossiers_with_a_personal_token_postgres,
    a_person_reads_their_own_dossiers_with_a_personal_token
);
