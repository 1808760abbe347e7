//! The background worker: delivers the outbox (e-mail now) with retries and back-off, and sweeps uploads that
//! were never submitted. Jobs live in the database, so a restart loses nothing: a job taken by a worker that died
//! is taken again when its lease runs out. Runs inside `motcua serve` by default.

use object_store::{ObjectStore, ObjectStoreExt};
use std::sync::Arc;
use time::OffsetDateTime;
use tokio::sync::Notify;

use motcua_domain::submission::{Job, MAX_ATTEMPTS, retry_delay};
use motcua_notify::{Mailer, Message};
use motcua_store::{Store, StoreResult};

/// How long a taken job is reserved for the worker that took it.
const LEASE: time::Duration = time::Duration::minutes(5);
/// Jobs taken at once.
const BATCH: u32 = 20;
/// Months of statistics recounted per round at most (the rest wait for the next round, a few seconds later).
const STATS_BATCH: u32 = 200;

pub struct Worker {
    pub store: Store,
    pub mailer: Arc<dyn Mailer>,
    pub files: Arc<dyn ObjectStore>,
    /// Unsubmitted uploads older than this (and whose draft was not touched since) are deleted.
    pub sweep_after: time::Duration,
    /// The agencies' hierarchy, to find who approves at a dossier's agency; `None`: no due-soon reminders.
    pub catalogue: Option<Arc<crate::catalogue::Catalogue>>,
    /// Public address of the portal, for links in reminders.
    pub public_url: String,
}

impl Worker {
    /// Deliver every due job once; returns how many were delivered.
    pub async fn run_due(&self, now: OffsetDateTime) -> StoreResult<usize> {
        let mut delivered = 0;
        loop {
            let jobs = self.store.outbox.claim(now, LEASE, BATCH).await?;
            if jobs.is_empty() {
                return Ok(delivered);
            }
            for job in jobs {
                match self.deliver(&job).await {
                    Ok(()) => {
                        self.store
                            .outbox
                            .complete(job.id, OffsetDateTime::now_utc())
                            .await?;
                        delivered += 1;
                    }
                    Err(error) => {
                        let retry = (job.attempts < MAX_ATTEMPTS)
                            .then(|| OffsetDateTime::now_utc() + retry_delay(job.attempts));
                        tracing::warn!(job = %job.id, kind = %job.kind, attempts = job.attempts, %error,
                            will_retry = retry.is_some(), "outbox job failed");
                        self.store.outbox.fail(job.id, &error, retry).await?;
                    }
                }
            }
        }
    }

    async fn deliver(&self, job: &Job) -> Result<(), String> {
        match job.kind.as_str() {
            "email" => {
                let v: serde_json::Value =
                    serde_json::from_str(&job.payload).map_err(|e| format!("payload: {e}"))?;
                let field = |k: &str| {
                    v[k].as_str()
                        .map(str::to_string)
                        .ok_or(format!("payload has no {k}"))
                };
                let message = Message {
                    to: field("to")?,
                    subject: field("subject")?,
                    body: field("body")?,
                };
                self.mailer.send(&message).await.map_err(|e| e.to_string())
            }
            other => Err(format!("unknown job kind {other}")),
        }
    }

    /// Delete uploads never submitted; returns how many.
    pub async fn sweep(&self, now: OffsetDateTime) -> StoreResult<usize> {
        let stale = self
            .store
            .submissions
            .stale_uploads(now - self.sweep_after, 200)
            .await?;
        let mut swept = 0;
        for upload in stale {
            let path = object_store::path::Path::from(upload.object_key.as_str());
            match self.files.delete(&path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {
                    self.store.submissions.forget_upload(upload.id).await?;
                    swept += 1;
                }
                Err(e) => {
                    tracing::warn!(key = %upload.object_key, error = %e, "stale upload not deleted")
                }
            }
        }
        Ok(swept)
    }

