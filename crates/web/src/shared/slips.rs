//! The printed slips of Circular 01/2018 (→ 03/2025) for a dossier, as PDF: 01 receipt and appointment,
//! 02 supplement request, 03 refusal, 04 apology with a new appointment, 05 notice of stopped processing, 06 the
//! control sheet (every hand-off of the workflow's steps). Each is built from the history events (or step
//! records) that issued it, so it re-prints the same whenever it is asked for. The register (07) of an agency is
//! in `register`.

use axum::{
    body::Body,
    extract::{Path, State},
    http::{HeaderValue, header},
    response::Response,
};

use motcua_documents::Document;
use motcua_domain::{Dossier, DossierStatus, HistoryEvent, vntime};

use crate::{AppError, AppState, error::not_found, viewer::Viewer};

/// Versions of the slip layouts, each with the first day it is used (oldest first). A slip prints with the version
/// in force when the event that issued it happened, so an old dossier re-prints as it was issued; a new layout
/// adds a row here and its branch where the layouts differ.
const TEMPLATE_VERSIONS: &[(u32, time::Date)] = &[(1, time::macros::date!(2024 - 01 - 01))];

/// The layout version in force at `at` (Vietnam's date).
pub(crate) fn template_version(at: time::OffsetDateTime) -> u32 {
    let day = vntime::vn_date(at);
    TEMPLATE_VERSIONS
        .iter()
        .rev()
        .find(|(_, from)| *from <= day)
        .or(TEMPLATE_VERSIONS.first())
        .map_or(1, |(v, _)| *v)
}

/// The officer's name from an event's actor (`Name (account id)`).
fn officer_name(actor: &str) -> String {
    actor
        .rsplit_once(" (")
        .map(|(name, _)| name.to_string())
        .unwrap_or_default()
}

