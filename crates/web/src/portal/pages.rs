//! Portal pages (server-rendered, Vietnamese, no script required): home, the procedure catalogue with search
//! and filters, the procedure page, and form template downloads.

use std::sync::Arc;

use crate::error::not_found;
use crate::input::{InputRejection, Query};
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    body::Body,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use motcua_domain::{Channel, OnlineServiceLevel, Procedure, ProcedureCode, vntime};
use motcua_search::highlight_html;
use object_store::ObjectStoreExt;

use crate::{
    AppError, AppState,
    catalogue::{
        Audience, BadFilter, CatalogueView, Entry, Found, IMPLEMENTING_LEVELS, Sort, TypedFilters,
        implementing_level_key,
    },
    layout::Layout,
    urls,
};

pub(crate) struct LevelView {
    pub number: u8,
    pub name_2011: String,
    pub name_2022: &'static str,
}

impl From<OnlineServiceLevel> for LevelView {
    fn from(level: OnlineServiceLevel) -> Self {
        LevelView {
            number: level.number(),
            name_2011: level.name_2011(),
            name_2022: level.name_2022(),
        }
    }
}

/// A procedure in a list.
pub(crate) struct ProcedureItem {
    pub code: String,
    /// The name as HTML, with search matches marked (escaped).
    pub name_html: String,
    pub fields: String,
    pub agencies: String,
    pub level: Option<LevelView>,
    pub time_limit: String,
    pub fees: String,
}

fn item(
    view: &CatalogueView,
    entry: &Entry,
    highlights: &[std::ops::Range<usize>],
) -> ProcedureItem {
    let p = &entry.procedure;
    ProcedureItem {
        code: p.code.to_string(),
        name_html: highlight_html(p.name.as_str(), highlights, "<mark>", "</mark>"),
        fields: p
            .fields
            .iter()
            .map(|f| view.field_name(f))
            .collect::<Vec<_>>()
            .join(", "),
        agencies: p
            .agencies
            .iter()
            .map(|a| view.agency_name(a))
            .collect::<Vec<_>>()
            .join(", "),
        level: entry.best_level.map(LevelView::from),
        time_limit: time_limit_summary(p),
        fees: fee_summary(p),
    }
}

/// "5 ngày làm việc" for the first case in person (or its first channel), as a list shows it.
fn time_limit_summary(procedure: &Procedure) -> String {
    procedure
        .cases
        .first()
        .and_then(|case| {
            case.time_limit_for(Channel::InPerson)
                .or_else(|| case.time_limits.first())
        })
        .map(|t| t.limit.to_string())
        .unwrap_or_default()
}

/// The first charged line of the first case ("Phí 200.000 đ"); every line is on the procedure page.
fn fee_summary(procedure: &Procedure) -> String {
    let lines: Vec<_> = procedure
        .cases
        .first()
        .map(|c| c.fees.iter().filter(|l| l.amount.amount() > 0).collect())
        .unwrap_or_default();
    match lines.as_slice() {
        [] => "Không thu phí, lệ phí".into(),
        [one] => format!("{} {}", one.kind.label_vi(), one.amount),
        [first, ..] => format!("{} {} và khoản khác", first.kind.label_vi(), first.amount),
    }
}

