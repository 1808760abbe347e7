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

use motcua_documents::{Column, Document, Table};
use motcua_domain::{
    Channel, Dossier, DossierStatus, HistoryEvent, form, submission::Received, vntime,
};

use crate::{AppError, AppState, error::not_found, viewer::Viewer};

/// Versions of the slip layouts, each with the first day it is used (oldest first). A slip prints with the version
/// in force when the event that issued it happened, so an old dossier re-prints as it was issued; a new layout
/// adds a row here and its branch where the layouts differ.
///
/// Version 2 prints slips 01, 06 and 07 as the forms of Circular 01/2018 and 03/2025 lay them out: slip 01 with
/// "Số:", place and date, the applicant's contact, the components table (originals, certified copies, copies),
/// the legal time limit and both signatures; slip 06 as the hand-over table; register 07 as the landscape table.
const TEMPLATE_VERSIONS: &[(u32, time::Date)] = &[
    (1, time::macros::date!(2024 - 01 - 01)),
    (2, time::macros::date!(2026 - 11 - 29)),
];

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
    if status == DossierStatus::Received && template_version(event.at) >= 2 {
        return receipt_v2(state, dossier, event).await.map(Some);
    }
    let procedure = state
        .store
        .catalogue
        .get_procedure_version(&dossier.procedure, dossier.procedure_version)
        .await?;
    let case = crate::dossiers::case_of(&procedure, dossier);
    let case = case.as_ref();
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
        tracking_url: tracking_url(state, dossier),
        link_label: String::new(),
        fields,
        list_title,
        list,
        paragraphs,
        signatures: if officer.is_empty() {
            vec![]
        } else {
            vec![("NGƯỜI TIẾP NHẬN, XỬ LÝ".to_string(), officer)]
        },
        footer: state.site.name.clone(),
        ..Default::default()
    }))
}

/// The public tracking page of a dossier, as printed under its QR code.
pub(crate) fn tracking_url(state: &AppState, dossier: &Dossier) -> String {
    format!(
        "{}/tra-cuu-ho-so?ma={}",
        state.site.public_url.trim_end_matches('/'),
        dossier.code
    )
}

/// A count as the slips print it: `01`, or `—` for none.
fn count(n: usize) -> String {
    if n == 0 {
        "—".into()
    } else {
        format!("{n:02}")
    }
}

