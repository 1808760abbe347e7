//! Visitor counters in every page's footer: online now, today, this month, total. Each node notes its visitors in
//! memory — a hash of the address and browser under the day's salt, never the address — and writes them every few
//! seconds (and when it stops); the database counts each visitor once a day whichever node saw them, so the counts
//! are the same on every node. Bots, health checks, files and anything but a page are not counted. A node killed
//! outright loses at most the visitors it noted since its last write (`flush_every`'s period).

use std::{
    collections::HashMap,
    sync::{Mutex, RwLock},
};

use axum::{
    extract::Request,
    http::{Method, header},
    response::Response,
};
use sha2::{Digest, Sha256};
use time::{Date, Duration, OffsetDateTime};

use motcua_domain::vntime;
use motcua_store::VisitCounts;

use crate::{AppState, viewer::Viewer};

/// Seen within this long counts as online now.
pub const ONLINE_WINDOW: Duration = Duration::minutes(5);

/// How many visitors a node keeps between two writes; more are dropped until the next one (a flood is not a
/// crowd of readers).
const MAX_PENDING: usize = 50_000;

/// What a node noted since its last write, the day's salt, and the counters as of the last write.
#[derive(Debug, Default)]
pub struct VisitCounter {
    /// (day, hash) → last seen.
    pending: Mutex<HashMap<(Date, String), OffsetDateTime>>,
    /// The salts of today and tomorrow, read by each write (a page never waits for the database for them).
    salts: RwLock<HashMap<Date, String>>,
    counts: RwLock<VisitCounts>,
}

impl VisitCounter {
    /// The counters as of the last write (what the footer shows).
    pub fn snapshot(&self) -> VisitCounts {
        self.counts.read().map(|c| *c).unwrap_or_default()
    }

    fn note(&self, day: Date, hash: String, at: OffsetDateTime) {
        let Ok(mut pending) = self.pending.lock() else {
            return;
        };
        let key = (day, hash);
        if pending.len() >= MAX_PENDING && !pending.contains_key(&key) {
            return;
        }
        pending.insert(key, at);
    }

    fn take(&self) -> HashMap<(Date, String), OffsetDateTime> {
        self.pending
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default()
    }

    /// Put back what could not be written (newer sightings win).
    fn restore(&self, back: HashMap<(Date, String), OffsetDateTime>) {
        if let Ok(mut pending) = self.pending.lock() {
            for (key, at) in back {
                let seen = pending.entry(key).or_insert(at);
                if *seen < at {
                    *seen = at;
                }
            }
        }
    }

    /// The salt of `day` if this node has it (the write before fetched it).
    fn salt(&self, day: Date) -> Option<String> {
        self.salts.read().ok()?.get(&day).cloned()
    }

    /// Fetch the salts of today and tomorrow, shared by every node through the database, so that a page counts
    /// its visitor without waiting and midnight finds tomorrow's salt ready.
    async fn fetch_salts(&self, state: &AppState, today: Date) {
        let mut fetched = HashMap::new();
        for day in [Some(today), today.next_day()].into_iter().flatten() {
            let candidate = uuid::Uuid::new_v4().simple().to_string();
            match state.store.visits.salt(day, &candidate).await {
                Ok(salt) => {
                    fetched.insert(day, salt);
                }
                Err(e) => tracing::warn!(error = %e, "visitor salt not read"),
            }
        }
        if let Ok(mut salts) = self.salts.write() {
            salts.retain(|day, _| *day >= today);
            salts.extend(fetched);
        }
    }
}

/// Whether a browser's user agent is a crawler, a monitor or a script rather than a reader.
pub fn is_robot(user_agent: &str) -> bool {
    let ua = user_agent.to_ascii_lowercase();
    ua.is_empty()
        || [
            "bot",
            "crawl",
            "spider",
            "slurp",
            "curl",
            "wget",
            "python",
            "go-http",
            "java/",
            "httpclient",
            "monitor",
            "uptime",
            "pingdom",
            "check",
            "scan",
            "feed",
            "preview",
        ]
        .iter()
        .any(|word| ua.contains(word))
}

