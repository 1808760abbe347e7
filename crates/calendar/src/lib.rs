//! Working time as Vietnamese administrations count it (`domain.md` §7): office hours (default 07:00–11:30 and
//! 13:30–17:00, Monday to Friday, UTC+7), public holidays and make-up working days as data, the start-of-counting
//! rules and cut-off hours, time limits in working days (1 day = 8 working hours), working hours or calendar
//! days, and a clock that pauses. Pure: no I/O, no clock of its own.

pub mod lunar;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset, Weekday};

/// Asia/Ho_Chi_Minh: no daylight saving.
pub const VN: UtcOffset = match UtcOffset::from_hms(7, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// A working day counts as 8 working hours, whatever a unit's office hours.
pub const WORKING_DAY: Duration = Duration::hours(8);

/// The periods of a working day, in order, not overlapping (local time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeHours {
    periods: Vec<(Time, Time)>,
}

impl Default for OfficeHours {
    fn default() -> Self {
        let t = |h, m| Time::from_hms(h, m, 0).unwrap_or(Time::MIDNIGHT);
        OfficeHours {
            periods: vec![(t(7, 0), t(11, 30)), (t(13, 30), t(17, 0))],
        }
    }
}

impl OfficeHours {
    /// Periods such as `[(07:00, 11:30), (13:30, 17:00)]`: each must start before it ends and after the previous
    /// one ended.
    pub fn new(periods: Vec<(Time, Time)>) -> Result<Self, String> {
        if periods.is_empty() {
            return Err("giờ làm việc phải có ít nhất một buổi".into());
        }
        for (i, (start, end)) in periods.iter().enumerate() {
            if start >= end {
                return Err(format!(
                    "buổi làm việc thứ {} kết thúc trước khi bắt đầu",
                    i + 1
                ));
            }
            if i > 0 && periods[i - 1].1 > *start {
                return Err(format!("buổi làm việc thứ {} chồng lên buổi trước", i + 1));
            }
        }
        Ok(OfficeHours { periods })
    }

    pub fn periods(&self) -> &[(Time, Time)] {
        &self.periods
    }

    fn first_start(&self) -> Time {
        self.periods[0].0
    }

    fn last_end(&self) -> Time {
        self.periods[self.periods.len() - 1].1
    }
}

/// What a listed day is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A weekday off (public holiday, bridge day, compensatory day).
    Off,
    /// A Saturday or Sunday worked (in exchange for a bridge day).
    MakeUp,
}

/// One listed day: `{"date": "2024-05-04", "kind": "make_up", "name": "Làm bù cho ngày 29/4"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialDay {
    pub date: Date,
    pub kind: DayKind,
    pub name: String,
    /// Computed (lunar holidays of later years) and not yet confirmed by an administrator.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub proposed: bool,
}

/// `dd/mm/yyyy`.
pub fn dmy(date: Date) -> String {
    format!(
        "{:02}/{:02}/{}",
        date.day(),
        u8::from(date.month()),
        date.year()
    )
}

/// Holidays and make-up days, one entry per date.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holidays {
    days: BTreeMap<Date, SpecialDay>,
}

const BUILT_IN: &str = include_str!("holidays.json");

impl Holidays {
    /// The days off and make-up days for civil servants of 2024–2026 (`domain.md` §7).
    pub fn built_in() -> Holidays {
        // the file is part of the crate and checked by a test
        Holidays::from_json(BUILT_IN).unwrap_or_default()
    }

    pub fn from_json(json: &str) -> Result<Holidays, String> {
        let list: Vec<SpecialDay> =
            serde_json::from_str(json).map_err(|e| format!("danh sách ngày nghỉ: {e}"))?;
        let mut h = Holidays::default();
        for day in list {
            h.set(day)?;
        }
        Ok(h)
    }

    pub fn to_json(&self) -> String {
        let list: Vec<&SpecialDay> = self.days.values().collect();
        serde_json::to_string_pretty(&list).unwrap_or_else(|_| "[]".into())
    }

