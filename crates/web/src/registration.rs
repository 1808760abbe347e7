//! Citizen registration: one form, every field checked on the server with a specific Vietnamese message, an
//! error summary linked to each field, and everything typed kept (never the password).

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Form, State, rejection::FormRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use time::{Date, Duration, OffsetDateTime, macros::format_description};

use motcua_domain::{
    Account, AccountId, AccountKind, AuditEvent, AuditKind, Email, LoginName, NonEmptyText,
    PersonalId, Phone, Session, SessionKey, check_password, vntime,
};

use crate::{AppError, AppState, auth, layout::Layout, session::new_token};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RegistrationForm {
    #[serde(default)]
    ho_ten: String,
    #[serde(default)]
    so_dinh_danh: String,
    #[serde(default)]
    ngay_sinh: String,
    #[serde(default)]
    dien_thoai: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    dia_chi: String,
    #[serde(default)]
    mat_khau: String,
    #[serde(default)]
    nhap_lai_mat_khau: String,
}

/// A field's error, for the summary (linked by id) and next to the field.
pub(crate) struct FieldError {
    pub field: &'static str,
    pub message: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "register.html")]
pub(crate) struct RegisterPage {
    pub layout: Layout,
    pub form: RegistrationValues,
    pub errors: Vec<FieldError>,
}

impl RegisterPage {
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

/// What the citizen typed, to put back in the form.
#[derive(Default)]
pub(crate) struct RegistrationValues {
    pub ho_ten: String,
    pub so_dinh_danh: String,
    pub ngay_sinh: String,
    pub dien_thoai: String,
    pub email: String,
    pub dia_chi: String,
}

fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .take(300)
        .collect::<String>()
        .trim()
        .to_string()
}

pub(crate) async fn page(layout: Layout) -> RegisterPage {
    RegisterPage {
        layout,
        form: RegistrationValues::default(),
        errors: Vec::new(),
    }
}

