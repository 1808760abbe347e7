//! Reading and writing whole catalogues: motcua's own JSON format (documented in `docs/catalogue-format.md`,
//! also the shape of the demo catalogue) and the national procedure database's JSON (`MATTHC`, `TENTTHC`,
//! `CACHTHUCTHUCHIEN`…). Every record is checked on its own so that all rejected records are reported at once,
//! each with its number and reason; nothing is written unless every record is valid.

use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use motcua_domain::{
    Agency, AgencyCode, AgencyLevel, ApplicantKind, CaseKey, Channel, ChannelTimeLimit, Component,
    FeeKind, FeeLine, Field, FieldCode, ImplementingLevel, NonEmptyText, Procedure, ProcedureCase,
    ProcedureCode, ServiceLevelAssignment, TimeLimit, TimeUnit, Vnd,
};
use motcua_store::CatalogueBatch;

pub const FORMAT: &str = "motcua-catalogue";
pub const FORMAT_VERSION: u64 = 1;

/// One rejected record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// What kind of record, in Vietnamese ("thủ tục", "cơ quan"…).
    pub kind: &'static str,
    /// 1-based position in its list.
    pub number: usize,
    /// Its code, when it could be read.
    pub code: Option<String>,
    pub reason: String,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} thứ {}", self.kind, self.number)?;
        if let Some(code) = &self.code {
            write!(f, " ({code})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// Why a file could not be imported at all, or which records were rejected.
#[derive(Debug)]
pub enum ImportError {
    NotJson(String),
    UnknownShape(String),
    Rejected(Vec<Rejected>),
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::NotJson(e) => write!(f, "tệp không phải JSON hợp lệ: {e}"),
            ImportError::UnknownShape(e) => write!(f, "không nhận ra cấu trúc tệp: {e}"),
            ImportError::Rejected(list) => {
                write!(
                    f,
                    "{} bản ghi không hợp lệ, không có gì được nhập",
                    list.len()
                )
            }
        }
    }
}

/// Options of an import.
#[derive(Debug, Default, Clone)]
pub struct ImportOptions {
    /// Agency that carries out national records which do not name one of ours.
    pub agency: Option<AgencyCode>,
}

/// Agencies, fields and procedures already in the database, for cross-checks.
#[derive(Debug, Default)]
pub struct Known {
    pub agencies: HashSet<AgencyCode>,
    /// Agencies still in force by name (see [`name_key`]), to match a national record that names one of ours by
    /// another code: several under one name (names repeat across provinces) match only within the code's province.
    pub agency_names: HashMap<String, Vec<AgencyCode>>,
    pub fields: HashSet<FieldCode>,
}

impl Known {
    pub fn of(agencies: &[Agency], fields: impl IntoIterator<Item = FieldCode>) -> Self {
        Known {
            agencies: agencies.iter().map(|a| a.code.clone()).collect(),
            agency_names: agencies.iter().filter(|a| a.valid_until.is_none()).fold(
                HashMap::new(),
                |mut names, a| {
                    names
                        .entry(name_key(a.name.as_str()))
                        .or_insert_with(Vec::new)
                        .push(a.code.clone());
                    names
                },
            ),
            fields: fields.into_iter().collect(),
        }
    }
}

/// A name compared exactly, apart from Unicode form, letter case and spacing ("UBND  xã An Bình" is
/// "UBND xã An Bình"; "UBND xã An Binh" is another agency).
pub fn name_key(name: &str) -> String {
    motcua_domain::text::normalize(name)
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn record_code(value: &Value, keys: &[&str]) -> Option<String> {
    keys.iter()
        .find_map(|k| value.get(k).and_then(Value::as_str))
        .map(|s| s.chars().filter(|c| !c.is_control()).take(40).collect())
}

/// Deserialize each element of `list` on its own, collecting the failures. Returns the records read and
/// their 1-based positions in the file.
fn each<T: serde::de::DeserializeOwned>(
    list: Option<&Value>,
    kind: &'static str,
    code_keys: &[&str],
    rejected: &mut Vec<Rejected>,
) -> (Vec<T>, Vec<usize>) {
    let Some(items) = list.and_then(Value::as_array) else {
        return (Vec::new(), Vec::new());
    };
    let mut out = Vec::with_capacity(items.len());
    let mut positions = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if let Some(name) = item.get("name")
            && name.as_str().is_none_or(|n| n.trim().is_empty())
        {
            rejected.push(Rejected {
                kind,
                number: i + 1,
                code: record_code(item, code_keys),
                reason: "tên (name) không được để trống".into(),
            });
            continue;
        }
        match serde_json::from_value::<T>(item.clone()) {
            Ok(v) => {
                out.push(v);
                positions.push(i + 1);
            }
            Err(e) => rejected.push(Rejected {
                kind,
                number: i + 1,
                code: record_code(item, code_keys),
                reason: e.to_string(),
            }),
        }
    }
    (out, positions)
}

