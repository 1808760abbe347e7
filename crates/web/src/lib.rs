//! The HTTP edge of motcua: the public portal, the citizen's area, the one-stop desk, administration and
//! accounts (later the JSON API beside them), and the newsroom where editors write articles, with the middleware every response goes
//! through. Handlers are thin: parse input, ask the store or the domain, render. Where a page, a loader or a
//! helper lives: `docs/architecture.md`.

// Folders by audience, above one shared layer. Arrows go from an audience to `shared`, never between audiences
// and never back up (checked by `tests/layers.rs`); the router below is the only place that names them all.
mod accounts;
mod admin;
pub mod api;
mod citizen;
mod desk;
mod gateway;
mod newsroom;
mod portal;
mod shared;
pub mod worker;

// the shared layer's modules, by their short names
pub use portal::results::LatestResults;
pub(crate) use shared::{
    answers, assets, audit, background, csrf, dossier_lookup, dossiers, error, frame, guard,
    health, index766, input, layout, outage, problem, receiving, security, slips, steps, urls,
    viewer, withdrawal,
};
pub use shared::{
    articles, auth, catalogue, files, misses, months, payments, postal, seals, session, visits,
};

use accounts::{login, password_reset, profile, registration, tokens};
use admin::{
    agencies, api_clients, audit_trail, holidays, officers, procedures, search_log, synonyms,
    workflows,
};
use citizen::{
    apply, attachments, delivery, lookup, payment, rating, submit, supplement, tracking,
};
use desk::{
    delivery as desk_delivery, fees, home, inbox, index766 as agency_index, intake, page,
    processing, queue, reception, register,
};
use gateway::{notification, sandbox};
use newsroom::{articles as newsroom_articles, comments as newsroom_comments};
use portal::{
    articles as news, crawlers, help, index766 as public_index, pages, results, statistics,
    verification,
};

use axum::{
    Router,
    routing::{get, post},
};
use catalogue::Catalogue;
use motcua_notify::Mailer;
use motcua_store::{Store, StoreError};
use object_store::ObjectStore;
use session::SessionSettings;
use std::sync::{Arc, OnceLock};
use tower_http::{catch_panic::CatchPanicLayer, trace::TraceLayer};

pub use error::AppError;

/// What a deployment says about itself on every page.
#[derive(Debug, Clone)]
pub struct Site {
    /// Shown in the header and page titles, e.g. "Cổng Dịch vụ công tỉnh Hòa Bình".
    pub name: String,
    /// Where people reach the portal (links in e-mails are built from this, never from a request's Host).
    pub public_url: String,
    /// Who runs the portal and how to reach them, in the footer of every page.
    pub footer: SiteFooter,
    /// The place name printed before the date on slips ("Đắk Lắk, ngày 29 tháng 11 năm 2026").
    pub place: Option<String>,
}

/// The footer's facts: the governing agency, its address, hotline and e-mail (each shown when set).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteFooter {
    pub owner: Option<String>,
    pub address: Option<String>,
    pub hotline: Option<String>,
    pub email: Option<String>,
}

impl Default for Site {
    fn default() -> Self {
        Site {
            name: "Cổng Dịch vụ công trực tuyến".into(),
            public_url: "http://127.0.0.1:8080".into(),
            footer: SiteFooter::default(),
            place: None,
        }
    }
}

