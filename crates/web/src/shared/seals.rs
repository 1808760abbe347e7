//! Signed electronic results (level 4, ADR 0007): each issuing agency's key and certificate, the signature made when
//! a result file is entered, and the check of a copy against it on the public verification page.
//!
//! Keys live in a folder (`signing_keys_dir`): `{agency code}.key.pem` (PKCS#8, ECDSA P-256) and
//! `{agency code}.crt.pem` (X.509). With `signing_self_signed` on (the demo), an agency without a key gets a
//! self-signed pair on first use; in production the certificate comes from a certification authority and
//! `motcua khoa-ky` only makes the key and a certificate to hand in.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Mutex,
    time::SystemTime,
};

use motcua_domain::{AgencyCode, workflow::Seal};
use motcua_signing::AgencyKey;
use object_store::ObjectStoreExt;
use time::OffsetDateTime;

use crate::{AppError, AppState};

/// Where the agencies' keys are, and whether a missing one may be made on the spot.
#[derive(Debug)]
pub struct SigningSettings {
    /// The keys folder; `None` keeps made keys in memory only (tests).
    pub keys_dir: Option<PathBuf>,
    /// Make a self-signed pair for an agency that has none (the demo default).
    pub self_signed: bool,
    loaded: Mutex<HashMap<AgencyCode, AgencyKey>>,
}

impl Default for SigningSettings {
    fn default() -> Self {
        SigningSettings::new(None, true)
    }
}

impl SigningSettings {
    pub fn new(keys_dir: Option<PathBuf>, self_signed: bool) -> Self {
        SigningSettings {
            keys_dir,
            self_signed,
            loaded: Mutex::new(HashMap::new()),
        }
    }
}

/// The key file and the certificate file of an agency in `dir`.
pub fn key_files(dir: &Path, agency: &AgencyCode) -> (PathBuf, PathBuf) {
    (
        dir.join(format!("{agency}.key.pem")),
        dir.join(format!("{agency}.crt.pem")),
    )
}

/// Make a key and a self-signed certificate for `agency` in `dir` (never over an existing key); returns the
/// certificate file.
pub fn make_key(dir: &Path, agency: &AgencyCode, agency_name: &str) -> Result<PathBuf, String> {
    let (key_file, cert_file) = key_files(dir, agency);
    if key_file.exists() || cert_file.exists() {
        return Err(format!(
            "cơ quan {agency} đã có khóa ({}); xóa hoặc chuyển tệp cũ đi nếu muốn tạo lại",
            key_file.display()
        ));
    }
    let key = AgencyKey::self_signed(agency.as_str(), agency_name, SystemTime::now(), 5)
        .map_err(|e| e.to_string())?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    write_private(&key_file, &key.key_pem().map_err(|e| e.to_string())?)?;
    std::fs::write(
        &cert_file,
        key.certificate_pem().map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("{}: {e}", cert_file.display()))?;
    Ok(cert_file)
}

