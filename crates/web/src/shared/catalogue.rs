//! The catalogue as the portal reads it: every current procedure with its online levels, agencies, fields and
//! a search index, held in memory per server node. It is rebuilt when the database's catalogue version
//! changes (polled, so several nodes converge without restart) or when the day changes (levels take effect
//! on a date).

use std::collections::HashMap;

use std::sync::{Arc, RwLock};
use time::{Date, OffsetDateTime};

use motcua_domain::{
    Agency, AgencyCode, ApplicantKind, Field, FieldCode, ImplementingLevel, OnlineServiceLevel,
    Procedure, ServiceLevelAssignment, vntime,
};
use motcua_search::{Document, Index, Section, fold};
use motcua_store::{Store, StoreResult};

/// One procedure as published now.
pub struct Entry {
    pub procedure: Procedure,
    pub version: u32,
    /// Levels in force today, per case and agency.
    pub levels: Vec<ServiceLevelAssignment>,
    /// The highest level offered anywhere (what the list shows and filters on).
    pub best_level: Option<OnlineServiceLevel>,
    pub folded_name: String,
}

impl Entry {
    pub fn is_for_business(&self) -> bool {
        self.procedure
            .applicants
            .iter()
            .any(|a| matches!(a, ApplicantKind::Business | ApplicantKind::Organisation))
    }

    pub fn is_for_citizens(&self) -> bool {
        self.procedure
            .applicants
            .iter()
            .any(|a| matches!(a, ApplicantKind::Citizen | ApplicantKind::Foreigner))
    }

    pub fn has_level(&self, level: ImplementingLevel) -> bool {
        self.procedure.implementing_levels.contains(&level)
    }
}

/// An immutable snapshot of the catalogue.
pub struct CatalogueView {
    pub version: i64,
    pub as_of: Date,
    /// Ordered by procedure code.
    pub entries: Vec<Entry>,
    by_code: HashMap<String, usize>,
    pub agencies: Vec<Agency>,
    agency_by_code: HashMap<AgencyCode, usize>,
    pub fields: Vec<Field>,
    field_by_code: HashMap<FieldCode, usize>,
    index: Index,
    /// Entry positions in name order (folded), for the default list order.
    pub by_name: Vec<usize>,
    /// Entry positions in name order for each field and each agency, so a filtered list scans only those.
    pub by_name_in_field: HashMap<FieldCode, Vec<usize>>,
    pub by_name_at_agency: HashMap<AgencyCode, Vec<usize>>,
    /// Counts for browsing, computed once per snapshot.
    pub counts: Counts,
    /// Entry positions of the procedures with the most dossiers in the last 365 days, most first (recomputed
    /// with the snapshot, so at least daily).
    pub most_used: Vec<usize>,
    /// HTML drawn from this snapshot alone (the home page's catalogue part), kept as long as the snapshot.
    fragments: RwLock<HashMap<&'static str, Arc<str>>>,
}

/// How many "most used" procedures the home page shows.
const MOST_USED: u32 = 8;

/// How many procedures each browsing link leads to.
#[derive(Debug, Default)]
pub struct Counts {
    pub by_field: HashMap<FieldCode, usize>,
    pub by_agency: HashMap<AgencyCode, usize>,
    /// Index = online level number (1–4).
    pub by_online_level: [usize; 5],
    pub by_implementing_level: HashMap<&'static str, usize>,
    pub for_citizens: usize,
    pub for_business: usize,
}

/// The key used in URLs (`cap=`) for an implementing level.
pub const fn implementing_level_key(level: ImplementingLevel) -> &'static str {
    match level {
        ImplementingLevel::Province => "tinh",
        ImplementingLevel::Commune => "xa",
        ImplementingLevel::Ministry => "bo",
    }
}

/// The implementing level a key (`cap=`, `implementing_level=`) names.
pub fn implementing_level_of(key: &str) -> Option<ImplementingLevel> {
    IMPLEMENTING_LEVELS
        .into_iter()
        .find(|l| implementing_level_key(*l) == key)
}

