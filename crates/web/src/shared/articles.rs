//! Articles as readers get them, without the database on every view: the list of approved articles is kept in
//! memory for [`FRESH_FOR`] (each node; a change made through this node is seen at once), bodies and published
//! comments are kept by the version or count they belong to, so an approval, a vote or a moderation never shows a
//! stale one. Scheduled articles are in the list already and appear when their time comes. Also the reader's
//! cookie (signed, one vote per reader) and the address of a vote, hashed under its day.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, RwLock},
    time::{Duration, Instant},
};

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use motcua_domain::article::{CommentStatus, is_live};
use motcua_store::{Comment, LiveArticle};

use crate::{AppError, AppState};

/// How long a node reuses the list of articles before reading it again (what another node approved shows
/// within this).
pub const FRESH_FOR: Duration = Duration::from_secs(15);

/// Bodies and comment lists kept at most (the most read articles stay; the rest are read again when asked).
const KEPT: usize = 500;

/// Where article images are kept in the file store (served at `motcua_richtext::IMAGE_PATH`).
pub(crate) const IMAGE_PREFIX: &str = "bai-viet";

/// Published comments shown under an article.
pub const COMMENTS_SHOWN: u32 = 200;

/// How the newsroom works on this deployment.
#[derive(Debug, Clone, Default)]
pub struct ArticleSettings {
    /// A comment by a logged-in citizen is published at once (others always wait for an editor).
    pub publish_citizen_comments: bool,
}

/// Published comments kept per (article, count of published comments).
type CommentLists = HashMap<(Uuid, u64), Arc<Vec<Comment>>>;

#[derive(Default)]
pub struct Articles {
    pub settings: ArticleSettings,
    list: RwLock<Option<(Instant, Arc<Vec<LiveArticle>>)>>,
    /// Bumped by every change made through this node: a list read before a change is not kept after it.
    generation: std::sync::atomic::AtomicU64,
    bodies: Mutex<HashMap<(Uuid, u32), Arc<String>>>,
    comments: Mutex<CommentLists>,
    /// Article pages as an anonymous reader gets them, drawn once per state of what they show.
    pages: Mutex<HashMap<Uuid, (PageState, bytes::Bytes)>>,
    key: tokio::sync::OnceCell<Vec<u8>>,
}

/// Everything an anonymous reader's article page is drawn from: the list of articles it was drawn with (related
/// ones; read again every [`FRESH_FOR`] or after a change, so a scheduled article shows among the related ones
/// within that), the catalogue snapshot (related procedures) — both recognised by identity —, the version shown (its body), the count of published comments, the stars, and
/// the footer's counters. The same state draws the same page.
#[derive(Clone)]
pub(crate) struct PageState {
    /// Weak: a page kept for an article rarely read must not keep an old list or catalogue alive (only its empty
    /// allocation stays, so the address is not reused by another one while the page is kept).
    pub list: std::sync::Weak<Vec<LiveArticle>>,
    pub catalogue: std::sync::Weak<crate::catalogue::CatalogueView>,
    pub version: u32,
    pub comments: u64,
    pub stars: (u64, u64),
    pub visits: Option<motcua_store::VisitCounts>,
}

impl PartialEq for PageState {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Weak::ptr_eq(&self.list, &other.list)
            && std::sync::Weak::ptr_eq(&self.catalogue, &other.catalogue)
            && (self.version, self.comments, self.stars, self.visits)
                == (other.version, other.comments, other.stars, other.visits)
    }
}

impl Articles {
    /// The page drawn for `state`, if this is still its state.
    pub(crate) fn page(&self, article: Uuid, state: &PageState) -> Option<bytes::Bytes> {
        let pages = self.pages.lock().ok()?;
        pages
            .get(&article)
            .filter(|(drawn, _)| drawn == state)
            .map(|(_, html)| html.clone())
    }

    /// Keep the page drawn for `state`.
    pub(crate) fn keep_page(&self, article: Uuid, state: PageState, html: bytes::Bytes) {
        if let Ok(mut pages) = self.pages.lock() {
            if pages.len() >= KEPT {
                pages.clear();
            }
            pages.insert(article, (state, html));
        }
    }

    pub fn new(settings: ArticleSettings) -> Articles {
        Articles {
            settings,
            ..Default::default()
        }
    }

    /// Forget the list: the next reader reads it again (after an approval, a vote, a moderation).
    pub(crate) fn changed(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if let Ok(mut list) = self.list.write() {
            *list = None;
        }
    }
}

/// Readers' articles as kept: every approved one (scheduled ones too), newest first. Filter with [`shown`]; the
/// list is shared, so callers clone only what they show.
pub(crate) async fn live(state: &AppState) -> Result<Arc<Vec<LiveArticle>>, AppError> {
    all(state).await
}

/// Whether readers see `a` at `now` (its publish time has come, its unpublish time not).
pub(crate) fn shown(a: &LiveArticle, now: OffsetDateTime) -> bool {
    is_live(Some(a.publish_at), a.unpublish_at, now)
}

/// The newest `n` articles readers may see, or none when the database cannot answer (the home page is served
/// anyway).
pub(crate) async fn latest(state: &AppState, n: usize) -> Vec<LiveArticle> {
    let now = OffsetDateTime::now_utc();
    match all(state).await {
        Ok(list) => list
            .iter()
            .filter(|a| shown(a, now))
            .take(n)
            .cloned()
            .collect(),
        Err(e) => {
            tracing::warn!(error = ?e, "latest articles not read for the home page");
            Vec::new()
        }
    }
}

