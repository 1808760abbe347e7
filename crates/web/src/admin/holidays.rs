//! Administrators keep the calendar's days: public holidays and bridge days off, make-up Saturdays, and the
//! proposals computed from the lunar calendar for a later year, each confirmed by hand.

use crate::input::{Form, Query};
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use time::{Date, OffsetDateTime};

use motcua_calendar::{DayKind, Holidays, SpecialDay, dmy, proposed_holidays};
use motcua_domain::{form::parse_date, policy::Action, vntime};

use crate::{AppError, AppState, guard, layout::Layout, viewer::Viewer};

const PATH: &str = "/quan-tri/ngay-nghi";

pub(crate) struct DayView {
    date: String,
    weekday: &'static str,
    kind: &'static str,
    name: String,
    proposed: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "holidays.html")]
pub(crate) struct HolidaysPage {
    layout: Layout,
    year: i32,
    years: Vec<i32>,
    days: Vec<DayView>,
    errors: Vec<(String, String)>,
    date: String,
    name: String,
    make_up: bool,
}

fn weekday(d: Date) -> &'static str {
    use time::Weekday::*;
    match d.weekday() {
        Monday => "Thứ Hai",
        Tuesday => "Thứ Ba",
        Wednesday => "Thứ Tư",
        Thursday => "Thứ Năm",
        Friday => "Thứ Sáu",
        Saturday => "Thứ Bảy",
        Sunday => "Chủ nhật",
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct YearQuery {
    nam: Option<i32>,
}

async fn render(
    state: &AppState,
    layout: Layout,
    year: i32,
    errors: Vec<(String, String)>,
    date: String,
    name: String,
    make_up: bool,
) -> Result<HolidaysPage, AppError> {
    let all = state.store.calendar.days().await?;
    let this_year = vntime::vn_date(OffsetDateTime::now_utc()).year();
    let mut years: Vec<i32> = all.iter().map(|d| d.date.year()).collect();
    years.extend([this_year, this_year + 1, year]);
    years.sort_unstable();
    years.dedup();
    Ok(HolidaysPage {
        layout,
        year,
        years,
        days: all
            .into_iter()
            .filter(|d| d.date.year() == year)
            .map(|d| DayView {
                date: dmy(d.date),
                weekday: weekday(d.date),
                kind: match d.kind {
                    DayKind::Off => "Nghỉ",
                    DayKind::MakeUp => "Làm bù",
                },
                name: d.name,
                proposed: d.proposed,
            })
            .collect(),
        errors,
        date,
        name,
        make_up,
    })
}

pub(crate) async fn page(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Query(q): Query<YearQuery>,
) -> Result<Response, AppError> {
    if let Err(r) = guard::require(&state, &viewer, Action::Administer, PATH).await {
        return Ok(r);
    }
    let year = q
        .nam
        .filter(|y| (2000..=2100).contains(y))
        .unwrap_or_else(|| vntime::vn_date(OffsetDateTime::now_utc()).year());
    Ok(render(
        &state,
        layout,
        year,
        vec![],
        String::new(),
        String::new(),
        false,
    )
    .await?
    .into_response())
}

/// What the administrator does with the calendar.
#[derive(Debug, Default, Clone, Copy, serde::Deserialize)]
enum DayTask {
    /// Add the year's proposed public holidays (to be confirmed one by one).
    #[serde(rename = "de_xuat")]
    Propose,
    #[serde(rename = "xoa")]
    Remove,
    #[serde(rename = "xac_nhan")]
    Confirm,
    /// Add or change one day (the form's default).
    #[default]
    #[serde(other)]
    Set,
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct DayForm {
    #[serde(default)]
    hanh_dong: DayTask,
    #[serde(default)]
    ngay: String,
    #[serde(default)]
    loai: String,
    #[serde(default)]
    ten: String,
    #[serde(default)]
    nam: Option<i32>,
}

pub(crate) async fn change(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Form(f): Form<DayForm>,
) -> Result<Response, AppError> {
    if let Err(r) = guard::require(&state, &viewer, Action::Administer, PATH).await {
        return Ok(r);
    }
    let name = motcua_domain::text::normalize(&f.ten);
    let typed = motcua_domain::text::normalize(&f.ngay);
    let date = parse_date(&typed);
    let back = |year: i32| Redirect::to(&format!("{PATH}?nam={year}")).into_response();
    match f.hanh_dong {
        DayTask::Propose => {
            let year = f.nam.filter(|y| (2000..=2100).contains(y)).unwrap_or(2027);
            let existing = state.store.calendar.days().await?;
            // proposals never overwrite a day an administrator already set
            let new: Vec<SpecialDay> = proposed_holidays(year)
                .into_iter()
                .filter(|p| !existing.iter().any(|e| e.date == p.date))
                .collect();
            state.store.calendar.put_days(&new).await?;
            Ok(back(year))
        }
        DayTask::Remove => match date {
            Some(d) => {
                state.store.calendar.remove_day(d).await?;
                Ok(back(d.year()))
            }
            None => Ok(StatusCode::BAD_REQUEST.into_response()),
        },
        DayTask::Confirm => match date {
            Some(d) => {
                if let Some(mut day) = state
                    .store
                    .calendar
                    .days()
                    .await?
                    .into_iter()
                    .find(|x| x.date == d)
                {
                    day.proposed = false;
                    state.store.calendar.put_days(&[day]).await?;
                }
                Ok(back(d.year()))
            }
            None => Ok(StatusCode::BAD_REQUEST.into_response()),
        },
        DayTask::Set => {
            let make_up = f.loai == "lam_bu";
            let mut errors = Vec::new();
            if date.is_none() {
                errors.push((
                    "ngay".to_string(),
                    "Nhập ngày có thật, dạng ngày/tháng/năm, ví dụ 02/09/2027".to_string(),
                ));
            }
            if name.is_empty() {
                errors.push(("ten".into(), "Nhập tên ngày nghỉ hoặc lý do làm bù".into()));
            }
            if let (Some(d), false) = (date, name.is_empty()) {
                let day = SpecialDay {
                    date: d,
                    kind: if make_up {
                        DayKind::MakeUp
                    } else {
                        DayKind::Off
                    },
                    name: name.clone(),
                    proposed: false,
                };
                match Holidays::default().set(day.clone()) {
                    Ok(()) => {
                        state.store.calendar.put_days(&[day]).await?;
                        return Ok(back(d.year()));
                    }
                    Err(message) => errors.push(("ngay".into(), message)),
                }
            }
            let year = date
                .map(|d| d.year())
                .unwrap_or_else(|| vntime::vn_date(OffsetDateTime::now_utc()).year());
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&state, layout, year, errors, typed, name, make_up).await?,
            )
                .into_response())
        }
    }
}
