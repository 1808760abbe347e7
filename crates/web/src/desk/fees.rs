//! Fees at the desk: a fee paid at the counter (cash or bank transfer) is recorded with its receipt number, as
//! the same payment record and the same settlement as an online payment.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use motcua_domain::policy::Action;

use crate::desk::page::render;
use crate::dossiers::for_office;
use crate::input::Form;
use crate::payments::{CounterMethod, record_at_counter};
use crate::{AppError, AppState, guard, layout::Layout, viewer::Viewer};

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
    let (officer, dossier, details, r) = match for_office(&state, &viewer, &code).await? {
        Ok(x) => x,
        Err(resp) => return Ok(resp),
    };
    let path = format!("/can-bo/ho-so/{code}");
    if !r.receive
        && let Err(resp) = guard::require(
            &state,
            &viewer,
            Action::ReceiveDossiers(dossier.code.agency()),
            &path,
        )
        .await
    {
        return Ok(resp);
    }
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
        .find(|c| c.paid_at.is_none());
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
