//! The catalogue for other systems: procedures (the portal list's filters and search, read by
//! `CatalogueView::filters` and `find`, the same code as the page), one procedure with its cases, components, fees,
//! time limits and levels per agency, the agencies and the fields. Served from the in-memory catalogue, like the
//! portal's pages.

use axum::{
    Json,
    extract::{Path, RawQuery, State},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use motcua_domain::OnlineServiceLevel;

use crate::{
    AppState,
    catalogue::{
        Audience, BadFilter, CatalogueView, Entry, Filters, Sort, TypedFilters,
        implementing_level_keys, implementing_level_of,
    },
    input::{InputRejection, Query},
    problem::{FieldProblem, Problem},
};

/// The key a domain value has in the catalogue format (its serde name), as the API gives it.
fn key<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The highest page number asked for (a bound, so the number is one a client's integer holds).
const MAX_PAGE: usize = 100_000;

/// Most procedures one page of the list holds.
const MAX_PER_PAGE: usize = 100;
const DEFAULT_PER_PAGE: usize = 20;

/// Filters, search and paging of the procedure list. Every parameter is optional; a field or agency code that
/// names nothing matches nothing (an empty one filters nothing).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ProceduresQuery {
    /// Words to search for, with or without diacritics (a typo is forgiven), or a procedure code.
    #[param(max_length = 200, example = "dang ky khai sinh")]
    q: Option<String>,
    /// Only the procedures of this field (its code, see `/api/v1/fields`).
    #[param(example = "HOTICH")]
    field: Option<String>,
    /// Only the procedures this agency handles (its code, see `/api/v1/agencies`).
    #[param(example = "000.00.06.H56")]
    agency: Option<String>,
    /// Only the procedures carried out at this level.
    #[param(value_type = Option<ImplementingLevelKey>)]
    implementing_level: Option<String>,
    /// Only the procedures for citizens or for businesses and organisations.
    #[param(value_type = Option<AudienceKey>)]
    audience: Option<String>,
    /// Only the procedures whose highest online level is this one (1–4).
    #[param(value_type = Option<u8>, minimum = 1, maximum = 4)]
    online_level: Option<String>,
    /// The order: `lien-quan` (best match, the default with `q`), `ten` (name, the default without),
    /// `ma` (code), `muc-do` (highest online level first).
    #[param(value_type = Option<SortKey>)]
    sort: Option<String>,
    /// The page, from 1 (at most 100000).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100000, example = 1)]
    page: Option<String>,
    /// Procedures per page, 1–100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, example = 20)]
    per_page: Option<String>,
}

/// Where a procedure is carried out.
#[derive(ToSchema)]
#[schema(as = ImplementingLevelKey)]
#[allow(dead_code)]
pub(crate) enum ImplementingLevelKey {
    #[schema(rename = "tinh")]
    Province,
    #[schema(rename = "xa")]
    Commune,
    #[schema(rename = "bo")]
    Ministry,
}

/// Who a procedure is for.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) enum AudienceKey {
    #[schema(rename = "cong-dan")]
    Citizens,
    #[schema(rename = "doanh-nghiep")]
    Businesses,
}

/// The order of the list.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) enum SortKey {
    #[schema(rename = "lien-quan")]
    Relevance,
    #[schema(rename = "ten")]
    Name,
    #[schema(rename = "ma")]
    Code,
    #[schema(rename = "muc-do")]
    Level,
}

/// A procedure in a list.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ProcedureSummary {
    #[schema(example = "1.001193")]
    code: String,
    #[schema(example = "Đăng ký khai sinh")]
    name: String,
    /// Its page on the portal.
    #[schema(example = "/thu-tuc/1.001193")]
    url: String,
    /// Codes of its fields.
    fields: Vec<String>,
    /// Codes of the agencies that handle it.
    agencies: Vec<String>,
    /// The highest online level offered anywhere today (1–4), none when only in person.
    #[schema(minimum = 1, maximum = 4)]
    online_level: Option<u8>,
    /// Where it is carried out (`tinh`, `xa`, `bo`).
    implementing_levels: Vec<String>,
}

/// One page of procedures.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ProcedurePage {
    items: Vec<ProcedureSummary>,
    /// Procedures matching, on every page.
    total: usize,
    page: usize,
    per_page: usize,
    /// Pages in all (at least 1).
    pages: usize,
}

fn summary(entry: &Entry) -> ProcedureSummary {
    let p = &entry.procedure;
    ProcedureSummary {
        code: p.code.to_string(),
        name: p.name.to_string(),
        url: format!("/thu-tuc/{}", p.code),
        fields: p.fields.iter().map(|f| f.to_string()).collect(),
        agencies: p.agencies.iter().map(|a| a.to_string()).collect(),
        online_level: entry.best_level.map(OnlineServiceLevel::number),
        implementing_levels: implementing_level_keys(p),
    }
}

