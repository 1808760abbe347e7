//! Configuration: built-in defaults that need nothing installed, then an optional TOML file, then `MOTCUA_*`
//! environment variables, then command-line flags. Every bad value is reported with its key and where it came
//! from.

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use serde::{Deserialize, Serialize};
use std::{net::SocketAddr, path::PathBuf};

/// All settings. Keys are flat so each has one obvious environment variable (`MOTCUA_` + upper-case key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// `sqlite:path/to/file.db` (default, embedded) or `postgres://user@host:port/database`.
    pub database_url: String,
    /// Directory for files (form templates, attachments).
    pub files_dir: PathBuf,
    /// Outgoing e-mail is written here as .eml files (until an SMTP server is configured).
    pub mail_outbox_dir: PathBuf,
    /// The From address of outgoing e-mail.
    pub mail_from: String,
    /// SMTP relay for outgoing e-mail; unset: mail is written to `mail_outbox_dir`.
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    /// How often each server checks whether the catalogue changed (seconds).
    pub catalogue_refresh_seconds: u64,
    /// Apply pending migrations when `serve` starts.
    pub migrate_on_start: bool,
    /// Seed the demo catalogue when the database is empty.
    pub seed_demo: bool,
    /// Publish a logged-in citizen's comment on an article at once (others always wait for an editor).
    pub publish_citizen_comments: bool,
    /// Name shown in the header of every page.
    pub site_name: String,
    /// Address citizens use to reach the portal, when it differs from `listen` (behind a proxy).
    pub public_url: Option<String>,
    /// The governing agency (cơ quan chủ quản), its address, hotline and e-mail, in the footer of every page.
    pub site_owner: Option<String>,
    pub site_address: Option<String>,
    pub site_hotline: Option<String>,
    pub site_email: Option<String>,
    /// The place name printed before the date on slips, e.g. "Đắk Lắk".
    pub site_place: Option<String>,
    /// Minutes without activity before a session ends (the page warns 60 seconds before).
    pub session_idle_minutes: u32,
    /// Hours after login when a session ends whatever the activity.
    pub session_absolute_hours: u32,
    /// Session cookies only over HTTPS (`Secure`, `__Host-`). Unset: on when `public_url` is https.
    pub secure_cookies: Option<bool>,
    /// Reverse proxies (addresses or CIDR ranges) whose forwarding header names the client. Empty: the
    /// connection's address is the client's, and forwarding headers are ignored. A list in TOML; in the
    /// environment, comma-separated.
    #[serde(deserialize_with = "list_or_commas")]
    pub trusted_proxies: Vec<String>,
    /// The header those proxies write: `x-forwarded-for` or `forwarded` (RFC 7239).
    pub forwarded_header: ForwardedHeaderName,
    /// Largest attached file, in MiB.
    pub upload_max_file_mb: u32,
    /// Largest total of a dossier's attachments, in MiB.
    pub upload_max_dossier_mb: u32,
    /// Uploaded files not submitted with a dossier are deleted after this many hours without the draft
    /// being touched.
    pub upload_sweep_hours: u32,
    /// Run the outbox worker (e-mail delivery) inside `serve`.
    pub worker_in_process: bool,
    /// Let API clients send webhooks to this machine and private networks (trials only: otherwise a client could
    /// make the server call into its own network).
    pub webhooks_to_private_networks: bool,
    /// `text` or `json`.
    pub log_format: LogFormat,
    /// Log filter in `tracing` syntax (`RUST_LOG` overrides it).
    pub log_filter: String,
    /// Serve the built-in sandbox payment gateway (`/cong-thanh-toan-thu-nghiem`) and send payments there
    /// instead of VNPay: the demo default. Turn off in production, with the VNPay settings below.
    pub payment_sandbox: bool,
    /// VNPay merchant code (`vnp_TmnCode`).
    pub vnpay_tmn_code: String,
    /// VNPay secret (HMAC-SHA512 key). The default is the sandbox's, refused with the sandbox off.
    pub vnpay_secret: String,
    /// VNPay's payment page.
    pub vnpay_url: String,
    /// VNPay's merchant API, for the status query (querydr) of payments left pending.
    pub vnpay_api_url: String,
    /// The agencies' keys for signing level-4 results: `{agency code}.key.pem` (PKCS#8, ECDSA P-256) and
    /// `{agency code}.crt.pem` (X.509). Keep it readable by the service only.
    pub signing_keys_dir: PathBuf,
    /// Make a self-signed key for an agency that has none when it first signs (the demo default). Turn off in
    /// production and place the certificates issued by a certification authority.
    pub signing_self_signed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardedHeaderName {
    XForwardedFor,
    Forwarded,
}

