//! Level-4 payments as every audience sees them: the gateway settings, what a dossier owes and the history of its
//! payments (shown to the applicant and to the desk), and settling a payment when the gateway reports it (the
//! IPN, and the built-in sandbox gateway that speaks the same protocol).

use motcua_domain::{
    Dossier, DossierStatus, Transition, Vnd, form,
    payment::{
        Charge, Decision, Notice, Order, Outcome, Payment, PaymentStatus, Provider, QueryAnswer,
        Settlement, decide, vnpay,
    },
    submission::OutgoingEmail,
    vntime,
};
use motcua_store::StoreError;
use time::OffsetDateTime;

use crate::{AppError, AppState};

/// The page of this portal that plays the gateway when the sandbox is on.
pub const SANDBOX_PATH: &str = "/cong-thanh-toan-thu-nghiem";
/// Where the gateway sends the browser back (shows the outcome; changes nothing).
pub const RETURN_PATH: &str = "/thanh-toan/ket-qua";
/// Where the gateway notifies this portal server to server (VNPay's IPN URL).
pub const NOTIFY_PATH: &str = "/thanh-toan/thong-bao";

/// The fields of a request or a notification, by name.
pub type Fields = std::collections::BTreeMap<String, String>;

/// A provider's JSON object as fields: strings as they are, numbers and booleans as written, null as empty.
pub fn json_fields(object: serde_json::Map<String, serde_json::Value>) -> Fields {
    object
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            };
            (k, text)
        })
        .collect()
}

/// A payment to start, as every provider needs it.
pub struct PayRequest<'a> {
    pub payment: &'a Payment,
    /// What it pays for, without diacritics (gateways ask for ASCII).
    pub order_info: String,
    pub client_ip: String,
    /// Where the provider sends the browser back.
    pub return_url: String,
    pub at: OffsetDateTime,
}

