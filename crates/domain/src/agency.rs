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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
