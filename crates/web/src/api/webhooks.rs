//! Webhooks for API clients: subscribe a URL to the changes of status of the client's agencies' dossiers, list and
//! end subscriptions, read a subscription's delivery log and send a delivery again. The deliveries are written with
//! each change by the store and sent by the worker (`worker::deliver_webhooks`), signed by the Standard Webhooks
//! scheme (`motcua_domain::webhook`).

use axum::{
    Extension, Json,
    extract::{Path, State, rejection::JsonRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use motcua_domain::webhook::{self, Webhook};

use crate::{
    AppError, AppState,
    api::{clients::Caller, dossiers::unreadable},
    problem::{FieldProblem, Problem},
};

/// Subscriptions a client may hold at once.
const MAX_WEBHOOKS: usize = 10;
/// Deliveries shown in a log.
const LOG_LENGTH: u32 = 100;

/// A subscription to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewWebhook {
    /// Where to send: `https://…` on the public internet (no user or password in it; this machine and private
    /// networks only where the operator allowed them for trials). An https address that may not be called
    /// (private, this machine, with a user part, not valid) is refused with 403.
    #[schema(
        example = "https://hethong.sotuphap.example.vn/motcua/su-kien",
        pattern = "^https://",
        max_length = 2000
    )]
    url: String,
    /// The event types wanted (`dossier.submitted`, `dossier.received`, `dossier.supplement_requested`,
    /// `dossier.refused`, `dossier.processing`, `dossier.processed`, `dossier.result_delivered`, …); empty or left
    /// out: all.
    #[serde(default)]
    #[schema(value_type = Vec<EventTypeKey>, max_items = 20)]
    events: Vec<String>,
}

/// A kind of event: a change to this status.
#[derive(ToSchema)]
#[schema(as = EventTypeKey)]
#[allow(dead_code)]
pub(crate) enum EventTypeKey {
    #[schema(rename = "dossier.submitted")]
    Submitted,
    #[schema(rename = "dossier.received")]
    Received,
    #[schema(rename = "dossier.refused")]
    Refused,
    #[schema(rename = "dossier.processing")]
    Processing,
    #[schema(rename = "dossier.supplement_requested")]
    SupplementRequested,
    #[schema(rename = "dossier.awaiting_financial_obligation")]
    AwaitingFinancialObligation,
    #[schema(rename = "dossier.withdrawal_requested")]
    WithdrawalRequested,
    #[schema(rename = "dossier.stopped")]
    Stopped,
    #[schema(rename = "dossier.processed")]
    Processed,
    #[schema(rename = "dossier.result_delivered")]
    ResultDelivered,
    #[schema(rename = "dossier.withdrawn")]
    Withdrawn,
}

/// A subscription.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WebhookView {
    id: String,
    url: String,
    /// Empty: every event type.
    events: Vec<String>,
    created_at: String,
}

/// A subscription just made, with its secret: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CreatedWebhook {
    #[serde(flatten)]
    webhook: WebhookView,
    /// The signing secret (`whsec_…`, Standard Webhooks): keep it to verify `webhook-signature`.
    secret: String,
}

/// One delivery of one change.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeliveryView {
    /// The `webhook-id` it is sent with (the same on every try).
    message_id: String,
    /// The history event it announces.
    event_id: String,
    event_type: String,
    created_at: String,
    attempts: u32,
    /// `pending`, `delivered` or `failed` (given up after the last try, or the subscription was ended).
    state: String,
    next_attempt_at: Option<String>,
    delivered_at: Option<String>,
    /// The receiver's last HTTP status, when it answered.
    last_status: Option<u16>,
    last_error: Option<String>,
}

fn view(w: &Webhook) -> WebhookView {
    WebhookView {
        id: w.id.to_string(),
        url: w.url.clone(),
        events: w.events.clone(),
        created_at: motcua_domain::vntime::format_rfc3339(w.created_at),
    }
}

fn no_such(id: &str) -> Response {
    Problem::not_found(format!("Hệ thống này không có đăng ký webhook mã {id}.")).into_response()
}

/// The client's subscription named in the address.
async fn own(state: &AppState, caller: &Caller, id: &str) -> Result<Option<Webhook>, AppError> {
    let Ok(id) = Uuid::try_parse(id) else {
        return Ok(None);
    };
    Ok(state.store.webhooks.webhook(caller.client.id, id).await?)
}

/// The client's subscriptions.
#[utoipa::path(
    get,
    path = "/api/v1/office/webhooks",
    tag = "office",
    operation_id = "listWebhooks",
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The subscriptions, oldest first", body = Vec<WebhookView>),
        (status = 401, description = "No key, or a wrong, expired or revoked key", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The client's limit of requests a minute is reached", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, AppError> {
    let all = state.store.webhooks.webhooks(caller.client.id).await?;
    Ok(Json(all.iter().map(view).collect::<Vec<_>>()).into_response())
}