/// The keys of a procedure's implementing levels, in its order.
pub fn implementing_level_keys(procedure: &Procedure) -> Vec<String> {
    procedure
        .implementing_levels
        .iter()
        .map(|l| implementing_level_key(*l).to_string())
        .collect()
}

fn count(entries: &[Entry]) -> Counts {
    let mut c = Counts::default();
    for e in entries.iter().filter(|e| e.procedure.published) {
        for f in &e.procedure.fields {
            *c.by_field.entry(f.clone()).or_default() += 1;
        }
        for a in &e.procedure.agencies {
            *c.by_agency.entry(a.clone()).or_default() += 1;
        }
        if let Some(level) = e.best_level {
            c.by_online_level[usize::from(level.number())] += 1;
        }
        for level in &e.procedure.implementing_levels {
            *c.by_implementing_level
                .entry(implementing_level_key(*level))
                .or_default() += 1;
        }
        c.for_citizens += usize::from(e.is_for_citizens());
        c.for_business += usize::from(e.is_for_business());
    }
    c
}

impl CatalogueView {
    pub async fn load(store: &Store, today: Date) -> StoreResult<CatalogueView> {
        // versions saved ahead whose day has come go in force first (every node may do it: it is idempotent)
        store.catalogue.promote_due(today).await?;
        // read the version first: a change made while loading triggers another reload later
        let version = store.catalogue.catalogue_version().await?;
        let agencies = store.agencies.list().await?;
        let fields = store.fields.list().await?;
        let procedures = store.catalogue.list_procedures().await?;
        let mut levels: HashMap<String, Vec<ServiceLevelAssignment>> = HashMap::new();
        for level in store.catalogue.all_service_levels(today).await? {
            levels
                .entry(level.procedure.to_string())
                .or_default()
                .push(level);
        }
        let year_ago = OffsetDateTime::now_utc() - time::Duration::days(365);
        let most_used = store
            .dossiers
            .most_used_procedures(year_ago, MOST_USED)
            .await?
            .into_iter()
            .map(|(code, _)| code.to_string())
            .collect();
        // editors' table, when they have saved one; the built-in one otherwise
        let synonyms = store
            .search_log
            .synonyms()
            .await?
            .map(|t| motcua_search::Synonyms::parse(&t.text));
        let mut view = Self::build(
            version, today, agencies, fields, procedures, levels, synonyms,
        );
        view.set_most_used(most_used);
        Ok(view)
    }