/// Where each record of a batch stood in its file (1-based), for messages.
#[derive(Debug, Default)]
struct Positions {
    agencies: Vec<usize>,
    procedures: Vec<usize>,
    levels: Vec<usize>,
}

/// Parse a catalogue file in either format.
pub fn parse(
    text: &str,
    options: &ImportOptions,
    known: &Known,
) -> Result<CatalogueBatch, ImportError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| ImportError::NotJson(e.to_string()))?;
    if let Some(records) = national_records(&value) {
        return national(records, options, known);
    }
    let Some(object) = value.as_object() else {
        return Err(ImportError::UnknownShape(
            "cần một đối tượng JSON có \"procedures\" (định dạng motcua) hoặc danh sách thủ tục có \"MATTHC\" (định dạng quốc gia)".into(),
        ));
    };
    if let Some(format) = object.get("format")
        && format.as_str() != Some(FORMAT)
    {
        return Err(ImportError::UnknownShape(format!(
            "\"format\" phải là \"{FORMAT}\""
        )));
    }
    if let Some(version) = object.get("format_version")
        && version.as_u64() != Some(FORMAT_VERSION)
    {
        return Err(ImportError::UnknownShape(format!(
            "\"format_version\" {version} chưa được hỗ trợ (hỗ trợ {FORMAT_VERSION})"
        )));
    }
    if !object.contains_key("procedures") {
        return Err(ImportError::UnknownShape(
            "thiếu danh sách \"procedures\"".into(),
        ));
    }
    let mut rejected = Vec::new();
    let (agencies, agency_positions) =
        each(object.get("agencies"), "Cơ quan", &["code"], &mut rejected);
    let (fields, _) = each(object.get("fields"), "Lĩnh vực", &["code"], &mut rejected);
    let (procedures, procedure_positions) = each(
        object.get("procedures"),
        "Thủ tục",
        &["code"],
        &mut rejected,
    );
    let (service_levels, level_positions) = each(
        object.get("service_levels"),
        "Mức độ",
        &["procedure"],
        &mut rejected,
    );
    let batch = CatalogueBatch {
        agencies,
        fields,
        procedures,
        service_levels,
    };
    let positions = Positions {
        agencies: agency_positions,
        procedures: procedure_positions,
        levels: level_positions,
    };
    check(batch, &positions, known, rejected)
}

