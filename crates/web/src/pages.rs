//! Portal pages (server-rendered, Vietnamese, no script required).

use askama::Template;
use askama_web::WebTemplate;
use axum::{extract::State, http::StatusCode, response::Response};
use std::collections::HashMap;
use time::OffsetDateTime;

use motcua_domain::{Channel, OnlineServiceLevel, Procedure, vntime};

use crate::{AppError, AppState, error::ErrorPage};

pub(crate) struct LevelView {
    pub number: u8,
    pub name_2011: String,
    pub name_2022: &'static str,
}

impl From<OnlineServiceLevel> for LevelView {
    fn from(level: OnlineServiceLevel) -> Self {
        LevelView {
            number: level.number(),
            name_2011: level.name_2011(),
            name_2022: level.name_2022(),
        }
    }
}

pub(crate) struct ProcedureItem {
    pub code: String,
    pub name: String,
    pub fields: String,
    pub agencies: String,
    pub level: Option<LevelView>,
    pub time_limit: String,
    pub fees: String,
}

pub(crate) struct AgencyItem {
    pub code: String,
    pub name: String,
    pub level: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub(crate) struct HomePage {
    pub site_name: String,
    pub today: String,
    pub procedures: Vec<ProcedureItem>,
    pub agencies: Vec<AgencyItem>,
    pub levels: Vec<LevelView>,
}

/// "5 ngày làm việc" for the first case in person (or online), as the catalogue summary shows it.
fn time_limit_summary(procedure: &Procedure) -> String {
    procedure
        .cases
        .first()
        .and_then(|case| {
            case.time_limit_for(Channel::InPerson)
                .or_else(|| case.time_limits.first())
        })
        .map(|t| t.limit.to_string())
        .unwrap_or_default()
}

fn fee_summary(procedure: &Procedure) -> String {
    match procedure.cases.first().and_then(|c| c.total_fees()) {
        Some(total) if total.amount() > 0 => total.to_string(),
        _ => "Không thu phí, lệ phí".into(),
    }
}

pub(crate) async fn home(State(state): State<AppState>) -> Result<HomePage, AppError> {
    let now = OffsetDateTime::now_utc();
    let today = vntime::vn_date(now);
    let agencies = state.store.agencies.list().await?;
    let fields = state.store.fields.list().await?;
    let field_names: HashMap<_, _> = fields.iter().map(|f| (&f.code, f.name.as_str())).collect();
    let agency_names: HashMap<_, _> = agencies
        .iter()
        .map(|a| (&a.code, a.name.as_str()))
        .collect();

    let mut procedures = Vec::new();
    for stored in state.store.catalogue.list_procedures().await? {
        let p = stored.procedure;
        let level = state
            .store
            .catalogue
            .service_levels(&p.code, today)
            .await?
            .into_iter()
            .map(|a| a.level)
            .max();
        let names = |codes: Vec<&str>| codes.join(", ");
        procedures.push(ProcedureItem {
            code: p.code.to_string(),
            name: p.name.to_string(),
            fields: names(
                p.fields
                    .iter()
                    .map(|f| field_names.get(f).copied().unwrap_or(f.as_str()))
                    .collect(),
            ),
            agencies: names(
                p.agencies
                    .iter()
                    .map(|a| agency_names.get(a).copied().unwrap_or(a.as_str()))
                    .collect(),
            ),
            level: level.map(LevelView::from),
            time_limit: time_limit_summary(&p),
            fees: fee_summary(&p),
        });
    }

    Ok(HomePage {
        site_name: state.site.name.clone(),
        today: vntime::format_date(today),
        procedures,
        agencies: agencies
            .iter()
            .filter(|a| a.is_valid_on(today))
            .map(|a| AgencyItem {
                code: a.code.to_string(),
                name: a.name.to_string(),
                level: a.level.label_vi(),
            })
            .collect(),
        levels: OnlineServiceLevel::ALL
            .into_iter()
            .map(LevelView::from)
            .collect(),
    })
}

pub(crate) async fn not_found() -> Response {
    ErrorPage::for_status(StatusCode::NOT_FOUND).into_response_with(StatusCode::NOT_FOUND)
}
