//! The public verification page of a signed electronic result (`/xac-thuc/{code}`, the address in the result's QR
//! code): what the document is and who signed it, a check of an uploaded copy ("khớp" only for the untouched
//! file), and the signature itself for anyone's own tools. Public once the result is approved; nothing about the
//! applicant is shown.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    body::Body,
    extract::{Multipart, Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use motcua_domain::{Dossier, DossierStatus, workflow::DossierResult};

use crate::{
    AppError, AppState,
    layout::Layout,
    seals::{self, Check},
    urls,
};

#[derive(Template, WebTemplate)]
#[template(path = "verification.html")]
pub(crate) struct VerificationPage {
    layout: Layout,
    code: String,
    number: String,
    signer: String,
    signed_on: String,
    agency: String,
    procedure: String,
    sealed_by: String,
    sealed_at: String,
    fingerprint: String,
    /// After a copy was checked: whether it matches, and the explanation.
    verdict: Option<(bool, String)>,
    error: Option<String>,
}

/// The signed result with this code and its dossier, or the not-found page.
async fn sealed(
    state: &AppState,
    code: &str,
) -> Result<Result<(DossierResult, Dossier), Response>, AppError> {
    let found = if code.len() <= 64 && code.chars().all(|c| c.is_ascii_alphanumeric()) {
        state.store.workflows.result_by_seal(code).await?
    } else {
        None
    };
    let Some(result) = found.filter(|r| r.file.as_ref().is_some_and(|f| f.seal.is_some())) else {
        return Ok(Err(crate::error::not_found().await));
    };
    // a result is public once approved: before that it may still change
    match state.store.dossiers.get(result.dossier).await? {
        Some(dossier)
            if matches!(
                dossier.status,
                DossierStatus::Processed | DossierStatus::ResultDelivered
            ) =>
        {
            Ok(Ok((result, dossier)))
        }
        _ => Ok(Err(crate::error::not_found().await)),
    }
}

fn page(
    state: &AppState,
    layout: Layout,
    code: &str,
    result: &DossierResult,
    dossier: &Dossier,
) -> VerificationPage {
    let view = state.catalogue.view();
    let file = result.file.as_ref();
    let seal = file.and_then(|f| f.seal.as_ref());
    VerificationPage {
        layout,
        code: code.to_string(),
        number: result.document_number.clone(),
        signer: result.signer.clone(),
        signed_on: motcua_calendar::dmy(result.signed_on),
        agency: view.agency_name(&dossier.agency).to_string(),
        procedure: view.procedure_name(dossier.procedure.as_str()).to_string(),
        sealed_by: seal.map(|s| s.signed_by.clone()).unwrap_or_default(),
        sealed_at: seal
            .map(|s| motcua_domain::vntime::format_datetime(s.at))
            .unwrap_or_default(),
        fingerprint: seal.map(|s| s.fingerprint.clone()).unwrap_or_default(),
        verdict: None,
        error: None,
    }
}

pub(crate) async fn verification_page(
    State(state): State<AppState>,
    layout: Layout,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    Ok(match sealed(&state, &code).await? {
        Ok((result, dossier)) => page(&state, layout, &code, &result, &dossier).into_response(),
        Err(r) => r,
    })
}

/// Check an uploaded copy against the signature; the copy is read, compared and forgotten.
pub(crate) async fn check_copy(
    State(state): State<AppState>,
    layout: Layout,
    Path(code): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let (result, dossier) = match sealed(&state, &code).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let mut copy: Option<Vec<u8>> = None;
    let mut error = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("tep") => {
                let name = field.file_name().unwrap_or("").to_string();
                if name.is_empty() {
                    continue;
                }
                match crate::files::read_limited(field, state.uploads.max_file_bytes, &name).await {
                    Ok(bytes) => copy = Some(bytes),
                    Err(refusal) => error = Some(refusal.to_string()),
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => {
                error = Some("Gửi tệp bị gián đoạn. Hãy chọn lại tệp và thử lại.".into());
                break;
            }
        }
    }
    let mut view = page(&state, layout, &code, &result, &dossier);
    let seal = result.file.as_ref().and_then(|f| f.seal.as_ref());
    match (copy, seal) {
        (Some(bytes), Some(seal)) if error.is_none() => {
            view.verdict = Some(match seals::check(&state, seal, &bytes).await? {
                Check::Matches => (
                    true,
                    "Khớp: tệp này đúng là văn bản đã được ký số, không bị sửa đổi.".into(),
                ),
                Check::Differs(why) => (false, why),
                Check::Unavailable(why) => {
                    view.error = Some(why);
                    return Ok((StatusCode::SERVICE_UNAVAILABLE, view).into_response());
                }
            });
            Ok(view.into_response())
        }
        _ => {
            view.error = Some(error.unwrap_or_else(|| "Chọn tệp văn bản cần kiểm tra.".into()));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response())
        }
    }
}

/// The detached signature (`.p7s`), for checking with one's own tools (for example `openssl cms -verify`).
pub(crate) async fn signature(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let (result, _) = match sealed(&state, &code).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let Some(seal) = result.file.and_then(|f| f.seal) else {
        return Ok(crate::error::not_found().await);
    };
    let Some(bytes) = seals::signature(&state, &seal).await? else {
        return Ok(crate::error::not_found().await);
    };
    let mut response = Response::new(Body::from(bytes));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pkcs7-signature"),
    );
    // named by the code, not by the uploaded file (whose name may carry the applicant's)
    if let Ok(v) = HeaderValue::from_str(&urls::content_disposition(&format!("chu-ky-{code}.p7s")))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}
