//! Payments (`domain.md` §10): a payment's life (pending → paid once, or failed; a paid one may be refunded), and
//! the VNPay 2.1.0 protocol as pure functions: the signed redirect, checking a signed callback, and the decision
//! table for the server-to-server notification (IPN). The portal never sees card data, and the state of a payment
//! changes only on that notification (or the status query), never on the browser's return.

use crate::{DossierId, Vnd};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// A fee an officer set on a dossier after checking it (status 6 "chờ thực hiện nghĩa vụ tài chính"), with its
/// reason; paid when one of its payments is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub id: Uuid,
    pub dossier: DossierId,
    pub amount: Vnd,
    pub reason: String,
    pub set_by: String,
    pub set_at: OffsetDateTime,
    pub paid_at: Option<OffsetDateTime>,
    /// Waived by an officer (exemption or reduction): when, and the legal ground.
    pub waived: Option<(OffsetDateTime, String)>,
}

impl Charge {
    /// Still to be paid: neither paid nor waived.
    pub fn is_owed(&self) -> bool {
        self.paid_at.is_none() && self.waived.is_none()
    }
}

/// One attempt to pay a charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub id: Uuid,
    pub charge: Uuid,
    pub dossier: DossierId,
    pub provider: Provider,
    /// The reference the gateway knows it by ([`transaction_ref`]).
    pub txn_ref: String,
    pub amount: Vnd,
    pub status: PaymentStatus,
    pub created_at: OffsetDateTime,
    pub created_by: String,
    pub settled_at: Option<OffsetDateTime>,
    /// The gateway's transaction number, or the counter's receipt number.
    pub gateway_ref: Option<String>,
    pub bank_code: Option<String>,
    /// Something an officer must act on (a payment that arrived after the dossier was withdrawn: refund it).
    pub flag: Option<String>,
}

/// A payment's outcome, as the gateway (or the counter) reports it, committed once with what follows from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    pub txn_ref: String,
    pub paid: bool,
    pub at: OffsetDateTime,
    pub gateway_ref: Option<String>,
    pub bank_code: Option<String>,
    pub flag: Option<String>,
    /// The dossier's move back to processing once nothing is owed (its due time moved by the pause).
    pub resume: Option<crate::Transition>,
    /// The fee due with the submission is paid: the dossier, still submitted, enters the reception queue now (its
    /// reception time starts). If it is no longer submitted, nothing is settled (the notification is retried and
    /// then sees what the dossier became).
    pub enters_queue: bool,
    /// With it: the open step's due time moved the same way, and the applicant's mail.
    pub then: crate::workflow::StepChange,
}

/// What a provider's notification says, once its signature was checked: which payment, how much, whether the
/// money moved, and the provider's own references. Every provider's message comes down to this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub txn_ref: String,
    /// The amount named, if it is a whole number of đồng.
    pub amount: Option<Vnd>,
    pub paid: bool,
    pub gateway_ref: Option<String>,
    pub bank_code: Option<String>,
}

/// The answer to a notification, in the order the checks are made (`domain.md` §10). Each provider writes it its
/// own way (VNPay's `RspCode`: 97, 01, 04, 02, 00, 99).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The signature does not match.
    InvalidSignature,
    /// No payment has this reference.
    OrderNotFound,
    /// The amount is not the payment's.
    InvalidAmount,
    /// The payment was settled already (a retried notification).
    AlreadyConfirmed,
    /// Received and recorded.
    Confirmed,
    /// Anything else (our own fault: the provider retries).
    Unknown,
}

/// What motcua knows of the payment a notification names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    pub amount: Vnd,
    pub status: PaymentStatus,
}

/// What to do with a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Change nothing; answer this.
    Answer(Outcome),
    /// Settle the pending payment (paid, or failed at the gateway) in one transaction, then answer
    /// [`Outcome::Confirmed`]; if another notification settled it first, [`Outcome::AlreadyConfirmed`].
    Settle { paid: bool },
}

/// The decision table after the signature: order (01), amount (04), already settled (02), then settle (00).
/// `order` is the payment the notice names, if any.
pub fn decide(notice: &Notice, order: Option<Order>) -> Decision {
    let Some(order) = order else {
        return Decision::Answer(Outcome::OrderNotFound);
    };
    if notice.amount != Some(order.amount) {
        return Decision::Answer(Outcome::InvalidAmount);
    }
    if order.status != PaymentStatus::Pending {
        return Decision::Answer(Outcome::AlreadyConfirmed);
    }
    Decision::Settle { paid: notice.paid }
}

