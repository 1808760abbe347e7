//! Editors and administrators keep the procedure records: every change of a record is saved as a new version
//! (dossiers keep the version they were submitted under), a procedure can be unpublished (gone from the portal,
//! closed to new dossiers, still readable for the dossiers under it), the online level of each case at each agency
//! is set from a date on with its history, and any two versions are compared side by side.
//!
//! What the form edits: name, publication, decision, where to submit, number of sets, implementing levels,
//! audiences, conditions, steps, results, legal bases, and for each case its name, its components (name, originals,
//! copies, required; a template file stays with its row), time limit per channel (with the cut-off hour) and fee
//! lines. New cases, template files and e-forms come with the import.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use time::OffsetDateTime;

use motcua_domain::{
    AgencyCode, ApplicantKind, CaseKey, Channel, ChannelTimeLimit, FeeDue, FeeKind, FeeLine,
    ImplementingLevel, LegalBasis, NonEmptyText, OnlineServiceLevel, Procedure, ProcedureCode,
    ServiceLevelAssignment, TimeLimit, TimeUnit,
    form::{parse_date, parse_money},
    policy::Action,
    vntime,
};

use crate::{
    AppError, AppState, error::not_found, guard, input::Form, input::Query, layout::Layout,
    viewer::Viewer,
};

const PATH: &str = "/quan-tri/thu-tuc";
/// Blank fee rows offered under each case's fees, to add lines without script.
const BLANK_FEES: usize = 2;

/// The serde name of a catalogue enum (`working_days`, `levy`, …): the value of its form control.
fn key<T: Serialize>(value: T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

fn from_key<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_value(Value::String(text.trim().to_string())).ok()
}

pub(crate) struct Row {
    href: String,
    code: String,
    name: String,
    version: u32,
    published: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "procedures.html")]
pub(crate) struct ListPage {
    layout: Layout,
    q: String,
    rows: Vec<Row>,
    total: usize,
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    q: String,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Query(query): Query<ListQuery>,
) -> Result<Response, AppError> {
    if let Err(r) = guard::require(&state, &viewer, Action::EditContent, PATH).await {
        return Ok(r);
    }
    let q = motcua_domain::text::normalize(&query.q);
    let needle = motcua_search::fold(&q);
    let all = state.store.catalogue.list_procedures().await?;
    let total = all.len();
    let rows = all
        .into_iter()
        .filter(|s| {
            needle.is_empty()
                || s.procedure.code.as_str().contains(needle.as_str())
                || motcua_search::fold(s.procedure.name.as_str()).contains(&needle)
        })
        .take(200)
        .map(|s| Row {
            href: format!("{PATH}/{}", s.procedure.code),
            code: s.procedure.code.to_string(),
            name: s.procedure.name.to_string(),
            version: s.version,
            published: s.procedure.published,
        })
        .collect();
    Ok(ListPage {
        layout,
        q,
        rows,
        total,
    }
    .into_response())
}

/// One channel's time limit as typed.
pub(crate) struct LimitRow {
    channel: &'static str,
    label: &'static str,
    value: String,
    unit: String,
    cutoff: String,
    note: String,
}

/// One dossier component as typed (its template, if any, stays with its row).
#[derive(Default)]
pub(crate) struct ComponentRow {
    name: String,
    originals: String,
    copies: String,
    required: bool,
    template: Option<String>,
}

/// Blank component rows offered under each case's components.
const BLANK_COMPONENTS: usize = 2;

/// One fee line as typed.
#[derive(Default)]
pub(crate) struct FeeRow {
    description: String,
    kind: String,
    amount: String,
    online: String,
    due: String,
    exemption: String,
    /// The e-form's number field that counts the copies, when the line is charged per copy.
    per_copy: String,
}

pub(crate) struct CaseForm {
    name: String,
    components: Vec<ComponentRow>,
    limits: Vec<LimitRow>,
    fees: Vec<FeeRow>,
}