/// Digits only (no sign, no spaces): what the document's integers are.
pub(super) fn strict_number(typed: &str) -> Option<usize> {
    (!typed.is_empty() && typed.bytes().all(|b| b.is_ascii_digit()))
        .then(|| typed.parse().ok())
        .flatten()
}

/// A whole number from `min` to `max`, or what is wrong with it.
pub(super) fn number(
    name: &str,
    typed: Option<&str>,
    default: usize,
    min: usize,
    max: usize,
    errors: &mut Vec<FieldProblem>,
) -> usize {
    let Some(typed) = typed else {
        return default;
    };
    match strict_number(typed) {
        Some(n) if (min..=max).contains(&n) => n,
        _ => {
            errors.push(FieldProblem {
                name: name.into(),
                message: format!("Phải là số nguyên từ {min} đến {max}"),
            });
            default
        }
    }
}

/// The list of published procedures, filtered, searched and paged as on the portal.
#[utoipa::path(
    get,
    path = "/api/v1/procedures",
    tag = "catalogue",
    operation_id = "listProcedures",
    params(ProceduresQuery),
    responses(
        (status = 200, description = "One page of procedures", body = ProcedurePage),
        (status = 400, description = "A parameter has a value it cannot take", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn procedures(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    query: Result<Query<ProceduresQuery>, InputRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return Problem::for_status(axum::http::StatusCode::BAD_REQUEST)
            .with_detail("Tham số không đọc được (mã hóa địa chỉ sai).")
            .into_response();
    };
    let view = state.catalogue.view();
    let mut errors = Vec::new();
    let q = query.q.as_deref().map(str::trim).unwrap_or_default();
    // the length as sent, before control characters are dropped: what the document promises to refuse
    let sent = form_urlencoded::parse(raw.as_deref().unwrap_or_default().as_bytes())
        .filter(|(k, _)| k == "q")
        .map(|(_, v)| v.chars().count())
        .max()
        .unwrap_or(0);
    if sent > motcua_search::MAX_QUERY_CHARS {
        errors.push(FieldProblem {
            name: "q".into(),
            message: format!("Tối đa {} ký tự", motcua_search::MAX_QUERY_CHARS),
        });
    }
    // the closed lists are taken exactly as the document lists them (an empty or padded value is an error)
    let mut closed = |name: &str, value: Option<&str>, ok: bool, bad: BadFilter| {
        if value.is_some() && !ok {
            errors.push(FieldProblem {
                name: name.into(),
                message: bad.message_vi().into(),
            });
        }
    };
    let implementing = query
        .implementing_level
        .as_deref()
        .and_then(implementing_level_of);
    closed(
        "implementing_level",
        query.implementing_level.as_deref(),
        implementing.is_some(),
        BadFilter::ImplementingLevel,
    );
    let audience = query.audience.as_deref().and_then(Audience::parse);
    closed(
        "audience",
        query.audience.as_deref(),
        audience.is_some(),
        BadFilter::Audience,
    );
    let online_level = query
        .online_level
        .as_deref()
        .and_then(strict_number)
        .and_then(|n| u8::try_from(n).ok())
        .and_then(|n| OnlineServiceLevel::try_from(n).ok());
    closed(
        "online_level",
        query.online_level.as_deref(),
        online_level.is_some(),
        BadFilter::OnlineLevel,
    );
    let sort = match query.sort.as_deref() {
        None => Sort::default_for(q),
        Some(typed) => Sort::parse(typed).unwrap_or_else(|| {
            errors.push(FieldProblem {
                name: "sort".into(),
                message: "Chỉ nhận lien-quan, ten, ma hoặc muc-do".into(),
            });
            Sort::default_for(q)
        }),
    };
    let page = number("page", query.page.as_deref(), 1, 1, MAX_PAGE, &mut errors);
    let per_page = number(
        "per_page",
        query.per_page.as_deref(),
        DEFAULT_PER_PAGE,
        1,
        MAX_PER_PAGE,
        &mut errors,
    );
    if !errors.is_empty() {
        return Problem::invalid(errors).into_response();
    }
    let filters = Filters {
        implementing,
        audience,
        online_level,
        ..Filters::default()
    };
    let Some(filters) = with_codes(&view, filters, &query) else {
        return Json(ProcedurePage {
            items: Vec::new(),
            total: 0,
            page,
            per_page,
            pages: 1,
        })
        .into_response();
    };
    let found = view.find(q, &filters, sort);
    let total = found.positions.len();
    Json(ProcedurePage {
        items: found
            .positions
            .iter()
            .skip((page - 1).saturating_mul(per_page))
            .take(per_page)
            .map(|&i| summary(&view.entries[i]))
            .collect(),
        total,
        page,
        per_page,
        pages: total.div_ceil(per_page).max(1),
    })
    .into_response()
}

/// The field and agency filters: `None` when one names nothing (so nothing matches).
fn with_codes(view: &CatalogueView, filters: Filters, query: &ProceduresQuery) -> Option<Filters> {
    let (codes, bad) = view.filters(TypedFilters {
        field: query.field.as_deref(),
        agency: query.agency.as_deref(),
        ..TypedFilters::default()
    });
    bad.is_empty().then_some(Filters {
        field: codes.field,
        agency: codes.agency,
        ..filters
    })
}

/// A procedure with everything a citizen needs to prepare a dossier.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ProcedureDetail {
    #[schema(example = "1.001193")]
    code: String,
    /// The version of the record now published.
    version: u32,
    #[schema(example = "Đăng ký khai sinh")]
    name: String,
    url: String,
    fields: Vec<Named>,
    agencies: Vec<Named>,
    implementing_levels: Vec<String>,
    /// Who may apply (`citizen`, `foreigner`, `business`, `organisation`).
    applicants: Vec<String>,
    conditions: Vec<String>,
    steps: Vec<String>,
    results: Vec<String>,
    legal_bases: Vec<LegalBasisView>,
    /// Sets of documents to submit.
    number_of_sets: u8,
    where_to_submit: Option<String>,
    cases: Vec<CaseView>,
    /// Online levels in force today, per case and agency.
    levels: Vec<LevelView>,
}