    fn build(
        version: i64,
        as_of: Date,
        agencies: Vec<Agency>,
        fields: Vec<Field>,
        procedures: Vec<motcua_store::StoredProcedure>,
        mut levels: HashMap<String, Vec<ServiceLevelAssignment>>,
        synonyms: Option<motcua_search::Synonyms>,
    ) -> CatalogueView {
        let agency_by_code: HashMap<_, _> = agencies
            .iter()
            .enumerate()
            .map(|(i, a)| (a.code.clone(), i))
            .collect();
        let field_by_code: HashMap<_, _> = fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.code.clone(), i))
            .collect();
        let mut entries = Vec::with_capacity(procedures.len());
        let mut documents = Vec::with_capacity(procedures.len());
        for stored in procedures {
            let mut p = stored.procedure;
            // a merged agency's procedures are carried out by its successor; a dissolved one's by no one
            let mut carried_out_by: Vec<AgencyCode> = Vec::with_capacity(p.agencies.len());
            for a in &p.agencies {
                let now = if agency_by_code.contains_key(a) {
                    motcua_domain::agency::in_force(
                        |c| agency_by_code.get(c).map(|&i| &agencies[i]),
                        a,
                        as_of,
                    )
                    .map(|x| x.code.clone())
                } else {
                    Some(a.clone())
                };
                if let Some(now) = now.filter(|n| !carried_out_by.contains(n)) {
                    carried_out_by.push(now);
                }
            }
            p.agencies = carried_out_by;
            let mut levels = levels.remove(p.code.as_str()).unwrap_or_default();
            // the levels stay for an unpublished procedure (its dossiers still need them); what the public is
            // offered checks `published`
            levels.retain(|l| {
                agency_by_code
                    .get(&l.agency)
                    .is_none_or(|&i| agencies[i].is_valid_on(as_of))
            });
            let mut texts = vec![(Section::Code, p.code.to_string())];
            for f in &p.fields {
                if let Some(&i) = field_by_code.get(f) {
                    texts.push((Section::Field, fields[i].name.to_string()));
                }
            }
            for a in &p.agencies {
                if let Some(&i) = agency_by_code.get(a) {
                    texts.push((Section::Agency, agencies[i].name.to_string()));
                }
            }
            for case in &p.cases {
                texts.push((Section::Component, case.name.to_string()));
                for c in &case.components {
                    texts.push((Section::Component, c.name.to_string()));
                }
            }
            // an unpublished procedure stays in place (hits are entry positions) but matches nothing
            documents.push(if p.published {
                Document {
                    key: p.code.to_string(),
                    name: p.name.to_string(),
                    texts,
                }
            } else {
                Document {
                    key: p.code.to_string(),
                    name: String::new(),
                    texts: Vec::new(),
                }
            });
            entries.push(Entry {
                best_level: levels.iter().filter(|_| p.published).map(|l| l.level).max(),
                folded_name: fold(p.name.as_str()),
                levels,
                version: stored.version,
                procedure: p,
            });
        }
        let by_code = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.procedure.code.to_string(), i))
            .collect();
        let mut by_name: Vec<usize> = (0..entries.len())
            .filter(|&i| entries[i].procedure.published)
            .collect();
        by_name.sort_by(|&a, &b| entries[a].folded_name.cmp(&entries[b].folded_name));
        let counts = count(&entries);
        let mut by_name_in_field: HashMap<FieldCode, Vec<usize>> = HashMap::new();
        let mut by_name_at_agency: HashMap<AgencyCode, Vec<usize>> = HashMap::new();
        for &i in &by_name {
            for f in &entries[i].procedure.fields {
                by_name_in_field.entry(f.clone()).or_default().push(i);
            }
            for a in &entries[i].procedure.agencies {
                by_name_at_agency.entry(a.clone()).or_default().push(i);
            }
        }
        CatalogueView {
            version,
            as_of,
            entries,
            by_code,
            agencies,
            agency_by_code,
            fields,
            field_by_code,
            index: match synonyms {
                Some(table) => Index::build(documents).with_synonyms(table),
                None => Index::build(documents),
            },
            by_name,
            by_name_in_field,
            by_name_at_agency,
            counts,
            most_used: Vec::new(),
            fragments: RwLock::default(),
        }
    }

    /// The HTML named `name` drawn from this snapshot: drawn once by `draw`, then reused until the catalogue
    /// changes (a new snapshot starts empty). Under load the home page's catalogue part was most of its cost
    /// (bench/statistics.sh, issue 16).
    pub fn fragment<E>(
        &self,
        name: &'static str,
        draw: impl FnOnce() -> Result<String, E>,
    ) -> Result<Arc<str>, E> {
        if let Ok(kept) = self.fragments.read()
            && let Some(html) = kept.get(name)
        {
            return Ok(html.clone());
        }
        let html: Arc<str> = draw()?.into();
        if let Ok(mut kept) = self.fragments.write() {
            kept.entry(name).or_insert_with(|| html.clone());
        }
        Ok(html)
    }

    fn set_most_used(&mut self, codes: Vec<String>) {
        self.most_used = codes
            .iter()
            .filter_map(|c| self.by_code.get(c).copied())
            .filter(|&i| self.entries[i].procedure.published)
            .collect();
    }

    pub fn get(&self, code: &str) -> Option<&Entry> {
        self.by_code.get(code).map(|&i| &self.entries[i])
    }

    /// The online level in force for a procedure case at an agency, if one is assigned.
    pub fn level_of(
        &self,
        procedure: &str,
        case: &motcua_domain::CaseKey,
        agency: &AgencyCode,
    ) -> Option<OnlineServiceLevel> {
        self.get(procedure)?
            .levels
            .iter()
            .find(|l| &l.case == case && &l.agency == agency)
            .map(|l| l.level)
    }

    pub fn agency(&self, code: &AgencyCode) -> Option<&Agency> {
        self.agency_by_code.get(code).map(|&i| &self.agencies[i])
    }

    pub fn field(&self, code: &FieldCode) -> Option<&Field> {
        self.field_by_code.get(code).map(|&i| &self.fields[i])
    }

    /// Whether `agency` is `ancestor` or below it (following parent links).
    pub fn is_within(&self, agency: &AgencyCode, ancestor: &AgencyCode) -> bool {
        let mut current = Some(agency.clone());
        // bounded: a mistaken cycle in the data must not hang a request
        for _ in 0..16 {
            match current {
                Some(code) if &code == ancestor => return true,
                Some(code) => current = self.agency(&code).and_then(|a| a.parent.clone()),
                None => return false,
            }
        }
        false
    }

    /// A procedure's name, or its code when it is not (or no longer) published.
    pub fn procedure_name<'a>(&'a self, code: &'a str) -> &'a str {
        self.get(code).map_or(code, |e| e.procedure.name.as_str())
    }

    pub fn agency_name<'a>(&'a self, code: &'a AgencyCode) -> &'a str {
        self.agency(code).map_or(code.as_str(), |a| a.name.as_str())
    }

    pub fn field_name<'a>(&'a self, code: &'a FieldCode) -> &'a str {
        self.field(code).map_or(code.as_str(), |f| f.name.as_str())
    }

    /// Search the catalogue; a hit's `doc` is the position of its entry in `entries`.
    pub fn search(&self, query: &str) -> motcua_search::SearchResult<'_> {
        self.index.search(query)
    }

    /// Search a query still being typed (the search box's suggestions).
    pub fn search_as_typed(&self, query: &str) -> motcua_search::SearchResult<'_> {
        self.index.search_as_typed(query)
    }
}

