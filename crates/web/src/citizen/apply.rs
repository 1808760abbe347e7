//! Online submission (level 3), the citizen's side: start → task list → form pages → attachments → check your
//! answers → declaration and submit → confirmation. Every page saves the draft; nothing typed is lost.

use crate::input::Form;
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use time::OffsetDateTime;

use motcua_domain::{
    Account, AgencyCode, CaseKey, Procedure, ProcedureCase, ProcedureCode,
    form::{self, Answers, FieldKind, FormDefinition, FormField},
    policy::Action,
    submission::{Draft, DraftId, Upload},
    vntime,
};

use crate::{AppError, AppState, error::not_found, guard, layout::Layout, viewer::Viewer};

pub(crate) fn draft_path(id: DraftId) -> String {
    format!("/ho-so-nhap/{id}")
}

/// The case of a procedure and whether it can be submitted online at an agency (level 3 or 4 today).
pub(crate) fn online_case<'a>(
    state: &AppState,
    procedure: &'a Procedure,
    case: &CaseKey,
    agency: &AgencyCode,
) -> Option<&'a ProcedureCase> {
    if !accepts_online(state, &procedure.code, case, agency) {
        return None;
    }
    procedure.cases.iter().find(|c| &c.key == case)
}

/// Whether the procedure, published, takes this case online at this agency today (level 3 or 4).
pub(crate) fn accepts_online(
    state: &AppState,
    procedure: &motcua_domain::ProcedureCode,
    case: &CaseKey,
    agency: &AgencyCode,
) -> bool {
    let view = state.catalogue.view();
    view.get(procedure.as_str()).is_some_and(|entry| {
        entry.procedure.published
            && entry.levels.iter().any(|l| {
                &l.case == case && &l.agency == agency && l.level.allows_online_submission()
            })
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "apply_start.html")]
pub(crate) struct StartPage {
    layout: Layout,
    procedure_code: String,
    procedure_name: String,
    case_name: String,
    agency_name: String,
    action: String,
    components: Vec<(String, bool)>,
    fees: Vec<(String, String)>,
    time_limit: Option<String>,
    existing: Vec<(String, String)>,
}

pub(crate) async fn start_page(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path((code, case, agency)): Path<(String, String, String)>,
) -> Result<Response, AppError> {
    let path = format!("/nop-ho-so/{code}/{case}/{agency}");
    let Some((entry_procedure, case_key, agency_code)) =
        parse_target(&state, &code, &case, &agency)
    else {
        return Ok(not_online(layout, &state, &code));
    };
    let account = match guard::require(&state, &viewer, Action::ViewOwnAccount, &path).await {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let Some(c) = online_case(&state, &entry_procedure, &case_key, &agency_code) else {
        return Ok(not_online(layout, &state, &code));
    };
    let existing = state
        .store
        .submissions
        .drafts_for(account.id)
        .await?
        .into_iter()
        .filter(|d| d.procedure == entry_procedure.code && d.case == case_key)
        .map(|d| (draft_path(d.id), vntime::format_datetime(d.updated_at)))
        .collect();
    let view = state.catalogue.view();
    Ok(StartPage {
        layout,
        procedure_code: entry_procedure.code.to_string(),
        procedure_name: entry_procedure.name.to_string(),
        case_name: c.name.to_string(),
        agency_name: view.agency_name(&agency_code).to_string(),
        action: path,
        components: c
            .components
            .iter()
            .map(|x| (x.name.to_string(), x.required))
            .collect(),
        fees: c
            .fees
            .iter()
            .map(|f| (f.description.to_string(), f.amount_text()))
            .collect(),
        time_limit: c
            .time_limit_for(motcua_domain::Channel::Online)
            .map(|t| t.limit.to_string()),
        existing,
    }
    .into_response())
}

fn parse_target(
    state: &AppState,
    code: &str,
    case: &str,
    agency: &str,
) -> Option<(Procedure, CaseKey, AgencyCode)> {
    let code = ProcedureCode::parse(code).ok()?;
    let view = state.catalogue.view();
    let entry = view.get(code.as_str())?;
    Some((
        entry.procedure.clone(),
        CaseKey::parse(case).ok()?,
        AgencyCode::parse(agency).ok()?,
    ))
}

fn not_online(layout: Layout, state: &AppState, code: &str) -> Response {
    let known = state.catalogue.view().get(code).is_some();
    let page = crate::layout::MessagePage {
        layout,
        title: "Thủ tục này chưa nhận hồ sơ trực tuyến tại cơ quan đã chọn".into(),
        message: "Thủ tục này (hoặc trường hợp, cơ quan đã chọn) chưa cung cấp dịch vụ công trực tuyến một phần hoặc toàn trình. Trang thủ tục hướng dẫn cách nộp hồ sơ trực tiếp hoặc qua bưu chính và các mẫu đơn cần dùng.".into(),
        link: if known {
            (format!("/thu-tuc/{code}"), "Xem hướng dẫn của thủ tục".into())
        } else {
            ("/thu-tuc".into(), "Tìm thủ tục khác".into())
        },
    };
    (StatusCode::NOT_FOUND, page).into_response()
}

/// Start a new draft (POST from the start page).
pub(crate) async fn start(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path((code, case, agency)): Path<(String, String, String)>,
) -> Result<Response, AppError> {
    let path = format!("/nop-ho-so/{code}/{case}/{agency}");
    let account = match guard::require(&state, &viewer, Action::ViewOwnAccount, &path).await {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let Some((procedure, case_key, agency_code)) = parse_target(&state, &code, &case, &agency)
    else {
        return Ok(not_online(layout, &state, &code));
    };
    if online_case(&state, &procedure, &case_key, &agency_code).is_none() {
        return Ok(not_online(layout, &state, &code));
    }
    let version = state
        .catalogue
        .view()
        .get(procedure.code.as_str())
        .map(|e| e.version)
        .ok_or(AppError::NotFound)?;
    let now = OffsetDateTime::now_utc();
    let draft = Draft {
        id: DraftId::new(),
        account: account.id,
        procedure: procedure.code.clone(),
        procedure_version: version,
        case: case_key,
        agency: agency_code,
        answers: prefill(&account),
        created_at: now,
        updated_at: now,
        dossier: None,
    };
    state.store.submissions.save_draft(&draft).await?;
    Ok(Redirect::to(&format!("{}/trang/1", draft_path(draft.id))).into_response())
}

/// What the account already tells us, put into the applicant page.
fn prefill(account: &Account) -> Answers {
    let mut a = Answers::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            a.insert(k.to_string(), vec![v]);
        }
    };
    put(form::APPLICANT_NAME, Some(account.full_name.to_string()));
    put(
        form::APPLICANT_ID,
        account.personal_id.as_ref().map(|p| p.as_str().to_string()),
    );
    put(
        form::APPLICANT_PHONE,
        account.phone.as_ref().map(|p| p.as_str().to_string()),
    );
    put(
        form::APPLICANT_EMAIL,
        account.email.as_ref().map(|p| p.as_str().to_string()),
    );
    put(
        &format!("{}.dia_chi", form::APPLICANT_ADDRESS),
        account.address.clone(),
    );
    a
}

/// A draft the viewer owns, with the procedure version it was opened under.
pub(crate) struct Loaded {
    pub(crate) account: Account,
    pub(crate) draft: Draft,
    pub(crate) procedure: Procedure,
    pub(crate) case: ProcedureCase,
    pub(crate) form: FormDefinition,
}

pub(crate) async fn load(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    path: &str,
) -> Result<Result<Loaded, Response>, AppError> {
    let Ok(uuid) = uuid::Uuid::parse_str(id) else {
        return Ok(Err(not_found().await));
    };
    // log in first, even to learn whether the draft exists
    if let Err(r) = guard::require(state, viewer, Action::ViewOwnAccount, path).await {
        return Ok(Err(r));
    }
    let Some(draft) = state.store.submissions.get_draft(DraftId(uuid)).await? else {
        return Ok(Err(not_found().await));
    };
    let account =
        match guard::require(state, viewer, Action::OwnDossier(&draft.account), path).await {
            Ok(a) => a,
            Err(r) => return Ok(Err(r)),
        };
    if let Some(dossier) = draft.dossier {
        // already submitted: show the dossier instead
        let to = match state.store.dossiers.get(dossier).await? {
            Some(d) => format!("/ho-so/{}", d.code),
            None => "/ho-so-cua-toi".into(),
        };
        return Ok(Err(Redirect::to(&to).into_response()));
    }
    let procedure = state
        .store
        .catalogue
        .get_procedure_version(&draft.procedure, draft.procedure_version)
        .await?
        .ok_or(AppError::NotFound)?;
    let case = procedure
        .cases
        .iter()
        .find(|c| c.key == draft.case)
        .cloned()
        .ok_or(AppError::NotFound)?;
    let form = FormDefinition::for_case(case.form.as_ref());
    Ok(Ok(Loaded {
        account,
        draft,
        procedure,
        case,
        form,
    }))
}

macro_rules! loaded {
    ($state:expr, $viewer:expr, $id:expr, $path:expr) => {
        match $crate::citizen::apply::load(&$state, &$viewer, &$id, &$path).await? {
            Ok(l) => l,
            Err(r) => return Ok(r),
        }
    };
}
pub(crate) use loaded;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    NotStarted,
    Started,
    Done,
}

