//! Administrators keep the agency tree: add an agency under one they manage, edit it (name, level, address,
//! validity), move it in the tree, retire it, and merge it into a successor (the 2025 reorganisation): the merged
//! agency's open dossiers, drafts, sub-units and online levels move, each dossier once with a history event, and
//! what cannot move by itself (workflows, officers' roles, conflicting levels) is listed for review.

use crate::input::Form;
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
    Account, Agency, AgencyCode, AgencyField, AgencyInput, AgencyLevel, DossierStatus,
    form::parse_date, policy::Action, vntime,
};
use motcua_store::{MergeReport, Merger, StoreError};

use crate::{
    AppError, AppState, admin::officers::may_manage, error::not_found, guard, layout::Layout,
    viewer::Viewer,
};

const PATH: &str = "/quan-tri/co-quan";

/// The id of the form control a problem belongs to.
fn control(field: AgencyField) -> &'static str {
    match field {
        AgencyField::Code => "ma",
        AgencyField::Name => "ten",
        AgencyField::Level => "cap",
        AgencyField::Parent => "cap_tren",
        AgencyField::ValidFrom => "hieu_luc_tu",
        AgencyField::ValidUntil => "hieu_luc_den",
    }
}

pub(crate) struct Row {
    href: String,
    code: String,
    name: String,
    depth: usize,
    level: &'static str,
    status: String,
    retired: bool,
}

pub(crate) struct Choice {
    code: String,
    label: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "agencies.html")]
pub(crate) struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    parents: Vec<Choice>,
    levels: Vec<(&'static str, &'static str)>,
    errors: Vec<(String, String)>,
    typed: AgencyInput,
    saved: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "agency_edit.html")]
pub(crate) struct EditPage {
    layout: Layout,
    action: String,
    code: String,
    name: String,
    successor: Option<String>,
    parents: Vec<Choice>,
    /// Whether the current parent is among `parents` (it may be outside this administrator's reach).
    parent_listed: bool,
    successors: Vec<Choice>,
    levels: Vec<(&'static str, &'static str)>,
    errors: Vec<(String, String)>,
    typed: AgencyInput,
    merge_into: String,
    merge_date: String,
    merge_errors: Vec<(String, String)>,
    report: Option<ReportView>,
}

pub(crate) struct ReportView {
    successor: String,
    effective: String,
    moved: Vec<String>,
    drafts: u32,
    children: u32,
    levels_carried: usize,
    levels_to_review: Vec<String>,
    workflows_to_review: Vec<(String, String)>,
    grants: u32,
}

fn levels(current: Option<&Agency>) -> Vec<(&'static str, &'static str)> {
    AgencyLevel::ALL
        .into_iter()
        .filter(|l| {
            *l != AgencyLevel::LegacyDistrict
                || current.is_some_and(|a| a.level == AgencyLevel::LegacyDistrict)
        })
        .map(|l| (l.as_str(), l.label_vi()))
        .collect()
}

fn today() -> time::Date {
    vntime::vn_date(OffsetDateTime::now_utc())
}

/// Agencies in force that this administrator manages, for a parent or successor list.
fn choices(
    state: &AppState,
    admin: &Account,
    all: &[Agency],
    except: Option<&AgencyCode>,
) -> Vec<Choice> {
    let today = today();
    let mut list: Vec<Choice> = all
        .iter()
        .filter(|a| a.is_valid_on(today) && Some(&a.code) != except)
        .filter(|a| except.is_none_or(|e| !motcua_domain::agency::is_below(all, &a.code, e)))
        .filter(|a| may_manage(state, admin, &a.code))
        .map(|a| Choice {
            code: a.code.to_string(),
            label: format!("{} ({})", a.name, a.code),
        })
        .collect();
    list.sort_by_cached_key(|a| motcua_search::fold(&a.label));
    list
}

