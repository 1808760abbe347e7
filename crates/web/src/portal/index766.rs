//! `/chi-so-766`: the public ranking of agencies by the Decision 766 index for a month — the five groups and the
//! total out of 100 — as a table and a chart drawn on the server (SVG, with its figures in words). Officers get
//! a link from their agencies to the figures behind them (`desk::index766`).

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};

use motcua_domain::{
    index766::{Group, points_label, points_or_dash},
    policy::Action,
};

use crate::{
    AppError, AppState, guard,
    input::{InputRejection, Query},
    layout::Layout,
    months::period,
    portal::crawlers::escape,
    viewer::Viewer,
};

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct IndexQuery {
    /// `mm/yyyy`; empty: this month.
    #[serde(default)]
    thang: String,
}

pub(crate) struct RankRow {
    rank: usize,
    name: String,
    groups: Vec<String>,
    total: String,
    total_tenths: u64,
    /// The officers' page of this agency, for those who work there.
    detail: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "index766.html")]
pub(crate) struct IndexPage {
    layout: Layout,
    month: String,
    /// (label, points)
    groups: Vec<(&'static str, String)>,
    rows: Vec<RankRow>,
    chart: String,
    errors: Vec<(String, String)>,
}

/// One bar per agency: its total out of 100, written beside the bar and described in words.
fn chart(rows: &[RankRow], month: &str) -> String {
    const LABEL: f64 = 260.0;
    const BAR: f64 = 400.0;
    const ROW: f64 = 26.0;
    let height = 20.0 + ROW * rows.len().max(1) as f64 + 10.0;
    let width = LABEL + BAR + 70.0;
    let mut bars = String::new();
    let mut words = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let y = 20.0 + ROW * i as f64;
        let w = BAR * r.total_tenths as f64 / 1000.0;
        let name: String = r.name.chars().take(38).collect();
        bars.push_str(&format!(
            "<text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"12\" fill=\"#0b0c0c\">{}</text>\
             <rect x=\"{LABEL}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"18\" fill=\"#1d70b8\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"#0b0c0c\">{}</text>",
            LABEL - 8.0,
            y + 13.0,
            escape(&name),
            LABEL + w + 6.0,
            y + 13.0,
            escape(&r.total),
        ));
        words.push(format!("{}: {} điểm", r.name, r.total));
    }
    let description = if words.is_empty() {
        "Chưa có cơ quan nào.".to_string()
    } else {
        format!("{}.", words.join("; "))
    };
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" \
         aria-labelledby=\"chi-so-tieu-de chi-so-mo-ta\" class=\"chart\">\
         <title id=\"chi-so-tieu-de\">Chỉ số phục vụ người dân, doanh nghiệp tháng {month} theo cơ quan (thang điểm 100)</title>\
         <desc id=\"chi-so-mo-ta\">{}</desc>{bars}</svg>",
        escape(&description),
        month = escape(month),
    )
}

/// `/chi-so-766`.
pub(crate) async fn ranking(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    query: Result<Query<IndexQuery>, InputRejection>,
) -> Result<Response, AppError> {
    let typed = query.map(|Query(q)| q.thang).unwrap_or_default();
    let (month, shown, from, errors) = match period(&typed) {
        Ok((month, from, _)) => (month.clone(), month, from, vec![]),
        Err(typed) => {
            let (this, from, _) = period("").map_err(|e| AppError::Files(e.to_string()))?;
            (
                typed,
                this,
                from,
                vec![(
                    "thang".to_string(),
                    "Tháng viết dạng tháng/năm, ví dụ 11/2026".to_string(),
                )],
            )
        }
    };
    let list = crate::index766::ranking(&state, from).await?;
    let rows: Vec<RankRow> = list
        .iter()
        .enumerate()
        .map(|(i, a)| RankRow {
            rank: i + 1,
            name: a.name.clone(),
            groups: Group::ALL
                .iter()
                .map(|g| points_or_dash(a.index.group_tenths(*g)))
                .collect(),
            total: points_or_dash(a.index.total_tenths()),
            total_tenths: a.index.total_tenths().unwrap_or(0),
            detail: viewer
                .account
                .as_ref()
                .filter(|acc| guard::allows(&state.catalogue, acc, Action::DeskWork(&a.agency)))
                .map(|_| {
                    crate::urls::with_query(
                        &format!("/can-bo/chi-so-766/{}", a.agency),
                        &[("thang", shown.clone())],
                    )
                }),
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = IndexPage {
        layout,
        chart: chart(&rows, &shown),
        month,
        groups: Group::ALL
            .iter()
            .map(|g| (g.label(), points_label(g.max_tenths())))
            .collect(),
        rows,
        errors,
    };
    Ok((status, page).into_response())
}