/// `dd/mm/yyyy` (the Vietnamese way) or `yyyy-mm-dd` (what a date input sends).
fn parse_birth_date(input: &str, today: Date) -> Result<Date, String> {
    let d = Date::parse(input, format_description!("[day]/[month]/[year]"))
        .or_else(|_| Date::parse(input, format_description!("[year]-[month]-[day]")))
        .map_err(|_| "Ngày sinh phải có dạng ngày/tháng/năm, ví dụ 17/05/1990".to_string())?;
    if d > today {
        return Err("Ngày sinh không thể sau hôm nay".into());
    }
    if today.year() - d.year() > 130 {
        return Err("Ngày sinh không hợp lệ".into());
    }
    Ok(d)
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    layout: Layout,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    form: Result<Form<RegistrationForm>, FormRejection>,
) -> Result<Response, AppError> {
    let f = form.map(|Form(f)| f).unwrap_or_default();
    let values = RegistrationValues {
        ho_ten: clean(&f.ho_ten),
        so_dinh_danh: clean(&f.so_dinh_danh),
        ngay_sinh: clean(&f.ngay_sinh),
        dien_thoai: clean(&f.dien_thoai),
        email: clean(&f.email),
        dia_chi: clean(&f.dia_chi),
    };
    let now = OffsetDateTime::now_utc();
    // registrations per address and hour, kept in the database like the login limit
    let hour = crate::session::start_of(now, Duration::HOUR);
    let ip = crate::session::client_ip(&extensions, &headers).unwrap_or_else(|| "unknown".into());
    if state
        .store
        .rate_limits
        .hit(&format!("register:ip:{ip}"), hour)
        .await?
        > 10
    {
        let mut response = crate::error::ErrorPage::for_status(StatusCode::TOO_MANY_REQUESTS)
            .into_response_with(StatusCode::TOO_MANY_REQUESTS);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("3600"));
        return Ok(response);
    }

    let mut errors = Vec::new();
    let mut err = |field: &'static str, message: String| errors.push(FieldError { field, message });
    let name = NonEmptyText::parse_named(&values.ho_ten, "Họ và tên").map_err(|e| e.to_string());
    if let Err(e) = &name {
        err("ho_ten", e.clone());
    }
    let personal_id = PersonalId::parse(&values.so_dinh_danh).map_err(|e| e.to_string());
    if let Err(e) = &personal_id {
        err("so_dinh_danh", e.clone());
    }
    let birth = parse_birth_date(&values.ngay_sinh, vntime::vn_date(now));
    if let Err(e) = &birth {
        err("ngay_sinh", e.clone());
    }
    let phone = Phone::parse(&values.dien_thoai).map_err(|e| e.to_string());
    if let Err(e) = &phone {
        err("dien_thoai", e.clone());
    }
    let email = if values.email.is_empty() {
        Ok(None)
    } else {
        Email::parse(&values.email)
            .map(Some)
            .map_err(|e| e.to_string())
    };
    if let Err(e) = &email {
        err("email", e.clone());
    }
    if let Err(e) = check_password(&f.mat_khau) {
        err("mat_khau", e.to_string());
    } else if f.mat_khau != f.nhap_lai_mat_khau {
        err(
            "nhap_lai_mat_khau",
            "Hai lần nhập mật khẩu không giống nhau".into(),
        );
    }
    // taken login names: said per field, as the citizen must know which one to change
    if let Ok(id) = &personal_id
        && state
            .store
            .accounts
            .find_by_login(&LoginName::PersonalId(id.clone()))
            .await?
            .is_some()
    {
        err("so_dinh_danh", "Số định danh cá nhân này đã có tài khoản. Hãy đăng nhập, hoặc liên hệ bộ phận một cửa nếu không phải bạn đăng ký.".into());
    }
    if let Ok(p) = &phone
        && state
            .store
            .accounts
            .find_by_login(&LoginName::Phone(p.clone()))
            .await?
            .is_some()
    {
        err(
            "dien_thoai",
            "Số điện thoại này đã được dùng cho một tài khoản khác".into(),
        );
    }
    if let Ok(Some(e)) = &email
        && state
            .store
            .accounts
            .find_by_login(&LoginName::Email(e.clone()))
            .await?
            .is_some()
    {
        err(
            "email",
            "Địa chỉ thư điện tử này đã được dùng cho một tài khoản khác".into(),
        );
    }

    let (Ok(name), Ok(personal_id), Ok(birth), Ok(phone), Ok(email), true) =
        (name, personal_id, birth, phone, email, errors.is_empty())
    else {
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            RegisterPage {
                layout,
                form: values,
                errors,
            },
        )
            .into_response());
    };
    let account = Account {
        id: AccountId::new(),
        kind: AccountKind::Citizen,
        full_name: name,
        personal_id: Some(personal_id),
        birth_date: Some(birth),
        phone: Some(phone),
        email,
        address: Some(values.dia_chi.clone()).filter(|a| !a.is_empty()),
        password_hash: auth::hash_password(f.mat_khau.clone())
            .await
            .map_err(|e| AppError::Files(e.to_string()))?,
        email_verified_at: None,
        disabled: false,
        created_at: now,
        grants: vec![],
    };
    if let Err(e) = state.store.accounts.create(&account).await {
        return match e {
            // a twin registration won the race between our check and the insert
            motcua_store::StoreError::Conflict(_) => {
                let errors = vec![FieldError { field: "so_dinh_danh", message: "Thông tin này vừa được dùng để đăng ký một tài khoản khác. Hãy thử đăng nhập.".into() }];
                Ok((
                    StatusCode::UNPROCESSABLE_ENTITY,
                    RegisterPage {
                        layout,
                        form: values,
                        errors,
                    },
                )
                    .into_response())
            }
            other => Err(other.into()),
        };
    }
    let _ = state
        .store
        .audit
        .record(&AuditEvent {
            id: uuid::Uuid::now_v7(),
            at: now,
            kind: AuditKind::AccountCreated,
            actor: Some(account.id),
            subject: account.personal_id.as_ref().map(|p| p.masked()),
            ip: Some(ip),
            success: true,
        })
        .await;
    crate::password_reset::send_verification(&state, &account).await?;
    // logged in straight away
    let token = new_token();
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
    let mut response = Redirect::to("/tai-khoan?moi=1").into_response();
    if let Ok(cookie) = HeaderValue::from_str(&state.sessions.cookie(&token)) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::parse_birth_date;
    use time::macros::date;

    #[test]
    fn birth_dates_in_vietnamese_or_iso_form() {
        let today = date!(2026 - 11 - 28);
        assert_eq!(
            parse_birth_date("17/05/1990", today),
            Ok(date!(1990 - 05 - 17))
        );
        assert_eq!(
            parse_birth_date("1990-05-17", today),
            Ok(date!(1990 - 05 - 17))
        );
        assert!(parse_birth_date("31/02/1990", today).is_err());
        assert!(
            parse_birth_date("01/01/2030", today)
                .unwrap_err()
                .contains("sau hôm nay")
        );
        assert!(
            parse_birth_date("", today)
                .unwrap_err()
                .contains("ngày/tháng/năm")
        );
    }
}
