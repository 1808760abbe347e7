//! A draft's files: the files page per component, uploads checked before they are kept, removal, preview.

use crate::citizen::apply::{Loaded, draft_path, loaded};
use crate::files::{read_limited, serve_file, store_checked};
use crate::{AppError, AppState, error::not_found, layout::Layout, viewer::Viewer};
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Multipart, Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use motcua_domain::{
    submission::{DraftId, Upload, UploadId},
    upload::{self, FileRefusal},
    vntime,
};
use motcua_store::StoreError;
use object_store::ObjectStoreExt;
use time::OffsetDateTime;

pub(crate) struct ComponentFiles {
    pub index: usize,
    pub name: String,
    pub required: bool,
    /// Made from the e-form the citizen filled in: nothing to upload.
    pub from_form: bool,
    pub files: Vec<FileView>,
    pub error: Option<String>,
}

pub(crate) struct FileView {
    pub name: String,
    pub size: String,
    pub href: String,
    pub remove: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "draft_files.html")]
pub(crate) struct FilesPage {
    layout: Layout,
    procedure_name: String,
    base: String,
    components: Vec<ComponentFiles>,
    errors: Vec<(String, String)>,
    max_file: String,
    max_total: String,
    used: String,
}

pub(crate) fn file_views(base: &str, files: &[Upload], component: usize) -> Vec<FileView> {
    files
        .iter()
        .filter(|f| usize::from(f.component) == component)
        .map(|f| FileView {
            name: f.file_name.clone(),
            size: upload::format_size(f.size),
            href: format!("{base}/tep/{}", f.id),
            remove: format!("{base}/tep/{}/xoa", f.id),
        })
        .collect()
}

pub(crate) async fn render_files(
    state: &AppState,
    layout: Layout,
    l: &Loaded,
    errors: Vec<(usize, String)>,
) -> Result<FilesPage, AppError> {
    let files = state
        .store
        .submissions
        .uploads_for_draft(l.draft.id)
        .await?;
    let base = draft_path(l.draft.id);
    let components = l
        .case
        .components
        .iter()
        .enumerate()
        .map(|(i, c)| ComponentFiles {
            index: i,
            name: c.name.to_string(),
            required: c.required,
            from_form: crate::citizen::apply::produced_by_form(&l.case, c),
            files: file_views(&base, &files, i),
            error: errors
                .iter()
                .filter(|(n, _)| *n == i)
                .map(|(_, e)| e.clone())
                .reduce(|a, b| format!("{a} {b}")),
        })
        .collect();
    Ok(FilesPage {
        layout,
        procedure_name: l.procedure.name.to_string(),
        base,
        components,
        errors: errors
            .into_iter()
            .map(|(i, e)| (format!("tep-{i}"), e))
            .collect(),
        max_file: upload::format_size(state.uploads.max_file_bytes),
        max_total: upload::format_size(state.uploads.max_dossier_bytes),
        used: upload::format_size(files.iter().map(|f| f.size).sum()),
    })
}

pub(crate) async fn files_page(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let path = format!("/ho-so-nhap/{id}/giay-to");
    let l = loaded!(state, viewer, id, path);
    Ok(render_files(&state, layout, &l, vec![])
        .await?
        .into_response())
}

/// Receive files for one component (`thanh_phan`, then one or more `tep`). Each file is checked before it is
/// stored: size while it streams in, type from its bytes, then the scanner.
pub(crate) async fn upload_files(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(id): Path<String>,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let path = format!("/ho-so-nhap/{id}/giay-to");
    let l = loaded!(state, viewer, id, path);
    let target = Target {
        account: l.account.id,
        draft: l.draft.id,
        components: l.case.components.len(),
        supplement: false,
    };
    let errors = receive(&state, multipart, &target).await?;
    if errors.is_empty() {
        return Ok(Redirect::to(&format!("{}/giay-to", draft_path(l.draft.id))).into_response());
    }
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        render_files(&state, layout, &l, errors).await?,
    )
        .into_response())
}

/// Where received files go: a draft being prepared, or (supplement) the dossier it became.
pub(crate) struct Target {
    pub account: motcua_domain::AccountId,
    pub draft: DraftId,
    pub components: usize,
    pub supplement: bool,
}

