//! Citizen registration: one form, every field checked on the server with a specific Vietnamese message, an
//! error summary linked to each field, and everything typed kept (never the password).

use crate::audit;
use crate::input::{Form, InputRejection};
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use time::{Date, Duration, OffsetDateTime, macros::format_description};

use motcua_domain::{
    Account, AccountId, AccountKind, AuditKind, Email, LoginName, PersonalId, Phone,
    check_password, vntime,
};

use crate::{AppError, AppState, auth, layout::Layout};

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
    /// Where the citizen was going when asked to log in (kept through registration and login).
    #[serde(default)]
    tiep: String,
    /// Consent to the processing of personal data (Decree 13/2023/NĐ-CP), given by ticking the box.
    #[serde(default)]
    dong_y: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RegisterQuery {
    tiep: Option<String>,
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
    /// Where to go after registering and logging in (a path on this site; `/` when nowhere in particular).
    pub next: String,
}

impl RegisterPage {
    /// The login page's address, carrying where the citizen was going.
    pub fn login_href(&self) -> String {
        crate::accounts::login::carrying("/dang-nhap", &[], &self.next)
    }

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
    pub dong_y: bool,
}

fn clean(s: &str) -> String {
    s.chars().take(400).collect::<String>().trim().to_string()
}

pub(crate) async fn page(
    layout: Layout,
    crate::input::Query(q): crate::input::Query<RegisterQuery>,
) -> RegisterPage {
    RegisterPage {
        layout,
        form: RegistrationValues::default(),
        errors: Vec::new(),
        next: crate::accounts::login::safe_next(q.tiep.as_deref().unwrap_or("/")),
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

/// Registrations an address may make per hour.
pub(crate) const REGISTRATIONS_PER_ADDRESS_HOUR: u32 = 10;
/// Notices one account may be sent per hour about registrations that used its details.
const TAKEN_NOTICES_PER_ACCOUNT_HOUR: u32 = 3;

/// The page after a registration: the same whether an account was created or the details already had one, so
/// the answer never tells anyone which identity numbers, phones or e-mails have accounts (the owner of details
/// already registered is told by e-mail instead). It carries where the citizen was going, so that logging in takes
/// them there.
fn registered(next: &str) -> String {
    crate::accounts::login::carrying("/dang-nhap", &[("da_dang_ky", "1")], next)
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    layout: Layout,
    viewer: crate::viewer::Viewer,
    form: Result<Form<RegistrationForm>, InputRejection>,
) -> Result<Response, AppError> {
    let f = form?.0;
    let next = crate::accounts::login::safe_next(&f.tiep);
    let values = RegistrationValues {
        ho_ten: clean(&f.ho_ten),
        so_dinh_danh: clean(&f.so_dinh_danh),
        ngay_sinh: clean(&f.ngay_sinh),
        dien_thoai: clean(&f.dien_thoai),
        email: clean(&f.email),
        dia_chi: clean(&f.dia_chi),
        dong_y: f.dong_y.as_deref() == Some("co"),
    };
    let now = OffsetDateTime::now_utc();
    // registrations per address and hour, kept in the database like the login limit
    let hour = crate::session::start_of(now, Duration::HOUR);
    if state
        .store
        .rate_limits
        .hit(&format!("register:ip:{}", viewer.ip_key()), hour)
        .await?
        > REGISTRATIONS_PER_ADDRESS_HOUR
    {
        return Ok(crate::error::too_many(3600));
    }

    let mut errors = Vec::new();
    let mut err = |field: &'static str, message: String| errors.push(FieldError { field, message });
    let name =
        motcua_domain::text::person_name(&values.ho_ten, "Họ và tên").map_err(|e| e.to_string());
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
    if values.dia_chi.chars().count() > 300 {
        err("dia_chi", "Nơi cư trú quá dài (tối đa 300 ký tự)".into());
    }
    if f.dong_y.as_deref() != Some("co") {
        err(
            "dong_y",
            "Đánh dấu đồng ý để cơ quan được xử lý dữ liệu cá nhân của bạn khi giải quyết thủ tục"
                .into(),
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
                next,
            },
        )
            .into_response());
    };
    // the same work whether or not the details are taken: the hash, the look-ups, one write, one e-mail
    let password_hash = auth::hash_password(f.mat_khau.clone())
        .await
        .map_err(|e| AppError::Files(e.to_string()))?;
    let names = [
        Some(LoginName::PersonalId(personal_id.clone())),
        Some(LoginName::Phone(phone.clone())),
        email.clone().map(LoginName::Email),
    ];
    let mut owners = owners_of(&state, &names).await?;
    if owners.is_empty() {
        let account = Account {
            id: AccountId::new(),
            kind: AccountKind::Citizen,
            full_name: name,
            personal_id: Some(personal_id),
            birth_date: Some(birth),
            phone: Some(phone),
            email,
            address: Some(values.dia_chi.clone()).filter(|a| !a.is_empty()),
            password_hash,
            email_verified_at: None,
            disabled: false,
            created_at: now,
            grants: vec![],
        };
        match state.store.accounts.create(&account).await {
            Ok(()) => {
                audit::record(
                    &state,
                    AuditKind::AccountCreated,
                    Some(account.id),
                    account.personal_id.as_ref().map(|p| p.masked()),
                    viewer.ip.clone(),
                    true,
                )
                .await;
                let task_state = state.clone();
                let going = next.clone();
                state.background.spawn(async move {
                    if let Err(e) =
                        crate::accounts::mail::send_verification(&task_state, &account, &going)
                            .await
                    {
                        tracing::error!(error = %e, "verification e-mail not queued");
                    }
                });
                return Ok(Redirect::to(&registered(&next)).into_response());
            }
            // a twin registration won the race between our look-up and the insert
            Err(motcua_store::StoreError::Conflict(_)) => {
                owners = owners_of(&state, &names).await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    for owner in &owners {
        audit::record(
            &state,
            AuditKind::AccountCreated,
            Some(owner.id),
            Some("đăng ký trùng thông tin của tài khoản này".into()),
            viewer.ip.clone(),
            false,
        )
        .await;
    }
    let task_state = state.clone();
    state.background.spawn(async move {
        for owner in owners {
            if let Err(e) = tell_owner(&task_state, &owner, now).await {
                tracing::error!(error = %e, "registration notice not sent");
            }
        }
    });
    Ok(Redirect::to(&registered(&next)).into_response())
}

/// The distinct accounts that already have one of these login names.
async fn owners_of(
    state: &AppState,
    names: &[Option<LoginName>],
) -> Result<Vec<Account>, AppError> {
    let mut owners: Vec<Account> = Vec::new();
    for name in names.iter().flatten() {
        if let Some(a) = state.store.accounts.find_by_login(name).await?
            && !owners.iter().any(|o| o.id == a.id)
        {
            owners.push(a);
        }
    }
    Ok(owners)
}

/// Tell the owner of details someone tried to register again (at most a few times an hour).
async fn tell_owner(
    state: &AppState,
    owner: &Account,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    let Some(email) = &owner.email else {
        return Ok(());
    };
    let hour = crate::session::start_of(now, Duration::HOUR);
    if state
        .store
        .rate_limits
        .hit(&format!("register:owner:{}", owner.id), hour)
        .await?
        > TAKEN_NOTICES_PER_ACCOUNT_HOUR
    {
        return Ok(());
    }
    let message = motcua_notify::Message {
        to: email.as_str().to_string(),
        subject: format!(
            "{}: có người đăng ký bằng thông tin của bạn",
            state.site.name
        ),
        body: format!(
            "Xin chào {},\n\nLúc {}, có người vừa dùng số định danh, số điện thoại hoặc thư điện tử của tài khoản \
             của bạn để đăng ký một tài khoản mới. Tài khoản mới không được tạo: bạn đã có tài khoản.\n\n\
             Nếu là bạn, hãy đăng nhập tại {}/dang-nhap, hoặc đặt lại mật khẩu tại {}/quen-mat-khau nếu đã quên.\n\
             Nếu không phải bạn, hãy bỏ qua thư này; tài khoản của bạn không thay đổi.\n\n{}",
            owner.full_name,
            vntime::format_datetime(now),
            state.site.public_url.trim_end_matches('/'),
            state.site.public_url.trim_end_matches('/'),
            state.site.name
        ),
    };
    if let Err(e) = state.mailer.send(&message).await {
        tracing::error!(error = %e, "registration notice not sent");
    }
    Ok(())
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
