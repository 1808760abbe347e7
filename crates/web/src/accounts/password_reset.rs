//! "Quên mật khẩu" and e-mail verification: one-time links sent by e-mail, expiring and single-use. The answer
//! to a reset request is the same whether the account exists or not.

use crate::audit;
use crate::input::{Form, InputRejection, Query};
use crate::layout::MessagePage;
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use time::{Duration, OffsetDateTime};

use motcua_domain::{AuditKind, LoginName, SessionKey, TokenPurpose, check_password};
use motcua_notify::Message;

use crate::{AppError, AppState, auth, layout::Layout};

const RESET_VALID: Duration = Duration::minutes(30);
#[derive(Template, WebTemplate)]
#[template(path = "forgot.html")]
pub(crate) struct ForgotPage {
    pub layout: Layout,
    pub login: String,
    pub error: Option<String>,
    pub sent: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "reset.html")]
pub(crate) struct ResetPage {
    pub layout: Layout,
    pub token: String,
    pub error: Option<String>,
}

fn link_gone(layout: Layout) -> Response {
    let page = MessagePage {
        layout,
        title: "Liên kết không còn dùng được".into(),
        message: "Liên kết này đã hết hạn hoặc đã được dùng. Vì an toàn, mỗi liên kết chỉ dùng được một lần và trong thời gian ngắn. Hãy yêu cầu một liên kết mới.".into(),
        link: ("/quen-mat-khau".into(), "Yêu cầu liên kết mới".into()),
    };
    (StatusCode::GONE, page).into_response()
}

