//! VNPay's server-to-server notification (IPN): checked in the documented order and settled once; the answer is
//! the JSON VNPay expects. The gateway retries until it gets an answer, so a failure here answers `99` and keeps
//! nothing.

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};

use motcua_domain::payment::vnpay::{Fields, RspCode};

use crate::input::Query;
use crate::{AppState, payments::settle_notification};

pub(crate) async fn ipn(
    State(state): State<AppState>,
    Query(fields): Query<Vec<(String, String)>>,
) -> Response {
    let fields: Fields = fields.into_iter().collect();
    let code = match settle_notification(&state, &fields).await {
        Ok(code) => code,
        Err(e) => {
            tracing::error!(error = %e, "payment notification not settled (the gateway retries)");
            RspCode::Unknown
        }
    };
    tracing::info!(
        txn_ref = fields.get("vnp_TxnRef").map(String::as_str).unwrap_or(""),
        rsp = code.code(),
        "payment notification"
    );
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        code.json(),
    )
        .into_response()
}
