//! Public statistics (`/thong-ke`): for a month, per agency, field or procedure — dossiers submitted by channel,
//! approved on time or late, open and overdue now, the online rate, the online payment rate and satisfaction — as
//! a table, a chart drawn on the server as SVG (readable without JavaScript, with its figures as text), and CSV and
//! XLSX downloads. Read from the figures the worker keeps by month (`StatsRepo::by_month`, ADR 0009), recounted
//! from the dossiers as they change.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use time::OffsetDateTime;

use motcua_documents::Cell;
use motcua_domain::money::percent;
use motcua_store::Figures;

use crate::{
    AppError, AppState,
    input::{InputRejection, Query},
    layout::Layout,
    months::period,
    portal::crawlers::escape,
};

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct StatsQuery {
    /// `mm/yyyy`; empty: this month.
    #[serde(default)]
    thang: String,
    /// `co-quan` (the default), `linh-vuc` or `thu-tuc`: what a row is.
    #[serde(default)]
    theo: String,
}

/// What a row of the statistics is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum By {
    Agency,
    Field,
    Procedure,
}

impl By {
    const ALL: [By; 3] = [By::Agency, By::Field, By::Procedure];

    fn parse(code: &str) -> By {
        By::ALL
            .into_iter()
            .find(|b| b.code() == code.trim())
            .unwrap_or(By::Agency)
    }

    fn code(self) -> &'static str {
        match self {
            By::Agency => "co-quan",
            By::Field => "linh-vuc",
            By::Procedure => "thu-tuc",
        }
    }

    /// The first column's heading.
    fn label(self) -> &'static str {
        match self {
            By::Agency => "Cơ quan",
            By::Field => "Lĩnh vực",
            By::Procedure => "Thủ tục",
        }
    }
}

/// One row as shown: an agency's, a field's or a procedure's.
pub(crate) struct StatsRow {
    pub name: String,
    pub in_person: u64,
    pub online: u64,
    pub post: u64,
    pub submitted: u64,
    pub on_time: u64,
    pub late: u64,
    pub on_time_rate: String,
    pub in_progress: u64,
    pub overdue: u64,
    pub online_rate: String,
    /// Of the dossiers with a fee, the share paid online.
    pub payment_rate: String,
    pub satisfaction: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "statistics.html")]
pub(crate) struct StatsPage {
    layout: Layout,
    month: String,
    rows: Vec<StatsRow>,
    total: StatsRow,
    chart: String,
    csv: String,
    xlsx: String,
    /// What a row is, and the choices: (code, label, chosen).
    by_label: &'static str,
    choices: Vec<(&'static str, &'static str, bool)>,
    errors: Vec<(String, String)>,
}

fn row(name: String, s: &Figures) -> StatsRow {
    StatsRow {
        name,
        in_person: s.in_person,
        online: s.online,
        post: s.post,
        submitted: s.submitted(),
        on_time: s.on_time,
        late: s.late,
        on_time_rate: percent(s.on_time, s.on_time + s.late),
        in_progress: s.in_progress,
        overdue: s.overdue,
        online_rate: percent(s.online, s.submitted()),
        payment_rate: percent(s.paid_online, s.fee_bearing),
        satisfaction: if s.ratings == 0 {
            "—".into()
        } else {
            format!(
                "{} ({}/{})",
                percent(s.satisfied, s.ratings),
                s.satisfied,
                s.ratings
            )
        },
    }
}

/// The figures of the month starting at `from`: per agency, field or procedure (in Vietnamese order of names) and
/// all together. A procedure of several fields counts in each of them; the total counts it once.
async fn figures(
    state: &AppState,
    from: OffsetDateTime,
    by: By,
) -> Result<(Vec<StatsRow>, StatsRow), AppError> {
    let stats = crate::months::figures(state, from).await?;
    let view = state.catalogue.view();
    let mut all = Figures::default();
    let mut grouped: std::collections::BTreeMap<String, Figures> = Default::default();
    for s in stats.iter() {
        all += s.figures;
        let names: Vec<String> = match by {
            By::Agency => vec![view.agency_name(&s.agency).to_string()],
            By::Procedure => vec![view.procedure_name(&s.procedure).to_string()],
            By::Field => match view.get(&s.procedure) {
                Some(e) if !e.procedure.fields.is_empty() => e
                    .procedure
                    .fields
                    .iter()
                    .map(|f| view.field_name(f).to_string())
                    .collect(),
                _ => vec!["Khác".to_string()],
            },
        };
        for name in names {
            *grouped.entry(name).or_default() += s.figures;
        }
    }
    let mut rows: Vec<StatsRow> = grouped.into_iter().map(|(name, f)| row(name, &f)).collect();
    motcua_domain::text::sort_vietnamese(&mut rows, |r| r.name.as_str());
    Ok((rows, row("Tổng cộng".into(), &all)))
}