/// What a provider says of a payment when asked (its status query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryAnswer {
    /// Settled at the provider, paid or failed: settle it here the same way as a notification.
    Settled(Notice),
    /// Still in progress at the provider: ask again later.
    InProgress,
    /// The provider never saw it: the applicant left before paying.
    NeverSeen,
    /// Not a valid answer (signature, or an error): nothing is changed.
    Unreadable,
}

/// Where a payment is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// VNPay 2.1.0 (or the built-in sandbox that speaks it).
    VnPay,
    /// The national payment platform of the national public-service portal.
    NationalPlatform,
    /// Cash or bank transfer recorded by an officer with its receipt number.
    Counter,
}

/// A payment's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Sent to the gateway; no notification yet.
    Pending,
    Paid,
    /// Declined, cancelled or expired at the gateway: a new attempt is a new payment.
    Failed,
    /// Paid, then given back (the dossier was refused or withdrawn after payment).
    Refunded,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::VnPay => "vn_pay",
            Provider::NationalPlatform => "national_platform",
            Provider::Counter => "counter",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Provider::VnPay,
            Provider::NationalPlatform,
            Provider::Counter,
        ]
        .into_iter()
        .find(|p| p.as_str() == text)
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Provider::VnPay => "VNPay",
            Provider::NationalPlatform => "Nền tảng thanh toán quốc gia",
            Provider::Counter => "Tại quầy",
        }
    }
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Paid => "paid",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Refunded => "refunded",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        use PaymentStatus::*;
        [Pending, Paid, Failed, Refunded]
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    /// The only changes a payment may make: settled once, and a paid one refunded.
    pub fn can_become(self, to: PaymentStatus) -> bool {
        use PaymentStatus::*;
        matches!(
            (self, to),
            (Pending, Paid) | (Pending, Failed) | (Paid, Refunded)
        )
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "Đang chờ cổng thanh toán xác nhận",
            PaymentStatus::Paid => "Đã thanh toán",
            PaymentStatus::Failed => "Không thành công",
            PaymentStatus::Refunded => "Đã hoàn tiền",
        }
    }
}

/// VNPay 2.1.0.
pub mod vnpay {
    use crate::Vnd;
    use hmac::{Hmac, Mac};
    use sha2::Sha512;
    use std::collections::BTreeMap;

    pub const VERSION: &str = "2.1.0";
    /// The signature field, and its type field: neither is signed.
    pub const SECURE_HASH: &str = "vnp_SecureHash";
    pub const SECURE_HASH_TYPE: &str = "vnp_SecureHashType";

    /// The fields of a request or a callback, by name (sorted, as the signature needs them).
    pub type Fields = BTreeMap<String, String>;

