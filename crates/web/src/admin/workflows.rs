//! Administrators set the workflow of each procedure case: ordered steps, each with its unit (the receiving
//! agency or another one: an inter-agency step), role and quota in working hours, checked against the case's time
//! limit. Saving makes a new version; dossiers already in processing keep the version they started with.

use crate::input::{Form, Query};
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use std::collections::HashMap;
use time::OffsetDateTime;

use motcua_domain::{
    AgencyCode, ProcedureCase, ProcedureCode, Role,
    policy::Action,
    workflow::{STEP_ROLES, Workflow, WorkflowStep, limit_hours},
};

use crate::{AppError, AppState, error::not_found, guard, layout::Layout, viewer::Viewer};

const PATH: &str = "/quan-tri/quy-trinh";
/// Blank rows offered below the steps, to add steps without script.
const BLANK_ROWS: usize = 3;

pub(crate) struct CaseRow {
    href: String,
    procedure: String,
    case: String,
    workflow: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "workflows.html")]
pub(crate) struct ListPage {
    layout: Layout,
    rows: Vec<CaseRow>,
}

/// One row of the editor as typed.
#[derive(Clone, Default)]
pub(crate) struct StepRow {
    name: String,
    agency: String,
    role: String,
    hours: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "workflow_edit.html")]
pub(crate) struct EditPage {
    layout: Layout,
    action: String,
    procedure: String,
    case: String,
    limit: String,
    version: String,
    rows: Vec<StepRow>,
    agencies: Vec<(String, String)>,
    roles: Vec<(&'static str, &'static str)>,
    errors: Vec<(String, String)>,
    saved: bool,
}

/// The strictest time limit of a case in working hours (the quotas must fit in every channel's).
fn total_hours(case: &ProcedureCase) -> Option<u32> {
    case.time_limits
        .iter()
        .filter_map(|t| limit_hours(&t.limit))
        .min()
}

fn describe(version: u32, steps: usize) -> String {
    if version == 0 {
        format!("Mặc định ({steps} bước)")
    } else {
        format!("Phiên bản {version} ({steps} bước)")
    }
}