/// The tree in order, each agency under its parent, the ones this administrator manages.
fn rows(state: &AppState, admin: &Account, all: &[Agency]) -> Vec<Row> {
    let today = today();
    let known: HashMap<&AgencyCode, &Agency> = all.iter().map(|a| (&a.code, a)).collect();
    let mut children: HashMap<Option<&AgencyCode>, Vec<&Agency>> = HashMap::new();
    for a in all {
        let parent = a.parent.as_ref().filter(|p| known.contains_key(p));
        children.entry(parent).or_default().push(a);
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| {
            (!a.is_valid_on(today), motcua_search::fold(a.name.as_str()))
                .cmp(&(!b.is_valid_on(today), motcua_search::fold(b.name.as_str())))
        });
    }
    let mut out = Vec::new();
    let mut stack: Vec<(&Agency, usize)> = children
        .get(&None)
        .map(|l| l.iter().rev().map(|a| (*a, 0)).collect())
        .unwrap_or_default();
    while let Some((a, depth)) = stack.pop() {
        if out.len() > all.len() {
            break;
        }
        if may_manage(state, admin, &a.code) {
            let status = match (a.valid_until, &a.successor) {
                (Some(until), Some(s)) if until < today => format!(
                    "Đã sáp nhập vào {} từ {}",
                    known.get(s).map_or(s.as_str(), |x| x.name.as_str()),
                    vntime::format_date(until.next_day().unwrap_or(until))
                ),
                (Some(until), _) if until < today => {
                    format!(
                        "Hết hiệu lực từ {}",
                        vntime::format_date(until.next_day().unwrap_or(until))
                    )
                }
                (Some(until), _) => format!("Hiệu lực đến hết {}", vntime::format_date(until)),
                (None, _) if a.valid_from > today => {
                    format!("Hiệu lực từ {}", vntime::format_date(a.valid_from))
                }
                (None, _) => "Đang hoạt động".into(),
            };
            out.push(Row {
                href: format!("{PATH}/{}", a.code),
                code: a.code.to_string(),
                name: a.name.to_string(),
                depth,
                level: a.level.label_vi(),
                status,
                retired: !a.is_valid_on(today),
            });
        }
        if let Some(list) = children.get(&Some(&a.code)) {
            stack.extend(list.iter().rev().map(|c| (*c, depth + 1)));
        }
    }
    out
}

