//! Webhooks: an API client subscribes a URL to the changes of status of its agencies' dossiers. Each change is
//! sent once per subscription, signed by the Standard Webhooks scheme (<https://www.standardwebhooks.com>): the
//! headers `webhook-id` (the same on every retry, so a receiver de-duplicates), `webhook-timestamp` (Unix seconds)
//! and `webhook-signature` (`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` under the subscription's
//! secret, given to the client as `whsec_` and base64). A delivery that fails is tried again later, further apart
//! each time, and given up after [`MAX_ATTEMPTS`].

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{DossierStatus, api_client::ApiClientId};

/// A subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: Uuid,
    pub client: ApiClientId,
    pub url: String,
    /// The event types sent (empty: all of them).
    pub events: Vec<String>,
    /// `whsec_` and the base64 of the key.
    pub secret: String,
    pub created_at: OffsetDateTime,
}

/// The event type of a change to `status`: `dossier.received`, `dossier.supplement_requested`, …
pub fn event_type(status: DossierStatus) -> String {
    format!("dossier.{}", status.as_str())
}

/// Every event type a subscription may name.
pub fn event_types() -> Vec<String> {
    DossierStatus::ALL
        .into_iter()
        .filter(|s| *s != DossierStatus::Draft)
        .map(event_type)
        .collect()
}

/// A new secret from 32 random bytes.
pub fn secret_of(random: &[u8; 32]) -> String {
    format!("whsec_{}", STANDARD.encode(random))
}

/// The key inside a secret, if it is one.
fn key_of(secret: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret.strip_prefix("whsec_")?).ok()
}

/// The `webhook-signature` header of a message.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = key_of(secret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-id` of a change: the history event's, so every retry and every redelivery carries the same one.
pub fn message_id(event: Uuid) -> String {
    format!("msg_{}", event.simple())
}

/// A delivery is given up after this many attempts (the last about 44 hours after the first).
pub const MAX_ATTEMPTS: u32 = 16;

/// When a failed delivery is tried again: 30 s, 1, 2, 4 … minutes, at most 6 hours apart (as the outbox).
pub fn retry_delay(attempts: u32) -> time::Duration {
    crate::submission::retry_delay(attempts)
}

/// Each field at fault, with what is wrong with it in Vietnamese.
pub type FieldErrors = Vec<(&'static str, String)>;

/// What the client typed to subscribe, checked: the URL (https, or http to this machine for trials) and the
/// event types (known ones; none means all).
pub fn check(url: &str, events: &[String]) -> Result<(String, Vec<String>), FieldErrors> {
    let mut errors = Vec::new();
    let url = url.trim();
    let loopback = [
        "http://127.0.0.1:",
        "http://127.0.0.1/",
        "http://localhost:",
        "http://localhost/",
        "http://[::1]:",
    ];
    if url.len() > 2000 {
        errors.push(("url", "Địa chỉ dài quá 2000 ký tự".to_string()));
    } else if !(url.starts_with("https://") && url.len() > "https://".len()
        || loopback.iter().any(|p| url.starts_with(p)))
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        errors.push((
            "url",
            "Địa chỉ nhận phải là https://… (http chỉ cho máy này: 127.0.0.1, localhost)"
                .to_string(),
        ));
    }
    let known = event_types();
    let mut kept = Vec::new();
    for e in events {
        if !known.contains(e) {
            errors.push(("events", format!("Không có loại sự kiện “{e}”")));
        } else if !kept.contains(e) {
            kept.push(e.clone());
        }
    }
    if errors.is_empty() {
        Ok((url.to_string(), kept))
    } else {
        Err(errors)
    }
}

/// One delivery of one change to one subscription, as the delivery log shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    pub webhook: Uuid,
    /// The history event sent.
    pub event: Uuid,
    pub event_type: String,
    pub created_at: OffsetDateTime,
    pub attempts: u32,
    /// When it is tried next (`None`: delivered, or given up).
    pub next_at: Option<OffsetDateTime>,
    pub delivered_at: Option<OffsetDateTime>,
    /// The receiver's last answer, if it answered.
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_standard_webhooks_one() {
        // the example of the Standard Webhooks specification
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        assert_eq!(signature("not-a-secret", "x", 1, body), None);
        let made = secret_of(&[1; 32]);
        assert!(made.starts_with("whsec_"));
        assert_eq!(key_of(&made).unwrap(), vec![1; 32]);
    }

    #[test]
    fn subscriptions_take_https_or_this_machine_and_known_events() {
        assert!(check("https://sotuphap.example.vn/hook", &[]).is_ok());
        assert!(check("http://127.0.0.1:9000/hook", &["dossier.received".into()]).is_ok());
        let (_, kept) = check(
            " https://x.vn/h ",
            &["dossier.received".into(), "dossier.received".into()],
        )
        .unwrap();
        assert_eq!(kept, vec!["dossier.received".to_string()]);
        for bad in [
            "http://example.vn/h",
            "ftp://x",
            "https://",
            "https://x.vn/a b",
            "javascript:alert(1)",
        ] {
            assert_eq!(check(bad, &[]).unwrap_err()[0].0, "url", "{bad}");
        }
        let e = check("https://x.vn", &["dossier.draft".into(), "paid".into()]).unwrap_err();
        assert_eq!(e.len(), 2);
        assert!(event_types().contains(&"dossier.supplement_requested".to_string()));
    }

    #[test]
    fn retries_are_spaced_out_and_end() {
        let total: i64 = (0..MAX_ATTEMPTS)
            .map(|a| retry_delay(a).whole_seconds())
            .sum();
        assert!(total > 36 * 3600 && total < 48 * 3600, "{total}");
        assert!(retry_delay(1) > retry_delay(0));
    }
}