/// The implementing levels with their keys, in the order lists show them.
pub const IMPLEMENTING_LEVELS: [ImplementingLevel; 3] = [
    ImplementingLevel::Province,
    ImplementingLevel::Commune,
    ImplementingLevel::Ministry,
];

/// Who a procedure is for, as lists filter it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Citizens,
    Businesses,
}

impl Audience {
    pub const ALL: [Audience; 2] = [Audience::Citizens, Audience::Businesses];

    /// The key in addresses (`doi_tuong=`) and in the API (`audience=`).
    pub fn key(self) -> &'static str {
        match self {
            Audience::Citizens => "cong-dan",
            Audience::Businesses => "doanh-nghiep",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Audience::Citizens => "Công dân",
            Audience::Businesses => "Doanh nghiệp, tổ chức",
        }
    }

    pub fn parse(key: &str) -> Option<Audience> {
        Audience::ALL.into_iter().find(|a| a.key() == key)
    }
}

/// The order of a list of procedures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Best match first (the default with a query).
    Relevance,
    /// By name (the default without one).
    Name,
    Code,
    /// Highest online level first.
    Level,
}

impl Sort {
    pub const ALL: [Sort; 4] = [Sort::Relevance, Sort::Name, Sort::Code, Sort::Level];

    /// The key in addresses (`sap_xep=`) and in the API (`sort=`).
    pub fn key(self) -> &'static str {
        match self {
            Sort::Relevance => "lien-quan",
            Sort::Name => "ten",
            Sort::Code => "ma",
            Sort::Level => "muc-do",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Sort::Relevance => "Phù hợp nhất",
            Sort::Name => "Tên thủ tục (A–Z)",
            Sort::Code => "Mã thủ tục",
            Sort::Level => "Mức độ trực tuyến cao nhất",
        }
    }

    pub fn parse(key: &str) -> Option<Sort> {
        Sort::ALL.into_iter().find(|s| s.key() == key)
    }

    /// Relevance with a query, name order without.
    pub fn default_for(query: &str) -> Sort {
        if query.is_empty() {
            Sort::Name
        } else {
            Sort::Relevance
        }
    }
}