/// Cross-record rules: each record valid on its own, codes unique, references resolvable.
fn check(
    batch: CatalogueBatch,
    positions: &Positions,
    known: &Known,
    mut rejected: Vec<Rejected>,
) -> Result<CatalogueBatch, ImportError> {
    let agencies: HashSet<&AgencyCode> = known
        .agencies
        .iter()
        .chain(batch.agencies.iter().map(|a| &a.code))
        .collect();
    let fields: HashSet<&FieldCode> = known
        .fields
        .iter()
        .chain(batch.fields.iter().map(|f| &f.code))
        .collect();
    let mut seen = HashSet::new();
    for (i, a) in batch.agencies.iter().enumerate() {
        let mut reject = |reason: String| {
            rejected.push(Rejected {
                kind: "Cơ quan",
                number: positions.agencies.get(i).copied().unwrap_or(i + 1),
                code: Some(a.code.to_string()),
                reason,
            })
        };
        if let Err(e) = a.validate() {
            reject(e.to_string());
        }
        if !seen.insert(a.code.clone()) {
            reject("mã cơ quan bị trùng trong tệp".into());
        }
        for other in a.parent.iter().chain(&a.successor) {
            if !agencies.contains(other) {
                reject(format!("cơ quan {other} không tồn tại"));
            }
        }
    }
    let mut seen = HashSet::new();
    for (i, p) in batch.procedures.iter().enumerate() {
        let mut reject = |reason: String| {
            rejected.push(Rejected {
                kind: "Thủ tục",
                number: positions.procedures.get(i).copied().unwrap_or(i + 1),
                code: Some(p.code.to_string()),
                reason,
            })
        };
        if let Err(e) = p.validate() {
            reject(e.to_string());
        }
        if !seen.insert(p.code.clone()) {
            reject("mã thủ tục bị trùng trong tệp".into());
        }
        for f in &p.fields {
            if !fields.contains(f) {
                reject(format!("lĩnh vực {f} không tồn tại"));
            }
        }
        for a in &p.agencies {
            if !agencies.contains(a) {
                reject(format!("cơ quan thực hiện {a} không tồn tại"));
            }
        }
    }
    let rejected_procedures: HashSet<String> = rejected
        .iter()
        .filter(|r| r.kind == "Thủ tục")
        .filter_map(|r| r.code.clone())
        .collect();
    for (i, l) in batch.service_levels.iter().enumerate() {
        let mut reject = |reason: String| {
            rejected.push(Rejected {
                kind: "Mức độ",
                number: positions.levels.get(i).copied().unwrap_or(i + 1),
                code: Some(l.procedure.to_string()),
                reason,
            })
        };
        match batch.procedures.iter().find(|p| p.code == l.procedure) {
            // its procedure was rejected above: that is the error to fix
            None if rejected_procedures.contains(l.procedure.as_str()) => {}
            None => reject(format!("thủ tục {} không có trong tệp", l.procedure)),
            Some(p) if p.case(&l.case).is_none() => reject(format!(
                "thủ tục {} không có trường hợp {}",
                l.procedure, l.case
            )),
            Some(_) => {}
        }
        if !agencies.contains(&l.agency) {
            reject(format!("cơ quan {} không tồn tại", l.agency));
        }
    }
    if rejected.is_empty() {
        Ok(batch)
    } else {
        let rank = |kind: &str| {
            ["Cơ quan", "Lĩnh vực", "Thủ tục", "Mức độ"]
                .iter()
                .position(|k| *k == kind)
        };
        rejected.sort_by(|a, b| {
            rank(a.kind)
                .cmp(&rank(b.kind))
                .then(a.number.cmp(&b.number))
        });
        Err(ImportError::Rejected(rejected))
    }
}

/// The national catalogue's records: a list of objects with `MATTHC`, possibly wrapped in `{"data": [...]}`.
fn national_records(value: &Value) -> Option<&Vec<Value>> {
    let list = match value {
        Value::Array(list) => list,
        Value::Object(o) => ["data", "result", "items"]
            .iter()
            .find_map(|k| o.get(*k)?.as_array())?,
        _ => return None,
    };
    list.first()?.get("MATTHC")?;
    Some(list)
}

fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn number_of(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Number(n) => n.as_f64(),
        // "200.000", "200,000", "200000 đồng"
        Value::String(s) => {
            let digits: String = s
                .chars()
                .take_while(|c| {
                    c.is_ascii_digit() || *c == '.' || *c == ',' || *c == '-' || *c == ' '
                })
                .collect();
            let cleaned: String = digits.chars().filter(|c| !c.is_whitespace()).collect();
            let is_grouped = cleaned.matches(['.', ',']).count() >= 1
                && cleaned
                    .rsplit(['.', ','])
                    .next()
                    .is_some_and(|last| last.len() == 3);
            if is_grouped {
                cleaned.replace(['.', ','], "").parse().ok()
            } else {
                cleaned.replace(',', ".").parse().ok()
            }
        }
        _ => None,
    }
}