/// The whole form as typed (or as the record stands).
pub(crate) struct Typed {
    name: String,
    published: bool,
    decision: String,
    where_to_submit: String,
    sets: String,
    levels: Vec<(String, &'static str, bool)>,
    applicants: Vec<(String, &'static str, bool)>,
    conditions: String,
    steps: String,
    results: String,
    legal_bases: String,
    cases: Vec<CaseForm>,
    /// From which day the new version applies (dd/mm/yyyy; today when left as it is).
    effective: String,
}

fn lines(list: &[String]) -> String {
    list.join("\n")
}

fn basis_line(b: &LegalBasis) -> String {
    let mut parts = vec![b.number.to_string(), b.title.to_string()];
    if b.issued_on.is_some() || b.issuer.is_some() {
        parts.push(b.issued_on.map(vntime::format_date).unwrap_or_default());
    }
    if let Some(issuer) = &b.issuer {
        parts.push(issuer.clone());
    }
    parts.join(" | ")
}

fn typed_of(p: &Procedure) -> Typed {
    Typed {
        name: p.name.to_string(),
        published: p.published,
        decision: p.publishing_decision.clone().unwrap_or_default(),
        where_to_submit: p.where_to_submit.clone().unwrap_or_default(),
        sets: p.number_of_sets.to_string(),
        levels: [
            ImplementingLevel::Ministry,
            ImplementingLevel::Province,
            ImplementingLevel::Commune,
        ]
        .into_iter()
        .map(|l| (key(l), l.label_vi(), p.implementing_levels.contains(&l)))
        .collect(),
        applicants: [
            ApplicantKind::Citizen,
            ApplicantKind::Foreigner,
            ApplicantKind::Business,
            ApplicantKind::Organisation,
        ]
        .into_iter()
        .map(|a| (key(a), a.label_vi(), p.applicants.contains(&a)))
        .collect(),
        conditions: lines(&p.conditions),
        steps: lines(&p.steps),
        results: lines(&p.results),
        legal_bases: p
            .legal_bases
            .iter()
            .map(basis_line)
            .collect::<Vec<_>>()
            .join("\n"),
        effective: vntime::format_date(vntime::vn_date(OffsetDateTime::now_utc())),
        cases: p
            .cases
            .iter()
            .map(|c| CaseForm {
                name: c.name.to_string(),
                components: c
                    .components
                    .iter()
                    .map(|k| ComponentRow {
                        name: k.name.to_string(),
                        originals: k.originals.to_string(),
                        copies: k.copies.to_string(),
                        required: k.required,
                        template: k.template.as_ref().map(|t| t.file_name.to_string()),
                    })
                    .chain((0..BLANK_COMPONENTS).map(|_| ComponentRow {
                        required: true,
                        ..ComponentRow::default()
                    }))
                    .collect(),
                limits: Channel::ALL
                    .into_iter()
                    .map(|ch| {
                        let t = c.time_limit_for(ch);
                        LimitRow {
                            channel: ch.as_str(),
                            label: ch.label_vi(),
                            value: t.map(|t| t.limit.value.to_string()).unwrap_or_default(),
                            unit: t
                                .map_or_else(|| key(TimeUnit::WorkingDays), |t| key(t.limit.unit)),
                            cutoff: t
                                .and_then(|t| t.cutoff_hour)
                                .map(|h| h.to_string())
                                .unwrap_or_default(),
                            note: t.and_then(|t| t.note.clone()).unwrap_or_default(),
                        }
                    })
                    .collect(),
                fees: c
                    .fees
                    .iter()
                    .map(|f| FeeRow {
                        description: f.description.to_string(),
                        kind: key(f.kind),
                        amount: f.amount.amount().to_string(),
                        online: f
                            .online_amount
                            .map(|a| a.amount().to_string())
                            .unwrap_or_default(),
                        due: key(f.due),
                        exemption: f.exemption_note.clone().unwrap_or_default(),
                        per_copy: f.per_copy_of.clone().unwrap_or_default(),
                    })
                    .chain((0..BLANK_FEES).map(|_| FeeRow {
                        kind: key(FeeKind::Levy),
                        due: key(FeeDue::AfterCheck),
                        ..FeeRow::default()
                    }))
                    .collect(),
            })
            .collect(),
    }
}

type Fields = HashMap<String, String>;

/// A group of checkboxes named `{prefix}_{value}`: marks in `group` which were ticked, and returns their values.
fn ticked<T: serde::de::DeserializeOwned>(
    fields: &Fields,
    prefix: &str,
    group: &mut [(String, &'static str, bool)],
) -> Vec<T> {
    for (value, _, checked) in group.iter_mut() {
        *checked = fields.contains_key(&format!("{prefix}_{value}"));
    }
    group
        .iter()
        .filter(|g| g.2)
        .filter_map(|g| from_key(&g.0))
        .collect()
}

fn text(fields: &Fields, name: &str) -> String {
    motcua_domain::text::normalize(fields.get(name).map_or("", String::as_str))
}

fn line_list(fields: &Fields, name: &str) -> Vec<String> {
    text(fields, name)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Read the posted form onto the current record: the changed record, or every problem by field. `typed` gets
/// what was typed, to show again.
fn read(current: &Procedure, fields: &Fields) -> (Result<Procedure, Vec<(String, String)>>, Typed) {
    let mut typed = typed_of(current);
    let mut errors: Vec<(String, String)> = Vec::new();
    let mut p = current.clone();

    typed.name = text(fields, "ten");
    match NonEmptyText::parse(&typed.name) {
        Ok(name) => p.name = name,
        Err(_) => errors.push(("ten".into(), "Nhập tên thủ tục".into())),
    }
    typed.published = fields.contains_key("cong_bo");
    p.published = typed.published;
    typed.decision = text(fields, "quyet_dinh");
    p.publishing_decision = Some(typed.decision.clone()).filter(|d| !d.is_empty());
    typed.where_to_submit = text(fields, "noi_nop");
    p.where_to_submit = Some(typed.where_to_submit.clone()).filter(|d| !d.is_empty());
    typed.sets = text(fields, "so_bo");
    match typed.sets.parse::<u8>() {
        Ok(n) if (1..=20).contains(&n) => p.number_of_sets = n,
        _ => errors.push(("so_bo".into(), "Số bộ hồ sơ là một số từ 1 đến 20".into())),
    }
    p.implementing_levels = ticked(fields, "cap", &mut typed.levels);
    if p.implementing_levels.is_empty() {
        errors.push((
            "cap_province".into(),
            "Chọn ít nhất một cấp thực hiện".into(),
        ));
    }
    p.applicants = ticked(fields, "doi_tuong", &mut typed.applicants);
    if p.applicants.is_empty() {
        errors.push((
            "doi_tuong_citizen".into(),
            "Chọn ít nhất một đối tượng thực hiện".into(),
        ));
    }
    typed.conditions = text(fields, "dieu_kien");
    p.conditions = line_list(fields, "dieu_kien");
    typed.steps = text(fields, "trinh_tu");
    p.steps = line_list(fields, "trinh_tu");
    typed.results = text(fields, "ket_qua");
    p.results = line_list(fields, "ket_qua");
    typed.legal_bases = text(fields, "can_cu");
    p.legal_bases.clear();
    for (i, line) in line_list(fields, "can_cu").iter().enumerate() {
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        let number = NonEmptyText::parse(parts[0]);
        let title = NonEmptyText::parse(parts.get(1).copied().unwrap_or(""));
        let issued_on = match parts.get(2).copied().filter(|d| !d.is_empty()) {
            None => Ok(None),
            Some(d) => parse_date(d).map(Some).ok_or(()),
        };
        match (number, title, issued_on) {
            (Ok(number), Ok(title), Ok(issued_on)) => p.legal_bases.push(LegalBasis {
                number,
                title,
                issued_on,
                issuer: parts
                    .get(3)
                    .map(|s| s.to_string())
                    .filter(|s| !s.is_empty()),
            }),
            _ => errors.push((
                "can_cu".into(),
                format!(
                    "Căn cứ pháp lý dòng {}: viết “Số hiệu | Trích yếu | ngày/tháng/năm | Cơ quan ban hành” (hai phần sau không bắt buộc)",
                    i + 1
                ),
            )),
        }
    }

    for (ci, (case, form)) in p.cases.iter_mut().zip(typed.cases.iter_mut()).enumerate() {
        let id = |rest: &str| format!("th{ci}_{rest}");
        form.name = text(fields, &id("ten"));
        match NonEmptyText::parse(&form.name) {
            Ok(name) => case.name = name,
            Err(_) => errors.push((id("ten"), format!("Nhập tên trường hợp {}", ci + 1))),
        }
        // components: a row left without a name is dropped; a row keeps the template file it had
        let posted = (0..)
            .take_while(|j| fields.contains_key(&id(&format!("tp{j}_ten"))))
            .count();
        let before = std::mem::take(&mut case.components);
        form.components = (0..posted)
            .map(|j| {
                let cid = |field: &str| id(&format!("tp{j}_{field}"));
                ComponentRow {
                    name: text(fields, &cid("ten")),
                    originals: text(fields, &cid("chinh")),
                    copies: text(fields, &cid("sao")),
                    required: fields.contains_key(&cid("bat_buoc")),
                    template: before
                        .get(j)
                        .and_then(|k| k.template.as_ref())
                        .map(|t| t.file_name.to_string()),
                }
            })
            .collect();
        for (j, row) in form.components.iter().enumerate() {
            if row.name.is_empty() {
                continue;
            }
            let count =
                |typed: &str, field: &str, what: &str, errors: &mut Vec<(String, String)>| {
                    if typed.is_empty() {
                        return Some(0);
                    }
                    let n = typed.parse::<u8>().ok().filter(|n| *n <= 20);
                    if n.is_none() {
                        errors.push((
                            id(&format!("tp{j}_{field}")),
                            format!(
                                "{}: số {what} của “{}” là một số từ 0 đến 20",
                                form.name, row.name
                            ),
                        ));
                    }
                    n
                };
            let originals = count(&row.originals, "chinh", "bản chính", &mut errors);
            let copies = count(&row.copies, "sao", "bản sao", &mut errors);
            if let (Ok(name), Some(originals), Some(copies)) =
                (NonEmptyText::parse(&row.name), originals, copies)
            {
                case.components.push(motcua_domain::Component {
                    name,
                    originals,
                    copies,
                    required: row.required,
                    template: before.get(j).and_then(|k| k.template.clone()),
                    from_form: before.get(j).is_some_and(|k| k.from_form),
                });
            }
        }
        let blank_components = form
            .components
            .iter()
            .rev()
            .take_while(|r| r.name.is_empty())
            .count();
        form.components
            .extend((blank_components..BLANK_COMPONENTS).map(|_| ComponentRow {
                required: true,
                ..ComponentRow::default()
            }));

        let mut limits = Vec::new();
        for row in &mut form.limits {
            let rid = |field: &str| id(&format!("han_{}_{field}", row.channel));
            row.value = text(fields, &rid("so"));
            row.unit = text(fields, &rid("don_vi"));
            row.cutoff = text(fields, &rid("gio"));
            row.note = text(fields, &rid("ghi_chu"));
            if row.value.is_empty() {
                continue;
            }
            let Some(channel) = Channel::ALL.into_iter().find(|c| c.as_str() == row.channel) else {
                continue;
            };
            let value = row.value.parse::<u32>().ok();
            let unit = from_key::<TimeUnit>(&row.unit);
            let cutoff = if row.cutoff.is_empty() {
                Ok(None)
            } else {
                row.cutoff
                    .trim_end_matches(['h', 'g', ' '])
                    .parse::<u8>()
                    .ok()
                    .filter(|h| (8..=17).contains(h))
                    .map(Some)
                    .ok_or(())
            };
            match (value, unit) {
                (Some(value), Some(unit)) => {
                    let limit = TimeLimit { value, unit };
                    if let Err(e) = limit.validate() {
                        errors.push((rid("so"), format!("{} — {}: {e}", form.name, row.label)));
                    } else {
                        limits.push(ChannelTimeLimit {
                            channel,
                            limit,
                            note: Some(row.note.clone()).filter(|n| !n.is_empty()),
                            cutoff_hour: cutoff.unwrap_or(None),
                        });
                    }
                }
                _ => errors.push((
                    rid("so"),
                    format!(
                        "{} — {}: thời hạn là một số nguyên, ví dụ 5",
                        form.name, row.label
                    ),
                )),
            }
            if cutoff.is_err() {
                errors.push((
                    rid("gio"),
                    format!(
                        "{} — {}: giờ chốt nhận là một giờ trong ngày làm việc, từ 8 đến 17",
                        form.name, row.label
                    ),
                ));
            }
        }
        if limits.is_empty() {
            errors.push((
                id("han_online_so"),
                format!(
                    "{}: nhập thời hạn giải quyết cho ít nhất một kênh",
                    form.name
                ),
            ));
        }
        case.time_limits = limits;

        let mut fees = Vec::new();
        let posted = (0..)
            .take_while(|j| fields.contains_key(&id(&format!("phi{j}_mo_ta"))))
            .count();
        form.fees = (0..posted)
            .map(|j| {
                let fid = |field: &str| id(&format!("phi{j}_{field}"));
                FeeRow {
                    description: text(fields, &fid("mo_ta")),
                    kind: text(fields, &fid("loai")),
                    amount: text(fields, &fid("so_tien")),
                    online: text(fields, &fid("truc_tuyen")),
                    due: text(fields, &fid("khi")),
                    exemption: text(fields, &fid("mien")),
                    per_copy: text(fields, &fid("theo_ban")),
                }
            })
            .collect();
        for (j, row) in form.fees.iter().enumerate() {
            let fid = |field: &str| id(&format!("phi{j}_{field}"));
            if row.description.is_empty() && row.amount.is_empty() {
                continue;
            }
            let description = NonEmptyText::parse(&row.description);
            if description.is_err() {
                errors.push((
                    fid("mo_ta"),
                    format!("{}: nhập tên khoản phí, lệ phí dòng {}", form.name, j + 1),
                ));
            }
            let amount = parse_money(&row.amount);
            if amount.is_none() {
                errors.push((
                    fid("so_tien"),
                    format!("{}: số tiền dòng {} viết như 1.234.000", form.name, j + 1),
                ));
            }
            let online = if row.online.is_empty() {
                Some(None)
            } else {
                parse_money(&row.online).map(Some)
            };
            if online.is_none() {
                errors.push((
                    fid("truc_tuyen"),
                    format!(
                        "{}: số tiền nộp trực tuyến dòng {} viết như 1.234.000",
                        form.name,
                        j + 1
                    ),
                ));
            }
            if let (Ok(description), Some(amount), Some(online)) = (description, amount, online) {
                fees.push(FeeLine {
                    kind: from_key(&row.kind).unwrap_or(FeeKind::Levy),
                    amount,
                    description,
                    online_amount: online,
                    due: from_key(&row.due).unwrap_or_default(),
                    exemption_note: Some(row.exemption.clone()).filter(|e| !e.is_empty()),
                    per_copy_of: Some(row.per_copy.clone()).filter(|k| !k.is_empty()),
                });
            }
        }
        case.fees = fees;
        // rows stay where they were typed (error links point at them); blank rows at the end to add a line
        let blank_at_end = form
            .fees
            .iter()
            .rev()
            .take_while(|r| r.description.is_empty() && r.amount.is_empty())
            .count();
        form.fees.extend((blank_at_end..BLANK_FEES).map(|_| FeeRow {
            kind: key(FeeKind::Levy),
            due: key(FeeDue::AfterCheck),
            ..FeeRow::default()
        }));
    }
    if errors.is_empty()
        && let Err(e) = p.validate()
    {
        errors.push(("ten".into(), e.to_string()));
    }
    if errors.is_empty() {
        (Ok(p), typed)
    } else {
        (Err(errors), typed)
    }
}

pub(crate) struct LevelRow {
    case: String,
    agency: String,
    level: String,
    from: String,
    in_force: bool,
}

pub(crate) struct VersionRow {
    number: u32,
    at: String,
    effective: String,
    /// Saved ahead: applies from a day still to come.
    ahead: bool,
    href: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "procedure_edit.html")]
pub(crate) struct EditPage {
    layout: Layout,
    action: String,
    code: String,
    version: u32,
    saved: Option<String>,
    errors: Vec<(String, String)>,
    typed: Typed,
    units: Vec<(String, &'static str)>,
    kinds: Vec<(String, &'static str)>,
    dues: Vec<(String, &'static str)>,
    versions: Vec<VersionRow>,
    levels: Vec<LevelRow>,
    case_choices: Vec<(String, String)>,
    agency_choices: Vec<(String, String)>,
    level_errors: Vec<(String, String)>,
    level_typed: (String, String, String, String),
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Saved {
    da_luu: Option<u32>,
    muc_do: Option<String>,
}

async fn current(state: &AppState, code: &str) -> Result<Option<(Procedure, u32)>, AppError> {
    let Ok(code) = ProcedureCode::parse(code) else {
        return Ok(None);
    };
    Ok(state
        .store
        .catalogue
        .get_procedure(&code)
        .await?
        .map(|s| (s.procedure, s.version)))
}

#[allow(clippy::too_many_arguments)]
async fn edit_page(
    state: &AppState,
    layout: Layout,
    p: &Procedure,
    version: u32,
    saved: Option<String>,
    errors: Vec<(String, String)>,
    typed: Typed,
    level_errors: Vec<(String, String)>,
    level_typed: (String, String, String, String),
) -> Result<EditPage, AppError> {
    let view = state.catalogue.view();
    let versions = state
        .store
        .catalogue
        .versions(&p.code)
        .await?
        .into_iter()
        .rev()
        .map(|v| VersionRow {
            number: v.version,
            at: vntime::format_datetime(v.made_at),
            effective: vntime::format_date(v.effective_from),
            ahead: v.version > version,
            href: format!(
                "{PATH}/{}/phien-ban?tu={}&den={}",
                p.code,
                v.version.saturating_sub(1).max(1),
                v.version
            ),
        })
        .collect::<Vec<_>>();
    let today = vntime::vn_date(OffsetDateTime::now_utc());
    let history = state.store.catalogue.level_history(&p.code).await?;
    let levels = history
        .iter()
        .map(|l| {
            // in force: the latest start on or before today for its case and agency
            let in_force = l.effective_from <= today
                && !history.iter().any(|o| {
                    o.case == l.case
                        && o.agency == l.agency
                        && o.effective_from > l.effective_from
                        && o.effective_from <= today
                });
            LevelRow {
                case: p
                    .cases
                    .iter()
                    .find(|c| c.key == l.case)
                    .map_or(l.case.to_string(), |c| c.name.to_string()),
                agency: view.agency_name(&l.agency).to_string(),
                level: format!("Mức độ {}", l.level.number()),
                from: vntime::format_date(l.effective_from),
                in_force,
            }
        })
        .collect();
    Ok(EditPage {
        layout,
        action: format!("{PATH}/{}", p.code),
        code: p.code.to_string(),
        version,
        saved,
        errors,
        typed,
        units: [
            TimeUnit::WorkingDays,
            TimeUnit::WorkingHours,
            TimeUnit::CalendarDays,
        ]
        .into_iter()
        .map(|u| (key(u), u.label_vi()))
        .collect(),
        kinds: [FeeKind::Levy, FeeKind::Fee]
            .into_iter()
            .map(|k| (key(k), k.label_vi()))
            .collect(),
        dues: vec![
            (key(FeeDue::AfterCheck), "Sau khi hồ sơ được kiểm tra"),
            (key(FeeDue::AtSubmission), "Khi nộp hồ sơ trực tuyến"),
        ],
        versions,
        levels,
        case_choices: p
            .cases
            .iter()
            .map(|c| (c.key.to_string(), c.name.to_string()))
            .collect(),
        agency_choices: carried_out_by(state, p)
            .iter()
            .map(|a| (a.to_string(), view.agency_name(a).to_string()))
            .collect(),
        level_errors,
        level_typed,
    })
}

/// The agencies that carry the procedure out today: a merged one's successor in its place (as the portal shows).
fn carried_out_by(state: &AppState, p: &Procedure) -> Vec<AgencyCode> {
    let view = state.catalogue.view();
    view.get(p.code.as_str())
        .map_or_else(|| p.agencies.clone(), |e| e.procedure.agencies.clone())
}

fn blank_level(today: time::Date) -> (String, String, String, String) {
    (
        String::new(),
        String::new(),
        "3".into(),
        vntime::format_date(today),
    )
}

pub(crate) async fn edit(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
    Query(q): Query<Saved>,
) -> Result<Response, AppError> {
    if let Err(r) = guard::require(&state, &viewer, Action::EditContent, PATH).await {
        return Ok(r);
    }
    let Some((p, version)) = current(&state, &code).await? else {
        return Ok(not_found().await);
    };
    let ahead = match q.da_luu.filter(|v| *v > version) {
        Some(v) => state
            .store
            .catalogue
            .versions(&p.code)
            .await?
            .into_iter()
            .find(|i| i.version == v),
        None => None,
    };
    let saved = match (q.da_luu, q.muc_do) {
        (Some(v), _) if v == version => Some(format!(
            "Đã lưu phiên bản {v}. Hồ sơ đã nộp trước đó vẫn theo phiên bản cũ."
        )),
        (Some(v), _) if ahead.is_some() => Some(format!(
            "Đã lưu phiên bản {v}, áp dụng từ ngày {}; đến ngày đó thủ tục vẫn theo phiên bản {version}.",
            ahead
                .map(|i| vntime::format_date(i.effective_from))
                .unwrap_or_default()
        )),
        (_, Some(_)) => Some("Đã ghi mức độ dịch vụ trực tuyến.".to_string()),
        _ => None,
    };
    let today = vntime::vn_date(OffsetDateTime::now_utc());
    Ok(edit_page(
        &state,
        layout,
        &p,
        version,
        saved,
        vec![],
        typed_of(&p),
        vec![],
        blank_level(today),
    )
    .await?
    .into_response())
}

pub(crate) async fn save(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
    Form(fields): Form<Fields>,
) -> Result<Response, AppError> {
    if let Err(r) = guard::require(&state, &viewer, Action::EditContent, PATH).await {
        return Ok(r);
    }
    let Some((p, version)) = current(&state, &code).await? else {
        return Ok(not_found().await);
    };
    let (changed, mut typed) = read(&p, &fields);
    let today = vntime::vn_date(OffsetDateTime::now_utc());
    typed.effective = text(&fields, "ap_dung_tu");
    let effective = if typed.effective.is_empty() {
        Ok(today)
    } else {
        match parse_date(&typed.effective) {
            Some(d) if d >= today => Ok(d),
            Some(_) => Err(format!(
                "Ngày áp dụng không được trước hôm nay ({}): một phiên bản không sửa lại quá khứ",
                vntime::format_date(today)
            )),
            None => {
                Err("Nhập ngày áp dụng có thật, dạng ngày/tháng/năm, ví dụ 01/01/2027".to_string())
            }
        }
    };
    // a version saved ahead was built without this change: a version applying before it would be undone on its
    // day, so a change goes in from that day on
    let ahead = state
        .store
        .catalogue
        .versions(&p.code)
        .await?
        .into_iter()
        .filter(|v| v.version > version)
        .map(|v| (v.version, v.effective_from))
        .max_by_key(|v| v.1);
    let effective = match (effective, ahead) {
        (Ok(d), Some((n, from))) if d < from => Err(format!(
            "Phiên bản {n} đã được lưu để áp dụng từ {}: thay đổi này phải áp dụng từ ngày đó trở đi, nếu không sẽ bị phiên bản {n} thay thế",
            vntime::format_date(from)
        )),
        (other, _) => other,
    };
    // a form opened on an older version would silently undo what was saved since
    let stale = fields
        .get("phien_ban")
        .and_then(|v| v.trim().parse::<u32>().ok())
        .is_some_and(|v| v != version);
    let changed = match (changed, &effective) {
        (Ok(_), Err(message)) => Err(vec![("ap_dung_tu".to_string(), message.clone())]),
        (Err(mut errors), Err(message)) => {
            errors.push(("ap_dung_tu".to_string(), message.clone()));
            Err(errors)
        }
        (changed, _) => changed,
    };
    let changed = match changed {
        Ok(_) if stale => Err(vec![(
            "ten".to_string(),
            format!(
                "Thủ tục vừa được lưu thành phiên bản {version} trong khi bạn sửa: mở lại trang để sửa trên phiên bản mới nhất"
            ),
        )]),
        other => other,
    };
    let errors = match changed {
        Ok(changed) if changed == p => {
            let today = vntime::vn_date(OffsetDateTime::now_utc());
            let saved = Some("Không có thay đổi nào: giữ nguyên phiên bản hiện hành.".to_string());
            return Ok(edit_page(
                &state,
                layout,
                &p,
                version,
                saved,
                vec![],
                typed,
                vec![],
                blank_level(today),
            )
            .await?
            .into_response());
        }
        Ok(changed) => {
            let new = state
                .store
                .catalogue
                .save_procedure_from(
                    &changed,
                    OffsetDateTime::now_utc(),
                    effective.unwrap_or(today),
                )
                .await?;
            state.catalogue.refresh(&state.store).await?;
            return Ok(Redirect::to(&format!("{PATH}/{}?da_luu={new}", p.code)).into_response());
        }
        Err(errors) => errors,
    };
    let today = vntime::vn_date(OffsetDateTime::now_utc());
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        edit_page(
            &state,
            layout,
            &p,
            version,
            None,
            errors,
            typed,
            vec![],
            blank_level(today),
        )
        .await?,
    )
        .into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct LevelForm {
    #[serde(default)]
    truong_hop: String,
    #[serde(default)]
    co_quan: String,
    #[serde(default)]
    muc_do: String,
    #[serde(default)]
    tu_ngay: String,
}

pub(crate) async fn set_level(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
    Form(f): Form<LevelForm>,
) -> Result<Response, AppError> {
    let editor = match guard::require(&state, &viewer, Action::EditContent, PATH).await {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let Some((p, version)) = current(&state, &code).await? else {
        return Ok(not_found().await);
    };
    let mut errors = Vec::new();
    let case = CaseKey::parse(&f.truong_hop)
        .ok()
        .filter(|k| p.cases.iter().any(|c| &c.key == k));
    if case.is_none() {
        errors.push(("truong_hop".to_string(), "Chọn trường hợp".to_string()));
    }
    let agency = AgencyCode::parse(&f.co_quan)
        .ok()
        .filter(|a| carried_out_by(&state, &p).contains(a));
    match &agency {
        None => errors.push(("co_quan".to_string(), "Chọn cơ quan thực hiện thủ tục".to_string())),
        Some(a) if !guard::allows(&state.catalogue, &editor, Action::SetServiceLevel(a)) => {
            errors.push((
                "co_quan".to_string(),
                "Cơ quan này nằm ngoài phạm vi bạn được giao: chỉ đặt mức độ cho cơ quan thuộc phạm vi của mình"
                    .to_string(),
            ))
        }
        Some(_) => {}
    }
    let level = f.muc_do.trim().parse::<u8>().ok().and_then(|n| {
        OnlineServiceLevel::ALL
            .into_iter()
            .find(|l| l.number() == n)
    });
    if level.is_none() {
        errors.push(("muc_do".to_string(), "Chọn mức độ từ 1 đến 4".to_string()));
    }
    let typed_date = motcua_domain::text::normalize(&f.tu_ngay);
    let from = parse_date(&typed_date);
    if from.is_none() {
        errors.push((
            "tu_ngay".to_string(),
            "Nhập ngày có thật, dạng ngày/tháng/năm, ví dụ 01/01/2027".to_string(),
        ));
    }
    if let (Some(case), Some(agency), Some(level), Some(from), true) =
        (case, agency, level, from, errors.is_empty())
    {
        state
            .store
            .catalogue
            .set_service_level(&ServiceLevelAssignment {
                procedure: p.code.clone(),
                case,
                agency,
                level,
                effective_from: from,
            })
            .await?;
        state.catalogue.refresh(&state.store).await?;
        return Ok(Redirect::to(&format!("{PATH}/{}?muc_do=1#muc-do", p.code)).into_response());
    }
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        edit_page(
            &state,
            layout,
            &p,
            version,
            None,
            vec![],
            typed_of(&p),
            errors,
            (f.truong_hop, f.co_quan, f.muc_do, typed_date),
        )
        .await?,
    )
        .into_response())
}

/// One line of the comparison: where in the record, before, after.
pub(crate) struct Change {
    place: String,
    before: String,
    after: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "procedure_diff.html")]
pub(crate) struct DiffPage {
    layout: Layout,
    code: String,
    name: String,
    from: u32,
    to: u32,
    versions: Vec<u32>,
    changes: Vec<Change>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct DiffQuery {
    tu: Option<u32>,
    den: Option<u32>,
}

/// The Vietnamese name of a key of the record's JSON.
fn label(key: &str) -> &str {
    match key {
        "name" => "Tên",
        "cases" => "Trường hợp",
        "fees" => "Phí, lệ phí",
        "amount" => "Số tiền",
        "online_amount" => "Số tiền nộp trực tuyến",
        "description" => "Nội dung",
        "kind" => "Loại",
        "due" => "Thời điểm nộp",
        "exemption_note" => "Miễn, giảm",
        "time_limits" => "Thời hạn giải quyết",
        "channel" => "Kênh",
        "limit" => "Thời hạn",
        "value" => "Số",
        "unit" => "Đơn vị",
        "cutoff_hour" => "Giờ chốt nhận",
        "note" => "Ghi chú",
        "components" => "Thành phần hồ sơ",
        "originals" => "Bản chính",
        "copies" => "Bản sao",
        "required" => "Bắt buộc",
        "template" => "Mẫu đơn",
        "legal_bases" => "Căn cứ pháp lý",
        "number" => "Số hiệu",
        "title" => "Trích yếu",
        "issued_on" => "Ngày ban hành",
        "issuer" => "Cơ quan ban hành",
        "conditions" => "Yêu cầu, điều kiện",
        "steps" => "Trình tự thực hiện",
        "results" => "Kết quả",
        "fields" => "Lĩnh vực",
        "implementing_levels" => "Cấp thực hiện",
        "agencies" => "Cơ quan thực hiện",
        "applicants" => "Đối tượng thực hiện",
        "number_of_sets" => "Số bộ hồ sơ",
        "where_to_submit" => "Nơi tiếp nhận",
        "publishing_decision" => "Quyết định công bố",
        "published" => "Đang công bố",
        "form" => "Biểu mẫu điện tử",
        "key" => "Mã",
        other => other,
    }
}

/// Every leaf of the record with its place, in order.
fn flatten(value: &Value, place: &str, out: &mut Vec<(String, String)>) {
    let join = |part: &str| {
        if place.is_empty() {
            part.to_string()
        } else {
            format!("{place} › {part}")
        }
    };
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(v, &join(label(k)), out);
            }
        }
        Value::Array(list) => {
            for (i, v) in list.iter().enumerate() {
                flatten(v, &join(&(i + 1).to_string()), out);
            }
        }
        Value::Null => {}
        Value::Bool(b) => out.push((place.to_string(), if *b { "có" } else { "không" }.into())),
        Value::Number(n) => out.push((place.to_string(), n.to_string())),
        Value::String(s) => out.push((place.to_string(), s.clone())),
    }
}

/// What changed between two versions of a record, place by place.
pub(crate) fn changes(before: &Procedure, after: &Procedure) -> Vec<Change> {
    let as_rows = |p: &Procedure| {
        let mut out = Vec::new();
        if let Ok(mut v) = serde_json::to_value(p) {
            // an absent `published` means published: compare like for like
            if let Value::Object(map) = &mut v {
                map.insert("published".into(), Value::Bool(p.published));
            }
            flatten(&v, "", &mut out);
        }
        out
    };
    let (old, new) = (as_rows(before), as_rows(after));
    let old_map: HashMap<&str, &str> = old.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let new_map: HashMap<&str, &str> = new.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut out = Vec::new();
    for (place, value) in &old {
        match new_map.get(place.as_str()) {
            Some(now) if now == value => {}
            now => out.push(Change {
                place: place.clone(),
                before: value.clone(),
                after: now.map_or("—".to_string(), |n| n.to_string()),
            }),
        }
    }
    for (place, value) in &new {
        if !old_map.contains_key(place.as_str()) {
            out.push(Change {
                place: place.clone(),
                before: "—".into(),
                after: value.clone(),
            });
        }
    }
    out
}

pub(crate) async fn diff(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
    Query(q): Query<DiffQuery>,
) -> Result<Response, AppError> {
    if let Err(r) = guard::require(&state, &viewer, Action::EditContent, PATH).await {
        return Ok(r);
    }
    let Some((p, version)) = current(&state, &code).await? else {
        return Ok(not_found().await);
    };
    let to = q
        .den
        .filter(|v| (1..=version).contains(v))
        .unwrap_or(version);
    let from =
        q.tu.filter(|v| (1..=version).contains(v))
            .unwrap_or(to.saturating_sub(1).max(1));
    let read = |v: u32| {
        let store = state.store.clone();
        let code = p.code.clone();
        async move { store.catalogue.get_procedure_version(&code, v).await }
    };
    let (Some(before), Some(after)) = (read(from).await?, read(to).await?) else {
        return Ok(not_found().await);
    };
    Ok(DiffPage {
        layout,
        code: p.code.to_string(),
        name: p.name.to_string(),
        from,
        to,
        versions: (1..=version).rev().collect(),
        changes: changes(&before, &after),
    }
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_comparison_names_each_changed_place_in_vietnamese() {
        let before: Procedure = serde_json::from_value(serde_json::json!({
            "code": "1.001193", "name": "Đăng ký khai sinh", "fields": ["HOTICH"],
            "implementing_levels": ["commune"], "agencies": ["000.00.06.H56"], "applicants": ["citizen"],
            "cases": [{"key": "mac-dinh", "name": "Thông thường", "components": [],
                "time_limits": [{"channel": "online", "limit": {"value": 5, "unit": "working_days"}}],
                "fees": [{"kind": "levy", "amount": 8000, "description": "Lệ phí"}]}]
        }))
        .unwrap();
        let mut after = before.clone();
        after.cases[0].fees[0].amount = motcua_domain::Vnd::new(10_000).unwrap();
        after.published = false;
        let found: Vec<(String, String, String)> = changes(&before, &after)
            .into_iter()
            .map(|c| (c.place, c.before, c.after))
            .collect();
        assert_eq!(
            found,
            vec![
                (
                    "Trường hợp › 1 › Phí, lệ phí › 1 › Số tiền".to_string(),
                    "8000".to_string(),
                    "10000".to_string()
                ),
                (
                    "Đang công bố".to_string(),
                    "có".to_string(),
                    "không".to_string()
                ),
            ]
        );
        assert!(changes(&before, &before).is_empty());
    }
}