    /// The string that is signed: non-empty values other than the signature's own fields, keys ascending, each
    /// key and value form-URL-encoded (space as `+`), joined with `&`.
    pub fn signing_string(fields: &Fields) -> String {
        fields
            .iter()
            .filter(|(k, v)| !v.is_empty() && *k != SECURE_HASH && *k != SECURE_HASH_TYPE)
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    fn encode(text: &str) -> String {
        form_urlencoded::byte_serialize(text.as_bytes()).collect()
    }

    fn mac(secret: &[u8], fields: &Fields) -> Hmac<Sha512> {
        // HMAC takes a key of any length: this cannot fail
        let mut mac = <Hmac<Sha512> as Mac>::new_from_slice(secret)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
        mac.update(signing_string(fields).as_bytes());
        mac
    }

    /// `vnp_SecureHash`: lowercase hex HMAC-SHA512 of the signing string with the merchant's secret.
    pub fn sign(fields: &Fields, secret: &[u8]) -> String {
        hex::encode(mac(secret, fields).finalize().into_bytes())
    }

    /// Whether a callback's `vnp_SecureHash` is the signature of its other fields (compared in constant time).
    pub fn verify(fields: &Fields, secret: &[u8]) -> bool {
        let Some(given) = fields.get(SECURE_HASH).and_then(|h| hex::decode(h).ok()) else {
            return false;
        };
        mac(secret, fields).verify_slice(&given).is_ok()
    }

    /// The address to send the browser to: the gateway's URL with the fields and their signature.
    pub fn signed_url(gateway: &str, fields: &Fields, secret: &[u8]) -> String {
        format!(
            "{gateway}?{}&{SECURE_HASH}={}",
            signing_string(fields),
            sign(fields, secret)
        )
    }

    /// `vnp_Amount`: VND × 100 (`None` if that overflows).
    pub fn amount_field(amount: Vnd) -> Option<String> {
        amount.amount().checked_mul(100).map(|a| a.to_string())
    }

    /// The amount a callback names, in VND (`None` unless a whole number of đồng × 100).
    pub fn parse_amount(field: &str) -> Option<Vnd> {
        if field.is_empty() || !field.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let hundredths: i64 = field.parse().ok()?;
        if hundredths % 100 != 0 {
            return None;
        }
        Vnd::new(hundredths / 100).ok()
    }

    /// `vnp_CreateDate` / `vnp_ExpireDate`: `yyyyMMddHHmmss` in Vietnam's time (UTC+7).
    pub fn timestamp(at: time::OffsetDateTime) -> String {
        let t = at.to_offset(crate::vntime::VN_OFFSET);
        format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }

    /// VNPay's names for the provider-neutral answer and decision.
    pub use super::{Decision as IpnDecision, Order, Outcome as RspCode};

    impl RspCode {
        pub fn code(self) -> &'static str {
            match self {
                RspCode::Confirmed => "00",
                RspCode::OrderNotFound => "01",
                RspCode::AlreadyConfirmed => "02",
                RspCode::InvalidAmount => "04",
                RspCode::InvalidSignature => "97",
                RspCode::Unknown => "99",
            }
        }

        /// The message VNPay's documentation pairs with the code.
        pub fn message(self) -> &'static str {
            match self {
                RspCode::Confirmed => "Confirm Success",
                RspCode::OrderNotFound => "Order not found",
                RspCode::AlreadyConfirmed => "Order already confirmed",
                RspCode::InvalidAmount => "Invalid amount",
                RspCode::InvalidSignature => "Invalid signature",
                RspCode::Unknown => "Unknown error",
            }
        }

