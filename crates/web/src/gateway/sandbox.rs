//! The built-in sandbox gateway (`payment_sandbox = true`, the demo default): a page that speaks VNPay 2.1.0 to
//! this portal. It checks the portal's signed request, shows the amount, and lets the tester choose the outcome:
//! paid, card declined, cancelled, or paid but the notification never arrives. It then sends the signed
//! notification (settled as the IPN endpoint settles it) and sends the browser back with the signed return.
//! Off (404) when the portal talks to the real gateway.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use time::OffsetDateTime;

use motcua_domain::payment::vnpay::{self, Fields};

use crate::input::Form;
use crate::{
    AppError, AppState,
    error::not_found,
    layout::{Layout, MessagePage},
    payments::settle_notification,
};

#[derive(Template, WebTemplate)]
#[template(path = "sandbox_gateway.html")]
pub(crate) struct SandboxPage {
    layout: Layout,
    amount: String,
    order: String,
    txn_ref: String,
    /// The signed request as it came, sent back with the tester's choice.
    request: String,
    /// Said when the form came back without a choice.
    error: Option<&'static str>,
}

/// The signed request checked against the merchant code and secret: its fields, if it is valid.
fn checked(state: &AppState, query: &str) -> Option<Fields> {
    let fields: Fields = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let settings = &state.payments;
    let valid = vnpay::verify(&fields, settings.secret.as_bytes())
        && fields.get("vnp_TmnCode") == Some(&settings.tmn_code)
        && fields.get("vnp_Command").map(String::as_str) == Some("pay")
        && fields.get("vnp_Version").map(String::as_str) == Some(vnpay::VERSION)
        && fields
            .get("vnp_Amount")
            .and_then(|a| vnpay::parse_amount(a))
            .is_some();
    valid.then_some(fields)
}

/// The page that says the request is not valid.
fn refused(layout: Layout) -> Response {
    (
        StatusCode::BAD_REQUEST,
        MessagePage {
            layout,
            title: "Cổng thanh toán thử nghiệm: yêu cầu không hợp lệ".into(),
            message:
                "Chữ ký, mã đơn vị hoặc số tiền của yêu cầu thanh toán không đúng (mã lỗi 97)."
                    .into(),
            link: ("/".into(), "Về trang chủ".into()),
        },
    )
        .into_response()
}

pub(crate) async fn page(
    State(state): State<AppState>,
    layout: Layout,
    uri: axum::http::Uri,
) -> Result<Response, AppError> {
    if !state.payments.sandbox {
        return Ok(not_found().await);
    }
    let query = uri.query().unwrap_or_default().to_string();
    let Some(fields) = checked(&state, &query) else {
        return Ok(refused(layout));
    };
    let amount = fields
        .get("vnp_Amount")
        .and_then(|a| vnpay::parse_amount(a))
        .map(|a| a.to_string())
        .unwrap_or_default();
    Ok(SandboxPage {
        layout,
        amount,
        order: fields.get("vnp_OrderInfo").cloned().unwrap_or_default(),
        txn_ref: fields.get("vnp_TxnRef").cloned().unwrap_or_default(),
        request: query,
        error: None,
    }
    .into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Choice {
    #[serde(default)]
    yeu_cau: String,
    #[serde(default)]
    ket_qua: String,
}

pub(crate) async fn choose(
    State(state): State<AppState>,
    layout: Layout,
    Form(choice): Form<Choice>,
) -> Result<Response, AppError> {
    if !state.payments.sandbox {
        return Ok(not_found().await);
    }
    let Some(request) = checked(&state, &choice.yeu_cau) else {
        return Ok(refused(layout));
    };
    let (response, status, notify) = match choice.ket_qua.as_str() {
        "thanh_cong" => ("00", "00", true),
        "tu_choi" => ("51", "02", true),
        "huy" => ("24", "02", true),
        "mat_ipn" => ("00", "00", false),
        _ => {
            let amount = request
                .get("vnp_Amount")
                .and_then(|a| vnpay::parse_amount(a))
                .map(|a| a.to_string())
                .unwrap_or_default();
            let page = SandboxPage {
                layout,
                amount,
                order: request.get("vnp_OrderInfo").cloned().unwrap_or_default(),
                txn_ref: request.get("vnp_TxnRef").cloned().unwrap_or_default(),
                request: choice.yeu_cau,
                error: Some("Chọn một kết quả giao dịch thử nghiệm"),
            };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let now = OffsetDateTime::now_utc();
    let copied = |name: &str| request.get(name).cloned().unwrap_or_default();
    let number = (now.unix_timestamp_nanos() / 1_000 % 100_000_000).to_string();
    let mut callback: Fields = [
        ("vnp_Amount", copied("vnp_Amount")),
        ("vnp_BankCode", "NCB".to_string()),
        ("vnp_BankTranNo", format!("VNP{number}")),
        ("vnp_CardType", "ATM".into()),
        ("vnp_OrderInfo", copied("vnp_OrderInfo")),
        ("vnp_PayDate", vnpay::timestamp(now)),
        ("vnp_ResponseCode", response.into()),
        ("vnp_TmnCode", copied("vnp_TmnCode")),
        ("vnp_TransactionNo", number),
        ("vnp_TransactionStatus", status.into()),
        ("vnp_TxnRef", copied("vnp_TxnRef")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let hash = vnpay::sign(&callback, state.payments.secret.as_bytes());
    callback.insert(vnpay::SECURE_HASH.into(), hash);
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(callback.iter())
        .finish();
    // the gateway's own record, for the status query when the notification is lost
    state
        .store
        .payments
        .sandbox_record(&copied("vnp_TxnRef"), &query, now)
        .await?;
    if notify {
        // the notification first, as the real gateway does; its answer is the gateway's business
        if let Err(e) = settle_notification(&state, &callback).await {
            tracing::warn!(error = %e, "sandbox: the notification was not settled");
        }
    }
    let back = copied("vnp_ReturnUrl");
    Ok(Redirect::to(&format!("{back}?{query}")).into_response())
}