/// Receive the files of an upload form (`thanh_phan`, then one or more `tep`). Each file is checked before it is
/// stored: size while it streams in, type from its bytes, then the scanner. Returns the refusals, by component.
pub(crate) async fn receive(
    state: &AppState,
    mut multipart: Multipart,
    target: &Target,
) -> Result<Vec<(usize, String)>, AppError> {
    let limits = state.uploads;
    let mut component: Option<usize> = None;
    let mut errors: Vec<(usize, String)> = Vec::new();
    let mut stored = 0usize;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                tracing::info!(error = %e, "upload request refused");
                errors.push((
                    component.unwrap_or(0),
                    "Tải tệp lên bị gián đoạn. Hãy chọn lại tệp và thử lại.".into(),
                ));
                break;
            }
        };
        match field.name() {
            Some("thanh_phan") => {
                let text = crate::input::multipart_text(field).await;
                component = text
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|i| *i < target.components);
            }
            Some("tep") => {
                let Some(index) = component else {
                    errors.push((0, "Chưa chọn thành phần hồ sơ cho tệp.".into()));
                    break;
                };
                // browsers escape CR, LF and quotes in file names (HTML multipart encoding): undo it, so that
                // cleaning sees them for what they are
                let name = field
                    .file_name()
                    .unwrap_or("")
                    .replace("%0D", "\r")
                    .replace("%0A", "\n")
                    .replace("%22", "\"");
                if name.is_empty() {
                    // the browser sends an empty part when no file was chosen
                    continue;
                }
                match read_limited(field, limits.max_file_bytes, &name).await {
                    Err(refusal) => errors.push((index, refusal.to_string())),
                    Ok(bytes) if bytes.is_empty() => {
                        errors.push((index, FileRefusal::Empty(name.clone()).to_string()))
                    }
                    Ok(bytes) => match keep(state, target, index, &name, bytes).await? {
                        Ok(()) => stored += 1,
                        Err(message) => errors.push((index, message)),
                    },
                }
            }
            _ => {}
        }
    }
    if errors.is_empty() && stored == 0 {
        errors.push((
            component.unwrap_or(0),
            "Chọn ít nhất một tệp PDF, JPEG hoặc PNG để tải lên.".into(),
        ));
    }
    Ok(errors)
}

pub(crate) async fn remove_file(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let path = format!("/ho-so-nhap/{id}/giay-to");
    let l = loaded!(state, viewer, id, path);
    let Ok(file) = uuid::Uuid::parse_str(&file) else {
        return Ok(not_found().await);
    };
    if let Some(u) = state
        .store
        .submissions
        .remove_upload(UploadId(file), l.draft.id)
        .await?
    {
        let path = object_store::path::Path::from(u.object_key.as_str());
        if let Err(e) = state.files.delete(&path).await {
            tracing::warn!(error = %e, key = %u.object_key, "removed upload's object not deleted; the sweeper will retry");
        }
    }
    Ok(Redirect::to(&format!("{}/giay-to", draft_path(l.draft.id))).into_response())
}

pub(crate) async fn draft_file(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let path = format!("/ho-so-nhap/{id}/giay-to");
    let l = loaded!(state, viewer, id, path);
    let Ok(file) = uuid::Uuid::parse_str(&file) else {
        return Ok(not_found().await);
    };
    match state.store.submissions.get_upload(UploadId(file)).await? {
        Some(u) if u.draft == l.draft.id => serve_file(&state, &u).await,
        _ => Ok(not_found().await),
    }
}

/// Check and store one file; `Ok(Err(message))` when it is refused.
pub(crate) async fn keep(
    state: &AppState,
    target: &Target,
    component: usize,
    name: &str,
    bytes: Vec<u8>,
) -> Result<Result<(), String>, AppError> {
    let prefix = format!("tep/{}", vntime::vn_date(OffsetDateTime::now_utc()));
    let file = match store_checked(state, name, bytes, &prefix).await? {
        Ok(f) => f,
        Err(message) => return Ok(Err(message)),
    };
    let upload = Upload {
        id: UploadId(file.id),
        account: target.account,
        draft: target.draft,
        component: u16::try_from(component).unwrap_or(u16::MAX),
        file_name: file.file_name,
        object_key: file.key.clone(),
        file_type: file.kind,
        size: file.size,
        sha256: file.sha256,
        created_at: OffsetDateTime::now_utc(),
        dossier: None,
    };
    let path = object_store::path::Path::from(file.key.as_str());
    let added = if target.supplement {
        state
            .store
            .submissions
            .add_supplement_upload(&upload, state.uploads.max_dossier_bytes)
            .await
    } else {
        state
            .store
            .submissions
            .add_upload(&upload, state.uploads.max_dossier_bytes)
            .await
    };
    match added {
        Ok(()) => Ok(Ok(())),
        Err(e) => {
            let _ = state.files.delete(&path).await;
            match e {
                StoreError::Constraint(_) => Ok(Err(format!(
                    "Tổng dung lượng tệp của hồ sơ vượt quá {}. Hãy bớt tệp hoặc nén tệp trước khi tải lên.",
                    upload::format_size(state.uploads.max_dossier_bytes)
                ))),
                other => Err(other.into()),
            }
        }
    }
}