        /// The JSON body of the answer.
        pub fn json(self) -> String {
            format!(
                "{{\"RspCode\":\"{}\",\"Message\":\"{}\"}}",
                self.code(),
                self.message()
            )
        }
    }

    /// Whether the gateway says the money moved: `vnp_ResponseCode` **and** `vnp_TransactionStatus` are `00`.
    pub fn succeeded(fields: &Fields) -> bool {
        fields.get("vnp_ResponseCode").map(String::as_str) == Some("00")
            && fields.get("vnp_TransactionStatus").map(String::as_str) == Some("00")
    }

    /// The IPN decision table (`domain.md` §10), checked in this order: signature (97), order (01), amount (04),
    /// already settled (02), then settle (00). `order` is the payment named by `vnp_TxnRef`, if any.
    pub fn decide_ipn(fields: &Fields, secret: &[u8], order: Option<Order>) -> IpnDecision {
        if !verify(fields, secret) {
            return IpnDecision::Answer(RspCode::InvalidSignature);
        }
        super::decide(&notice(fields), order)
    }

    /// What a signed callback says, in every provider's terms.
    pub fn notice(fields: &Fields) -> super::Notice {
        let field = |name: &str| fields.get(name).filter(|v| !v.is_empty()).cloned();
        super::Notice {
            txn_ref: fields.get("vnp_TxnRef").cloned().unwrap_or_default(),
            amount: fields.get("vnp_Amount").and_then(|a| parse_amount(a)),
            paid: succeeded(fields),
            gateway_ref: field("vnp_TransactionNo"),
            bank_code: field("vnp_BankCode"),
        }
    }

    /// The status query (`querydr`): the fields of the request, in the order its signature joins them with `|`.
    pub const QUERY_SIGNED: [&str; 9] = [
        "vnp_RequestId",
        "vnp_Version",
        "vnp_Command",
        "vnp_TmnCode",
        "vnp_TxnRef",
        "vnp_TransactionDate",
        "vnp_CreateDate",
        "vnp_IpAddr",
        "vnp_OrderInfo",
    ];

    /// The fields of the status query's answer, in the order its signature joins them with `|`.
    pub const ANSWER_SIGNED: [&str; 15] = [
        "vnp_ResponseId",
        "vnp_Command",
        "vnp_ResponseCode",
        "vnp_Message",
        "vnp_TmnCode",
        "vnp_TxnRef",
        "vnp_Amount",
        "vnp_BankCode",
        "vnp_PayDate",
        "vnp_TransactionNo",
        "vnp_TransactionType",
        "vnp_TransactionStatus",
        "vnp_OrderInfo",
        "vnp_PromotionCode",
        "vnp_PromotionAmount",
    ];

    fn pipe_mac(secret: &[u8], fields: &Fields, order: &[&str]) -> Hmac<Sha512> {
        let data = order
            .iter()
            .map(|k| fields.get(*k).map(String::as_str).unwrap_or(""))
            .collect::<Vec<_>>()
            .join("|");
        let mut mac = <Hmac<Sha512> as Mac>::new_from_slice(secret)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
        mac.update(data.as_bytes());
        mac
    }

    /// `vnp_SecureHash` of a status query or its answer: HMAC-SHA512 (lowercase hex) of the named fields joined
    /// with `|` in the given order (a missing field counts as empty).
    pub fn pipe_sign(fields: &Fields, order: &[&str], secret: &[u8]) -> String {
        hex::encode(pipe_mac(secret, fields, order).finalize().into_bytes())
    }

    /// Whether an answer's `vnp_SecureHash` signs its fields in that order (compared in constant time).
    pub fn pipe_verify(fields: &Fields, order: &[&str], secret: &[u8]) -> bool {
        let Some(given) = fields.get(SECURE_HASH).and_then(|h| hex::decode(h).ok()) else {
            return false;
        };
        pipe_mac(secret, fields, order).verify_slice(&given).is_ok()
    }

    pub use super::QueryAnswer as Status;

    /// Read a status query's answer: its signature first, then `vnp_ResponseCode` (`00` found, `91` not found) and
    /// `vnp_TransactionStatus` (`00` paid, `02` failed, anything else not final yet).
    pub fn read_status(fields: &Fields, secret: &[u8]) -> Status {
        if !pipe_verify(fields, &ANSWER_SIGNED, secret) {
            return Status::Unreadable;
        }
        match fields.get("vnp_ResponseCode").map(String::as_str) {
            Some("91") => Status::NeverSeen,
            Some("00") => match fields.get("vnp_TransactionStatus").map(String::as_str) {
                Some(status @ ("00" | "02")) => {
                    let mut n = notice(fields);
                    n.paid = status == "00";
                    Status::Settled(n)
                }
                // 01 not finished; 04 debited but not completed, 05/06 refund under way, 07 held for fraud review:
                // none is a final "not paid", so nothing is failed on their account
                Some(_) => Status::InProgress,
                None => Status::Unreadable,
            },
            _ => Status::Unreadable,
        }
    }
}

/// The national payment platform's check code (`MaXacThuc`, as observed in practice): SHA-256 hex of the fields
/// joined with `|`, followed by the secret.
pub fn national_check_code(fields: &[&str], secret: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut text = fields.join("|");
    text.push_str(secret);
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Whether the applicant may pay what a dossier owes now: a fee set after checking (status 6), or a fee due with
/// the online submission (before reception).
pub fn may_pay(status: crate::DossierStatus) -> bool {
    matches!(
        status,
        crate::DossierStatus::AwaitingFinancialObligation | crate::DossierStatus::Submitted
    )
}

/// A payment reference sent to a gateway (`vnp_TxnRef`): the attempt's own id, so it is unique and never reused.
pub fn transaction_ref(attempt: Uuid) -> String {
    attempt.simple().to_string()
}

/// Whether a paid fee may be given back: the dossier ended without a result (refused, withdrawn, stopped).
pub fn refundable(dossier: crate::DossierStatus, payment: PaymentStatus) -> bool {
    use crate::DossierStatus as S;
    payment == PaymentStatus::Paid && matches!(dossier, S::Refused | S::Withdrawn | S::Stopped)
}

/// The most a fee set on one dossier may be: a typing error of a few zeros is refused, not charged.
pub const MAX_CHARGE: i64 = 100_000_000_000;

/// A fee as an officer types it: whole đồng, dots or spaces between thousands allowed (`1.234.000`), more than
/// nothing and at most [`MAX_CHARGE`].
pub fn parse_charge(typed: &str) -> Result<Vnd, &'static str> {
    let digits: String = typed
        .trim()
        .trim_end_matches('đ')
        .trim_end_matches("đồng")
        .chars()
        .filter(|c| !matches!(c, '.' | ' ' | '\u{a0}'))
        .collect();
    if digits.is_empty() {
        return Err("Nhập số tiền phải nộp, bằng đồng, ví dụ 50.000");
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("Số tiền chỉ gồm chữ số (đồng), ví dụ 50.000; không dùng dấu phẩy thập phân");
    }
    match digits.parse::<i64>() {
        Ok(0) => Err("Số tiền phải lớn hơn 0 đồng"),
        Ok(n) if n <= MAX_CHARGE => Vnd::new(n).map_err(|_| "Số tiền không hợp lệ"),
        _ => Err("Số tiền quá lớn: tối đa 100.000.000.000 đồng"),
    }
}