/// Slip `number` (`01`, `02`, `03`) of this dossier, if the event that issues it happened.
pub(crate) async fn build(
    state: &AppState,
    dossier: &Dossier,
    number: &str,
) -> Result<Option<Document>, AppError> {
    let events = state.store.dossiers.history(dossier.id).await?;
    match number {
        "04" => return apology(state, dossier, &events).await,
        "06" => return control_sheet(state, dossier).await,
        HAND_OVER => return hand_over(state, dossier, &events).await,
        _ => {}
    }
    let (status, title) = match number {
        "01" => (
            DossierStatus::Received,
            "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        ),
        "02" => (
            DossierStatus::SupplementRequested,
            "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
        ),
        "03" => (
            DossierStatus::Refused,
            "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ",
        ),
        "05" => (DossierStatus::Stopped, "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ"),
        _ => return Ok(None),
    };
    let Some(event): Option<&HistoryEvent> = events.iter().rev().find(|e| e.to == status) else {
        return Ok(None);
    };
    let procedure = state
        .store
        .catalogue
        .get_procedure_version(&dossier.procedure, dossier.procedure_version)
        .await?;
    let case = procedure
        .as_ref()
        .and_then(|p| p.cases.iter().find(|c| c.key == dossier.case));
    let files = state
        .store
        .submissions
        .uploads_for_dossier(dossier.id)
        .await?;
    let view = state.catalogue.view();
    let agency = view.agency(dossier.code.agency());
    let mut fields = vec![
        ("Người nộp:".to_string(), dossier.applicant_name.to_string()),
        (
            "Thủ tục:".into(),
            procedure
                .as_ref()
                .map(|p| p.name.to_string())
                .unwrap_or_default(),
        ),
        (
            "Trường hợp:".into(),
            case.map(|c| c.name.to_string()).unwrap_or_default(),
        ),
        ("Kênh nộp:".into(), dossier.channel.label_vi().to_string()),
        (
            "Nộp lúc:".into(),
            vntime::format_datetime(dossier.created_at),
        ),
    ];
    let list_title;
    let mut list = Vec::new();
    let mut paragraphs = Vec::new();
    let reason = event.reason.clone().unwrap_or_default();
    match status {
        DossierStatus::Received => {
            fields.push(("Tiếp nhận lúc:".into(), vntime::format_datetime(event.at)));
            fields.push((
                "Hẹn trả kết quả:".into(),
                event
                    .due_at
                    .map(vntime::format_datetime)
                    .unwrap_or_else(|| "—".into()),
            ));
            if let Some(address) = agency.and_then(|a| a.address.clone()) {
                fields.push(("Nơi trả kết quả:".into(), address));
            }
            list_title = Some("Thành phần hồ sơ đã nhận:".to_string());
            if let Some(c) = case {
                for (i, comp) in c.components.iter().enumerate() {
                    let n = files
                        .iter()
                        .filter(|f| usize::from(f.component) == i)
                        .count();
                    if n > 0 {
                        list.push(format!("{} ({n} tệp)", comp.name));
                    }
                }
            }
            paragraphs.push("Khi đến nhận kết quả, mang theo giấy này hoặc mã hồ sơ. Nếu kết quả bị chậm, cơ quan sẽ gửi văn bản xin lỗi và hẹn lại ngày trả kết quả.".to_string());
        }
        DossierStatus::SupplementRequested => {
            fields.push(("Yêu cầu lúc:".into(), vntime::format_datetime(event.at)));
            list_title = Some("Nội dung cần bổ sung, hoàn thiện:".to_string());
            list.extend(
                reason
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string),
            );
            paragraphs.push("Thời hạn giải quyết tạm dừng từ khi có yêu cầu này đến khi nhận đủ hồ sơ bổ sung. Có thể bổ sung trực tuyến trên trang theo dõi hồ sơ.".to_string());
        }
        DossierStatus::Stopped => {
            fields.push((
                "Dừng giải quyết lúc:".into(),
                vntime::format_datetime(event.at),
            ));
            list_title = Some("Lý do dừng giải quyết:".to_string());
            list.push(reason);
            paragraphs.push("Hồ sơ không được tiếp tục giải quyết. Nếu không đồng ý, ông/bà có quyền khiếu nại theo quy định của pháp luật.".to_string());
        }
        _ => {
            fields.push(("Từ chối lúc:".into(), vntime::format_datetime(event.at)));
            list_title = Some("Lý do từ chối:".to_string());
            list.push(reason);
        }
    }
    let officer = officer_name(&event.actor);
    Ok(Some(Document {
        agency_name: view.agency_name(dossier.code.agency()).to_string(),
        form_number: Some(format!(
            "Mẫu số {number} (phiên bản {})",
            template_version(event.at)
        )),
        title: title.into(),
        code: dossier.code.to_string(),
        tracking_url: format!(
            "{}/tra-cuu-ho-so?ma={}",
            state.site.public_url.trim_end_matches('/'),
            dossier.code
        ),
        link_label: String::new(),
        fields,
        list_title,
        list,
        paragraphs,
        signature: (!officer.is_empty()).then(|| ("NGƯỜI TIẾP NHẬN, XỬ LÝ".to_string(), officer)),
        footer: state.site.name.clone(),
    }))
}

/// An apology event: the status stays, the due time moves.
fn is_apology(e: &HistoryEvent) -> bool {
    e.from == Some(e.to) && e.due_at.is_some()
}

/// Slip 04: the apology with the new appointment.
async fn apology(
    state: &AppState,
    dossier: &Dossier,
    events: &[HistoryEvent],
) -> Result<Option<Document>, AppError> {
    let Some(index) = events.iter().rposition(is_apology) else {
        return Ok(None);
    };
    let event = &events[index];
    let previous_due = events[..index].iter().rev().find_map(|e| e.due_at);
    let view = state.catalogue.view();
    let procedure = state
        .store
        .catalogue
        .get_procedure_version(&dossier.procedure, dossier.procedure_version)
        .await?;
    let officer = officer_name(&event.actor);
    Ok(Some(Document {
        agency_name: view.agency_name(dossier.code.agency()).to_string(),
        form_number: Some(format!(
            "Mẫu số 04 (phiên bản {})",
            template_version(event.at)
        )),
        title: "VĂN BẢN XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ".into(),
        code: dossier.code.to_string(),
        tracking_url: format!(
            "{}/tra-cuu-ho-so?ma={}",
            state.site.public_url.trim_end_matches('/'),
            dossier.code
        ),
        link_label: String::new(),
        fields: vec![
            ("Kính gửi:".into(), dossier.applicant_name.to_string()),
            (
                "Thủ tục:".into(),
                procedure.map(|p| p.name.to_string()).unwrap_or_default(),
            ),
            (
                "Hẹn trả trước đây:".into(),
                previous_due.map(vntime::format_datetime).unwrap_or_default(),
            ),
            (
                "Hẹn trả mới:".into(),
                event.due_at.map(vntime::format_datetime).unwrap_or_default(),
            ),
        ],
        list_title: Some("Lý do chậm:".into()),
        list: vec![event.reason.clone().unwrap_or_default()],
        paragraphs: vec![
            "Cơ quan chân thành xin lỗi ông/bà vì sự chậm trễ này và sẽ trả kết quả theo ngày hẹn mới.".into(),
        ],
        signature: (!officer.is_empty()).then(|| ("THỦ TRƯỞNG ĐƠN VỊ".to_string(), officer)),
        footer: state.site.name.clone(),
    }))
}

