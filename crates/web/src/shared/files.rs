//! Files people send and fetch, for every audience: the scanner each upload passes, reading a multipart file
//! within its limit, the checks and storage under a generated name (`store_checked`), and serving a stored file.

use crate::{AppError, AppState, error::not_found, urls};
use axum::{
    body::Body,
    http::{HeaderValue, header},
    response::Response,
};
use motcua_domain::{
    submission::Upload,
    upload::{self, FileRefusal},
};
use object_store::ObjectStoreExt;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Checks an uploaded file before it is kept (an antivirus, a policy). The default accepts everything that
/// passed the type and size checks.
#[async_trait::async_trait]
pub trait FileScanner: Send + Sync {
    /// `Err` with a reason refuses the file.
    async fn scan(&self, name: &str, bytes: &[u8]) -> Result<(), String>;
}

/// The default scanner: no scanning.
pub struct NoScan;

#[async_trait::async_trait]
impl FileScanner for NoScan {
    async fn scan(&self, _: &str, _: &[u8]) -> Result<(), String> {
        Ok(())
    }
}

/// Read a file part, refusing it as soon as it passes `max` bytes (nothing of it is stored).
pub(crate) async fn read_limited(
    mut field: axum::extract::multipart::Field<'_>,
    max: u64,
    name: &str,
) -> Result<Vec<u8>, FileRefusal> {
    let mut bytes = Vec::new();
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                if (bytes.len() + chunk.len()) as u64 > max {
                    return Err(FileRefusal::TooLarge {
                        name: name.to_string(),
                        limit: upload::format_size(max),
                    });
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(bytes),
            Err(_) => return Err(FileRefusal::Unreadable(name.to_string())),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Check a file from its bytes (PDF, JPEG or PNG), clean its name, scan it and put it under `prefix`; a
/// refusal is the message for the person who sent it (nothing is kept).
pub(crate) async fn store_checked(
    state: &AppState,
    name: &str,
    bytes: Vec<u8>,
    prefix: &str,
) -> Result<Result<StoredFile, String>, AppError> {
    let kind = match upload::sniff(name, &bytes) {
        Ok(k) => k,
        Err(r) => return Ok(Err(r.to_string())),
    };
    let clean = upload::clean_file_name(name, kind);
    if let Err(reason) = state.scanner.scan(&clean, &bytes).await {
        tracing::warn!(file = %clean, reason, "scanner refused an upload");
        return Ok(Err(FileRefusal::Unsafe(clean).to_string()));
    }
    let id = uuid::Uuid::now_v7();
    let key = format!("{prefix}/{id}");
    let stored = StoredFile {
        id,
        key,
        file_name: clean,
        kind,
        size: bytes.len() as u64,
        sha256: hex(&Sha256::digest(&bytes)),
    };
    state
        .files
        .put(
            &object_store::path::Path::from(stored.key.as_str()),
            bytes::Bytes::from(bytes).into(),
        )
        .await
        .map_err(AppError::files)?;
    Ok(Ok(stored))
}

/// Serve an attached file to its owner, inline, under its cleaned name and sniffed type.
pub(crate) async fn serve_file(state: &AppState, u: &Upload) -> Result<Response, AppError> {
    serve_stored(state, &u.object_key, &u.file_name, u.file_type.mime()).await
}

/// A stored file shown inline, sandboxed.
pub(crate) async fn serve_stored(
    state: &AppState,
    key: &str,
    file_name: &str,
    mime: &str,
) -> Result<Response, AppError> {
    let path = object_store::path::Path::from(key);
    let bytes = match state.files.get(&path).await {
        Ok(r) => r.bytes().await.map_err(AppError::files)?,
        Err(object_store::Error::NotFound { .. }) => return Ok(not_found().await),
        Err(e) => return Err(AppError::files(e)),
    };
    let mut response = Response::new(Body::from(bytes));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&urls::content_disposition(file_name).replacen(
        "attachment",
        "inline",
        1,
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    // a PDF viewer gets no scripts and no access to the portal's origin; only the portal's own pages may show
    // it in a frame (the officer's preview of an attachment)
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'",
        ),
    );
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    Ok(response)
}

/// The scanner used when none is configured: accepts what passed the type and size checks.
pub fn shared_scanner() -> Arc<dyn FileScanner> {
    Arc::new(NoScan)
}

/// A file kept in the file store after its checks.
pub(crate) struct StoredFile {
    pub id: uuid::Uuid,
    /// Where it is, `{prefix}/{id}`.
    pub key: String,
    /// The cleaned name.
    pub file_name: String,
    pub kind: upload::FileType,
    pub size: u64,
    pub sha256: String,
}