/// Slip 01, version 2 (Circular 01/2018 → 03/2025, Mẫu số 01): who handed it in and how to reach them, what was
/// asked, the components table, the legal time limit, when it was received and when the result is due, where
/// to collect it, and the signatures of the applicant and the receiving officer.
async fn receipt_v2(
    state: &AppState,
    dossier: &Dossier,
    event: &HistoryEvent,
) -> Result<Document, AppError> {
    let procedure = state
        .store
        .catalogue
        .get_procedure_version(&dossier.procedure, dossier.procedure_version)
        .await?;
    let case = crate::dossiers::case_of(&procedure, dossier);
    let case = case.as_ref();
    let details = state.store.submissions.online_details(dossier.id).await?;
    let answers = details
        .as_ref()
        .map(|d| d.answers.clone())
        .unwrap_or_default();
    let files = state
        .store
        .submissions
        .uploads_for_dossier(dossier.id)
        .await?;
    let view = state.catalogue.view();
    let agency = view.agency(dossier.code.agency());
    let answer = |key: &str| form::first(&answers, key).to_string();
    let address = ["dia_chi", "xa", "tinh"]
        .iter()
        .map(|part| answer(&format!("{}.{part}", form::APPLICANT_ADDRESS)))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let phone = details
        .as_ref()
        .and_then(|d| d.applicant_phone.clone())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| answer(form::APPLICANT_PHONE));
    let or_dash = |s: String| if s.is_empty() { "—".to_string() } else { s };
    let mut fields = vec![
        (
            "Tiếp nhận hồ sơ của:".to_string(),
            dossier.applicant_name.to_string(),
        ),
        ("Địa chỉ:".into(), or_dash(address)),
        ("Số điện thoại:".into(), or_dash(phone)),
        (
            "Thư điện tử:".into(),
            or_dash(answer(form::APPLICANT_EMAIL)),
        ),
        (
            "Nội dung yêu cầu giải quyết:".into(),
            match (&procedure, case) {
                (Some(p), Some(c)) => format!("{} — {}", p.name, c.name),
                (Some(p), None) => p.name.to_string(),
                _ => String::new(),
            },
        ),
        ("Kênh nộp:".into(), dossier.channel.label_vi().to_string()),
        (
            "Số lượng hồ sơ:".into(),
            format!(
                "{:02} bộ",
                procedure.as_ref().map_or(1, |p| p.number_of_sets)
            ),
        ),
        (
            "Thời gian giải quyết theo quy định:".into(),
            case.and_then(|c| c.time_limit_for(dossier.channel))
                .map(|t| t.limit.to_string())
                .unwrap_or_else(|| "—".into()),
        ),
        (
            "Thời gian nhận hồ sơ:".into(),
            vntime::format_in_words(event.at),
        ),
        (
            "Thời gian trả kết quả:".into(),
            event
                .due_at
                .map(vntime::format_in_words)
                .unwrap_or_else(|| "—".into()),
        ),
    ];
    if let Some(address) = agency.and_then(|a| a.address.clone()) {
        fields.push(("Nơi trả kết quả:".into(), address));
    }
    // what was handed over: at the counter, the checklist; online, the files sent for each component (the
    // declaration the e-form produced counts as one)
    let received = Received::in_answers(&answers);
    let mut rows = Vec::new();
    if let Some(case) = case {
        for (i, component) in case.components.iter().enumerate() {
            let n_files = files
                .iter()
                .filter(|f| usize::from(f.component) == i)
                .count()
                + usize::from(component.from_form && dossier.channel == Channel::Online);
            let paper = received.iter().find(|r| r.component == i);
            if paper.is_none() && n_files == 0 {
                continue;
            }
            let (originals, certified, copies) = paper.map_or((0, 0, 0), |r| {
                (
                    usize::from(r.originals),
                    usize::from(r.certified),
                    usize::from(r.copies),
                )
            });
            rows.push(vec![
                (rows.len() + 1).to_string(),
                component.name.to_string(),
                count(originals),
                count(certified),
                count(copies),
                count(n_files),
            ]);
        }
    }
    if rows.is_empty() {
        rows.push(vec![
            String::new(),
            "Không có giấy tờ kèm theo".into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    let officer = officer_name(&event.actor);
    Ok(Document {
        agency_name: view.agency_name(dossier.code.agency()).to_string(),
        form_number: Some("Mẫu số 01 (phiên bản 2)".into()),
        title: "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ".into(),
        code: dossier.code.to_string(),
        tracking_url: tracking_url(state, dossier),
        fields,
        table: Some(Table {
            title: Some("Thành phần hồ sơ đã nhận:".into()),
            columns: vec![
                Column::centred("TT", 0.5),
                Column::new("Tên giấy tờ", 4.5),
                Column::centred("Bản chính", 1.1),
                Column::centred("Bản sao chứng thực", 1.3),
                Column::centred("Bản sao", 1.0),
                Column::centred("Tệp điện tử", 1.1),
            ],
            rows,
        }),
        paragraphs: vec![
            "Cơ quan gửi tin nhắn, thư điện tử khi hồ sơ có kết quả hoặc cần bổ sung. Khi đến nhận kết quả, mang theo giấy này hoặc mã hồ sơ. Nếu kết quả bị chậm, cơ quan gửi văn bản xin lỗi và hẹn lại ngày trả kết quả.".into(),
        ],
        signatures: vec![
            ("NGƯỜI NỘP HỒ SƠ".into(), dossier.applicant_name.to_string()),
            ("NGƯỜI TIẾP NHẬN HỒ SƠ".into(), officer),
        ],
        footer: state.site.name.clone(),
        number: Some(format!("Số: {}/TNHS", dossier.code)),
        place_date: Some(vntime::place_and_date(
            state.site.place.as_deref(),
            vntime::vn_date(event.at),
        )),
        ..Default::default()
    })
}

/// An apology event: the status stays, the due time moves.
pub(crate) fn is_apology(e: &HistoryEvent) -> bool {
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
        tracking_url: tracking_url(state, dossier),
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
        signatures: if officer.is_empty() {
            vec![]
        } else {
            vec![("THỦ TRƯỞNG ĐƠN VỊ".to_string(), officer)]
        },
        footer: state.site.name.clone(),
        ..Default::default()
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
    let version = template_version(steps[0].started_at);
    let views = crate::steps::step_views(state, &cal, &steps);
    let fields = vec![
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
    ];
    if version >= 2 {
        // Mẫu số 06 as the circular prints it: per hand-over who gave and who received it, when, the result
        // against the step's deadline, and room for both signatures
        let rows = views
            .iter()
            .enumerate()
            .map(|(i, s)| {
                vec![
                    (i + 1).to_string(),
                    format!(
                        "Giao: {}\nNhận: {} — {} ({}, {})",
                        s.given_by, s.holder, s.name, s.agency, s.role
                    ),
                    format!(
                        "{}{}",
                        s.started,
                        if s.ended.is_empty() {
                            String::new()
                        } else {
                            format!(" — xong {}", s.ended)
                        }
                    ),
                    format!(
                        "{}{}",
                        s.tag
                            .map(|(_, t)| t.to_string())
                            .unwrap_or_else(|| "Đang xử lý".into()),
                        format_args!(" (hạn {})", s.due)
                    ),
                    String::new(),
                    String::new(),
                    s.outcome.clone(),
                ]
            })
            .collect();
        return Ok(Some(Document {
            agency_name: view.agency_name(dossier.code.agency()).to_string(),
            form_number: Some("Mẫu số 06 (phiên bản 2)".into()),
            title: "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ".into(),
            code: dossier.code.to_string(),
            tracking_url: tracking_url(state, dossier),
            fields,
            table: Some(Table {
                title: Some("Quá trình giao, nhận hồ sơ:".into()),
                columns: vec![
                    Column::centred("TT", 0.4),
                    Column::new("Giao, nhận hồ sơ", 3.2),
                    Column::centred("Thời gian giao, nhận", 1.6),
                    Column::centred("Kết quả (trước hạn / đúng hạn / quá hạn)", 1.6),
                    Column::centred("Người giao ký", 1.1),
                    Column::centred("Người nhận ký", 1.1),
                    Column::new("Ghi chú", 1.6),
                ],
                rows,
            }),
            footer: state.site.name.clone(),
            place_date: Some(vntime::place_and_date(
                state.site.place.as_deref(),
                vntime::vn_date(steps[0].started_at),
            )),
            ..Default::default()
        }));
    }
    let list = views
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
        form_number: Some(format!("Mẫu số 06 (phiên bản {version})")),
        title: "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ".into(),
        code: dossier.code.to_string(),
        tracking_url: tracking_url(state, dossier),
        fields,
        list_title: Some("Quá trình giao nhận, xử lý:".into()),
        list,
        footer: state.site.name.clone(),
        ..Default::default()
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
        signatures: vec![("NGƯỜI TRẢ KẾT QUẢ".into(), officer_name(&event.actor))],
        footer: state.site.name.clone(),
        ..Default::default()
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