/// Note the visitor of a page (a successful HTML answer to a GET), after it is answered. Its state is the counter
/// alone: cloning the whole application state for every request costs more than counting.
pub(crate) async fn count<F: Future<Output = Response>>(
    visits: &VisitCounter,
    request: Request,
    next: impl FnOnce(Request) -> F,
) -> Response {
    let counted = request.method() == Method::GET
        && ![
            "/static/",
            "/healthz",
            "/readyz",
            "/robots.txt",
            "/sitemap.xml",
        ]
        .iter()
        .any(|p| request.uri().path().starts_with(p));
    let user_agent = request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let address = request
        .extensions()
        .get::<Viewer>()
        .and_then(|v| v.ip.clone())
        .unwrap_or_default();
    let response = next(request).await;
    let page = response.status().is_success()
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/html"));
    if counted && page && !is_robot(&user_agent) {
        let now = OffsetDateTime::now_utc();
        let day = vntime::vn_date(now);
        // without the day's salt yet (the first seconds of a node), the visit is not counted
        if let Some(salt) = visits.salt(day) {
            let mut hash = Sha256::new();
            hash.update(salt.as_bytes());
            hash.update([0]);
            hash.update(address.as_bytes());
            hash.update([0]);
            hash.update(user_agent.as_bytes());
            let hash: String = hash.finalize()[..16]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            visits.note(day, hash, now);
        }
    }
    response
}

/// Write the visitors noted since the last write and read the counters back (what could not be written is kept
/// for the next time); on a new day, forget the visitors and salts of before yesterday.
pub async fn flush(state: &AppState) {
    let now = OffsetDateTime::now_utc();
    let today = vntime::vn_date(now);
    state.visits.fetch_salts(state, today).await;
    let pending = state.visits.take();
    let mut by_day: std::collections::BTreeMap<Date, Vec<(String, OffsetDateTime)>> =
        std::collections::BTreeMap::new();
    for ((day, hash), at) in &pending {
        by_day.entry(*day).or_default().push((hash.clone(), *at));
    }
    let mut written = Vec::new();
    for (day, seen) in by_day {
        if let Err(e) = state.store.visits.record(day, &seen).await {
            // every day not written yet is kept (written again, a visitor still counts once)
            tracing::warn!(error = %e, "visitors not written; kept for the next write");
            state.visits.restore(
                pending
                    .into_iter()
                    .filter(|((d, _), _)| !written.contains(d))
                    .collect(),
            );
            return;
        }
        written.push(day);
    }
    if let Some(yesterday) = today.previous_day()
        && let Err(e) = state.store.visits.forget_before(yesterday).await
    {
        tracing::warn!(error = %e, "old visitors not forgotten");
    }
    match state.store.visits.counts(today, now - ONLINE_WINDOW).await {
        Ok(counts) => {
            if let Ok(mut c) = state.visits.counts.write() {
                *c = counts;
            }
        }
        Err(e) => tracing::warn!(error = %e, "visitor counts not read"),
    }
}

/// [`flush`] every `period`; for `serve`'s background work (which flushes once before it answers, so the day's
/// salt is there for the first page).
pub async fn flush_every(state: AppState, period: std::time::Duration) {
    loop {
        tokio::time::sleep(period).await;
        flush(&state).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robots_and_scripts_are_not_readers() {
        for ua in [
            "",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "curl/8.5.0",
            "python-requests/2.31",
            "Mozilla/5.0 (compatible; bingbot/2.0)",
            "UptimeRobot/2.0",
        ] {
            assert!(is_robot(ua), "{ua}");
        }
        for ua in [
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0 Safari/537.36",
        ] {
            assert!(!is_robot(ua), "{ua}");
        }
    }
}