/// The filters of a list of procedures: the portal's list and the API read the same ones.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub field: Option<FieldCode>,
    pub agency: Option<AgencyCode>,
    pub implementing: Option<ImplementingLevel>,
    pub audience: Option<Audience>,
    pub online_level: Option<OnlineServiceLevel>,
}

/// The filters as typed (trimmed, empty as none).
#[derive(Debug, Clone, Copy, Default)]
pub struct TypedFilters<'a> {
    pub field: Option<&'a str>,
    pub agency: Option<&'a str>,
    pub implementing: Option<&'a str>,
    pub audience: Option<&'a str>,
    pub online_level: Option<&'a str>,
}

/// A filter whose value names nothing in the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadFilter {
    Field,
    Agency,
    ImplementingLevel,
    Audience,
    OnlineLevel,
}

impl BadFilter {
    pub fn message_vi(self) -> &'static str {
        match self {
            BadFilter::Field => "Lĩnh vực đã chọn không tồn tại",
            BadFilter::Agency => "Cơ quan đã chọn không tồn tại",
            BadFilter::ImplementingLevel => "Cấp thực hiện đã chọn không hợp lệ",
            BadFilter::Audience => "Đối tượng đã chọn không hợp lệ",
            BadFilter::OnlineLevel => "Mức độ đã chọn không hợp lệ",
        }
    }
}

/// The procedures a list shows, as positions in [`CatalogueView::entries`] in the order asked, and the search
/// behind them when there was a query (for highlights, partial matches and suggestions).
pub struct Found<'a> {
    pub positions: Vec<usize>,
    pub search: Option<motcua_search::SearchResult<'a>>,
}