impl From<ForwardedHeaderName> for motcua_web::session::ForwardedHeader {
    fn from(value: ForwardedHeaderName) -> Self {
        match value {
            ForwardedHeaderName::XForwardedFor => {
                motcua_web::session::ForwardedHeader::XForwardedFor
            }
            ForwardedHeaderName::Forwarded => motcua_web::session::ForwardedHeader::Forwarded,
        }
    }
}

/// A TOML list, or one string of comma-separated entries (as an environment variable gives it).
fn list_or_commas<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Given {
        List(Vec<String>),
        Commas(String),
    }
    Ok(match Given::deserialize(d)? {
        Given::List(list) => list,
        Given::Commas(text) => text
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: "sqlite://data/motcua.db".into(),
            files_dir: PathBuf::from("data/files"),
            mail_outbox_dir: PathBuf::from("data/outbox"),
            mail_from: "Cổng Dịch vụ công <noreply@localhost>".into(),
            smtp_host: None,
            smtp_port: 25,
            catalogue_refresh_seconds: 5,
            migrate_on_start: true,
            seed_demo: true,
            publish_citizen_comments: false,
            site_name: "Cổng Dịch vụ công trực tuyến".into(),
            public_url: None,
            site_owner: None,
            site_address: None,
            site_hotline: None,
            site_email: None,
            site_place: None,
            session_idle_minutes: 15,
            session_absolute_hours: 8,
            secure_cookies: None,
            trusted_proxies: Vec::new(),
            forwarded_header: ForwardedHeaderName::XForwardedFor,
            upload_max_file_mb: 10,
            upload_max_dossier_mb: 50,
            upload_sweep_hours: 72,
            worker_in_process: true,
            webhooks_to_private_networks: false,
            log_format: LogFormat::Text,
            log_filter: "info,sqlx=warn,tower_http=info".into(),
            payment_sandbox: true,
            vnpay_tmn_code: motcua_web::payments::PaymentSettings::default().tmn_code,
            vnpay_secret: motcua_web::payments::PaymentSettings::default().secret,
            vnpay_url: motcua_web::payments::PaymentSettings::default().gateway_url,
            vnpay_api_url: motcua_web::payments::PaymentSettings::default().api_url,
            signing_keys_dir: PathBuf::from("data/keys"),
            signing_self_signed: true,
        }
    }
}

const KEYS: &[&str] = &[
    "listen",
    "database_url",
    "files_dir",
    "mail_outbox_dir",
    "mail_from",
    "smtp_host",
    "smtp_port",
    "catalogue_refresh_seconds",
    "migrate_on_start",
    "seed_demo",
    "publish_citizen_comments",
    "site_name",
    "public_url",
    "site_owner",
    "site_address",
    "site_hotline",
    "site_email",
    "site_place",
    "session_idle_minutes",
    "session_absolute_hours",
    "secure_cookies",
    "trusted_proxies",
    "forwarded_header",
    "upload_max_file_mb",
    "upload_max_dossier_mb",
    "upload_sweep_hours",
    "worker_in_process",
    "webhooks_to_private_networks",
    "log_format",
    "log_filter",
    "payment_sandbox",
    "vnpay_tmn_code",
    "vnpay_secret",
    "vnpay_url",
    "vnpay_api_url",
    "signing_keys_dir",
    "signing_self_signed",
];

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_FILE: &str = "motcua.toml";

/// Values given on the command line, which override everything else.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
}

/// A configuration problem, phrased for the operator.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("không đọc được tệp cấu hình {path}: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("cấu hình không hợp lệ: {0}")]
    Invalid(String),
}