impl Progress {
    fn label(self) -> &'static str {
        match self {
            Progress::NotStarted => "Chưa bắt đầu",
            Progress::Started => "Chưa xong",
            Progress::Done => "Đã xong",
        }
    }
}

pub(crate) fn page_progress(form: &FormDefinition, page: usize, answers: &Answers) -> Progress {
    let Some(p) = form.pages.get(page) else {
        return Progress::NotStarted;
    };
    let touched = p.fields.iter().any(|f| {
        answers.contains_key(&f.key)
            || answers
                .keys()
                .any(|k| k.starts_with(&format!("{}.", f.key)))
    });
    if form.validate_page(page, answers, today()).is_ok() && (touched || page > 0) {
        Progress::Done
    } else if touched {
        Progress::Started
    } else {
        Progress::NotStarted
    }
}

pub(crate) fn missing_components(case: &ProcedureCase, files: &[Upload]) -> Vec<usize> {
    case.components
        .iter()
        .enumerate()
        .filter(|(_, c)| !produced_by_form(case, c))
        .filter(|(i, c)| c.required && !files.iter().any(|f| usize::from(f.component) == *i))
        .map(|(i, _)| i)
        .collect()
}

/// Whether the case's e-form produces this paper (the declaration itself), so it is not uploaded.
pub(crate) fn produced_by_form(case: &ProcedureCase, component: &motcua_domain::Component) -> bool {
    component.from_form && case.form.is_some()
}

