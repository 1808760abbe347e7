//! Checking every answer and file of a draft, submitting it once, and deleting a draft.

use crate::answers::{AnswerSection, answer_sections};
use crate::citizen::apply::{Loaded, draft_path, loaded, missing_components};
use crate::citizen::attachments::{ComponentFiles, file_views};
use crate::input::Form;
use crate::{AppError, AppState, layout::Layout, viewer::Viewer};
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use motcua_domain::{
    DossierId, NonEmptyText,
    form::{self, Answers, FormDefinition},
    submission::{OutgoingEmail, Submission},
};
use object_store::ObjectStoreExt;
use time::OffsetDateTime;

#[derive(Template, WebTemplate)]
#[template(path = "draft_check.html")]
pub(crate) struct CheckPage {
    layout: Layout,
    procedure_name: String,
    case_name: String,
    agency_name: String,
    base: String,
    sections: Vec<AnswerSection>,
    components: Vec<ComponentFiles>,
    errors: Vec<(String, String)>,
    fees: Vec<(String, String)>,
    /// The total paid online right after submitting (level 4, fees due at submission).
    pay_now: Option<String>,
    declared: bool,
    /// Delivery of the result by post may be asked for here (level 4), as typed.
    offers_post: bool,
    pub(crate) by_post: bool,
    pub(crate) post: crate::postal::AddressForm,
    pub(crate) post_errors: Vec<(String, String)>,
    provinces: &'static [&'static str],
}

/// The answers as they will be kept: pages that validate show their normalised values (dates as dd/mm/yyyy,
/// numbers without spaces), others what was typed.
pub(crate) fn as_shown(form: &FormDefinition, raw: &Answers) -> Answers {
    let mut shown = raw.clone();
    for (i, page) in form.pages.iter().enumerate() {
        if let Ok(clean) = form.validate_page(i, raw, crate::apply::today()) {
            for f in &page.fields {
                shown.retain(|k, _| k != &f.key && !k.starts_with(&format!("{}.", f.key)));
            }
            shown.extend(clean);
        }
    }
    shown
}

pub(crate) async fn render_check(
    state: &AppState,
    layout: Layout,
    l: &Loaded,
    errors: Vec<(String, String)>,
    declared: bool,
) -> Result<CheckPage, AppError> {
    let files = state
        .store
        .submissions
        .uploads_for_draft(l.draft.id)
        .await?;
    let base = draft_path(l.draft.id);
    // fees per copy count the copies as checked (a hidden or unfinished answer counts none)
    let checked = l
        .form
        .validate(&l.draft.answers, crate::apply::today())
        .unwrap_or_default();
    Ok(CheckPage {
        layout,
        procedure_name: l.procedure.name.to_string(),
        case_name: l.case.name.to_string(),
        agency_name: state
            .catalogue
            .view()
            .agency_name(&l.draft.agency)
            .to_string(),
        sections: answer_sections(&l.form, &as_shown(&l.form, &l.draft.answers), Some(&base)),
        components: l
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
                error: None,
            })
            .collect(),
        base,
        errors,
        fees: l
            .case
            .fees
            .iter()
            .map(|f| (f.description.to_string(), f.amount_text_for(&checked, true)))
            .collect(),
        pay_now: level_4(state, &l.draft)
            .then(|| l.case.due_at_submission(&checked))
            .flatten()
            .filter(|(total, _)| *total > motcua_domain::Vnd::ZERO)
            .map(|(total, _)| total.to_string()),
        declared,
        offers_post: level_4(state, &l.draft),
        by_post: false,
        post: Default::default(),
        post_errors: vec![],
        provinces: motcua_domain::form::provinces_in_order(),
    })
}

/// Whether the draft's case is offered at level 4 by its agency (pay online, result online or by post).
fn level_4(state: &AppState, draft: &motcua_domain::submission::Draft) -> bool {
    state
        .catalogue
        .view()
        .level_of(draft.procedure.as_str(), &draft.case, &draft.agency)
        == Some(motcua_domain::OnlineServiceLevel::Level4)
}