fn array<'a>(record: &'a Value, key: &str) -> &'a [Value] {
    record
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// A URL-safe case key from a case name ("Trường hợp 1" → "truong-hop-1").
fn case_key(name: &str, used: &mut HashSet<String>) -> CaseKey {
    let folded = motcua_domain::text::normalize(name);
    let mut slug = String::new();
    for c in folded.chars() {
        let base = match c {
            'đ' | 'Đ' => 'd',
            c => unicode_base(c),
        };
        if base.is_ascii_alphanumeric() {
            slug.push(base.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let mut slug: String = slug.trim_end_matches('-').chars().take(48).collect();
    if slug.is_empty() {
        slug = "mac-dinh".into();
    }
    let mut key = slug.clone();
    let mut n = 2;
    while !used.insert(key.clone()) {
        key = format!("{slug}-{n}");
        n += 1;
    }
    CaseKey::parse(&key).unwrap_or_else(|_| CaseKey::parse("mac-dinh").expect("constant key"))
}

fn unicode_base(c: char) -> char {
    use unicode_normalization::UnicodeNormalization;
    std::iter::once(c).nfd().next().unwrap_or(c)
}

fn national(
    records: &[Value],
    options: &ImportOptions,
    known: &Known,
) -> Result<CatalogueBatch, ImportError> {
    let mut rejected = Vec::new();
    let mut fields: BTreeMap<String, Field> = BTreeMap::new();
    let mut procedures = Vec::new();
    let mut positions = Positions::default();
    let mut created: BTreeMap<AgencyCode, Agency> = BTreeMap::new();
    for (i, record) in records.iter().enumerate() {
        let code = text_of(record.get("MATTHC"));
        match national_procedure(record, options, known, &mut fields, &mut created) {
            Ok(p) => {
                procedures.push(p);
                positions.procedures.push(i + 1);
            }
            Err(reason) => rejected.push(Rejected {
                kind: "Thủ tục",
                number: i + 1,
                code,
                reason,
            }),
        }
    }
    positions.agencies = (1..=created.len()).collect();
    let batch = CatalogueBatch {
        agencies: created.into_values().collect(),
        fields: fields.into_values().collect(),
        procedures,
        service_levels: Vec::new(),
    };
    check(batch, &positions, known, rejected)
}

/// The agency a national record names: ours by its code, else ours by its exact name, else a new one under its
/// national code and name (a province's department, a commune, or a ministry by the code's first letter).
fn national_agency(
    value: &Value,
    known: &Known,
    created: &mut BTreeMap<AgencyCode, Agency>,
) -> Option<AgencyCode> {
    let code = text_of(value.get("MACOQUAN")).and_then(|c| AgencyCode::parse(&c).ok());
    let name = text_of(value.get("TENCOQUAN"));
    if let Some(code) = &code
        && (known.agencies.contains(code) || created.contains_key(code))
    {
        return Some(code.clone());
    }
    // by exact name: the one agency in force of that name (in the code's province when a code is given)
    if let Some(named) = name
        .as_deref()
        .and_then(|n| known.agency_names.get(&name_key(n)))
    {
        let fits: Vec<&AgencyCode> = named
            .iter()
            .filter(|c| code.as_ref().is_none_or(|code| c.level1() == code.level1()))
            .collect();
        if let [one] = fits.as_slice() {
            return Some((*one).clone());
        }
    }
    let (code, name) = (
        code?,
        NonEmptyText::parse(&motcua_domain::text::normalize(&name?)).ok()?,
    );
    let folded = motcua_search::fold(name.as_str());
    let level = if code.level1().starts_with('G') {
        AgencyLevel::Ministry
    } else if [
        "ubnd xa",
        "ubnd phuong",
        "ubnd dac khu",
        "uy ban nhan dan xa",
        "uy ban nhan dan phuong",
    ]
    .iter()
    .any(|p| folded.starts_with(p))
    {
        AgencyLevel::Commune
    } else {
        AgencyLevel::Province
    };
    // under the province's people's committee when we have it
    let top = AgencyCode::parse(&format!("000.00.00.{}", code.level1())).ok()?;
    let parent = (top != code && (known.agencies.contains(&top) || created.contains_key(&top)))
        .then_some(top);
    created.insert(
        code.clone(),
        Agency {
            code: code.clone(),
            name,
            parent,
            level,
            address: None,
            valid_from: motcua_domain::vntime::vn_date(time::OffsetDateTime::now_utc()),
            valid_until: None,
            successor: None,
        },
    );
    Some(code)
}

fn national_procedure(
    record: &Value,
    options: &ImportOptions,
    known: &Known,
    fields: &mut BTreeMap<String, Field>,
    created: &mut BTreeMap<AgencyCode, Agency>,
) -> Result<Procedure, String> {
    let code =
        ProcedureCode::parse(&text_of(record.get("MATTHC")).ok_or("thiếu mã thủ tục (MATTHC)")?)
            .map_err(|e| e.to_string())?;
    let name = NonEmptyText::parse_named(
        &text_of(record.get("TENTTHC")).unwrap_or_default(),
        "Tên thủ tục (TENTTHC)",
    )
    .map_err(|e| e.to_string())?;

    let mut field_codes = Vec::new();
    for f in array(record, "LINHVUCTHUCHIEN") {
        let code = FieldCode::parse(&text_of(f.get("MALINHVUC")).unwrap_or_default())
            .map_err(|e| e.to_string())?;
        let name = NonEmptyText::parse_named(
            &text_of(f.get("TENLINHVUC")).unwrap_or_default(),
            "Tên lĩnh vực (TENLINHVUC)",
        )
        .map_err(|e| e.to_string())?;
        fields.entry(code.to_string()).or_insert(Field {
            code: code.clone(),
            name,
        });
        field_codes.push(code);
    }

    let level_text = motcua_search::fold(&text_of(record.get("CAPTHUCHIEN")).unwrap_or_default());
    let mut implementing_levels = Vec::new();
    for (word, level) in [
        ("bo", ImplementingLevel::Ministry),
        ("tinh", ImplementingLevel::Province),
        ("xa", ImplementingLevel::Commune),
    ] {
        if level_text
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| w == word)
        {
            implementing_levels.push(level);
        }
    }

    let mut agencies = Vec::new();
    let agency_values: Vec<Value> = match record.get("COQUANTHUCHIEN") {
        Some(Value::Array(list)) => list.clone(),
        Some(other) => vec![other.clone()],
        None => Vec::new(),
    };
    for a in &agency_values {
        if let Some(code) = national_agency(a, known, created)
            && !agencies.contains(&code)
        {
            agencies.push(code);
        }
    }
    if agencies.is_empty() {
        agencies.push(options.agency.clone().ok_or(
            "không xác định được cơ quan thực hiện (COQUANTHUCHIEN không có mã định danh hợp lệ, cũng không trùng tên cơ quan nào trong danh mục; dùng --agency MÃ_CƠ_QUAN)",
        )?);
    }

    let applicants_text =
        motcua_search::fold(&text_of(record.get("DOITUONGTHUCHIEN")).unwrap_or_default());
    let mut applicants = Vec::new();
    for (needle, kind) in [
        ("cong dan", ApplicantKind::Citizen),
        ("nuoc ngoai", ApplicantKind::Foreigner),
        ("doanh nghiep", ApplicantKind::Business),
        ("to chuc", ApplicantKind::Organisation),
    ] {
        if applicants_text.contains(needle) {
            applicants.push(kind);
        }
    }
    if applicants.is_empty() {
        applicants.push(ApplicantKind::Citizen);
    }

    // time limits and fees are per channel in the national record; they apply to every case
    let mut time_limits = Vec::new();
    let mut fees: Vec<FeeLine> = Vec::new();
    for method in array(record, "CACHTHUCTHUCHIEN") {
        let channel = text_of(method.get("KENH"))
            .and_then(|k| k.parse::<u8>().ok())
            .and_then(|k| Channel::from_code(k).ok())
            .ok_or("kênh (KENH) phải là 1, 2 hoặc 3")?;
        if let Some(time) = array(method, "THOIGIAN").first() {
            let value = number_of(time.get("THOIGIANGIAIQUYET"))
                .ok_or("thiếu thời hạn giải quyết (THOIGIANGIAIQUYET)")?;
            if value < 0.0 {
                return Err(format!("thời hạn giải quyết âm: {value}"));
            }
            let unit = motcua_search::fold(&text_of(time.get("DONVITINH")).unwrap_or_default());
            let limit = if unit.contains("gio") {
                TimeLimit {
                    value: value.ceil() as u32,
                    unit: TimeUnit::WorkingHours,
                }
            } else if unit.contains("lam viec") {
                if value.fract() == 0.0 {
                    TimeLimit {
                        value: value as u32,
                        unit: TimeUnit::WorkingDays,
                    }
                } else {
                    // half a working day and the like: counted in working hours (1 day = 8 hours)
                    TimeLimit {
                        value: (value * 8.0).ceil() as u32,
                        unit: TimeUnit::WorkingHours,
                    }
                }
            } else {
                TimeLimit {
                    value: value.ceil() as u32,
                    unit: TimeUnit::CalendarDays,
                }
            };
            if !time_limits
                .iter()
                .any(|t: &ChannelTimeLimit| t.channel == channel)
            {
                let note = text_of(time.get("MOTA"));
                time_limits.push(ChannelTimeLimit {
                    channel,
                    limit,
                    // "sau 15 giờ thì trả trong ngày làm việc tiếp theo" is a rule, not only words
                    cutoff_hour: note
                        .as_deref()
                        .and_then(motcua_domain::procedure::cutoff_hour_in),
                    note,
                });
            }
            for fee in array(time, "PHILEPHI") {
                let amount = number_of(fee.get("SOTIEN")).unwrap_or(0.0);
                if amount < 0.0 {
                    return Err(format!("phí, lệ phí âm: {amount}"));
                }
                let description = text_of(fee.get("MOTA")).unwrap_or_else(|| "Phí, lệ phí".into());
                let folded = motcua_search::fold(&description);
                let kind = if folded.contains("le phi") {
                    FeeKind::Levy
                } else {
                    FeeKind::Fee
                };
                let amount = Vnd::new(amount.round() as i64).map_err(|e| e.to_string())?;
                let line = FeeLine {
                    kind,
                    amount,
                    description: NonEmptyText::parse(&description).map_err(|e| e.to_string())?,
                    online_amount: None,
                    due: Default::default(),
                    exemption_note: None,
                    per_copy_of: None,
                };
                if !fees.contains(&line) {
                    fees.push(line);
                }
            }
        }
    }

    let mut used = HashSet::new();
    let mut cases = Vec::new();
    for group in array(record, "THANHPHANHOSO") {
        let case_name =
            text_of(group.get("TRUONGHOP")).unwrap_or_else(|| "Trường hợp thông thường".into());
        let mut components = Vec::new();
        for paper in array(group, "GIAYTO") {
            let name = NonEmptyText::parse_named(
                &text_of(paper.get("TENGIAYTO")).unwrap_or_default(),
                "Tên giấy tờ (TENGIAYTO)",
            )
            .map_err(|e| e.to_string())?;
            let count =
                |key: &str| number_of(paper.get(key)).map_or(0, |n| n.clamp(0.0, 255.0) as u8);
            components.push(Component {
                name,
                originals: count("SOBANCHINH"),
                copies: count("SOBANSAO"),
                required: true,
                template: None,
                from_form: false,
            });
        }
        cases.push(ProcedureCase {
            key: case_key(&case_name, &mut used),
            name: NonEmptyText::parse(&case_name).map_err(|e| e.to_string())?,
            components,
            time_limits: time_limits.clone(),
            fees: fees.clone(),
            form: None,
        });
    }
    if cases.is_empty() {
        return Err("không có thành phần hồ sơ (THANHPHANHOSO)".into());
    }
    let results = array(record, "KETQUATHUCHIEN")
        .iter()
        .filter_map(|r| text_of(r.get("TENKETQUA")))
        .collect();
    let procedure = Procedure {
        code,
        name,
        fields: field_codes,
        implementing_levels,
        agencies,
        applicants,
        cases,
        conditions: text_of(record.get("YEUCAUDIEUKIEN")).into_iter().collect(),
        steps: Vec::new(),
        results,
        legal_bases: Vec::new(),
        number_of_sets: 1,
        where_to_submit: text_of(record.get("DIACHITIEPNHAN")),
        publishing_decision: text_of(record.get("QUYETDINHCONGBO")),
        published: true,
    };
    procedure.validate().map_err(|e| e.to_string())?;
    Ok(procedure)
}

/// The catalogue in motcua's format, ready to write.
#[derive(Serialize)]
pub struct Export<'a> {
    pub format: &'static str,
    pub format_version: u64,
    pub agencies: &'a [Agency],
    pub fields: &'a [Field],
    pub procedures: Vec<&'a Procedure>,
    pub service_levels: &'a [ServiceLevelAssignment],
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn known() -> Known {
        Known {
            agencies: [AgencyCode::parse("000.32.00.H56").unwrap()]
                .into_iter()
                .collect(),
            agency_names: [(
                name_key("UBND xã An Bình"),
                vec![AgencyCode::parse("000.32.00.H56").unwrap()],
            )]
            .into_iter()
            .collect(),
            fields: HashSet::new(),
        }
    }

    fn national_birth() -> Value {
        json!({
            "MATTHC": "1.003583", "TENTTHC": "Đăng ký khai sinh lưu động", "CAPTHUCHIEN": "Cấp Xã",
            "LINHVUCTHUCHIEN": [{"MALINHVUC": "HOTICH", "TENLINHVUC": "Hộ tịch"}],
            "COQUANTHUCHIEN": [{"MACOQUAN": "000.32.00.H56", "TENCOQUAN": "UBND xã An Bình"}],
            "DOITUONGTHUCHIEN": "Công dân Việt Nam, Người nước ngoài",
            "CACHTHUCTHUCHIEN": [
                {"KENH": "1", "THOIGIAN": [{"THOIGIANGIAIQUYET": "5", "DONVITINH": "Ngày làm việc",
                  "MOTA": "Hồ sơ nhận sau 15 giờ thì trả trong ngày làm việc tiếp theo",
                  "PHILEPHI": [{"MAPHILEPHI": "LP", "SOTIEN": "8.000", "MOTA": "Lệ phí đăng ký", "DONVI": "Đồng"}]}]},
                {"KENH": 2, "THOIGIAN": [{"THOIGIANGIAIQUYET": 0.5, "DONVITINH": "Ngày làm việc", "PHILEPHI": []}]},
                {"KENH": "3", "THOIGIAN": [{"THOIGIANGIAIQUYET": "10", "DONVITINH": "Ngày", "PHILEPHI": []}]}
            ],
            "THANHPHANHOSO": [
                {"TRUONGHOP": "Trường hợp đăng ký lưu động", "GIAYTO": [
                    {"MAGIAYTO": "1", "TENGIAYTO": "Tờ khai đăng ký khai sinh", "SOBANCHINH": "1", "SOBANSAO": "0"}]},
                {"TRUONGHOP": "Trường hợp đăng ký lưu động", "GIAYTO": [
                    {"MAGIAYTO": "2", "TENGIAYTO": "Giấy chứng sinh", "SOBANCHINH": 1, "SOBANSAO": 2}]}
            ],
            "KETQUATHUCHIEN": [{"MAKETQUA": "1", "TENKETQUA": "Giấy khai sinh"}],
            "DIACHITIEPNHAN": "UBND cấp xã"
        })
    }

    #[test]
    fn the_national_shape_maps_onto_a_procedure() {
        let text = json!([national_birth()]).to_string();
        let batch = parse(&text, &ImportOptions::default(), &known()).unwrap();
        assert_eq!(batch.fields.len(), 1);
        let p = &batch.procedures[0];
        assert_eq!(p.code.as_str(), "1.003583");
        assert_eq!(p.implementing_levels, [ImplementingLevel::Commune]);
        assert_eq!(
            p.applicants,
            [ApplicantKind::Citizen, ApplicantKind::Foreigner]
        );
        assert_eq!(p.agencies[0].as_str(), "000.32.00.H56");
        assert_eq!(p.cases.len(), 2);
        assert_eq!(p.cases[0].key.as_str(), "truong-hop-dang-ky-luu-dong");
        assert_eq!(
            p.cases[1].key.as_str(),
            "truong-hop-dang-ky-luu-dong-2",
            "case keys stay unique"
        );
        assert_eq!(
            (
                p.cases[1].components[0].originals,
                p.cases[1].components[0].copies
            ),
            (1, 2)
        );
        let case = &p.cases[0];
        assert_eq!(
            case.time_limit_for(Channel::InPerson).unwrap().limit,
            TimeLimit {
                value: 5,
                unit: TimeUnit::WorkingDays
            }
        );
        assert_eq!(
            case.time_limit_for(Channel::Online).unwrap().limit,
            TimeLimit {
                value: 4,
                unit: TimeUnit::WorkingHours
            }
        );
        assert_eq!(
            case.time_limit_for(Channel::InPerson).unwrap().cutoff_hour,
            Some(15),
            "the cut-off hour written in words is a rule"
        );
        assert_eq!(
            case.time_limit_for(Channel::Online).unwrap().cutoff_hour,
            None
        );
        assert_eq!(
            case.time_limit_for(Channel::Post).unwrap().limit,
            TimeLimit {
                value: 10,
                unit: TimeUnit::CalendarDays
            }
        );
        assert_eq!(case.fees[0].kind, FeeKind::Levy);
        assert_eq!(
            case.fees[0].amount.amount(),
            8_000,
            "8.000 is eight thousand đồng"
        );
        assert_eq!(p.results, ["Giấy khai sinh"]);
    }

    #[test]
    fn every_bad_record_is_reported_with_its_number_and_reason() {
        let mut no_name = national_birth();
        no_name["TENTTHC"] = json!("");
        let mut negative = national_birth();
        negative["MATTHC"] = json!("1.003584");
        negative["CACHTHUCTHUCHIEN"][0]["THOIGIAN"][0]["PHILEPHI"][0]["SOTIEN"] = json!(-100);
        let text = json!([national_birth(), no_name, negative]).to_string();
        let Err(ImportError::Rejected(list)) = parse(&text, &ImportOptions::default(), &known())
        else {
            panic!("should be rejected");
        };
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].number, 2);
        assert!(
            list[0]
                .reason
                .contains("Tên thủ tục (TENTTHC) không được để trống"),
            "{}",
            list[0]
        );
        assert_eq!(
            (list[1].number, list[1].code.as_deref()),
            (3, Some("1.003584"))
        );
        assert!(list[1].reason.contains("âm"), "{}", list[1]);
    }

    #[test]
    fn the_motcua_format_rejects_bad_records_and_dangling_references() {
        let text = json!({
            "format": FORMAT, "format_version": 1,
            "fields": [{"code": "HOTICH", "name": "Hộ tịch"}],
            "procedures": [
                {"code": "1.001193", "name": "Đăng ký khai sinh", "fields": ["HOTICH"], "implementing_levels": ["commune"],
                 "agencies": ["000.32.00.H56"], "applicants": ["citizen"],
                 "cases": [{"key": "mac-dinh", "name": "Mặc định", "components": [],
                            "time_limits": [{"channel": "in_person", "limit": {"value": 1, "unit": "working_days"}}],
                            "fees": [{"kind": "fee", "amount": -5, "description": "Phí"}]}]},
                {"code": "1.000894", "name": "  ", "fields": [], "implementing_levels": [], "agencies": [],
                 "applicants": [], "cases": []},
                {"code": "1.000895", "name": "Thủ tục lạ", "fields": ["KHONGCO"], "implementing_levels": ["commune"],
                 "agencies": ["000.99.99.H56"], "applicants": ["citizen"],
                 "cases": [{"key": "mac-dinh", "name": "Mặc định", "components": [],
                            "time_limits": [{"channel": "online", "limit": {"value": 1, "unit": "working_days"}}]}]}
            ]
        })
        .to_string();
        let Err(ImportError::Rejected(list)) = parse(&text, &ImportOptions::default(), &known())
        else {
            panic!("should be rejected");
        };
        let shown: Vec<String> = list.iter().map(ToString::to_string).collect();
        assert!(
            shown[0].starts_with("Thủ tục thứ 1 (1.001193): Số tiền không được âm: -5"),
            "{shown:?}"
        );
        assert!(
            shown[1].starts_with("Thủ tục thứ 2 (1.000894): Tên thủ tục")
                || shown[1].contains("không được để trống"),
            "{shown:?}"
        );
        assert!(
            shown
                .iter()
                .any(|s| s.contains("lĩnh vực KHONGCO không tồn tại")),
            "{shown:?}"
        );
        assert!(
            shown
                .iter()
                .any(|s| s.contains("cơ quan thực hiện 000.99.99.H56 không tồn tại")),
            "{shown:?}"
        );
    }

    #[test]
    fn files_that_are_not_catalogues_say_so() {
        let none = ImportOptions::default();
        assert!(matches!(
            parse("không phải json", &none, &known()),
            Err(ImportError::NotJson(_))
        ));
        assert!(matches!(
            parse("42", &none, &known()),
            Err(ImportError::UnknownShape(_))
        ));
        assert!(matches!(
            parse(
                "{\"format\": \"khac\", \"procedures\": []}",
                &none,
                &known()
            ),
            Err(ImportError::UnknownShape(_))
        ));
        assert!(matches!(
            parse("{\"agencies\": []}", &none, &known()),
            Err(ImportError::UnknownShape(_))
        ));
    }

    #[test]
    fn amounts_in_vietnamese_notation_are_read() {
        assert_eq!(number_of(Some(&json!("200.000"))), Some(200_000.0));
        assert_eq!(number_of(Some(&json!("1.234.000 đồng"))), Some(1_234_000.0));
        assert_eq!(number_of(Some(&json!("0,5"))), Some(0.5));
        assert_eq!(number_of(Some(&json!(15000))), Some(15_000.0));
        assert_eq!(number_of(Some(&json!("miễn phí"))), None);
    }
}
