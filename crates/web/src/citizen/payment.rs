//! Paying a fee online: the applicant's "Thanh toán" sends the browser to the gateway with a signed request for a
//! new payment of the unpaid fee; the gateway's return page shows the outcome. Neither changes the payment: only
//! the gateway's server-to-server notification does (`gateway/vnpay.rs`).

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use time::{Duration, OffsetDateTime};

use motcua_domain::{
    DossierStatus,
    payment::{Payment, PaymentStatus, Provider, transaction_ref, vnpay},
};
use motcua_store::StoreError;

use crate::input::Query;
use crate::{
    AppError, AppState,
    citizen::tracking::render_dossier,
    dossiers::owned,
    layout::{Layout, MessagePage},
    payments::RETURN_PATH,
    viewer::Viewer,
};

/// How long the gateway keeps a payment page open.
const PAY_WITHIN: Duration = Duration::minutes(15);

/// Start paying what the dossier owes: a new payment (its own reference) and the signed redirect to the gateway.
pub(crate) async fn pay(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let path = format!("/ho-so/{code}");
    let (dossier, details) = match owned(&state, &viewer, &code, &path).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let charge = state
        .store
        .payments
        .charges(dossier.id)
        .await?
        .into_iter()
        .find(|c| c.paid_at.is_none());
    let Some(charge) =
        charge.filter(|_| dossier.status == DossierStatus::AwaitingFinancialObligation)
    else {
        let page =
            render_dossier(&state, layout, dossier, details, false, Some(NOTHING_OWED)).await?;
        return Ok((StatusCode::CONFLICT, page).into_response());
    };
    let now = OffsetDateTime::now_utc();
    let id = uuid::Uuid::now_v7();
    let payment = Payment {
        id,
        charge: charge.id,
        dossier: dossier.id,
        provider: Provider::VnPay,
        txn_ref: transaction_ref(id),
        amount: charge.amount,
        status: PaymentStatus::Pending,
        created_at: now,
        created_by: viewer
            .account
            .as_ref()
            .map(|a| format!("{} ({})", a.full_name, a.id))
            .unwrap_or_default(),
        settled_at: None,
        gateway_ref: None,
        bank_code: None,
        flag: None,
    };
    let Some(amount) = vnpay::amount_field(payment.amount) else {
        return Err(StoreError::Corrupt("a fee too large for the gateway".into()).into());
    };
    match state.store.payments.start(&payment).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            let page =
                render_dossier(&state, layout, dossier, details, false, Some(NOTHING_OWED)).await?;
            return Ok((StatusCode::CONFLICT, page).into_response());
        }
        Err(e) => return Err(e.into()),
    }
    let settings = &state.payments;
    let public = state.site.public_url.trim_end_matches('/');
    let fields: vnpay::Fields = [
        ("vnp_Version", vnpay::VERSION.to_string()),
        ("vnp_Command", "pay".into()),
        ("vnp_TmnCode", settings.tmn_code.clone()),
        ("vnp_Amount", amount),
        ("vnp_CreateDate", vnpay::timestamp(now)),
        ("vnp_ExpireDate", vnpay::timestamp(now + PAY_WITHIN)),
        ("vnp_CurrCode", "VND".into()),
        (
            "vnp_IpAddr",
            viewer.ip.clone().unwrap_or_else(|| "127.0.0.1".into()),
        ),
        ("vnp_Locale", "vn".into()),
        // no diacritics, as the gateway asks
        (
            "vnp_OrderInfo",
            format!("Thanh toan phi le phi ho so {}", dossier.code),
        ),
        ("vnp_OrderType", "other".into()),
        ("vnp_ReturnUrl", format!("{public}{RETURN_PATH}")),
        ("vnp_TxnRef", payment.txn_ref.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let url = vnpay::signed_url(
        &settings.pay_page(&state.site.public_url),
        &fields,
        settings.secret.as_bytes(),
    );
    Ok(Redirect::to(&url).into_response())
}

const NOTHING_OWED: &str = "Hồ sơ không có khoản phí, lệ phí nào đang chờ nộp.";

/// The gateway's return: the outcome as the gateway says it and as this portal has recorded it. Nothing changes
/// here; a payment that the gateway calls successful but is not yet confirmed says so.
pub(crate) async fn returned(
    State(state): State<AppState>,
    layout: Layout,
    Query(fields): Query<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let fields: vnpay::Fields = fields.into_iter().collect();
    let page = |title: &str, message: String, link: (String, String)| MessagePage {
        layout: layout.clone(),
        title: title.into(),
        message,
        link,
    };
    let home = ("/ho-so-cua-toi".to_string(), "Về hồ sơ của tôi".to_string());
    if !vnpay::verify(&fields, state.payments.secret.as_bytes()) {
        return Ok((
            StatusCode::BAD_REQUEST,
            page(
                "Không xác minh được kết quả thanh toán",
                "Địa chỉ trả về từ cổng thanh toán không có chữ ký hợp lệ. Nếu bạn đã trả tiền, trạng thái hồ sơ \
                 sẽ được cập nhật khi cổng thanh toán xác nhận."
                    .into(),
                home,
            ),
        )
            .into_response());
    }
    let payment = match fields.get("vnp_TxnRef") {
        Some(r) => state.store.payments.by_ref(r).await?,
        None => None,
    };
    let Some(payment) = payment else {
        return Ok((
            StatusCode::NOT_FOUND,
            page(
                "Không tìm thấy giao dịch",
                "Cổng thanh toán trả về một giao dịch không có trên cổng dịch vụ công.".into(),
                home,
            ),
        )
            .into_response());
    };
    let dossier = state.store.dossiers.get(payment.dossier).await?;
    let link = dossier
        .map(|d| {
            (
                format!("/ho-so/{}", d.code),
                format!("Xem hồ sơ {}", d.code),
            )
        })
        .unwrap_or(home);
    let gateway_says_paid = vnpay::succeeded(&fields);
    let (title, message) = match payment.status {
        PaymentStatus::Paid => (
            "Thanh toán thành công",
            format!(
                "Đã nhận {} (mã giao dịch {}). Hồ sơ tiếp tục được giải quyết.",
                payment.amount,
                payment.gateway_ref.clone().unwrap_or_default()
            ),
        ),
        PaymentStatus::Pending if gateway_says_paid => (
            "Đang chờ cổng thanh toán xác nhận",
            format!(
                "Cổng thanh toán báo đã trừ {}; hệ thống sẽ cập nhật hồ sơ ngay khi nhận được xác nhận. \
                 Bạn không cần thanh toán lại.",
                payment.amount
            ),
        ),
        _ => (
            "Thanh toán không thành công",
            format!(
                "{} Bạn chưa bị trừ tiền; có thể thanh toán lại từ trang hồ sơ.",
                gateway_message(fields.get("vnp_ResponseCode").map(String::as_str))
            ),
        ),
    };
    Ok(page(title, message, link).into_response())
}

/// What a VNPay response code means, for the applicant.
fn gateway_message(code: Option<&str>) -> &'static str {
    match code {
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

/// The applicant's electronic receipt of a payment, as PDF.
pub(crate) async fn receipt(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((code, txn_ref)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let dossier = match crate::dossiers::owned_dossier(&state, &viewer, &code).await? {
        Ok(d) => d,
        Err(r) => return Ok(r),
    };
    match crate::payments::receipt_document(&state, &dossier, &txn_ref).await? {
        Some(doc) => crate::slips::pdf_response(doc, &format!("bien-lai-{txn_ref}.pdf")).await,
        None => Ok(crate::error::not_found().await),
    }
}