/// A link with a count, for browsing.
pub(crate) struct Facet {
    pub label: String,
    pub href: String,
    pub count: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub(crate) struct HomePage {
    pub layout: Layout,
    /// The search box and the catalogue's part ([`HomeCatalogue`]), drawn once per catalogue snapshot.
    pub catalogue: Arc<str>,
    pub levels: Vec<LevelView>,
    /// The latest dossiers with a result.
    pub results: Vec<crate::portal::results::ResultRow>,
    /// The newest articles.
    pub articles: Vec<crate::portal::articles::Card>,
}

/// The home page's part that depends on the catalogue alone: the same for every reader until the catalogue (or
/// the day) changes, so it is drawn once per snapshot instead of on every view.
#[derive(Template)]
#[template(path = "home_catalogue.html")]
pub(crate) struct HomeCatalogue {
    pub today: String,
    pub total: usize,
    pub most_used: Vec<ProcedureItem>,
    pub featured: Vec<ProcedureItem>,
    pub by_field: Vec<Facet>,
    pub by_agency: Vec<Facet>,
    pub by_level: Vec<Facet>,
    pub by_implementing_level: Vec<Facet>,
    pub by_audience: Vec<Facet>,
}

pub(crate) async fn home(State(state): State<AppState>, layout: Layout) -> Response {
    // an anonymous visitor (most of them) gets the page drawn once for what it shows
    let drawn_from = match (
        layout.user_name.is_none(),
        crate::portal::results::latest_read_at(&state).await,
        crate::articles::live(&state).await,
    ) {
        (true, Some(results), Ok(articles)) => {
            let drawn_from = crate::portal::results::HomeState {
                results,
                articles,
                catalogue: state.catalogue.view(),
                visits: layout.visits,
            };
            let kept = state.latest_results.1.lock().ok().and_then(|page| {
                page.as_ref()
                    .filter(|(drawn, _)| *drawn == drawn_from)
                    .map(|(_, html)| html.clone())
            });
            if let Some(html) = kept {
                return axum::response::Html(html).into_response();
            }
            Some(drawn_from)
        }
        _ => None,
    };
    let results = crate::portal::results::latest(&state).await;
    let articles = crate::articles::latest(&state, 5)
        .await
        .iter()
        .map(crate::portal::articles::Card::of)
        .collect();
    let view = state.catalogue.view();
    let catalogue = match view.fragment("home", || HomeCatalogue::of(&view).render()) {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(error = %e, "the home page's catalogue part did not render");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let page = HomePage {
        layout,
        catalogue,
        levels: OnlineServiceLevel::ALL
            .into_iter()
            .map(LevelView::from)
            .collect(),
        results,
        articles,
    };
    if let Some(drawn_from) = drawn_from {
        match page.render() {
            Ok(html) => {
                let html = bytes::Bytes::from(html);
                if let Ok(mut kept) = state.latest_results.1.lock() {
                    *kept = Some((drawn_from, html.clone()));
                }
                return axum::response::Html(html).into_response();
            }
            Err(e) => tracing::warn!(error = %e, "the home page was not kept"),
        }
    }
    page.into_response()
}

impl HomeCatalogue {
    fn of(view: &CatalogueView) -> HomeCatalogue {
        let counts = &view.counts;
        let facet = |label: String, param: &str, value: &str, n: usize| Facet {
            label,
            href: format!("/thu-tuc?{param}={}", urls::encode(value)),
            count: n,
        };
        let by_field = view
            .fields
            .iter()
            .map(|f| {
                let n = counts.by_field.get(&f.code).copied().unwrap_or(0);
                facet(f.name.to_string(), "linh_vuc", f.code.as_str(), n)
            })
            .filter(|f| f.count > 0)
            .collect();
        let by_agency = view
            .agencies
            .iter()
            .filter(|a| a.is_valid_on(view.as_of))
            .map(|a| {
                let n = counts.by_agency.get(&a.code).copied().unwrap_or(0);
                facet(a.name.to_string(), "co_quan", a.code.as_str(), n)
            })
            .filter(|f| f.count > 0)
            .collect();
        let by_level = OnlineServiceLevel::ALL
            .into_iter()
            .rev()
            .map(|l| {
                let n = counts.by_online_level[usize::from(l.number())];
                facet(
                    format!("{} — {}", l.name_2011(), l.name_2022()),
                    "muc_do",
                    &l.number().to_string(),
                    n,
                )
            })
            .collect();
        let by_implementing_level = IMPLEMENTING_LEVELS
            .into_iter()
            .map(|level| {
                let key = implementing_level_key(level);
                let n = counts.by_implementing_level.get(key).copied().unwrap_or(0);
                facet(level.label_vi().into(), "cap", key, n)
            })
            .filter(|f| f.count > 0)
            .collect();
        let by_audience = Audience::ALL
            .into_iter()
            .map(|a| {
                let n = match a {
                    Audience::Citizens => counts.for_citizens,
                    Audience::Businesses => counts.for_business,
                };
                facet(a.label_vi().into(), "doi_tuong", a.key(), n)
            })
            .collect();
        let featured = view
            .by_name
            .iter()
            .map(|&i| &view.entries[i])
            .filter(|e| e.best_level == Some(OnlineServiceLevel::Level4))
            .take(8)
            .map(|e| item(view, e, &[]))
            .collect();
        HomeCatalogue {
            today: vntime::format_date(view.as_of),
            total: view.by_name.len(),
            most_used: view
                .most_used
                .iter()
                .map(|&i| item(view, &view.entries[i], &[]))
                .collect(),
            featured,
            by_field,
            by_agency,
            by_level,
            by_implementing_level,
            by_audience,
        }
    }
}

/// Query parameters of the catalogue list. Every one is optional and read leniently: an unknown value is
/// ignored (and said so), never an error page.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListParams {
    q: Option<String>,
    linh_vuc: Option<String>,
    co_quan: Option<String>,
    cap: Option<String>,
    doi_tuong: Option<String>,
    muc_do: Option<String>,
    sap_xep: Option<String>,
    trang: Option<String>,
}

pub(crate) struct SelectOption {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub(crate) struct PageLink {
    pub number: usize,
    pub href: String,
    pub current: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "list.html")]
pub(crate) struct ListPage {
    pub layout: Layout,
    pub q: String,
    pub total: usize,
    pub items: Vec<ProcedureItem>,
    pub fields: Vec<SelectOption>,
    pub agencies: Vec<SelectOption>,
    pub implementing_levels: Vec<SelectOption>,
    pub audiences: Vec<SelectOption>,
    pub online_levels: Vec<SelectOption>,
    pub sorts: Vec<SelectOption>,
    pub pages: Vec<PageLink>,
    pub page: usize,
    pub page_count: usize,
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
    pub notices: Vec<String>,
    pub filtered: bool,
    /// The same search without filters.
    pub unfiltered_href: String,
    /// No procedure has every word of the query: these are the closest.
    pub partial: bool,
    /// The query's words that match nothing (shown struck through).
    pub unmatched: Vec<String>,
    /// "Có phải bạn muốn tìm": the corrected query and its link.
    pub suggestion: Option<(String, String)>,
}

const PAGE_SIZE: usize = 20;

fn options(values: Vec<(String, String)>, chosen: &Option<String>) -> Vec<SelectOption> {
    values
        .into_iter()
        .map(|(value, label)| SelectOption {
            selected: chosen.as_deref() == Some(value.as_str()),
            value,
            label,
        })
        .collect()
}

pub(crate) async fn list(
    State(state): State<AppState>,
    layout: Layout,
    params: Result<Query<ListParams>, InputRejection>,
) -> Response {
    let mut notices = Vec::new();
    let params = match params {
        Ok(Query(p)) => p,
        Err(_) => {
            notices.push(
                "Địa chỉ tìm kiếm không đọc được; đang hiển thị toàn bộ danh mục.".to_string(),
            );
            ListParams::default()
        }
    };
    let view = state.catalogue.view();
    let clean = |v: &Option<String>| {
        v.as_ref()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let q: String = clean(&params.q)
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(motcua_search::MAX_QUERY_CHARS)
        .collect();

    // a procedure code goes straight to its page
    if let Ok(code) = ProcedureCode::parse(&q)
        && view
            .get(code.as_str())
            .is_some_and(|e| e.procedure.published)
    {
        return Redirect::to(&format!("/thu-tuc/{code}")).into_response();
    }

    // filters: read each, drop (and say) what names nothing
    let typed = TypedFilters {
        field: params.linh_vuc.as_deref(),
        agency: params.co_quan.as_deref(),
        implementing: params.cap.as_deref(),
        audience: params.doi_tuong.as_deref(),
        online_level: params.muc_do.as_deref(),
    };
    let (filters, bad) = view.filters(typed);
    for b in &bad {
        notices.push(format!("{}; bộ lọc này được bỏ qua.", b.message_vi()));
    }
    let kept =
        |value: &Option<String>, what: BadFilter| clean(value).filter(|_| !bad.contains(&what));
    let field = kept(&params.linh_vuc, BadFilter::Field);
    let agency = kept(&params.co_quan, BadFilter::Agency);
    let cap = kept(&params.cap, BadFilter::ImplementingLevel);
    let audience = kept(&params.doi_tuong, BadFilter::Audience);
    let level = kept(&params.muc_do, BadFilter::OnlineLevel);
    let default_sort = Sort::default_for(&q);
    let sort = clean(&params.sap_xep)
        .and_then(|s| Sort::parse(&s))
        .unwrap_or(default_sort);
    let Found {
        positions: results,
        search,
    } = view.find(&q, &filters, sort);
    let entry = |i: usize| &view.entries[i];

    let total = results.len();
    let page_count = total.div_ceil(PAGE_SIZE).max(1);
    let page = clean(&params.trang)
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, page_count);
    let current: Vec<(&str, Option<&str>)> = vec![
        ("q", Some(q.as_str()).filter(|q| !q.is_empty())),
        ("linh_vuc", field.as_deref()),
        ("co_quan", agency.as_deref()),
        ("cap", cap.as_deref()),
        ("doi_tuong", audience.as_deref()),
        ("muc_do", level.as_deref()),
        ("sap_xep", Some(sort.key()).filter(|_| sort != default_sort)),
    ];
    let href = |n: usize| {
        let mut pairs: Vec<(&str, String)> = current
            .iter()
            .filter_map(|(k, v)| v.map(|v| (*k, v.to_string())))
            .collect();
        if n > 1 {
            pairs.push(("trang", n.to_string()));
        }
        urls::with_query("/thu-tuc", &pairs)
    };
    let first = page.saturating_sub(3).max(1);
    let last = (page + 3).min(page_count);
    let page_links = (first..=last)
        .map(|n| PageLink {
            number: n,
            href: href(n),
            current: n == page,
        })
        .collect();
    let items = results
        .iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|&i| {
            let highlights = search.as_ref().map(|r| r.highlights(i)).unwrap_or_default();
            item(&view, entry(i), &highlights)
        })
        .collect();

