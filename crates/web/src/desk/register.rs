//! The register of dossiers (slip 07, "sổ theo dõi hồ sơ"): every dossier an officer's agencies received in a
//! period, in order of reception, with its appointment, status and (when delivered) the delivery time, printed as
//! PDF for the desk's records.

use crate::input::{InputRejection, Query};
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use time::{Date, Duration, OffsetDateTime, Time};

use motcua_documents::{Column, Document, Table};
use motcua_domain::{form, policy::Action, vntime};

use crate::{AppError, AppState, guard, layout::Layout, viewer::Viewer};

/// The most dossiers one printed register holds; a longer period is refused with a message to split it.
const MAX_ROWS: u32 = 5000;

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct RegisterQuery {
    #[serde(default)]
    tu: String,
    #[serde(default)]
    den: String,
    /// Present when the form was sent (the PDF is asked for).
    #[serde(default)]
    in_so: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "register_book.html")]
pub(crate) struct RegisterPage {
    layout: Layout,
    from: String,
    to: String,
    errors: Vec<(String, String)>,
}

fn start_of(day: Date) -> OffsetDateTime {
    day.with_time(Time::MIDNIGHT)
        .assume_offset(vntime::VN_OFFSET)
}

/// `/can-bo/so-theo-doi`: the period form, and with `in_so` the register as PDF.
pub(crate) async fn register(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    query: Result<Query<RegisterQuery>, InputRejection>,
) -> Result<Response, AppError> {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let path = "/can-bo/so-theo-doi";
    let officer = match guard::require(&state, &viewer, Action::ViewOwnAccount, path).await {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let view = state.catalogue.view();
    let agencies = crate::desk::queue::desk_agencies(&state, &officer);
    if agencies.is_empty() {
        // logged in, but no desk right anywhere: refused and audited
        return Ok(guard::refuse(&state, &viewer, path).await);
    }
    let today = vntime::vn_date(OffsetDateTime::now_utc());
    if q.in_so.is_none() {
        let first = today.replace_day(1).unwrap_or(today);
        return Ok(RegisterPage {
            layout,
            from: motcua_calendar::dmy(first),
            to: motcua_calendar::dmy(today),
            errors: vec![],
        }
        .into_response());
    }
    let from = form::parse_date(&q.tu);
    let to = form::parse_date(&q.den);
    let mut errors = Vec::new();
    if from.is_none() {
        errors.push((
            "tu".to_string(),
            "Nhập ngày bắt đầu dạng ngày/tháng/năm, ví dụ 01/11/2026".to_string(),
        ));
    }
    if to.is_none() {
        errors.push((
            "den".to_string(),
            "Nhập ngày kết thúc dạng ngày/tháng/năm, ví dụ 30/11/2026".to_string(),
        ));
    }
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        errors.push((
            "den".to_string(),
            "Ngày kết thúc phải từ ngày bắt đầu trở đi".to_string(),
        ));
    }
    let (Some(from), Some(to)) = (from, to) else {
        return Ok(refused(layout, q, errors));
    };
    if !errors.is_empty() {
        return Ok(refused(layout, q, errors));
    }
    let rows = state
        .store
        .workflows
        .received_between(
            &agencies,
            start_of(from),
            start_of(to) + Duration::days(1),
            MAX_ROWS + 1,
        )
        .await?;
    if rows.len() > MAX_ROWS as usize {
        let errors = vec![(
            "tu".to_string(),
            format!(
                "Khoảng thời gian có hơn {MAX_ROWS} hồ sơ: chọn khoảng ngắn hơn (ví dụ từng tháng)"
            ),
        )];
        return Ok(refused(layout, q, errors));
    }
    let agency_name = match agencies.as_slice() {
        [one] => view.agency_name(one).to_string(),
        _ => state.site.name.clone(),
    };
    let now = OffsetDateTime::now_utc();
    let version = crate::slips::template_version(now);
    let period = format!(
        "{} đến ngày {}",
        motcua_calendar::dmy(from),
        motcua_calendar::dmy(to)
    );
    let nothing = if rows.is_empty() {
        vec!["Không có hồ sơ nào được tiếp nhận trong khoảng thời gian này.".to_string()]
    } else {
        vec![]
    };
    let doc = if version >= 2 {
        // Mẫu số 07 as the circular prints it: a landscape table, one line per dossier
        let table_rows = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let d = &r.dossier;
                vec![
                    (i + 1).to_string(),
                    d.code.to_string(),
                    view.procedure_name(d.procedure.as_str()).to_string(),
                    format!(
                        "{:02}",
                        view.get(d.procedure.as_str())
                            .map_or(1, |e| e.procedure.number_of_sets)
                    ),
                    d.applicant_name.to_string(),
                    r.applicant_phone.clone().unwrap_or_default(),
                    view.agency_name(&d.agency).to_string(),
                    vntime::format_datetime(r.received_at),
                    d.due_at
                        .map(vntime::format_datetime)
                        .unwrap_or_else(|| "—".into()),
                    r.delivered_at
                        .map(vntime::format_datetime)
                        .unwrap_or_default(),
                    d.status.label_vi().to_string(),
                ]
            })
            .collect();
        Document {
            agency_name,
            form_number: Some("Mẫu số 07 (phiên bản 2)".into()),
            title: "SỔ THEO DÕI HỒ SƠ".into(),
            fields: vec![
                ("Từ ngày:".into(), period),
                ("Số hồ sơ:".into(), rows.len().to_string()),
            ],
            table: Some(Table {
                title: None,
                columns: vec![
                    Column::centred("TT", 0.5),
                    Column::new("Mã hồ sơ", 3.3),
                    Column::new("Tên thủ tục hành chính", 2.2),
                    Column::centred("Số lượng hồ sơ (bộ)", 0.8),
                    Column::new("Tên cá nhân, tổ chức", 1.8),
                    Column::new("Số điện thoại", 1.6),
                    Column::new("Cơ quan chủ trì giải quyết", 1.5),
                    Column::centred("Nhận hồ sơ", 1.3),
                    Column::centred("Hẹn trả kết quả", 1.3),
                    Column::centred("Trả kết quả", 1.3),
                    Column::new("Ghi chú", 1.3),
                ],
                rows: table_rows,
            }),
            paragraphs: nothing,
            signatures: vec![("NGƯỜI LẬP SỔ".to_string(), officer.full_name.to_string())],
            footer: state.site.name.clone(),
            place_date: Some(vntime::place_and_date(
                state.site.place.as_deref(),
                vntime::vn_date(now),
            )),
            landscape: true,
            ..Default::default()
        }
    } else {
        let mut list = Vec::with_capacity(rows.len());
        for r in &rows {
            let d = &r.dossier;
            let delivered = r
                .delivered_at
                .map(|at| format!("; trả kết quả {}", vntime::format_datetime(at)))
                .unwrap_or_default();
            list.push(format!(
                "{} — {} — {} — nhận {}; hẹn trả {}; {}{}",
                d.code,
                d.applicant_name,
                view.procedure_name(d.procedure.as_str()),
                vntime::format_datetime(r.received_at),
                d.due_at
                    .map(vntime::format_datetime)
                    .unwrap_or_else(|| "—".into()),
                d.status.label_vi(),
                delivered,
            ));
        }
        Document {
            agency_name,
            form_number: Some("Mẫu số 07".into()),
            title: "SỔ THEO DÕI HỒ SƠ".into(),
            fields: vec![
                ("Từ ngày:".into(), period),
                ("Số hồ sơ:".into(), rows.len().to_string()),
                ("In lúc:".into(), vntime::format_datetime(now)),
            ],
            list_title: Some("Hồ sơ đã tiếp nhận, theo thứ tự tiếp nhận:".into()),
            list,
            paragraphs: nothing,
            signatures: vec![("NGƯỜI LẬP SỔ".to_string(), officer.full_name.to_string())],
            footer: state.site.name.clone(),
            ..Default::default()
        }
    };
    crate::slips::pdf_response(
        doc,
        &format!(
            "so-theo-doi-{}-{}.pdf",
            from.format(&time::macros::format_description!("[year][month][day]"))
                .unwrap_or_default(),
            to.format(&time::macros::format_description!("[year][month][day]"))
                .unwrap_or_default()
        ),
    )
    .await
}

fn refused(layout: Layout, q: RegisterQuery, errors: Vec<(String, String)>) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        RegisterPage {
            layout,
            from: q.tu,
            to: q.den,
            errors,
        },
    )
        .into_response()
}
