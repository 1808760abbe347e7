//! "Kết quả giải quyết TTHC": the public list of dossiers with a result — code, procedure, agency, when received,
//! due and approved, status, early / on time / late — the applicant's name masked ("Nguyễn V. A."), filtered by
//! agency, field and month of approval, paged; and its short widget on the home page.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use time::OffsetDateTime;

use motcua_domain::{AgencyCode, FieldCode, text::masked_name, vntime};
use motcua_store::{HandledDossier, HandledQuery};

use crate::{
    AppError, AppState,
    input::{InputRejection, Query},
    layout::Layout,
    months::month_window,
};

/// Dossiers per page of the list.
const PAGE: u32 = 20;
/// The deepest page served: further back, the filters narrow the list (a month, an agency).
const MOST_PAGES: u32 = 500;
/// Dossiers in the home page's widget.
pub(crate) const WIDGET: u32 = 5;

/// One dossier of the list as shown.
#[derive(Debug, Clone)]
pub(crate) struct ResultRow {
    pub code: String,
    pub procedure: String,
    pub agency: String,
    pub applicant: String,
    pub received: String,
    pub due: String,
    pub approved: String,
    pub status: &'static str,
    /// (class, "Trước hạn" / "Đúng hạn" / "Quá hạn").
    pub timeliness: (&'static str, &'static str),
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ResultsQuery {
    #[serde(default)]
    co_quan: String,
    #[serde(default)]
    linh_vuc: String,
    /// `mm/yyyy`.
    #[serde(default)]
    thang: String,
    #[serde(default)]
    trang: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "handled_results.html")]
pub(crate) struct ResultsPage {
    layout: Layout,
    rows: Vec<ResultRow>,
    total: u64,
    agencies: Vec<(String, String, bool)>,
    fields: Vec<(String, String, bool)>,
    month: String,
    errors: Vec<(String, String)>,
    /// Page links: (number, href, current).
    pages: Vec<(u64, String, bool)>,
}

/// The rows as shown (masked names, dates, timeliness against the appointment in working time).
pub(crate) async fn rows(
    state: &AppState,
    list: Vec<HandledDossier>,
) -> Result<Vec<ResultRow>, AppError> {
    if list.is_empty() {
        return Ok(Vec::new());
    }
    let cal = crate::dossiers::calendar(state).await?;
    let view = state.catalogue.view();
    let date = |at: OffsetDateTime| vntime::format_date(vntime::vn_date(at));
    Ok(list
        .into_iter()
        .map(|h| {
            let d = &h.dossier;
            ResultRow {
                code: d.code.to_string(),
                procedure: view.procedure_name(d.procedure.as_str()).to_string(),
                agency: view.agency_name(&d.agency).to_string(),
                applicant: masked_name(d.applicant_name.as_str()),
                received: h.received_at.map(date).unwrap_or_else(|| "—".into()),
                due: d.due_at.map(date).unwrap_or_else(|| "—".into()),
                approved: date(h.approved_at),
                status: d.status.label_vi(),
                timeliness: match d.due_at {
                    Some(due) => crate::steps::timeliness_tag(&cal, h.approved_at, due),
                    None => ("dung-han", "Đúng hạn"),
                },
            }
        })
        .collect())
}

