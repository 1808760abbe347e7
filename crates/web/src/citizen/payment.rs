//! Paying a fee online: the applicant's "Thanh toán" sends the browser to the gateway with a signed request for a
//! new payment of the unpaid fee; the gateway's return page shows the outcome. Neither changes the payment: only
//! the gateway's server-to-server notification does (`gateway/vnpay.rs`).

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use time::OffsetDateTime;

use motcua_domain::{
    DossierStatus,
    payment::{Payment, PaymentStatus, transaction_ref},
};
use motcua_store::StoreError;

use crate::input::Query;
use crate::{
    AppError, AppState,
    citizen::tracking::render_dossier,
    dossiers::owned,
    layout::{Layout, MessagePage},
    payments::{Fields, PayRequest, RETURN_PATH},
    viewer::Viewer,
};

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
        .find(|c| c.is_owed());
    let Some(charge) = charge.filter(|_| motcua_domain::payment::may_pay(dossier.status)) else {
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
        provider: state.gateway.provider(),
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
    let public = state.site.public_url.trim_end_matches('/');
    let request = PayRequest {
        payment: &payment,
        // no diacritics, as gateways ask
        order_info: format!("Thanh toan phi le phi ho so {}", dossier.code),
        client_ip: viewer.ip.clone().unwrap_or_else(|| "127.0.0.1".into()),
        return_url: format!("{public}{RETURN_PATH}"),
        at: now,
    };
    let Some(url) = state.gateway.pay_url(&request) else {
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
    let fields: Fields = fields.into_iter().collect();
    let page = |title: &str, message: String, link: (String, String)| MessagePage {
        layout: layout.clone(),
        title: title.into(),
        message,
        link,
    };
    let home = ("/ho-so-cua-toi".to_string(), "Về hồ sơ của tôi".to_string());
    let Some(notice) = state.gateway.read(&fields) else {
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
    };
    let payment = state.store.payments.by_ref(&notice.txn_ref).await?;
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
    let next = match dossier.as_ref().map(|d| d.status) {
        Some(DossierStatus::Submitted) => "Hồ sơ được chuyển đến bộ phận tiếp nhận.",
        _ => "Hồ sơ tiếp tục được giải quyết.",
    };
    let link = dossier
        .map(|d| {
            (
                format!("/ho-so/{}", d.code),
                format!("Xem hồ sơ {}", d.code),
            )
        })
        .unwrap_or(home);
    let gateway_says_paid = notice.paid;
    let (title, message) = match payment.status {
        PaymentStatus::Paid => (
            "Thanh toán thành công",
            format!(
                "Đã nhận {} (mã giao dịch {}). {next}",
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
                state.gateway.failure(&fields)
            ),
        ),
    };
    Ok(page(title, message, link).into_response())
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
