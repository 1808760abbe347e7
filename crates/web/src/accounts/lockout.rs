//! Failed passwords counted per login name and address, locks, and what a new password clears.

use crate::{AppError, AppState};
use motcua_domain::LoginName;
use time::OffsetDateTime;

/// Consecutive failures from one address that lock the login name there.
pub(crate) const LOCK_AFTER: u32 = 5;

/// Consecutive failures from all addresses together that lock the login name for every address it has never
/// logged in from (its owner's usual addresses keep working).
pub(crate) const LOCK_ALL_AFTER: u32 = 20;

/// 1 minute at the fifth failure, doubling with each further one, at most 64 minutes.
pub(crate) fn lock_for(failures: u32) -> time::Duration {
    time::Duration::minutes(1 << failures.saturating_sub(LOCK_AFTER).min(6))
}

/// The same back-off for the count across addresses, from its own threshold.
pub(crate) fn lock_all_for(failures: u32) -> time::Duration {
    time::Duration::minutes(1 << failures.saturating_sub(LOCK_ALL_AFTER).min(6))
}

pub(crate) fn locked_message(until: OffsetDateTime) -> String {
    format!(
        "Tài khoản đang tạm khóa đăng nhập từ thiết bị này đến {} do nhập sai mật khẩu nhiều lần. Hãy thử lại sau thời điểm đó, hoặc dùng “Quên mật khẩu” để đặt mật khẩu mới.",
        motcua_domain::vntime::format_datetime(until)
    )
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
pub(crate) fn confirmation_subject(account: &motcua_domain::Account) -> String {
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
