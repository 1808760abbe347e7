//! Answering a supplement request: the applicant adds and removes files (kept apart from the dossier's until sent),
//! then sends the answer, which returns the dossier to reception or resumes processing in one transaction.

use crate::citizen::tracking::{render_dossier, render_dossier_with};
use crate::dossiers::owned;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use time::OffsetDateTime;

use motcua_domain::{DossierStatus, Transition, submission::UploadId};
use motcua_store::StoreError;

use crate::{
    AppError, AppState, citizen::attachments::Target, citizen::attachments::receive,
    error::not_found, layout::Layout, viewer::Viewer,
};

/// Add files answering a supplement request (kept apart until the answer is sent).
pub(crate) async fn supplement_upload(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
    multipart: axum::extract::Multipart,
) -> Result<Response, AppError> {
    let path = format!("/ho-so/{code}");
    let (dossier, details) = match owned(&state, &viewer, &code, &path).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let Some(draft) = state.store.submissions.draft_of(dossier.id).await? else {
        return Ok(not_found().await);
    };
    if dossier.status != DossierStatus::SupplementRequested {
        return Ok((
            StatusCode::CONFLICT,
            render_dossier(&state, layout, dossier, details, false, Some(NOT_ASKED)).await?,
        )
            .into_response());
    }
    let components = state
        .store
        .catalogue
        .get_procedure_version(&dossier.procedure, dossier.procedure_version)
        .await?
        .and_then(|p| p.cases.into_iter().find(|c| c.key == dossier.case))
        .map(|c| c.components.len())
        .unwrap_or(0);
    // `owned` only lets through dossiers with an owner
    let Some(account) = details.account else {
        return Ok(not_found().await);
    };
    let target = Target {
        account,
        draft,
        components,
        supplement: true,
    };
    let errors = receive(&state, multipart, &target).await?;
    if errors.is_empty() {
        return Ok(Redirect::to(&format!("/ho-so/{code}#bo-sung")).into_response());
    }
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        render_dossier_with(&state, layout, dossier, details, false, None, errors).await?,
    )
        .into_response())
}

const NOT_ASKED: &str = "Cơ quan không (hoặc không còn) yêu cầu bổ sung hồ sơ này.";

pub(crate) async fn supplement_remove(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((code, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let path = format!("/ho-so/{code}");
    let (dossier, _) = match owned(&state, &viewer, &code, &path).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let (Some(draft), Ok(file)) = (
        state.store.submissions.draft_of(dossier.id).await?,
        uuid::Uuid::parse_str(&file),
    ) else {
        return Ok(not_found().await);
    };
    if let Some(u) = state
        .store
        .submissions
        .remove_upload(UploadId(file), draft)
        .await?
    {
        let key = object_store::path::Path::from(u.object_key.as_str());
        if let Err(e) = object_store::ObjectStoreExt::delete(state.files.as_ref(), &key).await {
            tracing::warn!(error = %e, key = %u.object_key, "removed upload's object not deleted; the sweeper will retry");
        }
    }
    Ok(Redirect::to(&format!("/ho-so/{code}#bo-sung")).into_response())
}

/// Send the supplement: back to reception if the dossier was never received, else back to processing.
pub(crate) async fn supplement_send(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let path = format!("/ho-so/{code}");
    let (dossier, details) = match owned(&state, &viewer, &code, &path).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let Some(draft) = state.store.submissions.draft_of(dossier.id).await? else {
        return Ok(not_found().await);
    };
    if dossier.status != DossierStatus::SupplementRequested {
        return Ok((
            StatusCode::CONFLICT,
            render_dossier(&state, layout, dossier, details, false, Some(NOT_ASKED)).await?,
        )
            .into_response());
    }
    let pending = state
        .store
        .submissions
        .uploads_for_draft(draft)
        .await?
        .into_iter()
        .filter(|u| u.dossier.is_none())
        .count();
    if pending == 0 {
        let errors = vec![(
            0,
            "Tải lên ít nhất một tệp bổ sung trước khi gửi.".to_string(),
        )];
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render_dossier_with(&state, layout, dossier, details, false, None, errors).await?,
        )
            .into_response());
    }
    let history = state.store.dossiers.history(dossier.id).await?;
    let was_received = history.iter().any(|e| e.to == DossierStatus::Received);
    let to = if was_received {
        DossierStatus::Processing
    } else {
        DossierStatus::Submitted
    };
    let actor = details
        .account
        .map(|a| a.to_string())
        .unwrap_or_else(|| "citizen".into());
    let t = Transition::new(
        dossier.id,
        dossier.status,
        to,
        OffsetDateTime::now_utc(),
        actor,
    )
    .map_err(|_| AppError::NotFound)?
    .with_reason(format!(
        "Công dân đã bổ sung {pending} tệp trên cổng dịch vụ công"
    ));
    // the clock was paused from the request until now: its working time is added to the due time
    let asked = history
        .iter()
        .rev()
        .find(|e| e.to == DossierStatus::SupplementRequested);
    let t = match (dossier.due_at, asked) {
        (Some(due), Some(asked)) if was_received => {
            let now = t.at;
            t.with_due_at(
                crate::dossiers::calendar(&state)
                    .await?
                    .extend_for_pause(due, asked.at, now),
            )
        }
        _ => t,
    };
    // processing resumes: the workflow's open step gets the pause too, or the workflow starts; committed with the
    // transition and the files, all or nothing
    let change = match asked {
        Some(asked) if was_received => {
            let cal = crate::dossiers::calendar(&state).await?;
            Some(crate::steps::after_supplement(&state, &cal, &dossier, asked.at, t.at).await?)
        }
        _ => None,
    };
    match state
        .store
        .submissions
        .send_supplement(draft, &t, change.as_ref())
        .await
    {
        Ok(_) => {
            if change.is_some() {
                state.outbox_wake.notify_one();
            }
            Ok(Redirect::to(&format!("/ho-so/{code}")).into_response())
        }
        Err(StoreError::Conflict(_)) => Ok((
            StatusCode::CONFLICT,
            render_dossier(&state, layout, dossier, details, false, Some(NOT_ASKED)).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}
