//! Agencies (cơ quan, đơn vị) and their electronic identifier codes (mã định danh điện tử, Decision 20/2020/QĐ-TTg
//! as amended by Decision 09/2025/QĐ-TTg).

use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};
use time::Date;

use crate::{NonEmptyText, ParseError};

/// Electronic identifier code of an agency, shape `DDD.DD.DD.XNN`, read right to left: `XNN` is level 1
/// (`G01`… central bodies, `H01`… provinces), then two-digit level 2 and level 3, then three-digit level 4.
/// Example: `000.00.06.H56`. A code is never reused, even after the agency is dissolved.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AgencyCode(String);

impl AgencyCode {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let code = input.trim().to_ascii_uppercase();
        let b = code.as_bytes();
        let digits = |range: std::ops::Range<usize>| range.clone().all(|i| b[i].is_ascii_digit());
        let ok = b.len() == 13
            && digits(0..3)
            && b[3] == b'.'
            && digits(4..6)
            && b[6] == b'.'
            && digits(7..9)
            && b[9] == b'.'
            && b[10].is_ascii_uppercase()
            && digits(11..13);
        if ok {
            Ok(AgencyCode(code))
        } else {
            Err(ParseError::AgencyCode(input.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The level-1 part (`H56`): the province or central body the agency belongs to.
    pub fn level1(&self) -> &str {
        &self.0[10..]
    }
}

impl FromStr for AgencyCode {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for AgencyCode {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<AgencyCode> for String {
    fn from(value: AgencyCode) -> Self {
        value.0
    }
}

impl fmt::Display for AgencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Administrative level of an agency. The district level was abolished on 1 July 2025; it stays only for
/// agencies (and dossiers) from before that date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgencyLevel {
    /// Bộ, ngành (central)
    Ministry,
    /// Cấp tỉnh (province and its departments)
    Province,
    /// Cấp huyện (legacy district, until 30/06/2025)
    LegacyDistrict,
    /// Cấp xã (commune, ward, special zone)
    Commune,
}

impl AgencyLevel {
    pub const ALL: [AgencyLevel; 4] = [
        AgencyLevel::Ministry,
        AgencyLevel::Province,
        AgencyLevel::LegacyDistrict,
        AgencyLevel::Commune,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AgencyLevel::Ministry => "ministry",
            AgencyLevel::Province => "province",
            AgencyLevel::LegacyDistrict => "legacy_district",
            AgencyLevel::Commune => "commune",
        }
    }

    pub fn parse(input: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|level| level.as_str() == input)
            .ok_or_else(|| {
                ParseError::Invalid(format!("Cấp cơ quan \u{201c}{input}\u{201d} không tồn tại"))
            })
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            AgencyLevel::Ministry => "Cấp bộ",
            AgencyLevel::Province => "Cấp tỉnh",
            AgencyLevel::LegacyDistrict => "Cấp huyện (trước 01/07/2025)",
            AgencyLevel::Commune => "Cấp xã",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            AgencyLevel::Ministry => "Ministry",
            AgencyLevel::Province => "Province",
            AgencyLevel::LegacyDistrict => "District (before 1 July 2025)",
            AgencyLevel::Commune => "Commune",
        }
    }
}

/// An agency that receives or processes dossiers, valid for a period and possibly replaced by a successor
/// (the 2025 mergers replaced many).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agency {
    pub code: AgencyCode,
    pub name: NonEmptyText,
    pub parent: Option<AgencyCode>,
    pub level: AgencyLevel,
    /// Where citizens submit dossiers and collect results.
    #[serde(default)]
    pub address: Option<String>,
    pub valid_from: Date,
    #[serde(default)]
    pub valid_until: Option<Date>,
    #[serde(default)]
    pub successor: Option<AgencyCode>,
}

impl Agency {
    /// Cross-field rules that the field types alone cannot hold.
    pub fn validate(&self) -> Result<(), ParseError> {
        if let Some(until) = self.valid_until
            && until < self.valid_from
        {
            return Err(ParseError::Invalid(format!(
                "Cơ quan {}: ngày hết hiệu lực trước ngày bắt đầu hiệu lực",
                self.code
            )));
        }
        if self.parent.as_ref() == Some(&self.code) || self.successor.as_ref() == Some(&self.code) {
            return Err(ParseError::Invalid(format!(
                "Cơ quan {} không thể là cơ quan cha hoặc cơ quan kế thừa của chính nó",
                self.code
            )));
        }
        if self.successor.is_some() && self.valid_until.is_none() {
            return Err(ParseError::Invalid(format!(
                "Cơ quan {} có cơ quan kế thừa nên phải có ngày hết hiệu lực",
                self.code
            )));
        }
        Ok(())
    }