impl CatalogueView {
    /// Read typed filters against this snapshot: the filters that name something, and those that do not.
    pub fn filters(&self, typed: TypedFilters<'_>) -> (Filters, Vec<BadFilter>) {
        let mut bad = Vec::new();
        fn checked<'v>(
            value: Option<&'v str>,
            what: BadFilter,
            bad: &mut Vec<BadFilter>,
            parse: &dyn Fn(&str) -> bool,
        ) -> Option<&'v str> {
            let value = value.map(str::trim).filter(|v| !v.is_empty())?;
            if parse(value) {
                Some(value)
            } else {
                bad.push(what);
                None
            }
        }
        let mut read =
            |value, what, parse: &dyn Fn(&str) -> bool| checked(value, what, &mut bad, parse);
        let field = read(typed.field, BadFilter::Field, &|f| {
            FieldCode::parse(f).is_ok_and(|f| self.field(&f).is_some())
        })
        .and_then(|f| FieldCode::parse(f).ok());
        let agency = read(typed.agency, BadFilter::Agency, &|a| {
            AgencyCode::parse(a).is_ok_and(|a| self.agency(&a).is_some())
        })
        .and_then(|a| AgencyCode::parse(a).ok());
        let implementing = read(typed.implementing, BadFilter::ImplementingLevel, &|k| {
            implementing_level_of(k).is_some()
        })
        .and_then(implementing_level_of);
        let audience = read(typed.audience, BadFilter::Audience, &|a| {
            Audience::parse(a).is_some()
        })
        .and_then(Audience::parse);
        let level_of = |l: &str| {
            l.parse::<u8>()
                .ok()
                .and_then(|n| OnlineServiceLevel::try_from(n).ok())
        };
        let online_level = read(typed.online_level, BadFilter::OnlineLevel, &|l| {
            level_of(l).is_some()
        })
        .and_then(level_of);
        (
            Filters {
                field,
                agency,
                implementing,
                audience,
                online_level,
            },
            bad,
        )
    }

    /// The published procedures that match `query` (none: all) and `filters`, in `sort` order.
    pub fn find(&self, query: &str, filters: &Filters, sort: Sort) -> Found<'_> {
        let keep = |e: &Entry| {
            e.procedure.published
                && filters
                    .field
                    .as_ref()
                    .is_none_or(|f| e.procedure.fields.contains(f))
                && filters
                    .agency
                    .as_ref()
                    .is_none_or(|a| e.procedure.agencies.contains(a))
                && filters.implementing.is_none_or(|l| e.has_level(l))
                && filters.audience.is_none_or(|a| match a {
                    Audience::Citizens => e.is_for_citizens(),
                    Audience::Businesses => e.is_for_business(),
                })
                && filters.online_level.is_none_or(|l| e.best_level == Some(l))
        };
        // name order without a query, search order with one
        let search = (!query.is_empty()).then(|| self.search(query));
        let order: Vec<usize> = match &search {
            None => match (&filters.field, &filters.agency) {
                (Some(f), _) => self.by_name_in_field.get(f).cloned().unwrap_or_default(),
                (None, Some(a)) => self.by_name_at_agency.get(a).cloned().unwrap_or_default(),
                (None, None) => self.by_name.clone(),
            },
            Some(result) => result.hits.iter().map(|h| h.doc).collect(),
        };
        let mut positions: Vec<usize> = order
            .into_iter()
            .filter(|&i| keep(&self.entries[i]))
            .collect();
        let entry = |i: usize| &self.entries[i];
        match sort {
            Sort::Name if search.is_some() => {
                positions.sort_by(|&a, &b| entry(a).folded_name.cmp(&entry(b).folded_name))
            }
            Sort::Code => {
                positions.sort_by(|&a, &b| entry(a).procedure.code.cmp(&entry(b).procedure.code))
            }
            // stable: equal levels keep the order they had (name order, or relevance)
            Sort::Level => positions.sort_by_key(|&i| std::cmp::Reverse(entry(i).best_level)),
            _ => {} // relevance, or name order already
        }
        Found { positions, search }
    }
}

/// The current snapshot, swapped atomically when the catalogue changes.
pub struct Catalogue {
    current: RwLock<Arc<CatalogueView>>,
}

impl Catalogue {
    pub async fn load(store: &Store) -> StoreResult<Catalogue> {
        let view = CatalogueView::load(store, today()).await?;
        Ok(Catalogue {
            current: RwLock::new(Arc::new(view)),
        })
    }

    /// No procedures at all (a node whose database is not ready yet); the first refresh fills it.
    pub fn empty() -> Catalogue {
        let view = CatalogueView::build(
            -1,
            today(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            HashMap::new(),
            None,
        );
        Catalogue {
            current: RwLock::new(Arc::new(view)),
        }
    }

    pub fn view(&self) -> Arc<CatalogueView> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Rebuild if the catalogue changed in the database or the day turned. Returns whether it rebuilt.
    pub async fn refresh(&self, store: &Store) -> StoreResult<bool> {
        let current = self.view();
        let today = today();
        let version = store.catalogue.catalogue_version().await?;
        if version == current.version && today == current.as_of {
            return Ok(false);
        }
        let fresh = Arc::new(CatalogueView::load(store, today).await?);
        match self.current.write() {
            Ok(mut guard) => *guard = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        tracing::info!(version, "catalogue reloaded");
        Ok(true)
    }
}

fn today() -> Date {
    vntime::vn_date(OffsetDateTime::now_utc())
}

/// Keep `catalogue` in step with the database, checking every `every`. Runs until the process ends.
pub fn spawn_refresher(catalogue: Arc<Catalogue>, store: Store, every: std::time::Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = catalogue.refresh(&store).await {
                tracing::warn!(error = %e, "catalogue refresh failed; serving the previous one");
            }
        }
    });
}