fn errors_of(problems: Vec<(AgencyField, String)>) -> Vec<(String, String)> {
    problems
        .into_iter()
        .map(|(f, m)| (control(f).to_string(), m))
        .collect()
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct AgencyForm {
    #[serde(default)]
    ma: String,
    #[serde(default)]
    ten: String,
    #[serde(default)]
    cap: String,
    #[serde(default)]
    cap_tren: String,
    #[serde(default)]
    dia_chi: String,
    #[serde(default)]
    hieu_luc_tu: String,
    #[serde(default)]
    hieu_luc_den: String,
}

impl AgencyForm {
    fn input(self) -> AgencyInput {
        AgencyInput {
            code: self.ma,
            name: self.ten,
            level: self.cap,
            parent: self.cap_tren,
            address: self.dia_chi,
            valid_from: self.hieu_luc_tu,
            valid_until: self.hieu_luc_den,
        }
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Saved {
    da_luu: Option<String>,
}

async fn list_page(
    state: &AppState,
    layout: Layout,
    admin: &Account,
    errors: Vec<(String, String)>,
    typed: AgencyInput,
    saved: Option<String>,
) -> Result<ListPage, AppError> {
    let all = state.store.agencies.list().await?;
    Ok(ListPage {
        layout,
        rows: rows(state, admin, &all),
        parents: choices(state, admin, &all, None),
        levels: levels(None),
        errors,
        typed,
        saved,
    })
}

pub(crate) async fn list(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    crate::input::Query(q): crate::input::Query<Saved>,
) -> Result<Response, AppError> {
    let admin = match guard::require(&state, &viewer, Action::Administer, PATH).await {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let typed = AgencyInput {
        level: AgencyLevel::Commune.as_str().into(),
        ..AgencyInput::default()
    };
    let saved = q.da_luu.filter(|c| AgencyCode::parse(c).is_ok());
    Ok(list_page(&state, layout, &admin, vec![], typed, saved)
        .await?
        .into_response())
}

pub(crate) async fn create(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Form(f): Form<AgencyForm>,
) -> Result<Response, AppError> {
    let admin = match guard::require(&state, &viewer, Action::Administer, PATH).await {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let input = f.input();
    let all = state.store.agencies.list().await?;
    let outside = || {
        (
            "cap_tren".to_string(),
            "Chọn cơ quan cấp trên trong phạm vi bạn quản trị (cơ quan cấp cao nhất được thêm bằng lệnh \
             motcua agency add)"
                .to_string(),
        )
    };
    let errors = match input.check(&all, None, today()) {
        Ok(agency)
            if agency
                .parent
                .as_ref()
                .is_some_and(|p| may_manage(&state, &admin, p)) =>
        {
            state
                .store
                .agencies
                .upsert(std::slice::from_ref(&agency))
                .await?;
            state.catalogue.refresh(&state.store).await?;
            return Ok(Redirect::to(&format!("{PATH}?da_luu={}", agency.code)).into_response());
        }
        Ok(_) => vec![outside()],
        Err(problems) => {
            let mut errors = errors_of(problems);
            if input.parent.trim().is_empty() {
                errors.push(outside());
            }
            errors
        }
    };
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        list_page(&state, layout, &admin, errors, input, None).await?,
    )
        .into_response())
}

/// The agency named in the address, if this administrator manages it.
async fn managed(
    state: &AppState,
    admin: &Account,
    code: &str,
) -> Result<Option<(Agency, Vec<Agency>)>, AppError> {
    let Ok(code) = AgencyCode::parse(code) else {
        return Ok(None);
    };
    let all = state.store.agencies.list().await?;
    Ok(all
        .iter()
        .find(|a| a.code == code)
        .filter(|_| may_manage(state, admin, &code))
        .cloned()
        .map(|a| (a, all)))
}

#[allow(clippy::too_many_arguments)]
fn edit_page(
    state: &AppState,
    layout: Layout,
    admin: &Account,
    agency: &Agency,
    all: &[Agency],
    errors: Vec<(String, String)>,
    typed: AgencyInput,
    merge: (String, String, Vec<(String, String)>),
    report: Option<ReportView>,
) -> EditPage {
    let successor = agency.successor.as_ref().map(|s| {
        all.iter()
            .find(|a| &a.code == s)
            .map_or(s.to_string(), |a| format!("{} ({})", a.name, a.code))
    });
    let parents = choices(state, admin, all, Some(&agency.code));
    let parent_listed =
        typed.parent.trim().is_empty() || parents.iter().any(|p| p.code == typed.parent.trim());
    EditPage {
        layout,
        action: format!("{PATH}/{}", agency.code),
        code: agency.code.to_string(),
        name: agency.name.to_string(),
        successor,
        parents,
        parent_listed,
        successors: choices(state, admin, all, Some(&agency.code)),
        levels: levels(Some(agency)),
        errors,
        typed,
        merge_into: merge.0,
        merge_date: merge.1,
        merge_errors: merge.2,
        report,
    }
}

pub(crate) async fn edit(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let admin = match guard::require(&state, &viewer, Action::Administer, PATH).await {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let Some((agency, all)) = managed(&state, &admin, &code).await? else {
        return Ok(not_found().await);
    };
    let merge_date = vntime::format_date(today());
    Ok(edit_page(
        &state,
        layout,
        &admin,
        &agency,
        &all,
        vec![],
        AgencyInput::of(&agency),
        (String::new(), merge_date, vec![]),
        None,
    )
    .into_response())
}

pub(crate) async fn save(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
    Form(f): Form<AgencyForm>,
) -> Result<Response, AppError> {
    let admin = match guard::require(&state, &viewer, Action::Administer, PATH).await {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let Some((agency, all)) = managed(&state, &admin, &code).await? else {
        return Ok(not_found().await);
    };
    let input = AgencyForm {
        ma: agency.code.to_string(),
        ..f
    }
    .input();
    let errors = match input.check(&all, Some(&agency), today()) {
        Ok(changed) if ends_with_work(&state, &agency, &changed, &all).await? => vec![(
            "hieu_luc_den".to_string(),
            "Cơ quan còn hồ sơ đang giải quyết hoặc đơn vị trực thuộc đang hoạt động: hãy sáp nhập vào cơ quan \
             kế thừa (bên dưới) để chuyển hồ sơ và đơn vị, thay vì chỉ ghi ngày hết hiệu lực"
                .to_string(),
        )],
        Ok(changed) => {
            // moving under another agency needs the right to manage that one too
            if changed.parent == agency.parent
                || changed
                    .parent
                    .as_ref()
                    .is_some_and(|p| may_manage(&state, &admin, p))
            {
                state
                    .store
                    .agencies
                    .upsert(std::slice::from_ref(&changed))
                    .await?;
                state.catalogue.refresh(&state.store).await?;
                return Ok(Redirect::to(&format!("{PATH}?da_luu={}", changed.code)).into_response());
            }
            vec![(
                "cap_tren".to_string(),
                "Chọn cơ quan cấp trên trong phạm vi bạn quản trị".to_string(),
            )]
        }
        Err(problems) => errors_of(problems),
    };
    let merge_date = vntime::format_date(today());
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        edit_page(
            &state,
            layout,
            &admin,
            &agency,
            &all,
            errors,
            input,
            (String::new(), merge_date, vec![]),
            None,
        ),
    )
        .into_response())
}

/// Whether this edit would give an end date to an agency that still has open dossiers or units in force: that is
/// a merger's work, which moves them; a plain end date would leave them with nobody.
async fn ends_with_work(
    state: &AppState,
    before: &Agency,
    after: &Agency,
    all: &[Agency],
) -> Result<bool, AppError> {
    let today = today();
    // any end date, today's or a later one: the agency would lapse with its work
    let ends_now = after.successor.is_none()
        && after.valid_until.is_some()
        && before.valid_until.is_none()
        && before.is_valid_on(today);
    if !ends_now {
        return Ok(false);
    }
    if all
        .iter()
        .any(|a| a.parent.as_ref() == Some(&after.code) && a.is_valid_on(today))
    {
        return Ok(true);
    }
    let open: Vec<DossierStatus> = DossierStatus::ALL
        .into_iter()
        .filter(|s| s.is_open())
        .collect();
    let query = motcua_store::DossierQuery::new(std::slice::from_ref(&after.code), &open, 1);
    Ok(state.store.submissions.count(&query).await? > 0)
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct MergeForm {
    #[serde(default)]
    ke_thua: String,
    #[serde(default)]
    ngay: String,
    #[serde(default)]
    xac_nhan: Option<String>,
}

pub(crate) async fn merge(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
    Form(f): Form<MergeForm>,
) -> Result<Response, AppError> {
    let admin = match guard::require(&state, &viewer, Action::Administer, PATH).await {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let Some((agency, all)) = managed(&state, &admin, &code).await? else {
        return Ok(not_found().await);
    };
    let typed_date = motcua_domain::text::normalize(&f.ngay);
    let mut errors = Vec::new();
    let successor = AgencyCode::parse(&f.ke_thua)
        .ok()
        .filter(|s| all.iter().any(|a| &a.code == s) && may_manage(&state, &admin, s));
    if successor.is_none() {
        errors.push((
            "ke_thua".to_string(),
            "Chọn cơ quan kế thừa trong phạm vi bạn quản trị".to_string(),
        ));
    }
    let effective = parse_date(&typed_date);
    if effective.is_none() {
        errors.push((
            "ngay".to_string(),
            "Nhập ngày có thật, dạng ngày/tháng/năm, ví dụ 01/07/2025".to_string(),
        ));
    }
    if f.xac_nhan.is_none() {
        errors.push((
            "xac_nhan".to_string(),
            "Đánh dấu xác nhận: việc sáp nhập không hoàn tác được".to_string(),
        ));
    }
    let mut report = None;
    if let (Some(successor), Some(effective), true) = (&successor, effective, errors.is_empty()) {
        let merger = Merger {
            retired: agency.code.clone(),
            successor: successor.clone(),
            effective,
            at: OffsetDateTime::now_utc(),
            actor: admin.id.to_string(),
        };
        match state.store.agencies.merge(&merger).await {
            Ok(r) => {
                state.catalogue.refresh(&state.store).await?;
                report = Some(report_view(&merger, r, &all));
            }
            Err(StoreError::Constraint(m) | StoreError::Conflict(m)) => {
                let mut m = m;
                if let Some(first) = m.get(0..1) {
                    m = first.to_uppercase() + &m[1..];
                }
                errors.push(("ke_thua".to_string(), m));
            }
            Err(other) => return Err(other.into()),
        }
    }
    let status = if report.is_some() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    // after the merger the page shows the agency as it now stands
    let (agency, all) = match report {
        Some(_) => managed(&state, &admin, &code)
            .await?
            .unwrap_or((agency, all)),
        None => (agency, all),
    };
    Ok((
        status,
        edit_page(
            &state,
            layout,
            &admin,
            &agency,
            &all,
            vec![],
            AgencyInput::of(&agency),
            (f.ke_thua, typed_date, errors),
            report,
        ),
    )
        .into_response())
}

fn report_view(m: &Merger, r: MergeReport, all: &[Agency]) -> ReportView {
    ReportView {
        successor: all
            .iter()
            .find(|a| a.code == m.successor)
            .map_or(m.successor.to_string(), |a| a.name.to_string()),
        effective: vntime::format_date(m.effective),
        moved: r.moved.iter().map(|c| c.to_string()).collect(),
        drafts: r.drafts_moved,
        children: r.children_moved,
        levels_carried: r.levels_carried.len(),
        levels_to_review: r
            .levels_to_review
            .iter()
            .map(|l| format!("{} — {} (mức {})", l.procedure, l.case, l.level.number()))
            .collect(),
        workflows_to_review: r
            .workflows_to_review
            .iter()
            .map(|(p, c)| (format!("/quan-tri/quy-trinh/{p}/{c}"), format!("{p} — {c}")))
            .collect(),
        grants: r.grants_to_review,
    }
}