    /// Add or replace the entry of a date. A make-up day must be a weekend day; a day off a weekday.
    pub fn set(&mut self, day: SpecialDay) -> Result<(), String> {
        let weekend = matches!(day.date.weekday(), Weekday::Saturday | Weekday::Sunday);
        match (day.kind, weekend) {
            (DayKind::MakeUp, false) => {
                return Err(format!(
                    "{}: ngày làm bù phải là thứ Bảy hoặc Chủ nhật",
                    dmy(day.date)
                ));
            }
            (DayKind::Off, true) => {
                return Err(format!(
                    "{}: ngày cuối tuần vốn đã nghỉ; hãy ghi ngày nghỉ bù vào ngày làm việc kế tiếp",
                    dmy(day.date)
                ));
            }
            _ => {}
        }
        self.days.insert(day.date, day);
        Ok(())
    }

    pub fn remove(&mut self, date: Date) -> Option<SpecialDay> {
        self.days.remove(&date)
    }

    pub fn get(&self, date: Date) -> Option<&SpecialDay> {
        self.days.get(&date)
    }

    pub fn in_year(&self, year: i32) -> impl Iterator<Item = &SpecialDay> {
        self.days.values().filter(move |d| d.date.year() == year)
    }

    pub fn iter(&self) -> impl Iterator<Item = &SpecialDay> {
        self.days.values()
    }
}

/// A time limit as the calendar counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Working days of 8 working hours; 0 means "within the day of reception".
    WorkingDays(u32),
    WorkingHours(u32),
    /// Calendar days; a deadline on a non-working day moves to the end of the next working day.
    CalendarDays(u32),
}

/// Office hours and special days: everything needed to count working time at one unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    pub hours: OfficeHours,
    pub holidays: Holidays,
}

fn local(at: OffsetDateTime) -> PrimitiveDateTime {
    let l = at.to_offset(VN);
    PrimitiveDateTime::new(l.date(), l.time())
}

fn instant(at: PrimitiveDateTime) -> OffsetDateTime {
    at.assume_offset(VN)
}

impl WorkCalendar {
    pub fn new(hours: OfficeHours, holidays: Holidays) -> Self {
        WorkCalendar { hours, holidays }
    }