pub(crate) async fn check_page(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let path = format!("/ho-so-nhap/{id}/kiem-tra");
    let l = loaded!(state, viewer, id, path);
    Ok(render_check(&state, layout, &l, vec![], false)
        .await?
        .into_response())
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct SubmitForm {
    #[serde(default)]
    cam_doan: Option<String>,
    /// `co`: the result by post, to the address below.
    #[serde(default)]
    buu_chinh: Option<String>,
    #[serde(default)]
    nguoi_nhan: String,
    #[serde(default)]
    dien_thoai_nhan: String,
    #[serde(default)]
    tinh_thanh: String,
    #[serde(default)]
    xa_phuong: String,
    #[serde(default)]
    dia_chi: String,
}

/// Submit. Validates everything again; a retry (double click, lost response) lands on the same dossier.
pub(crate) async fn submit(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(posted): Form<SubmitForm>,
) -> Result<Response, AppError> {
    let path = format!("/ho-so-nhap/{id}/kiem-tra");
    // a draft already submitted redirects to its dossier inside `load`: that is the idempotent answer
    let l = loaded!(state, viewer, id, path);
    let base = draft_path(l.draft.id);
    let mut errors: Vec<(String, String)> = Vec::new();
    let answers = match l.form.validate(&l.draft.answers, crate::apply::today()) {
        Ok(a) => Some(a),
        Err(list) => {
            for (page, e) in list {
                errors.push((
                    format!("{base}/trang/{}#{}", page + 1, e.key.replace('.', "-")),
                    e.message,
                ));
            }
            None
        }
    };
    let files = state
        .store
        .submissions
        .uploads_for_draft(l.draft.id)
        .await?;
    for i in missing_components(&l.case, &files) {
        errors.push((
            format!("{base}/giay-to#tep-{i}"),
            format!("Chưa đính kèm “{}”", l.case.components[i].name),
        ));
    }
    // the procedure may have been unpublished, or its online level lowered, since the draft was started
    if !crate::citizen::apply::accepts_online(
        &state,
        &l.draft.procedure,
        &l.draft.case,
        &l.draft.agency,
    ) {
        errors.push((
            "#cam_doan".into(),
            "Thủ tục này hiện không nhận hồ sơ trực tuyến tại cơ quan đã chọn; hồ sơ nháp vẫn được giữ, \
             hãy liên hệ cơ quan hoặc nộp trực tiếp"
                .into(),
        ));
    }
    let declared = posted.cam_doan.as_deref() == Some("co");
    if !declared {
        errors.push((
            "#cam_doan".into(),
            "Đánh dấu vào ô cam đoan để nộp hồ sơ".into(),
        ));
    }
    let by_post = posted.buu_chinh.as_deref() == Some("co") && level_4(&state, &l.draft);
    let mut post_errors = Vec::new();
    let address = if by_post {
        match motcua_domain::postal::check_address(
            &posted.nguoi_nhan,
            &posted.dien_thoai_nhan,
            &posted.tinh_thanh,
            &posted.xa_phuong,
            &posted.dia_chi,
        ) {
            Ok(a) => Some(a),
            Err(list) => {
                for (field, message) in list {
                    errors.push((format!("#{field}"), message.to_string()));
                    post_errors.push((field.to_string(), message.to_string()));
                }
                None
            }
        }
    } else {
        None
    };
    let Some(answers) = answers.filter(|_| errors.is_empty()) else {
        let mut page = render_check(&state, layout, &l, errors, declared).await?;
        page.by_post = posted.buu_chinh.as_deref() == Some("co");
        page.post = crate::postal::AddressForm {
            nguoi_nhan: posted.nguoi_nhan,
            dien_thoai_nhan: posted.dien_thoai_nhan,
            tinh_thanh: posted.tinh_thanh,
            xa_phuong: posted.xa_phuong,
            dia_chi: posted.dia_chi,
        };
        page.post_errors = post_errors;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let name = NonEmptyText::parse_named(form::first(&answers, form::APPLICANT_NAME), "Họ và tên")
        .map_err(|_| AppError::NotFound)?;
    let email = form::first(&answers, form::APPLICANT_EMAIL).to_string();
    let tracking = format!(
        "{}/ho-so/{{code}}",
        state.site.public_url.trim_end_matches('/')
    );
    let new_dossier = DossierId::new();
    let now = OffsetDateTime::now_utc();
    let charge = fee_at_submission(&state, &l.draft, &l.case, &answers, new_dossier, now);
    // what happens next: reception within a working day, or first the fee due with the submission
    let next = match &charge {
        Some(c) => format!(
            "Thủ tục này thu {} khi nộp hồ sơ ({}). Hồ sơ được chuyển đến bộ phận tiếp nhận ngay sau khi bạn thanh \
             toán tại trang theo dõi hồ sơ; cơ quan kiểm tra trong 1 ngày làm việc kể từ khi nhận được tiền.",
            c.amount, c.reason
        ),
        None => "Cơ quan sẽ kiểm tra hồ sơ trong 1 ngày làm việc và báo cho bạn kết quả tiếp nhận cùng ngày hẹn trả \
                 kết quả."
            .to_string(),
    };
    let mut emails = if email.is_empty() {
        vec![]
    } else {
        vec![OutgoingEmail {
            to: email,
            subject: "Đã nhận hồ sơ {code} trực tuyến".into(),
            body: format!(
                "Kính gửi {name},\n\n{site} đã nhận hồ sơ trực tuyến của bạn.\n\nMã hồ sơ: {{code}}\nThủ tục: {proc}\nCơ quan giải quyết: {agency}\n\n{next}\nTheo dõi hồ sơ: {tracking}\n\nThư này được gửi tự động, vui lòng không trả lời.\n",
                site = state.site.name,
                proc = l.procedure.name,
                agency = state.catalogue.view().agency_name(&l.draft.agency),
            ),
        }]
    };
    // the desk of that agency learns a dossier entered its queue now, or once the fee is paid
    // (`payments::settlement`)
    if charge.is_none() {
        emails.extend(
            crate::dossiers::tell_reception(&state, &l.draft.agency, l.procedure.name.as_str())
                .await?,
        );
    }
    let submission = Submission {
        draft: l.draft.id,
        new_dossier,
        charge,
        by_post: address,
        account: l.account.id,
        applicant_name: name,
        applicant_phone: form::first(&answers, form::APPLICANT_PHONE).to_string(),
        applicant_personal_id: form::first(&answers, form::APPLICANT_ID).to_string(),
        on_behalf: form::first(&answers, form::ON_BEHALF) == form::YES,
        answers,
        at: now,
        emails,
    };
    let dossier = state.store.submissions.submit(&submission).await?;
    state.outbox_wake.notify_one();
    Ok(Redirect::to(&format!("/ho-so/{}/da-nop", dossier.code)).into_response())
}

/// The fee a level-4 case collects with the online submission, as a charge on the new dossier: the fee lines
/// due at submission, with their descriptions as the reason. `None` when the case collects nothing then, or is not
/// offered at level 4 by this agency (at level 3 fees are paid in person).
fn fee_at_submission(
    state: &AppState,
    draft: &motcua_domain::submission::Draft,
    case: &motcua_domain::ProcedureCase,
    answers: &form::Answers,
    dossier: DossierId,
    at: OffsetDateTime,
) -> Option<motcua_domain::payment::Charge> {
    let level =
        state
            .catalogue
            .view()
            .level_of(draft.procedure.as_str(), &draft.case, &draft.agency);
    if level != Some(motcua_domain::OnlineServiceLevel::Level4) {
        return None;
    }
    // the validated answers: a copies field as normalised, none when it is hidden
    let (total, lines) = case.due_at_submission(answers)?;
    (total > motcua_domain::Vnd::ZERO).then(|| motcua_domain::payment::Charge {
        id: uuid::Uuid::now_v7(),
        dossier,
        amount: total,
        reason: lines
            .iter()
            .map(|(l, amount)| format!("{} {}: {amount}", l.kind.label_vi(), l.description))
            .collect::<Vec<_>>()
            .join("; "),
        set_by: "Biểu phí của thủ tục (thu khi nộp hồ sơ)".into(),
        set_at: at,
        paid_at: None,
        waived: None,
    })
}

pub(crate) async fn delete_draft(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let path = format!("/ho-so-nhap/{id}");
    let l = loaded!(state, viewer, id, path);
    let files = state
        .store
        .submissions
        .delete_draft(l.draft.id, l.account.id)
        .await?;
    for f in files {
        let _ = state
            .files
            .delete(&object_store::path::Path::from(f.object_key.as_str()))
            .await;
    }
    Ok(Redirect::to("/ho-so-cua-toi?da_xoa=1").into_response())
}