    let filtered = field.is_some()
        || agency.is_some()
        || cap.is_some()
        || audience.is_some()
        || level.is_some();
    let (partial, unmatched) = search
        .as_ref()
        .map(|r| (r.partial, r.unmatched.clone()))
        .unwrap_or_default();
    // searches that find nothing, or only partial matches, are counted for the editors (in memory, written later)
    if let Some(r) = &search
        && (r.hits.is_empty() || r.partial)
        && let Some(anonymous) = anonymous_query(&q)
    {
        state
            .misses
            .count(anonymous, u32::try_from(r.hits.len()).unwrap_or(u32::MAX));
    }
    let suggestion = search.as_ref().and_then(|r| r.suggestion.clone()).map(|s| {
        let href = urls::with_query("/thu-tuc", &[("q", s.clone())]);
        (s, href)
    });
    ListPage {
        layout,
        total,
        items,
        partial,
        unmatched,
        suggestion,
        fields: options(
            view.fields
                .iter()
                .map(|f| (f.code.to_string(), f.name.to_string()))
                .collect(),
            &field,
        ),
        agencies: options(
            view.agencies
                .iter()
                .filter(|a| a.is_valid_on(view.as_of))
                .map(|a| (a.code.to_string(), a.name.to_string()))
                .collect(),
            &agency,
        ),
        implementing_levels: options(
            IMPLEMENTING_LEVELS
                .into_iter()
                .map(|l| {
                    (
                        implementing_level_key(l).to_string(),
                        l.label_vi().to_string(),
                    )
                })
                .collect(),
            &cap,
        ),
        audiences: options(
            Audience::ALL
                .into_iter()
                .map(|a| (a.key().to_string(), a.label_vi().to_string()))
                .collect(),
            &audience,
        ),
        online_levels: options(
            OnlineServiceLevel::ALL
                .into_iter()
                .map(|l| {
                    (
                        l.number().to_string(),
                        format!("{} — {}", l.name_2011(), l.name_2022()),
                    )
                })
                .collect(),
            &level,
        ),
        sorts: options(
            Sort::ALL
                .into_iter()
                .map(|s| (s.key().to_string(), s.label_vi().to_string()))
                .collect(),
            &Some(sort.key().to_string()),
        ),
        prev_href: (page > 1).then(|| href(page - 1)),
        next_href: (page < page_count).then(|| href(page + 1)),
        pages: page_links,
        page,
        page_count,
        notices,
        filtered,
        unfiltered_href: if q.is_empty() {
            "/thu-tuc".into()
        } else {
            urls::with_query("/thu-tuc", &[("q", q.clone())])
        },
        q,
    }
    .into_response()
}

