//! The security audit trail for administrators: newest first, 100 a page, filtered by account, kind and dates.

use crate::input::{InputRejection, Query};
use crate::{AppError, AppState, layout::Layout, viewer::Viewer};
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use motcua_domain::{AuditKind, LoginName, policy::Action};
use serde::Deserialize;

pub(crate) struct AuditRow {
    pub at: String,
    pub kind: &'static str,
    pub actor: String,
    pub subject: String,
    pub ip: String,
    pub success: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "security_audit.html")]
pub(crate) struct SecurityAuditPage {
    pub layout: Layout,
    pub rows: Vec<AuditRow>,
    /// The filters as typed, to show them again and to build the paging links.
    pub actor: String,
    pub kind: String,
    pub from: String,
    pub to: String,
    pub kinds: Vec<(&'static str, &'static str)>,
    pub errors: Vec<(&'static str, String)>,
    pub page: u32,
    pub previous: Option<String>,
    pub next: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct AuditQuery {
    #[serde(default)]
    nguoi: String,
    #[serde(default)]
    loai: String,
    #[serde(default)]
    tu_ngay: String,
    #[serde(default)]
    den_ngay: String,
    trang: Option<u32>,
}

/// Events per page of the audit trail.
const AUDIT_PAGE: u32 = 100;

/// The security audit trail, newest first, 100 a page, filtered by who (a login name), what and when
/// (administrators).
pub(crate) async fn security_audit(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    query: Result<Query<AuditQuery>, InputRejection>,
) -> Result<Response, AppError> {
    if let Err(response) = crate::guard::require(
        &state,
        &viewer,
        Action::ViewSecurityAudit,
        "/quan-tri/nhat-ky-bao-mat",
    )
    .await
    {
        return Ok(response);
    }
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let (actor_text, kind_text) = (q.nguoi.trim().to_string(), q.loai.trim().to_string());
    let (from_text, to_text) = (q.tu_ngay.trim().to_string(), q.den_ngay.trim().to_string());
    let page_no = q.trang.unwrap_or(1).clamp(1, 100_000);
    let mut errors = Vec::new();
    let mut filter = motcua_store::AuditFilter::default();
    let mut nobody = false;
    if !actor_text.is_empty() {
        match LoginName::parse(&actor_text) {
            Ok(name) => match state.store.accounts.find_by_login(&name).await? {
                Some(a) => filter.actor = Some(a.id),
                None => nobody = true,
            },
            Err(e) => errors.push(("nguoi", e.to_string())),
        }
    }
    if !kind_text.is_empty() {
        match AuditKind::parse(&kind_text) {
            Some(k) => filter.kind = Some(k),
            None => errors.push(("loai", "Chọn một loại sự kiện trong danh sách".to_string())),
        }
    }
    let mut date = |text: &str, field: &'static str| {
        if text.is_empty() {
            return None;
        }
        match motcua_domain::form::parse_date(text).filter(|d| (2000..=2100).contains(&d.year())) {
            Some(d) => Some(d),
            None => {
                errors.push((
                    field,
                    "Nhập ngày có thật, dạng ngày/tháng/năm (năm 2000–2100)".to_string(),
                ));
                None
            }
        }
    };
    let from = date(&from_text, "tu_ngay");
    let to = date(&to_text, "den_ngay");
    filter.from = from.map(motcua_domain::vntime::start_of_day);
    filter.before = to
        .and_then(|d| d.next_day())
        .map(motcua_domain::vntime::start_of_day);
    let events = if errors.is_empty() && !nobody {
        state
            .store
            .audit
            .search(&filter, AUDIT_PAGE + 1, (page_no - 1) * AUDIT_PAGE)
            .await?
    } else {
        Vec::new()
    };
    let more = events.len() > AUDIT_PAGE as usize;
    let mut names: std::collections::HashMap<motcua_domain::AccountId, String> =
        std::collections::HashMap::new();
    let mut rows = Vec::with_capacity(events.len());
    for e in events.into_iter().take(AUDIT_PAGE as usize) {
        let actor = match e.actor {
            None => "—".to_string(),
            Some(id) => match names.get(&id) {
                Some(name) => name.clone(),
                None => {
                    let name = state
                        .store
                        .accounts
                        .get(id)
                        .await?
                        .map_or_else(|| id.to_string(), |a| a.full_name.to_string());
                    names.insert(id, name.clone());
                    name
                }
            },
        };
        rows.push(AuditRow {
            at: motcua_domain::vntime::format_datetime(e.at),
            kind: e.kind.label_vi(),
            actor,
            subject: e.subject.unwrap_or_default(),
            ip: e.ip.unwrap_or_default(),
            success: e.success,
        });
    }
    let link = |page: u32| {
        crate::urls::with_query(
            "/quan-tri/nhat-ky-bao-mat",
            &[
                ("nguoi", actor_text.clone()),
                ("loai", kind_text.clone()),
                ("tu_ngay", from_text.clone()),
                ("den_ngay", to_text.clone()),
                ("trang", page.to_string()),
            ],
        )
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        SecurityAuditPage {
            layout,
            rows,
            previous: (page_no > 1).then(|| link(page_no - 1)),
            next: more.then(|| link(page_no + 1)),
            actor: actor_text.clone(),
            kind: kind_text.clone(),
            from: from_text.clone(),
            to: to_text.clone(),
            kinds: AuditKind::ALL
                .iter()
                .map(|k| (k.as_str(), k.label_vi()))
                .collect(),
            errors,
            page: page_no,
        },
    )
        .into_response())
}
