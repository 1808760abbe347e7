//! Logging in and out, and the two small endpoints behind the idle-session warning.

use crate::input::{Form, InputRejection, Query};
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Json,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use std::sync::OnceLock;
use time::OffsetDateTime;

use motcua_domain::{AuditEvent, AuditKind, LoginName, Session, SessionKey, policy::Action};

use crate::{
    AppError, AppState, auth,
    layout::Layout,
    session::{Viewer, new_token, start_of},
};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct LoginQuery {
    tiep: Option<String>,
    het_han: Option<String>,
    da_dang_xuat: Option<String>,
    doi_mat_khau: Option<String>,
    da_dang_ky: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    ten_dang_nhap: String,
    #[serde(default)]
    mat_khau: String,
    #[serde(default)]
    tiep: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub(crate) struct LoginPage {
    pub layout: Layout,
    pub login: String,
    pub next: String,
    pub error: Option<String>,
    pub field_error: Option<String>,
    pub notice: Option<&'static str>,
}

/// Only a path on this site: no scheme, no `//host`, no backslashes or control characters.
fn safe_next(next: &str) -> String {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control)
        && next.len() <= 512;
    if ok { next.to_string() } else { "/".into() }
}

pub(crate) async fn login_page(
    layout: Layout,
    viewer: Viewer,
    Query(q): Query<LoginQuery>,
) -> Response {
    let notice = if q.doi_mat_khau.is_some() {
        Some("Đã đặt mật khẩu mới. Hãy đăng nhập bằng mật khẩu mới.")
    } else if q.het_han.is_some() || viewer.expired {
        Some(
            "Phiên đăng nhập đã hết hạn do không sử dụng trong thời gian dài; vui lòng đăng nhập lại. Dữ liệu đã lưu không bị mất.",
        )
    } else if q.da_dang_ky.is_some() {
        Some(
            "Đã nhận đăng ký. Nếu số định danh, số điện thoại và thư điện tử bạn nhập chưa có tài khoản, tài khoản đã được tạo: hãy đăng nhập bằng một trong các thông tin đó và mật khẩu vừa đặt (thư xác thực đã gửi tới địa chỉ thư điện tử, nếu có). Nếu các thông tin này đã có tài khoản, chủ tài khoản được báo qua thư điện tử; hãy dùng “Quên mật khẩu” nếu đó là bạn.",
        )
    } else if q.da_dang_xuat.is_some() {
        Some("Bạn đã đăng xuất.")
    } else {
        None
    };
    LoginPage {
        layout,
        login: String::new(),
        next: safe_next(q.tiep.as_deref().unwrap_or("/")),
        error: None,
        field_error: None,
        notice,
    }
    .into_response()
}

/// Requests the rate limiter lets through per address and minute.
pub(crate) const LOGIN_ATTEMPTS_PER_MINUTE: u32 = 20;
/// Consecutive failures from one address that lock the login name there.
pub(crate) const LOCK_AFTER: u32 = 5;
/// Consecutive failures from all addresses together that lock the login name for every address it has never
/// logged in from (its owner's usual addresses keep working).
pub(crate) const LOCK_ALL_AFTER: u32 = 20;

/// 1 minute at the fifth failure, doubling with each further one, at most 64 minutes.
fn lock_for(failures: u32) -> time::Duration {
    time::Duration::minutes(1 << failures.saturating_sub(LOCK_AFTER).min(6))
}

/// The same back-off for the count across addresses, from its own threshold.
fn lock_all_for(failures: u32) -> time::Duration {
    time::Duration::minutes(1 << failures.saturating_sub(LOCK_ALL_AFTER).min(6))
}

const WRONG: &str = "Tên đăng nhập hoặc mật khẩu không đúng. Nếu nhập sai 5 lần liên tiếp, việc đăng nhập từ thiết bị này sẽ tạm khóa trong ít phút.";