    /// Remind the heads of unit of dossiers due within a working day (or overdue) that they may need to apologise
    /// with a new date: once per dossier, due time and officer, however many nodes run this.
    pub async fn remind_due_soon(&self, now: OffsetDateTime) -> StoreResult<usize> {
        use motcua_domain::{DossierStatus as S, policy};
        let Some(catalogue) = &self.catalogue else {
            return Ok(0);
        };
        let cal = crate::dossiers::work_calendar(&self.store).await?;
        let soon = cal.add(now, motcua_calendar::WORKING_DAY);
        let dossiers = self
            .store
            .submissions
            .due_before(soon, &[S::Received, S::Processing], 500)
            .await?;
        if dossiers.is_empty() {
            return Ok(0);
        }
        let officers = self.store.accounts.list_officers().await?;
        let mut queued = 0;
        for d in &dossiers {
            let Some(due) = d.due_at else { continue };
            for officer in &officers {
                let approves = crate::guard::allows(
                    catalogue,
                    officer,
                    policy::Action::ApproveDossiers(d.code.agency()),
                );
                let Some(to) = officer.email.as_ref().filter(|_| approves) else {
                    continue;
                };
                let key = format!("due-soon:{}:{}:{}", d.id, due.unix_timestamp(), officer.id);
                let email = motcua_domain::submission::OutgoingEmail {
                    to: to.as_str().to_string(),
                    subject: format!("Hồ sơ {} sắp đến hạn trả kết quả", d.code),
                    body: format!(
                        "Hồ sơ {} hẹn trả kết quả lúc {}. Nếu không kịp, hãy gửi văn bản xin lỗi và hẹn lại ngày trả kết quả trước hạn.\nXem: {}/can-bo/ho-so/{}\n",
                        d.code,
                        motcua_domain::vntime::format_datetime(due),
                        self.public_url.trim_end_matches('/'),
                        d.code
                    ),
                };
                if self
                    .store
                    .outbox
                    .enqueue_email_once(&key, &email, now)
                    .await?
                {
                    queued += 1;
                }
            }
        }
        Ok(queued)
    }

    /// Run until the process ends: deliver when woken or every few seconds, sweep every hour.
    pub async fn run(self, wake: Arc<Notify>) {
        let mut last_sweep: Option<OffsetDateTime> = None;
        let mut last_reminder: Option<OffsetDateTime> = None;
        loop {
            let now = OffsetDateTime::now_utc();
            if last_reminder.is_none_or(|t| now - t >= time::Duration::minutes(15)) {
                match self.remind_due_soon(now).await {
                    Ok(n) if n > 0 => tracing::info!(queued = n, "due-soon reminders queued"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "due-soon reminders failed"),
                }
                last_reminder = Some(now);
            }
            if let Err(e) = self.run_due(now).await {
                tracing::warn!(error = %e, "outbox not reachable; will retry");
            }
            // the months whose figures changed, recounted for the statistics pages (ADR 0009)
            if let Err(e) = self.store.stats.refresh(STATS_BATCH).await {
                tracing::warn!(error = %e, "statistics not recounted; will retry");
            }
            if last_sweep.is_none_or(|t| now - t >= time::Duration::HOUR) {
                match self.sweep(now).await {
                    Ok(n) if n > 0 => tracing::info!(swept = n, "unsubmitted uploads deleted"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "upload sweep failed"),
                }
                last_sweep = Some(now);
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
            }
        }
    }
}

/// Webhook deliveries being sent at once by a node.
const WEBHOOK_CONCURRENCY: usize = 16;
/// How long a receiver has to answer.
const WEBHOOK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// A taken delivery is reserved this long (more than a try can take).
const WEBHOOK_LEASE: time::Duration = time::Duration::minutes(1);
/// How long the call log and finished webhook deliveries are kept.
const CALLS_KEPT: time::Duration = time::Duration::days(90);
const DELIVERIES_KEPT: time::Duration = time::Duration::days(30);

