//! The Vietnamese lunar calendar, computed astronomically at UTC+7: a month starts on the day (in Vietnam) of a
//! new moon; month 11 is the one containing the winter solstice; in a year of 13 months the leap month is the
//! first one without a major solar term (a 30° step of the sun's longitude). New moons and the sun's longitude
//! come from the series of J. Meeus, *Astronomical Algorithms* (truncated as in the commonly published method);
//! this implementation is written from those formulas.

use std::f64::consts::PI;
use time::{Date, Month};

/// Hours east of Greenwich used for the Vietnamese calendar.
const TZ: f64 = 7.0;
/// Mean length of a synodic month in days.
const SYNODIC: f64 = 29.530_588_853;
/// Julian day of the new moon of 1 January 1900 (k = 0 of the series).
const EPOCH: f64 = 2_415_021.076_998_695;

fn julian_day(date: Date) -> i64 {
    i64::from(date.to_julian_day())
}

fn from_julian_day(jd: i64) -> Option<Date> {
    Date::from_julian_day(i32::try_from(jd).ok()?).ok()
}

/// The instant (Julian day, UT) of the k-th new moon after the one of January 1900.
fn new_moon(k: f64) -> f64 {
    let t = k / 1236.85;
    let (t2, t3) = (t * t, t * t * t);
    let dr = PI / 180.0;
    let mut jd = 2_415_020.759_33 + 29.530_588_68 * k + 0.000_117_8 * t2 - 0.000_000_155 * t3;
    jd += 0.000_33 * ((166.56 + 132.87 * t - 0.009_173 * t2) * dr).sin();
    // mean anomalies of the sun and the moon, the moon's argument of latitude
    let m = 359.2242 + 29.105_356_08 * k - 0.000_033_3 * t2 - 0.000_003_47 * t3;
    let mp = 306.0253 + 385.816_918_06 * k + 0.010_730_6 * t2 + 0.000_012_36 * t3;
    let f = 21.2964 + 390.670_506_46 * k - 0.001_652_8 * t2 - 0.000_002_39 * t3;
    let s = |x: f64| (x * dr).sin();
    let c1 = (0.1734 - 0.000_393 * t) * s(m) + 0.0021 * s(2.0 * m) - 0.4068 * s(mp)
        + 0.0161 * s(2.0 * mp)
        - 0.0004 * s(3.0 * mp)
        + 0.0104 * s(2.0 * f)
        - 0.0051 * s(m + mp)
        - 0.0074 * s(m - mp)
        + 0.0004 * s(2.0 * f + m)
        - 0.0004 * s(2.0 * f - m)
        - 0.0006 * s(2.0 * f + mp)
        + 0.0010 * s(2.0 * f - mp)
        + 0.0005 * s(2.0 * mp + m);
    // ΔT, ephemeris time minus universal time, in days
    let delta_t = if t < -11.0 {
        0.001 + 0.000_839 * t + 0.000_226_1 * t2 - 0.000_008_45 * t3 - 0.000_000_081 * t * t3
    } else {
        -0.000_278 + 0.000_265 * t + 0.000_262 * t2
    };
    jd + c1 - delta_t
}

/// The Julian day number (local calendar day at UTC+7) of the k-th new moon.
fn new_moon_day(k: i64) -> i64 {
    (new_moon(k as f64) + 0.5 + TZ / 24.0).floor() as i64
}

/// The sun's apparent longitude in radians, [0, 2π), at the Julian day `jd` (UT).
fn sun_longitude(jd: f64) -> f64 {
    let t = (jd - 2_451_545.0) / 36_525.0;
    let t2 = t * t;
    let dr = PI / 180.0;
    let m = 357.529_10 + 35_999.050_30 * t - 0.000_155_9 * t2 - 0.000_000_48 * t * t2;
    let l0 = 280.466_45 + 36_000.769_83 * t + 0.000_303_2 * t2;
    let dl = (1.914_600 - 0.004_817 * t - 0.000_014 * t2) * (dr * m).sin()
        + (0.019_993 - 0.000_101 * t) * (2.0 * dr * m).sin()
        + 0.000_290 * (3.0 * dr * m).sin();
    let l = (l0 + dl) * dr;
    l.rem_euclid(2.0 * PI)
}

/// Which 30° sector (0–11) the sun is in at the start of local day `day` (0 = from the vernal equinox).
fn sun_sector(day: i64) -> i64 {
    (sun_longitude(day as f64 - 0.5 - TZ / 24.0) / PI * 6.0).floor() as i64
}