/// Shared state of the web layer: one `Arc`, so that the layers and handlers that each take a copy per request
/// touch one reference count, not one per part (measured: cloning and dropping ~25 `Arc`s per layer was most of a
/// page's CPU under load). Read its parts through `Deref` (`state.store`); build it with [`AppState::new`] and the
/// `with_*` methods, or from a [`Shared`].
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl From<Shared> for AppState {
    fn from(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

/// The parts of [`AppState`].
#[derive(Clone)]
pub struct Shared {
    pub store: Store,
    pub site: Arc<Site>,
    pub catalogue: Arc<Catalogue>,
    /// Form templates (and later attachments and results).
    pub files: Arc<dyn ObjectStore>,
    pub sessions: SessionSettings,
    /// Outgoing e-mail (password reset, e-mail verification).
    pub mailer: Arc<dyn Mailer>,
    /// Attachment limits.
    pub uploads: motcua_domain::upload::UploadLimits,
    /// Checks every attachment before it is kept.
    pub scanner: Arc<dyn files::FileScanner>,
    /// Woken after a commit that queued outbox jobs, so mail goes out at once instead of at the next poll.
    pub outbox_wake: Arc<tokio::sync::Notify>,
    /// Reverse proxies whose forwarding header names the client (none by default: the peer is the client).
    pub proxies: Arc<session::TrustedProxies>,
    /// Open while the database is out, so requests are answered at once.
    pub breaker: Arc<outage::Breaker>,
    /// Work finished after the answer (mail that must not slow one answer more than another).
    pub background: Arc<background::Background>,
    /// The payment gateway (or the built-in sandbox).
    pub payments: Arc<payments::PaymentSettings>,
    /// The agencies' keys for signing electronic results.
    pub signing: Arc<seals::SigningSettings>,
    /// The online payment provider in use (VNPay, or the sandbox that speaks it, by default).
    pub gateway: Arc<dyn payments::PaymentGateway>,
    /// Searches that found little, counted until the next flush.
    pub misses: Arc<misses::MissCounter>,
    /// Visitors noted until the next flush, and the footer's counters.
    pub visits: Arc<visits::VisitCounter>,
    /// The home page's latest results, reused for a few seconds.
    pub latest_results: Arc<LatestResults>,
    /// The postal provider that carries results by post.
    pub post: Arc<dyn postal::PostalService>,
    /// Articles as readers get them (kept in memory), and how the newsroom works.
    pub articles: Arc<articles::Articles>,
    /// Months' statistics read lately, reused for a few seconds.
    pub month_figures: Arc<months::MonthFigures>,
    /// Webhooks may be sent to this machine and private networks (trials; `webhooks_to_private_networks`).
    pub webhooks_to_private_networks: bool,
}

impl AppState {
    /// Build the state, loading the catalogue from the store.
    pub async fn new(
        store: Store,
        site: Site,
        files: Arc<dyn ObjectStore>,
    ) -> Result<AppState, StoreError> {
        let catalogue = Arc::new(Catalogue::load(&store).await?);
        let gateway = Arc::new(payments::VnPay::new(
            payments::PaymentSettings::default(),
            &site.public_url,
        ));
        Ok(AppState::from(Shared {
            gateway,
            store,
            site: Arc::new(site),
            catalogue,
            files,
            sessions: SessionSettings::default(),
            mailer: Arc::new(motcua_notify::MemoryMailer::default()),
            uploads: Default::default(),
            scanner: files::shared_scanner(),
            outbox_wake: Arc::new(tokio::sync::Notify::new()),
            proxies: Arc::new(session::TrustedProxies::default()),
            breaker: Arc::new(outage::Breaker::default()),
            background: Arc::new(background::Background::default()),
            payments: Arc::new(payments::PaymentSettings::default()),
            signing: Arc::new(seals::SigningSettings::default()),
            post: Arc::new(postal::ManualPost),
            misses: Arc::new(misses::MissCounter::default()),
            visits: Arc::new(visits::VisitCounter::default()),
            latest_results: Default::default(),
            articles: Default::default(),
            month_figures: Default::default(),
            webhooks_to_private_networks: false,
        }))
    }

    /// The parts, to change one while the state is being built (a copy if the state is shared already).
    fn parts(self) -> Shared {
        Arc::try_unwrap(self.0).unwrap_or_else(|shared| (*shared).clone())
    }

    /// VNPay (or its sandbox) with these settings.
    pub fn with_payments(self, payments: payments::PaymentSettings) -> AppState {
        let mut s = self.parts();
        s.gateway = Arc::new(payments::VnPay::new(payments.clone(), &s.site.public_url));
        s.payments = Arc::new(payments);
        AppState::from(s)
    }

    /// Another payment provider (the built-in sandbox, which plays VNPay, is then off).
    pub fn with_gateway(self, gateway: Arc<dyn payments::PaymentGateway>) -> AppState {
        let mut s = self.parts();
        s.gateway = gateway;
        s.payments = Arc::new(payments::PaymentSettings {
            sandbox: false,
            ..(*s.payments).clone()
        });
        AppState::from(s)
    }

    pub fn with_signing(self, signing: seals::SigningSettings) -> AppState {
        let mut s = self.parts();
        s.signing = Arc::new(signing);
        AppState::from(s)
    }

    pub fn with_mailer(self, mailer: Arc<dyn Mailer>) -> AppState {
        let mut s = self.parts();
        s.mailer = mailer;
        AppState::from(s)
    }

    pub fn with_uploads(self, uploads: motcua_domain::upload::UploadLimits) -> AppState {
        let mut s = self.parts();
        s.uploads = uploads;
        AppState::from(s)
    }

    pub fn with_scanner(self, scanner: Arc<dyn files::FileScanner>) -> AppState {
        let mut s = self.parts();
        s.scanner = scanner;
        AppState::from(s)
    }

    pub fn with_sessions(self, sessions: SessionSettings) -> AppState {
        let mut s = self.parts();
        s.sessions = sessions;
        AppState::from(s)
    }

    pub fn with_articles(self, settings: articles::ArticleSettings) -> AppState {
        let mut s = self.parts();
        s.articles = Arc::new(articles::Articles::new(settings));
        AppState::from(s)
    }

    /// Let webhooks go to this machine and private networks (trials only).
    pub fn with_private_webhooks(self, allowed: bool) -> AppState {
        let mut s = self.parts();
        s.webhooks_to_private_networks = allowed;
        AppState::from(s)
    }

    pub fn with_proxies(self, proxies: session::TrustedProxies) -> AppState {
        let mut s = self.parts();
        s.proxies = Arc::new(proxies);
        AppState::from(s)
    }
}

static SITE: OnceLock<Site> = OnceLock::new();

/// The site for pages rendered outside a handler's state (error pages).
pub(crate) fn site() -> Site {
    SITE.get().cloned().unwrap_or_default()
}

/// Largest request body of an upload form (several files at once). Handlers enforce the per-file limit while
/// reading; this only stops absurd bodies.
const UPLOAD_BODY_LIMIT: usize = 64 * 1024 * 1024;

/// Declares every route once: the router is built from this list, and [`ROUTES`] lists the same paths and methods
/// so that tests (the authorisation matrix) can ask every route and fail when a new one has no row.
macro_rules! routes {
    ($($path:literal => $first:ident($($a:tt)*) $(.$more:ident($($b:tt)*))*;)*) => {
        /// Every route of the application with its methods (and `layer` where one is added), as declared.
        pub const ROUTES: &[(&str, &[&str])] = &[$(($path, &[stringify!($first) $(, stringify!($more))*])),*];

        fn with_routes(router: Router<AppState>) -> Router<AppState> {
            router $(.route($path, $first($($a)*) $(.$more($($b)*))*))*
        }
    };
}

routes! {
    "/" => get(pages::home);
    "/ket-qua-giai-quyet" => get(results::results);
    "/thong-ke" => get(statistics::statistics);
    "/thong-ke.csv" => get(statistics::statistics_csv);
    "/chi-so-766" => get(public_index::ranking);
    "/can-bo/chi-so-766/{agency}" => get(agency_index::agency_page);
    "/can-bo/chi-so-766/{agency}/{metric}" => get(agency_index::gap_page);
    "/thong-ke.xlsx" => get(statistics::statistics_xlsx);
    "/tin-tuc" => get(news::list);
    "/tin-tuc.atom" => get(news::feed);
    "/tin-tuc/{slug}" => get(news::page);
    "/tin-tuc/{slug}/ban-in" => get(news::print);
    "/tin-tuc/{slug}/danh-gia" => post(news::vote);
    "/tin-tuc/{slug}/binh-luan" => post(news::comment);
    "/anh-bai-viet/{file}" => get(news::image);
    "/bien-tap" => get(newsroom_articles::home);
    "/bien-tap/bai-viet/moi" => get(newsroom_articles::new_page).post(newsroom_articles::create);
    "/bien-tap/bai-viet/{id}" => get(newsroom_articles::edit_page).post(newsroom_articles::save);
    "/bien-tap/bai-viet/{id}/duyet" => post(newsroom_articles::review);
    "/bien-tap/bai-viet/{id}/go" => post(newsroom_articles::unpublish);
    "/bien-tap/bai-viet/{id}/phien-ban/{version}" => get(newsroom_articles::version_page);
    "/bien-tap/bai-viet/{id}/anh" => post(newsroom_articles::upload_image)
        .layer(axum::extract::DefaultBodyLimit::max(UPLOAD_BODY_LIMIT));
    "/bien-tap/binh-luan" => get(newsroom_comments::list);
    "/bien-tap/binh-luan/{id}" => post(newsroom_comments::decide);
    "/robots.txt" => get(crawlers::robots);
    "/trang/{slug}" => get(help::page);
    "/quan-tri/trang/{slug}" => get(help::edit).post(help::save);
    "/sitemap.xml" => get(crawlers::sitemap);
    "/thu-tuc" => get(pages::list);
    "/thu-tuc/goi-y" => get(pages::suggest);
    "/thu-tuc/{code}" => get(pages::detail);
    "/thu-tuc/{code}/mau/{case}/{component}" => get(pages::template_download);
    "/dang-nhap" => get(login::login_page).post(login::login);
    "/dang-xuat" => post(login::logout);
    "/dang-ky" => get(registration::page).post(registration::submit);
    "/quen-mat-khau" => get(password_reset::forgot_page).post(password_reset::forgot);
    "/dat-lai-mat-khau" => get(password_reset::reset_page).post(password_reset::reset);
    "/xac-thuc-email" => get(password_reset::verify_email);
    "/phien/gia-han" => post(login::keep_alive);
    "/tai-khoan" => get(profile::account_page);
    "/tai-khoan/dang-xuat-moi-noi" => post(profile::logout_everywhere);
    "/tai-khoan/lien-he" => get(profile::contact_page).post(profile::update_contact);
    "/tai-khoan/du-lieu" => get(profile::my_data);
    "/tai-khoan/mat-khau" => get(profile::change_password_page).post(profile::change_password);
    "/tai-khoan/ma-truy-cap" => get(tokens::list).post(tokens::change);
    "/quan-tri/nhat-ky-bao-mat" => get(audit_trail::security_audit);
    "/quan-tri/ngay-nghi" => get(holidays::page).post(holidays::change);
    "/quan-tri/tim-kiem" => get(search_log::page);
    "/quan-tri/tu-dong-nghia" => get(synonyms::page).post(synonyms::save);
    "/quan-tri/thu-tuc" => get(procedures::list);
    "/quan-tri/thu-tuc/{procedure}" => get(procedures::edit).post(procedures::save);
    "/quan-tri/thu-tuc/{procedure}/muc-do" => post(procedures::set_level);
    "/quan-tri/thu-tuc/{procedure}/phien-ban" => get(procedures::diff);
    "/quan-tri/quy-trinh" => get(workflows::list);
    "/quan-tri/quy-trinh/{procedure}/{case}" => get(workflows::edit_page).post(workflows::save);
    "/quan-tri/can-bo" => get(officers::list).post(officers::create);
    "/quan-tri/ket-noi-api" => get(api_clients::list).post(api_clients::create);
    "/quan-tri/ket-noi-api/{id}" => get(api_clients::one).post(api_clients::act);
    "/quan-tri/co-quan" => get(agencies::list).post(agencies::create);
    "/quan-tri/co-quan/{agency}" => get(agencies::edit).post(agencies::save);
    "/quan-tri/co-quan/{agency}/sap-nhap" => post(agencies::merge);
    "/quan-tri/can-bo/{id}/vai-tro" => post(officers::change_grant);
    "/phien/trang-thai" => get(login::status);
    "/nop-ho-so/{code}/{case}/{agency}" => get(apply::start_page).post(apply::start);
    "/ho-so-nhap/{id}" => get(apply::tasks);
    "/ho-so-nhap/{id}/xoa" => post(submit::delete_draft);
    "/ho-so-nhap/{id}/trang/{page}" => get(apply::form_page).post(apply::save_page);
    "/ho-so-nhap/{id}/trang/{page}/tu-dong-luu" => post(apply::autosave);
    "/ho-so-nhap/{id}/giay-to" => get(attachments::files_page)
        .post(attachments::upload_files)
        .layer(axum::extract::DefaultBodyLimit::max(UPLOAD_BODY_LIMIT));
    "/ho-so-nhap/{id}/tep/{file}" => get(attachments::draft_file);
    "/ho-so-nhap/{id}/tep/{file}/xoa" => post(attachments::remove_file);
    "/ho-so-nhap/{id}/kiem-tra" => get(submit::check_page).post(submit::submit);
    "/ho-so-cua-toi" => get(tracking::my_dossiers);
    "/ho-so/{code}" => get(tracking::dossier_page);
    "/ho-so/{code}/da-nop" => get(tracking::submitted_page);
    "/ho-so/{code}/rut" => get(tracking::withdraw_page).post(tracking::withdraw);
    "/ho-so/{code}/bo-sung" => post(supplement::supplement_upload)
        .layer(axum::extract::DefaultBodyLimit::max(UPLOAD_BODY_LIMIT));
    "/ho-so/{code}/bo-sung/{file}/xoa" => post(supplement::supplement_remove);
    "/ho-so/{code}/gui-bo-sung" => post(supplement::supplement_send);
    "/ho-so/{code}/bien-nhan.pdf" => get(tracking::receipt);
    "/ho-so/{code}/thanh-toan" => post(payment::pay);
    "/ho-so/{code}/danh-gia" => post(rating::rate);
    "/ho-so/{code}/buu-chinh" => post(delivery::ask_post);
    "/danh-gia/{token}" => get(rating::rate_by_code_page).post(rating::rate_by_code);
    "/thanh-toan/ket-qua" => get(payment::returned);
    "/thanh-toan/thong-bao" => get(notification::notify).post(notification::notify_posted);
    "/cong-thanh-toan-thu-nghiem" => get(sandbox::page).post(sandbox::choose);
    "/ho-so/{code}/tep/{file}" => get(tracking::dossier_file);
    "/tra-cuu-ho-so" => get(lookup::lookup_page).post(lookup::lookup);
    "/can-bo/tiep-nhan" => get(queue::queue);
    "/can-bo/tiep-nhan/truc-tiep" => get(intake::intake_page).post(intake::intake);
    "/can-bo/ho-so/{code}" => get(page::dossier_page).post(reception::answer);
    "/can-bo/ho-so/{code}/tep/{file}" => get(page::file);
    "/can-bo/ho-so/{code}/chuyen" => post(reception::move_on);
    "/can-bo/ho-so/{code}/xin-loi" => post(reception::apology);
    "/can-bo/ho-so/{code}/nop-phi" => post(fees::paid_at_counter);
    "/can-bo/ho-so/{code}/buu-chinh" => post(desk_delivery::record);
    "/can-bo/ho-so/{code}/hoan-tien" => post(fees::refund);
    "/can-bo/ho-so/{code}/bien-lai/{txn}" => get(fees::receipt);
    "/ho-so/{code}/bien-lai/{txn}" => get(payment::receipt);
    "/can-bo/ho-so/{code}/buoc" => post(processing::step_action);
    "/can-bo/ho-so/{code}/ket-qua" => get(processing::result_file_for_officer)
        .post(processing::enter_result)
        .layer(axum::extract::DefaultBodyLimit::max(UPLOAD_BODY_LIMIT));
    "/ho-so/{code}/ket-qua" => get(processing::result_file_for_citizen);
    "/xac-thuc/{code}" => get(verification::verification_page)
        .post(verification::check_copy)
        .layer(axum::extract::DefaultBodyLimit::max(UPLOAD_BODY_LIMIT));
    "/xac-thuc/{code}/chu-ky" => get(verification::signature);
    "/can-bo/ho-so/{code}/phieu/{so}" => get(slips::for_officer);
    "/ho-so/{code}/phieu/{so}" => get(slips::for_citizen);
    "/can-bo" => get(home::home);
    "/can-bo/ho-so" => get(inbox::inbox);
    "/can-bo/so-theo-doi" => get(register::register);
    "/healthz" => get(health::healthz);
    "/readyz" => get(health::readyz);
    "/static/{file}" => get(assets::serve);
    "/tai-lieu-api" => get(api::docs);
    "/api/v1/openapi.json" => get(api::document);
}

/// The whole application as one router, ready to serve or to test in-process.
pub fn router(state: AppState) -> Router {
    let _ = SITE.set(Site::clone(&state.site));
    with_routes(Router::new())
        .merge(api::router(state.clone()))
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            frame::frame,
        ))
        .with_state(state)
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(TraceLayer::new_for_http())
}