/// Subscribe a URL to the changes of status of the client's agencies' dossiers.
#[utoipa::path(
    post,
    path = "/api/v1/office/webhooks",
    tag = "office",
    operation_id = "createWebhook",
    request_body(content = NewWebhook, content_type = "application/json"),
    security(("api_key" = [])),
    responses(
        (status = 201, description = "Subscribed; the secret is shown this once", body = CreatedWebhook),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No key, or a wrong, expired or revoked key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An https address that may not be called: this machine, a private network, a user or password in it, or not a valid address", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The client already holds the most subscriptions allowed (10)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A URL or event type that cannot be taken, or a field unknown or of the wrong type", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The client's limit of requests a minute is reached", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Result<Json<NewWebhook>, JsonRejection>,
) -> Result<Response, AppError> {
    let asked = match body {
        Ok(Json(asked)) => asked,
        Err(rejection) => return Ok(unreadable(rejection).into_response()),
    };
    let (url, events) = match webhook::check(
        &asked.url,
        &asked.events,
        state.webhooks_to_private_networks,
    ) {
        Ok(checked) => checked,
        // an https address that may not be called (private, this machine, a user part, or no address a receiver
        // could have): refused by policy (403), as the document's pattern admits it
        Err(errors)
            if errors.iter().all(|(name, _)| *name == "url")
                && asked.url.trim().starts_with("https://") =>
        {
            let detail = errors
                .into_iter()
                .map(|(_, message)| message)
                .collect::<Vec<_>>()
                .join("; ");
            return Ok(Problem::for_status(StatusCode::FORBIDDEN)
                .with_detail(detail)
                .into_response());
        }
        Err(errors) => {
            return Ok(Problem {
                errors: errors
                    .into_iter()
                    .map(|(name, message)| FieldProblem {
                        name: name.into(),
                        message,
                    })
                    .collect(),
                ..Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY)
            }
            .into_response());
        }
    };
    if state.store.webhooks.webhooks(caller.client.id).await?.len() >= MAX_WEBHOOKS {
        return Ok(Problem::for_status(StatusCode::CONFLICT)
            .with_detail(format!(
                "Mỗi hệ thống có tối đa {MAX_WEBHOOKS} đăng ký webhook; hãy xóa bớt đăng ký không dùng."
            ))
            .into_response());
    }
    let random = crate::session::random_bytes();
    let made = Webhook {
        id: Uuid::now_v7(),
        client: caller.client.id,
        url,
        events,
        secret: webhook::secret_of(&random),
        created_at: OffsetDateTime::now_utc(),
    };
    state.store.webhooks.create_webhook(&made).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhook {
            webhook: view(&made),
            secret: made.secret.clone(),
        }),
    )
        .into_response())
}

/// End a subscription: nothing more is sent to it, not even what was waiting.
#[utoipa::path(
    delete,
    path = "/api/v1/office/webhooks/{id}",
    tag = "office",
    operation_id = "deleteWebhook",
    params(("id" = String, Path, description = "The subscription's id")),
    security(("api_key" = [])),
    responses(
        (status = 204, description = "Ended"),
        (status = 401, description = "No key, or a wrong, expired or revoked key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The client has no such subscription", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The client's limit of requests a minute is reached", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let Some(found) = own(&state, &caller, &id).await? else {
        return Ok(no_such(&id));
    };
    let now = OffsetDateTime::now_utc();
    if !state
        .store
        .webhooks
        .remove_webhook(caller.client.id, found.id, now)
        .await?
    {
        return Ok(no_such(&id));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A subscription's deliveries, newest first (the last 100).
#[utoipa::path(
    get,
    path = "/api/v1/office/webhooks/{id}/deliveries",
    tag = "office",
    operation_id = "listWebhookDeliveries",
    params(("id" = String, Path, description = "The subscription's id")),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The delivery log", body = Vec<DeliveryView>),
        (status = 401, description = "No key, or a wrong, expired or revoked key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The client has no such subscription", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The client's limit of requests a minute is reached", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn deliveries(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let Some(found) = own(&state, &caller, &id).await? else {
        return Ok(no_such(&id));
    };
    let log = state
        .store
        .webhooks
        .deliveries(found.id, LOG_LENGTH)
        .await?;
    let views: Vec<DeliveryView> = log
        .into_iter()
        .map(|d| DeliveryView {
            message_id: webhook::message_id(d.event),
            event_id: d.event.to_string(),
            event_type: d.event_type,
            created_at: motcua_domain::vntime::format_rfc3339(d.created_at),
            attempts: d.attempts,
            state: match (d.delivered_at, d.next_at) {
                (_, Some(_)) => "pending",
                (Some(_), None) => "delivered",
                (None, None) => "failed",
            }
            .into(),
            next_attempt_at: d.next_at.map(motcua_domain::vntime::format_rfc3339),
            delivered_at: d.delivered_at.map(motcua_domain::vntime::format_rfc3339),
            last_status: d.last_status,
            last_error: d.last_error,
        })
        .collect();
    Ok(Json(views).into_response())
}

/// Send a delivery again now, whatever became of it (the same `webhook-id`, so a receiver that had it already
/// knows).
#[utoipa::path(
    post,
    path = "/api/v1/office/webhooks/{id}/deliveries/{event}/redeliver",
    tag = "office",
    operation_id = "redeliverWebhook",
    params(
        ("id" = String, Path, description = "The subscription's id"),
        ("event" = String, Path, description = "The delivery's event_id"),
    ),
    security(("api_key" = [])),
    responses(
        (status = 202, description = "Queued: the worker sends it within a few seconds"),
        (status = 401, description = "No key, or a wrong, expired or revoked key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subscription or delivery", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The client's limit of requests a minute is reached", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn redeliver(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, event)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let Some(found) = own(&state, &caller, &id).await? else {
        return Ok(no_such(&id));
    };
    let queued = match Uuid::try_parse(&event) {
        Ok(event) => {
            state
                .store
                .webhooks
                .redeliver(found.id, event, OffsetDateTime::now_utc())
                .await?
        }
        Err(_) => false,
    };
    if !queued {
        return Ok(Problem::not_found(format!(
            "Đăng ký này không có lần gửi nào cho sự kiện {event}."
        ))
        .into_response());
    }
    Ok(StatusCode::ACCEPTED.into_response())
}
