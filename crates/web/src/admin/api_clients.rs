//! API clients for administrators: register another system with the agencies and scopes it may use and its limit
//! of requests a minute, issue its keys (each shown once, kept as a hash, with an end date), revoke a key, switch
//! a client off and on, and read its call log. An administrator names only agencies their grant covers. Every
//! change goes to the security audit trail.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use time::OffsetDateTime;

use motcua_domain::{
    Account, AuditKind,
    api_client::{
        ApiClient, ApiClientId, ApiClientInput, ApiKey, DEFAULT_KEY_DAYS, DEFAULT_PER_MINUTE,
        MAX_KEY_DAYS, Scope,
    },
    policy::Action,
    vntime,
};

use crate::input::{Form, InputRejection};
use crate::{AppError, AppState, audit, guard::require, layout::Layout, viewer::Viewer};

const LIST: &str = "/quan-tri/ket-noi-api";
/// The calls shown on a client's page.
const CALLS_SHOWN: u32 = 100;

pub(crate) struct ClientRow {
    pub id: String,
    pub name: String,
    pub agencies: Vec<String>,
    pub scopes: Vec<&'static str>,
    pub per_minute: u32,
    pub disabled: bool,
}

pub(crate) struct ScopeChoice {
    /// The checkbox's name (one box per scope: the form reader takes each name once).
    pub name: &'static str,
    pub value: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "api_clients.html")]
