//! Logging in and out, and the two small endpoints behind the idle-session warning.

use crate::accounts::lockout::{Attempt, begin_attempt, locked_message, login_subject};
use crate::audit;
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

use motcua_domain::{AuditKind, LoginName, Session, SessionKey};

use crate::{
    AppError, AppState, auth,
    layout::Layout,
    session::{new_token, start_of},
    viewer::Viewer,
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
    /// Why a login is asked for, when a page sent the visitor here.
    pub reason: Option<&'static str>,
    /// Registration, keeping where the visitor was going.
    pub register_href: String,
}

/// The page to come back to after an idle logout: the page itself, or — when it was the answer to a form sent to a
/// dossier's action address (which only takes a form) — the dossier's page.
fn page_to_return_to(path: &str) -> String {
    const ACTIONS: &[&str] = &[
        "chuyen",
        "xin-loi",
        "nop-phi",
        "buu-chinh",
        "hoan-tien",
        "buoc",
        "ket-qua",
        "bo-sung",
        "gui-bo-sung",
        "thanh-toan",
        "danh-gia",
    ];
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["", "can-bo", "ho-so", code, action] if ACTIONS.contains(action) => {
            format!("/can-bo/ho-so/{code}")
        }
        ["", "ho-so", code, action] if ACTIONS.contains(action) => format!("/ho-so/{code}"),
        _ => path.to_string(),
    }
}

/// Where an account lands after logging in when no page sent it.
fn landing(state: &AppState, account: &motcua_domain::Account) -> &'static str {
    use motcua_domain::policy::{Action, works_at_a_desk};
    if works_at_a_desk(account) {
        "/can-bo"
    } else if account.kind == motcua_domain::AccountKind::Officer
        && crate::guard::allows(&state.catalogue, account, Action::WriteArticles)
    {
        "/bien-tap"
    } else if account.kind == motcua_domain::AccountKind::Officer
        && crate::guard::allows(&state.catalogue, account, Action::EditContent)
    {
        "/quan-tri/thu-tuc"
    } else {
        "/"
    }
}

/// Why the login page is shown, for a visitor sent from `next`.
fn reason_for(next: &str) -> Option<&'static str> {
    if next.starts_with("/nop-ho-so") {
        Some(
            "Đăng nhập hoặc đăng ký để nộp hồ sơ trực tuyến. Sau khi đăng nhập, bạn trở lại đúng thủ tục đang chọn.",
        )
    } else if next != "/" {
        Some("Trang bạn vừa mở cần đăng nhập. Sau khi đăng nhập, bạn trở lại trang đó.")
    } else {
        None
    }
}

/// The registration page's address, carrying where the visitor was going.
pub(crate) fn register_href(next: &str) -> String {
    carrying("/dang-ky", &[], next)
}

/// `path` with its query `pairs`, and `tiep` when the visitor was going somewhere in particular (not `/`).
pub(crate) fn carrying(path: &str, pairs: &[(&str, &str)], next: &str) -> String {
    let mut query: Vec<(&str, String)> = pairs.iter().map(|(k, v)| (*k, v.to_string())).collect();
    if next != "/" {
        query.push(("tiep", next.to_string()));
    }
    if query.is_empty() {
        path.to_string()
    } else {
        crate::urls::with_query(path, &query)
    }
}

/// Only a path on this site: no scheme, no `//host`, no backslashes or control characters.
pub(crate) fn safe_next(next: &str) -> String {
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
    let next = safe_next(q.tiep.as_deref().unwrap_or("/"));
    LoginPage {
        layout,
        login: String::new(),
        reason: notice.is_none().then(|| reason_for(&next)).flatten(),
        register_href: register_href(&next),
        next,
        error: None,
        field_error: None,
        notice,
    }
    .into_response()
}

/// Requests the rate limiter lets through per address and minute.
pub(crate) const LOGIN_ATTEMPTS_PER_MINUTE: u32 = 20;
const WRONG: &str = "Tên đăng nhập hoặc mật khẩu không đúng. Nếu nhập sai 5 lần liên tiếp, việc đăng nhập từ thiết bị này sẽ tạm khóa trong ít phút.";

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
    form: Result<Form<LoginForm>, InputRejection>,
) -> Result<Response, AppError> {
    let ip = viewer.ip.clone();
    let now = OffsetDateTime::now_utc();
    let minute = start_of(now, time::Duration::MINUTE);
    let bucket = format!("login:ip:{}", viewer.ip_key());
    if state.store.rate_limits.hit(&bucket, minute).await? > LOGIN_ATTEMPTS_PER_MINUTE {
        audit::record(
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
            reason: reason_for(&next),
            register_href: register_href(&next),
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
            audit::record(
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
        audit::record(
            &state,
            AuditKind::LoginFailed,
            account.as_ref().map(|a| a.id),
            Some(masked(&name)),
            ip.clone(),
            false,
        )
        .await;
        if let Some(until) = locks {
            audit::record(
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
    audit::record(
        &state,
        AuditKind::LoginSucceeded,
        Some(account.id),
        Some(masked(&name)),
        ip,
        true,
    )
    .await;
    // sent nowhere in particular: officers land on their work, editors on the catalogue, citizens on the portal
    let next = if next == "/" {
        landing(&state, &account).to_string()
    } else {
        next
    };
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
    /// The page the idle warning logged out from: logging in again returns there.
    #[serde(default)]
    tiep: String,
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    viewer: Viewer,
    form: Result<Form<LogoutForm>, InputRejection>,
) -> Result<Response, AppError> {
    let form = form.map(|Form(f)| f).unwrap_or_default();
    let timed_out = form.ly_do == "het-han";
    let back = page_to_return_to(&safe_next(&form.tiep));
    if let (Some(key), Some(account)) = (&viewer.session, &viewer.account) {
        state.store.sessions.delete(key).await?;
        let kind = if timed_out {
            AuditKind::SessionExpired
        } else {
            AuditKind::LoggedOut
        };
        audit::record(
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
        carrying("/dang-nhap", &[("het_han", "1")], &back)
    } else {
        "/dang-nhap?da_dang_xuat=1".to_string()
    };
    let mut response = Redirect::to(&target).into_response();
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
