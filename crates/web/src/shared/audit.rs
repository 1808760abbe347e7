//! Writing the security audit trail: one event (who, what, about what, from where, with what outcome), never
//! failing the request that caused it (a failure to record is logged).

use motcua_domain::{AccountId, AuditEvent, AuditKind};
use time::OffsetDateTime;

use crate::AppState;

pub(crate) async fn record(
    state: &AppState,
    kind: AuditKind,
    actor: Option<AccountId>,
    subject: Option<String>,
    ip: Option<String>,
    success: bool,
) {
    let event = AuditEvent {
        id: uuid::Uuid::now_v7(),
        at: OffsetDateTime::now_utc(),
        kind,
        actor,
        subject,
        ip,
        success,
    };
    if let Err(e) = state.store.audit.record(&event).await {
        tracing::error!(error = %e, kind = kind.as_str(), "audit event not recorded");
    }
}