pub(crate) async fn list(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
) -> Result<Response, AppError> {
    let admin = match guard::require(&state, &viewer, Action::Administer, PATH).await {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let view = state.catalogue.view();
    let mut rows = Vec::new();
    for entry in view
        .entries
        .iter()
        .filter(|e| manages_all(&state, &admin, &e.procedure.agencies))
    {
        for case in &entry.procedure.cases {
            let (version, steps) = match state
                .store
                .workflows
                .workflow(&entry.procedure.code, &case.key, None)
                .await?
            {
                Some((v, w)) => (v, w.steps.len()),
                None => (0, Workflow::default_for(total_hours(case)).steps.len()),
            };
            rows.push(CaseRow {
                href: format!("{PATH}/{}/{}", entry.procedure.code, case.key),
                procedure: entry.procedure.name.to_string(),
                case: case.name.to_string(),
                workflow: describe(version, steps),
            });
        }
    }
    Ok(ListPage { layout, rows }.into_response())
}

/// Whether the administrator manages every agency that carries out the procedure (a workflow applies at all of
/// them).
fn manages_all(state: &AppState, admin: &motcua_domain::Account, agencies: &[AgencyCode]) -> bool {
    !agencies.is_empty()
        && agencies
            .iter()
            .all(|a| crate::admin::officers::may_manage(state, admin, a))
}

/// The procedure and case named in the address, from the catalogue in force.
fn find_case(
    state: &AppState,
    admin: &motcua_domain::Account,
    procedure: &str,
    case: &str,
) -> Option<(ProcedureCode, String, ProcedureCase)> {
    let view = state.catalogue.view();
    let entry = view
        .get(procedure)
        .filter(|e| manages_all(state, admin, &e.procedure.agencies))?;
    let case = entry
        .procedure
        .cases
        .iter()
        .find(|c| c.key.as_str() == case)?;
    Some((
        entry.procedure.code.clone(),
        entry.procedure.name.to_string(),
        case.clone(),
    ))
}

fn rows_of(workflow: &Workflow) -> Vec<StepRow> {
    workflow
        .steps
        .iter()
        .map(|s| StepRow {
            name: s.name.clone(),
            agency: s.agency.as_ref().map(|a| a.to_string()).unwrap_or_default(),
            role: s.role.as_str().to_string(),
            hours: s.quota_hours.to_string(),
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn page(
    state: &AppState,
    admin: &motcua_domain::Account,
    layout: Layout,
    code: &ProcedureCode,
    procedure: String,
    case: &ProcedureCase,
    version: u32,
    mut rows: Vec<StepRow>,
    errors: Vec<(String, String)>,
    saved: bool,
) -> EditPage {
    rows.extend(std::iter::repeat_n(StepRow::default(), BLANK_ROWS));
    let view = state.catalogue.view();
    EditPage {
        layout,
        action: format!("{PATH}/{code}/{}", case.key),
        procedure,
        case: case.name.to_string(),
        limit: match total_hours(case) {
            Some(h) => format!("{h} giờ làm việc ({} ngày làm việc)", h.div_ceil(8)),
            None => "tính theo ngày (không giới hạn tổng định mức)".into(),
        },
        version: if version == 0 {
            "Đang dùng quy trình mặc định: lưu để tạo phiên bản 1.".into()
        } else {
            format!("Đang dùng phiên bản {version}.")
        },
        rows,
        agencies: view
            .agencies
            .iter()
            .filter(|a| crate::admin::officers::may_manage(state, admin, &a.code))
            .map(|a| (a.code.to_string(), format!("{} ({})", a.name, a.code)))
            .collect(),
        roles: STEP_ROLES
            .iter()
            .map(|r| (r.as_str(), r.label_vi()))
            .collect(),
        errors,
        saved,
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Saved {
    #[serde(default)]
    da_luu: Option<String>,
}

pub(crate) async fn edit_page(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path((procedure, case)): Path<(String, String)>,
    Query(q): Query<Saved>,
) -> Result<Response, AppError> {
    let admin = match guard::require(&state, &viewer, Action::Administer, PATH).await {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let Some((code, name, case)) = find_case(&state, &admin, &procedure, &case) else {
        return Ok(not_found().await);
    };
    let (version, workflow) = match state
        .store
        .workflows
        .workflow(&code, &case.key, None)
        .await?
    {
        Some(saved) => saved,
        None => (0, Workflow::default_for(total_hours(&case))),
    };
    Ok(page(
        &state,
        &admin,
        layout,
        &code,
        name,
        &case,
        version,
        rows_of(&workflow),
        vec![],
        q.da_luu.is_some(),
    )
    .into_response())
}

pub(crate) async fn save(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path((procedure, case)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let admin = match guard::require(&state, &viewer, Action::Administer, PATH).await {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let Some((code, name, case)) = find_case(&state, &admin, &procedure, &case) else {
        return Ok(not_found().await);
    };
    let fields: HashMap<String, String> = fields.into_iter().collect();
    let get = |k: String| {
        fields
            .get(&k)
            .map(|v| motcua_domain::text::normalize(v))
            .unwrap_or_default()
    };
    let view = state.catalogue.view();
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut steps = Vec::new();
    for i in 0..motcua_domain::workflow::MAX_STEPS + BLANK_ROWS {
        let row = StepRow {
            name: get(format!("ten_{i}")),
            agency: get(format!("co_quan_{i}")),
            role: get(format!("vai_tro_{i}")),
            hours: get(format!("gio_{i}")),
        };
        // a row left blank (the role select always has a value) is not a step
        if row.name.is_empty() && row.hours.is_empty() && row.agency.is_empty() {
            continue;
        }
        let n = rows.len() + 1;
        let agency = match row.agency.as_str() {
            "" => None,
            a => match AgencyCode::parse(a)
                .ok()
                .filter(|c| view.agency(c).is_some())
            {
                Some(c) if crate::admin::officers::may_manage(&state, &admin, &c) => Some(c),
                Some(_) => {
                    errors.push((
                        format!("co_quan_{}", rows.len()),
                        format!(
                            "Bước {n}: anh/chị không quản trị cơ quan này; bước liên thông cần quản trị viên cấp trên"
                        ),
                    ));
                    None
                }
                None => {
                    errors.push((
                        format!("co_quan_{}", rows.len()),
                        format!("Bước {n}: chọn một cơ quan có trong danh mục"),
                    ));
                    None
                }
            },
        };
        let role = Role::parse(&row.role).ok();
        if role.is_none() {
            errors.push((
                format!("vai_tro_{}", rows.len()),
                format!("Bước {n}: chọn vai trò thực hiện"),
            ));
        }
        let hours = row.hours.parse::<u32>().ok();
        if hours.is_none() {
            errors.push((
                format!("gio_{}", rows.len()),
                format!("Bước {n}: định mức là số giờ làm việc (số nguyên), ví dụ 16"),
            ));
        }
        if let (Some(role), Some(quota_hours)) = (role, hours) {
            steps.push(WorkflowStep {
                name: row.name.clone(),
                agency,
                role,
                quota_hours,
            });
        }
        rows.push(row);
    }
    let current = state
        .store
        .workflows
        .workflow(&code, &case.key, None)
        .await?
        .map(|(v, _)| v)
        .unwrap_or(0);
    let refuse = |rows: Vec<StepRow>, errors: Vec<(String, String)>| {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            page(
                &state, &admin, layout, &code, name, &case, current, rows, errors, false,
            ),
        )
            .into_response()
    };
    if !errors.is_empty() {
        return Ok(refuse(rows, errors));
    }
    let workflow = match Workflow::new(steps, total_hours(&case)) {
        Ok(w) => w,
        Err(messages) => {
            let errors = messages
                .into_iter()
                .map(|m| ("buoc-quy-trinh".to_string(), m))
                .collect();
            return Ok(refuse(rows, errors));
        }
    };
    let by = format!("{} ({})", admin.full_name, admin.id);
    let version = state
        .store
        .workflows
        .save_workflow(&code, &case.key, &workflow, OffsetDateTime::now_utc(), &by)
        .await?;
    tracing::info!(procedure = %code, case = %case.key, version, by, "workflow saved");
    Ok(Redirect::to(&format!("{PATH}/{code}/{}?da_luu=1", case.key)).into_response())
}