/// Load the configuration. `file` is `--config`; without it `motcua.toml` is read when present.
pub fn load(file: Option<&PathBuf>, overrides: &Overrides) -> Result<Config, ConfigError> {
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    match file {
        Some(path) => {
            // read it ourselves first: a missing or unreadable file named on purpose is an error
            std::fs::read_to_string(path).map_err(|e| ConfigError::Unreadable {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            figment = figment.merge(Toml::file_exact(path));
        }
        None => figment = figment.merge(Toml::file(DEFAULT_FILE)),
    }
    let config: Config = figment
        .merge(Env::prefixed("MOTCUA_").only(KEYS))
        .merge(Serialized::defaults(overrides))
        .extract()
        .map_err(|e| {
            // figment names keys with its profile ("default.listen"); operators know them as "listen"
            let messages: Vec<String> = e
                .into_iter()
                .map(|e| e.to_string().replace("key \"default.", "key \""))
                .collect();
            ConfigError::Invalid(messages.join("; "))
        })?;
    config.check()?;
    Ok(config)
}

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

pub fn database_kind(url: &str) -> Result<DatabaseKind, ConfigError> {
    if url.starts_with("sqlite:") {
        Ok(DatabaseKind::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(DatabaseKind::Postgres)
    } else {
        Err(ConfigError::Invalid(format!(
            "khóa `database_url`: \u{201c}{url}\u{201d} không phải địa chỉ cơ sở dữ liệu được hỗ trợ \
             (dùng sqlite:đường/dẫn/tệp.db hoặc postgres://người_dùng@máy:cổng/tên_csdl)"
        )))
    }
}

impl Config {
    fn check(&self) -> Result<(), ConfigError> {
        database_kind(&self.database_url)?;
        if self.catalogue_refresh_seconds == 0 {
            return Err(ConfigError::Invalid(
                "khóa `catalogue_refresh_seconds` phải lớn hơn 0".into(),
            ));
        }
        if self.session_idle_minutes < 2 || self.session_absolute_hours == 0 {
            return Err(ConfigError::Invalid(
                "khóa `session_idle_minutes` phải từ 2 trở lên và `session_absolute_hours` lớn hơn 0".into(),
            ));
        }
        self.proxies()?;
        if !self.payment_sandbox {
            if self.vnpay_secret == motcua_web::payments::PaymentSettings::default().secret
                || self.vnpay_secret.len() < 16
            {
                return Err(ConfigError::Invalid(
                    "khóa `vnpay_secret`: khi tắt `payment_sandbox` phải đặt khóa bí mật do VNPay cấp".into(),
                ));
            }
            if !self.vnpay_url.starts_with("https://") || self.vnpay_tmn_code.trim().is_empty() {
                return Err(ConfigError::Invalid(
                    "khóa `vnpay_url` phải là địa chỉ https:// của cổng VNPay và `vnpay_tmn_code` không được để trống"
                        .into(),
                ));
            }
            if self.signing_self_signed {
                return Err(ConfigError::Invalid(
                    "khóa `signing_self_signed`: khi tắt `payment_sandbox` (vận hành thật) phải tắt cả tự tạo khóa ký \
                     số, và đặt khóa, chứng thư số do tổ chức chứng thực cấp vào `signing_keys_dir`"
                        .into(),
                ));
            }
            if !self.vnpay_api_url.starts_with("https://") {
                return Err(ConfigError::Invalid(
                    "khóa `vnpay_api_url` phải là địa chỉ https:// API truy vấn giao dịch của VNPay".into(),
                ));
            }
        }
        if self.site_name.trim().is_empty() {
            return Err(ConfigError::Invalid(
                "khóa `site_name` không được để trống".into(),
            ));
        }
        if let Some(url) = &self.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ConfigError::Invalid(format!(
                "khóa `public_url`: \u{201c}{url}\u{201d} phải bắt đầu bằng http:// hoặc https://"
            )));
        }
        Ok(())
    }

    /// The trusted reverse proxies, parsed.
    pub fn proxies(&self) -> Result<motcua_web::session::TrustedProxies, ConfigError> {
        motcua_web::session::TrustedProxies::parse(
            &self.trusted_proxies,
            self.forwarded_header.into(),
        )
        .map_err(|e| ConfigError::Invalid(format!("khóa `trusted_proxies`: {e}")))
    }

    /// The payment gateway settings.
    pub fn payments(&self) -> motcua_web::payments::PaymentSettings {
        motcua_web::payments::PaymentSettings {
            tmn_code: self.vnpay_tmn_code.clone(),
            secret: self.vnpay_secret.clone(),
            gateway_url: self.vnpay_url.clone(),
            api_url: self.vnpay_api_url.clone(),
            sandbox: self.payment_sandbox,
        }
    }

    /// Whether session cookies require HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies.unwrap_or_else(|| {
            self.public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://"))
        })
    }

    /// The address to print for people to open, given the address actually bound (the port may have been 0).
    pub fn url(&self, bound: SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.clone(),
            None => {
                let addr = bound;
                if addr.ip().is_unspecified() {
                    format!("http://127.0.0.1:{}", addr.port())
                } else {
                    format!("http://{addr}")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &tempfile::TempDir, text: &str) -> PathBuf {
        let path = dir.path().join("motcua.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn defaults_need_nothing_installed() {
        let config = Config::default();
        assert_eq!(
            database_kind(&config.database_url).unwrap(),
            DatabaseKind::Sqlite
        );
        assert_eq!(config.url(config.listen), "http://127.0.0.1:8080");
    }

    #[test]
    fn the_real_gateway_needs_its_own_secret_and_an_https_page() {
        let dir = tempfile::tempdir().unwrap();
        let off = write(&dir, "payment_sandbox = false\n");
        let refused = load(Some(&off), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(refused.contains("vnpay_secret"), "{refused}");
        let plain = write(
            &dir,
            "payment_sandbox = false\nvnpay_secret = \"0123456789ABCDEF0123\"\nvnpay_url = \"http://vnpay.example\"\n",
        );
        let refused = load(Some(&plain), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(refused.contains("vnpay_url"), "{refused}");
        let self_signed = write(
            &dir,
            "payment_sandbox = false\nvnpay_secret = \"0123456789ABCDEF0123\"\nvnpay_tmn_code = \"MINHHOA1\"\n",
        );
        let refused = load(Some(&self_signed), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(refused.contains("signing_self_signed"), "{refused}");
        let real = write(
            &dir,
            "payment_sandbox = false\nsigning_self_signed = false\nvnpay_secret = \"0123456789ABCDEF0123\"\n\
             vnpay_tmn_code = \"MINHHOA1\"\n",
        );
        let settings = load(Some(&real), &Overrides::default()).unwrap().payments();
        assert!(!settings.sandbox);
        assert_eq!(settings.tmn_code, "MINHHOA1");
        assert!(
            settings
                .pay_page("https://dvc.example.vn")
                .starts_with("https://sandbox.vnpayment.vn/")
        );
        assert!(
            Config::default()
                .payments()
                .pay_page("https://dvc.example.vn/")
                .ends_with("/cong-thanh-toan-thu-nghiem")
        );
    }

    #[test]
    fn a_file_and_overrides_layer_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            &dir,
            "listen = \"0.0.0.0:9000\"\nsite_name = \"Cổng DVC tỉnh Minh Hòa\"\n",
        );
        let overrides = Overrides {
            database_url: Some("postgres://db/motcua".into()),
            listen: None,
        };
        let config = load(Some(&path), &overrides).unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.site_name, "Cổng DVC tỉnh Minh Hòa");
        assert_eq!(config.database_url, "postgres://db/motcua");
        assert_eq!(config.url(config.listen), "http://127.0.0.1:9000");
    }

    #[test]
    fn trusted_proxies_as_a_list_or_commas_and_bad_ones_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            &dir,
            "trusted_proxies = [\"10.0.0.0/8\", \"192.0.2.7\"]\nforwarded_header = \"forwarded\"\n",
        );
        let config = load(Some(&path), &Overrides::default()).unwrap();
        let proxies = config.proxies().unwrap();
        assert_eq!(proxies.networks.len(), 2);
        assert_eq!(
            proxies.header,
            motcua_web::session::ForwardedHeader::Forwarded
        );
        let path = write(&dir, "trusted_proxies = \"10.0.0.1, 2001:db8::/32\"\n");
        let config = load(Some(&path), &Overrides::default()).unwrap();
        assert_eq!(config.proxies().unwrap().networks.len(), 2);
        let path = write(&dir, "trusted_proxies = [\"proxy.internal\"]\n");
        let err = load(Some(&path), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("trusted_proxies") && err.contains("proxy.internal"),
            "{err}"
        );
        assert!(Config::default().proxies().unwrap().networks.is_empty());
    }

    #[test]
    fn a_bad_value_names_its_key_and_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "listen = \"not an address\"\n");
        let err = load(Some(&path), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("listen"), "{err}");
        assert!(err.contains("motcua.toml"), "{err}");
    }

    #[test]
    fn an_unknown_key_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "databse_url = \"sqlite:x.db\"\n");
        let err = load(Some(&path), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("databse_url"), "{err}");
    }

    #[test]
    fn a_missing_config_file_is_an_error() {
        let err = load(
            Some(&PathBuf::from("/nonexistent/motcua.toml")),
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("không đọc được tệp cấu hình /nonexistent/motcua.toml"),
            "{err}"
        );
    }

    #[test]
    fn unsupported_database_urls_are_refused() {
        let overrides = Overrides {
            database_url: Some("mysql://localhost/x".into()),
            listen: None,
        };
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "");
        let err = load(Some(&path), &overrides).unwrap_err().to_string();
        assert!(err.contains("database_url"), "{err}");
    }
}
