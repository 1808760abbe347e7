//! "Tài khoản của tôi": the account page, contact details, one's own data, changing the password, logging out
//! everywhere.

use crate::accounts::lockout::{
    Attempt, begin_attempt, clear_locks, confirmation_subject, locked_message,
};
use crate::audit;
use crate::input::{Form, InputRejection, Query};
use crate::{AppError, AppState, auth, layout::Layout, viewer::Viewer};
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use motcua_domain::{AuditKind, policy::Action};
use serde::Deserialize;
use time::OffsetDateTime;

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
    // personal tokens end with the sessions: whoever held the account cannot keep a key to it
    state
        .store
        .personal_tokens
        .revoke_all_personal_tokens(account.id, time::OffsetDateTime::now_utc())
        .await?;
    audit::record(
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
        audit::record(
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
            crate::accounts::mail::send_contact_changed(&state, &account, old).await;
        }
    }
    if email.is_some()
        && email != account.email
        && let Some(updated) = state.store.accounts.get(account.id).await?
    {
        crate::accounts::mail::send_verification(&state, &updated, "/").await?;
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
    // personal tokens end before the new password takes effect: whoever held the account cannot keep a key to it
    // (a failure here leaves the old password and the tokens as they were, never a new password with old tokens)
    state
        .store
        .personal_tokens
        .revoke_all_personal_tokens(account.id, time::OffsetDateTime::now_utc())
        .await?;
    state
        .store
        .accounts
        .set_password_hash(account.id, &hash)
        .await?;
    state.store.sessions.delete_for_account(account.id).await?;
    clear_locks(&state, &account).await?;
    audit::record(
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