/// One case as the procedure page shows it.
pub(crate) struct CaseView {
    pub key: String,
    pub name: String,
    pub components: Vec<ComponentView>,
    pub time_limits: Vec<(String, String, String)>,
    pub fees: Vec<FeeView>,
    /// Some fee is paid with the online submission (level 4).
    pub pays_at_submission: bool,
    pub levels: Vec<AgencyLevelView>,
}

pub(crate) struct ComponentView {
    pub name: String,
    pub originals: u8,
    pub copies: u8,
    pub required: bool,
    pub template_name: Option<String>,
    pub template_href: Option<String>,
}

pub(crate) struct FeeView {
    pub kind: &'static str,
    pub amount: String,
    pub description: String,
    pub exemption: Option<String>,
    /// When it is paid.
    pub due: &'static str,
}

pub(crate) struct AgencyLevelView {
    pub agency: String,
    pub address: Option<String>,
    pub level: LevelView,
    pub online_submission: bool,
    pub online_payment: bool,
    /// Where to start an online submission, when this agency takes them for this case.
    pub apply_href: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "procedure.html")]
pub(crate) struct ProcedurePage {
    pub layout: Layout,
    pub code: String,
    pub name: String,
    pub fields: String,
    pub implementing_levels: String,
    pub applicants: String,
    pub agencies: Vec<(String, Option<String>)>,
    pub cases: Vec<CaseView>,
    pub conditions: Vec<String>,
    pub steps: Vec<String>,
    pub results: Vec<String>,
    pub legal_bases: Vec<(String, String, String)>,
    pub number_of_sets: u8,
    pub where_to_submit: Option<String>,
    pub publishing_decision: Option<String>,
    pub best_level: Option<LevelView>,
    pub by_post: bool,
    pub version: u32,
}