pub(crate) struct TaskView {
    title: String,
    href: String,
    status: &'static str,
    done: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "draft_tasks.html")]
pub(crate) struct TasksPage {
    layout: Layout,
    procedure_name: String,
    case_name: String,
    agency_name: String,
    base: String,
    tasks: Vec<TaskView>,
    all_done: bool,
    saved_at: String,
}

pub(crate) async fn tasks(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let path = format!("/ho-so-nhap/{id}");
    let l = loaded!(state, viewer, id, path);
    let files = state
        .store
        .submissions
        .uploads_for_draft(l.draft.id)
        .await?;
    let base = draft_path(l.draft.id);
    let mut tasks: Vec<TaskView> = l
        .form
        .pages
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let progress = page_progress(&l.form, i, &l.draft.answers);
            TaskView {
                title: p.title.clone(),
                href: format!("{base}/trang/{}", i + 1),
                status: progress.label(),
                done: progress == Progress::Done,
            }
        })
        .collect();
    let files_done = missing_components(&l.case, &files).is_empty();
    tasks.push(TaskView {
        title: "Giấy tờ đính kèm".into(),
        href: format!("{base}/giay-to"),
        status: if files_done {
            Progress::Done.label()
        } else if files.is_empty() {
            Progress::NotStarted.label()
        } else {
            Progress::Started.label()
        },
        done: files_done,
    });
    let all_done = tasks.iter().all(|t| t.done);
    Ok(TasksPage {
        layout,
        procedure_name: l.procedure.name.to_string(),
        case_name: l.case.name.to_string(),
        agency_name: state
            .catalogue
            .view()
            .agency_name(&l.draft.agency)
            .to_string(),
        base,
        tasks,
        all_done,
        saved_at: vntime::format_datetime(l.draft.updated_at),
    }
    .into_response())
}

/// One input as the template draws it.
pub(crate) struct FieldView {
    /// An address: the communes of its chosen province, for the commune list.
    communes: &'static [&'static str],
    key: String,
    label: String,
    help: Option<String>,
    kind: &'static str,
    required: bool,
    value: String,
    options: Vec<(String, bool)>,
    error: Option<String>,
    /// `field=value` for the script that hides conditional questions.
    show_if: Option<String>,
    show_if_text: Option<String>,
    /// Address parts: (province, commune, street) and which part has an error.
    address: (String, String, String),
    address_error_part: String,
}