/// The first day of lunar month 11 of the lunar year that mostly overlaps solar `year` (it contains the winter
/// solstice of `year`).
fn month_11(year: i32) -> Option<i64> {
    let dec31 = julian_day(Date::from_calendar_date(year, Month::December, 31).ok()?);
    let k = ((dec31 - 2_415_021) as f64 / SYNODIC).floor() as i64;
    let nm = new_moon_day(k);
    // the solstice is sun longitude 270°, sector 9: a new moon already past it starts month 12
    if sun_sector(nm) >= 9 {
        Some(new_moon_day(k - 1))
    } else {
        Some(nm)
    }
}

/// In a 13-month lunar year starting at month 11 on `a11`, how many months after month 11 the leap month comes.
fn leap_month_offset(a11: i64) -> i64 {
    let k = ((a11 as f64 - EPOCH) / SYNODIC + 0.5).floor() as i64;
    let mut i = 1;
    let mut arc = sun_sector(new_moon_day(k + i));
    loop {
        let last = arc;
        i += 1;
        arc = sun_sector(new_moon_day(k + i));
        if arc == last || i >= 14 {
            return i - 1;
        }
    }
}

/// The solar date of lunar `day`/`month`/`year` (leap month when `leap`), or `None` if there is no such day
/// (a leap month that year does not have, a day out of range for the computation).
pub fn to_solar(day: u8, month: u8, year: i32, leap: bool) -> Option<Date> {
    if !(1..=30).contains(&day) || !(1..=12).contains(&month) {
        return None;
    }
    let (a11, b11) = if month < 11 {
        (month_11(year - 1)?, month_11(year)?)
    } else {
        (month_11(year)?, month_11(year + 1)?)
    };
    let k = (0.5 + (a11 as f64 - EPOCH) / SYNODIC).floor() as i64;
    let mut offset = i64::from(month) - 11;
    if offset < 0 {
        offset += 12;
    }
    if b11 - a11 > 365 {
        let leap_offset = leap_month_offset(a11);
        let mut leap_month = leap_offset - 2;
        if leap_month < 0 {
            leap_month += 12;
        }
        if leap && i64::from(month) != leap_month {
            return None;
        }
        if leap || offset >= leap_offset {
            offset += 1;
        }
    } else if leap {
        return None;
    }
    let start = new_moon_day(k + offset);
    let next = new_moon_day(k + offset + 1);
    if i64::from(day) > next - start {
        return None;
    }
    from_julian_day(start + i64::from(day) - 1)
}

/// Tết Nguyên Đán (1st day of the 1st lunar month) of the lunar year beginning in solar `year`.
pub fn tet(year: i32) -> Option<Date> {
    to_solar(1, 1, year, false)
}

/// Giỗ Tổ Hùng Vương (10th day of the 3rd lunar month) in solar `year`.
pub fn hung_kings(year: i32) -> Option<Date> {
    to_solar(10, 3, year, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn known_lunar_new_years_and_hung_kings_days() {
        let tets = [
            (2020, date!(2020 - 01 - 25)),
            (2021, date!(2021 - 02 - 12)),
            (2022, date!(2022 - 02 - 01)),
            (2023, date!(2023 - 01 - 22)),
            (2024, date!(2024 - 02 - 10)),
            (2025, date!(2025 - 01 - 29)),
            (2026, date!(2026 - 02 - 17)),
            (2027, date!(2027 - 02 - 06)),
            (2028, date!(2028 - 01 - 26)),
            // Vietnam (UTC+7) and China (UTC+8) differ this year: the new moon fell before midnight here
            (2007, date!(2007 - 02 - 17)),
        ];
        for (year, expected) in tets {
            assert_eq!(tet(year), Some(expected), "Tết {year}");
        }
        assert_eq!(hung_kings(2024), Some(date!(2024 - 04 - 18)));
        assert_eq!(hung_kings(2025), Some(date!(2025 - 04 - 07)));
        assert_eq!(hung_kings(2026), Some(date!(2026 - 04 - 26)));
    }

    #[test]
    fn leap_months_exist_only_where_they_do() {
        // 2023 had a leap 2nd month (22 Mar – 19 Apr 2023); 2025 a leap 6th month (25 Jul – 22 Aug 2025)
        assert_eq!(to_solar(1, 2, 2023, true), Some(date!(2023 - 03 - 22)));
        assert_eq!(to_solar(1, 3, 2023, false), Some(date!(2023 - 04 - 20)));
        assert_eq!(to_solar(1, 6, 2025, true), Some(date!(2025 - 07 - 25)));
        assert_eq!(to_solar(1, 6, 2024, true), None);
        assert_eq!(to_solar(31, 1, 2024, false), None);
    }
}
