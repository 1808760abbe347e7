//! The demo catalogue seeded on first start with an empty database, so a new installation shows a working
//! portal straight away: agencies of a fictional province ("tỉnh Minh Hòa"), fields, procedures with their
//! cases, components, time limits and fees, online levels 1–4, and a fillable form template (RTF, which every
//! word processor opens) for each form component. Codes starting with `9.` are demo-only; the others are the
//! national codes of those procedures. Real deployments import their own catalogue and set `seed_demo = false`.

use anyhow::Context;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, path::Path};
use time::OffsetDateTime;

use crate::catalogue_io::{self, ImportError, ImportOptions, Known};
use motcua_domain::{NonEmptyText, Procedure, procedure::TemplateRef};
use motcua_store::{CatalogueBatch, Store};

const DEMO: &str = include_str!("demo/catalogue.json");

/// What seeding did.
#[derive(Debug, PartialEq, Eq)]
pub enum Seeded {
    /// The database already had a catalogue: nothing was touched.
    AlreadyPopulated,
    Demo {
        agencies: usize,
        procedures: usize,
        /// (who, login name) of each demo account; all share [`DEMO_PASSWORD`].
        accounts: Vec<(String, String)>,
    },
}

/// The password of every demo account. Demo data is for trying the portal: turn `seed_demo` off in production.
pub const DEMO_PASSWORD: &str = "MotCua-2026";

/// Demo accounts: one citizen, and one officer of each role at the demo ward (editor and administrator at the
/// province).
const DEMO_ACCOUNTS: &[(&str, &str, &str)] = &[
    ("Nguyễn Văn An", "congdan@example.vn", ""),
    (
        "Trần Thị Bình",
        "motcua@minhhoa.example.vn",
        "reception@000.31.00.H56",
    ),
    (
        "Lê Văn Cường",
        "chuyenvien@minhhoa.example.vn",
        "specialist@000.31.00.H56",
    ),
    (
        "Phạm Thị Dung",
        "truongphong@minhhoa.example.vn",
        "head_of_unit@000.31.00.H56",
    ),
    (
        "Hoàng Văn Em",
        "lanhdao@minhhoa.example.vn",
        "leader@000.31.00.H56",
    ),
    (
        "Vũ Thị Giang",
        "bientap@minhhoa.example.vn",
        "editor@000.00.00.H56+",
    ),
    (
        "Ngô Thị Kim",
        "truongbantin@minhhoa.example.vn",
        "head_editor@000.00.00.H56+",
    ),
    (
        "Đỗ Văn Hùng",
        "quantri@minhhoa.example.vn",
        "administrator@000.00.00.H56+",
    ),
];

async fn seed_accounts(store: &Store) -> anyhow::Result<Vec<(String, String)>> {
    use motcua_domain::{Account, AccountId, AccountKind, Email, PersonalId, Phone, RoleGrant};
    let password_hash = motcua_web::auth::hash_password(DEMO_PASSWORD.into()).await?;
    let mut made = Vec::new();
    for (name, email, grant) in DEMO_ACCOUNTS {
        let citizen = grant.is_empty();
        let account = Account {
            id: AccountId::new(),
            kind: if citizen {
                AccountKind::Citizen
            } else {
                AccountKind::Officer
            },
            full_name: NonEmptyText::parse(name)?,
            personal_id: citizen
                .then(|| PersonalId::parse("001099012345"))
                .transpose()?,
            birth_date: citizen.then_some(time::macros::date!(1990 - 05 - 17)),
            phone: citizen.then(|| Phone::parse("0912345678")).transpose()?,
            email: Some(Email::parse(email)?),
            address: citizen.then(|| {
                "Số 5 ngõ 12 đường Nguyễn Trãi, phường Trung Tâm, tỉnh Minh Hòa".to_string()
            }),
            password_hash: password_hash.clone(),
            email_verified_at: Some(OffsetDateTime::now_utc()),
            disabled: false,
            created_at: OffsetDateTime::now_utc(),
            grants: if citizen {
                vec![]
            } else {
                vec![RoleGrant::parse(grant)?]
            },
        };
        store.accounts.create(&account).await?;
        let who = match account.grants.first() {
            None => "Công dân".to_string(),
            Some(g) => g.role.label_vi().to_string(),
        };
        made.push((format!("{who} ({name})"), (*email).to_string()));
    }
    Ok(made)
}