/// A horizontal stacked bar per agency: approved on time (green) and late (red), with the numbers written and
/// the whole described in words for a screen reader.
pub(crate) fn chart(rows: &[StatsRow], month: &str) -> String {
    const LABEL: f64 = 260.0;
    const BAR: f64 = 420.0;
    const ROW: f64 = 28.0;
    let most = rows
        .iter()
        .map(|r| r.on_time + r.late)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let height = 40.0 + ROW * rows.len().max(1) as f64 + 30.0;
    let width = LABEL + BAR + 90.0;
    let mut words = Vec::new();
    let mut bars = String::new();
    for (i, r) in rows.iter().enumerate() {
        let y = 40.0 + ROW * i as f64;
        let green = BAR * r.on_time as f64 / most;
        let red = BAR * r.late as f64 / most;
        let name: String = r.name.chars().take(38).collect();
        bars.push_str(&format!(
            "<text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"12\" fill=\"#0b0c0c\">{}</text>\
             <rect x=\"{LABEL}\" y=\"{:.1}\" width=\"{green:.1}\" height=\"18\" fill=\"#00703c\"/>\
             <rect x=\"{:.1}\" y=\"{:.1}\" width=\"{red:.1}\" height=\"18\" fill=\"#d4351c\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"#0b0c0c\">{} / {}</text>",
            LABEL - 8.0,
            y + 13.0,
            escape(&name),
            y,
            LABEL + green,
            y,
            LABEL + green + red + 6.0,
            y + 13.0,
            r.on_time,
            r.late,
        ));
        words.push(format!(
            "{}: {} đúng hạn, {} quá hạn",
            r.name, r.on_time, r.late
        ));
    }
    let description = if words.is_empty() {
        "Không có hồ sơ nào được giải quyết trong tháng.".to_string()
    } else {
        format!("{}.", words.join("; "))
    };
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" \
         aria-labelledby=\"bieu-do-tieu-de bieu-do-mo-ta\" class=\"chart\">\
         <title id=\"bieu-do-tieu-de\">Hồ sơ đã giải quyết tháng {month}: đúng hạn và quá hạn theo cơ quan</title>\
         <desc id=\"bieu-do-mo-ta\">{}</desc>\
         <rect x=\"{LABEL}\" y=\"8\" width=\"14\" height=\"14\" fill=\"#00703c\"/>\
         <text x=\"{:.0}\" y=\"20\" font-size=\"12\" fill=\"#0b0c0c\">Đúng hạn</text>\
         <rect x=\"{:.0}\" y=\"8\" width=\"14\" height=\"14\" fill=\"#d4351c\"/>\
         <text x=\"{:.0}\" y=\"20\" font-size=\"12\" fill=\"#0b0c0c\">Quá hạn</text>{bars}</svg>",
        escape(&description),
        LABEL + 20.0,
        LABEL + 100.0,
        LABEL + 120.0,
        month = escape(month),
    )
}

/// `/thong-ke`.
pub(crate) async fn statistics(
    State(state): State<AppState>,
    layout: Layout,
    query: Result<Query<StatsQuery>, InputRejection>,
) -> Result<Response, AppError> {
    page(&state, layout, query.map(|Query(q)| q).unwrap_or_default()).await
}

