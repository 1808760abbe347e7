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

/// A delivery is given up after this many attempts (the last about 38 hours after the first).
pub const MAX_ATTEMPTS: u32 = 16;

/// When a failed delivery is tried again: 30 s, 1, 2, 4 … minutes, at most 6 hours apart (as the outbox).
pub fn retry_delay(attempts: u32) -> time::Duration {
    crate::submission::retry_delay(attempts)
}

/// Each field at fault, with what is wrong with it in Vietnamese.
pub type FieldErrors = Vec<(&'static str, String)>;

/// Whether an address is on the public internet: not this machine, not a private, shared, link-local or
/// unique-local network, not multicast or unspecified. A webhook reaches only such addresses unless the operator
/// allowed private ones (`webhooks_to_private_networks`, for trials), so a client cannot make the server call into
/// its own network.
pub fn is_public(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            // an IPv4 address carried inside (mapped, compatible, NAT64): as that address
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            if s[..6] == [0; 6] && !v6.is_loopback() && !v6.is_unspecified() {
                return is_public(IpAddr::V4(std::net::Ipv4Addr::new(
                    (s[6] >> 8) as u8,
                    s[6] as u8,
                    (s[7] >> 8) as u8,
                    s[7] as u8,
                )));
            }
            if s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1 {
                return false; // local-use NAT64 (RFC 8215): may lead anywhere
            }
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return is_public(IpAddr::V4(std::net::Ipv4Addr::new(
                    (s[6] >> 8) as u8,
                    s[6] as u8,
                    (s[7] >> 8) as u8,
                    s[7] as u8,
                )));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link local
                || (s[0] & 0xffc0) == 0xfec0 // site local (deprecated)
                || s[0] == 0x2002 // 6to4: may carry any IPv4 address
                || (s[0] == 0x2001 && s[1] == 0) // Teredo
                || (s[0] == 0x2001 && s[1] == 0x0db8)) // documentation
        }
    }
}

/// What the client typed to subscribe, checked: an `https` URL without a user or password whose host is a name
/// or a public address (with `private` allowed, also `http` and this machine or private networks, for trials),
/// and known event types (none means all). Where the name leads is checked again when sending.
pub fn check(
    url: &str,
    events: &[String],
    private: bool,
) -> Result<(String, Vec<String>), FieldErrors> {
    let mut errors = Vec::new();
    let url = url.trim();
    let problem = if url.len() > 2000 {
        Some("Địa chỉ dài quá 2000 ký tự")
    } else {
        match url::Url::parse(url) {
            Err(_) => {
                Some("Địa chỉ nhận không đúng dạng (ví dụ https://hethong.example.vn/su-kien)")
            }
            Ok(u) if !(u.scheme() == "https" || private && u.scheme() == "http") => {
                Some("Địa chỉ nhận phải bắt đầu bằng https://")
            }
            Ok(u) if !u.username().is_empty() || u.password().is_some() => {
                Some("Địa chỉ nhận không được chứa tên người dùng hay mật khẩu")
            }
            Ok(u) => match u.host() {
                None => Some("Địa chỉ nhận thiếu tên máy chủ"),
                Some(_) if private => None,
                Some(url::Host::Ipv4(ip)) if !is_public(ip.into()) => Some(
                    "Địa chỉ nhận phải là địa chỉ công khai trên Internet, không phải mạng nội bộ",
                ),
                Some(url::Host::Ipv6(ip)) if !is_public(ip.into()) => Some(
                    "Địa chỉ nhận phải là địa chỉ công khai trên Internet, không phải mạng nội bộ",
                ),
                Some(url::Host::Domain(name))
                    if name.eq_ignore_ascii_case("localhost") || name.ends_with(".localhost") =>
                {
                    Some(
                        "Địa chỉ nhận phải là địa chỉ công khai trên Internet, không phải mạng nội bộ",
                    )
                }
                Some(_) => None,
            },
        }
    };
    if let Some(p) = problem {
        errors.push(("url", p.to_string()));
    }
    let known = event_types();
    if events.len() > 20 {
        errors.push(("events", "Tối đa 20 loại sự kiện".to_string()));
    }
    let mut kept = Vec::new();
    for e in events {
        if !known.contains(e) {
            errors.push(("events", format!("Không có loại sự kiện “{e}”")));
        } else if !kept.contains(e) {
            kept.push(e.clone());
        }
    }
    match (errors.is_empty(), url::Url::parse(url)) {
        // kept as parsed (normalised: what is sent is what was checked)
        (true, Ok(parsed)) => Ok((parsed.as_str().to_string(), kept)),
        _ => Err(errors),
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
    fn subscriptions_take_public_https_and_known_events() {
        assert!(check("https://sotuphap.example.vn/hook", &[], false).is_ok());
        assert!(
            check("https://203.0.113.9/hook", &[], false).is_err(),
            "documentation range"
        );
        assert!(check("https://8.8.8.8/hook", &[], false).is_ok());
        let (_, kept) = check(
            " https://x.vn/h ",
            &["dossier.received".into(), "dossier.received".into()],
            false,
        )
        .unwrap();
        assert_eq!(kept, vec!["dossier.received".to_string()]);
        for bad in [
            "http://example.vn/h",
            "ftp://x",
            "https://",
            "javascript:alert(1)",
            "http://127.0.0.1:9000/hook",
            "https://127.0.0.1/hook",
            "https://localhost/hook",
            "https://10.1.2.3/",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/",
            "https://[fd00::1]/",
            "https://[::ffff:192.168.1.1]/",
            "https://100.64.0.1/",
            "https://user:pass@example.vn/h",
            "https://localhost:@example.vn/h",
        ] {
            assert_eq!(check(bad, &[], false).unwrap_err()[0].0, "url", "{bad}");
        }
        // trials on this machine, when the operator allows private networks
        assert!(check("http://127.0.0.1:9000/hook", &[], true).is_ok());
        assert!(
            check("http://localhost:@attacker.example/h", &[], true).is_err(),
            "never a user part"
        );
        let e = check(
            "https://x.vn",
            &["dossier.draft".into(), "paid".into()],
            false,
        )
        .unwrap_err();
        assert_eq!(e.len(), 2);
        assert!(event_types().contains(&"dossier.supplement_requested".to_string()));
        assert!(is_public("93.184.216.34".parse().unwrap()));
        assert!(!is_public("192.168.0.1".parse().unwrap()));
        assert!(!is_public("fe80::1".parse().unwrap()));
        assert!(
            is_public("192.0.32.10".parse().unwrap()),
            "only 192.0.0.0/24 is special"
        );
        assert!(!is_public("192.0.0.8".parse().unwrap()));
        for inside in [
            "64:ff9b::a00:1",
            "::ffff:10.0.0.1",
            "::10.0.0.1",
            "2002:a00:1::1",
            "2001:0:4136::1",
            "fec0::1",
        ] {
            assert!(!is_public(inside.parse().unwrap()), "{inside}");
        }
        assert!(
            is_public("64:ff9b::808:808".parse().unwrap()),
            "NAT64 of a public address"
        );
        let (kept, _) = check("https://Example.VN/a b", &[], false).unwrap();
        assert_eq!(kept, "https://example.vn/a%20b", "kept as checked");
        assert!(is_public("2606:4700::1111".parse().unwrap()));
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