/// `/ket-qua-giai-quyet`.
pub(crate) async fn results(
    State(state): State<AppState>,
    layout: Layout,
    query: Result<Query<ResultsQuery>, InputRejection>,
) -> Result<Response, AppError> {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let view = state.catalogue.view();
    let mut errors = Vec::new();
    let agency = AgencyCode::parse(q.co_quan.trim())
        .ok()
        .filter(|a| view.agency(a).is_some());
    if !q.co_quan.trim().is_empty() && agency.is_none() {
        errors.push((
            "co_quan".to_string(),
            "Chọn cơ quan trong danh sách".to_string(),
        ));
    }
    let field = FieldCode::parse(q.linh_vuc.trim())
        .ok()
        .filter(|f| view.field(f).is_some());
    if !q.linh_vuc.trim().is_empty() && field.is_none() {
        errors.push((
            "linh_vuc".to_string(),
            "Chọn lĩnh vực trong danh sách".to_string(),
        ));
    }
    let window = month_window(&q.thang);
    if !q.thang.trim().is_empty() && window.is_none() {
        errors.push((
            "thang".to_string(),
            "Tháng viết dạng tháng/năm, ví dụ 11/2026".to_string(),
        ));
    }
    let procedures = field.as_ref().map(|f| {
        view.entries
            .iter()
            .filter(|e| e.procedure.fields.contains(f))
            .map(|e| e.procedure.code.clone())
            .collect::<Vec<_>>()
    });
    let page = q
        .trang
        .trim()
        .parse::<u32>()
        .unwrap_or(1)
        .clamp(1, MOST_PAGES);
    let (list, total) = state
        .store
        .dossiers
        .handled(&HandledQuery {
            agency: agency.clone(),
            procedures,
            approved_from: window.map(|w| w.0),
            approved_to: window.map(|w| w.1),
            offset: (page - 1).saturating_mul(PAGE),
            limit: PAGE,
            count: true,
        })
        .await?;
    let page_count = total
        .div_ceil(u64::from(PAGE))
        .clamp(1, u64::from(MOST_PAGES));
    let href = |n: u64| {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(a) = &agency {
            pairs.push(("co_quan", a.to_string()));
        }
        if let Some(f) = &field {
            pairs.push(("linh_vuc", f.to_string()));
        }
        if window.is_some() {
            pairs.push(("thang", q.thang.trim().to_string()));
        }
        if n > 1 {
            pairs.push(("trang", n.to_string()));
        }
        crate::urls::with_query("/ket-qua-giai-quyet", &pairs)
    };
    let pages = crate::urls::page_links(page_count, u64::from(page), href);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = ResultsPage {
        layout,
        rows: rows(&state, list).await?,
        total,
        agencies: view
            .agencies
            .iter()
            .filter(|a| a.is_valid_on(view.as_of))
            .map(|a| {
                (
                    a.code.to_string(),
                    a.name.to_string(),
                    agency.as_ref() == Some(&a.code),
                )
            })
            .collect(),
        fields: view
            .fields
            .iter()
            .map(|f| {
                (
                    f.code.to_string(),
                    f.name.to_string(),
                    field.as_ref() == Some(&f.code),
                )
            })
            .collect(),
        month: q.thang.trim().to_string(),
        errors,
        pages,
    };
    Ok((status, page).into_response())
}

/// How long a node reuses the home page's latest results before asking the database again.
const LATEST_FOR: std::time::Duration = std::time::Duration::from_secs(30);

/// Everything the home page (`portal/pages.rs`) is drawn from for an anonymous visitor, kept here with the latest
/// results: when the latest results were read, the list of
/// articles and the catalogue snapshot (both held, so the same one is recognised), and the footer's counters.
#[derive(Clone)]
pub(crate) struct HomeState {
    pub results: std::time::Instant,
    pub articles: std::sync::Arc<Vec<motcua_store::LiveArticle>>,
    pub catalogue: std::sync::Arc<crate::catalogue::CatalogueView>,
    pub visits: Option<motcua_store::VisitCounts>,
}

impl PartialEq for HomeState {
    fn eq(&self, other: &Self) -> bool {
        self.results == other.results
            && std::sync::Arc::ptr_eq(&self.articles, &other.articles)
            && std::sync::Arc::ptr_eq(&self.catalogue, &other.catalogue)
            && self.visits == other.visits
    }
}

/// The home page's latest results as last read, and when (the home page is the most read page: it does not ask
/// the database on every view).
#[derive(Default)]
pub struct LatestResults(
    std::sync::Mutex<Option<(std::time::Instant, Vec<ResultRow>)>>,
    /// The home page as an anonymous visitor gets it, with what it was drawn from.
    pub(crate) std::sync::Mutex<Option<(HomeState, bytes::Bytes)>>,
);

/// When the latest results kept were read (a new reading is a new page), reading them first if they are stale.
pub(crate) async fn latest_read_at(state: &AppState) -> Option<std::time::Instant> {
    let fresh = |state: &AppState| {
        state
            .latest_results
            .0
            .lock()
            .ok()
            .and_then(|c| c.as_ref().map(|(at, _)| *at))
            .filter(|at| at.elapsed() < LATEST_FOR)
    };
    match fresh(state) {
        Some(at) => Some(at),
        None => {
            latest(state).await;
            fresh(state)
        }
    }
}

/// The latest results for the home page, at most [`LATEST_FOR`] old (empty when the database cannot answer: the
/// home page is served anyway).
pub(crate) async fn latest(state: &AppState) -> Vec<ResultRow> {
    if let Ok(cached) = state.latest_results.0.lock()
        && let Some((at, rows)) = cached.as_ref()
        && at.elapsed() < LATEST_FOR
    {
        return rows.clone();
    }
    let rows = read_latest(state).await;
    if let Ok(mut cached) = state.latest_results.0.lock() {
        *cached = Some((std::time::Instant::now(), rows.clone()));
    }
    rows
}

async fn read_latest(state: &AppState) -> Vec<ResultRow> {
    let answer = state
        .store
        .dossiers
        .handled(&HandledQuery {
            limit: WIDGET,
            ..Default::default()
        })
        .await;
    match answer {
        Ok((list, _)) => rows(state, list).await.unwrap_or_default(),
        Err(e) => {
            tracing::warn!(error = %e, "latest results not read for the home page");
            Vec::new()
        }
    }
}