/// Vietnam's date now: the day the answers are checked against (a birth cannot be after it).
pub(crate) fn today() -> time::Date {
    vntime::vn_date(time::OffsetDateTime::now_utc())
}

pub(crate) fn field_view(
    form: &FormDefinition,
    f: &FormField,
    answers: &Answers,
    errors: &[form::FieldError],
) -> FieldView {
    let error = errors
        .iter()
        .find(|e| e.key == f.key || e.key.starts_with(&format!("{}.", f.key)));
    let value = form::first(answers, &f.key).to_string();
    let all: Vec<String> = answers.get(&f.key).cloned().unwrap_or_default();
    let (kind, options): (&'static str, Vec<(String, bool)>) = match &f.kind {
        FieldKind::Text => ("text", vec![]),
        FieldKind::LongText => ("long_text", vec![]),
        FieldKind::Number { .. } => ("number", vec![]),
        FieldKind::Date { .. } => ("date", vec![]),
        FieldKind::Ethnicity => (
            "select",
            form::in_vietnamese_order(&form::ETHNICITIES)
                .into_iter()
                .map(|e| (e.to_string(), e == value))
                .collect(),
        ),
        FieldKind::Choice { options } => (
            "choice",
            options.iter().map(|o| (o.clone(), *o == value)).collect(),
        ),
        FieldKind::MultiChoice { options } => (
            "multi_choice",
            options
                .iter()
                .map(|o| (o.clone(), all.contains(o)))
                .collect(),
        ),
        FieldKind::YesNo => (
            "choice",
            vec![
                (form::YES.to_string(), value == form::YES),
                (form::NO.to_string(), value == form::NO),
            ],
        ),
        FieldKind::PersonalId => ("personal_id", vec![]),
        FieldKind::Phone => ("phone", vec![]),
        FieldKind::Email => ("email", vec![]),
        FieldKind::Address => (
            "address",
            form::provinces_in_order()
                .iter()
                .map(|p| {
                    (
                        p.to_string(),
                        form::first(answers, &format!("{}.tinh", f.key)) == *p,
                    )
                })
                .collect(),
        ),
        FieldKind::Money => ("money", vec![]),
    };
    let part = |p: &str| form::first(answers, &format!("{}.{p}", f.key)).to_string();
    FieldView {
        key: f.key.clone(),
        label: f.label.clone(),
        help: f.help.clone(),
        kind,
        required: f.required,
        value,
        options,
        error: error.map(|e| e.message.clone()),
        show_if: f
            .visible_if
            .as_ref()
            .map(|c| format!("{}={}", c.field, c.equals)),
        show_if_text: f.visible_if.as_ref().map(|c| {
            let parent = form.field(&c.field);
            let label = parent.map(|p| p.label.as_str()).unwrap_or(&c.field);
            let answer = match c.equals.as_str() {
                form::YES => "Có",
                form::NO => "Không",
                other => other,
            };
            format!("Chỉ trả lời nếu “{label}” là “{answer}”.")
        }),
        communes: form::communes_of(&part("tinh")),
        address: (part("tinh"), part("xa"), part("dia_chi")),
        address_error_part: error
            .map(|e| e.key.rsplit('.').next().unwrap_or("").to_string())
            .unwrap_or_default(),
    }
}

/// Labels of Có/Không choices.
pub(crate) fn option_label(option: &str) -> &str {
    match option {
        form::YES => "Có",
        form::NO => "Không",
        other => other,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "draft_page.html")]
pub(crate) struct FormPageView {
    layout: Layout,
    procedure_name: String,
    base: String,
    page_number: usize,
    page_count: usize,
    title: String,
    fields: Vec<FieldView>,
    errors: Vec<(String, String)>,
    saved_at: String,
}

pub(crate) fn page_index(form: &FormDefinition, page: &str) -> Option<usize> {
    page.parse::<usize>()
        .ok()
        .and_then(|n| n.checked_sub(1))
        .filter(|i| *i < form.pages.len())
}