pub(crate) async fn detail(
    State(state): State<AppState>,
    layout: Layout,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let view = state.catalogue.view();
    let Some(entry) = ProcedureCode::parse(&code)
        .ok()
        .and_then(|c| view.get(c.as_str()))
        .filter(|e| e.procedure.published)
    else {
        return Ok(procedure_not_found(layout, &code));
    };
    let p = &entry.procedure;
    let cases =
        p.cases
            .iter()
            .map(|case| CaseView {
                key: case.key.to_string(),
                name: case.name.to_string(),
                components: case
                    .components
                    .iter()
                    .enumerate()
                    .map(|(i, c)| ComponentView {
                        name: c.name.to_string(),
                        originals: c.originals,
                        copies: c.copies,
                        required: c.required,
                        template_name: c.template.as_ref().map(|t| t.file_name.to_string()),
                        template_href: c
                            .template
                            .as_ref()
                            .map(|_| urls::template_href(p.code.as_str(), case.key.as_str(), i)),
                    })
                    .collect(),
                time_limits: case
                    .time_limits
                    .iter()
                    .map(|t| {
                        let mut note = t.note.clone().unwrap_or_default();
                        if let Some(h) = t.cutoff_hour {
                            if !note.is_empty() {
                                note.push_str(". ");
                            }
                            note.push_str(&format!(
                            "Hồ sơ nhận sau {h} giờ được tính là nhận vào ngày làm việc tiếp theo"
                        ));
                        }
                        (t.channel.label_vi().to_string(), t.limit.to_string(), note)
                    })
                    .collect(),
                // a line due with the submission that costs something online (per copy: when copies are asked)
                pays_at_submission: case.fees.iter().any(|l| {
                    l.due == motcua_domain::FeeDue::AtSubmission
                        && l.unit(true) > motcua_domain::Vnd::ZERO
                }),
                fees: case
                    .fees
                    .iter()
                    .map(|f| FeeView {
                        kind: f.kind.label_vi(),
                        amount: match f.online_amount {
                            Some(online) if online != f.amount => {
                                format!("{} (nộp trực tuyến: {online})", f.amount)
                            }
                            _ => f.amount_text(),
                        },
                        description: f.description.to_string(),
                        exemption: f.exemption_note.clone(),
                        due: match f.due {
                            motcua_domain::FeeDue::AtSubmission => "Khi nộp hồ sơ",
                            motcua_domain::FeeDue::AfterCheck => "Khi cơ quan thông báo",
                        },
                    })
                    .collect(),
                levels: entry
                    .levels
                    .iter()
                    .filter(|l| l.case == case.key)
                    .map(|l| {
                        let agency = view.agency(&l.agency);
                        AgencyLevelView {
                            agency: view.agency_name(&l.agency).to_string(),
                            address: agency.and_then(|a| a.address.clone()),
                            level: l.level.into(),
                            online_submission: l.level.allows_online_submission(),
                            online_payment: l.level.allows_online_payment(),
                            apply_href: l.level.allows_online_submission().then(|| {
                                format!("/nop-ho-so/{}/{}/{}", p.code, case.key, l.agency)
                            }),
                        }
                    })
                    .collect(),
            })
            .collect();
    let page = ProcedurePage {
        layout,
        code: p.code.to_string(),
        name: p.name.to_string(),
        fields: p
            .fields
            .iter()
            .map(|f| view.field_name(f))
            .collect::<Vec<_>>()
            .join(", "),
        implementing_levels: p
            .implementing_levels
            .iter()
            .map(|l| l.label_vi())
            .collect::<Vec<_>>()
            .join(", "),
        applicants: p
            .applicants
            .iter()
            .map(|a| a.label_vi())
            .collect::<Vec<_>>()
            .join(", "),
        agencies: p
            .agencies
            .iter()
            .map(|a| {
                (
                    view.agency_name(a).to_string(),
                    view.agency(a).and_then(|a| a.address.clone()),
                )
            })
            .collect(),
        cases,
        conditions: p.conditions.clone(),
        steps: p.steps.clone(),
        results: p.results.clone(),
        legal_bases: p
            .legal_bases
            .iter()
            .map(|b| {
                let date = b.issued_on.map(vntime::format_date).unwrap_or_default();
                let issuer = b.issuer.clone().unwrap_or_default();
                (
                    b.number.to_string(),
                    b.title.to_string(),
                    [date, issuer]
                        .iter()
                        .filter(|s| !s.is_empty())
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", "),
                )
            })
            .collect(),
        number_of_sets: p.number_of_sets,
        where_to_submit: p.where_to_submit.clone(),
        publishing_decision: p.publishing_decision.clone(),
        best_level: entry.best_level.map(LevelView::from),
        by_post: p
            .cases
            .iter()
            .any(|c| c.time_limit_for(Channel::Post).is_some()),
        version: entry.version,
    };
    Ok(page.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "procedure_not_found.html")]