/// The body of a delivery (Standard Webhooks' `type`, `timestamp`, `data`): the change as recorded in the history,
/// so every try sends the same bytes. `seq` orders the changes of one dossier.
fn webhook_body(
    dossier: &motcua_domain::Dossier,
    event: &motcua_domain::HistoryEvent,
    procedure_name: &str,
) -> String {
    let at = motcua_domain::vntime::format_rfc3339;
    serde_json::json!({
        "type": motcua_domain::webhook::event_type(event.to),
        "timestamp": at(event.at),
        "data": {
            "event_id": event.id.to_string(),
            "seq": event.seq,
            "code": dossier.code.to_string(),
            "agency": dossier.agency.as_str(),
            "procedure": dossier.procedure.as_str(),
            "procedure_name": procedure_name,
            "channel": dossier.channel.as_str(),
            "from_status": event.from.map(|s| s.as_str()),
            "status": event.to.as_str(),
            "status_label": event.to.label_vi(),
            "at": at(event.at),
            "due_at": event.due_at.map(at),
        }
    })
    .to_string()
}

/// Why a try failed, as the delivery log tells the client (the details stay in the server's log).
enum Failure {
    Answered(u16),
    Private,
    Unreachable,
    Gone,
}

impl Failure {
    fn text(&self) -> String {
        match self {
            Failure::Answered(status) => format!("Hệ thống nhận trả lời mã {status}"),
            Failure::Private => {
                "Địa chỉ nhận trỏ vào mạng nội bộ hoặc chính máy chủ: không gửi".to_string()
            }
            Failure::Unreachable => {
                "Không kết nối được hoặc hệ thống nhận không trả lời trong 10 giây".to_string()
            }
            Failure::Gone => "Không còn hồ sơ hoặc sự kiện để gửi".to_string(),
        }
    }
}

/// Resolves a receiver's name as ureq does and refuses it when any address it leads to is not public: the
/// addresses checked are the ones connected to (no second lookup that a name could answer differently).
#[derive(Debug)]
struct PublicOnly;

/// What [`PublicOnly`] answers for a private address (told apart from other failures, a firewall's refusal
/// included).
#[derive(Debug)]
struct PrivateRefused;

impl std::fmt::Display for PrivateRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the receiver's name leads to a private address")
    }
}

impl std::error::Error for PrivateRefused {}

impl ureq::unversioned::resolver::Resolver for PublicOnly {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        use ureq::unversioned::resolver::DefaultResolver;
        let addrs = DefaultResolver::default().resolve(uri, config, timeout)?;
        if addrs
            .iter()
            .any(|a| !motcua_domain::webhook::is_public(a.ip()))
        {
            return Err(ureq::Error::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                PrivateRefused,
            )));
        }
        Ok(addrs)
    }
}

/// Post one delivery (blocking: run it on the blocking pool). The URL is checked again as when subscribing (a
/// subscription made while private networks were allowed, or before a rule was added, is not sent where it may no
/// longer go); the name is resolved once, to public addresses only unless `private`; no proxy from the
/// environment; a redirect is not followed.
fn post(
    url: &str,
    headers: [(&str, String); 3],
    body: &str,
    private: bool,
) -> Result<u16, Failure> {
    if motcua_domain::webhook::check(url, &[], private).is_err() {
        return Err(Failure::Private);
    }
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(WEBHOOK_TIMEOUT))
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .build();
    let agent = if private {
        ureq::Agent::new_with_config(config)
    } else {
        ureq::Agent::with_parts(
            config,
            ureq::unversioned::transport::DefaultConnector::new(),
            PublicOnly,
        )
    };
    let mut request = agent.post(url).header("content-type", "application/json");
    for (name, value) in &headers {
        request = request.header(*name, value);
    }
    let answer = request.send(body).map_err(|e| match e {
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::PermissionDenied => {
            Failure::Private
        }
        e => {
            tracing::info!(%url, error = %e, "webhook receiver not reached");
            Failure::Unreachable
        }
    })?;
    let status = answer.status().as_u16();
    if (200..300).contains(&status) {
        Ok(status)
    } else {
        Err(Failure::Answered(status))
    }
}

