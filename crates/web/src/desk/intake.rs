//! The counter: a walk-in or posted application entered by the officer and received on the spot.

use crate::desk::page::limit_of;
use crate::desk::queue::reception_agencies;
use crate::dossiers::calendar;
use crate::input::{Form, InputRejection};
use crate::{AppError, AppState, guard, layout::Layout, viewer::Viewer};
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use motcua_domain::{
    Account, AgencyCode, Channel, ProcedureCase,
    form::{self},
    policy::Action,
    submission::{COUNTER_NOTE, ChecklistRow, OutgoingEmail, RECEIVED_COMPONENTS, Received},
    vntime,
};
use time::OffsetDateTime;

pub(crate) struct Offer {
    value: String,
    label: String,
    selected: bool,
}

/// One component of the chosen case on the counter's checklist, as typed (or as the catalogue expects it).
pub(crate) struct ChecklistItem {
    index: usize,
    name: String,
    required: bool,
    ticked: bool,
    originals: String,
    certified: String,
    copies: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "counter_intake.html")]
pub(crate) struct IntakePage {
    layout: Layout,
    offers: Vec<Offer>,
    /// The offer whose components the checklist shows (empty: none chosen yet).
    shown_for: String,
    checklist: Vec<ChecklistItem>,
    by_post: bool,
    name: String,
    personal_id: String,
    phone: String,
    email: String,
    note: String,
    errors: Vec<(String, String)>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct IntakeForm {
    #[serde(default)]
    thu_tuc: String,
    #[serde(default)]
    kenh: String,
    #[serde(default)]
    ho_ten: String,
    #[serde(default)]
    so_dinh_danh: String,
    #[serde(default)]
    dien_thoai: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    ghi_chu: String,
    /// `chon`: only show the checklist of the chosen procedure (nothing is received).
    #[serde(default)]
    buoc: String,
    /// The offer whose checklist the officer filled in.
    #[serde(default)]
    thu_tuc_da_chon: String,
    /// The checklist: `tp_{i}` (ticked), `tp_{i}_chinh`, `tp_{i}_chung_thuc`, `tp_{i}_sao`.
    #[serde(flatten)]
    checklist: std::collections::HashMap<String, String>,
}

impl IntakeForm {
    fn checklist_row(&self, i: usize) -> ChecklistRow {
        let get = |suffix: &str| {
            self.checklist
                .get(&format!("tp_{i}{suffix}"))
                .cloned()
                .unwrap_or_default()
        };
        ChecklistRow {
            ticked: !get("").is_empty(),
            originals: get("_chinh"),
            certified: get("_chung_thuc"),
            copies: get("_sao"),
        }
    }
}

/// The chosen offer's case, when it is one the officer may receive and still published.
fn offered_case(state: &AppState, officer: &Account, chosen: &str) -> Option<ProcedureCase> {
    let agencies = reception_agencies(state, officer);
    let [agency, procedure, case] = chosen.split('|').collect::<Vec<_>>()[..] else {
        return None;
    };
    let agency = AgencyCode::parse(agency).ok()?;
    if !agencies.contains(&agency) {
        return None;
    }
    let view = state.catalogue.view();
    let entry = view
        .entries
        .iter()
        .find(|e| e.procedure.published && e.procedure.code.as_str() == procedure)?;
    entry
        .procedure
        .cases
        .iter()
        .find(|c| c.key.as_str() == case)
        .cloned()
}

/// The checklist of `case`: as typed when the form came back for this same case, else what the catalogue asks
/// for (nothing ticked: the officer ticks what was handed over).
fn checklist(case: Option<&ProcedureCase>, typed: Option<&IntakeForm>) -> Vec<ChecklistItem> {
    let Some(case) = case else {
        return Vec::new();
    };
    case.components
        .iter()
        .enumerate()
        .map(|(index, c)| {
            let row = typed.map(|f| f.checklist_row(index));
            ChecklistItem {
                index,
                name: c.name.to_string(),
                required: c.required,
                ticked: row.as_ref().is_some_and(|r| r.ticked),
                originals: row.as_ref().map_or_else(
                    || c.originals.max(u8::from(c.copies == 0)).to_string(),
                    |r| r.originals.clone(),
                ),
                certified: row
                    .as_ref()
                    .map_or_else(|| "0".into(), |r| r.certified.clone()),
                copies: row
                    .as_ref()
                    .map_or_else(|| c.copies.to_string(), |r| r.copies.clone()),
            }
        })
        .collect()
}

/// Every (agency, procedure, case) the officer can receive: `agency|procedure|case`.
fn intake_offers(state: &AppState, officer: &Account, chosen: &str) -> Vec<Offer> {
    let agencies = reception_agencies(state, officer);
    let view = state.catalogue.view();
    let mut offers = Vec::new();
    for entry in view.entries.iter().filter(|e| e.procedure.published) {
        for agency in entry
            .procedure
            .agencies
            .iter()
            .filter(|a| agencies.contains(a))
        {
            for case in &entry.procedure.cases {
                let value = format!("{agency}|{}|{}", entry.procedure.code, case.key);
                let mut label = format!("{} — {}", entry.procedure.name, case.name);
                if agencies.len() > 1 {
                    label = format!("{label} ({})", view.agency_name(agency));
                }
                offers.push(Offer {
                    selected: value == chosen,
                    value,
                    label,
                });
            }
        }
    }
    offers.sort_by(|a, b| a.label.cmp(&b.label));
    offers
}

/// The officer at the counter, if they may receive dossiers somewhere; otherwise the login redirect or 403 —
/// decided before anything typed is looked at.
async fn counter_officer(
    state: &AppState,
    viewer: &Viewer,
) -> Result<Result<Account, Response>, AppError> {
    let path = "/can-bo/tiep-nhan/truc-tiep";
    let officer = match guard::require(state, viewer, Action::ViewOwnAccount, path).await {
        Ok(a) => a,
        Err(r) => return Ok(Err(r)),
    };
    if reception_agencies(state, &officer).is_empty() {
        // logged in, but no reception right anywhere: refused and audited
        return Ok(Err(guard::refuse(state, viewer, path).await));
    }
    Ok(Ok(officer))
}

/// The counter: a walk-in or posted application entered by the officer and received on the spot.
pub(crate) async fn intake_page(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
) -> Result<Response, AppError> {
    let officer = match counter_officer(&state, &viewer).await? {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let offers = intake_offers(&state, &officer, "");
    Ok(IntakePage {
        layout,
        offers,
        shown_for: String::new(),
        checklist: Vec::new(),
        by_post: false,
        name: String::new(),
        personal_id: String::new(),
        phone: String::new(),
        email: String::new(),
        note: String::new(),
        errors: vec![],
    }
    .into_response())
}

pub(crate) async fn intake(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    form: Result<Form<IntakeForm>, InputRejection>,
) -> Result<Response, AppError> {
    let path = "/can-bo/tiep-nhan/truc-tiep";
    // the role first: someone who may not receive learns nothing from how their input is judged
    let officer = match counter_officer(&state, &viewer).await? {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let f = form?.0;
    let clean = |s: &str| motcua_domain::text::normalize(s);
    let (name, id_text, phone_text, email_text, note) = (
        clean(&f.ho_ten),
        clean(&f.so_dinh_danh),
        clean(&f.dien_thoai),
        clean(&f.email),
        clean(&f.ghi_chu),
    );
    let mut errors: Vec<(String, String)> = Vec::new();
    let target: Option<(
        AgencyCode,
        motcua_domain::ProcedureCode,
        motcua_domain::CaseKey,
    )> = {
        let parts: Vec<&str> = f.thu_tuc.split('|').collect();
        match parts.as_slice() {
            [a, p, c] => match (
                AgencyCode::parse(a),
                motcua_domain::ProcedureCode::parse(p),
                motcua_domain::CaseKey::parse(c),
            ) {
                (Ok(a), Ok(p), Ok(c)) => Some((a, p, c)),
                _ => None,
            },
            _ => None,
        }
    };
    if target.is_none() {
        errors.push(("thu_tuc".into(), "Chọn thủ tục và trường hợp".into()));
    }
    let applicant = motcua_domain::NonEmptyText::parse_named(&name, "Họ và tên người nộp");
    if applicant.is_err() {
        errors.push(("ho_ten".into(), "Nhập họ và tên người nộp hồ sơ".into()));
    }
    let personal_id = (!id_text.is_empty()).then(|| motcua_domain::PersonalId::parse(&id_text));
    if let Some(Err(e)) = &personal_id {
        errors.push(("so_dinh_danh".into(), e.to_string()));
    }
    let phone = (!phone_text.is_empty()).then(|| motcua_domain::Phone::parse(&phone_text));
    if let Some(Err(e)) = &phone {
        errors.push(("dien_thoai".into(), e.to_string()));
    }
    let email = (!email_text.is_empty()).then(|| motcua_domain::Email::parse(&email_text));
    if let Some(Err(e)) = &email {
        errors.push(("email".into(), e.to_string()));
    }
    if personal_id.is_none() && phone.is_none() {
        errors.push((
            "dien_thoai".into(),
            "Nhập số điện thoại hoặc số định danh cá nhân để người nộp tra cứu được hồ sơ".into(),
        ));
    }
    let by_post = f.kenh == "buu_chinh";
    // the checklist belongs to the procedure it was shown for: another choice shows its own, to be filled in
    let chosen_case = offered_case(&state, &officer, &f.thu_tuc);
    let choosing = f.buoc == "chon" || f.thu_tuc != f.thu_tuc_da_chon;
    if choosing {
        errors.clear();
        if f.buoc != "chon" && chosen_case.is_some() {
            errors.push((
                "thu_tuc".into(),
                if f.thu_tuc_da_chon.is_empty() {
                    "Đánh dấu các thành phần hồ sơ đã nhận của thủ tục này rồi bấm “Tiếp nhận hồ sơ”"
                } else {
                    "Đã đổi thủ tục: đánh dấu các thành phần hồ sơ đã nhận của thủ tục này rồi tiếp nhận"
                }
                .into(),
            ));
        } else if chosen_case.is_none() {
            errors.push(("thu_tuc".into(), "Chọn thủ tục và trường hợp".into()));
        }
    }
    // the agency must be one where this officer receives
    if let Some((agency, _, _)) = &target
        && !reception_agencies(&state, &officer).contains(agency)
        && let Err(r) = guard::require(&state, &viewer, Action::ReceiveDossiers(agency), path).await
    {
        return Ok(r);
    }
    // an unpublished procedure takes no new dossiers, at the counter either
    let procedure = match &target {
        Some((_, code, _)) => state
            .store
            .catalogue
            .get_procedure(code)
            .await?
            .filter(|p| p.procedure.published),
        None => None,
    };
    let case = match (&procedure, &target) {
        (Some(p), Some((_, _, key))) => p.procedure.cases.iter().find(|c| &c.key == key).cloned(),
        _ => None,
    };
    if target.is_some() && case.is_none() {
        errors.push((
            "thu_tuc".into(),
            "Thủ tục hoặc trường hợp không còn trong danh mục".into(),
        ));
    }
    // only an agency that carries the procedure out receives it
    if let (Some(p), Some((agency, _, _))) = (&procedure, &target)
        && !p.procedure.agencies.contains(agency)
    {
        errors.push((
            "thu_tuc".into(),
            "Cơ quan này không thực hiện thủ tục đã chọn".into(),
        ));
    }
    // what was received, checked against the very case the dossier records
    let received = match (&case, choosing) {
        (Some(case), false) => {
            let rows: Vec<ChecklistRow> = (0..case.components.len())
                .map(|i| f.checklist_row(i))
                .collect();
            match Received::from_checklist(&case.components, &rows) {
                Ok(r) => r,
                Err(problems) => {
                    for (i, suffix, message) in problems {
                        let id = if suffix.is_empty() {
                            format!("tp_{i}")
                        } else {
                            format!("tp_{i}_{suffix}")
                        };
                        errors.push((id, message));
                    }
                    Vec::new()
                }
            }
        }
        _ => Vec::new(),
    };
    let (Some((agency, code, case_key)), Some(procedure), Some(case), Ok(applicant), true) = (
        target.clone(),
        procedure,
        case,
        applicant,
        errors.is_empty() && !choosing,
    ) else {
        let status = if choosing && f.buoc == "chon" && chosen_case.is_some() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        // the ticks stay while the procedure stays (Enter in a field shows the same checklist again)
        let keep_typed = f.thu_tuc == f.thu_tuc_da_chon;
        return Ok((
            status,
            IntakePage {
                layout,
                offers: intake_offers(&state, &officer, &f.thu_tuc),
                shown_for: if chosen_case.is_some() {
                    f.thu_tuc.clone()
                } else {
                    String::new()
                },
                checklist: checklist(chosen_case.as_ref(), keep_typed.then_some(&f)),
                by_post,
                name,
                personal_id: id_text,
                phone: phone_text,
                email: email_text,
                note,
                errors,
            },
        )
            .into_response());
    };
    let personal_id = personal_id.and_then(Result::ok);
    let phone = phone.and_then(Result::ok);
    let email = email.and_then(Result::ok);
    // link the citizen's account when one has this identity number or phone
    let mut account = None;
    for login in [
        personal_id
            .clone()
            .map(motcua_domain::LoginName::PersonalId),
        phone.clone().map(motcua_domain::LoginName::Phone),
    ]
    .into_iter()
    .flatten()
    {
        if let Some(a) = state.store.accounts.find_by_login(&login).await?
            && a.kind == motcua_domain::AccountKind::Citizen
        {
            account = Some(a.id);
            break;
        }
    }
    let channel = if by_post {
        Channel::Post
    } else {
        Channel::InPerson
    };
    let now = OffsetDateTime::now_utc();
    let due = limit_of(&case, channel).map(|(l, cutoff, _)| (l, cutoff));
    let due_at = match due {
        Some((l, cutoff)) => Some(calendar(&state).await?.due(now, l, cutoff)),
        None => None,
    };
    let mut answers = form::Answers::new();
    answers.insert(form::APPLICANT_NAME.into(), vec![applicant.to_string()]);
    if let Some(p) = &personal_id {
        answers.insert(form::APPLICANT_ID.into(), vec![p.as_str().to_string()]);
    }
    if let Some(p) = &phone {
        answers.insert(form::APPLICANT_PHONE.into(), vec![p.as_str().to_string()]);
    }
    if let Some(e) = &email {
        answers.insert(form::APPLICANT_EMAIL.into(), vec![e.as_str().to_string()]);
    }
    if !note.is_empty() {
        answers.insert(COUNTER_NOTE.into(), vec![note]);
    }
    answers.insert(
        RECEIVED_COMPONENTS.into(),
        received.iter().map(Received::encode).collect(),
    );
    let tracking = format!(
        "{}/tra-cuu-ho-so?ma={{code}}",
        state.site.public_url.trim_end_matches('/')
    );
    let due_text = due_at.map(vntime::format_datetime).unwrap_or_default();
    let emails = email
        .map(|e| {
            vec![OutgoingEmail {
                to: e.as_str().to_string(),
                subject: "Hồ sơ {code} đã được tiếp nhận".into(),
                body: format!(
                    "Hồ sơ {{code}} ({}) đã được tiếp nhận.\nNgày hẹn trả kết quả: {due_text}.\nTra cứu hồ sơ: {tracking}\n",
                    procedure.procedure.name
                ),
            }]
        })
        .unwrap_or_default();
    let dossier = state
        .store
        .submissions
        .intake(&motcua_domain::submission::Intake {
            dossier: motcua_domain::DossierId::new(),
            agency,
            procedure: code,
            procedure_version: procedure.version,
            case: case_key,
            channel,
            account,
            applicant_name: applicant,
            applicant_phone: phone.map(|p| p.as_str().to_string()),
            applicant_personal_id: personal_id.map(|p| p.as_str().to_string()),
            answers,
            officer: format!("{} ({})", officer.full_name, officer.id),
            at: now,
            due_at,
            emails,
        })
        .await?;
    state.outbox_wake.notify_one();
    Ok(Redirect::to(&crate::desk::page::after_action(&dossier.code)).into_response())
}
