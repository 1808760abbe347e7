//! Online public-service levels (Decree 43/2011 levels 1–4; since Decree 42/2022 "cung cấp thông tin",
//! "DVCTT một phần" and "DVCTT toàn trình"). A level belongs to a procedure case at one agency, and its
//! changes are kept as history.

use serde::{Deserialize, Serialize};
use std::fmt;
use time::Date;

use crate::{AgencyCode, CaseKey, ParseError, ProcedureCode};

/// Online service level 1–4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum OnlineServiceLevel {
    /// Full information about the procedure and its legal texts.
    Level1 = 1,
    /// Level 1 plus downloadable form templates.
    Level2 = 2,
    /// Submit online; fees paid and result collected in person ("một phần").
    Level3 = 3,
    /// Pay online and receive the result online or by post ("toàn trình").
    Level4 = 4,
}

impl OnlineServiceLevel {
    pub const ALL: [OnlineServiceLevel; 4] = [
        OnlineServiceLevel::Level1,
        OnlineServiceLevel::Level2,
        OnlineServiceLevel::Level3,
        OnlineServiceLevel::Level4,
    ];

    pub fn number(self) -> u8 {
        self as u8
    }

    /// Name under Decree 43/2011: "Mức độ 3".
    pub fn name_2011(self) -> String {
        format!("Mức độ {}", self.number())
    }

    /// Name under Decree 42/2022.
    pub fn name_2022(self) -> &'static str {
        match self {
            OnlineServiceLevel::Level1 | OnlineServiceLevel::Level2 => "Cung cấp thông tin",
            OnlineServiceLevel::Level3 => "Dịch vụ công trực tuyến một phần",
            OnlineServiceLevel::Level4 => "Dịch vụ công trực tuyến toàn trình",
        }
    }

    pub fn name_2022_en(self) -> &'static str {
        match self {
            OnlineServiceLevel::Level1 | OnlineServiceLevel::Level2 => "Information only",
            OnlineServiceLevel::Level3 => "Partial online service",
            OnlineServiceLevel::Level4 => "Full online service",
        }
    }

    pub fn offers_templates(self) -> bool {
        self >= OnlineServiceLevel::Level2
    }

    pub fn allows_online_submission(self) -> bool {
        self >= OnlineServiceLevel::Level3
    }

    pub fn allows_online_payment(self) -> bool {
        self == OnlineServiceLevel::Level4
    }

    pub fn allows_online_result(self) -> bool {
        self == OnlineServiceLevel::Level4
    }
}

impl TryFrom<u8> for OnlineServiceLevel {
    type Error = ParseError;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        match value {
            1 => Ok(OnlineServiceLevel::Level1),
            2 => Ok(OnlineServiceLevel::Level2),
            3 => Ok(OnlineServiceLevel::Level3),
            4 => Ok(OnlineServiceLevel::Level4),
            other => Err(ParseError::OnlineLevel(other.to_string())),
        }
    }
}

impl From<OnlineServiceLevel> for u8 {
    fn from(value: OnlineServiceLevel) -> Self {
        value.number()
    }
}

impl fmt::Display for OnlineServiceLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name_2011(), self.name_2022())
    }
}

/// The level of one procedure case at one agency from a date on. A later assignment replaces an earlier one;
/// earlier ones stay as history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceLevelAssignment {
    pub procedure: ProcedureCode,
    pub case: CaseKey,
    pub agency: AgencyCode,
    pub level: OnlineServiceLevel,
    pub effective_from: Date,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_each_level_allows() {
        use OnlineServiceLevel::*;
        assert!(!Level2.allows_online_submission());
        assert!(Level3.allows_online_submission() && !Level3.allows_online_payment());
        assert!(Level4.allows_online_payment() && Level4.allows_online_result());
        assert!(!Level1.offers_templates() && Level2.offers_templates());
        assert_eq!(Level3.name_2022(), "Dịch vụ công trực tuyến một phần");
        assert_eq!(
            Level4.to_string(),
            "Mức độ 4 (Dịch vụ công trực tuyến toàn trình)"
        );
    }

    #[test]
    fn levels_outside_one_to_four_are_refused() {
        for n in [0u8, 5, 255] {
            assert!(OnlineServiceLevel::try_from(n).is_err());
        }
        for level in OnlineServiceLevel::ALL {
            assert_eq!(OnlineServiceLevel::try_from(level.number()), Ok(level));
        }
    }
}