/// Try one taken delivery and say how it went (not yet recorded).
async fn try_delivery(
    store: &Store,
    catalogue: Option<&crate::catalogue::Catalogue>,
    delivery: &motcua_domain::webhook::WebhookDelivery,
    hook: &motcua_domain::webhook::Webhook,
    dossier_id: motcua_domain::DossierId,
    private: bool,
) -> StoreResult<motcua_store::DeliveryTry> {
    use motcua_domain::webhook;
    let dossier = store.dossiers.get(dossier_id).await?;
    let history = store.dossiers.history(dossier_id).await?;
    let sent = match (dossier, history.iter().find(|e| e.id == delivery.event)) {
        (Some(dossier), Some(event)) => {
            let name = catalogue
                .map(|c| {
                    c.view()
                        .procedure_name(dossier.procedure.as_str())
                        .to_string()
                })
                .unwrap_or_default();
            let body = webhook_body(&dossier, event, &name);
            let id = webhook::message_id(delivery.event);
            let timestamp = OffsetDateTime::now_utc().unix_timestamp();
            match webhook::signature(&hook.secret, &id, timestamp, &body) {
                None => Err(Failure::Gone),
                Some(signature) => {
                    let url = hook.url.clone();
                    let headers = [
                        ("webhook-id", id),
                        ("webhook-timestamp", timestamp.to_string()),
                        ("webhook-signature", signature),
                    ];
                    tokio::task::spawn_blocking(move || post(&url, headers, &body, private))
                        .await
                        .unwrap_or(Err(Failure::Unreachable))
                }
            }
        }
        _ => Err(Failure::Gone),
    };
    let at = OffsetDateTime::now_utc();
    Ok(match sent {
        Ok(status) => motcua_store::DeliveryTry {
            webhook: delivery.webhook,
            event: delivery.event,
            attempts: delivery.attempts,
            at,
            delivered: true,
            status: Some(status),
            error: None,
            next_at: None,
        },
        Err(failure) => {
            // `attempts` counts this try already (taken); nothing to send is given up at once
            let next_at = (delivery.attempts < webhook::MAX_ATTEMPTS
                && !matches!(failure, Failure::Gone))
            .then(|| at + webhook::retry_delay(delivery.attempts.saturating_sub(1)));
            tracing::warn!(webhook = %delivery.webhook, event = %delivery.event, attempts = delivery.attempts,
                error = %failure.text(), will_retry = next_at.is_some(), "webhook not delivered");
            motcua_store::DeliveryTry {
                webhook: delivery.webhook,
                event: delivery.event,
                attempts: delivery.attempts,
                at,
                delivered: false,
                status: match failure {
                    Failure::Answered(s) => Some(s),
                    _ => None,
                },
                error: Some(failure.text()),
                next_at,
            }
        }
    })
}

/// One round: take the deliveries due at `now` (at most two of a subscription), send them all at once and record
/// each try; how many were delivered. `private`: the operator allows receivers on private networks (trials).
pub async fn deliver_webhooks(
    store: &Store,
    catalogue: Option<Arc<crate::catalogue::Catalogue>>,
    now: OffsetDateTime,
    private: bool,
) -> StoreResult<usize> {
    let taken = store
        .webhooks
        .claim_deliveries(now, WEBHOOK_LEASE, WEBHOOK_CONCURRENCY as u32, &[])
        .await?;
    let mut tries = tokio::task::JoinSet::new();
    for (delivery, hook, dossier_id) in taken {
        let (store, catalogue) = (store.clone(), catalogue.clone());
        tries.spawn(async move {
            try_delivery(
                &store,
                catalogue.as_deref(),
                &delivery,
                &hook,
                dossier_id,
                private,
            )
            .await
        });
    }
    let mut delivered = 0;
    while let Some(outcome) = tries.join_next().await {
        // a try that failed to run keeps its lease and is taken again when it runs out
        let Ok(Ok(outcome)) = outcome else { continue };
        if store.webhooks.record_try(&outcome).await? && outcome.delivered {
            delivered += 1;
        }
    }
    Ok(delivered)
}

