//! The desk sends a result by post: hands it to the post with the tracking number, then records it delivered (the
//! result is handed over) or returned (it waits at the counter, and the applicant is told).

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use time::OffsetDateTime;

use motcua_domain::{
    DossierStatus, Transition,
    desk::DeskRight,
    form,
    postal::{DeliveryEvent, DeliveryStage},
    submission::OutgoingEmail,
    workflow::StepChange,
};

use crate::input::Form;
use crate::{
    AppError, AppState,
    desk::page::{Kept, PostTyped, rerender},
    layout::Layout,
    steps::actor,
    viewer::Viewer,
};

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct PostForm {
    /// `giao` (hand to the post), `da_phat` (delivered) or `chuyen_hoan` (returned).
    #[serde(default)]
    viec: String,
    #[serde(default)]
    ma_van_don: String,
    #[serde(default)]
    ly_do: String,
}

/// A tracking number as the post prints it: letters, digits and dashes, 4–40 of them.
fn tracking_number(typed: &str) -> Option<String> {
    let t: String = typed.split_whitespace().collect::<String>().to_uppercase();
    ((4..=40).contains(&t.len()) && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .then_some(t)
}

pub(crate) async fn record(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
    Form(posted): Form<PostForm>,
) -> Result<Response, AppError> {
    let (officer, dossier, details, rights) =
        match crate::dossiers::for_office_with(&state, &viewer, &code, DeskRight::Receive).await? {
            Ok(x) => x,
            Err(r) => return Ok(r),
        };
    let Some(delivery) = state.store.deliveries.delivery(dossier.id).await? else {
        return Ok(crate::error::not_found().await);
    };
    let now = OffsetDateTime::now_utc();
    let reason = motcua_domain::text::normalize(&posted.ly_do);
    let mut errors: Vec<(String, String)> = vec![];
    let event = match posted.viec.as_str() {
        "giao" => {
            if dossier.status != DossierStatus::Processed {
                errors.push((
                    "buu-chinh".into(),
                    "Chỉ gửi bưu chính khi hồ sơ đã có kết quả được phê duyệt".into(),
                ));
            }
            // a provider with an API books the shipment only when everything else holds, and only once
            let bookable = errors.is_empty() && delivery.stage() == DeliveryStage::Asked;
            let booked = if bookable {
                match state.post.book(&dossier, &delivery.address).await {
                    Ok(n) => n,
                    Err(message) => {
                        errors.push(("ma_van_don".into(), message));
                        None
                    }
                }
            } else {
                None
            };
            match booked.or_else(|| tracking_number(&posted.ma_van_don)) {
                Some(tracking) => Some(DeliveryEvent::HandedOver {
                    carrier: state.post.carrier().to_string(),
                    tracking,
                }),
                None => {
                    errors.push((
                        "ma_van_don".into(),
                        "Nhập mã vận đơn in trên phiếu gửi của bưu điện (chữ và số, 4–40 ký tự)"
                            .into(),
                    ));
                    None
                }
            }
        }
        "da_phat" => Some(DeliveryEvent::Delivered),
        "chuyen_hoan" if reason.is_empty() => {
            errors.push((
                "ly_do_hoan".into(),
                "Ghi lý do bưu chính chuyển hoàn (ví dụ: không có người nhận)".into(),
            ));
            None
        }
        "chuyen_hoan" => Some(DeliveryEvent::Returned {
            reason: reason.clone(),
        }),
        _ => {
            errors.push(("buu-chinh".into(), "Chọn việc cần ghi nhận".into()));
            None
        }
    };
    let stale = event
        .as_ref()
        .is_some_and(|e| e.from_stage() != delivery.stage());
    let (Some(event), true, false) = (event, errors.is_empty(), stale) else {
        let status = if stale {
            StatusCode::CONFLICT
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let notice = stale.then_some(
            "Không thực hiện được: tình trạng gửi bưu chính vừa được cán bộ khác cập nhật.",
        );
        return rerender(
            &state,
            layout,
            dossier,
            details,
            rights,
            status,
            errors,
            Kept::Post(PostTyped {
                tracking: posted.ma_van_don,
                reason,
            }),
            notice,
        )
        .await;
    };
    let who = actor(&officer);
    let transition = match &event {
        DeliveryEvent::Delivered if dossier.status == DossierStatus::Processed => Some(
            Transition::new(
                dossier.id,
                dossier.status,
                DossierStatus::ResultDelivered,
                now,
                &who,
            )
            .map_err(|e| motcua_store::StoreError::Conflict(e.to_string()))?
            .with_reason(format!(
                "Đã phát kết quả qua bưu chính, mã vận đơn {}",
                delivery.handed.as_ref().map(|h| h.1.as_str()).unwrap_or("")
            )),
        ),
        _ => None,
    };
    let email = form::first(&details.answers, form::APPLICANT_EMAIL).to_string();
    let tracking_page = format!(
        "{}/ho-so/{{code}}",
        state.site.public_url.trim_end_matches('/')
    );
    let message = match &event {
        DeliveryEvent::HandedOver { carrier, tracking } => Some((
            "Hồ sơ {code}: kết quả đã gửi qua bưu chính".to_string(),
            format!(
                "Kết quả giải quyết hồ sơ {{code}} đã được giao cho {carrier}, mã vận đơn {tracking}, tới địa chỉ: {}.\n\
                 Theo dõi hồ sơ: {tracking_page}\n",
                delivery.address.one_line()
            ),
        )),
        DeliveryEvent::Returned { reason } => Some((
            "Hồ sơ {code}: bưu chính chuyển hoàn kết quả".to_string(),
            format!(
                "Bưu chính không phát được kết quả của hồ sơ {{code}} ({reason}) và đã chuyển hoàn.\n\
                 Mời ông/bà đến nhận kết quả tại bộ phận một cửa, mang theo giấy tờ tùy thân.\n\
                 Theo dõi hồ sơ: {tracking_page}\n"
            ),
        )),
        DeliveryEvent::Delivered => None,
    };
    let then = StepChange {
        emails: match message {
            Some((subject, body)) if !email.is_empty() => vec![OutgoingEmail {
                to: email,
                subject,
                body,
            }],
            _ => vec![],
        },
        ..Default::default()
    };
    let recorded = state
        .store
        .deliveries
        .record(dossier.id, &event, now, transition.as_ref(), &then)
        .await;
    match recorded {
        Ok(true) => {
            state.outbox_wake.notify_one();
            Ok(Redirect::to(&format!("/can-bo/ho-so/{code}#buu-chinh")).into_response())
        }
        Ok(false) | Err(motcua_store::StoreError::Conflict(_)) => Ok((
            StatusCode::CONFLICT,
            crate::desk::reception::stale(&state, layout, dossier, details, rights, String::new())
                .await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}
