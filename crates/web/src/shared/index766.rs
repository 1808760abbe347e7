//! The Decision 766 index of each agency for a month, put together from the statistics (`StatsRepo`) and the
//! catalogue in memory; the rules (metrics, points, advice) are `motcua_domain::index766`. The public ranking
//! and the officers' drill-down both read it from here.

use time::OffsetDateTime;

use motcua_domain::{
    AgencyCode, OnlineServiceLevel,
    index766::{Index, Inputs, Metric},
};
use motcua_store::{Figures, Gap};

use crate::{AppError, AppState};

/// One agency's index.
pub(crate) struct AgencyIndex {
    pub agency: AgencyCode,
    pub name: String,
    pub index: Index,
}

/// The dossiers that keep `metric` from its full points, when it counts dossiers.
pub(crate) fn gap_of(metric: Metric) -> Option<Gap> {
    Some(match metric {
        Metric::HandledOnTime => Gap::HandledLate,
        Metric::OpenOnTime => Gap::Overdue,
        Metric::DigitisedDossiers => Gap::NotDigitised,
        Metric::ElectronicResults => Gap::NoElectronicResult,
        Metric::OnlineDossiers => Gap::NotOnline,
        Metric::OnlinePayments => Gap::NotPaidOnline,
        Metric::Satisfied => Gap::Unsatisfied,
        Metric::CompleteRecords | Metric::FormsProvided | Metric::OnlineProcedures => return None,
    })
}

/// The catalogue's part of an agency's inputs: its procedures, how complete their records are, their forms, and
/// which are offered online there.
fn catalogue_inputs(state: &AppState, agency: &AgencyCode) -> Inputs {
    let view = state.catalogue.view();
    let mut i = Inputs::default();
    for e in view
        .entries
        .iter()
        .filter(|e| e.procedure.published && e.procedure.agencies.contains(agency))
    {
        let p = &e.procedure;
        i.procedures += 1;
        i.complete_records += u64::from(
            !p.legal_bases.is_empty() && p.cases.iter().all(|c| !c.components.is_empty()),
        );
        i.cases += p.cases.len() as u64;
        i.cases_with_forms += p
            .cases
            .iter()
            .filter(|c| c.form.is_some() || c.components.iter().any(|x| x.template.is_some()))
            .count() as u64;
        i.online_procedures += u64::from(e.levels.iter().any(|l| {
            &l.agency == agency
                && matches!(
                    l.level,
                    OnlineServiceLevel::Level3 | OnlineServiceLevel::Level4
                )
        }));
    }
    i
}

/// The month's figures added to the catalogue's; the dossiers open now count only for the current month (a past
/// month's would change every day).
fn with_figures(mut i: Inputs, f: &Figures, current: bool) -> Inputs {
    i.received = f.submitted();
    i.received_online = f.online;
    i.digitised = f.digitised;
    i.on_time = f.on_time;
    i.late = f.late;
    i.e_results = f.e_results;
    if current {
        i.open = f.in_progress;
        i.overdue = f.overdue;
    }
    i.fee_bearing = f.fee_bearing;
    i.paid_online = f.paid_online;
    i.ratings = f.ratings;
    i.satisfied = f.satisfied;
    i
}

/// Every agency in service that carries out a procedure or handled a dossier in the month starting at `from`,
/// best first; those with nothing to measure last.
pub(crate) async fn ranking(
    state: &AppState,
    from: OffsetDateTime,
) -> Result<Vec<AgencyIndex>, AppError> {
    let current = crate::months::period("").is_ok_and(|(_, this, _)| this == from);
    let stats = crate::months::figures(state, from).await?;
    let view = state.catalogue.view();
    let mut out: Vec<AgencyIndex> = Vec::new();
    for agency in view.agencies.iter().filter(|a| a.is_valid_on(view.as_of)) {
        let mut figures = Figures::default();
        for s in stats.iter().filter(|s| s.agency == agency.code) {
            figures += s.figures;
        }
        let catalogue = catalogue_inputs(state, &agency.code);
        if catalogue.procedures == 0 && figures == Figures::default() {
            continue;
        }
        out.push(AgencyIndex {
            agency: agency.code.clone(),
            name: agency.name.to_string(),
            index: Index::of(&with_figures(catalogue, &figures, current)),
        });
    }
    out.sort_by(|a, b| {
        b.index
            .total_tenths()
            .cmp(&a.index.total_tenths())
            .then_with(|| {
                motcua_domain::text::vietnamese_sort_key(&a.name)
                    .cmp(&motcua_domain::text::vietnamese_sort_key(&b.name))
            })
    });
    Ok(out)
}