    /// Whether the agency exists on this day.
    pub fn is_valid_on(&self, day: Date) -> bool {
        self.valid_from <= day && self.valid_until.is_none_or(|until| day <= until)
    }
}

/// What an administrator typed for an agency (in a form or on the command line), before any check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgencyInput {
    pub code: String,
    pub name: String,
    /// `ministry`, `province`, `commune` (or `legacy_district` for an agency from before 1 July 2025).
    pub level: String,
    /// The parent's code; empty for a top-level agency.
    pub parent: String,
    pub address: String,
    /// `dd/mm/yyyy`; empty: today for a new agency, unchanged for an existing one.
    pub valid_from: String,
    /// `dd/mm/yyyy`; empty: still in force.
    pub valid_until: String,
}

/// The input field a problem belongs to, so a form can point at it and the command line can name its flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgencyField {
    Code,
    Name,
    Level,
    Parent,
    ValidFrom,
    ValidUntil,
}

impl AgencyInput {
    /// The form of an agency already in the catalogue.
    pub fn of(agency: &Agency) -> Self {
        AgencyInput {
            code: agency.code.to_string(),
            name: agency.name.to_string(),
            level: agency.level.as_str().into(),
            parent: agency
                .parent
                .as_ref()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            address: agency.address.clone().unwrap_or_default(),
            valid_from: crate::vntime::format_date(agency.valid_from),
            valid_until: agency
                .valid_until
                .map(crate::vntime::format_date)
                .unwrap_or_default(),
        }
    }

    /// Check the entry against the tree it joins (`existing`: every agency of the catalogue). `current` is the
    /// agency being edited, `None` for a new one; a successor is set only by a merger, so an edit keeps it.
    pub fn check(
        &self,
        existing: &[Agency],
        current: Option<&Agency>,
        today: Date,
    ) -> Result<Agency, Vec<(AgencyField, String)>> {
        let mut problems = Vec::new();
        let code = match current {
            Some(a) => Some(a.code.clone()),
            None => {
                match AgencyCode::parse(&self.code) {
                    Err(_) => {
                        problems.push((
                        AgencyField::Code,
                        "Mã định danh gồm 13 ký tự dạng 000.00.00.H56 (Quyết định 20/2020/QĐ-TTg)".into(),
                    ));
                        None
                    }
                    Ok(code) if existing.iter().any(|a| a.code == code) => {
                        problems.push((
                        AgencyField::Code,
                        format!("Cơ quan {code} đã có trong danh mục; mã định danh không được dùng lại"),
                    ));
                        None
                    }
                    Ok(code) => Some(code),
                }
            }
        };
        let name = NonEmptyText::parse(&crate::text::normalize(&self.name))
            .map_err(|_| problems.push((AgencyField::Name, "Nhập tên cơ quan".into())))
            .ok();
        let level = match AgencyLevel::parse(self.level.trim()) {
            Ok(AgencyLevel::LegacyDistrict)
                if current.is_none_or(|a| a.level != AgencyLevel::LegacyDistrict) =>
            {
                problems.push((
                    AgencyField::Level,
                    "Cấp huyện đã bãi bỏ từ 01/07/2025; chọn cấp tỉnh hoặc cấp xã".into(),
                ));
                None
            }
            Ok(level) => Some(level),
            Err(_) => {
                problems.push((AgencyField::Level, "Chọn cấp của cơ quan".into()));
                None
            }
        };
        let parent_text = self.parent.trim();
        let parent = if parent_text.is_empty() {
            None
        } else {
            match AgencyCode::parse(parent_text) {
                Ok(p) if !existing.iter().any(|a| a.code == p) => {
                    problems.push((
                        AgencyField::Parent,
                        format!("Cơ quan cấp trên {p} chưa có trong danh mục (thêm cơ quan cấp trên trước)"),
                    ));
                    None
                }
                Ok(p) if code.as_ref().is_some_and(|c| is_below(existing, &p, c)) => {
                    problems.push((
                        AgencyField::Parent,
                        "Không thể chuyển cơ quan vào dưới chính nó hoặc đơn vị trực thuộc của nó"
                            .into(),
                    ));
                    None
                }
                Ok(p) => Some(p),
                Err(_) => {
                    problems.push((
                        AgencyField::Parent,
                        "Mã cơ quan cấp trên gồm 13 ký tự dạng 000.00.00.H56".into(),
                    ));
                    None
                }
            }
        };
        let date = |text: &str, field, fallback: Option<Date>, problems: &mut Vec<_>| {
            let text = text.trim();
            if text.is_empty() {
                return Ok(fallback);
            }
            match crate::form::parse_date(text) {
                Some(d) => Ok(Some(d)),
                None => {
                    problems.push((
                        field,
                        "Nhập ngày có thật, dạng ngày/tháng/năm, ví dụ 01/07/2025".to_string(),
                    ));
                    Err(())
                }
            }
        };
        let valid_from = date(
            &self.valid_from,
            AgencyField::ValidFrom,
            Some(current.map_or(today, |a| a.valid_from)),
            &mut problems,
        );
        let valid_until = date(
            &self.valid_until,
            AgencyField::ValidUntil,
            None,
            &mut problems,
        );
        let successor = current.and_then(|a| a.successor.clone());
        if successor.is_some() && matches!(valid_until, Ok(None)) {
            problems.push((
                AgencyField::ValidUntil,
                "Cơ quan đã sáp nhập vào cơ quan khác nên phải có ngày hết hiệu lực".into(),
            ));
        }
        if let (Ok(Some(from)), Ok(Some(until))) = (valid_from, valid_until)
            && until < from
        {
            problems.push((
                AgencyField::ValidUntil,
                "Ngày hết hiệu lực phải từ ngày bắt đầu hiệu lực trở đi".into(),
            ));
        }
        match (code, name, level, valid_from, valid_until) {
            (Some(code), Some(name), Some(level), Ok(Some(valid_from)), Ok(valid_until))
                if problems.is_empty() =>
            {
                let address = crate::text::normalize(&self.address);
                Ok(Agency {
                    code,
                    name,
                    parent,
                    level,
                    address: (!address.is_empty()).then_some(address),
                    valid_from,
                    valid_until,
                    successor,
                })
            }
            _ => Err(problems),
        }
    }
}

