//! Officer accounts in the back office: administrators list the officers of the agencies they manage, create
//! officers with a role, and grant or withdraw roles — only at agencies the policy lets them manage.

use crate::audit;
use crate::input::{Form, InputRejection};
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use time::OffsetDateTime;

use motcua_domain::{
    Account, AccountId, AccountKind, AgencyCode, AuditKind, Email, Phone, Role, RoleGrant,
    policy::Action,
};

use crate::{AppError, AppState, auth, guard::require, layout::Layout, viewer::Viewer};

pub(crate) struct OfficerRow {
    pub id: String,
    pub name: String,
    pub login: String,
    /// (role label, agency name, role key, agency code)
    pub grants: Vec<(String, String, String, String)>,
}

pub(crate) struct Choice {
    pub value: String,
    pub label: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "officers.html")]
pub(crate) struct OfficersPage {
    pub layout: Layout,
    pub officers: Vec<OfficerRow>,
    pub roles: Vec<Choice>,
    pub agencies: Vec<Choice>,
    pub errors: Vec<String>,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub created: Option<(String, String, String)>,
}

pub(crate) fn may_manage(state: &AppState, admin: &Account, agency: &AgencyCode) -> bool {
    crate::guard::allows(&state.catalogue, admin, Action::ManageAccounts(agency))
}

async fn render(
    state: &AppState,
    layout: Layout,
    admin: &Account,
    errors: Vec<String>,
    typed: (String, String, String),
    created: Option<(String, String, String)>,
) -> Result<OfficersPage, AppError> {
    let view = state.catalogue.view();
    let officers = state
        .store
        .accounts
        .list_officers()
        .await?
        .into_iter()
        .filter(|o| {
            o.grants.iter().any(|g| may_manage(state, admin, &g.agency)) || o.grants.is_empty()
        })
        .map(|o| OfficerRow {
            id: o.id.to_string(),
            name: o.full_name.to_string(),
            login: o
                .email
                .as_ref()
                .map(|e| e.as_str().to_string())
                .or_else(|| o.phone.as_ref().map(|p| p.as_str().to_string()))
                .unwrap_or_default(),
            grants: o
                .grants
                .iter()
                .map(|g| {
                    (
                        g.role.label_vi().to_string(),
                        view.agency_name(&g.agency).to_string(),
                        g.role.as_str().to_string(),
                        g.agency.to_string(),
                    )
                })
                .collect(),
        })
        .collect();
    let agencies = view
        .agencies
        .iter()
        .filter(|a| a.is_valid_on(view.as_of) && may_manage(state, admin, &a.code))
        .map(|a| Choice {
            value: a.code.to_string(),
            label: a.name.to_string(),
        })
        .collect();
    Ok(OfficersPage {
        layout,
        officers,
        roles: Role::ALL
            .iter()
            .map(|r| Choice {
                value: r.as_str().into(),
                label: r.label_vi().into(),
            })
            .collect(),
        agencies,
        errors,
        name: typed.0,
        email: typed.1,
        phone: typed.2,
        created,
    })
}