/// Words that open the name of a component the citizen fills in from a template.
const FORM_PREFIXES: &[&str] = &[
    "Tờ khai",
    "Đơn",
    "Giấy đề nghị",
    "Phiếu",
    "Thông báo",
    "Bản khai",
    "Đề nghị",
];

/// A form template for `component` as RTF (Unicode escapes, so Vietnamese survives any code page).
fn form_template(component: &str, procedure: &str, agency: &str) -> String {
    let mut rtf = String::from("{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Times New Roman;}}\\fs26\n");
    let mut line = |text: &str, style: &str| {
        rtf.push_str(style);
        rtf.push(' ');
        for c in text.chars() {
            match c {
                '\\' | '{' | '}' => {
                    rtf.push('\\');
                    rtf.push(c);
                }
                c if c.is_ascii() => rtf.push(c),
                c => {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        rtf.push_str(&format!("\\u{}?", *unit as i16));
                    }
                }
            }
        }
        rtf.push_str("\\b0\\par\n");
    };
    line("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "\\qc\\b");
    line("Độc lập - Tự do - Hạnh phúc", "\\qc\\b");
    line("", "\\qc");
    line(&component.to_uppercase(), "\\qc\\b");
    line(&format!("(Dùng cho thủ tục: {procedure})"), "\\qc\\i0");
    line("", "\\ql");
    line(&format!("Kính gửi: {agency}"), "\\ql");
    line(
        "Họ, chữ đệm, tên người yêu cầu: ..............................................",
        "\\ql",
    );
    line(
        "Số định danh cá nhân: ............................  Ngày sinh: ....../....../..........",
        "\\ql",
    );
    line(
        "Nơi cư trú: ......................................................................",
        "\\ql",
    );
    line(
        "Số điện thoại: ....................  Thư điện tử: ..................................",
        "\\ql",
    );
    line(
        "Nội dung đề nghị: ................................................................",
        "\\ql",
    );
    line(
        "..................................................................................",
        "\\ql",
    );
    line(
        "Tôi cam đoan những nội dung khai trên đây là đúng sự thật và chịu trách nhiệm trước pháp luật.",
        "\\ql",
    );
    line("", "\\ql");
    line(
        "Làm tại ................, ngày ...... tháng ...... năm ..........",
        "\\qr",
    );
    line("NGƯỜI YÊU CẦU", "\\qr\\b");
    line("(Ký, ghi rõ họ, chữ đệm, tên)", "\\qr");
    rtf.push('}');
    rtf
}

