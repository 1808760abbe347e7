//! Fees at the desk: a fee paid at the counter (cash or bank transfer) is recorded with its receipt number, as
//! the same payment record and the same settlement as an online payment; a fee paid for a dossier that ended
//! without a result (refused, withdrawn, stopped) is given back and recorded with the refund's document.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use motcua_domain::desk::DeskRight;

use crate::desk::page::render;
use crate::input::Form;
use crate::payments::{CounterMethod, record_at_counter};
use crate::{AppError, AppState, layout::Layout, viewer::Viewer};

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct CounterForm {
    /// tien_mat or chuyen_khoan
    #[serde(default)]
    cach_nop: String,
    #[serde(default)]
    so_bien_lai: String,
}

/// Longest receipt number kept.
const RECEIPT_CHARS: usize = 50;

pub(crate) async fn paid_at_counter(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
    Form(posted): Form<CounterForm>,
) -> Result<Response, AppError> {
    let (officer, dossier, details, r) =
        match crate::dossiers::for_office_with(&state, &viewer, &code, DeskRight::Receive).await? {
            Ok(x) => x,
            Err(r) => return Ok(r),
        };
    let path = format!("/can-bo/ho-so/{code}");
    let receipt = motcua_domain::text::normalize(&posted.so_bien_lai);
    let mut errors = Vec::new();
    let method = CounterMethod::parse(&posted.cach_nop);
    if method.is_none() {
        errors.push((
            "cach_nop".to_string(),
            "Chọn cách nộp: tiền mặt hoặc chuyển khoản".to_string(),
        ));
    }
    if receipt.is_empty() || receipt.chars().count() > RECEIPT_CHARS {
        errors.push((
            "so_bien_lai".to_string(),
            format!("Nhập số biên lai thu (tối đa {RECEIPT_CHARS} ký tự)"),
        ));
    }
    let charge = state
        .store
        .payments
        .charges(dossier.id)
        .await?
        .into_iter()
        .find(|c| c.is_owed());
    let (Some(method), Some(charge), true) = (method, charge.as_ref(), errors.is_empty()) else {
        let status = if charge.is_none() {
            StatusCode::CONFLICT
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let notice = charge.is_none().then_some(NOTHING_OWED);
        let mut page = render(
            &state,
            layout,
            dossier,
            details,
            r,
            errors,
            String::new(),
            notice,
        )
        .await?;
        page.receipt = receipt;
        page.counter_method = posted.cach_nop;
        return Ok((status, page).into_response());
    };
    let by = format!("{} ({})", officer.full_name, officer.id);
    record_at_counter(&state, charge, &by, &receipt, method).await?;
    Ok(Redirect::to(&path).into_response())
}

const NOTHING_OWED: &str = "Hồ sơ không còn khoản phí, lệ phí nào chưa nộp.";

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct RefundForm {
    #[serde(default)]
    giao_dich: String,
    /// The refund's document (payment order, receipt).
    #[serde(default)]
    chung_tu: String,
}

pub(crate) async fn refund(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
    Form(posted): Form<RefundForm>,
) -> Result<Response, AppError> {
    let (officer, dossier, details, r) =
        match crate::dossiers::for_office_with(&state, &viewer, &code, DeskRight::Receive).await? {
            Ok(x) => x,
            Err(r) => return Ok(r),
        };
    let path = format!("/can-bo/ho-so/{code}");
    let document = motcua_domain::text::normalize(&posted.chung_tu);
    let payment = state
        .store
        .payments
        .by_ref(posted.giao_dich.trim())
        .await?
        .filter(|p| p.dossier == dossier.id);
    let refundable = payment
        .as_ref()
        .is_some_and(|p| motcua_domain::payment::refundable(dossier.status, p.status));
    let error = if !refundable {
        Some((
            "hoan-tien",
            "Chỉ hoàn trả khoản đã nộp của hồ sơ bị từ chối, đã rút hoặc dừng giải quyết",
        ))
    } else if document.is_empty() || document.chars().count() > RECEIPT_CHARS {
        Some((
            "chung_tu",
            "Nhập số chứng từ chi hoàn trả (tối đa 50 ký tự)",
        ))
    } else {
        None
    };
    let (Some(payment), None) = (payment, error) else {
        let errors = error
            .map(|(field, message)| vec![(field.to_string(), message.to_string())])
            .unwrap_or_default();
        let page = render(
            &state,
            layout,
            dossier,
            details,
            r,
            errors,
            String::new(),
            None,
        )
        .await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let note = format!(
        "Đã hoàn trả {} lúc {}, chứng từ {document}, người ghi nhận {} ({})",
        payment.amount,
        motcua_domain::vntime::format_datetime(time::OffsetDateTime::now_utc()),
        officer.full_name,
        officer.id
    );
    state.store.payments.refund(&payment.txn_ref, &note).await?;
    Ok(Redirect::to(&path).into_response())
}

/// A payment's electronic receipt, for the desk, as PDF.
pub(crate) async fn receipt(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((code, txn_ref)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let dossier = match crate::dossiers::office_dossier(&state, &viewer, &code).await? {
        Ok(d) => d,
        Err(r) => return Ok(r),
    };
    match crate::payments::receipt_document(&state, &dossier, &txn_ref).await? {
        Some(doc) => crate::slips::pdf_response(doc, &format!("bien-lai-{txn_ref}.pdf")).await,
        None => Ok(crate::error::not_found().await),
    }
}