/// A code and its name.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Named {
    code: String,
    name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LegalBasisView {
    #[schema(example = "60/2014/QH13")]
    number: String,
    title: String,
    /// ISO 8601 date.
    #[schema(example = "2014-11-20")]
    issued_on: Option<String>,
    issuer: Option<String>,
}

/// A case of the procedure (its own documents, time limits and fees).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CaseView {
    #[schema(example = "mac-dinh")]
    key: String,
    name: String,
    components: Vec<ComponentView>,
    time_limits: Vec<TimeLimitView>,
    fees: Vec<FeeView>,
    /// Whether the dossier is filled in as an e-form online.
    has_form: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ComponentView {
    name: String,
    originals: u8,
    copies: u8,
    required: bool,
    /// Where to download the form template, when there is one.
    template_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TimeLimitView {
    /// `online`, `in_person` or `post`.
    channel: String,
    value: u32,
    /// `working_days`, `days`, `working_hours` …
    unit: String,
    /// As the portal says it: "5 ngày làm việc".
    text: String,
    note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FeeView {
    /// `fee` (phí) or `charge` (lệ phí) …
    kind: String,
    /// In đồng.
    amount: i64,
    /// In đồng, when submitting online costs less.
    online_amount: Option<i64>,
    /// As the portal says it: "50.000 đ".
    text: String,
    description: String,
    /// When it is paid.
    due: String,
    exemption_note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LevelView {
    case: String,
    agency: String,
    #[schema(minimum = 1, maximum = 4)]
    level: u8,
}

/// One published procedure.
#[utoipa::path(
    get,
    path = "/api/v1/procedures/{code}",
    tag = "catalogue",
    operation_id = "getProcedure",
    params(("code" = String, Path, description = "The procedure's code", example = "1.001193")),
    responses(
        (status = 200, description = "The procedure", body = ProcedureDetail),
        (status = 404, description = "No procedure with this code is published", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn procedure(State(state): State<AppState>, Path(code): Path<String>) -> Response {
    let view = state.catalogue.view();
    let Some(entry) = view.get(code.trim()).filter(|e| e.procedure.published) else {
        return Problem::not_found(format!(
            "Không có thủ tục mã {} đang được công bố.",
            code.trim()
        ))
        .into_response();
    };
    let p = &entry.procedure;
    let named_field = |c: &motcua_domain::FieldCode| Named {
        code: c.to_string(),
        name: view.field_name(c).to_string(),
    };
    let named_agency = |c: &motcua_domain::AgencyCode| Named {
        code: c.to_string(),
        name: view.agency_name(c).to_string(),
    };
    Json(ProcedureDetail {
        code: p.code.to_string(),
        version: entry.version,
        name: p.name.to_string(),
        url: format!("/thu-tuc/{}", p.code),
        fields: p.fields.iter().map(named_field).collect(),
        agencies: p.agencies.iter().map(named_agency).collect(),
        implementing_levels: implementing_level_keys(p),
        applicants: p.applicants.iter().map(key).collect(),
        conditions: p.conditions.clone(),
        steps: p.steps.clone(),
        results: p.results.clone(),
        legal_bases: p
            .legal_bases
            .iter()
            .map(|b| LegalBasisView {
                number: b.number.to_string(),
                title: b.title.to_string(),
                issued_on: b.issued_on.map(|d| d.to_string()),
                issuer: b.issuer.clone(),
            })
            .collect(),
        number_of_sets: p.number_of_sets,
        where_to_submit: p.where_to_submit.clone(),
        cases: p
            .cases
            .iter()
            .map(|c| CaseView {
                key: c.key.to_string(),
                name: c.name.to_string(),
                components: c
                    .components
                    .iter()
                    .enumerate()
                    .map(|(i, m)| ComponentView {
                        name: m.name.to_string(),
                        originals: m.originals,
                        copies: m.copies,
                        required: m.required,
                        template_url: m.template.as_ref().map(|_| {
                            crate::urls::template_href(p.code.as_str(), c.key.as_str(), i)
                        }),
                    })
                    .collect(),
                time_limits: c
                    .time_limits
                    .iter()
                    .map(|t| TimeLimitView {
                        channel: key(&t.channel),
                        value: t.limit.value,
                        unit: key(&t.limit.unit),
                        text: t.limit.to_string(),
                        note: t.note.clone(),
                    })
                    .collect(),
                fees: c
                    .fees
                    .iter()
                    .map(|f| FeeView {
                        kind: key(&f.kind),
                        amount: f.amount.amount(),
                        online_amount: f.online_amount.map(|a| a.amount()),
                        text: f.amount_text(),
                        description: f.description.to_string(),
                        due: key(&f.due),
                        exemption_note: f.exemption_note.clone(),
                    })
                    .collect(),
                has_form: c.form.is_some(),
            })
            .collect(),
        levels: entry
            .levels
            .iter()
            .map(|l| LevelView {
                case: l.case.to_string(),
                agency: l.agency.to_string(),
                level: l.level.number(),
            })
            .collect(),
    })
    .into_response()
}

/// An agency that handles dossiers.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AgencyView {
    #[schema(example = "000.00.06.H56")]
    code: String,
    name: String,
    /// The agency above it.
    parent: Option<String>,
    /// `ministry`, `province`, `legacy_district` or `commune`.
    level: String,
    address: Option<String>,
    /// ISO 8601 dates; an agency merged away has an end and a successor.
    valid_from: String,
    valid_until: Option<String>,
    successor: Option<String>,
}

/// Every agency of the catalogue, in code order, with its validity (agencies merged away are kept, with their
/// successor, because older dossiers name them).
#[utoipa::path(
    get,
    path = "/api/v1/agencies",
    tag = "catalogue",
    operation_id = "listAgencies",
    responses((status = 200, description = "Every agency, in code order", body = Vec<AgencyView>))
)]
pub(crate) async fn agencies(State(state): State<AppState>) -> Json<Vec<AgencyView>> {
    let view = state.catalogue.view();
    let mut agencies: Vec<AgencyView> = view
        .agencies
        .iter()
        .map(|a| AgencyView {
            code: a.code.to_string(),
            name: a.name.to_string(),
            parent: a.parent.as_ref().map(|p| p.to_string()),
            level: key(&a.level),
            address: a.address.clone(),
            valid_from: a.valid_from.to_string(),
            valid_until: a.valid_until.map(|d| d.to_string()),
            successor: a.successor.as_ref().map(|s| s.to_string()),
        })
        .collect();
    agencies.sort_by(|a, b| a.code.cmp(&b.code));
    Json(agencies)
}

/// A field of administrative procedures.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FieldView {
    #[schema(example = "HOTICH")]
    code: String,
    #[schema(example = "Hộ tịch")]
    name: String,
    /// Published procedures in this field.
    procedures: usize,
}

/// The fields of the catalogue, in code order, with how many procedures each has.
#[utoipa::path(
    get,
    path = "/api/v1/fields",
    tag = "catalogue",
    operation_id = "listFields",
    responses((status = 200, description = "Every field, in code order", body = Vec<FieldView>))
)]
pub(crate) async fn fields(State(state): State<AppState>) -> Json<Vec<FieldView>> {
    let view = state.catalogue.view();
    let mut fields: Vec<FieldView> = view
        .fields
        .iter()
        .map(|f| FieldView {
            code: f.code.to_string(),
            name: f.name.to_string(),
            procedures: view.counts.by_field.get(&f.code).copied().unwrap_or(0),
        })
        .collect();
    fields.sort_by(|a, b| a.code.cmp(&b.code));
    Json(fields)
}