fn locked_message(until: OffsetDateTime) -> String {
    format!(
        "Tài khoản đang tạm khóa đăng nhập từ thiết bị này đến {} do nhập sai mật khẩu nhiều lần. Hãy thử lại sau thời điểm đó, hoặc dùng “Quên mật khẩu” để đặt mật khẩu mới.",
        motcua_domain::vntime::format_datetime(until)
    )
}

async fn audit(
    state: &AppState,
    kind: AuditKind,
    actor: Option<motcua_domain::AccountId>,
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

/// A hash to verify against when the login name is unknown, so both answers take the same time.
async fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DUMMY.get() {
        return hash;
    }
    let hash = auth::hash_password("không có tài khoản này 0".into())
        .await
        .unwrap_or_default();
    DUMMY.get_or_init(|| hash)
}

fn masked(name: &LoginName) -> String {
    match name {
        LoginName::PersonalId(p) => p.masked(),
        LoginName::Phone(p) => format!("{}xxxx{}", &p.as_str()[..3], &p.as_str()[7..]),
        LoginName::Email(e) => {
            let (local, domain) = e.as_str().split_once('@').unwrap_or(("", e.as_str()));
            format!(
                "{}***@{domain}",
                local.chars().next().map(String::from).unwrap_or_default()
            )
        }
    }
}

/// Whose failures a login counts against: the login name as typed (normalised), whether or not an account has it,
/// so an unknown name locks exactly like a known one, and locking one of an account's names says nothing about
/// its others.
pub(crate) fn login_subject(name: &LoginName) -> String {
    match name {
        LoginName::PersonalId(p) => format!("ten:{}", p.as_str()),
        LoginName::Phone(p) => format!("ten:{}", p.as_str()),
        LoginName::Email(e) => format!("ten:{}", e.as_str()),
    }
}

/// The subject of the password typed to confirm a change while logged in.
fn confirmation_subject(account: &motcua_domain::Account) -> String {
    format!("tk:{}", account.id)
}

/// Every lock of an account ends (a new password was set).
pub(crate) async fn clear_locks(
    state: &AppState,
    account: &motcua_domain::Account,
) -> Result<(), AppError> {
    let names = [
        account.personal_id.clone().map(LoginName::PersonalId),
        account.phone.clone().map(LoginName::Phone),
        account.email.clone().map(LoginName::Email),
    ];
    let subjects = names
        .iter()
        .flatten()
        .map(login_subject)
        .chain([confirmation_subject(account)]);
    for subject in subjects {
        state
            .store
            .rate_limits
            .clear_login_failures(&subject)
            .await?;
    }
    Ok(())
}

/// What counting a password attempt decided.
pub(crate) enum Attempt {
    /// Locked before this attempt: the password is not even checked. Until when.
    Locked(OffsetDateTime),
    /// Check the password; if it is wrong, the name is now locked until then, if at all.
    Check { locks: Option<OffsetDateTime> },
}

/// Count an attempt of `subject` from `ip` before the password is checked (a success clears it): counted
/// atomically, so of many attempts at once no more than the limit are ever checked. Locked from this address after
/// 5 in a row; from every address it never logged in from after 20 in a row across addresses.
pub(crate) async fn begin_attempt(
    state: &AppState,
    subject: &str,
    ip: &str,
    now: OffsetDateTime,
) -> Result<Attempt, AppError> {
    let limits = &state.store.rate_limits;
    let (here, here_before) = limits
        .login_failed(subject, ip, now, LOCK_AFTER, lock_for)
        .await?;
    let (all, all_before) = limits
        .login_failed(
            subject,
            motcua_store::ANY_ADDRESS,
            now,
            LOCK_ALL_AFTER,
            lock_all_for,
        )
        .await?;
    let usual = here.last_success_at.is_some();
    let active = |t: Option<OffsetDateTime>| t.filter(|t| *t > now);
    let lock_now = here
        .locked_at(now)
        .into_iter()
        .chain(all.locked_at(now).filter(|_| !usual))
        .max();
    let locked_before = active(here_before)
        .into_iter()
        .chain(active(all_before).filter(|_| !usual))
        .max();
    Ok(match locked_before {
        Some(until) => Attempt::Locked(lock_now.unwrap_or(until)),
        None => Attempt::Check { locks: lock_now },
    })
}