/// The statistics page for `q` (with its error, and this month's figures, when the month is not one).
async fn page(state: &AppState, layout: Layout, q: StatsQuery) -> Result<Response, AppError> {
    let (month, from, errors) = match period(&q.thang) {
        Ok((month, from, _)) => (month, from, vec![]),
        Err(typed) => {
            // what was typed stays; this month's figures are shown meanwhile
            let (_, from, _) = period("").map_err(|e| AppError::Files(e.to_string()))?;
            (
                typed,
                from,
                vec![(
                    "thang".to_string(),
                    "Tháng viết dạng tháng/năm, ví dụ 11/2026".to_string(),
                )],
            )
        }
    };
    let by = By::parse(&q.theo);
    let (rows, total) = figures(state, from, by).await?;
    let shown_month = if errors.is_empty() {
        month.clone()
    } else {
        period("").map(|p| p.0).unwrap_or_default()
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = StatsPage {
        layout,
        chart: chart(&rows, &shown_month),
        csv: crate::urls::with_query(
            "/thong-ke.csv",
            &[("thang", shown_month.clone()), ("theo", by.code().into())],
        ),
        xlsx: crate::urls::with_query(
            "/thong-ke.xlsx",
            &[("thang", shown_month.clone()), ("theo", by.code().into())],
        ),
        by_label: by.label(),
        choices: By::ALL
            .into_iter()
            .map(|b| (b.code(), b.label(), b == by))
            .collect(),
        month,
        rows,
        total,
        errors,
    };
    Ok((status, page).into_response())
}

/// The table's header after its first column, for the downloads.
const HEADERS: [&str; 12] = [
    "Nhận trực tiếp",
    "Nhận trực tuyến",
    "Nhận qua bưu chính",
    "Tổng nhận",
    "Đúng hạn",
    "Quá hạn",
    "Tỷ lệ đúng hạn",
    "Đang giải quyết",
    "Đang quá hạn",
    "Tỷ lệ trực tuyến",
    "Tỷ lệ thanh toán trực tuyến",
    "Hài lòng",
];

/// The table's rows (each agency, then the total) as cells: counts as numbers, shares as written.
fn cells(rows: &[StatsRow], total: &StatsRow) -> Vec<Vec<Cell>> {
    let n = |v: u64| Cell::Number(v as f64);
    rows.iter()
        .chain(std::iter::once(total))
        .map(|r| {
            vec![
                Cell::Text(r.name.clone()),
                n(r.in_person),
                n(r.online),
                n(r.post),
                n(r.submitted),
                n(r.on_time),
                n(r.late),
                Cell::Text(r.on_time_rate.clone()),
                n(r.in_progress),
                n(r.overdue),
                Cell::Text(r.online_rate.clone()),
                Cell::Text(r.payment_rate.clone()),
                Cell::Text(r.satisfaction.clone()),
            ]
        })
        .collect()
}

/// A download of the statistics' table, named after the month.
fn download(body: Vec<u8>, content_type: &'static str, month: &str, extension: &str) -> Response {
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"thong-ke-{}.{extension}\"",
        month.replace('/', "-")
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

/// The month of a download, or the answer refusing it.
/// A download's month and table; a month that is not one gets the statistics page with its message instead.
async fn table_of(
    state: &AppState,
    layout: Layout,
    query: Result<Query<StatsQuery>, InputRejection>,
) -> Result<Result<(String, Vec<&'static str>, Vec<Vec<Cell>>), Response>, AppError> {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let Ok((month, from, _)) = period(&q.thang) else {
        return Ok(Err(page(state, layout, q).await?));
    };
    let by = By::parse(&q.theo);
    let (rows, total) = figures(state, from, by).await?;
    let headers = std::iter::once(by.label()).chain(HEADERS).collect();
    Ok(Ok((month, headers, cells(&rows, &total))))
}

/// A text cell of a CSV file: never the start of a formula in a spreadsheet (=, +, -, @), quoted when it holds a
/// separator.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// `/thong-ke.csv`: the table as CSV (UTF-8 with a byte-order mark, so spreadsheet programs read Vietnamese).
pub(crate) async fn statistics_csv(
    State(state): State<AppState>,
    layout: Layout,
    query: Result<Query<StatsQuery>, InputRejection>,
) -> Result<Response, AppError> {
    let (month, headers, table) = match table_of(&state, layout, query).await? {
        Ok(t) => t,
        Err(r) => return Ok(r),
    };
    let mut out = String::from("\u{feff}");
    out.push_str(&headers.join(","));
    out.push_str("\r\n");
    for row in &table {
        let line: Vec<String> = row
            .iter()
            .map(|c| match c {
                Cell::Text(t) => csv_field(t),
                Cell::Number(n) => format!("{n}"),
            })
            .collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    Ok(download(
        out.into_bytes(),
        "text/csv; charset=utf-8",
        &month,
        "csv",
    ))
}

/// `/thong-ke.xlsx`: the table as an Excel workbook (counts as numbers).
pub(crate) async fn statistics_xlsx(
    State(state): State<AppState>,
    layout: Layout,
    query: Result<Query<StatsQuery>, InputRejection>,
) -> Result<Response, AppError> {
    let (month, headers, table) = match table_of(&state, layout, query).await? {
        Ok(t) => t,
        Err(r) => return Ok(r),
    };
    let title = format!("Thống kê giải quyết thủ tục hành chính tháng {month}");
    let sheet = format!("Thống kê {}", month.replace('/', "-"));
    let xlsx = tokio::task::spawn_blocking(move || {
        motcua_documents::table_xlsx(&sheet, &title, &headers, &table)
    })
    .await
    .map_err(|e| AppError::Files(e.to_string()))?
    .map_err(|e| AppError::Files(e.to_string()))?;
    Ok(download(
        xlsx,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &month,
        "xlsx",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_cell_never_becomes_a_formula() {
        assert_eq!(csv_field("Sở Tư pháp"), "Sở Tư pháp");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("+84"), "'+84");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("85,7 %"), "\"85,7 %\"");
    }

    #[test]
    fn shares_are_written_with_a_decimal_comma() {
        assert_eq!(percent(0, 0), "—");
        assert_eq!(percent(6, 7), "85,7 %");
        assert_eq!(percent(1, 1), "100,0 %");
        assert_eq!(percent(1, 3), "33,3 %");
    }

    #[test]
    fn the_chart_draws_a_bar_per_agency_and_says_it_in_words() {
        let stats = |on_time, late| Figures {
            on_time,
            late,
            ..Default::default()
        };
        let rows = vec![
            row("Sở Tư pháp".into(), &stats(6, 1)),
            row("UBND phường <Tân Lập>".into(), &stats(0, 2)),
        ];
        let svg = chart(&rows, "11/2026");
        assert_eq!(
            svg.matches("fill=\"#00703c\"/>").count(),
            3,
            "legend and two bars"
        );
        assert!(svg.contains(
            "Sở Tư pháp: 6 đúng hạn, 1 quá hạn; UBND phường &lt;Tân Lập&gt;: 0 đúng hạn"
        ));
        assert!(!svg.contains("<Tân"), "names are escaped");
        assert!(svg.contains("role=\"img\""));
    }
}
