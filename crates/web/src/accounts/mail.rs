//! The e-mails an account is sent about itself: verifying an address, a change of its login details.

use crate::{AppError, AppState, session::new_token, urls};
use motcua_domain::{SessionKey, TokenPurpose};
use motcua_notify::Message;
use time::{Duration, OffsetDateTime};

const VERIFY_VALID: Duration = Duration::hours(48);

/// Tell an account's former (or current) e-mail address that its phone or e-mail was changed.
pub(crate) async fn send_contact_changed(
    state: &AppState,
    account: &motcua_domain::Account,
    to: &motcua_domain::Email,
) {
    let message = Message {
        to: to.as_str().to_string(),
        subject: format!("{}: thông tin đăng nhập đã thay đổi", state.site.name),
        body: format!(
            "Xin chào {},\n\nSố điện thoại hoặc địa chỉ thư điện tử của tài khoản của bạn vừa được thay đổi lúc {}. \
             Nếu không phải bạn thay đổi, hãy đặt lại mật khẩu ngay và liên hệ bộ phận một cửa.\n\n{}",
            account.full_name,
            motcua_domain::vntime::format_datetime(OffsetDateTime::now_utc()),
            state.site.name
        ),
    };
    if let Err(e) = state.mailer.send(&message).await {
        tracing::error!(error = %e, "contact change notice not sent");
    }
}

/// A new one-time link (kept by the hash of its token) to `path`, built from `public_url`, never from a request.
pub(crate) async fn one_time_link(
    state: &AppState,
    account: motcua_domain::AccountId,
    purpose: TokenPurpose,
    expires_at: OffsetDateTime,
    path: &str,
) -> Result<String, AppError> {
    let token = new_token();
    state
        .store
        .accounts
        .create_token(&SessionKey::of_token(&token), account, purpose, expires_at)
        .await?;
    Ok(format!(
        "{}{}",
        state.site.public_url.trim_end_matches('/'),
        urls::with_query(path, &[("ma", token)])
    ))
}

/// Send the e-mail verification link for a new account; the link carries where the citizen was going (`next`,
/// `/` for nowhere in particular), and the page it opens offers to go on there.
pub(crate) async fn send_verification(
    state: &AppState,
    account: &motcua_domain::Account,
    next: &str,
) -> Result<(), AppError> {
    let Some(email) = &account.email else {
        return Ok(());
    };
    let link = one_time_link(
        state,
        account.id,
        TokenPurpose::EmailVerification,
        OffsetDateTime::now_utc() + VERIFY_VALID,
        "/xac-thuc-email",
    )
    .await?;
    let link = if next == "/" {
        link
    } else {
        let tiep = form_urlencoded::Serializer::new(String::new())
            .append_pair("tiep", next)
            .finish();
        format!("{link}&{tiep}")
    };
    let message = Message {
        to: email.as_str().to_string(),
        subject: format!("{}: xác thực địa chỉ thư điện tử", state.site.name),
        body: format!(
            "Xin chào {},\n\nĐể xác nhận đây là địa chỉ thư điện tử của bạn, mở liên kết sau (trong 48 giờ):\n\n{link}\n\n{}",
            account.full_name, state.site.name
        ),
    };
    if let Err(e) = state.mailer.send(&message).await {
        tracing::error!(error = %e, "verification e-mail not sent");
    }
    Ok(())
}