pub(crate) async fn login(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    form: Result<Form<LoginForm>, InputRejection>,
) -> Result<Response, AppError> {
    let ip = viewer.ip.clone();
    let now = OffsetDateTime::now_utc();
    let minute = start_of(now, time::Duration::MINUTE);
    let bucket = format!("login:ip:{}", viewer.ip_key());
    if state.store.rate_limits.hit(&bucket, minute).await? > LOGIN_ATTEMPTS_PER_MINUTE {
        audit(
            &state,
            AuditKind::LoginFailed,
            None,
            Some("rate limited".into()),
            ip,
            false,
        )
        .await;
        return Ok(crate::error::too_many(60));
    }
    let form = form?.0;
    let next = safe_next(&form.tiep);
    let page = |status: StatusCode, error: Option<String>, field_error: Option<String>| {
        let page = LoginPage {
            layout: layout.clone(),
            login: form.ten_dang_nhap.chars().take(200).collect(),
            next: next.clone(),
            error,
            field_error,
            notice: None,
        };
        (status, page).into_response()
    };
    let name = match LoginName::parse(&form.ten_dang_nhap) {
        Ok(name) => name,
        Err(e) => {
            return Ok(page(
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(e.to_string()),
            ));
        }
    };
    if form.mat_khau.is_empty() {
        return Ok(page(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("Nhập mật khẩu.".into()),
            None,
        ));
    }
    let account = state.store.accounts.find_by_login(&name).await?;
    let subject = login_subject(&name);
    let ip_key = viewer.ip_key().to_string();
    // counted before the password is checked; a locked name is not even checked, and is said plainly, the same
    // for a known and an unknown name
    let locks = match begin_attempt(&state, &subject, &ip_key, now).await? {
        Attempt::Locked(until) => {
            audit(
                &state,
                AuditKind::LoginFailed,
                account.as_ref().map(|a| a.id),
                Some(format!("{} (đang khóa)", masked(&name))),
                ip,
                false,
            )
            .await;
            return Ok(page(
                StatusCode::UNAUTHORIZED,
                Some(locked_message(until)),
                None,
            ));
        }
        Attempt::Check { locks } => locks,
    };
    let hash = match &account {
        Some(a) => a.password_hash.clone(),
        None => dummy_hash().await.to_string(),
    };
    let verified = auth::verify_password(form.mat_khau.clone(), hash).await;
    let Some(account) = account.clone().filter(|a| verified.ok() && !a.disabled) else {
        audit(
            &state,
            AuditKind::LoginFailed,
            account.as_ref().map(|a| a.id),
            Some(masked(&name)),
            ip.clone(),
            false,
        )
        .await;
        if let Some(until) = locks {
            audit(
                &state,
                AuditKind::LockedOut,
                account.as_ref().map(|a| a.id),
                Some(masked(&name)),
                ip,
                false,
            )
            .await;
            return Ok(page(
                StatusCode::UNAUTHORIZED,
                Some(locked_message(until)),
                None,
            ));
        }
        return Ok(page(StatusCode::UNAUTHORIZED, Some(WRONG.into()), None));
    };
    if verified == auth::Verified::NeedsRehash {
        // a hash from before passwords were normalised: replace it by one of the NFC form, once
        match auth::hash_password(form.mat_khau.clone()).await {
            Ok(hash) => {
                state
                    .store
                    .accounts
                    .set_password_hash(account.id, &hash)
                    .await?
            }
            Err(e) => tracing::error!(error = %e, "password not rehashed"),
        }
    }
    state
        .store
        .rate_limits
        .login_succeeded(&subject, &ip_key, now)
        .await?;

    // a new session id at every login (no fixation); the old one, if any, ends
    if let Some(old) = &viewer.session {
        state.store.sessions.delete(old).await?;
    }
    let token = new_token();
    let now = OffsetDateTime::now_utc();
    state
        .store
        .sessions
        .create(&Session {
            key: SessionKey::of_token(&token),
            account: account.id,
            created_at: now,
            last_seen_at: now,
            expires_at: now + state.sessions.absolute,
        })
        .await?;
    audit(
        &state,
        AuditKind::LoginSucceeded,
        Some(account.id),
        Some(masked(&name)),
        ip,
        true,
    )
    .await;
    let mut response = Redirect::to(&next).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&state.sessions.cookie(&token)) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct LogoutForm {
    #[serde(default)]
    ly_do: String,
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    viewer: Viewer,
    form: Result<Form<LogoutForm>, InputRejection>,
) -> Result<Response, AppError> {
    let timed_out = form.map(|Form(f)| f.ly_do == "het-han").unwrap_or(false);
    if let (Some(key), Some(account)) = (&viewer.session, &viewer.account) {
        state.store.sessions.delete(key).await?;
        let kind = if timed_out {
            AuditKind::SessionExpired
        } else {
            AuditKind::LoggedOut
        };
        audit(
            &state,
            kind,
            Some(account.id),
            None,
            viewer.ip.clone(),
            true,
        )
        .await;
    }
    let target = if timed_out {
        "/dang-nhap?het_han=1"
    } else {
        "/dang-nhap?da_dang_xuat=1"
    };
    let mut response = Redirect::to(target).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&state.sessions.clear_cookie()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// "Bấm vào đây để duy trì trạng thái đăng nhập": count this as activity.
pub(crate) async fn keep_alive(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<StatusCode, AppError> {
    match &viewer.session {
        Some(key) => {
            state
                .store
                .sessions
                .touch(key, OffsetDateTime::now_utc())
                .await?;
            Ok(StatusCode::NO_CONTENT)
        }
        None => Ok(StatusCode::UNAUTHORIZED),
    }
}

/// How many seconds are left before the idle timeout (without counting as activity).
pub(crate) async fn status(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, AppError> {
    let Some(key) = &viewer.session else {
        return Ok((
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"logged_in": false})),
        )
            .into_response());
    };
    let Some(session) = state.store.sessions.find(key).await? else {
        return Ok((
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"logged_in": false})),
        )
            .into_response());
    };
    let now = OffsetDateTime::now_utc();
    let idle_end = session.last_seen_at + state.sessions.idle;
    let end = idle_end.min(session.expires_at);
    let seconds_left = (end - now).whole_seconds().max(0);
    Ok(Json(serde_json::json!({"logged_in": true, "seconds_left": seconds_left})).into_response())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(safe_next("/thu-tuc/1.001193"), "/thu-tuc/1.001193");
        for evil in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "/a\nb",
            "",
        ] {
            assert_eq!(safe_next(evil), "/", "{evil:?}");
        }
    }
}

