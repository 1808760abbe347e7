//! The Decision 766 index of one agency for officers who work there: every metric with its numerator and
//! denominator, the points it earns, what would raise it ("số hóa thêm 37 kết quả để đạt 11/11"), and the list of
//! dossiers behind each gap.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use time::OffsetDateTime;

use motcua_domain::{
    AgencyCode,
    index766::{Group, Metric, points_label, points_or_dash},
    money::{grouped, percent},
    policy::Action,
    vntime,
};

use crate::{
    AppError, AppState,
    error::not_found,
    guard,
    index766::{gap_of, ranking},
    input::{InputRejection, Query},
    layout::Layout,
    months::period,
    viewer::Viewer,
};

/// Dossiers listed behind a gap at most.
const LISTED: u32 = 200;

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct IndexQuery {
    #[serde(default)]
    thang: String,
}

pub(crate) struct MetricRow {
    label: &'static str,
    numerator: String,
    denominator: String,
    share: String,
    points: String,
    advice: Option<String>,
    /// Something to measure this month (else the metric is left out of the points).
    measured: bool,
    /// The dossiers behind the gap, when it counts dossiers and some are missing.
    drill: Option<String>,
}

pub(crate) struct GroupRow {
    label: &'static str,
    points: String,
    metrics: Vec<MetricRow>,
}

#[derive(Template, WebTemplate)]
#[template(path = "index766_agency.html")]
pub(crate) struct AgencyPage {
    layout: Layout,
    name: String,
    month: String,
    total: String,
    rank: usize,
    ranked: usize,
    groups: Vec<GroupRow>,
}

/// The agency asked for and the month, or the answer refusing them.
async fn checked(
    state: &AppState,
    viewer: &Viewer,
    agency: &str,
    month: &str,
) -> Result<(AgencyCode, String, OffsetDateTime, OffsetDateTime), Response> {
    let Ok(agency) = AgencyCode::parse(agency) else {
        return Err(not_found().await);
    };
    let path = format!("/can-bo/chi-so-766/{agency}");
    guard::require(state, viewer, Action::DeskWork(&agency), &path).await?;
    match period(month) {
        Ok((month, from, to)) => Ok((agency, month, from, to)),
        Err(_) => Err(not_found().await),
    }
}

pub(crate) async fn agency_page(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(agency): Path<String>,
    query: Result<Query<IndexQuery>, InputRejection>,
) -> Result<Response, AppError> {
    let typed = query.map(|Query(q)| q.thang).unwrap_or_default();
    let (agency, month, from, _) = match checked(&state, &viewer, &agency, &typed).await {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let list = ranking(&state, from).await?;
    let Some((rank, me)) = list.iter().enumerate().find(|(_, a)| a.agency == agency) else {
        return Ok(not_found().await);
    };
    let groups = Group::ALL
        .iter()
        .map(|g| GroupRow {
            label: g.label(),
            points: format!(
                "{}/{}",
                points_or_dash(me.index.group_tenths(*g)),
                points_label(g.max_tenths())
            ),
            metrics: me
                .index
                .measures
                .iter()
                .filter(|m| m.metric.group() == *g)
                .map(|m| MetricRow {
                    label: m.metric.label(),
                    numerator: grouped(m.numerator),
                    denominator: grouped(m.denominator),
                    share: percent(m.numerator, m.denominator),
                    points: format!(
                        "{}/{}",
                        points_or_dash(m.tenths()),
                        points_label(m.metric.max_tenths())
                    ),
                    advice: m.advice(),
                    measured: m.tenths().is_some(),
                    drill: (m.missing() > 0 && gap_of(m.metric).is_some()).then(|| {
                        crate::urls::with_query(
                            &format!("/can-bo/chi-so-766/{agency}/{}", m.metric.code()),
                            &[("thang", month.clone())],
                        )
                    }),
                })
                .collect(),
        })
        .collect();
    Ok(AgencyPage {
        layout,
        name: me.name.clone(),
        total: points_or_dash(me.index.total_tenths()),
        rank: rank + 1,
        ranked: list.len(),
        month,
        groups,
    }
    .into_response())
}

pub(crate) struct GapRow {
    code: String,
    procedure: String,
    applicant: String,
    submitted: String,
    due: String,
    status: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "index766_gap.html")]
pub(crate) struct GapPage {
    layout: Layout,
    name: String,
    back: String,
    month: String,
    metric: &'static str,
    rows: Vec<GapRow>,
    listed: u32,
}

pub(crate) async fn gap_page(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path((agency, metric)): Path<(String, String)>,
    query: Result<Query<IndexQuery>, InputRejection>,
) -> Result<Response, AppError> {
    let typed = query.map(|Query(q)| q.thang).unwrap_or_default();
    let (agency, month, from, to) = match checked(&state, &viewer, &agency, &typed).await {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let Some((metric, gap)) = Metric::parse(&metric).and_then(|m| Some((m, gap_of(m)?))) else {
        return Ok(not_found().await);
    };
    let dossiers = state
        .store
        .stats
        .gap(&agency, gap, from, to, OffsetDateTime::now_utc(), LISTED)
        .await?;
    let view = state.catalogue.view();
    let date = |at: OffsetDateTime| vntime::format_date(vntime::vn_date(at));
    let rows = dossiers
        .iter()
        .map(|d| GapRow {
            code: d.code.to_string(),
            procedure: view.procedure_name(d.procedure.as_str()).to_string(),
            applicant: d.applicant_name.to_string(),
            submitted: date(d.created_at),
            due: d.due_at.map(date).unwrap_or_else(|| "—".into()),
            status: d.status.label_vi(),
        })
        .collect();
    Ok((
        StatusCode::OK,
        GapPage {
            layout,
            name: view.agency_name(&agency).to_string(),
            back: crate::urls::with_query(
                &format!("/can-bo/chi-so-766/{agency}"),
                &[("thang", month.clone())],
            ),
            month,
            metric: metric.label(),
            rows,
            listed: LISTED,
        },
    )
        .into_response())
}
