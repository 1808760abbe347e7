//! `motcua`: the online public-service portal and electronic one-stop back office in one program.

mod agencies;
mod api_clients;
mod catalogue_io;
mod config;
mod demo;
mod holidays;

use clap::{Parser, Subcommand};
use std::{io::ErrorKind, net::SocketAddr, path::PathBuf, process::ExitCode, sync::Arc};
use tracing_subscriber::EnvFilter;

use config::{Config, LogFormat, Overrides};
use motcua_store::Store;
use motcua_store_sql::{PgSettings, SqlStore};
use object_store::{ObjectStore, local::LocalFileSystem};

#[derive(Parser)]
#[command(
    name = "motcua",
    version,
    about = "Cổng dịch vụ công trực tuyến và hệ thống một cửa điện tử\n\
             (online public-service portal and electronic one-stop back office)"
)]
struct Cli {
    /// TOML configuration file (default: ./motcua.toml when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the portal: migrate, seed the demo catalogue into an empty database, listen.
    Serve {
        /// Database: sqlite:path/file.db (default sqlite://data/motcua.db) or postgres://user@host/db.
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        /// Database: sqlite:path/file.db or postgres://user@host/db.
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Manage officer and administrator accounts.
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Import or export the procedure catalogue.
    Catalogue {
        #[command(subcommand)]
        action: CatalogueCommand,
    },
    /// Holidays and make-up working days of the working-time calendar.
    Holidays {
        #[command(subcommand)]
        action: HolidaysCommand,
    },
    /// The agencies of the catalogue: add one (a fresh installation has none), list, import, export, merge.
    Agency {
        #[command(subcommand)]
        action: AgencyCommand,
    },
    /// Systems that call the API for agencies (also at /quan-tri/ket-noi-api).
    ApiClient {
        #[command(subcommand)]
        action: ApiClientCommand,
    },
    /// Make an agency's key for signing level-4 results, with a self-signed certificate, in `signing_keys_dir`
    /// (never over an existing key): for a demo or a trial. In production, place the key and the certificate a
    /// certification authority issued for the agency there instead.
    KhoaKy {
        /// The agency's code in the catalogue (e.g. 000.00.01.H01).
        #[arg(long)]
        agency: String,
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
}

#[derive(Subcommand)]
enum ApiClientCommand {
    /// Register a system and print its first key on standard output (shown this once; only its hash is kept).
    Add {
        /// The system's name.
        #[arg(long)]
        name: String,
        /// An agency code it works for (repeat for several).
        #[arg(long = "agency", required = true)]
        agencies: Vec<String>,
        /// A scope: dossiers:read or dossiers:receive (repeat for several).
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// Requests a minute (default 600).
        #[arg(long)]
        per_minute: Option<u32>,
        /// Days the key lives (default 365, at most 730).
        #[arg(long, default_value_t = motcua_domain::api_client::DEFAULT_KEY_DAYS)]
        days: i64,
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
}

#[derive(Subcommand)]
enum AgencyCommand {
    /// Add an agency (national agency code, e.g. 000.00.00.H56 for a province's people's committee); its parent
    /// must exist already. Valid from today.
    Add {
        /// The national agency code.
        #[arg(long)]
        code: String,
        /// Its name (tên cơ quan).
        #[arg(long)]
        name: String,
        /// The agency above it in the tree.
        #[arg(long)]
        parent: Option<String>,
        /// `ministry`, `province` or `commune` (district level was abolished on 1 July 2025).
        #[arg(long, default_value = "province")]
        level: String,
        /// Where citizens submit dossiers and collect results.
        #[arg(long)]
        address: Option<String>,
        /// First day in force (dd/mm/yyyy); today when left out.
        #[arg(long)]
        valid_from: Option<String>,
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// List the agencies: code, level, parent, name (tab-separated), and the end date and successor of retired
    /// ones.
    List {
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Add or update agencies from a JSON file (the shape of `export`, or a catalogue file's `agencies`): every
    /// record is checked before anything is written. An agency given a successor there is then merged into it
    /// (its open dossiers move, with history); a merger already made is never undone or redirected by a file.
    Import {
        file: PathBuf,
        /// Check and report, write nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Write every agency as JSON (to standard output, or --output FILE).
    Export {
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Merge an agency into its successor: it ends the day before --date; its open dossiers, drafts, sub-units
    /// and online levels move to the successor (each dossier once, with a history event); workflows and roles
    /// that name it are listed for review.
    Merge {
        /// The agency that ends.
        #[arg(long)]
        from: String,
        /// The successor.
        #[arg(long)]
        into: String,
        /// First day of the successor's responsibility (dd/mm/yyyy).
        #[arg(long)]
        date: String,
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
}

#[derive(Subcommand)]
enum HolidaysCommand {
    /// Import days off and make-up days from a JSON file (the format of `export`); entries replace those of the
    /// same dates. All or nothing.
    Import {
        file: PathBuf,
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Write the listed days as JSON (to standard output, or --output FILE).
    Export {
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Print the holidays of YEAR computed from the Labour Code and the lunar calendar, marked as proposals, to
    /// check against the government's decision, edit and import.
    Propose { year: i32 },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an officer account with roles granted per agency; prints a generated password unless
    /// --password-stdin is given.
    Add {
        /// Full name (họ và tên).
        #[arg(long)]
        name: String,
        /// E-mail address, used to log in.
        #[arg(long)]
        email: Option<String>,
        /// Mobile number, used to log in.
        #[arg(long)]
        phone: Option<String>,
        /// Role at an agency: ROLE@AGENCY_CODE, `+` at the end to include sub-agencies. Repeatable.
        /// Roles: reception, specialist, head_of_unit, leader, editor, administrator.
        #[arg(long = "role", value_name = "ROLE@AGENCY", required = true)]
        roles: Vec<String>,
        /// Read the password from the first line of standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
}

#[derive(Subcommand)]
enum CatalogueCommand {
    /// Import a catalogue file (motcua format or the national catalogue's JSON); all records or none.
    Import {
        /// The JSON file to import.
        file: PathBuf,
        /// Agency code (e.g. 000.00.06.H56) for national records that do not name one of ours.
        #[arg(long, value_name = "CODE")]
        agency: Option<String>,
        /// Check the file and report, without writing anything.
        #[arg(long)]
        dry_run: bool,
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Write the current catalogue in motcua format (to standard output, or --output FILE).
    Export {
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
}

/// A failure to report to the operator in one line, without a backtrace.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("không mở được cơ sở dữ liệu {what}: {reason}")]
    Database { what: String, reason: String },
    #[error(
        "cổng {0} đang được một chương trình khác sử dụng; chọn cổng khác bằng --listen hoặc MOTCUA_LISTEN"
    )]
    PortInUse(SocketAddr),
    #[error("không lắng nghe được tại {addr}: {reason}")]
    Listen { addr: SocketAddr, reason: String },
    #[error("{0}")]
    Other(String),
}

/// Pages allocate many small strings on both cores at once; glibc malloc serialised them on its arena locks
/// (perf under wrk: malloc, free and their futex waits about a fifth of the CPU of the home page).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("lỗi: không khởi động được bộ thực thi bất đồng bộ: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lỗi: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    // configuration first (it says how to log), then logs
    let setup =
        |database_url: Option<String>, listen: Option<SocketAddr>| -> Result<Config, Failure> {
            let config = config::load(
                cli.config.as_ref(),
                &Overrides {
                    database_url,
                    listen,
                },
            )?;
            init_logs(&config);
            Ok(config)
        };
    match cli.command {
        Command::Serve {
            database_url,
            listen,
        } => serve(setup(database_url, listen)?).await,
        Command::Migrate { database_url } => {
            let config = setup(database_url, None)?;
            open_store(&config, true).await?;
            println!(
                "Cơ sở dữ liệu {} đã được cập nhật lược đồ mới nhất.",
                describe(&config.database_url)
            );
            Ok(())
        }
        Command::User {
            action:
                UserCommand::Add {
                    name,
                    email,
                    phone,
                    roles,
                    password_stdin,
                    database_url,
                },
        } => {
            let store = open_store(&setup(database_url, None)?, true).await?;
            add_officer(&store, name, email, phone, roles, password_stdin).await
        }
        Command::Holidays { action } => match action {
            HolidaysCommand::Import { file, database_url } => {
                let store = open_store(&setup(database_url, None)?, true).await?;
                holidays::import(&store, &file).await
            }
            HolidaysCommand::Export {
                output,
                database_url,
            } => {
                let store = open_store(&setup(database_url, None)?, true).await?;
                holidays::export(&store, output).await
            }
            HolidaysCommand::Propose { year } => holidays::propose(year),
        },
        Command::ApiClient {
            action:
                ApiClientCommand::Add {
                    name,
                    agencies,
                    scopes,
                    per_minute,
                    days,
                    database_url,
                },
        } => {
            let store = open_store(&setup(database_url, None)?, true).await?;
            let input = motcua_domain::api_client::ApiClientInput {
                name,
                agencies: agencies.join(" "),
                scopes,
                per_minute: per_minute.map(|n| n.to_string()).unwrap_or_default(),
            };
            api_clients::add(&store, input, days).await
        }
        Command::Agency { action } => match action {
            AgencyCommand::Add {
                code,
                name,
                parent,
                level,
                address,
                valid_from,
                database_url,
            } => {
                let store = open_store(&setup(database_url, None)?, true).await?;
                let input = motcua_domain::AgencyInput {
                    code,
                    name,
                    level,
                    parent: parent.unwrap_or_default(),
                    address: address.unwrap_or_default(),
                    valid_from: valid_from.unwrap_or_default(),
                    valid_until: String::new(),
                };
                agencies::add(&store, input).await
            }
            AgencyCommand::List { database_url } => {
                let store = open_store(&setup(database_url, None)?, true).await?;
                agencies::list(&store).await
            }
            AgencyCommand::Import {
                file,
                dry_run,
                database_url,
            } => {
                let store = open_store(&setup(database_url, None)?, true).await?;
                agencies::import(&store, &file, dry_run).await
            }
            AgencyCommand::Export {
                output,
                database_url,
            } => {
                let store = open_store(&setup(database_url, None)?, true).await?;
                agencies::export(&store, output).await
            }
            AgencyCommand::Merge {
                from,
                into,
                date,
                database_url,
            } => {
                let store = open_store(&setup(database_url, None)?, true).await?;
                agencies::merge(&store, &from, &into, &date).await
            }
        },
        Command::KhoaKy {
            agency,
            database_url,
        } => {
            let config = setup(database_url, None)?;
            let store = open_store(&config, true).await?;
            make_signing_key(&config, &store, &agency).await
        }
        Command::Catalogue { action } => match action {
            CatalogueCommand::Import {
                file,
                agency,
                dry_run,
                database_url,
            } => {
                let store = open_store(&setup(database_url, None)?, true).await?;
                import(&store, &file, agency, dry_run).await
            }
            CatalogueCommand::Export {
                output,
                database_url,
            } => {
                let store = open_store(&setup(database_url, None)?, true).await?;
                export(&store, output).await
            }
        },
    }
}

fn init_logs(config: &Config) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.log_filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match config.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// The database URL without a password, for messages.
fn describe(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _password)) => {
                    format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..])
                }
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// `motcua khoa-ky`: a key and self-signed certificate for an agency of the catalogue.
async fn make_signing_key(config: &Config, store: &Store, agency: &str) -> Result<(), Failure> {
    let code = motcua_domain::AgencyCode::parse(agency)
        .map_err(|e| Failure::Other(format!("--agency {agency}: {e}")))?;
    let found = store
        .agencies
        .get(&code)
        .await
        .map_err(|e| Failure::Other(e.to_string()))?
        .ok_or_else(|| {
            Failure::Other(format!("--agency: cơ quan {code} chưa có trong danh mục"))
        })?;
    let certificate =
        motcua_web::seals::make_key(&config.signing_keys_dir, &code, found.name.as_str())
            .map_err(Failure::Other)?;
    println!(
        "Đã tạo khóa ký số của {} ({code}); chứng thư tự ký: {}",
        found.name,
        certificate.display()
    );
    Ok(())
}

async fn open_store(config: &Config, migrate: bool) -> Result<Store, Failure> {
    let db_failure = |e: motcua_store::StoreError| Failure::Database {
        what: describe(&config.database_url),
        reason: e.to_string(),
    };
    config::database_kind(&config.database_url)?;
    let store = SqlStore::connect(&config.database_url, PgSettings::default())
        .await
        .map_err(db_failure)?;
    if migrate {
        store.migrate().await.map_err(db_failure)?;
    }
    let store = store.into_store();
    if migrate {
        holidays::seed_if_empty(&store).await.map_err(db_failure)?;
    }
    Ok(store)
}

/// The file store: a local directory (created if missing).
fn open_files(config: &Config) -> Result<Arc<dyn ObjectStore>, Failure> {
    let dir = &config.files_dir;
    let failure = |reason: String| {
        Failure::Other(format!(
            "không dùng được thư mục tệp {} (khóa `files_dir`): {reason}",
            dir.display()
        ))
    };
    std::fs::create_dir_all(dir).map_err(|e| failure(e.to_string()))?;
    let store = LocalFileSystem::new_with_prefix(dir).map_err(|e| failure(e.to_string()))?;
    Ok(Arc::new(store))
}

/// How often a node writes the visitors it noted (what a node killed outright can lose at most).
const VISITS_FLUSH_SECONDS: u64 = 5;

async fn serve(config: Config) -> Result<(), Failure> {
    let store = open_store(&config, config.migrate_on_start).await?;
    let pending = store
        .health
        .pending_migrations()
        .await
        .map_err(|e| Failure::Database {
            what: describe(&config.database_url),
            reason: e.to_string(),
        })?;
    if !pending.is_empty() {
        return Err(Failure::Other(format!(
            "cơ sở dữ liệu chưa được cập nhật lược đồ ({} bản chưa áp dụng); chạy `motcua migrate` trước",
            pending.len()
        )));
    }
    let files = open_files(&config)?;
    if config.seed_demo {
        match demo::seed_if_empty(&store, files.as_ref()).await {
            Ok(demo::Seeded::Demo {
                agencies,
                procedures,
                accounts,
            }) => {
                println!(
                    "Đã tạo dữ liệu mẫu: {agencies} cơ quan, {procedures} thủ tục hành chính."
                );
                println!("Tài khoản mẫu (mật khẩu chung: {}):", demo::DEMO_PASSWORD);
                for (who, login) in &accounts {
                    println!("  - {who}: {login}");
                }
                println!("Dữ liệu mẫu chỉ để dùng thử: đặt seed_demo = false khi triển khai thật.");
            }
            Ok(demo::Seeded::AlreadyPopulated) => {}
            Err(e) => return Err(Failure::Other(format!("không tạo được dữ liệu mẫu: {e:#}"))),
        }
    }

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| match e.kind() {
            ErrorKind::AddrInUse => Failure::PortInUse(config.listen),
            _ => Failure::Listen {
                addr: config.listen,
                reason: e.to_string(),
            },
        })?;
    let bound = listener.local_addr().unwrap_or(config.listen);
    let state = motcua_web::AppState::new(
        store.clone(),
        motcua_web::Site {
            name: config.site_name.clone(),
            public_url: config.url(bound),
            footer: motcua_web::SiteFooter {
                owner: config.site_owner.clone(),
                address: config.site_address.clone(),
                hotline: config.site_hotline.clone(),
                email: config.site_email.clone(),
            },
            place: config.site_place.clone(),
        },
        files,
    )
    .await
    .map_err(|e| Failure::Database {
        what: describe(&config.database_url),
        reason: e.to_string(),
    })?;
    let mailer: Arc<dyn motcua_notify::Mailer> = match &config.smtp_host {
        Some(host) => Arc::new(
            motcua_notify::SmtpMailer::new(host, config.smtp_port, &config.mail_from)
                .map_err(|e| Failure::Other(format!("khóa `mail_from`/`smtp_host`: {e}")))?,
        ),
        None => Arc::new(motcua_notify::FileMailer {
            dir: config.mail_outbox_dir.clone(),
            from: config.mail_from.clone(),
        }),
    };
    let state = state.with_mailer(mailer.clone()).with_proxies(
        config
            .proxies()
            .map_err(|e| Failure::Other(e.to_string()))?,
    );
    let state = state.with_payments(config.payments()).with_signing(
        motcua_web::seals::SigningSettings::new(
            Some(config.signing_keys_dir.clone()),
            config.signing_self_signed,
        ),
    );
    if config.payment_sandbox {
        tracing::warn!(
            "payments go to the built-in sandbox gateway (payment_sandbox = true): no money moves; for demos only"
        );
    }
    let state = state.with_private_webhooks(config.webhooks_to_private_networks);
    let state = state.with_uploads(motcua_domain::upload::UploadLimits {
        max_file_bytes: u64::from(config.upload_max_file_mb) * 1024 * 1024,
        max_dossier_bytes: u64::from(config.upload_max_dossier_mb) * 1024 * 1024,
    });
    if config.worker_in_process {
        let worker = motcua_web::worker::Worker {
            store: store.clone(),
            mailer,
            files: state.files.clone(),
            sweep_after: time::Duration::hours(i64::from(config.upload_sweep_hours)),
            catalogue: Some(state.catalogue.clone()),
            public_url: state.site.public_url.clone(),
        };
        tokio::spawn(worker.run(state.outbox_wake.clone()));
        tokio::spawn(motcua_web::worker::run_webhooks(
            store.clone(),
            Some(state.catalogue.clone()),
            config.webhooks_to_private_networks,
        ));
        tokio::spawn(motcua_web::payments::reconcile_every(
            state.clone(),
            std::time::Duration::from_secs(300),
        ));
    }
    // every node counts the searches that found little in memory, and writes them now and then
    tokio::spawn(motcua_web::misses::flush_every(
        state.clone(),
        std::time::Duration::from_secs(60),
    ));
    // and its visitors, every few seconds (once now, for the day's salt; once more when it stops)
    motcua_web::visits::flush(&state).await;
    tokio::spawn(motcua_web::visits::flush_every(
        state.clone(),
        std::time::Duration::from_secs(VISITS_FLUSH_SECONDS),
    ));
    let stopping = state.clone();
    let state = state
        .with_sessions(motcua_web::session::SessionSettings {
            idle: time::Duration::minutes(i64::from(config.session_idle_minutes)),
            absolute: time::Duration::hours(i64::from(config.session_absolute_hours)),
            secure_cookies: config.secure_cookies(),
        })
        .with_articles(motcua_web::articles::ArticleSettings {
            publish_citizen_comments: config.publish_citizen_comments,
        });
    if !config.secure_cookies() {
        tracing::warn!(
            "session cookies are allowed over plain HTTP (secure_cookies = false): for development only"
        );
    }
    motcua_web::catalogue::spawn_refresher(
        state.catalogue.clone(),
        store,
        std::time::Duration::from_secs(config.catalogue_refresh_seconds),
    );
    let background = state.background.clone();
    let app = motcua_web::router(state);
    println!(
        "motcua đang chạy tại {} (cơ sở dữ liệu: {}). Nhấn Ctrl-C để dừng.",
        config.url(bound),
        describe(&config.database_url)
    );
    tracing::info!(listen = %bound, "serving");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(|e| Failure::Other(format!("máy chủ dừng bất thường: {e}")))?;
    // the visitors noted since the last write are counted before the process ends
    motcua_web::visits::flush(&stopping).await;
    // mail that answers already promised goes out before the process ends
    if tokio::time::timeout(std::time::Duration::from_secs(10), background.idle())
        .await
        .is_err()
    {
        tracing::warn!("background work still running at shutdown");
    }
    println!("motcua đã dừng.");
    Ok(())
}

/// Ctrl-C or SIGTERM: stop accepting, finish the requests in flight, exit.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// `motcua user add`: an officer account with its grants, checked before anything is written.
async fn add_officer(
    store: &Store,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    roles: Vec<String>,
    password_stdin: bool,
) -> Result<(), Failure> {
    use motcua_domain::{Account, AccountId, AccountKind, Email, Phone, RoleGrant};
    let bad = |what: &str, e: motcua_domain::ParseError| Failure::Other(format!("{what}: {e}"));
    let full_name =
        motcua_domain::text::person_name(&name, "Họ và tên").map_err(|e| bad("--name", e))?;
    let email = email
        .as_deref()
        .map(Email::parse)
        .transpose()
        .map_err(|e| bad("--email", e))?;
    let phone = phone
        .as_deref()
        .map(Phone::parse)
        .transpose()
        .map_err(|e| bad("--phone", e))?;
    if email.is_none() && phone.is_none() {
        return Err(Failure::Other(
            "cần --email hoặc --phone để cán bộ đăng nhập".into(),
        ));
    }
    let grants = roles
        .iter()
        .map(|r| RoleGrant::parse(r))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad("--role", e))?;
    for grant in &grants {
        if store
            .agencies
            .get(&grant.agency)
            .await
            .map_err(storage_failure)?
            .is_none()
        {
            return Err(Failure::Other(format!(
                "--role: cơ quan {} chưa có trong danh mục",
                grant.agency
            )));
        }
    }
    for login in email
        .iter()
        .map(|e| motcua_domain::LoginName::Email(e.clone()))
        .chain(
            phone
                .iter()
                .map(|p| motcua_domain::LoginName::Phone(p.clone())),
        )
    {
        if store
            .accounts
            .find_by_login(&login)
            .await
            .map_err(storage_failure)?
            .is_some()
        {
            return Err(Failure::Other(format!(
                "đã có tài khoản dùng {}",
                match &login {
                    motcua_domain::LoginName::Email(e) => e.as_str().to_string(),
                    motcua_domain::LoginName::Phone(p) => p.as_str().to_string(),
                    motcua_domain::LoginName::PersonalId(p) => p.masked(),
                }
            )));
        }
    }
    let (password, generated) = if password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map_err(|e| {
            Failure::Other(format!("không đọc được mật khẩu từ đầu vào chuẩn: {e}"))
        })?;
        let password = line.trim_end_matches(['\r', '\n']).to_string();
        motcua_domain::check_password(&password).map_err(|e| bad("mật khẩu", e))?;
        (password, false)
    } else {
        (motcua_web::auth::generate_password(), true)
    };
    let password_hash = motcua_web::auth::hash_password(password.clone())
        .await
        .map_err(|e| Failure::Other(e.to_string()))?;
    let account = Account {
        id: AccountId::new(),
        kind: AccountKind::Officer,
        full_name,
        personal_id: None,
        birth_date: None,
        phone,
        email,
        address: None,
        password_hash,
        // given by the operator who creates the officer: recovery may use it
        email_verified_at: Some(time::OffsetDateTime::now_utc()),
        disabled: false,
        created_at: time::OffsetDateTime::now_utc(),
        grants,
    };
    store
        .accounts
        .create(&account)
        .await
        .map_err(storage_failure)?;
    let login = account
        .email
        .as_ref()
        .map(|e| e.as_str().to_string())
        .or_else(|| account.phone.as_ref().map(|p| p.as_str().to_string()))
        .unwrap_or_default();
    let roles: Vec<String> = account
        .grants
        .iter()
        .map(|g| format!("{} tại {}", g.role.label_vi(), g.agency))
        .collect();
    println!(
        "Đã tạo tài khoản cán bộ {} (đăng nhập: {login}) với quyền: {}.",
        account.full_name,
        roles.join("; ")
    );
    if generated {
        println!("Mật khẩu: {password}");
        println!("Mật khẩu chỉ hiện một lần; hãy trao cho cán bộ qua kênh an toàn.");
    }
    Ok(())
}

fn storage_failure(e: motcua_store::StoreError) -> Failure {
    Failure::Other(e.to_string())
}

/// `motcua catalogue import`: check every record, then write all of them in one transaction (or nothing).
async fn import(
    store: &Store,
    file: &std::path::Path,
    agency: Option<String>,
    dry_run: bool,
) -> Result<(), Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::Other(format!("không đọc được tệp {}: {e}", file.display())))?;
    let agency = agency
        .map(|a| motcua_domain::AgencyCode::parse(&a))
        .transpose()
        .map_err(|e| Failure::Other(format!("--agency: {e}")))?;
    if let Some(code) = &agency
        && store
            .agencies
            .get(code)
            .await
            .map_err(storage_failure)?
            .is_none()
    {
        return Err(Failure::Other(format!(
            "--agency: cơ quan {code} chưa có trong danh mục"
        )));
    }
    let known = catalogue_io::Known::of(
        &store.agencies.list().await.map_err(storage_failure)?,
        store
            .fields
            .list()
            .await
            .map_err(storage_failure)?
            .into_iter()
            .map(|f| f.code),
    );
    let mut batch =
        match catalogue_io::parse(&text, &catalogue_io::ImportOptions { agency }, &known) {
            Ok(batch) => batch,
            Err(catalogue_io::ImportError::Rejected(list)) => {
                let mut message = format!(
                    "{} bản ghi không hợp lệ trong {}, không có gì được nhập:",
                    list.len(),
                    file.display()
                );
                for r in &list {
                    message.push_str(&format!("\n  - {r}"));
                }
                return Err(Failure::Other(message));
            }
            Err(other) => return Err(Failure::Other(format!("{}: {other}", file.display()))),
        };
    // a file says what a procedure is, not whether editors publish it here: an unpublished one stays so
    let unpublished: std::collections::HashSet<String> = store
        .catalogue
        .list_procedures()
        .await
        .map_err(storage_failure)?
        .into_iter()
        .filter(|s| !s.procedure.published)
        .map(|s| s.procedure.code.to_string())
        .collect();
    for p in &mut batch.procedures {
        if unpublished.contains(p.code.as_str()) {
            p.published = false;
        }
    }
    if dry_run {
        println!(
            "Tệp hợp lệ: {} cơ quan, {} lĩnh vực, {} thủ tục, {} mức độ. Chưa ghi gì (--dry-run).",
            batch.agencies.len(),
            batch.fields.len(),
            batch.procedures.len(),
            batch.service_levels.len()
        );
        return Ok(());
    }
    let report = store
        .catalogue
        .import(&batch, time::OffsetDateTime::now_utc())
        .await
        .map_err(storage_failure)?;
    println!(
        "Đã nhập {}: {} thủ tục mới, {} thủ tục cập nhật (phiên bản mới), {} thủ tục không đổi; {} cơ quan, {} lĩnh vực, {} mức độ.",
        file.display(),
        report.created,
        report.updated,
        report.unchanged,
        batch.agencies.len(),
        batch.fields.len(),
        batch.service_levels.len()
    );
    Ok(())
}

/// `motcua catalogue export`: the current catalogue in motcua's format (levels in force today).
async fn export(store: &Store, output: Option<PathBuf>) -> Result<(), Failure> {
    let agencies = store.agencies.list().await.map_err(storage_failure)?;
    let fields = store.fields.list().await.map_err(storage_failure)?;
    let procedures = store
        .catalogue
        .list_procedures()
        .await
        .map_err(storage_failure)?;
    let today = motcua_domain::vntime::vn_date(time::OffsetDateTime::now_utc());
    let levels = store
        .catalogue
        .all_service_levels(today)
        .await
        .map_err(storage_failure)?;
    let export = catalogue_io::Export {
        format: catalogue_io::FORMAT,
        format_version: catalogue_io::FORMAT_VERSION,
        agencies: &agencies,
        fields: &fields,
        procedures: procedures.iter().map(|p| &p.procedure).collect(),
        service_levels: &levels,
    };
    let json = serde_json::to_string_pretty(&export).map_err(|e| Failure::Other(e.to_string()))?;
    match output {
        Some(path) => {
            std::fs::write(&path, json + "\n").map_err(|e| {
                Failure::Other(format!("không ghi được tệp {}: {e}", path.display()))
            })?;
            eprintln!(
                "Đã xuất {} thủ tục ra {}.",
                procedures.len(),
                path.display()
            );
        }
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{json}")
                .map_err(|e| Failure::Other(format!("không ghi được ra đầu ra chuẩn: {e}")))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn passwords_never_appear_in_messages() {
        assert_eq!(
            describe("postgres://motcua:s3cret@db:5432/motcua"),
            "postgres://motcua:***@db:5432/motcua"
        );
        assert_eq!(
            describe("postgres://motcua@db/motcua"),
            "postgres://motcua@db/motcua"
        );
        assert_eq!(
            describe("sqlite://data/motcua.db"),
            "sqlite://data/motcua.db"
        );
    }
}