pub(crate) async fn forgot_page(layout: Layout) -> ForgotPage {
    ForgotPage {
        layout,
        login: String::new(),
        error: None,
        sent: false,
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ForgotForm {
    #[serde(default)]
    ten_dang_nhap: String,
}

/// Reset requests an address may make per hour.
pub(crate) const RESETS_PER_ADDRESS_HOUR: u32 = 10;
/// Reset e-mails one account may be sent per hour, whoever asks.
pub(crate) const RESET_MAILS_PER_ACCOUNT_HOUR: u32 = 3;

/// "Quên mật khẩu": the same answer, after the same work, whether or not the account exists. The request is
/// checked and counted here; looking the account up and mailing it happens after the answer, so its time says
/// nothing either.
pub(crate) async fn forgot(
    State(state): State<AppState>,
    layout: Layout,
    viewer: crate::viewer::Viewer,
    form: Result<Form<ForgotForm>, InputRejection>,
) -> Result<Response, AppError> {
    let form = form?.0;
    let login: String = form.ten_dang_nhap.chars().take(200).collect();
    let name = match LoginName::parse(&login) {
        Ok(name) => name,
        Err(e) => {
            let page = ForgotPage {
                layout,
                login,
                error: Some(e.to_string()),
                sent: false,
            };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let now = OffsetDateTime::now_utc();
    let hour = crate::session::start_of(now, Duration::HOUR);
    if state
        .store
        .rate_limits
        .hit(&format!("reset:ip:{}", viewer.ip_key()), hour)
        .await?
        > RESETS_PER_ADDRESS_HOUR
    {
        return Ok(crate::error::too_many(3600));
    }
    let task_state = state.clone();
    let ip = viewer.ip.clone();
    state.background.spawn(async move {
        if let Err(e) = send_reset_link(&task_state, &name, ip, now).await {
            tracing::error!(error = %e, "password reset not sent");
        }
    });
    // the same page whether or not an account (with a verified e-mail) exists
    Ok(ForgotPage {
        layout,
        login,
        error: None,
        sent: true,
    }
    .into_response())
}

/// Mail a reset link to the account named, if it exists, is enabled and has a verified e-mail, at most
/// [`RESET_MAILS_PER_ACCOUNT_HOUR`] an hour.
async fn send_reset_link(
    state: &AppState,
    name: &LoginName,
    ip: Option<String>,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    let Some(account) = state.store.accounts.find_by_login(name).await? else {
        return Ok(());
    };
    // recovery goes only to an address the owner has proved is theirs
    let (Some(email), Some(_), false) =
        (&account.email, account.email_verified_at, account.disabled)
    else {
        return Ok(());
    };
    let hour = crate::session::start_of(now, Duration::HOUR);
    if state
        .store
        .rate_limits
        .hit(&format!("reset:account:{}", account.id), hour)
        .await?
        > RESET_MAILS_PER_ACCOUNT_HOUR
    {
        return Ok(());
    }
    let link = crate::accounts::mail::one_time_link(
        state,
        account.id,
        TokenPurpose::PasswordReset,
        now + RESET_VALID,
        "/dat-lai-mat-khau",
    )
    .await?;
    let message = Message {
        to: email.as_str().to_string(),
        subject: format!("{}: đặt lại mật khẩu", state.site.name),
        body: format!(
            "Xin chào {},\n\nCó yêu cầu đặt lại mật khẩu cho tài khoản của bạn. Để đặt mật khẩu mới, mở liên kết sau \
             (dùng được một lần, trong 30 phút):\n\n{link}\n\nNếu không phải bạn yêu cầu, hãy bỏ qua thư này; mật khẩu \
             của bạn không thay đổi.\n\n{}",
            account.full_name, state.site.name
        ),
    };
    if let Err(e) = state.mailer.send(&message).await {
        tracing::error!(error = %e, "password reset e-mail not sent");
    }
    audit::record(
        state,
        AuditKind::PasswordResetRequested,
        Some(account.id),
        None,
        ip,
        true,
    )
    .await;
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct TokenQuery {
    #[serde(default)]
    ma: String,
    /// Where the citizen was going when they registered (the e-mail verification link carries it).
    #[serde(default)]
    tiep: String,
}

fn well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

pub(crate) async fn reset_page(
    State(state): State<AppState>,
    layout: Layout,
    q: Result<Query<TokenQuery>, InputRejection>,
) -> Result<Response, AppError> {
    let token = q.map(|Query(q)| q.ma).unwrap_or_default();
    let usable = well_formed(&token)
        && state
            .store
            .accounts
            .token_usable(
                &SessionKey::of_token(&token),
                TokenPurpose::PasswordReset,
                OffsetDateTime::now_utc(),
            )
            .await?;
    if !usable {
        return Ok(link_gone(layout));
    }
    Ok(ResetPage {
        layout,
        token,
        error: None,
    }
    .into_response())
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ResetForm {
    #[serde(default)]
    ma: String,
    #[serde(default)]
    mat_khau: String,
    #[serde(default)]
    nhap_lai_mat_khau: String,
}

pub(crate) async fn reset(
    State(state): State<AppState>,
    layout: Layout,
    viewer: crate::viewer::Viewer,
    form: Result<Form<ResetForm>, InputRejection>,
) -> Result<Response, AppError> {
    let form = form?.0;
    if !well_formed(&form.ma) {
        return Ok(link_gone(layout));
    }
    // check the new password before using up the link, so a typo does not cost the citizen a new e-mail
    let problem = match check_password(&form.mat_khau) {
        Err(e) => Some(e.to_string()),
        Ok(()) if form.mat_khau != form.nhap_lai_mat_khau => {
            Some("Hai lần nhập mật khẩu không giống nhau".to_string())
        }
        Ok(()) => None,
    };
    if let Some(error) = problem {
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            ResetPage {
                layout,
                token: form.ma,
                error: Some(error),
            },
        )
            .into_response());
    }
    let key = SessionKey::of_token(&form.ma);
    let Some(account) = state
        .store
        .accounts
        .consume_token(&key, TokenPurpose::PasswordReset, OffsetDateTime::now_utc())
        .await?
    else {
        return Ok(link_gone(layout));
    };
    let hash = auth::hash_password(form.mat_khau)
        .await
        .map_err(|e| AppError::Files(e.to_string()))?;
    // personal tokens end before the new password takes effect: whoever held the account cannot keep a key to it
    state
        .store
        .personal_tokens
        .revoke_all_personal_tokens(account, time::OffsetDateTime::now_utc())
        .await?;
    state
        .store
        .accounts
        .set_password_hash(account, &hash)
        .await?;
    if let Some(holder) = state.store.accounts.get(account).await? {
        crate::accounts::lockout::clear_locks(&state, &holder).await?;
    }
    // whoever knew the old password is logged out everywhere
    state.store.sessions.delete_for_account(account).await?;
    audit::record(
        &state,
        AuditKind::PasswordChanged,
        Some(account),
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

pub(crate) async fn verify_email(
    State(state): State<AppState>,
    layout: Layout,
    q: Result<Query<TokenQuery>, InputRejection>,
) -> Result<Response, AppError> {
    let (token, next) = q
        .map(|Query(q)| (q.ma, crate::accounts::login::safe_next(&q.tiep)))
        .unwrap_or_default();
    let now = OffsetDateTime::now_utc();
    let account = if well_formed(&token) {
        state
            .store
            .accounts
            .consume_token(
                &SessionKey::of_token(&token),
                TokenPurpose::EmailVerification,
                now,
            )
            .await?
    } else {
        None
    };
    let Some(account) = account else {
        let page = MessagePage {
            layout,
            title: "Liên kết không còn dùng được".into(),
            message: "Liên kết xác thực đã hết hạn hoặc đã được dùng.".into(),
            link: ("/tai-khoan".into(), "Về trang tài khoản".into()),
        };
        return Ok((StatusCode::GONE, page).into_response());
    };
    state
        .store
        .accounts
        .mark_email_verified(account, now)
        .await?;
    // on to where the citizen was going when they registered (the login wall asks them in first if need be)
    let link = match next.as_str() {
        "" | "/" => ("/tai-khoan".into(), "Về trang tài khoản".into()),
        going if going.starts_with("/nop-ho-so/") => {
            (going.to_string(), "Tiếp tục nộp hồ sơ".into())
        }
        going => (going.to_string(), "Tiếp tục".into()),
    };
    Ok(MessagePage {
        layout,
        title: "Đã xác thực địa chỉ thư điện tử".into(),
        message: "Cảm ơn bạn. Thông báo về hồ sơ sẽ được gửi tới địa chỉ này.".into(),
        link,
    }
    .into_response())
}