/// One role as the account page shows it.
pub(crate) struct GrantView {
    pub role: &'static str,
    pub agency: String,
    pub below: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
pub(crate) struct AccountPage {
    pub layout: Layout,
    pub full_name: String,
    pub kind: &'static str,
    pub personal_id: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub grants: Vec<GrantView>,
}

/// "Tài khoản của tôi".
pub(crate) async fn account_page(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
) -> Response {
    let account =
        match crate::guard::require(&state, &viewer, Action::ViewOwnAccount, "/tai-khoan").await {
            Ok(a) => a,
            Err(response) => return response,
        };
    let view = state.catalogue.view();
    AccountPage {
        layout,
        full_name: account.full_name.to_string(),
        kind: match account.kind {
            motcua_domain::AccountKind::Citizen => "Công dân",
            motcua_domain::AccountKind::Officer => "Cán bộ, công chức",
        },
        personal_id: account.personal_id.as_ref().map(|p| p.masked()),
        phone: account.phone.as_ref().map(|p| p.as_str().to_string()),
        email: account.email.as_ref().map(|e| e.as_str().to_string()),
        address: account.address.clone(),
        grants: account
            .grants
            .iter()
            .map(|g| GrantView {
                role: g.role.label_vi(),
                agency: view.agency_name(&g.agency).to_string(),
                below: g.include_sub_agencies,
            })
            .collect(),
    }
    .into_response()
}

/// "Đăng xuất trên mọi thiết bị": every session of the account ends.
pub(crate) async fn logout_everywhere(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, AppError> {
    let account =
        match crate::guard::require(&state, &viewer, Action::ViewOwnAccount, "/tai-khoan").await {
            Ok(a) => a,
            Err(response) => return Ok(response),
        };
    let ended = state.store.sessions.delete_for_account(account.id).await?;
    audit(
        &state,
        AuditKind::LoggedOutEverywhere,
        Some(account.id),
        Some(format!("{ended} phiên")),
        viewer.ip.clone(),
        true,
    )
    .await;
    let mut response = Redirect::to("/dang-nhap?da_dang_xuat=1").into_response();
    if let Ok(cookie) = HeaderValue::from_str(&state.sessions.clear_cookie()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

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

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ContactForm {
    #[serde(default)]
    dien_thoai: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    dia_chi: String,
    #[serde(default)]
    mat_khau_hien_tai: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "contact.html")]
pub(crate) struct ContactPage {
    pub layout: Layout,
    pub phone: String,
    pub email: String,
    pub address: String,
    /// Citizens keep the phone they registered with; officers keep an e-mail or a phone.
    pub phone_required: bool,
    pub errors: Vec<(&'static str, String)>,
    pub saved: bool,
}

impl ContactPage {
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct SavedQuery {
    da_luu: Option<String>,
}

pub(crate) async fn contact_page(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Query(q): Query<SavedQuery>,
) -> Response {
    let account = match crate::guard::require(
        &state,
        &viewer,
        Action::ViewOwnAccount,
        "/tai-khoan/lien-he",
    )
    .await
    {
        Ok(a) => a,
        Err(response) => return response,
    };
    ContactPage {
        layout,
        phone_required: account.kind == motcua_domain::AccountKind::Citizen,
        phone: account
            .phone
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        email: account
            .email
            .map(|e| e.as_str().to_string())
            .unwrap_or_default(),
        address: account.address.unwrap_or_default(),
        errors: Vec::new(),
        saved: q.da_luu.is_some(),
    }
    .into_response()
}

/// Update phone, e-mail and address. A change of phone or e-mail (what the account logs in with and where its
/// recovery goes) needs the current password; the old address is told, and a new e-mail gets a verification
/// link (recovery mail goes only to a verified address). What an account was required to give stays required:
/// the phone for a citizen, an e-mail or a phone for an officer.
pub(crate) async fn update_contact(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    form: Result<Form<ContactForm>, InputRejection>,
) -> Result<Response, AppError> {
    let account = match crate::guard::require(
        &state,
        &viewer,
        Action::ViewOwnAccount,
        "/tai-khoan/lien-he",
    )
    .await
    {
        Ok(a) => a,
        Err(response) => return Ok(response),
    };
    let f = form?.0;
    let clean = |s: &str| s.chars().take(300).collect::<String>().trim().to_string();
    let (phone_text, email_text, address) =
        (clean(&f.dien_thoai), clean(&f.email), clean(&f.dia_chi));
    let citizen = account.kind == motcua_domain::AccountKind::Citizen;
    let mut errors = Vec::new();
    let phone = if phone_text.is_empty() {
        if citizen {
            Err(
                "Nhập số điện thoại di động: tài khoản dùng số này để đăng nhập và nhận thông báo"
                    .to_string(),
            )
        } else {
            Ok(None)
        }
    } else {
        motcua_domain::Phone::parse(&phone_text)
            .map(Some)
            .map_err(|e| e.to_string())
    };
    if let Err(e) = &phone {
        errors.push(("dien_thoai", e.clone()));
    }
    let email = if email_text.is_empty() {
        if citizen || !phone_text.is_empty() {
            Ok(None)
        } else {
            Err("Cần thư điện tử hoặc số điện thoại để đăng nhập".to_string())
        }
    } else {
        motcua_domain::Email::parse(&email_text)
            .map(Some)
            .map_err(|e| e.to_string())
    };
    if let Err(e) = &email {
        errors.push(("email", e.clone()));
    }
    let page = |errors| ContactPage {
        layout: layout.clone(),
        phone: phone_text.clone(),
        email: email_text.clone(),
        address: address.clone(),
        phone_required: citizen,
        errors,
        saved: false,
    };
    let (Ok(phone), Ok(email), true) = (phone, email, errors.is_empty()) else {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page(errors)).into_response());
    };
    let login_changed = phone != account.phone || email != account.email;
    if login_changed
        && let Err(message) =
            check_current_password(&state, &viewer, &account, &f.mat_khau_hien_tai).await?
    {
        let errors = vec![("mat_khau_hien_tai", message)];
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page(errors)).into_response());
    }
    let address_value = Some(address.as_str()).filter(|a| !a.is_empty());
    match state
        .store
        .accounts
        .update_contact(account.id, phone.as_ref(), email.as_ref(), address_value)
        .await
    {
        Ok(()) => {}
        Err(motcua_store::StoreError::Conflict(_)) => {
            let errors = vec![(
                "dien_thoai",
                "Số điện thoại hoặc thư điện tử này đã được dùng cho một tài khoản khác"
                    .to_string(),
            )];
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page(errors)).into_response());
        }
        Err(e) => return Err(e.into()),
    }
    if login_changed {
        audit(
            &state,
            AuditKind::ContactChanged,
            Some(account.id),
            None,
            viewer.ip.clone(),
            true,
        )
        .await;
        // the address the account had is told, so a change its owner did not make is noticed
        if let Some(old) = &account.email {
            crate::accounts::password_reset::send_contact_changed(&state, &account, old).await;
        }
    }
    if email.is_some()
        && email != account.email
        && let Some(updated) = state.store.accounts.get(account.id).await?
    {
        crate::accounts::password_reset::send_verification(&state, &updated).await?;
    }
    Ok(Redirect::to("/tai-khoan/lien-he?da_luu=1").into_response())
}

