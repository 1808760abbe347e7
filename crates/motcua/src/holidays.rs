//! `motcua holidays import|export|propose`, and the first seeding of the calendar's data.

use std::path::{Path, PathBuf};

use motcua_calendar::{Holidays, proposed_holidays};
use motcua_store::{Store, StoreError};

use crate::Failure;

/// Put the built-in days of 2024–2026 into an empty calendar table (a new database). An administrator's edits
/// are never overwritten: once the table has any day, this does nothing.
pub async fn seed_if_empty(store: &Store) -> Result<(), StoreError> {
    if store.calendar.days().await?.is_empty() {
        let days: Vec<_> = Holidays::built_in().iter().cloned().collect();
        store.calendar.put_days(&days).await?;
    }
    Ok(())
}

/// Read, check (a make-up day must be a weekend day, a day off a weekday) and write all entries, or none.
pub async fn import(store: &Store, file: &Path) -> Result<(), Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::Other(format!("không đọc được tệp {}: {e}", file.display())))?;
    let holidays = Holidays::from_json(&text).map_err(Failure::Other)?;
    let days: Vec<_> = holidays.iter().cloned().collect();
    store
        .calendar
        .put_days(&days)
        .await
        .map_err(|e| Failure::Other(e.to_string()))?;
    eprintln!("Đã nhập {} ngày nghỉ, ngày làm bù.", days.len());
    Ok(())
}

pub async fn export(store: &Store, output: Option<PathBuf>) -> Result<(), Failure> {
    let mut holidays = Holidays::default();
    for day in store
        .calendar
        .days()
        .await
        .map_err(|e| Failure::Other(e.to_string()))?
    {
        holidays.set(day).map_err(Failure::Other)?;
    }
    write(&holidays.to_json(), output)
}

pub fn propose(year: i32) -> Result<(), Failure> {
    let mut holidays = Holidays::default();
    for day in proposed_holidays(year) {
        holidays.set(day).map_err(Failure::Other)?;
    }
    write(&holidays.to_json(), None)
}

fn write(json: &str, output: Option<PathBuf>) -> Result<(), Failure> {
    match output {
        Some(path) => std::fs::write(&path, format!("{json}\n"))
            .map_err(|e| Failure::Other(format!("không ghi được tệp {}: {e}", path.display()))),
        None => {
            use std::io::Write;
            writeln!(std::io::stdout().lock(), "{json}")
                .map_err(|e| Failure::Other(format!("không ghi được ra đầu ra chuẩn: {e}")))
        }
    }
}