/// Slip 06: the control sheet, one line per holding of a step, with who gave it, to whom, when, the due time
/// and whether it ended early, on time or late.
async fn control_sheet(state: &AppState, dossier: &Dossier) -> Result<Option<Document>, AppError> {
    let steps = state.store.workflows.steps(dossier.id).await?;
    if steps.is_empty() {
        return Ok(None);
    }
    let cal = crate::dossiers::calendar(state).await?;
    let view = state.catalogue.view();
    let procedure = state
        .store
        .catalogue
        .get_procedure_version(&dossier.procedure, dossier.procedure_version)
        .await?;
    let list = crate::steps::step_views(state, &cal, &steps)
        .into_iter()
        .map(|s| {
            format!(
                "{} ({}, {}) — {} giao cho {} lúc {}; hạn {}; {}{}{}",
                s.name,
                s.agency,
                s.role,
                s.given_by,
                s.holder,
                s.started,
                s.due,
                if s.ended.is_empty() {
                    String::new()
                } else {
                    format!("kết thúc {}: ", s.ended)
                },
                s.outcome,
                s.tag.map(|(_, t)| format!(" — {t}")).unwrap_or_default(),
            )
        })
        .collect();
    Ok(Some(Document {
        agency_name: view.agency_name(dossier.code.agency()).to_string(),
        form_number: Some(format!(
            "Mẫu số 06 (phiên bản {})",
            template_version(steps[0].started_at)
        )),
        title: "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ".into(),
        code: dossier.code.to_string(),
        tracking_url: format!(
            "{}/tra-cuu-ho-so?ma={}",
            state.site.public_url.trim_end_matches('/'),
            dossier.code
        ),
        link_label: String::new(),
        fields: vec![
            ("Người nộp:".into(), dossier.applicant_name.to_string()),
            (
                "Thủ tục:".into(),
                procedure.map(|p| p.name.to_string()).unwrap_or_default(),
            ),
            (
                "Hẹn trả kết quả:".into(),
                dossier
                    .due_at
                    .map(vntime::format_datetime)
                    .unwrap_or_default(),
            ),
            ("Trạng thái:".into(), dossier.status.label_vi().to_string()),
        ],
        list_title: Some("Quá trình giao nhận, xử lý:".into()),
        list,
        paragraphs: vec![],
        signature: None,
        footer: state.site.name.clone(),
    }))
}

/// The hand-over slip's number in addresses (not a numbered form of the circular).
pub(crate) const HAND_OVER: &str = "tra-ket-qua";

