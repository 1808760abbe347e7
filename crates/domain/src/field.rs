//! Fields (lĩnh vực) of administrative procedures: civil status, land, construction…

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::{NonEmptyText, ParseError};

/// Code of a field as the national catalogue gives it (`MALINHVUC`), e.g. `G09-TP07` or `HOTICH`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FieldCode(String);

impl FieldCode {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let code = input.trim();
        let ok = !code.is_empty()
            && code.len() <= 32
            && code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_');
        if ok {
            Ok(FieldCode(code.to_string()))
        } else {
            Err(ParseError::FieldCode(input.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for FieldCode {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<FieldCode> for String {
    fn from(value: FieldCode) -> Self {
        value.0
    }
}

impl fmt::Display for FieldCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A field (lĩnh vực), e.g. Hộ tịch (civil status).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub code: FieldCode,
    pub name: NonEmptyText,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_codes() {
        assert!(FieldCode::parse("G09-TP07").is_ok());
        assert!(FieldCode::parse("").is_err());
        assert!(FieldCode::parse("hộ tịch").is_err());
        assert!(FieldCode::parse(&"A".repeat(33)).is_err());
    }
}