/// The demo catalogue, read through the same importer as `motcua catalogue import`, with templates attached.
fn parse() -> anyhow::Result<CatalogueBatch> {
    let mut demo = catalogue_io::parse(DEMO, &ImportOptions::default(), &Known::default())
        .map_err(|e| match e {
            ImportError::Rejected(list) => {
                anyhow::anyhow!(
                    "demo catalogue: {}",
                    list.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            }
            other => anyhow::anyhow!("demo catalogue: {other}"),
        })?;
    for procedure in &mut demo.procedures {
        attach_templates(procedure)?;
    }
    Ok(demo)
}

/// Give every form component a template; a procedure without one gets it on its first component.
fn attach_templates(procedure: &mut Procedure) -> anyhow::Result<()> {
    let code = procedure.code.clone();
    let mut any = false;
    for case in &mut procedure.cases {
        let key = case.key.clone();
        for (i, component) in case.components.iter_mut().enumerate() {
            if FORM_PREFIXES
                .iter()
                .any(|p| component.name.as_str().starts_with(p))
            {
                component.template = Some(template_ref(&code, &key, i, component.name.as_str())?);
                any = true;
            }
        }
    }
    if !any
        && let Some(case) = procedure.cases.first_mut()
        && let Some(component) = case.components.first_mut()
    {
        component.template = Some(template_ref(&code, &case.key, 0, component.name.as_str())?);
    }
    Ok(())
}

fn template_ref(
    code: &motcua_domain::ProcedureCode,
    case: &motcua_domain::CaseKey,
    index: usize,
    name: &str,
) -> anyhow::Result<TemplateRef> {
    Ok(TemplateRef {
        file_name: NonEmptyText::parse(&format!("{name}.rtf"))?,
        object_key: format!("templates/{code}/{case}/{}.rtf", index + 1),
    })
}

/// Seed the demo catalogue and its form templates if the database has no agency yet.
pub async fn seed_if_empty(store: &Store, files: &dyn ObjectStore) -> anyhow::Result<Seeded> {
    if !store.agencies.list().await?.is_empty() {
        return Ok(Seeded::AlreadyPopulated);
    }
    let demo = parse()?;
    // files first: a catalogue that points at missing templates would offer broken downloads
    for procedure in &demo.procedures {
        let agency = procedure
            .agencies
            .first()
            .and_then(|code| demo.agencies.iter().find(|a| &a.code == code))
            .map_or("Cơ quan có thẩm quyền", |a| a.name.as_str());
        for case in &procedure.cases {
            for component in &case.components {
                if let Some(template) = &component.template {
                    let body =
                        form_template(component.name.as_str(), procedure.name.as_str(), agency);
                    let path = Path::parse(&template.object_key)?;
                    files
                        .put(&path, PutPayload::from(body.into_bytes()))
                        .await
                        .with_context(|| format!("write form template {}", template.object_key))?;
                }
            }
        }
    }
    store
        .catalogue
        .import(&demo, OffsetDateTime::now_utc())
        .await?;
    let accounts = seed_accounts(store).await?;
    seed_dossiers(store, &demo).await?;
    seed_articles(store, &demo).await?;
    Ok(Seeded::Demo {
        agencies: demo.agencies.len(),
        procedures: demo.procedures.len(),
        accounts,
    })
}

/// Demo articles: (category, title, summary, body, days ago).
const DEMO_ARTICLES: &[(&str, &str, &str, &str, i64)] = &[
    (
        "huong-dan",
        "Hướng dẫn nộp hồ sơ trực tuyến từ A đến Z",
        "Các bước đăng ký tài khoản, điền tờ khai, đính kèm giấy tờ và theo dõi hồ sơ trên Cổng Dịch vụ công.",
        "<h2>Chuẩn bị</h2><p>Chuẩn bị căn cước, số điện thoại và bản chụp các giấy tờ theo danh mục của thủ tục.</p>\
         <h2>Các bước</h2><ol><li>Đăng ký hoặc đăng nhập tài khoản.</li><li>Chọn thủ tục, bấm <strong>Nộp hồ sơ</strong>.</li>\
         <li>Điền tờ khai, đính kèm giấy tờ (PDF, JPEG, PNG).</li><li>Kiểm tra và nộp; ghi lại mã hồ sơ.</li></ol>\
         <p>Theo dõi hồ sơ tại <a href=\"/ho-so-cua-toi\">Hồ sơ của tôi</a> hoặc <a href=\"/tra-cuu-ho-so\">Tra cứu hồ sơ</a>.</p>",
        1,
    ),
    (
        "thong-bao",
        "Thông báo lịch tiếp nhận hồ sơ dịp Tết Nguyên đán",
        "Bộ phận một cửa nghỉ Tết theo lịch của Nhà nước; hồ sơ trực tuyến vẫn được nhận và tính hạn từ ngày làm việc đầu năm.",
        "<p>Trong thời gian nghỉ Tết, hồ sơ nộp trực tuyến vẫn được tiếp nhận tự động. Thời hạn giải quyết được tính từ ngày làm việc đầu tiên sau kỳ nghỉ.</p>\
         <p>Người dân có thể tra cứu tiến độ bất cứ lúc nào.</p>",
        4,
    ),
    (
        "tin-tuc",
        "Tỉnh Minh Hòa đưa thêm 120 thủ tục lên dịch vụ công toàn trình",
        "Từ tháng này, người dân nộp hồ sơ, nộp phí và nhận kết quả các thủ tục về hộ tịch, đất đai, kinh doanh hoàn toàn trực tuyến.",
        "<p>Ủy ban nhân dân tỉnh đã công bố danh mục thủ tục hành chính cung cấp dịch vụ công trực tuyến toàn trình.</p>\
         <ul><li>Hộ tịch: đăng ký khai sinh, kết hôn, khai tử.</li><li>Kinh doanh: đăng ký hộ kinh doanh.</li></ul>\
         <p>Xem danh mục tại trang <a href=\"/thu-tuc?muc_do=4\">Thủ tục hành chính</a>.</p>",
        9,
    ),
    (
        "huong-dan",
        "Thanh toán lệ phí trực tuyến an toàn",
        "Cách thanh toán phí, lệ phí bằng thẻ ngân hàng hoặc ví điện tử và nhận biên lai điện tử.",
        "<p>Khi hồ sơ cần nộp phí, trang hồ sơ hiện nút <strong>Thanh toán trực tuyến</strong>. Biên lai điện tử được cấp ngay sau khi thanh toán thành công.</p>",
        15,
    ),
];

/// A few articles approved by the demo head editor, with votes and comments, so the news pages are not empty.
async fn seed_articles(store: &Store, demo: &CatalogueBatch) -> anyhow::Result<()> {
    use motcua_domain::article::{Category, CommentStatus, Step};
    use motcua_store::{ArticleCopy, NewArticle, NewComment, Review, Vote};
    let find = |email: &str| {
        let login = motcua_domain::LoginName::parse(email);
        async move {
            match login {
                Ok(l) => store.accounts.find_by_login(&l).await.ok().flatten(),
                Err(_) => None,
            }
        }
    };
    let (Some(editor), Some(head)) = (
        find("bientap@minhhoa.example.vn").await,
        find("truongbantin@minhhoa.example.vn").await,
    ) else {
        return Ok(());
    };
    let now = OffsetDateTime::now_utc();
    let procedures: Vec<String> = demo
        .procedures
        .iter()
        .take(2)
        .map(|p| p.code.to_string())
        .collect();
    for (n, (category, title, summary, body, days)) in DEMO_ARTICLES.iter().enumerate() {
        let at = now - time::Duration::days(*days);
        let id = uuid::Uuid::now_v7();
        let copy = ArticleCopy {
            version: 1,
            category: Category::parse(category).unwrap_or(Category::News),
            title: (*title).into(),
            summary: (*summary).into(),
            body: motcua_richtext::sanitize(body),
            procedures: if n == 0 { procedures.clone() } else { vec![] },
            saved_by: editor.id,
            saved_at: at,
            publish_at: Some(at),
            unpublish_at: None,
        };
        let slug = motcua_domain::article::slug(&motcua_search::fold(title), id);
        store
            .articles
            .create(&NewArticle { id, slug, copy })
            .await?;
        for (step, by) in [(Step::Submit, editor.id), (Step::Approve, head.id)] {
            store
                .articles
                .review(&Review {
                    id,
                    version: 1,
                    step,
                    by,
                    note: None,
                    at,
                })
                .await?;
        }
        // a handful of readers' stars (4 and 5 mostly) and one published comment
        for reader in 0..(7 - n as u8) {
            store
                .articles
                .vote(&Vote {
                    article: id,
                    voter: format!("demo-{n}-{reader}"),
                    day: motcua_domain::vntime::vn_date(at),
                    address: format!("demo-{reader}"),
                    stars: if reader % 3 == 0 { 4 } else { 5 },
                    at,
                })
                .await?;
        }
        store
            .articles
            .comment(&NewComment {
                id: uuid::Uuid::now_v7(),
                article: id,
                name: "Nguyễn Văn An".into(),
                email: None,
                body: "Cảm ơn cổng, hướng dẫn rất rõ ràng.".into(),
                status: CommentStatus::Published,
                account: None,
                at,
            })
            .await?;
    }
    Ok(())
}

/// Names the demo dossiers are filed under.
const DEMO_APPLICANTS: &[&str] = &[
    "Nguyễn Thị Lan",
    "Trần Văn Minh",
    "Lê Thị Hoa",
    "Phạm Quốc Bảo",
    "Hoàng Thị Mai",
    "Vũ Đức Thắng",
    "Đặng Thu Trang",
    "Bùi Văn Hải",
    "Đỗ Thị Ngọc",
    "Ngô Minh Tuấn",
    "Dương Thị Yến",
    "Lý Văn Phúc",
];

/// A demo officer as history events name them: `Name (account id)`.
async fn demo_actor(store: &Store, email: &str, name: &str) -> anyhow::Result<String> {
    let login = motcua_domain::LoginName::parse(email)?;
    let id = store
        .accounts
        .find_by_login(&login)
        .await?
        .map(|a| a.id.to_string())
        .unwrap_or_default();
    Ok(format!("{name} ({id})"))
}

/// How many dossiers the demo files, over the last 45 days.
const DEMO_DOSSIERS: usize = 60;

/// Dossiers of the last weeks in every stage — waiting for reception, in progress (some overdue), approved on time
/// or late, handed over and rated — so that a first look at the desk, the results list and the statistics shows
/// something. The same every time (no randomness); nothing is dated in the future.
async fn seed_dossiers(store: &Store, demo: &CatalogueBatch) -> anyhow::Result<()> {
    use motcua_calendar::{Holidays, Limit, WorkCalendar};
    use motcua_domain::{
        Channel, DossierId, DossierStatus, NewDossier, TimeUnit, Transition,
        rating::{Rating, Satisfaction},
        vntime,
    };
    let cal = WorkCalendar::new(Default::default(), Holidays::built_in());
    let desk = demo_actor(store, "motcua@minhhoa.example.vn", "Trần Thị Bình").await?;
    let leader = demo_actor(store, "lanhdao@minhhoa.example.vn", "Hoàng Văn Em").await?;
    let offered: Vec<&Procedure> = demo.procedures.iter().filter(|p| p.published).collect();
    if offered.is_empty() {
        return Ok(());
    }
    let now = OffsetDateTime::now_utc();
    let today = vntime::vn_date(now);
    for i in 0..DEMO_DOSSIERS {
        let procedure = offered[(i * 7) % offered.len()];
        let (Some(agency), Some(case)) = (procedure.agencies.first(), procedure.cases.first())
        else {
            continue;
        };
        let channel = match i % 10 {
            0..=5 => Channel::Online,
            6..=8 => Channel::InPerson,
            _ => Channel::Post,
        };
        // spread over 45 days, the newest last, at office hours
        let days_ago = 45 - (i * 45 / DEMO_DOSSIERS) as i64;
        let day = today - time::Duration::days(days_ago);
        // office hours in Vietnam: from 08:00
        let submitted =
            vntime::start_of_day(day) + time::Duration::minutes(8 * 60 + 37 * (i as i64 % 9));
        let code = store.codes.reserve(agency, day).await?;
        let dossier = store
            .dossiers
            .create(&NewDossier {
                id: DossierId::new(),
                code,
                procedure: procedure.code.clone(),
                procedure_version: 1,
                case: case.key.clone(),
                channel,
                status: DossierStatus::Submitted,
                applicant_name: NonEmptyText::parse(DEMO_APPLICANTS[i % DEMO_APPLICANTS.len()])?,
                created_at: submitted,
                actor: "system".into(),
            })
            .await?;
        // the newest few still wait for reception
        if i + 4 >= DEMO_DOSSIERS {
            continue;
        }
        let limit = case
            .time_limit_for(channel)
            .map_or(Limit::WorkingDays(5), |t| match t.limit.unit {
                TimeUnit::WorkingDays => Limit::WorkingDays(t.limit.value),
                TimeUnit::CalendarDays => Limit::CalendarDays(t.limit.value),
                TimeUnit::WorkingHours => Limit::WorkingHours(t.limit.value),
            });
        let received = submitted + time::Duration::hours(2);
        let due = cal.due(received, limit, None);
        // one in five is approved a day late; the rest a working day before the appointment
        let approved = if i % 5 == 3 {
            due + time::Duration::days(1)
        } else {
            (due - time::Duration::days(1)).max(received + time::Duration::hours(3))
        };
        let delivered = approved + time::Duration::days(1);
        // one not approved yet stays received, for the desk to start processing it (its workflow opens then)
        let mut steps = vec![(
            DossierStatus::Submitted,
            DossierStatus::Received,
            received,
            &desk,
        )];
        if approved < now {
            steps.push((
                DossierStatus::Received,
                DossierStatus::Processing,
                received + time::Duration::hours(1),
                &desk,
            ));
            steps.push((
                DossierStatus::Processing,
                DossierStatus::Processed,
                approved,
                &leader,
            ));
        }
        if delivered < now {
            steps.push((
                DossierStatus::Processed,
                DossierStatus::ResultDelivered,
                delivered,
                &desk,
            ));
        }
        for (from, to, at, who) in steps {
            let t = Transition::new(dossier.id, from, to, at, who.as_str())?.with_due_at(due);
            store.dossiers.record_transition(&t).await?;
            // rated a couple of hours after the hand-over, when that is already past
            if to == DossierStatus::ResultDelivered
                && i % 3 != 1
                && at + time::Duration::hours(2) < now
            {
                let level = match i % 4 {
                    0 | 1 => Satisfaction::VerySatisfied,
                    2 => Satisfaction::Satisfied,
                    _ => Satisfaction::Neutral,
                };
                store
                    .ratings
                    .rate(&Rating {
                        dossier: dossier.id,
                        level,
                        comment: None,
                        at: at + time::Duration::hours(2),
                        account: None,
                    })
                    .await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use motcua_domain::{AgencyLevel, OnlineServiceLevel};
    use std::collections::HashSet;

    #[test]
    fn the_demo_catalogue_is_realistic_and_covers_every_level() {
        let demo = parse().unwrap();
        let levels: HashSet<OnlineServiceLevel> =
            demo.service_levels.iter().map(|l| l.level).collect();
        assert_eq!(levels.len(), 4, "every online level 1–4 is represented");
        assert!(
            demo.procedures.len() >= 40,
            "{} procedures",
            demo.procedures.len()
        );
        assert!(demo.fields.len() >= 8);
        let provincial = demo
            .agencies
            .iter()
            .filter(|a| a.level == AgencyLevel::Province)
            .count();
        let communes = demo
            .agencies
            .iter()
            .filter(|a| a.level == AgencyLevel::Commune)
            .count();
        assert!(provincial >= 4 && communes >= 2 && demo.agencies.len() >= 6);
        for p in &demo.procedures {
            let templates = p
                .cases
                .iter()
                .flat_map(|c| &c.components)
                .filter(|c| c.template.is_some())
                .count();
            assert!(templates >= 1, "{} has no form template", p.code);
            assert!(
                p.cases
                    .iter()
                    .all(|c| !c.components.is_empty() && !c.time_limits.is_empty()),
                "{}",
                p.code
            );
            assert!(
                demo.service_levels.iter().any(|l| l.procedure == p.code),
                "{} has no online level",
                p.code
            );
        }
        let codes: HashSet<_> = demo.procedures.iter().map(|p| &p.code).collect();
        assert_eq!(
            codes.len(),
            demo.procedures.len(),
            "procedure codes are unique"
        );
    }

    #[test]
    fn form_templates_are_rtf_with_vietnamese_escaped() {
        let rtf = form_template(
            "Tờ khai đăng ký khai sinh",
            "Đăng ký khai sinh",
            "UBND xã {A}",
        );
        assert!(rtf.starts_with("{\\rtf1") && rtf.ends_with('}'));
        assert!(rtf.is_ascii(), "all non-ASCII text is escaped");
        assert!(
            rtf.contains("T\\u7900?"),
            "the title is upper case: Ờ is U+1EDC = 7900"
        );
        assert!(rtf.contains("\\{A\\}"), "braces are escaped");
    }
}