async fn all(state: &AppState) -> Result<Arc<Vec<LiveArticle>>, AppError> {
    if let Ok(list) = state.articles.list.read()
        && let Some((at, list)) = list.as_ref()
        && at.elapsed() < FRESH_FOR
    {
        return Ok(list.clone());
    }
    let generation = state
        .articles
        .generation
        .load(std::sync::atomic::Ordering::SeqCst);
    let fresh = Arc::new(state.store.articles.live().await?);
    // a change made while this list was read makes it stale already: served once, not kept
    if let Ok(mut list) = state.articles.list.write()
        && state
            .articles
            .generation
            .load(std::sync::atomic::Ordering::SeqCst)
            == generation
    {
        *list = Some((Instant::now(), fresh.clone()));
    }
    Ok(fresh)
}

/// The approved body of an article (versions never change, so it is kept by version).
pub(crate) async fn body(state: &AppState, article: &LiveArticle) -> Result<Arc<String>, AppError> {
    let key = (article.id, article.version);
    if let Some(body) = state
        .articles
        .bodies
        .lock()
        .ok()
        .and_then(|b| b.get(&key).cloned())
    {
        return Ok(body);
    }
    let body = Arc::new(
        state
            .store
            .articles
            .version(article.id, article.version)
            .await?
            .map(|v| v.body)
            .unwrap_or_default(),
    );
    if let Ok(mut bodies) = state.articles.bodies.lock() {
        if bodies.len() >= KEPT {
            bodies.clear();
        }
        bodies.insert(key, body.clone());
    }
    Ok(body)
}

/// The published comments of an article (kept by their count: a newly published one makes a new list).
pub(crate) async fn comments(
    state: &AppState,
    article: &LiveArticle,
) -> Result<Arc<Vec<Comment>>, AppError> {
    let key = (article.id, article.comments);
    if article.comments == 0 {
        return Ok(Arc::new(Vec::new()));
    }
    if let Some(list) = state
        .articles
        .comments
        .lock()
        .ok()
        .and_then(|c| c.get(&key).cloned())
    {
        return Ok(list);
    }
    let list = Arc::new(
        state
            .store
            .articles
            .comments(article.id, CommentStatus::Published, COMMENTS_SHOWN)
            .await?,
    );
    if let Ok(mut kept) = state.articles.comments.lock() {
        if kept.len() >= KEPT {
            kept.clear();
        }
        kept.insert(key, list.clone());
    }
    Ok(list)
}

/// The key that signs reader cookies and hashes addresses, shared by every node through the database.
async fn key(state: &AppState) -> Result<&[u8], AppError> {
    let key = state
        .articles
        .key
        .get_or_try_init(|| async {
            let candidate = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
            state
                .store
                .articles
                .site_key("doc-gia", &candidate)
                .await
                .map(String::into_bytes)
        })
        .await?;
    Ok(key)
}

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &[u8], parts: &[&[u8]]) -> String {
    // HMAC accepts keys of any length
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    for part in parts {
        mac.update(part);
        mac.update(&[0]);
    }
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// The reader cookie's name.
pub(crate) const READER_COOKIE: &str = "motcua_doc_gia";

/// A reader: their cookie's id if its signature holds, else a new one with the `Set-Cookie` that gives it.
pub(crate) async fn reader(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(String, Option<String>), AppError> {
    let key = key(state).await?;
    if let Some(value) = crate::session::cookie_value(headers, READER_COOKIE)
        && let Some((id, signature)) = value.split_once('.')
        && id.len() == 32
        && same(&mac(key, &[id.as_bytes()]), signature)
    {
        return Ok((voter_of(id), None));
    }
    let id = Uuid::new_v4().simple().to_string();
    let signature = mac(key, &[id.as_bytes()]);
    let secure = if state.sessions.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{READER_COOKIE}={id}.{signature}; Path=/tin-tuc; HttpOnly; SameSite=Lax; Max-Age=31536000{secure}"
    );
    Ok((voter_of(&id), Some(cookie)))
}

/// Equal strings, compared in a time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// What is stored of a reader: a hash of their cookie's id, not the id itself.
fn voter_of(id: &str) -> String {
    let digest = Sha256::digest(id.as_bytes());
    hex::encode(&digest[..16])
}

/// A reader's address, hashed with the day under the shared key: equal for one address within a day, not
/// linkable across days, and no address kept.
pub(crate) async fn address_of(
    state: &AppState,
    address: &str,
    day: Date,
) -> Result<String, AppError> {
    let key = key(state).await?;
    Ok(mac(
        key,
        &[day.to_string().as_bytes(), network_of(address).as_bytes()],
    ))
}

/// The part of an address that names one subscriber: an IPv4 address whole, an IPv6 address's /64 (a home or
/// phone gets a whole /64 and could vote from every address in it).
fn network_of(address: &str) -> String {
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        _ => address.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_subscriber_is_one_address() {
        assert_eq!(
            network_of("2001:db8:1:2:aaaa::1"),
            network_of("2001:db8:1:2:bbbb::9")
        );
        assert_ne!(network_of("2001:db8:1:2::1"), network_of("2001:db8:1:3::1"));
        assert_eq!(network_of("10.0.0.1"), "10.0.0.1");
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }

    #[test]
    fn a_signature_depends_on_the_key_and_every_part() {
        let a = mac(b"k1", &[b"x", b"y"]);
        assert_eq!(a.len(), 32);
        assert_eq!(a, mac(b"k1", &[b"x", b"y"]));
        assert_ne!(a, mac(b"k2", &[b"x", b"y"]));
        assert_ne!(a, mac(b"k1", &[b"xy"]));
    }
}
