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
    Account, AgencyCode, Channel,
    form::{self},
    policy::Action,
    submission::OutgoingEmail,
    vntime,
};
use time::OffsetDateTime;

pub(crate) struct Offer {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "counter_intake.html")]
pub(crate) struct IntakePage {
    layout: Layout,
    offers: Vec<Offer>,
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
    let (Some((agency, code, case_key)), Some(procedure), Some(case), Ok(applicant), true) = (
        target.clone(),
        procedure,
        case,
        applicant,
        errors.is_empty(),
    ) else {
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            IntakePage {
                layout,
                offers: intake_offers(&state, &officer, &f.thu_tuc),
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
        answers.insert("ghi_chu_tiep_nhan".into(), vec![note]);
    }
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
    Ok(Redirect::to(&format!("/can-bo/ho-so/{}", dossier.code)).into_response())
}