/// The slip given with the result at the counter: what was handed over, when and by whom, and a QR code with the
/// dossier's rating code, so that an applicant without an account can rate the handling (once).
async fn hand_over(
    state: &AppState,
    dossier: &Dossier,
    events: &[HistoryEvent],
) -> Result<Option<Document>, AppError> {
    let Some(event) = events
        .iter()
        .rev()
        .find(|e| e.to == DossierStatus::ResultDelivered)
    else {
        return Ok(None);
    };
    let token = state
        .store
        .ratings
        .rating_token(
            dossier.id,
            &uuid::Uuid::new_v4().simple().to_string(),
            time::OffsetDateTime::now_utc(),
        )
        .await?;
    let view = state.catalogue.view();
    let procedure = view.procedure_name(dossier.procedure.as_str()).to_string();
    let mut fields = vec![
        (
            "Người nhận:".to_string(),
            dossier.applicant_name.to_string(),
        ),
        ("Thủ tục:".into(), procedure),
        ("Trả kết quả lúc:".into(), vntime::format_datetime(event.at)),
        ("Cán bộ trả:".into(), officer_name(&event.actor)),
    ];
    if let Some(result) = state.store.workflows.result(dossier.id).await? {
        fields.push((
            "Kết quả:".into(),
            format!(
                "Văn bản số {}, ký ngày {}",
                result.document_number,
                motcua_calendar::dmy(result.signed_on)
            ),
        ));
    }
    Ok(Some(Document {
        agency_name: view.agency_name(dossier.code.agency()).to_string(),
        form_number: None,
        title: "PHIẾU TRẢ KẾT QUẢ GIẢI QUYẾT HỒ SƠ".into(),
        code: dossier.code.to_string(),
        tracking_url: format!(
            "{}/danh-gia/{token}",
            state.site.public_url.trim_end_matches('/')
        ),
        link_label: "Đánh giá việc giải quyết hồ sơ".into(),
        fields,
        list_title: None,
        list: vec![],
        paragraphs: vec![
            "Quét mã QR để đánh giá mức độ hài lòng với việc giải quyết hồ sơ này (không cần tài khoản, đánh giá \
             một lần). Ý kiến của ông/bà giúp cơ quan phục vụ tốt hơn."
                .into(),
        ],
        signature: Some(("NGƯỜI TRẢ KẾT QUẢ".into(), officer_name(&event.actor))),
        footer: state.site.name.clone(),
    }))
}

/// Render and send a slip.
pub(crate) async fn send(
    state: &AppState,
    dossier: &Dossier,
    number: &str,
) -> Result<Response, AppError> {
    let Some(doc) = build(state, dossier, number).await? else {
        return Ok(not_found().await);
    };
    pdf_response(doc, &format!("phieu-{number}-{}.pdf", dossier.code)).await
}

/// A document rendered as PDF (off the async threads) and sent inline, never cached.
pub(crate) async fn pdf_response(doc: Document, file_name: &str) -> Result<Response, AppError> {
    let pdf = tokio::task::spawn_blocking(move || motcua_documents::document_pdf(&doc))
        .await
        .map_err(|e| AppError::Files(e.to_string()))?
        .map_err(|e| AppError::Files(e.to_string()))?;
    let mut response = Response::new(Body::from(pdf));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}

/// The slips that exist for a dossier: (number, label). The control sheet exists once a step was opened.
pub(crate) fn available(
    events: &[HistoryEvent],
    has_steps: bool,
) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    for (status, number, label) in [
        (
            DossierStatus::Received,
            "01",
            "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
        ),
        (
            DossierStatus::SupplementRequested,
            "02",
            "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
        ),
        (DossierStatus::Refused, "03", "Phiếu từ chối tiếp nhận"),
    ] {
        if events.iter().any(|e| e.to == status) {
            out.push((number, label));
        }
    }
    if events.iter().any(is_apology) {
        out.push(("04", "Văn bản xin lỗi và hẹn lại ngày trả kết quả"));
    }
    if events.iter().any(|e| e.to == DossierStatus::Stopped) {
        out.push(("05", "Thông báo dừng giải quyết hồ sơ"));
    }
    if has_steps {
        out.push(("06", "Phiếu kiểm soát quá trình giải quyết"));
    }
    if events
        .iter()
        .any(|e| e.to == DossierStatus::ResultDelivered)
    {
        out.push((HAND_OVER, "Phiếu trả kết quả, có mã QR để đánh giá"));
    }
    out
}

/// `/can-bo/ho-so/{code}/phieu/{so}` (officers) and `/ho-so/{code}/phieu/{so}` (the applicant) check access in
/// their own modules and call this.
pub(crate) async fn for_citizen(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((code, number)): Path<(String, String)>,
) -> Result<Response, AppError> {
    match crate::dossiers::owned_dossier(&state, &viewer, &code).await? {
        // the control sheet is the office's own record
        Ok(_) if number == "06" => Ok(not_found().await),
        Ok(dossier) => send(&state, &dossier, &number).await,
        Err(r) => Ok(r),
    }
}

pub(crate) async fn for_officer(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((code, number)): Path<(String, String)>,
) -> Result<Response, AppError> {
    match crate::dossiers::office_dossier(&state, &viewer, &code).await? {
        Ok(dossier) => send(&state, &dossier, &number).await,
        Err(r) => Ok(r),
    }
}
