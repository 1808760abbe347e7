//! The demo catalogue seeded on first start with an empty database, so a new installation shows a working
//! portal straight away. Real deployments import their own catalogue (and can turn seeding off).

use anyhow::{Context, bail};
use serde::Deserialize;
use time::OffsetDateTime;

use motcua_domain::{Agency, Field, Procedure, ServiceLevelAssignment};
use motcua_store::Store;

#[derive(Deserialize)]
struct DemoCatalogue {
    agencies: Vec<Agency>,
    fields: Vec<Field>,
    procedures: Vec<Procedure>,
    service_levels: Vec<ServiceLevelAssignment>,
}

const DEMO: &str = include_str!("demo/catalogue.json");

/// What seeding did.
#[derive(Debug, PartialEq, Eq)]
pub enum Seeded {
    /// The database already had a catalogue: nothing was touched.
    AlreadyPopulated,
    Demo {
        agencies: usize,
        procedures: usize,
    },
}

fn parse() -> anyhow::Result<DemoCatalogue> {
    let demo: DemoCatalogue = serde_json::from_str(DEMO).context("demo catalogue JSON")?;
    for agency in &demo.agencies {
        agency.validate()?;
    }
    for procedure in &demo.procedures {
        procedure.validate()?;
    }
    for level in &demo.service_levels {
        let Some(procedure) = demo.procedures.iter().find(|p| p.code == level.procedure) else {
            bail!("demo level for unknown procedure {}", level.procedure);
        };
        if procedure.case(&level.case).is_none() {
            bail!(
                "demo level for unknown case {} of {}",
                level.case,
                level.procedure
            );
        }
    }
    Ok(demo)
}

/// Seed the demo catalogue if the database has no agency yet.
pub async fn seed_if_empty(store: &Store) -> anyhow::Result<Seeded> {
    if !store.agencies.list().await?.is_empty() {
        return Ok(Seeded::AlreadyPopulated);
    }
    let demo = parse()?;
    store.agencies.upsert(&demo.agencies).await?;
    store.fields.upsert(&demo.fields).await?;
    let now = OffsetDateTime::now_utc();
    for procedure in &demo.procedures {
        store.catalogue.save_procedure(procedure, now).await?;
    }
    for level in &demo.service_levels {
        store.catalogue.set_service_level(level).await?;
    }
    Ok(Seeded::Demo {
        agencies: demo.agencies.len(),
        procedures: demo.procedures.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use motcua_domain::OnlineServiceLevel;
    use std::collections::HashSet;

    #[test]
    fn the_demo_catalogue_is_valid_and_covers_every_level() {
        let demo = parse().unwrap();
        let levels: HashSet<OnlineServiceLevel> =
            demo.service_levels.iter().map(|l| l.level).collect();
        assert_eq!(levels.len(), 4, "every online level 1–4 is represented");
        assert!(demo.procedures.len() >= 6);
    }
}