fn render_page(
    layout: Layout,
    l: &Loaded,
    index: usize,
    errors: &[form::FieldError],
) -> FormPageView {
    let page = &l.form.pages[index];
    FormPageView {
        layout,
        procedure_name: l.procedure.name.to_string(),
        base: draft_path(l.draft.id),
        page_number: index + 1,
        page_count: l.form.pages.len(),
        title: page.title.clone(),
        // a question that depends on an answer of another page is shown only when it applies (without
        // JavaScript too); one that depends on this page is hidden by the script and ignored when it does not
        fields: page
            .fields
            .iter()
            .filter(|f| match &f.visible_if {
                Some(c) if !page.fields.iter().any(|g| g.key == c.field) => {
                    l.form.is_visible(f, &l.draft.answers)
                }
                _ => true,
            })
            .map(|f| field_view(&l.form, f, &l.draft.answers, errors))
            .collect(),
        errors: errors
            .iter()
            .map(|e| (e.key.replace('.', "-"), e.message.clone()))
            .collect(),
        saved_at: vntime::format_datetime(l.draft.updated_at),
    }
}

pub(crate) async fn form_page(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path((id, page)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let path = format!("/ho-so-nhap/{id}/trang/{page}");
    let l = loaded!(state, viewer, id, path);
    let Some(index) = page_index(&l.form, &page) else {
        return Ok(not_found().await);
    };
    Ok(render_page(layout, &l, index, &[]).into_response())
}

/// Replace this page's answers in the draft with what was posted (as typed: nothing is lost).
fn merge_page(
    form: &FormDefinition,
    index: usize,
    answers: &mut Answers,
    posted: &[(String, String)],
) {
    let Some(page) = form.pages.get(index) else {
        return;
    };
    for f in &page.fields {
        let own = |k: &str| k == f.key || k.starts_with(&format!("{}.", f.key));
        answers.retain(|k, _| !own(k));
        for (k, v) in posted {
            let allowed = match f.kind {
                FieldKind::Address => ["tinh", "xa", "dia_chi"]
                    .iter()
                    .any(|p| *k == format!("{}.{p}", f.key)),
                _ => *k == f.key,
            };
            if allowed {
                let v: String = v.chars().take(form::MAX_LONG_TEXT + 100).collect();
                answers.entry(k.clone()).or_default().push(v);
            }
        }
    }
}

pub(crate) async fn save_page(
    State(state): State<AppState>,
    layout: Layout,
    viewer: Viewer,
    Path((id, page)): Path<(String, String)>,
    Form(posted): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let path = format!("/ho-so-nhap/{id}/trang/{page}");
    let mut l = loaded!(state, viewer, id, path);
    let Some(index) = page_index(&l.form, &page) else {
        return Ok(not_found().await);
    };
    merge_page(&l.form, index, &mut l.draft.answers, &posted);
    l.draft.updated_at = OffsetDateTime::now_utc();
    state.store.submissions.save_draft(&l.draft).await?;
    let action = posted
        .iter()
        .find(|(k, _)| k == "hanh_dong")
        .map(|(_, v)| v.as_str())
        .unwrap_or("tiep");
    let base = draft_path(l.draft.id);
    if action == "luu" {
        return Ok(Redirect::to(&format!("{base}?da_luu=1")).into_response());
    }
    match l.form.validate_page(index, &l.draft.answers, today()) {
        Err(errors) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render_page(layout, &l, index, &errors),
        )
            .into_response()),
        Ok(_) if index + 1 < l.form.pages.len() => {
            Ok(Redirect::to(&format!("{base}/trang/{}", index + 2)).into_response())
        }
        Ok(_) => Ok(Redirect::to(&format!("{base}/giay-to")).into_response()),
    }
}

/// Autosave from the page script: same as saving the page, answers 204 with no validation.
pub(crate) async fn autosave(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, page)): Path<(String, String)>,
    Form(posted): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let path = format!("/ho-so-nhap/{id}/trang/{page}");
    let mut l = match load(&state, &viewer, &id, &path).await? {
        Ok(l) => l,
        // someone else's draft: refused (and audited) as any page would be
        Err(refused) if refused.status() == StatusCode::FORBIDDEN => return Ok(refused),
        // the script tells the person to log in again; what they typed stays in the browser meanwhile
        Err(_) => return Ok(StatusCode::UNAUTHORIZED.into_response()),
    };
    let Some(index) = page_index(&l.form, &page) else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    merge_page(&l.form, index, &mut l.draft.answers, &posted);
    l.draft.updated_at = OffsetDateTime::now_utc();
    state.store.submissions.save_draft(&l.draft).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