pub(crate) struct ClientsPage {
    pub layout: Layout,
    pub clients: Vec<ClientRow>,
    pub scopes: Vec<ScopeChoice>,
    pub errors: Vec<(&'static str, String)>,
    pub name: String,
    pub agencies: String,
    pub per_minute: String,
    pub default_per_minute: u32,
}

pub(crate) struct KeyRow {
    pub hash: String,
    pub hint: String,
    pub created: String,
    pub expires: String,
    /// "Đang dùng", "Đã hết hạn" or "Đã thu hồi …".
    pub state: String,
    pub live: bool,
}

pub(crate) struct CallRow {
    pub at: String,
    pub key: String,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub millis: u32,
}

#[derive(Template, WebTemplate)]
#[template(path = "api_client.html")]
pub(crate) struct ClientPage {
    pub layout: Layout,
    pub client: ClientRow,
    pub created: String,
    pub created_by: String,
    pub keys: Vec<KeyRow>,
    pub calls: Vec<CallRow>,
    /// A key just issued: shown this once.
    pub new_key: Option<String>,
    pub errors: Vec<(&'static str, String)>,
    pub days: String,
    pub default_days: i64,
    pub max_days: i64,
}

fn row(state: &AppState, c: &ApiClient) -> ClientRow {
    let view = state.catalogue.view();
    ClientRow {
        id: c.id.to_string(),
        name: c.name.to_string(),
        agencies: c
            .agencies
            .iter()
            .map(|a| format!("{} ({a})", view.agency_name(a)))
            .collect(),
        scopes: c.scopes.iter().map(|s| s.label()).collect(),
        per_minute: c.per_minute,
        disabled: c.disabled_at.is_some(),
    }
}

/// Whether the administrator's grant covers every agency of the client.
fn covers(state: &AppState, admin: &Account, client: &ApiClient) -> bool {
    client
        .agencies
        .iter()
        .all(|a| crate::guard::allows(&state.catalogue, admin, Action::ManageAccounts(a)))
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn list_page(
    state: &AppState,
    layout: Layout,
    admin: &Account,
    errors: Vec<(&'static str, String)>,
    typed: &NewClient,
) -> Result<ClientsPage, AppError> {
    let clients = state
        .store
        .api_clients
        .clients()
        .await?
        .iter()
        .filter(|c| covers(state, admin, c))
        .map(|c| row(state, c))
        .collect();
    Ok(ClientsPage {
        layout,
        clients,
        scopes: Scope::ALL
            .into_iter()
            .map(|s| ScopeChoice {
                name: box_name(s),
                value: s.as_str(),
                label: s.label(),
                checked: typed.scopes().contains(&s.as_str().to_string()),
            })
            .collect(),
        errors,
        name: typed.ten.clone(),
        agencies: typed.co_quan.clone(),
        per_minute: typed.gioi_han.clone(),
        default_per_minute: DEFAULT_PER_MINUTE,
    })
}

/// `GET /quan-tri/ket-noi-api`.
pub(crate) async fn list(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
) -> Result<Response, AppError> {
    let admin = match require(&state, &viewer, Action::Administer, LIST).await {
        Ok(a) => a,
        Err(response) => return Ok(response),
    };
    Ok(
        list_page(&state, layout, &admin, Vec::new(), &NewClient::default())
            .await?
            .into_response(),
    )
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct NewClient {
    #[serde(default)]
    ten: String,
    #[serde(default)]
    co_quan: String,
    /// A scope's key, in the box of that scope.
    #[serde(default)]
    pham_vi_doc: String,
    #[serde(default)]
    pham_vi_tiep_nhan: String,
    #[serde(default)]
    gioi_han: String,
}

/// The checkbox of a scope on the form.
fn box_name(scope: Scope) -> &'static str {
    match scope {
        Scope::Read => "pham_vi_doc",
        Scope::Receive => "pham_vi_tiep_nhan",
    }
}

impl NewClient {
    /// The scopes ticked, as their keys (checked against the list by the domain).
    fn scopes(&self) -> Vec<String> {
        [&self.pham_vi_doc, &self.pham_vi_tiep_nhan]
            .into_iter()
            .filter(|v| !v.trim().is_empty())
            .cloned()
            .collect()
    }
}

/// A new key for `client`, living `days` days from `now` (256 bits from the OS generator, through two v4 UUIDs).
fn issue(client: ApiClientId, days: i64, now: OffsetDateTime) -> (String, ApiKey) {
    let random = crate::session::random_bytes();
    ApiKey::issue(client, &random, now, days)
}

/// `POST /quan-tri/ket-noi-api`: register a system and issue its first key.
pub(crate) async fn create(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    form: Result<Form<NewClient>, InputRejection>,
) -> Result<Response, AppError> {
    let admin = match require(&state, &viewer, Action::Administer, LIST).await {
        Ok(a) => a,
        Err(response) => return Ok(response),
    };
    let Ok(Form(typed)) = form else {
        let errors = vec![(
            "ten",
            "Biểu mẫu gửi lên không đọc được; hãy nhập lại.".to_string(),
        )];
        let page = list_page(&state, layout, &admin, errors, &NewClient::default()).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let now = OffsetDateTime::now_utc();
    let view = state.catalogue.view();
    let known = |a: &motcua_domain::AgencyCode| view.agency(a).is_some();
    let managed = |a: &motcua_domain::AgencyCode| {
        crate::guard::allows(&state.catalogue, &admin, Action::ManageAccounts(a))
    };
    let input = ApiClientInput {
        name: typed.ten.clone(),
        agencies: typed.co_quan.clone(),
        scopes: typed.scopes(),
        per_minute: typed.gioi_han.clone(),
    };
    let client = match input.check(
        &known,
        &managed,
        format!("{} ({})", admin.full_name, admin.id),
        now,
    ) {
        Ok(c) => c,
        Err(errors) => {
            let page = list_page(&state, layout, &admin, errors, &typed).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let (text, key) = issue(client.id, DEFAULT_KEY_DAYS, now);
    state.store.api_clients.create_client(&client, &key).await?;
    audit::record(
        &state,
        AuditKind::ApiClientChanged,
        Some(admin.id),
        Some(format!(
            "tạo {} ({}), khóa {}",
            client.name, client.id, key.hint
        )),
        viewer.ip.clone(),
        true,
    )
    .await;
    let page = client_page(
        &state,
        layout,
        &client,
        Some(text),
        Vec::new(),
        String::new(),
    )
    .await?;
    Ok(no_store((StatusCode::CREATED, page).into_response()))
}

async fn client_page(
    state: &AppState,
    layout: Layout,
    client: &ApiClient,
    new_key: Option<String>,
    errors: Vec<(&'static str, String)>,
    days: String,
) -> Result<ClientPage, AppError> {
    let now = OffsetDateTime::now_utc();
    let keys = state
        .store
        .api_clients
        .keys(client.id)
        .await?
        .into_iter()
        .map(|k| KeyRow {
            state: match k.revoked_at {
                Some(at) => format!("Đã thu hồi {}", vntime::format_datetime(at)),
                None if k.expires_at <= now => "Đã hết hạn".into(),
                None => "Đang dùng".into(),
            },
            live: k.is_live(now),
            hash: k.hash,
            hint: k.hint,
            created: vntime::format_datetime(k.created_at),
            expires: vntime::format_datetime(k.expires_at),
        })
        .collect();
    let calls = state
        .store
        .api_clients
        .calls(Some(client.id), CALLS_SHOWN)
        .await?
        .into_iter()
        .map(|c| CallRow {
            at: vntime::format_datetime(c.at),
            key: c.key_hint,
            method: c.method,
            path: c.path,
            status: c.status,
            millis: c.millis,
        })
        .collect();
    Ok(ClientPage {
        layout,
        client: row(state, client),
        created: vntime::format_datetime(client.created_at),
        created_by: client.created_by.clone(),
        keys,
        calls,
        new_key,
        errors,
        days,
        default_days: DEFAULT_KEY_DAYS,
        max_days: MAX_KEY_DAYS,
    })
}

/// The client named in the address, if the administrator may manage it.
async fn managed(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
) -> Result<Result<(Account, ApiClient), Response>, AppError> {
    let path = format!("{LIST}/{id}");
    let admin = match require(state, viewer, Action::Administer, &path).await {
        Ok(a) => a,
        Err(response) => return Ok(Err(response)),
    };
    let found = match uuid::Uuid::try_parse(id) {
        Ok(id) => state.store.api_clients.client(ApiClientId(id)).await?,
        Err(_) => None,
    };
    let Some(client) = found else {
        return Ok(Err(crate::error::not_found().await));
    };
    if !covers(state, &admin, &client) {
        return Ok(Err(crate::guard::refuse(state, viewer, &path).await));
    }
    Ok(Ok((admin, client)))
}

/// `GET /quan-tri/ket-noi-api/{id}`.
pub(crate) async fn one(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (_, client) = match managed(&state, &viewer, &id).await? {
        Ok(found) => found,
        Err(response) => return Ok(response),
    };
    Ok(
        client_page(&state, layout, &client, None, Vec::new(), String::new())
            .await?
            .into_response(),
    )
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ClientAction {
    #[serde(default)]
    hanh_dong: String,
    /// The key to revoke (its hash).
    #[serde(default)]
    khoa: String,
    /// Days a new key lives.
    #[serde(default)]
    so_ngay: String,
}

/// `POST /quan-tri/ket-noi-api/{id}`: issue a key, revoke one, switch the client off or on.
pub(crate) async fn act(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(id): Path<String>,
    form: Result<Form<ClientAction>, InputRejection>,
) -> Result<Response, AppError> {
    let (admin, client) = match managed(&state, &viewer, &id).await? {
        Ok(found) => found,
        Err(response) => return Ok(response),
    };
    let posted = form.map(|Form(f)| f).unwrap_or_default();
    let now = OffsetDateTime::now_utc();
    let back = Redirect::to(&format!("{LIST}/{}", client.id)).into_response();
    let said = match posted.hanh_dong.as_str() {
        "tao_khoa" => {
            let typed = posted.so_ngay.trim();
            let days = if typed.is_empty() {
                Some(DEFAULT_KEY_DAYS)
            } else {
                typed
                    .parse::<i64>()
                    .ok()
                    .filter(|d| (1..=MAX_KEY_DAYS).contains(d))
            };
            let Some(days) = days else {
                let errors = vec![(
                    "so_ngay",
                    format!("Thời hạn của khóa là số ngày từ 1 đến {MAX_KEY_DAYS}"),
                )];
                let page =
                    client_page(&state, layout, &client, None, errors, typed.to_string()).await?;
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
            };
            let (text, key) = issue(client.id, days, now);
            state.store.api_clients.add_key(&key).await?;
            audit_change(
                &state,
                &admin,
                &viewer,
                format!("cấp khóa {} cho {}", key.hint, client.id),
            )
            .await;
            let page = client_page(
                &state,
                layout,
                &client,
                Some(text),
                Vec::new(),
                String::new(),
            )
            .await?;
            return Ok(no_store(page.into_response()));
        }
        "thu_hoi" => {
            let revoked = state
                .store
                .api_clients
                .revoke_key(client.id, posted.khoa.trim(), now)
                .await?;
            if !revoked {
                let errors = vec![(
                    "khoa",
                    "Không có khóa này, hoặc khóa đã được thu hồi trước đó".to_string(),
                )];
                let page =
                    client_page(&state, layout, &client, None, errors, String::new()).await?;
                return Ok((StatusCode::CONFLICT, page).into_response());
            }
            format!("thu hồi một khóa của {}", client.id)
        }
        "tam_dung" => {
            state
                .store
                .api_clients
                .set_disabled(client.id, Some(now))
                .await?;
            format!("tạm dừng {}", client.id)
        }
        "mo_lai" => {
            state
                .store
                .api_clients
                .set_disabled(client.id, None)
                .await?;
            format!("mở lại {}", client.id)
        }
        _ => {
            let errors = vec![("hanh_dong", "Chọn một thao tác".to_string())];
            let page = client_page(&state, layout, &client, None, errors, String::new()).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    audit_change(&state, &admin, &viewer, said).await;
    Ok(back)
}

async fn audit_change(state: &AppState, admin: &Account, viewer: &Viewer, what: String) {
    audit::record(
        state,
        AuditKind::ApiClientChanged,
        Some(admin.id),
        Some(what),
        viewer.ip.clone(),
        true,
    )
    .await;
}