/// An online payment provider's protocol: how the browser is sent to pay, how the provider's messages are
/// authenticated and read, and how its notification is answered. Everything after (the checks 01 → 04 → 02, the
/// settlement, the dossier's resumption, the applicant's mail) is the same for every provider, so a new provider
/// (the national payment platform) is one more implementation of this, and nothing else changes.
#[async_trait::async_trait]
pub trait PaymentGateway: Send + Sync {
    /// The provider recorded on each payment made through it.
    fn provider(&self) -> Provider;
    /// The signed address that sends the browser to pay (`None` when the amount cannot be expressed).
    fn pay_url(&self, request: &PayRequest<'_>) -> Option<String>;
    /// A notification or a browser return, authenticated and read; `None` when its signature does not hold.
    fn read(&self, fields: &Fields) -> Option<Notice>;
    /// The answer the provider expects to its notification: content type and body.
    fn reply(&self, outcome: Outcome) -> (&'static str, String);
    /// Why the provider says a payment did not go through, for the applicant.
    fn failure(&self, fields: &Fields) -> &'static str;
    /// Ask the provider about a payment still pending here (its status query). `Err` is why it could not be
    /// asked (the provider unreachable): nothing changes, and it is asked again later.
    async fn query(&self, state: &AppState, payment: &Payment) -> Result<QueryAnswer, String>;
}

/// VNPay 2.1.0, or the built-in sandbox that speaks it.
pub struct VnPay {
    settings: PaymentSettings,
    /// The portal's address, for the sandbox's page.
    public_url: String,
}

impl VnPay {
    pub fn new(settings: PaymentSettings, public_url: &str) -> VnPay {
        VnPay {
            settings,
            public_url: public_url.to_string(),
        }
    }
}

#[async_trait::async_trait]
impl PaymentGateway for VnPay {
    fn provider(&self) -> Provider {
        Provider::VnPay
    }

    fn pay_url(&self, r: &PayRequest<'_>) -> Option<String> {
        let fields: Fields = [
            ("vnp_Version", vnpay::VERSION.to_string()),
            ("vnp_Command", "pay".into()),
            ("vnp_TmnCode", self.settings.tmn_code.clone()),
            ("vnp_Amount", vnpay::amount_field(r.payment.amount)?),
            ("vnp_CreateDate", vnpay::timestamp(r.at)),
            ("vnp_ExpireDate", vnpay::timestamp(r.at + PAY_WITHIN)),
            ("vnp_CurrCode", "VND".into()),
            ("vnp_IpAddr", r.client_ip.clone()),
            ("vnp_Locale", "vn".into()),
            ("vnp_OrderInfo", r.order_info.clone()),
            ("vnp_OrderType", "other".into()),
            ("vnp_ReturnUrl", r.return_url.clone()),
            ("vnp_TxnRef", r.payment.txn_ref.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        Some(vnpay::signed_url(
            &self.settings.pay_page(&self.public_url),
            &fields,
            self.settings.secret.as_bytes(),
        ))
    }

    fn read(&self, fields: &Fields) -> Option<Notice> {
        vnpay::verify(fields, self.settings.secret.as_bytes()).then(|| vnpay::notice(fields))
    }

    fn reply(&self, outcome: Outcome) -> (&'static str, String) {
        ("application/json", outcome.json())
    }

    fn failure(&self, fields: &Fields) -> &'static str {
        match fields.get("vnp_ResponseCode").map(String::as_str) {
            Some("24") => "Bạn đã hủy giao dịch.",
            Some("51") => "Tài khoản không đủ số dư.",
            Some("11") | Some("15") => "Đã hết thời gian chờ thanh toán.",
            Some("12") => "Thẻ hoặc tài khoản bị khóa.",
            Some("13") | Some("79") => "Nhập sai mật khẩu xác thực quá số lần quy định.",
            Some("65") => "Tài khoản đã vượt quá hạn mức giao dịch trong ngày.",
            Some("75") => "Ngân hàng thanh toán đang bảo trì.",
            _ => "Giao dịch không thành công.",
        }
    }

    async fn query(&self, state: &AppState, payment: &Payment) -> Result<QueryAnswer, String> {
        if self.settings.sandbox {
            // the sandbox keeps what it would have notified, signed like a notification
            let recorded = state
                .store
                .payments
                .sandbox_answer(&payment.txn_ref)
                .await
                .map_err(|e| e.to_string())?;
            return Ok(match recorded {
                None => QueryAnswer::NeverSeen,
                Some(query) => {
                    let fields: Fields = form_urlencoded::parse(query.as_bytes())
                        .map(|(k, v)| (k.into_owned(), v.into_owned()))
                        .collect();
                    match self.read(&fields) {
                        Some(notice) => QueryAnswer::Settled(notice),
                        None => QueryAnswer::Unreadable,
                    }
                }
            });
        }
        let now = OffsetDateTime::now_utc();
        let mut request: Fields = [
            ("vnp_RequestId", uuid::Uuid::new_v4().simple().to_string()),
            ("vnp_Version", vnpay::VERSION.to_string()),
            ("vnp_Command", "querydr".into()),
            ("vnp_TmnCode", self.settings.tmn_code.clone()),
            ("vnp_TxnRef", payment.txn_ref.clone()),
            (
                "vnp_OrderInfo",
                format!("Truy van giao dich {}", payment.txn_ref),
            ),
            ("vnp_TransactionDate", vnpay::timestamp(payment.created_at)),
            ("vnp_CreateDate", vnpay::timestamp(now)),
            ("vnp_IpAddr", "127.0.0.1".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let hash = vnpay::pipe_sign(
            &request,
            &vnpay::QUERY_SIGNED,
            self.settings.secret.as_bytes(),
        );
        request.insert(vnpay::SECURE_HASH.into(), hash);
        let url = self.settings.api_url.clone();
        let answer = tokio::task::spawn_blocking(move || -> Result<Fields, String> {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .timeout_global(Some(std::time::Duration::from_secs(15)))
                .build()
                .into();
            let body: serde_json::Map<String, serde_json::Value> = agent
                .post(&url)
                .send_json(&request)
                .map_err(|e| e.to_string())?
                .body_mut()
                .read_json()
                .map_err(|e| e.to_string())?;
            Ok(json_fields(body))
        })
        .await
        .map_err(|e| e.to_string())??;
        Ok(vnpay::read_status(&answer, self.settings.secret.as_bytes()))
    }
}

/// How long the gateway keeps a payment page open.
const PAY_WITHIN: time::Duration = time::Duration::minutes(15);

/// How this portal reaches VNPay: the merchant code and secret, and the gateway's address. With `sandbox` on, the
/// portal's own sandbox gateway ([`SANDBOX_PATH`]) plays VNPay with the same secret.
#[derive(Debug, Clone)]
pub struct PaymentSettings {
    pub tmn_code: String,
    pub secret: String,
    /// The gateway's payment page (`vnpay_url`); ignored while the sandbox is on.
    pub gateway_url: String,
    /// The gateway's API for the status query (`vnpay_api_url`); the sandbox answers from its own record.
    pub api_url: String,
    pub sandbox: bool,
}

impl Default for PaymentSettings {
    /// The demo: the built-in sandbox with its own secret.
    fn default() -> Self {
        PaymentSettings {
            tmn_code: "MOTCUA01".into(),
            secret: "MOTCUA-SANDBOX-KHONG-DUNG-THAT-2026".into(),
            gateway_url: "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html".into(),
            api_url: "https://sandbox.vnpayment.vn/merchant_webapi/api/transaction".into(),
            sandbox: true,
        }
    }
}

impl PaymentSettings {
    /// Where the browser is sent to pay.
    pub fn pay_page(&self, public_url: &str) -> String {
        if self.sandbox {
            format!("{}{SANDBOX_PATH}", public_url.trim_end_matches('/'))
        } else {
            self.gateway_url.clone()
        }
    }
}

/// A fee as shown.
pub(crate) struct ChargeView {
    pub amount: String,
    pub reason: String,
    pub set_at: String,
    pub paid: Option<String>,
    /// Waived: the legal ground.
    pub waived: Option<String>,
}

/// A payment attempt as shown.
pub(crate) struct PaymentView {
    pub at: String,
    pub amount: String,
    pub provider: &'static str,
    pub status: &'static str,
    pub reference: String,
    pub flag: Option<String>,
    /// The reference the portal gave it (for the desk's refund form).
    pub txn_ref: String,
    /// Paid, and the dossier ended without a result: to be given back.
    pub refundable: bool,
    /// Paid (or paid and refunded): its receipt prints.
    pub receipt: bool,
}

/// What a dossier owes and what was paid.
pub(crate) struct MoneyView {
    pub charges: Vec<ChargeView>,
    pub payments: Vec<PaymentView>,
    /// The unpaid total, if anything is owed.
    pub owed: Option<String>,
}

impl MoneyView {
    pub fn is_empty(&self) -> bool {
        self.charges.is_empty() && self.payments.is_empty()
    }
}

pub(crate) async fn money_view(state: &AppState, dossier: &Dossier) -> Result<MoneyView, AppError> {
    let charges = state.store.payments.charges(dossier.id).await?;
    let payments = state.store.payments.payments(dossier.id).await?;
    let owed = unpaid_total(&charges);
    Ok(MoneyView {
        charges: charges
            .iter()
            .map(|c| ChargeView {
                amount: c.amount.to_string(),
                reason: c.reason.clone(),
                set_at: vntime::format_datetime(c.set_at),
                paid: c.paid_at.map(vntime::format_datetime),
                waived: c.waived.as_ref().map(|(_, ground)| ground.clone()),
            })
            .collect(),
        payments: payments
            .iter()
            .rev()
            .map(|p| PaymentView {
                at: vntime::format_datetime(p.settled_at.unwrap_or(p.created_at)),
                amount: p.amount.to_string(),
                provider: p.provider.label_vi(),
                status: p.status.label_vi(),
                reference: p.gateway_ref.clone().unwrap_or_default(),
                flag: p.flag.clone(),
                txn_ref: p.txn_ref.clone(),
                refundable: motcua_domain::payment::refundable(dossier.status, p.status),
                receipt: matches!(p.status, PaymentStatus::Paid | PaymentStatus::Refunded),
            })
            .collect(),
        owed: (owed > Vnd::ZERO).then(|| owed.to_string()),
    })
}

/// Whether the dossier owes a fee (set and neither paid nor waived).
pub(crate) async fn owes(state: &AppState, dossier: &Dossier) -> Result<bool, AppError> {
    Ok(state
        .store
        .payments
        .charges(dossier.id)
        .await?
        .iter()
        .any(Charge::is_owed))
}

fn unpaid_total(charges: &[Charge]) -> Vnd {
    charges
        .iter()
        .filter(|c| c.is_owed())
        .fold(Vnd::ZERO, |sum, c| sum.checked_add(c.amount).unwrap_or(sum))
}

/// A provider's notification, authenticated by the gateway in use and settled: the answer to give it. Called by
/// the notification endpoint, the sandbox gateway and reconciliation.
pub(crate) async fn settle_notification(
    state: &AppState,
    fields: &Fields,
) -> Result<Outcome, AppError> {
    // an unsigned request costs no database read
    match state.gateway.read(fields) {
        Some(notice) => settle_notice(state, &notice).await,
        None => Ok(Outcome::InvalidSignature),
    }
}

/// The checks after the signature (01 → 04 → 02) and the settlement, the same for every provider.
async fn settle_notice(state: &AppState, notice: &Notice) -> Result<Outcome, AppError> {
    let payment = if notice.txn_ref.is_empty() {
        None
    } else {
        state.store.payments.by_ref(&notice.txn_ref).await?
    }
    // a payment started through another provider is not this one's to settle
    .filter(|p| p.provider == state.gateway.provider());
    let order = payment.as_ref().map(|p| Order {
        amount: p.amount,
        status: p.status,
    });
    let paid = match decide(notice, order) {
        Decision::Answer(outcome) => return Ok(outcome),
        Decision::Settle { paid } => paid,
    };
    let Some(payment) = payment else {
        return Ok(Outcome::OrderNotFound);
    };
    let settlement = settlement(
        state,
        &payment,
        paid,
        notice.gateway_ref.clone(),
        notice.bank_code.clone(),
    )
    .await?;
    fault_point("before_commit");
    let settled = state.store.payments.settle(&settlement).await;
    fault_point("after_commit");
    match settled {
        Ok(true) => {
            state.outbox_wake.notify_one();
            Ok(Outcome::Confirmed)
        }
        Ok(false) => Ok(Outcome::AlreadyConfirmed),
        // the dossier changed between reading and committing: nothing was kept, the gateway retries
        Err(StoreError::Conflict(_)) => Ok(Outcome::Unknown),
        Err(e) => Err(e.into()),
    }
}

/// For the fault tests only: with `MOTCUA_FAULT_PAYMENT_NOTICE` set to this point's name, the process dies here
/// at once (as under `kill -9`), between the provider's notification and its answer. Unset in every real run.
fn fault_point(point: &str) {
    if std::env::var("MOTCUA_FAULT_PAYMENT_NOTICE").is_ok_and(|p| p == point) {
        tracing::error!(point, "MOTCUA_FAULT_PAYMENT_NOTICE: dying here on purpose");
        std::process::abort();
    }
}

/// The settlement of a payment: when it is paid and nothing else is owed, the dossier waiting in status 6 goes
/// back to processing with its due time (and the open step's) moved by the pause; a payment that arrives after
/// the dossier ended is flagged for refund; the applicant is told.
async fn settlement(
    state: &AppState,
    payment: &Payment,
    paid: bool,
    gateway_ref: Option<String>,
    bank_code: Option<String>,
) -> Result<Settlement, AppError> {
    let now = OffsetDateTime::now_utc();
    let mut s = Settlement {
        txn_ref: payment.txn_ref.clone(),
        paid,
        at: now,
        gateway_ref,
        bank_code,
        flag: None,
        resume: None,
        enters_queue: false,
        then: Default::default(),
    };
    if !paid {
        return Ok(s);
    }
    let dossier = state
        .store
        .dossiers
        .get(payment.dossier)
        .await?
        .ok_or(AppError::NotFound)?;
    let charges = state.store.payments.charges(dossier.id).await?;
    let owed_after = charges
        .iter()
        .filter(|c| c.is_owed() && c.id != payment.charge)
        .count();
    if dossier.status == DossierStatus::AwaitingFinancialObligation && owed_after == 0 {
        let events = state.store.dossiers.history(dossier.id).await?;
        let since = events
            .iter()
            .rev()
            .find(|e| e.to == DossierStatus::AwaitingFinancialObligation)
            .map(|e| e.at)
            .unwrap_or(now);
        let cal = crate::dossiers::calendar(state).await?;
        let mut t = Transition::new(
            dossier.id,
            dossier.status,
            DossierStatus::Processing,
            now,
            "Cổng thanh toán (đã nhận tiền)",
        )
        .map_err(|e| StoreError::Conflict(e.to_string()))?
        .with_reason(format!(
            "Đã nộp {} qua {}",
            payment.amount,
            payment.provider.label_vi()
        ));
        if let Some(due) = dossier.due_at {
            t = t.with_due_at(cal.extend_for_pause(due, since, now));
        }
        s.then = crate::steps::after_supplement(state, &cal, &dossier, since, now).await?;
        s.resume = Some(t);
    } else if dossier.status == DossierStatus::Submitted && owed_after == 0 {
        // the fee due with the submission is paid: the dossier enters the reception queue, and the desk is told
        s.enters_queue = true;
        let procedure = state
            .catalogue
            .view()
            .procedure_name(dossier.procedure.as_str())
            .to_string();
        s.then
            .emails
            .extend(crate::dossiers::tell_reception(state, &dossier.agency, &procedure).await?);
    } else if dossier.status.is_terminal() {
        s.flag = Some(format!(
            "Tiền về khi hồ sơ đã ở trạng thái \u{201c}{}\u{201d}: cần hoàn trả cho người nộp",
            dossier.status.label_vi()
        ));
    }
    if let Some(details) = state.store.submissions.online_details(dossier.id).await? {
        let to = form::first(&details.answers, form::APPLICANT_EMAIL).to_string();
        if !to.is_empty() {
            s.then.emails.push(OutgoingEmail {
                to,
                subject: "Hồ sơ {code}: đã nhận tiền phí, lệ phí".into(),
                body: format!(
                    "Cổng thanh toán xác nhận bạn đã nộp {} cho hồ sơ {{code}} (mã giao dịch {}).\n\
                     Theo dõi hồ sơ: {}/ho-so/{{code}}\n",
                    payment.amount,
                    s.gateway_ref
                        .clone()
                        .unwrap_or_else(|| payment.txn_ref.clone()),
                    state.site.public_url.trim_end_matches('/'),
                ),
            });
        }
    }
    Ok(s)
}

/// How money was taken at the counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CounterMethod {
    Cash,
    Transfer,
}

impl CounterMethod {
    pub(crate) fn parse(code: &str) -> Option<Self> {
        match code {
            "tien_mat" => Some(CounterMethod::Cash),
            "chuyen_khoan" => Some(CounterMethod::Transfer),
            _ => None,
        }
    }

    fn label(self) -> &'static str {
        match self {
            CounterMethod::Cash => "TIEN_MAT",
            CounterMethod::Transfer => "CHUYEN_KHOAN",
        }
    }
}

/// A fee paid at the counter (cash or bank transfer, with the receipt number): the same payment record and the
/// same settlement as a payment through the gateway. `Ok(false)` when the fee was paid meanwhile.
pub(crate) async fn record_at_counter(
    state: &AppState,
    charge: &Charge,
    officer: &str,
    receipt: &str,
    method: CounterMethod,
) -> Result<bool, AppError> {
    let id = uuid::Uuid::now_v7();
    let payment = Payment {
        id,
        charge: charge.id,
        dossier: charge.dossier,
        provider: motcua_domain::payment::Provider::Counter,
        txn_ref: motcua_domain::payment::transaction_ref(id),
        amount: charge.amount,
        status: motcua_domain::payment::PaymentStatus::Pending,
        created_at: OffsetDateTime::now_utc(),
        created_by: officer.to_string(),
        settled_at: None,
        gateway_ref: None,
        bank_code: None,
        flag: None,
    };
    match state.store.payments.start(&payment).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    let s = settlement(
        state,
        &payment,
        true,
        Some(receipt.to_string()),
        Some(method.label().to_string()),
    )
    .await?;
    let settled = state.store.payments.settle(&s).await?;
    state.outbox_wake.notify_one();
    Ok(settled)
}

/// The electronic receipt (biên lai) of a paid payment of this dossier, as a document; `None` for a payment that
/// is not the dossier's or was never paid.
pub(crate) async fn receipt_document(
    state: &AppState,
    dossier: &Dossier,
    txn_ref: &str,
) -> Result<Option<motcua_documents::Document>, AppError> {
    let Some(payment) = state
        .store
        .payments
        .by_ref(txn_ref)
        .await?
        .filter(|p| p.dossier == dossier.id)
        .filter(|p| matches!(p.status, PaymentStatus::Paid | PaymentStatus::Refunded))
    else {
        return Ok(None);
    };
    let charge = state
        .store
        .payments
        .charges(dossier.id)
        .await?
        .into_iter()
        .find(|c| c.id == payment.charge);
    let agency = state
        .catalogue
        .view()
        .agency_name(dossier.code.agency())
        .to_string();
    let mut fields = vec![
        (
            "Người nộp tiền:".to_string(),
            dossier.applicant_name.to_string(),
        ),
        ("Hồ sơ:".to_string(), dossier.code.to_string()),
        (
            "Nội dung thu:".to_string(),
            charge.map(|c| c.reason).unwrap_or_default(),
        ),
        ("Số tiền:".to_string(), payment.amount.to_string()),
        (
            "Hình thức nộp:".to_string(),
            payment.provider.label_vi().to_string(),
        ),
        (
            "Mã giao dịch:".to_string(),
            payment
                .gateway_ref
                .clone()
                .unwrap_or_else(|| payment.txn_ref.clone()),
        ),
        (
            "Thời điểm nộp:".to_string(),
            payment
                .settled_at
                .map(vntime::format_datetime)
                .unwrap_or_default(),
        ),
    ];
    if payment.status == PaymentStatus::Refunded {
        fields.push((
            "Ghi chú:".to_string(),
            payment.flag.clone().unwrap_or_default(),
        ));
    }
    Ok(Some(motcua_documents::Document {
        agency_name: agency.clone(),
        form_number: None,
        title: "BIÊN LAI THU PHÍ, LỆ PHÍ (ĐIỆN TỬ)".into(),
        code: payment.txn_ref.clone(),
        tracking_url: crate::slips::tracking_url(state, dossier),
        link_label: String::new(),
        fields,
        list_title: None,
        list: vec![],
        paragraphs: vec![
            "Biên lai điện tử lập từ dữ liệu thanh toán của cổng dịch vụ công; có giá trị đối chiếu với mã giao dịch \
             của ngân hàng hoặc số biên lai thu tại quầy."
                .into(),
        ],
        signatures: vec![("ĐƠN VỊ THU".into(), agency)],
        footer: state.site.name.clone(),
        ..Default::default()
    }))
}

/// How long after it started a payment still pending is asked about: the gateway's page closes after 15 minutes.
pub const RECONCILE_AFTER: time::Duration = time::Duration::minutes(20);

/// Ask the gateway about payments left pending (the applicant closed the browser, the notification was lost) and
/// settle them as it answers, through the same checks as its notification; a payment the gateway never saw is
/// failed, one still in progress there is asked again later. Safe on every node at once: a payment settles once.
/// Returns how many were settled.
pub async fn reconcile(state: &AppState, now: OffsetDateTime) -> Result<usize, AppError> {
    let mut settled = 0;
    let provider = state.gateway.provider();
    for payment in state
        .store
        .payments
        .pending_before(provider, now - RECONCILE_AFTER, 100)
        .await?
    {
        let done = match state.gateway.query(state, &payment).await {
            Ok(QueryAnswer::Settled(notice)) if notice.txn_ref == payment.txn_ref => {
                matches!(settle_notice(state, &notice).await, Ok(Outcome::Confirmed))
            }
            Ok(QueryAnswer::NeverSeen) => {
                let failed = match settlement(state, &payment, false, None, None).await {
                    Ok(s) => state
                        .store
                        .payments
                        .settle(&s)
                        .await
                        .map_err(AppError::from),
                    Err(e) => Err(e),
                };
                // one payment's trouble does not stop the others
                failed.unwrap_or_else(|e| {
                    tracing::warn!(txn_ref = %payment.txn_ref, error = %e, "an expired payment was not closed");
                    false
                })
            }
            Ok(QueryAnswer::InProgress) => false,
            Ok(other) => {
                tracing::warn!(txn_ref = %payment.txn_ref, answer = ?other, "status query answer not usable");
                false
            }
            Err(e) => {
                tracing::warn!(txn_ref = %payment.txn_ref, error = %e, "payment gateway not reachable for the status query");
                false
            }
        };
        if done {
            settled += 1;
        }
    }
    Ok(settled)
}

/// [`reconcile`] every `period`, logging what it did; for `serve`'s background work.
pub async fn reconcile_every(state: AppState, period: std::time::Duration) {
    loop {
        tokio::time::sleep(period).await;
        match reconcile(&state, OffsetDateTime::now_utc()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(settled = n, "pending payments reconciled with the gateway"),
            Err(e) => {
                tracing::warn!(error = %e, "payment reconciliation failed; tried again later")
            }
        }
    }
}
