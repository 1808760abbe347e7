//! `motcua api-client add`: register a system that calls the API, with the same checks as the administrators'
//! page (`ApiClientInput::check`), and print its first key, once, for a script to hand over (provisioning, CI).

use motcua_domain::{
    AgencyCode,
    api_client::{ApiClientInput, ApiKey, MAX_KEY_DAYS},
};
use motcua_store::Store;
use time::OffsetDateTime;

use crate::{Failure, storage_failure};

/// What the command line names a field of the form.
fn flag(field: &str) -> &str {
    match field {
        "ten" => "--name",
        "co_quan" => "--agency",
        "pham_vi" => "--scope",
        "gioi_han" => "--per-minute",
        other => other,
    }
}

pub async fn add(store: &Store, input: ApiClientInput, days: i64) -> Result<(), Failure> {
    if !(1..=MAX_KEY_DAYS).contains(&days) {
        return Err(Failure::Other(format!(
            "--days: thời hạn của khóa là số ngày từ 1 đến {MAX_KEY_DAYS}"
        )));
    }
    let agencies = store.agencies.list().await.map_err(storage_failure)?;
    let known = |a: &AgencyCode| agencies.iter().any(|x| &x.code == a);
    let now = OffsetDateTime::now_utc();
    // whoever runs the command on the server manages every agency
    let client = input
        .check(&known, &|_| true, "dòng lệnh motcua api-client".into(), now)
        .map_err(|problems| {
            Failure::Other(
                problems
                    .into_iter()
                    .map(|(field, message)| format!("{}: {message}", flag(field)))
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        })?;
    let random = motcua_web::session::random_bytes();
    let (text, key) = ApiKey::issue(client.id, &random, now, days);
    store
        .api_clients
        .create_client(&client, &key)
        .await
        .map_err(storage_failure)?;
    // in the security audit trail, as when an administrator registers a system on the page
    store
        .audit
        .record(&motcua_domain::AuditEvent {
            id: uuid::Uuid::now_v7(),
            at: now,
            kind: motcua_domain::AuditKind::ApiClientChanged,
            actor: None,
            subject: Some(format!(
                "tạo {} ({}) bằng dòng lệnh, khóa {}",
                client.name, client.id, key.hint
            )),
            ip: None,
            success: true,
        })
        .await
        .map_err(storage_failure)?;
    eprintln!(
        "Đã đăng ký hệ thống {} ({}). Khóa API dưới đây chỉ hiện một lần:",
        client.name, client.id
    );
    println!("{text}");
    Ok(())
}