/// "Tải dữ liệu của tôi": everything the portal keeps about the account, as JSON (never the password hash).
pub(crate) async fn my_data(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, AppError> {
    let account = match crate::guard::require(
        &state,
        &viewer,
        Action::ViewOwnAccount,
        "/tai-khoan/du-lieu",
    )
    .await
    {
        Ok(a) => a,
        Err(response) => return Ok(response),
    };
    let date = |d: Option<time::OffsetDateTime>| d.map(motcua_domain::vntime::format_datetime);
    let data = serde_json::json!({
        "tai_khoan": {
            "ho_ten": account.full_name.as_str(),
            "loai": account.kind.as_str(),
            "so_dinh_danh": account.personal_id.as_ref().map(|p| p.as_str()),
            "ngay_sinh": account.birth_date.map(motcua_domain::vntime::format_date),
            "dien_thoai": account.phone.as_ref().map(|p| p.as_str()),
            "email": account.email.as_ref().map(|e| e.as_str()),
            "email_da_xac_thuc_luc": date(account.email_verified_at),
            "dia_chi": account.address,
            "tao_luc": motcua_domain::vntime::format_datetime(account.created_at),
            "vai_tro": account.grants.iter().map(ToString::to_string).collect::<Vec<_>>(),
        },
        "ho_so": [],
        "ghi_chu": "Hồ sơ nộp trực tuyến sẽ có trong tệp này khi chức năng nộp hồ sơ được mở.",
    });
    let body = serde_json::to_string_pretty(&data).unwrap_or_default();
    Ok((
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"du-lieu-ca-nhan.json\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "change_password.html")]
pub(crate) struct ChangePasswordPage {
    pub layout: Layout,
    pub error: Option<(&'static str, String)>,
}

pub(crate) async fn change_password_page(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
) -> Response {
    if let Err(response) = crate::guard::require(
        &state,
        &viewer,
        Action::ViewOwnAccount,
        "/tai-khoan/mat-khau",
    )
    .await
    {
        return response;
    }
    ChangePasswordPage {
        layout,
        error: None,
    }
    .into_response()
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ChangePasswordForm {
    #[serde(default)]
    mat_khau_hien_tai: String,
    #[serde(default)]
    mat_khau_moi: String,
    #[serde(default)]
    nhap_lai_mat_khau: String,
}

/// Check the current password typed to confirm a sensitive change: a wrong one counts as a failed login from
/// this address (and may lock it), a locked one is not even checked. `Err(message)` for the field.
async fn check_current_password(
    state: &AppState,
    viewer: &Viewer,
    account: &motcua_domain::Account,
    typed: &str,
) -> Result<Result<(), String>, AppError> {
    if typed.is_empty() {
        return Ok(Err("Nhập mật khẩu hiện tại để xác nhận thay đổi".into()));
    }
    let now = OffsetDateTime::now_utc();
    let subject = confirmation_subject(account);
    let locks = match begin_attempt(state, &subject, viewer.ip_key(), now).await? {
        Attempt::Locked(until) => return Ok(Err(locked_message(until))),
        Attempt::Check { locks } => locks,
    };
    if auth::verify_password(typed.to_string(), account.password_hash.clone())
        .await
        .ok()
    {
        state
            .store
            .rate_limits
            .login_succeeded(&subject, viewer.ip_key(), now)
            .await?;
        return Ok(Ok(()));
    }
    Ok(Err(match locks {
        Some(until) => locked_message(until),
        None => "Mật khẩu hiện tại không đúng".into(),
    }))
}

/// Change the password knowing the current one; every session ends, this one included.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    form: Result<Form<ChangePasswordForm>, InputRejection>,
) -> Result<Response, AppError> {
    let account = match crate::guard::require(
        &state,
        &viewer,
        Action::ViewOwnAccount,
        "/tai-khoan/mat-khau",
    )
    .await
    {
        Ok(a) => a,
        Err(response) => return Ok(response),
    };
    let f = form?.0;
    let fail = |field: &'static str, message: String| {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            ChangePasswordPage {
                layout: layout.clone(),
                error: Some((field, message)),
            },
        )
            .into_response()
    };
    if let Err(message) =
        check_current_password(&state, &viewer, &account, &f.mat_khau_hien_tai).await?
    {
        return Ok(fail("mat_khau_hien_tai", message));
    }
    if let Err(e) = motcua_domain::check_password(&f.mat_khau_moi) {
        return Ok(fail("mat_khau_moi", e.to_string()));
    }
    if f.mat_khau_moi != f.nhap_lai_mat_khau {
        return Ok(fail(
            "nhap_lai_mat_khau",
            "Hai lần nhập mật khẩu không giống nhau".into(),
        ));
    }
    let hash = auth::hash_password(f.mat_khau_moi)
        .await
        .map_err(|e| AppError::Files(e.to_string()))?;
    state
        .store
        .accounts
        .set_password_hash(account.id, &hash)
        .await?;
    state.store.sessions.delete_for_account(account.id).await?;
    clear_locks(&state, &account).await?;
    audit(
        &state,
        AuditKind::PasswordChanged,
        Some(account.id),
        None,
        viewer.ip.clone(),
        true,
    )
    .await;
    let mut response = Redirect::to("/dang-nhap?doi_mat_khau=1").into_response();
    if let Ok(cookie) = HeaderValue::from_str(&state.sessions.clear_cookie()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}