/// The subscriptions being sent to by this node, with how many tries each.
#[derive(Clone, Default)]
struct InFlight(Arc<std::sync::Mutex<std::collections::HashMap<uuid::Uuid, usize>>>);

/// One try's place, given back when dropped.
struct Place {
    of: InFlight,
    webhook: uuid::Uuid,
}

impl InFlight {
    fn map(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<uuid::Uuid, usize>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The subscriptions busy now, and the places taken.
    fn snapshot(&self) -> (Vec<uuid::Uuid>, usize) {
        let map = self.map();
        (map.keys().copied().collect(), map.values().sum())
    }

    fn take(&self, webhook: uuid::Uuid) -> Place {
        *self.map().entry(webhook).or_default() += 1;
        Place {
            of: self.clone(),
            webhook,
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut map = self.of.map();
        if let Some(n) = map.get_mut(&self.webhook) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.webhook);
            }
        }
    }
}

/// Send webhooks until the process ends, apart from the outbox's loop (a receiver that is down never holds up
/// mail): every second, take as many due deliveries as there are free places (16 a node), never more than two of
/// one subscription and none of a subscription still being sent to, each try on its own; so a receiver that hangs
/// holds at most two places and the others go on. Once an hour, forget old calls and finished deliveries.
pub async fn run_webhooks(
    store: Store,
    catalogue: Option<Arc<crate::catalogue::Catalogue>>,
    private: bool,
) {
    let in_flight = InFlight::default();
    let mut last_pruned: Option<OffsetDateTime> = None;
    loop {
        let now = OffsetDateTime::now_utc();
        let (busy, taken_places) = in_flight.snapshot();
        let free = WEBHOOK_CONCURRENCY.saturating_sub(taken_places);
        if free > 0 {
            match store
                .webhooks
                .claim_deliveries(now, WEBHOOK_LEASE, free as u32, &busy)
                .await
            {
                Ok(taken) => {
                    for (delivery, hook, dossier_id) in taken {
                        let place = in_flight.take(hook.id);
                        let (store, catalogue) = (store.clone(), catalogue.clone());
                        tokio::spawn(async move {
                            // the place is given back however the try ends, a panic included
                            let _place = place;
                            let tried = try_delivery(
                                &store,
                                catalogue.as_deref(),
                                &delivery,
                                &hook,
                                dossier_id,
                                private,
                            )
                            .await;
                            match tried {
                                Ok(outcome) => {
                                    if let Err(e) = store.webhooks.record_try(&outcome).await {
                                        tracing::warn!(error = %e, "webhook try not recorded; taken again later");
                                    }
                                }
                                Err(e) => {
                                    tracing::warn!(error = %e, "webhook not tried; taken again later")
                                }
                            }
                        });
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "webhook deliveries not reachable; will retry")
                }
            }
        }
        if last_pruned.is_none_or(|t| now - t >= time::Duration::HOUR) {
            let calls = store
                .api_clients
                .forget_calls_before(now - CALLS_KEPT)
                .await;
            let deliveries = store
                .webhooks
                .forget_deliveries_before(now - DELIVERIES_KEPT)
                .await;
            match (calls, deliveries) {
                (Ok(c), Ok(d)) if c + d > 0 => {
                    tracing::info!(
                        calls = c,
                        deliveries = d,
                        "old API calls and webhook deliveries forgotten"
                    )
                }
                (Ok(_), Ok(_)) => {}
                (Err(e), _) | (_, Err(e)) => {
                    tracing::warn!(error = %e, "API logs not pruned; will retry")
                }
            }
            last_pruned = Some(now);
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}
