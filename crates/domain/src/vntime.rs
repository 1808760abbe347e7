//! Time as Vietnamese administrations show it: UTC+7 (Asia/Ho_Chi_Minh, no daylight saving), dates as
//! dd/mm/yyyy. Instants are stored in UTC; the offset is applied only to show them or to cut days.

use time::{Date, OffsetDateTime, UtcOffset, macros::offset};

/// Asia/Ho_Chi_Minh. Never take the host's local offset: servers and containers usually run in UTC.
pub const VN_OFFSET: UtcOffset = offset!(+7);

/// The calendar day in Vietnam at this instant.
pub fn vn_date(at: OffsetDateTime) -> Date {
    at.to_offset(VN_OFFSET).date()
}

/// `dd/mm/yyyy`.
pub fn format_date(date: Date) -> String {
    format!(
        "{:02}/{:02}/{:04}",
        date.day(),
        u8::from(date.month()),
        date.year()
    )
}

/// A time of day in Vietnam as typed: `dd/mm/yyyy hh:mm` or a browser's `yyyy-mm-ddThh:mm`.
pub fn parse_local_datetime(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    let (date, clock) = text.split_once(['T', ' '])?;
    let date = if date.contains('/') {
        let mut p = date.split('/');
        let (d, m, y) = (p.next()?, p.next()?, p.next()?);
        if p.next().is_some() {
            return None;
        }
        Date::from_calendar_date(
            y.trim().parse().ok()?,
            time::Month::try_from(m.trim().parse::<u8>().ok()?).ok()?,
            d.trim().parse().ok()?,
        )
        .ok()?
    } else {
        let mut p = date.split('-');
        let (y, m, d) = (p.next()?, p.next()?, p.next()?);
        if p.next().is_some() {
            return None;
        }
        Date::from_calendar_date(
            y.parse().ok()?,
            time::Month::try_from(m.parse::<u8>().ok()?).ok()?,
            d.parse().ok()?,
        )
        .ok()?
    };
    let (h, mi) = clock.trim().split_once([':', 'h'])?;
    let clock = time::Time::from_hms(h.parse().ok()?, mi.parse().ok()?, 0).ok()?;
    Some(date.with_time(clock).assume_offset(VN_OFFSET))
}

/// `yyyy-mm-ddThh:mm` in UTC+7: what a `datetime-local` field holds.
pub fn format_local_input(at: OffsetDateTime) -> String {
    let l = at.to_offset(VN_OFFSET);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        l.year(),
        u8::from(l.month()),
        l.day(),
        l.hour(),
        l.minute()
    )
}

/// `HH:MM dd/mm/yyyy` in UTC+7.
/// An instant as RFC 3339 in Vietnam's time (`2026-11-30T10:15:00+07:00`), as the API and webhooks give times.
pub fn format_rfc3339(at: OffsetDateTime) -> String {
    at.to_offset(VN_OFFSET)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub fn format_datetime(at: OffsetDateTime) -> String {
    let local = at.to_offset(VN_OFFSET);
    format!(
        "{:02}:{:02} {}",
        local.hour(),
        local.minute(),
        format_date(local.date())
    )
}

/// As the circular's slips write a time: `9 giờ 32 phút, ngày 27/10/2023` (UTC+7).
pub fn format_in_words(at: OffsetDateTime) -> String {
    let local = at.to_offset(VN_OFFSET);
    format!(
        "{} giờ {:02} phút, ngày {}",
        local.hour(),
        local.minute(),
        format_date(local.date())
    )
}

/// The place and date under a document's header: `Đắk Lắk, ngày 27 tháng 10 năm 2023`, or `Ngày 27 tháng 10 năm
/// 2023` without a place.
pub fn place_and_date(place: Option<&str>, date: Date) -> String {
    let day = format!(
        "ngày {:02} tháng {:02} năm {}",
        date.day(),
        u8::from(date.month()),
        date.year()
    );
    match place.map(str::trim).filter(|p| !p.is_empty()) {
        Some(place) => format!("{place}, {day}"),
        None => format!("N{}", &day[1..]),
    }
}

/// Midnight at the start of `date` in Vietnam, as an instant.
pub fn start_of_day(date: Date) -> OffsetDateTime {
    date.midnight()
        .assume_offset(VN_OFFSET)
        .to_offset(UtcOffset::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn a_typed_time_is_read_in_vietnam() {
        let at = parse_local_datetime("01/12/2026 08:30").unwrap();
        assert_eq!(at, time::macros::datetime!(2026-12-01 01:30 UTC));
        assert_eq!(parse_local_datetime("2026-12-01T08:30"), Some(at));
        assert_eq!(format_local_input(at), "2026-12-01T08:30");
        for bad in [
            "",
            "01/12/2026",
            "32/12/2026 08:00",
            "01/12/2026 25:00",
            "hôm nay 8h",
        ] {
            assert_eq!(parse_local_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_vietnamese_day_starts_at_17_utc_the_day_before() {
        assert_eq!(
            start_of_day(date!(2026 - 05 - 17)),
            datetime!(2026-05-16 17:00 UTC)
        );
    }

    #[test]
    fn slips_write_times_and_dates_in_words() {
        let at = datetime!(2023-10-27 02:32 UTC);
        assert_eq!(format_in_words(at), "9 giờ 32 phút, ngày 27/10/2023");
        assert_eq!(
            place_and_date(Some("Thanh Hóa"), vn_date(at)),
            "Thanh Hóa, ngày 27 tháng 10 năm 2023"
        );
        assert_eq!(
            place_and_date(Some(" "), date!(2026 - 01 - 05)),
            "Ngày 05 tháng 01 năm 2026"
        );
    }

    #[test]
    fn late_evening_utc_is_next_day_in_vietnam() {
        let at = datetime!(2023-10-26 17:30 UTC);
        assert_eq!(format_date(vn_date(at)), "27/10/2023");
        assert_eq!(format_datetime(at), "00:30 27/10/2023");
    }
}
