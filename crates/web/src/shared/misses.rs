//! Searches that found nothing or only partial matches, counted in memory on each node and written to the database
//! every so often (no database write per search), for the editors' page.

use std::{collections::HashMap, sync::Mutex};

use time::OffsetDateTime;

use crate::AppState;

/// How many different queries a node keeps between two flushes; more are dropped until the next one.
const MAX_PENDING: usize = 1_000;

/// Misses seen since the last flush: query → (times, results the last time).
#[derive(Debug, Default)]
pub struct MissCounter {
    pending: Mutex<HashMap<String, (u32, u32)>>,
}

impl MissCounter {
    /// Count a search of `query` (already made anonymous) that gave `results` results.
    pub(crate) fn count(&self, query: String, results: u32) {
        let Ok(mut pending) = self.pending.lock() else {
            return;
        };
        if pending.len() >= MAX_PENDING && !pending.contains_key(&query) {
            return;
        }
        let entry = pending.entry(query).or_insert((0, results));
        entry.0 += 1;
        entry.1 = results;
    }

    fn take(&self) -> HashMap<String, (u32, u32)> {
        self.pending
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default()
    }
}

/// Write what was counted since the last flush; a query that could not be written is counted again next time.
pub async fn flush(state: &AppState) {
    let at = OffsetDateTime::now_utc();
    for (query, (times, results)) in state.misses.take() {
        for _ in 0..times.min(50) {
            if let Err(e) = state
                .store
                .search_log
                .record_miss(&query, results, at)
                .await
            {
                tracing::warn!(error = %e, "search misses not written; kept for the next flush");
                state.misses.count(query.clone(), results);
                break;
            }
        }
    }
}

/// [`flush`] every `period`; for `serve`'s background work.
pub async fn flush_every(state: AppState, period: std::time::Duration) {
    loop {
        tokio::time::sleep(period).await;
        flush(&state).await;
    }
}