/// Whether `agency` is `ancestor` itself or lies below it in the tree of `all`.
pub fn is_below(all: &[Agency], agency: &AgencyCode, ancestor: &AgencyCode) -> bool {
    let mut current = Some(agency.clone());
    // a tree deeper than the catalogue has agencies would be a cycle already in the data
    for _ in 0..=all.len() {
        match current {
            None => return false,
            Some(code) if &code == ancestor => return true,
            Some(code) => {
                current = all
                    .iter()
                    .find(|a| a.code == code)
                    .and_then(|a| a.parent.clone())
            }
        }
    }
    true
}

/// Where the work of `code` is done today: the agency itself, or the last successor of a chain of mergers
/// (`None` when the agency was dissolved with no successor, or is unknown). `find` looks an agency up by code.
pub fn in_force<'a>(
    find: impl Fn(&AgencyCode) -> Option<&'a Agency>,
    code: &AgencyCode,
    today: Date,
) -> Option<&'a Agency> {
    let mut current = find(code)?;
    // a chain longer than this would be a cycle in the data
    for _ in 0..64 {
        if current.is_valid_on(today) {
            return Some(current);
        }
        current = find(current.successor.as_ref()?)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tree() -> Vec<Agency> {
        let agency = |code: &str, parent: Option<&str>| Agency {
            code: AgencyCode::parse(code).unwrap(),
            name: NonEmptyText::parse("UBND").unwrap(),
            parent: parent.map(|p| AgencyCode::parse(p).unwrap()),
            level: AgencyLevel::Commune,
            address: None,
            valid_from: time::macros::date!(2020 - 01 - 01),
            valid_until: None,
            successor: None,
        };
        vec![
            agency("000.00.00.H56", None),
            agency("000.17.00.H56", Some("000.00.00.H56")),
            agency("000.17.22.H56", Some("000.17.00.H56")),
        ]
    }

    #[test]
    fn an_entry_is_checked_against_the_tree_field_by_field() {
        let all = tree();
        let today = time::macros::date!(2026 - 11 - 29);
        let input = AgencyInput {
            code: "000.18.22.h56".into(),
            name: " UBND xa\u{301} Tân Hòa ".into(),
            level: "commune".into(),
            parent: "000.00.00.H56".into(),
            ..AgencyInput::default()
        };
        let made = input.check(&all, None, today).unwrap();
        assert_eq!(made.code.as_str(), "000.18.22.H56");
        assert_eq!(made.name.as_str(), "UBND xá Tân Hòa", "NFC and trimmed");
        assert_eq!(made.valid_from, today);

        let fields = |input: AgencyInput, current: Option<&Agency>| -> Vec<AgencyField> {
            input
                .check(&all, current, today)
                .unwrap_err()
                .into_iter()
                .map(|p| p.0)
                .collect()
        };
        let bad = AgencyInput {
            code: "000.17.22.H56".into(),
            level: "legacy_district".into(),
            parent: "000.99.00.H56".into(),
            valid_from: "31/02/2025".into(),
            ..AgencyInput::default()
        };
        assert_eq!(
            fields(bad, None),
            vec![
                AgencyField::Code,
                AgencyField::Name,
                AgencyField::Level,
                AgencyField::Parent,
                AgencyField::ValidFrom
            ]
        );
        // moving the district under its own commune would make a cycle
        let district = all[1].clone();
        let mut moved = AgencyInput::of(&district);
        moved.parent = "000.17.22.H56".into();
        assert_eq!(
            fields(moved.clone(), Some(&district)),
            vec![AgencyField::Parent]
        );
        moved.parent = String::new();
        moved.valid_until = "01/01/2019".into();
        assert_eq!(
            fields(moved.clone(), Some(&district)),
            vec![AgencyField::ValidUntil]
        );
        moved.valid_until = "30/06/2025".into();
        let retired = moved.check(&all, Some(&district), today).unwrap();
        assert_eq!(retired.parent, None);
        assert!(!retired.is_valid_on(today));
    }

    #[test]
    fn work_goes_to_the_last_successor_in_force() {
        let mut all = tree();
        let today = time::macros::date!(2026 - 11 - 29);
        all[2].valid_until = Some(time::macros::date!(2025 - 06 - 30));
        all[2].successor = Some(all[1].code.clone());
        assert_eq!(
            in_force(|c| all.iter().find(|a| &a.code == c), &all[2].code, today).map(|a| &a.code),
            Some(&all[1].code)
        );
        all[1].valid_until = Some(time::macros::date!(2025 - 06 - 30));
        assert_eq!(
            in_force(|c| all.iter().find(|a| &a.code == c), &all[2].code, today),
            None,
            "dissolved with no successor"
        );
        assert_eq!(
            in_force(|c| all.iter().find(|a| &a.code == c), &all[0].code, today).map(|a| &a.code),
            Some(&all[0].code)
        );
        assert!(is_below(&all, &all[2].code, &all[0].code));
        assert!(!is_below(&all, &all[0].code, &all[2].code));
    }

    #[test]
    fn real_codes_parse() {
        for code in [
            "000.00.00.H56",
            "000.00.06.H56",
            "000.17.22.H56",
            "000.00.00.G01",
        ] {
            assert_eq!(AgencyCode::parse(code).unwrap().as_str(), code);
        }
        assert_eq!(AgencyCode::parse("000.00.06.h56").unwrap().level1(), "H56");
    }

    #[test]
    fn malformed_codes_are_refused() {
        for code in [
            "",
            "000.00.06",
            "000.00.06.56",
            "00.00.06.H56",
            "000.00.06.H5",
            "000-00-06-H56",
            "000.00.06.H56 x",
            "000.0a.06.H56",
            "000.00.06.Đ56",
        ] {
            assert!(AgencyCode::parse(code).is_err(), "{code} should be refused");
        }
    }

    proptest! {
        #[test]
        fn every_well_shaped_code_round_trips(a in 0u32..1000, b in 0u32..100, c in 0u32..100,
                                              x in proptest::char::range('A', 'Z'), n in 0u32..100) {
            let text = format!("{a:03}.{b:02}.{c:02}.{x}{n:02}");
            let code = AgencyCode::parse(&text).unwrap();
            prop_assert_eq!(code.as_str(), text.as_str());
            let json = serde_json::to_string(&code).unwrap();
            prop_assert_eq!(serde_json::from_str::<AgencyCode>(&json).unwrap(), code);
        }

        #[test]
        fn arbitrary_text_never_panics(s in ".{0,20}") {
            let _ = AgencyCode::parse(&s);
        }
    }

    #[test]
    fn validity_period_and_successor_rules() {
        let mut agency = Agency {
            code: AgencyCode::parse("000.17.22.H56").unwrap(),
            name: NonEmptyText::parse("UBND xã A").unwrap(),
            parent: None,
            level: AgencyLevel::Commune,
            address: None,
            valid_from: time::macros::date!(2020 - 01 - 01),
            valid_until: None,
            successor: Some(AgencyCode::parse("000.18.22.H56").unwrap()),
        };
        assert!(agency.validate().is_err(), "a successor needs an end date");
        agency.valid_until = Some(time::macros::date!(2025 - 06 - 30));
        assert!(agency.validate().is_ok());
        assert!(agency.is_valid_on(time::macros::date!(2025 - 06 - 30)));
        assert!(!agency.is_valid_on(time::macros::date!(2025 - 07 - 01)));
        agency.valid_until = Some(time::macros::date!(2019 - 01 - 01));
        assert!(agency.validate().is_err());
    }
}