#[cfg(test)]
mod tests {
    use super::vnpay::{ANSWER_SIGNED, QUERY_SIGNED, Status, pipe_sign, read_status};

    fn answer(code: &str, status: &str) -> vnpay::Fields {
        let mut f: vnpay::Fields = [
            ("vnp_ResponseId", "r1"),
            ("vnp_Command", "querydr"),
            ("vnp_ResponseCode", code),
            ("vnp_Message", "QueryDR Success"),
            ("vnp_TmnCode", "MOTCUA01"),
            ("vnp_TxnRef", "abc"),
            ("vnp_Amount", "5000000"),
            ("vnp_BankCode", "NCB"),
            ("vnp_PayDate", "20261129120000"),
            ("vnp_TransactionNo", "14000001"),
            ("vnp_TransactionType", "01"),
            ("vnp_TransactionStatus", status),
            ("vnp_OrderInfo", "Thanh toan"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let hash = pipe_sign(&f, &ANSWER_SIGNED, b"secret");
        f.insert(vnpay::SECURE_HASH.into(), hash);
        f
    }

    #[test]
    fn a_status_answer_is_read_only_when_signed_and_final() {
        let Status::Settled(n) = read_status(&answer("00", "00"), b"secret") else {
            panic!("paid")
        };
        assert!(n.paid);
        assert_eq!(n.amount, Some(Vnd::new(50_000).unwrap()));
        assert_eq!(n.txn_ref, "abc");
        assert_eq!(n.gateway_ref.as_deref(), Some("14000001"));
        let Status::Settled(n) = read_status(&answer("00", "02"), b"secret") else {
            panic!("failed")
        };
        assert!(!n.paid);
        assert_eq!(
            read_status(&answer("00", "01"), b"secret"),
            Status::InProgress
        );
        assert_eq!(read_status(&answer("91", ""), b"secret"), Status::NeverSeen);
        assert_eq!(
            read_status(&answer("99", ""), b"secret"),
            Status::Unreadable
        );
        assert_eq!(
            read_status(&answer("00", "00"), b"other"),
            Status::Unreadable
        );
        let mut tampered = answer("00", "00");
        tampered.insert("vnp_Amount".into(), "500000000".into());
        assert_eq!(read_status(&tampered, b"secret"), Status::Unreadable);
    }

    #[test]
    fn the_status_query_signs_its_fields_joined_with_pipes_in_order() {
        let f: vnpay::Fields = QUERY_SIGNED
            .iter()
            .enumerate()
            .map(|(i, k)| (k.to_string(), i.to_string()))
            .collect();
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha512> as Mac>::new_from_slice(b"k").unwrap();
        mac.update(b"0|1|2|3|4|5|6|7|8");
        assert_eq!(
            pipe_sign(&f, &QUERY_SIGNED, b"k"),
            hex::encode(mac.finalize().into_bytes())
        );
    }

    use super::vnpay::*;
    use super::*;
    use proptest::prelude::*;

    const SECRET: &[u8] = b"TESTSECRETTESTSECRETTESTSECRET12";

    /// VNPay's documented example, byte for byte (`domain.md` §10).
    const EXAMPLE: &str = "vnp_Amount=1806000&vnp_Command=pay&vnp_CreateDate=20210801153333&vnp_CurrCode=VND&vnp_IpAddr=127.0.0.1&vnp_Locale=vn&vnp_OrderInfo=Thanh+toan+don+hang+%3A5&vnp_OrderType=other&vnp_ReturnUrl=https%3A%2F%2Fdomainmerchant.vn%2FReturnUrl&vnp_TmnCode=DEMOV210&vnp_TxnRef=5&vnp_Version=2.1.0";
    const EXAMPLE_HASH: &str = "1df63df658975879020b608c8b0ca40d1010f94f9fbfe0b3e7e6ee8381c860bf1f1631be6f7f6865d118e341f0c7cb720b60d76a41ffd141d4580a0df64b419f";

    fn fields_of(query: &str) -> Fields {
        form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    #[test]
    fn the_documented_example_signs_to_the_documented_hash() {
        let fields = fields_of(EXAMPLE);
        assert_eq!(fields["vnp_OrderInfo"], "Thanh toan don hang :5");
        assert_eq!(signing_string(&fields), EXAMPLE);
        assert_eq!(sign(&fields, SECRET), EXAMPLE_HASH);
        let mut signed = fields.clone();
        signed.insert(SECURE_HASH.into(), EXAMPLE_HASH.into());
        signed.insert(SECURE_HASH_TYPE.into(), "HmacSHA512".into());
        assert!(verify(&signed, SECRET));
        assert!(!verify(&signed, b"another secret"));
        assert_eq!(
            signed_url(
                "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html",
                &fields,
                SECRET
            ),
            format!(
                "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html?{EXAMPLE}&vnp_SecureHash={EXAMPLE_HASH}"
            )
        );
    }

    #[test]
    fn empty_values_are_not_signed() {
        let mut fields = fields_of(EXAMPLE);
        fields.insert("vnp_BankCode".into(), String::new());
        assert_eq!(signing_string(&fields), EXAMPLE);
    }

    fn callback(amount: &str, response: &str, status: &str) -> Fields {
        let mut f = fields_of(
            "vnp_BankCode=NCB&vnp_BankTranNo=VNP14226112&vnp_CardType=ATM&vnp_OrderInfo=Le+phi+ho+so&vnp_PayDate=20261129101500&vnp_TmnCode=DEMOV210&vnp_TransactionNo=14226112&vnp_TxnRef=0190abcd",
        );
        f.insert("vnp_Amount".into(), amount.into());
        f.insert("vnp_ResponseCode".into(), response.into());
        f.insert("vnp_TransactionStatus".into(), status.into());
        let hash = sign(&f, SECRET);
        f.insert(SECURE_HASH.into(), hash);
        f
    }

    /// The decision table, row by row, in the documented order of checks.
    #[test]
    fn the_ipn_decision_table() {
        let fee = Vnd::new(50_000).unwrap();
        let pending = Some(Order {
            amount: fee,
            status: PaymentStatus::Pending,
        });
        let paid = Some(Order {
            amount: fee,
            status: PaymentStatus::Paid,
        });
        let ok = callback("5000000", "00", "00");
        let mut tampered = ok.clone();
        tampered.insert("vnp_Amount".into(), "100".into());
        let wrong_amount = callback("4000000", "00", "00");
        let declined = callback("5000000", "24", "02");
        let half_success = callback("5000000", "00", "01");
        let rows: Vec<(&str, &Fields, Option<Order>, IpnDecision)> = vec![
            (
                "tampered",
                &tampered,
                pending,
                IpnDecision::Answer(RspCode::InvalidSignature),
            ),
            (
                "tampered, unknown order",
                &tampered,
                None,
                IpnDecision::Answer(RspCode::InvalidSignature),
            ),
            (
                "unknown order",
                &ok,
                None,
                IpnDecision::Answer(RspCode::OrderNotFound),
            ),
            (
                "wrong amount",
                &wrong_amount,
                pending,
                IpnDecision::Answer(RspCode::InvalidAmount),
            ),
            (
                "wrong amount, already paid",
                &wrong_amount,
                paid,
                IpnDecision::Answer(RspCode::InvalidAmount),
            ),
            (
                "retried after success",
                &ok,
                paid,
                IpnDecision::Answer(RspCode::AlreadyConfirmed),
            ),
            ("success", &ok, pending, IpnDecision::Settle { paid: true }),
            (
                "declined",
                &declined,
                pending,
                IpnDecision::Settle { paid: false },
            ),
            (
                "response 00 but status not 00",
                &half_success,
                pending,
                IpnDecision::Settle { paid: false },
            ),
        ];
        for (name, fields, order, want) in rows {
            assert_eq!(decide_ipn(fields, SECRET, order), want, "{name}");
        }
        assert_eq!(
            RspCode::AlreadyConfirmed.json(),
            r#"{"RspCode":"02","Message":"Order already confirmed"}"#
        );
    }

    #[test]
    fn a_payment_settles_once_and_only_a_paid_one_is_refunded() {
        use PaymentStatus::*;
        let all = [Pending, Paid, Failed, Refunded];
        for from in all {
            for to in all {
                let allowed = matches!(
                    (from, to),
                    (Pending, Paid) | (Pending, Failed) | (Paid, Refunded)
                );
                assert_eq!(from.can_become(to), allowed, "{from:?} → {to:?}");
            }
        }
    }

    #[test]
    fn the_create_date_is_in_vietnam_time() {
        let at = time::macros::datetime!(2021-08-01 08:33:33 UTC);
        assert_eq!(timestamp(at), "20210801153333");
    }

    #[test]
    fn the_national_check_code_is_sha256_of_the_joined_fields_and_the_secret() {
        // sha256("a|b|csecret")
        assert_eq!(
            national_check_code(&["a", "b", "c"], "secret"),
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"a|b|csecret"))
        );
    }

    #[test]
    fn only_a_paid_fee_of_a_dossier_ended_without_result_is_refunded() {
        use crate::DossierStatus as S;
        for status in S::ALL {
            let ended_without_result = matches!(status, S::Refused | S::Withdrawn | S::Stopped);
            assert_eq!(
                refundable(status, PaymentStatus::Paid),
                ended_without_result,
                "{status:?}"
            );
            assert!(!refundable(status, PaymentStatus::Pending));
            assert!(!refundable(status, PaymentStatus::Refunded));
        }
    }

    #[test]
    fn fees_are_typed_in_whole_dong() {
        assert_eq!(parse_charge("50.000"), Ok(Vnd::new(50_000).unwrap()));
        assert_eq!(
            parse_charge(" 1 234 000 đ"),
            Ok(Vnd::new(1_234_000).unwrap())
        );
        assert!(parse_charge("").is_err());
        assert!(parse_charge("0").is_err());
        assert!(parse_charge("12,5").is_err());
        assert!(parse_charge("-5000").is_err());
        assert!(parse_charge("99999999999999999999999").is_err());
        assert!(parse_charge("100000000001").is_err());
    }

    proptest! {
        /// Every fee an officer may set fits the gateway's amount field and comes back the same.
        #[test]
        fn every_accepted_fee_fits_the_gateway(n in 1i64..=MAX_CHARGE) {
            let vnd = parse_charge(&Vnd::new(n).unwrap().to_string()).unwrap();
            prop_assert_eq!(vnd.amount(), n);
            prop_assert_eq!(parse_amount(&amount_field(vnd).unwrap()), Some(vnd));
        }

        /// Whole VND survive the gateway's × 100 both ways; a fraction of a đồng or a sign is refused.
        #[test]
        fn amounts_round_trip(amount in 0i64..=i64::MAX / 100, cents in 1i64..100) {
            let vnd = Vnd::new(amount).unwrap();
            let field = amount_field(vnd).unwrap();
            prop_assert_eq!(parse_amount(&field), Some(vnd));
            let odd = (amount / 100) * 100 + cents;
            prop_assert_eq!(parse_amount(&odd.to_string()), None);
            let negative = format!("-{field}");
            prop_assert_eq!(parse_amount(&negative), None);
        }

        /// Any changed value breaks the signature.
        #[test]
        fn any_change_breaks_the_signature(key in 0usize..9, extra in "[a-z0-9 ]{1,8}") {
            let ok = callback("5000000", "00", "00");
            let name = ok.keys().filter(|k| *k != SECURE_HASH).nth(key).unwrap().clone();
            let mut changed = ok.clone();
            changed.get_mut(&name).unwrap().push_str(&extra);
            prop_assert!(verify(&ok, SECRET));
            prop_assert!(!verify(&changed, SECRET));
        }

        /// Distinct attempts never share a reference.
        #[test]
        fn transaction_refs_are_unique(a in any::<u128>(), b in any::<u128>()) {
            let (x, y) = (uuid::Uuid::from_u128(a), uuid::Uuid::from_u128(b));
            prop_assert_eq!(transaction_ref(x) == transaction_ref(y), a == b);
            prop_assert!(transaction_ref(x).len() <= 100);
        }
    }
}