pub(crate) struct ProcedureNotFound {
    pub layout: Layout,
    pub code: String,
}

fn procedure_not_found(layout: Layout, code: &str) -> Response {
    let page = ProcedureNotFound {
        layout,
        code: code.chars().filter(|c| !c.is_control()).take(40).collect(),
    };
    (StatusCode::NOT_FOUND, page).into_response()
}

/// Download a form template with its Vietnamese file name (RFC 6266 / RFC 5987) and the right content type.
/// A query as the editors' log keeps it: folded, at most 100 characters, with every long number (an identity or
/// phone number) and e-mail address replaced by "…"; `None` when nothing is left.
pub(crate) fn anonymous_query(q: &str) -> Option<String> {
    let words: Vec<String> = motcua_search::fold(q)
        .split_whitespace()
        .map(|w| {
            let digits = w.chars().filter(char::is_ascii_digit).count();
            if digits >= 5 || w.contains('@') {
                "…".to_string()
            } else {
                w.to_string()
            }
        })
        .collect();
    let text: String = words.join(" ").chars().take(100).collect();
    (!text
        .trim_matches(|c: char| c == '…' || c.is_whitespace())
        .is_empty())
    .then_some(text)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct SuggestQuery {
    #[serde(default)]
    q: String,
}

/// Autocomplete for the search box: the best matches' codes and names as JSON (`[{"ma": …, "ten": …}]`), at most
/// eight. The box works without it.
pub(crate) async fn suggest(
    State(state): State<AppState>,
    query: Result<Query<SuggestQuery>, InputRejection>,
) -> Response {
    let q = query.map(|Query(q)| q.q).unwrap_or_default();
    let view = state.catalogue.view();
    let items: Vec<serde_json::Value> = if q.trim().chars().count() < 2 {
        vec![]
    } else {
        view.search_as_typed(&q)
            .hits
            .iter()
            .take(8)
            .map(|h| {
                let e = &view.entries[h.doc];
                serde_json::json!({"ma": e.procedure.code.as_str(), "ten": e.procedure.name.as_str()})
            })
            .collect()
    };
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=60"),
        ],
        serde_json::Value::Array(items).to_string(),
    )
        .into_response()
}

pub(crate) async fn template_download(
    State(state): State<AppState>,
    Path((code, case, component)): Path<(String, String, String)>,
) -> Result<Response, AppError> {
    let view = state.catalogue.view();
    let template = view
        .get(&code)
        .and_then(|e| e.procedure.cases.iter().find(|c| c.key.as_str() == case))
        .and_then(|c| {
            component
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| c.components.get(i))
        })
        .and_then(|c| c.template.clone());
    let Some(template) = template else {
        return Ok(not_found().await);
    };
    let path =
        object_store::path::Path::parse(&template.object_key).map_err(|_| AppError::NotFound)?;
    let bytes = match state.files.get(&path).await {
        Ok(result) => result.bytes().await.map_err(AppError::files)?,
        Err(object_store::Error::NotFound { .. }) => {
            tracing::warn!(key = %template.object_key, "form template missing from file storage");
            return Ok(not_found().await);
        }
        Err(e) => return Err(AppError::files(e)),
    };
    let name = template.file_name.as_str();
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(urls::content_type_for(name)),
    );
    if let Ok(value) = HeaderValue::from_str(&urls::content_disposition(name)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(response)
}
