//! "Mã truy cập API": a person makes personal tokens for an app or a script of their own (each shown once, kept
//! as a hash, with an end date and a name), sees them, and revokes one. A token opens only the person's own part
//! of the API (`/api/v1/me`). Making and revoking go to the security audit trail.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use time::OffsetDateTime;

use motcua_domain::{
    Account, AuditKind,
    api_client::{DEFAULT_PERSONAL_DAYS, MAX_PERSONAL_DAYS, PersonalToken},
    policy::Action,
    text::clean_input,
    vntime,
};

use crate::input::{Form, InputRejection};
use crate::{AppError, AppState, audit, layout::Layout, viewer::Viewer};

const PATH: &str = "/tai-khoan/ma-truy-cap";
/// Live tokens a person may hold at once.
const MAX_LIVE: usize = 10;

pub(crate) struct TokenRow {
    pub hash: String,
    pub label: String,
    pub hint: String,
    pub created: String,
    pub expires: String,
    pub state: String,
    pub live: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "personal_tokens.html")]
pub(crate) struct TokensPage {
    pub layout: Layout,
    pub tokens: Vec<TokenRow>,
    /// A token just made: shown this once.
    pub new_token: Option<String>,
    pub errors: Vec<(&'static str, String)>,
    pub label: String,
    pub days: String,
    pub default_days: i64,
    pub max_days: i64,
}

async fn page(
    state: &AppState,
    layout: Layout,
    account: &Account,
    new_token: Option<String>,
    errors: Vec<(&'static str, String)>,
    typed: &TokenForm,
) -> Result<Response, AppError> {
    let now = OffsetDateTime::now_utc();
    let tokens = state
        .store
        .personal_tokens
        .personal_tokens(account.id)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            state: match t.revoked_at {
                Some(at) => format!("Đã thu hồi {}", vntime::format_datetime(at)),
                None if t.expires_at <= now => "Đã hết hạn".into(),
                None => "Đang dùng".into(),
            },
            live: t.is_live(now),
            hash: t.hash,
            label: t.label,
            hint: t.hint,
            created: vntime::format_datetime(t.created_at),
            expires: vntime::format_datetime(t.expires_at),
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut response = (
        status,
        TokensPage {
            layout,
            tokens,
            new_token,
            errors,
            label: typed.ten.clone(),
            days: typed.so_ngay.clone(),
            default_days: DEFAULT_PERSONAL_DAYS,
            max_days: MAX_PERSONAL_DAYS,
        },
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `GET /tai-khoan/ma-truy-cap`.
pub(crate) async fn list(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
) -> Result<Response, AppError> {
    let account = match crate::guard::require(&state, &viewer, Action::ViewOwnAccount, PATH).await {
        Ok(a) => a,
        Err(response) => return Ok(response),
    };
    page(
        &state,
        layout,
        &account,
        None,
        Vec::new(),
        &TokenForm::default(),
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct TokenForm {
    #[serde(default)]
    hanh_dong: String,
    #[serde(default)]
    ten: String,
    #[serde(default)]
    so_ngay: String,
    /// The token to revoke (its hash).
    #[serde(default)]
    ma: String,
}

/// `POST /tai-khoan/ma-truy-cap`: make a token (`hanh_dong=tao`) or revoke one (`hanh_dong=thu_hoi`).
pub(crate) async fn change(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    form: Result<Form<TokenForm>, InputRejection>,
) -> Result<Response, AppError> {
    let account = match crate::guard::require(&state, &viewer, Action::ViewOwnAccount, PATH).await {
        Ok(a) => a,
        Err(response) => return Ok(response),
    };
    let posted = form.map(|Form(f)| f).unwrap_or_default();
    let now = OffsetDateTime::now_utc();
    match posted.hanh_dong.as_str() {
        "tao" => {
            let mut errors = Vec::new();
            let label = clean_input(&posted.ten);
            if label.is_empty() || label.chars().count() > 100 {
                errors.push((
                    "ten",
                    "Đặt tên cho mã (tối đa 100 ký tự), ví dụ: Ứng dụng trên điện thoại"
                        .to_string(),
                ));
            }
            let typed = posted.so_ngay.trim();
            let days = if typed.is_empty() {
                Some(DEFAULT_PERSONAL_DAYS)
            } else {
                typed
                    .parse::<i64>()
                    .ok()
                    .filter(|d| (1..=MAX_PERSONAL_DAYS).contains(d))
            };
            if days.is_none() {
                errors.push((
                    "so_ngay",
                    format!("Thời hạn là số ngày từ 1 đến {MAX_PERSONAL_DAYS}"),
                ));
            }
            let live = state
                .store
                .personal_tokens
                .personal_tokens(account.id)
                .await?
                .iter()
                .filter(|t| t.is_live(now))
                .count();
            if live >= MAX_LIVE {
                errors.push((
                    "ten",
                    format!("Mỗi tài khoản có tối đa {MAX_LIVE} mã đang dùng; hãy thu hồi mã không dùng nữa"),
                ));
            }
            let Some(days) = days.filter(|_| errors.is_empty()) else {
                return page(&state, layout, &account, None, errors, &posted).await;
            };
            let random = crate::session::random_bytes();
            let (text, token) = PersonalToken::issue(account.id, label, &random, now, days);
            state
                .store
                .personal_tokens
                .add_personal_token(&token)
                .await?;
            audit::record(
                &state,
                AuditKind::ApiClientChanged,
                Some(account.id),
                Some(format!("tạo mã truy cập cá nhân {}", token.hint)),
                viewer.ip.clone(),
                true,
            )
            .await;
            page(
                &state,
                layout,
                &account,
                Some(text),
                Vec::new(),
                &TokenForm::default(),
            )
            .await
        }
        "thu_hoi" => {
            let hint = state
                .store
                .personal_tokens
                .personal_tokens(account.id)
                .await?
                .into_iter()
                .find(|t| t.hash == posted.ma.trim())
                .map(|t| t.hint)
                .unwrap_or_default();
            let revoked = state
                .store
                .personal_tokens
                .revoke_personal_token(account.id, posted.ma.trim(), now)
                .await?;
            if !revoked {
                let errors = vec![(
                    "ma",
                    "Không có mã này, hoặc mã đã được thu hồi trước đó".to_string(),
                )];
                return page(
                    &state,
                    layout,
                    &account,
                    None,
                    errors,
                    &TokenForm::default(),
                )
                .await;
            }
            audit::record(
                &state,
                AuditKind::ApiClientChanged,
                Some(account.id),
                Some(format!("thu hồi mã truy cập cá nhân {hint}")),
                viewer.ip.clone(),
                true,
            )
            .await;
            Ok(Redirect::to(PATH).into_response())
        }
        _ => {
            let errors = vec![("hanh_dong", "Chọn tạo mã hoặc thu hồi mã".to_string())];
            page(&state, layout, &account, None, errors, &posted).await
        }
    }
}