pub(crate) async fn list(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
) -> Result<Response, AppError> {
    let admin = match require(&state, &viewer, Action::Administer, "/quan-tri/can-bo").await {
        Ok(a) => a,
        Err(response) => return Ok(response),
    };
    Ok(
        render(&state, layout, &admin, Vec::new(), Default::default(), None)
            .await?
            .into_response(),
    )
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct NewOfficer {
    #[serde(default)]
    ho_ten: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    dien_thoai: String,
    #[serde(default)]
    vai_tro: String,
    #[serde(default)]
    co_quan: String,
    #[serde(default)]
    ca_don_vi_truc_thuoc: Option<String>,
}

fn parse_grant(role: &str, agency: &str, below: bool) -> Result<RoleGrant, String> {
    let role = Role::parse(role).map_err(|e| e.to_string())?;
    let agency = AgencyCode::parse(agency).map_err(|_| "Chọn cơ quan".to_string())?;
    Ok(RoleGrant {
        role,
        agency,
        include_sub_agencies: below,
    })
}

pub(crate) async fn create(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    form: Result<Form<NewOfficer>, InputRejection>,
) -> Result<Response, AppError> {
    let admin = match require(&state, &viewer, Action::Administer, "/quan-tri/can-bo").await {
        Ok(a) => a,
        Err(response) => return Ok(response),
    };
    let f = form?.0;
    let typed = (
        f.ho_ten.trim().to_string(),
        f.email.trim().to_string(),
        f.dien_thoai.trim().to_string(),
    );
    let mut errors = Vec::new();
    let name = motcua_domain::text::person_name(&f.ho_ten, "Họ và tên")
        .map_err(|e| errors.push(e.to_string()))
        .ok();
    let email = if typed.1.is_empty() {
        None
    } else {
        Email::parse(&typed.1)
            .map_err(|e| errors.push(e.to_string()))
            .ok()
    };
    let phone = if typed.2.is_empty() {
        None
    } else {
        Phone::parse(&typed.2)
            .map_err(|e| errors.push(e.to_string()))
            .ok()
    };
    if email.is_none() && phone.is_none() && errors.is_empty() {
        errors.push("Cần thư điện tử hoặc số điện thoại để cán bộ đăng nhập".into());
    }
    let grant = parse_grant(&f.vai_tro, &f.co_quan, f.ca_don_vi_truc_thuoc.is_some())
        .map_err(|e| errors.push(e))
        .ok();
    if let Some(g) = &grant
        && !may_manage(&state, &admin, &g.agency)
    {
        errors.push("Bạn không quản lý cơ quan này".into());
    }
    for login in email
        .iter()
        .map(|e| motcua_domain::LoginName::Email(e.clone()))
        .chain(
            phone
                .iter()
                .map(|p| motcua_domain::LoginName::Phone(p.clone())),
        )
    {
        if state.store.accounts.find_by_login(&login).await?.is_some() {
            errors.push("Thư điện tử hoặc số điện thoại này đã có tài khoản".into());
        }
    }
    let (Some(name), Some(grant), true) = (name, grant, errors.is_empty()) else {
        let page = render(&state, layout, &admin, errors, typed, None).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let password = auth::generate_password();
    let account = Account {
        id: AccountId::new(),
        kind: AccountKind::Officer,
        full_name: name,
        personal_id: None,
        birth_date: None,
        phone,
        email,
        address: None,
        password_hash: auth::hash_password(password.clone())
            .await
            .map_err(|e| AppError::Files(e.to_string()))?,
        // an officer's work address is vouched for by the administrator of their agency: recovery may use it
        email_verified_at: Some(OffsetDateTime::now_utc()),
        disabled: false,
        created_at: OffsetDateTime::now_utc(),
        grants: vec![grant.clone()],
    };
    state.store.accounts.create(&account).await?;
    audit::record(
        &state,
        AuditKind::AccountCreated,
        Some(admin.id),
        Some(format!("{} ({grant})", account.id)),
        viewer.ip.clone(),
        true,
    )
    .await;
    let login = typed.1.clone().to_lowercase();
    let login = if login.is_empty() {
        typed.2.clone()
    } else {
        login
    };
    let created = Some((account.full_name.to_string(), login, password));
    // shown once, on this answer only (not a redirect: the password must not travel in a URL)
    Ok(render(
        &state,
        layout,
        &admin,
        Vec::new(),
        Default::default(),
        created,
    )
    .await?
    .into_response())
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct GrantForm {
    #[serde(default)]
    vai_tro: String,
    #[serde(default)]
    co_quan: String,
    #[serde(default)]
    ca_don_vi_truc_thuoc: Option<String>,
    #[serde(default)]
    thao_tac: GrantChange,
}

/// Grant a role, or withdraw it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
enum GrantChange {
    #[serde(rename = "xoa")]
    Withdraw,
    /// `them` (and the form's default).
    #[default]
    #[serde(other)]
    Grant,
}

pub(crate) async fn change_grant(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(id): Path<String>,
    form: Result<Form<GrantForm>, InputRejection>,
) -> Result<Response, AppError> {
    let admin = match require(&state, &viewer, Action::Administer, "/quan-tri/can-bo").await {
        Ok(a) => a,
        Err(response) => return Ok(response),
    };
    let f = form?.0;
    let officer = match uuid::Uuid::parse_str(&id) {
        Ok(uuid) => state.store.accounts.get(AccountId(uuid)).await?,
        Err(_) => None,
    }
    .filter(|o| o.kind == AccountKind::Officer);
    let Some(officer) = officer else {
        return Ok(crate::error::not_found().await);
    };
    let grant = match parse_grant(&f.vai_tro, &f.co_quan, f.ca_don_vi_truc_thuoc.is_some()) {
        Ok(g) if may_manage(&state, &admin, &g.agency) => g,
        Ok(g) => {
            audit::record(
                &state,
                AuditKind::AccessDenied,
                Some(admin.id),
                Some(format!("cấp/thu hồi {g} cho {}", officer.id)),
                viewer.ip.clone(),
                false,
            )
            .await;
            return Ok(
                crate::error::ErrorPage::access_denied().into_response_with(StatusCode::FORBIDDEN)
            );
        }
        Err(e) => {
            let page = render(&state, layout, &admin, vec![e], Default::default(), None).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let mut grants = officer.grants.clone();
    grants.retain(|g| !(g.role == grant.role && g.agency == grant.agency));
    if f.thao_tac == GrantChange::Grant {
        grants.push(grant.clone());
    }
    state.store.accounts.set_grants(officer.id, &grants).await?;
    let what = match f.thao_tac {
        GrantChange::Withdraw => "thu hồi",
        GrantChange::Grant => "cấp",
    };
    audit::record(
        &state,
        AuditKind::RolesChanged,
        Some(admin.id),
        Some(format!("{} {what} {grant}", officer.id)),
        viewer.ip.clone(),
        true,
    )
    .await;
    Ok(Redirect::to("/quan-tri/can-bo").into_response())
}
