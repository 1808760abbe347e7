//! Months as the public pages filter by them: `mm/yyyy`, this month when nothing is typed, cut at midnight in
//! Vietnam; and a month's figures as the statistics and 766 pages read them, reused for a few seconds.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use time::{Date, Month, OffsetDateTime};

use motcua_domain::vntime;
use motcua_store::{AgencyStats, StoreError};

use crate::{AppError, AppState};

/// How long a node reuses a month's figures: the kept figures are a worker round (about 5 s) behind anyway, and
/// the open dossiers are counted live, which costs a province's database tens of milliseconds.
const FRESH_FOR: Duration = Duration::from_secs(5);

/// How long stale figures may still answer while one request reads them again.
const STALE_FOR: Duration = Duration::from_secs(60);

/// A month's figures and when they were read.
type Read = (Instant, Arc<Vec<AgencyStats>>);

/// Months' figures read lately, by their first day, and one reading at a time per node.
///
/// When a month's figures go stale under load, one request reads them again while the others are answered with
/// the stale ones (up to a minute old), or, when there are none, wait for that reading and take its result.
/// Without it every request in flight counted the open dossiers at once: p99 1.3 s at 1,000,000 dossiers
/// (bench/statistics.sh). Readings of different months also take turns (each counts the open dossiers live),
/// so a visitor stepping through months cannot start many at once; a month with stale figures keeps answering
/// with them meanwhile.
#[derive(Default)]
pub struct MonthFigures {
    kept: Mutex<HashMap<Date, Read>>,
    /// Per month: who reads it now (a waiter for the same month takes that reading's result).
    reading: Mutex<HashMap<Date, Arc<tokio::sync::Mutex<()>>>>,
    /// One reading of any month at a time.
    one_at_a_time: tokio::sync::Mutex<()>,
    /// When a reading of the month last failed: those who waited for it do not each try again.
    failed: Mutex<HashMap<Date, Instant>>,
}

impl MonthFigures {
    /// The month's figures if kept and not too old: whether they are still fresh, and the figures.
    fn kept(&self, first: Date) -> Option<(bool, Arc<Vec<AgencyStats>>)> {
        let kept = self.kept.lock().ok()?;
        let (at, figures) = kept.get(&first)?;
        let age = at.elapsed();
        (age < STALE_FOR).then(|| (age < FRESH_FOR, figures.clone()))
    }

    fn keep(&self, first: Date, figures: Arc<Vec<AgencyStats>>) {
        if let Ok(mut kept) = self.kept.lock() {
            // a handful of months are asked for; what is too old to answer even while stale goes on the way
            kept.retain(|_, (at, _)| at.elapsed() < STALE_FOR);
            kept.insert(first, (Instant::now(), figures));
        }
        if let Ok(mut failed) = self.failed.lock() {
            failed.remove(&first);
        }
    }

    fn fail(&self, first: Date) {
        if let Ok(mut failed) = self.failed.lock() {
            failed.retain(|_, at| at.elapsed() < STALE_FOR);
            failed.insert(first, Instant::now());
        }
    }

    /// Whether a reading of the month failed since `since`.
    fn failed_since(&self, first: Date, since: Instant) -> bool {
        self.failed
            .lock()
            .ok()
            .and_then(|failed| failed.get(&first).copied())
            .is_some_and(|at| at >= since)
    }

    /// The month's reading lock.
    fn lock_of(&self, first: Date) -> Arc<tokio::sync::Mutex<()>> {
        let Ok(mut locks) = self.reading.lock() else {
            return Arc::default();
        };
        // locks nobody holds or waits for are dropped on the way
        locks.retain(|month, lock| *month == first || Arc::strong_count(lock) > 1);
        locks.entry(first).or_default().clone()
    }
}

/// The figures of the month starting at `from` (per agency and procedure, open dossiers as of a few seconds ago).
pub(crate) async fn figures(
    state: &AppState,
    from: OffsetDateTime,
) -> Result<Arc<Vec<AgencyStats>>, AppError> {
    let first = vntime::vn_date(from);
    let memo = &state.month_figures;
    let kept = memo.kept(first);
    if let Some((true, figures)) = kept {
        return Ok(figures);
    }
    let stale = kept.map(|(_, figures)| figures);
    let asked = Instant::now();
    let lock = memo.lock_of(first);
    let _reading = match &stale {
        // stale: read again unless another request is reading this month already (then the stale figures do)
        Some(figures) => match lock.try_lock_owned() {
            Ok(guard) => guard,
            Err(_) => return Ok(figures.clone()),
        },
        None => lock.lock_owned().await,
    };
    // the reading waited for (or one that just ended) may have brought them
    if let Some((true, figures)) = memo.kept(first) {
        return Ok(figures);
    }
    // the reading waited for failed (the database out or too busy): the requests queued behind it do not each
    // try again and wait out the connection timeout one after another
    if memo.failed_since(first, asked) {
        return Err(AppError::Store(StoreError::Busy(
            "the month's statistics could not be read just now".into(),
        )));
    }
    let _turn = memo.one_at_a_time.lock().await;
    match state
        .store
        .stats
        .by_month(first, OffsetDateTime::now_utc())
        .await
    {
        Ok(figures) => {
            let figures = Arc::new(figures);
            memo.keep(first, figures.clone());
            Ok(figures)
        }
        Err(e) => {
            memo.fail(first);
            // figures a minute old are better than none
            match stale {
                Some(figures) => {
                    tracing::warn!(error = %e, "a month's statistics not read again; the last ones are shown");
                    Ok(figures)
                }
                None => Err(e.into()),
            }
        }
    }
}

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
