//! Months as the public pages filter by them: `mm/yyyy`, this month when nothing is typed, cut at midnight in
//! Vietnam.

use time::{Date, Month, OffsetDateTime};

use motcua_domain::vntime;

/// `mm/yyyy` as the first instant of that month and of the next (Vietnam's time).
pub(crate) fn month_window(typed: &str) -> Option<(OffsetDateTime, OffsetDateTime)> {
    let (m, y) = typed.trim().split_once('/')?;
    let month = Month::try_from(m.trim().parse::<u8>().ok()?).ok()?;
    let year: i32 = y.trim().parse().ok()?;
    if !(2000..=2100).contains(&year) {
        return None;
    }
    let first = Date::from_calendar_date(year, month, 1).ok()?;
    let next = first
        .replace_day(1)
        .ok()?
        .checked_add(time::Duration::days(31))?;
    let next = next.replace_day(1).ok()?;
    Some((vntime::start_of_day(first), vntime::start_of_day(next)))
}

/// The month asked for (or this one) and its window; an error when it is not a month.
pub(crate) fn period(typed: &str) -> Result<(String, OffsetDateTime, OffsetDateTime), String> {
    let typed = typed.trim();
    let month = if typed.is_empty() {
        let today = vntime::vn_date(OffsetDateTime::now_utc());
        format!("{:02}/{}", u8::from(today.month()), today.year())
    } else {
        typed.to_string()
    };
    match month_window(&month) {
        Some((from, to)) => Ok((month, from, to)),
        None => Err(month),
    }
}