/// A private key file readable by its owner only.
fn write_private(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    file.write_all(text.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The agency's key: loaded once from the keys folder, or made when self-signed keys are allowed. `Err` is the
/// message for the officer entering a result.
pub(crate) fn agency_key(state: &AppState, agency: &AgencyCode) -> Result<AgencyKey, String> {
    let settings = &state.signing;
    if let Ok(loaded) = settings.loaded.lock()
        && let Some(key) = loaded.get(agency)
    {
        return Ok(key.clone());
    }
    let name = state.catalogue.view().agency_name(agency).to_string();
    let key = match &settings.keys_dir {
        Some(dir) => {
            let (key_file, cert_file) = key_files(dir, agency);
            if !key_file.exists() && settings.self_signed {
                // two nodes making one at once: the second finds the first's files
                if let Err(e) = make_key(dir, agency, &name) {
                    tracing::warn!(agency = %agency, error = %e, "no self-signed key made");
                }
            }
            match (
                std::fs::read_to_string(&key_file),
                std::fs::read_to_string(&cert_file),
            ) {
                (Ok(key), Ok(cert)) => AgencyKey::from_pem(&key, &cert).map_err(|e| {
                    format!(
                        "Khóa ký số của cơ quan không dùng được ({}): {e}",
                        key_file.display()
                    )
                })?,
                _ => {
                    return Err(format!(
                        "Cơ quan {name} chưa có khóa ký số: cần tệp {} và {} (quản trị viên tạo bằng \
                         \u{201c}motcua khoa-ky --agency {agency}\u{201d} hoặc đặt chứng thư số được cấp).",
                        key_file.display(),
                        cert_file.display()
                    ));
                }
            }
        }
        None if settings.self_signed => {
            AgencyKey::self_signed(agency.as_str(), &name, SystemTime::now(), 5)
                .map_err(|e| e.to_string())?
        }
        None => return Err(format!("Cơ quan {name} chưa có khóa ký số.")),
    };
    if let Ok(mut loaded) = settings.loaded.lock() {
        loaded.insert(agency.clone(), key.clone());
    }
    Ok(key)
}

/// Sign a stored result file with the issuing agency's key and keep the signature beside it: the seal to record
/// with the result, or the message for the officer when it could not be signed.
pub(crate) async fn seal(
    state: &AppState,
    key: &AgencyKey,
    file_key: &str,
    bytes: &[u8],
) -> Result<Result<Seal, String>, AppError> {
    let now = OffsetDateTime::now_utc();
    let signature = match key.sign_detached(bytes, SystemTime::from(now)) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let signature_key = format!("{file_key}.p7s");
    state
        .files
        .put(
            &object_store::path::Path::from(signature_key.as_str()),
            bytes::Bytes::from(signature).into(),
        )
        .await
        .map_err(AppError::files)?;
    Ok(Ok(Seal {
        signature_key,
        code: uuid::Uuid::new_v4().simple().to_string(),
        fingerprint: key.fingerprint(),
        signed_by: key.signer().common_name,
        at: now,
    }))
}

/// The stored signature of a seal (DER); `None` when it is missing from the file store.
pub(crate) async fn signature(state: &AppState, seal: &Seal) -> Result<Option<Vec<u8>>, AppError> {
    match state
        .files
        .get(&object_store::path::Path::from(seal.signature_key.as_str()))
        .await
    {
        Ok(r) => Ok(Some(r.bytes().await.map_err(AppError::files)?.to_vec())),
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(AppError::files(e)),
    }
}

/// What checking a copy against a seal found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Check {
    /// The very file that was signed, signed by the agency's certificate recorded with it.
    Matches,
    /// Not the signed file (or the signature does not hold): why, for the reader.
    Differs(String),
    /// Could not be checked now (the stored signature is missing): said as such, never as a mismatch.
    Unavailable(String),
}

/// Check `copy` against the seal's signature, and that the signature's certificate is the one recorded when the
/// result was signed.
pub(crate) async fn check(state: &AppState, seal: &Seal, copy: &[u8]) -> Result<Check, AppError> {
    let Some(signature) = signature(state, seal).await? else {
        tracing::error!(key = %seal.signature_key, "the stored signature of a sealed result is missing");
        return Ok(Check::Unavailable(
            "Hệ thống chưa đọc được chữ ký số đã lưu của văn bản này; vui lòng thử lại sau.".into(),
        ));
    };
    Ok(match motcua_signing::verify_detached(copy, &signature) {
        Ok(v) if v.fingerprint == seal.fingerprint => Check::Matches,
        Ok(_) => Check::Differs("Chữ ký không phải của chứng thư số đã ký văn bản này.".into()),
        Err(e) => Check::Differs(format!("Không khớp: {e}.")),
    })
}

/// The public verification page of a seal.
pub(crate) fn verification_url(state: &AppState, seal: &Seal) -> String {
    format!(
        "{}/xac-thuc/{}",
        state.site.public_url.trim_end_matches('/'),
        seal.code
    )
}
