//! Logging in and out, and the two small endpoints behind the idle-session warning.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Json,
    extract::{Form, Query, State, rejection::FormRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use std::sync::OnceLock;
use time::OffsetDateTime;

use motcua_domain::{AuditEvent, AuditKind, LoginName, Session, SessionKey, policy::Action};

use crate::{
    AppError, AppState, auth,
    error::ErrorPage,
    layout::Layout,
    session::{Viewer, client_ip, new_token, start_of},
};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct LoginQuery {
    tiep: Option<String>,
    het_han: Option<String>,
    da_dang_xuat: Option<String>,
    doi_mat_khau: Option<String>,
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
const LOGIN_ATTEMPTS_PER_MINUTE: u32 = 20;
/// Consecutive failures that lock an account.
const LOCK_AFTER: u32 = 5;

/// 1 minute at the fifth failure, doubling with each further one, at most 64 minutes.
fn lock_for(failures: u32) -> time::Duration {
    time::Duration::minutes(1 << failures.saturating_sub(LOCK_AFTER).min(6))
}

const WRONG: &str = "Tên đăng nhập hoặc mật khẩu không đúng. Nếu nhập sai 5 lần liên tiếp, tài khoản sẽ tạm khóa trong ít phút.";

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

pub(crate) async fn login(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, AppError> {
    let ip = client_ip(&extensions, &headers);
    let now = OffsetDateTime::now_utc();
    let minute = start_of(now, time::Duration::MINUTE);
    let bucket = format!("login:ip:{}", ip.as_deref().unwrap_or("unknown"));
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
        let mut response = ErrorPage::for_status(StatusCode::TOO_MANY_REQUESTS)
            .into_response_with(StatusCode::TOO_MANY_REQUESTS);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        return Ok(response);
    }
    let form = form.map(|Form(f)| f).unwrap_or_default();
    let next = safe_next(&form.tiep);
    let page = |status: StatusCode, error: Option<String>, field_error: Option<String>| {
        let page = LoginPage {
            layout: layout.clone(),
            login: form
                .ten_dang_nhap
                .chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect(),
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
    let locked = match &account {
        Some(a) => state
            .store
            .accounts
            .locked_until(a.id)
            .await?
            .is_some_and(|until| until > now),
        None => false,
    };
    // a locked account is not even checked; the answer does not say whether the account exists
    let hash = match &account {
        Some(a) if !locked => a.password_hash.clone(),
        _ => dummy_hash().await.to_string(),
    };
    let matches = auth::verify_password(form.mat_khau.clone(), hash).await && !locked;
    let Some(account) = account.clone().filter(|a| matches && !a.disabled) else {
        let actor = account.as_ref().map(|a| a.id);
        audit(
            &state,
            AuditKind::LoginFailed,
            actor,
            Some(masked(&name)),
            ip.clone(),
            false,
        )
        .await;
        if let Some(a) = &account
            && !locked
        {
            let (_, until) = state
                .store
                .accounts
                .record_login_failure(a.id, now, LOCK_AFTER, lock_for)
                .await?;
            if until.is_some() {
                audit(
                    &state,
                    AuditKind::LockedOut,
                    Some(a.id),
                    Some(masked(&name)),
                    ip,
                    false,
                )
                .await;
            }
        }
        return Ok(page(StatusCode::UNAUTHORIZED, Some(WRONG.into()), None));
    };
    state
        .store
        .accounts
        .clear_login_failures(account.id)
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
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    form: Result<Form<LogoutForm>, FormRejection>,
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
            client_ip(&extensions, &headers),
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
    extensions: axum::http::Extensions,
    headers: HeaderMap,
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
        client_ip(&extensions, &headers),
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
}

/// The security audit trail, newest first (administrators).
pub(crate) async fn security_audit(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
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
    let events = state.store.audit.recent(200).await?;
    let mut names: std::collections::HashMap<motcua_domain::AccountId, String> =
        std::collections::HashMap::new();
    let mut rows = Vec::with_capacity(events.len());
    for e in events {
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
    Ok(SecurityAuditPage { layout, rows }.into_response())
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ContactForm {
    #[serde(default)]
    dien_thoai: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    dia_chi: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "contact.html")]
pub(crate) struct ContactPage {
    pub layout: Layout,
    pub phone: String,
    pub email: String,
    pub address: String,
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

/// Update phone, e-mail and address; a new e-mail gets a verification link.
pub(crate) async fn update_contact(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    form: Result<Form<ContactForm>, FormRejection>,
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
    let f = form.map(|Form(f)| f).unwrap_or_default();
    let clean = |s: &str| {
        s.chars()
            .filter(|c| !c.is_control())
            .take(300)
            .collect::<String>()
            .trim()
            .to_string()
    };
    let (phone_text, email_text, address) =
        (clean(&f.dien_thoai), clean(&f.email), clean(&f.dia_chi));
    let mut errors = Vec::new();
    let phone = if phone_text.is_empty() {
        Ok(None)
    } else {
        motcua_domain::Phone::parse(&phone_text).map(Some)
    };
    if let Err(e) = &phone {
        errors.push(("dien_thoai", e.to_string()));
    }
    let email = if email_text.is_empty() {
        Ok(None)
    } else {
        motcua_domain::Email::parse(&email_text).map(Some)
    };
    if let Err(e) = &email {
        errors.push(("email", e.to_string()));
    }
    if let (Ok(None), Ok(None)) = (&phone, &email)
        && account.personal_id.is_none()
    {
        errors.push((
            "dien_thoai",
            "Cần ít nhất số điện thoại hoặc thư điện tử để đăng nhập".into(),
        ));
    }
    let page = |errors| ContactPage {
        layout: layout.clone(),
        phone: phone_text.clone(),
        email: email_text.clone(),
        address: address.clone(),
        errors,
        saved: false,
    };
    let (Ok(phone), Ok(email), true) = (phone, email, errors.is_empty()) else {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page(errors)).into_response());
    };
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
    if email.is_some()
        && email != account.email
        && let Some(updated) = state.store.accounts.get(account.id).await?
    {
        crate::password_reset::send_verification(&state, &updated).await?;
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

/// Change the password knowing the current one; every session ends, this one included.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    form: Result<Form<ChangePasswordForm>, FormRejection>,
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
    let f = form.map(|Form(f)| f).unwrap_or_default();
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
    if !auth::verify_password(f.mat_khau_hien_tai.clone(), account.password_hash.clone()).await {
        let now = OffsetDateTime::now_utc();
        state
            .store
            .accounts
            .record_login_failure(account.id, now, LOCK_AFTER, lock_for)
            .await?;
        return Ok(fail(
            "mat_khau_hien_tai",
            "Mật khẩu hiện tại không đúng".into(),
        ));
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
    audit(
        &state,
        AuditKind::PasswordChanged,
        Some(account.id),
        None,
        None,
        true,
    )
    .await;
    let mut response = Redirect::to("/dang-nhap?doi_mat_khau=1").into_response();
    if let Ok(cookie) = HeaderValue::from_str(&state.sessions.clear_cookie()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}