    /// Monday to Friday unless listed off, or a listed make-up day.
    pub fn is_working_day(&self, date: Date) -> bool {
        match self.holidays.get(date).map(|d| d.kind) {
            Some(DayKind::Off) => false,
            Some(DayKind::MakeUp) => true,
            None => !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday),
        }
    }

    fn next_working_day(&self, mut date: Date) -> Date {
        // a year without a working day is not a calendar: stop looking after two
        for _ in 0..730 {
            date = match date.next_day() {
                Some(d) => d,
                None => return date,
            };
            if self.is_working_day(date) {
                return date;
            }
        }
        date
    }

    /// Whether `at` is inside office hours (period ends included) on a working day.
    pub fn is_working_instant(&self, at: OffsetDateTime) -> bool {
        let l = local(at);
        self.is_working_day(l.date())
            && self
                .hours
                .periods
                .iter()
                .any(|(s, e)| *s <= l.time() && l.time() <= *e)
    }

    /// The first working instant at or after `at` (counting starts there): before opening → opening, at lunch →
    /// the afternoon, after closing or on a day off → opening of the next working day.
    pub fn next_working_instant(&self, at: OffsetDateTime) -> OffsetDateTime {
        let l = local(at);
        if self.is_working_day(l.date()) {
            for (start, end) in &self.hours.periods {
                if l.time() < *start {
                    return instant(PrimitiveDateTime::new(l.date(), *start));
                }
                if l.time() < *end {
                    return at;
                }
            }
        }
        let day = self.next_working_day(l.date());
        instant(PrimitiveDateTime::new(day, self.hours.first_start()))
    }

    /// Where counting starts for something received at `received`: the next working instant, or, past the
    /// procedure's cut-off hour, the opening of the next working day.
    pub fn start_of_counting(
        &self,
        received: OffsetDateTime,
        cutoff_hour: Option<u8>,
    ) -> OffsetDateTime {
        let l = local(received);
        if let Some(h) = cutoff_hour
            && self.is_working_day(l.date())
            && l.time().hour() >= h
        {
            let day = self.next_working_day(l.date());
            return instant(PrimitiveDateTime::new(day, self.hours.first_start()));
        }
        self.next_working_instant(received)
    }

    /// The instant `work` of working time after `from`.
    pub fn add(&self, from: OffsetDateTime, work: Duration) -> OffsetDateTime {
        // a working instant is inside a period, never at its end (next_working_instant moves on from there)
        let mut at = self.next_working_instant(from);
        let mut left = work.max(Duration::ZERO);
        loop {
            let l = local(at);
            let end = self
                .hours
                .periods
                .iter()
                .find(|(s, e)| *s <= l.time() && l.time() < *e)
                .map(|(_, e)| *e)
                .unwrap_or_else(|| self.hours.last_end());
            let available = PrimitiveDateTime::new(l.date(), end) - l;
            if left <= available {
                return at + left;
            }
            left -= available;
            at = self.next_working_instant(instant(PrimitiveDateTime::new(l.date(), end)));
        }
    }

    /// Working time between `from` and `to` (zero if `to` is not after `from`).
    pub fn between(&self, from: OffsetDateTime, to: OffsetDateTime) -> Duration {
        if to <= from {
            return Duration::ZERO;
        }
        let (a, b) = (local(from), local(to));
        let mut total = Duration::ZERO;
        let mut day = a.date();
        while day <= b.date() {
            if self.is_working_day(day) {
                for (s, e) in &self.hours.periods {
                    let start = PrimitiveDateTime::new(day, *s).max(a);
                    let end = PrimitiveDateTime::new(day, *e).min(b);
                    if end > start {
                        total += end - start;
                    }
                }
            }
            day = match day.next_day() {
                Some(d) => d,
                None => break,
            };
        }
        total
    }

    /// End of office hours on the first working day at or after `date`.
    fn end_of_working_day(&self, date: Date) -> OffsetDateTime {
        let day = if self.is_working_day(date) {
            date
        } else {
            self.next_working_day(date)
        };
        instant(PrimitiveDateTime::new(day, self.hours.last_end()))
    }

    /// When the result is due for something received at `received` with `limit` (and the procedure's cut-off).
    pub fn due(
        &self,
        received: OffsetDateTime,
        limit: Limit,
        cutoff_hour: Option<u8>,
    ) -> OffsetDateTime {
        let start = self.start_of_counting(received, cutoff_hour);
        match limit {
            Limit::WorkingDays(0) => self.end_of_working_day(local(start).date()),
            Limit::WorkingDays(n) => self.add(start, WORKING_DAY * n),
            Limit::WorkingHours(n) => self.add(start, Duration::hours(i64::from(n))),
            Limit::CalendarDays(n) => {
                let date = local(start).date() + Duration::days(i64::from(n));
                self.end_of_working_day(date)
            }
        }
    }

    /// A due time after a pause (supplement requested, awaiting fees) from `paused_at` to `resumed_at`: the
    /// working time the pause took is added back.
    pub fn extend_for_pause(
        &self,
        due: OffsetDateTime,
        paused_at: OffsetDateTime,
        resumed_at: OffsetDateTime,
    ) -> OffsetDateTime {
        self.add(due, self.between(paused_at, resumed_at))
    }

    /// A default reminder point: `before` of working time ahead of `due` (the apology must go out at least one
    /// working day before the due date).
    pub fn working_time_before(&self, due: OffsetDateTime, before: Duration) -> OffsetDateTime {
        // walk back day by day: find the latest instant t with between(t, due) >= before
        let mut lo = due - Duration::days(30 + before.whole_days() * 3);
        let mut hi = due;
        for _ in 0..64 {
            let mid = lo + (hi - lo) / 2;
            if self.between(mid, due) >= before {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo
    }
}

/// Holidays of `year` computed from the law (Labour Code 2019, Art. 112) and the lunar calendar, as proposals
/// for an administrator to confirm: 1 January; Tết (the last day of the old lunar year and the first four of the
/// new); Hùng Kings day; 30 April and 1 May; 2 September and the day after. A holiday on a weekend gives the next
/// free weekday off. The government's yearly swaps (bridge days, make-up Saturdays) are not guessed.
pub fn proposed_holidays(year: i32) -> Vec<SpecialDay> {
    let mut raw: Vec<(Date, String)> = Vec::new();
    for (month, day, name) in [
        (time::Month::January, 1, "Tết Dương lịch"),
        (time::Month::April, 30, "Ngày Chiến thắng 30/4"),
        (time::Month::May, 1, "Ngày Quốc tế Lao động 1/5"),
        (time::Month::September, 2, "Quốc khánh 2/9"),
        (time::Month::September, 3, "Quốc khánh (ngày liền kề)"),
    ] {
        if let Ok(date) = Date::from_calendar_date(year, month, day) {
            raw.push((date, name.to_string()));
        }
    }
    if let Some(tet) = lunar::tet(year) {
        raw.push((
            tet - Duration::DAY,
            "Tết Nguyên đán (ngày cuối năm Âm lịch)".into(),
        ));
        for n in 0..4 {
            raw.push((
                tet + Duration::days(n),
                format!("Tết Nguyên đán (mùng {} Tết)", n + 1),
            ));
        }
    }
    if let Some(d) = lunar::hung_kings(year) {
        raw.push((d, "Giỗ Tổ Hùng Vương (10/3 Âm lịch)".into()));
    }
    raw.sort();
    let weekend = |d: Date| matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday);
    let off = |date: Date, name: String| SpecialDay {
        date,
        kind: DayKind::Off,
        name,
        proposed: true,
    };
    let mut out: BTreeMap<Date, SpecialDay> = BTreeMap::new();
    for (date, name) in raw.iter().filter(|(d, _)| !weekend(*d)) {
        out.insert(*date, off(*date, name.clone()));
    }
    // a holiday on a weekend: the first following weekday not already off
    for (date, name) in raw.iter().filter(|(d, _)| weekend(*d)) {
        let mut d = *date;
        while let Some(next) = d.next_day() {
            d = next;
            if !weekend(d) && !out.contains_key(&d) {
                out.insert(d, off(d, format!("Nghỉ bù {name}")));
                break;
            }
        }
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::{date, datetime};

    fn cal() -> WorkCalendar {
        WorkCalendar::new(OfficeHours::default(), Holidays::built_in())
    }

    fn vn(dt: PrimitiveDateTime) -> OffsetDateTime {
        dt.assume_offset(VN)
    }

    #[test]
    fn the_real_receipt_five_working_days_from_a_friday_morning() {
        // received Fri 27/10/2023 09:32, 5 working days → due Fri 03/11/2023 (09:32)
        let received = vn(datetime!(2023-10-27 09:32));
        let due = cal().due(received, Limit::WorkingDays(5), None);
        assert_eq!(due, vn(datetime!(2023-11-03 09:32)));
    }

    #[test]
    fn counting_starts_at_the_next_working_instant() {
        let c = cal();
        let at = |d| c.start_of_counting(vn(d), None);
        assert_eq!(
            at(datetime!(2026-03-02 06:15)),
            vn(datetime!(2026-03-02 07:00))
        );
        assert_eq!(
            at(datetime!(2026-03-02 12:10)),
            vn(datetime!(2026-03-02 13:30))
        );
        assert_eq!(
            at(datetime!(2026-03-02 17:20)),
            vn(datetime!(2026-03-03 07:00))
        );
        // Friday evening → Monday
        assert_eq!(
            at(datetime!(2026-03-06 18:00)),
            vn(datetime!(2026-03-09 07:00))
        );
        // cut-off 15:00: received at 15:05 counts from the next working day
        assert_eq!(
            c.start_of_counting(vn(datetime!(2026-03-02 15:05)), Some(15)),
            vn(datetime!(2026-03-03 07:00))
        );
        assert_eq!(
            c.start_of_counting(vn(datetime!(2026-03-02 14:55)), Some(15)),
            vn(datetime!(2026-03-02 14:55))
        );
    }

    #[test]
    fn holidays_are_skipped_and_make_up_saturdays_count() {
        let c = cal();
        // 2024: 29 Apr – 1 May off, Saturday 4 May worked
        assert!(!c.is_working_day(date!(2024 - 04 - 29)));
        assert!(c.is_working_day(date!(2024 - 05 - 04)));
        // received Fri 26/4/2024 16:00, 2 working days: Fri 1 h, then Thu 2/5 8 h, Fri 3/5 7 h → Fri 3/5 16:00
        let due = c.due(vn(datetime!(2024-04-26 16:00)), Limit::WorkingDays(2), None);
        assert_eq!(due, vn(datetime!(2024-05-03 16:00)));
        // 3 working days from Fri 3/5/2024 16:00 run through the make-up Saturday: Fri 1 h, Sat 8 h, Mon 8 h,
        // Tue 7 h → Tue 7/5 16:00
        let due = c.due(vn(datetime!(2024-05-03 16:00)), Limit::WorkingDays(3), None);
        assert_eq!(due, vn(datetime!(2024-05-07 16:00)));
        // Tết 2026: nothing counts from Mon 16 to Fri 20 Feb
        let due = c.due(
            vn(datetime!(2026-02-13 17:30)),
            Limit::WorkingHours(4),
            None,
        );
        assert_eq!(due, vn(datetime!(2026-02-23 11:00)));
    }

    #[test]
    fn same_day_calendar_days_and_pauses() {
        let c = cal();
        assert_eq!(
            c.due(vn(datetime!(2026-03-02 09:00)), Limit::WorkingDays(0), None),
            vn(datetime!(2026-03-02 17:00))
        );
        // 15 calendar days from Thu 16/4/2026 → Fri 1/5 is a holiday → end of Mon 4/5
        assert_eq!(
            c.due(
                vn(datetime!(2026-04-16 10:00)),
                Limit::CalendarDays(15),
                None
            ),
            vn(datetime!(2026-05-04 17:00))
        );
        // a supplement request from Tue 10:00 to Wed 10:00 pauses 8 working hours: the due time moves a day
        let due = vn(datetime!(2026-03-13 10:00));
        let later = c.extend_for_pause(
            due,
            vn(datetime!(2026-03-10 10:00)),
            vn(datetime!(2026-03-11 10:00)),
        );
        assert_eq!(later, vn(datetime!(2026-03-16 10:00)));
    }

    #[test]
    fn the_built_in_days_load_and_are_consistent() {
        let h = Holidays::built_in();
        assert!(h.in_year(2024).count() >= 10, "{}", h.to_json());
        assert!(h.in_year(2026).count() >= 9);
        assert_eq!(Holidays::from_json(&h.to_json()).unwrap(), h);
        // a make-up day on a weekday is refused
        let mut h2 = Holidays::default();
        assert!(
            h2.set(SpecialDay {
                date: date!(2026 - 03 - 02),
                kind: DayKind::MakeUp,
                name: "x".into(),
                proposed: false
            })
            .is_err()
        );
    }

    #[test]
    fn proposals_follow_the_lunar_calendar_and_compensate_weekends() {
        let p = proposed_holidays(2026);
        let dates: Vec<Date> = p.iter().map(|d| d.date).collect();
        // Tết 2026 is Tue 17 Feb: Mon 16 (eve) … Fri 20
        for d in [date!(2026 - 02 - 16), date!(2026 - 02 - 20)] {
            assert!(dates.contains(&d), "{d}");
        }
        // Hùng Kings falls on Sunday 26 Apr → Monday 27 Apr off
        assert!(dates.contains(&date!(2026 - 04 - 27)));
        assert!(p.iter().all(|d| d.proposed && d.kind == DayKind::Off));
        assert!(
            p.iter()
                .all(|d| !matches!(d.date.weekday(), Weekday::Saturday | Weekday::Sunday))
        );
    }

    fn instant_strategy() -> impl Strategy<Value = OffsetDateTime> {
        // any minute of 2024–2026
        (0i64..(3 * 365 * 24 * 60))
            .prop_map(|m| vn(datetime!(2024-01-01 00:00)) + Duration::minutes(m))
    }

    proptest! {
        #[test]
        fn adding_then_measuring_gives_back_the_duration(from in instant_strategy(), minutes in 0i64..(40 * 8 * 60)) {
            let c = cal();
            let work = Duration::minutes(minutes);
            let to = c.add(from, work);
            prop_assert_eq!(c.between(from, to), work);
            prop_assert!(to >= from);
        }

        #[test]
        fn results_never_land_on_a_non_working_instant(from in instant_strategy(), minutes in 0i64..(40 * 8 * 60)) {
            let c = cal();
            prop_assert!(c.is_working_instant(c.add(from, Duration::minutes(minutes))));
            prop_assert!(c.is_working_instant(c.next_working_instant(from)));
        }

        #[test]
        fn a_pause_of_n_working_hours_moves_the_due_time_by_exactly_n(
            due in instant_strategy(), paused in instant_strategy(), minutes in 0i64..(20 * 8 * 60)
        ) {
            let c = cal();
            let due = c.next_working_instant(due);
            let resumed = c.add(paused, Duration::minutes(minutes));
            let pause = c.between(paused, resumed);
            let later = c.extend_for_pause(due, paused, resumed);
            prop_assert_eq!(c.between(due, later), pause);
        }

        #[test]
        fn working_days_never_end_before_their_hours(from in instant_strategy(), days in 1u32..30) {
            let c = cal();
            let due = c.due(from, Limit::WorkingDays(days), None);
            let start = c.start_of_counting(from, None);
            prop_assert_eq!(c.between(start, due), WORKING_DAY * days);
        }
    }
}
