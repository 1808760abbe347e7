//! Vietnamese text as it must be stored: NFC-normalised (input from macOS and some IMEs arrives decomposed,
//! NFD), trimmed, and for labels never empty.

use serde::{Deserialize, Serialize};
use std::fmt;
use unicode_normalization::UnicodeNormalization;

use crate::ParseError;

/// NFC-normalise and trim a string from the outside world.
pub fn normalize(input: &str) -> String {
    input.trim().nfc().collect()
}

/// A label or name: NFC, trimmed, not empty, at most 2,000 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NonEmptyText(String);

impl NonEmptyText {
    pub const MAX_CHARS: usize = 2_000;

    /// Parse `input`; `what` names the value in the error message (Vietnamese, e.g. "Tên thủ tục").
    pub fn parse_named(input: &str, what: &'static str) -> Result<Self, ParseError> {
        let text = normalize(input);
        if text.is_empty() {
            return Err(ParseError::Empty(what));
        }
        if text.chars().count() > Self::MAX_CHARS {
            return Err(ParseError::TooLong {
                what,
                max: Self::MAX_CHARS,
            });
        }
        Ok(Self(text))
    }

    pub fn parse(input: &str) -> Result<Self, ParseError> {
        Self::parse_named(input, "Nội dung")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for NonEmptyText {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<NonEmptyText> for String {
    fn from(value: NonEmptyText) -> Self {
        value.0
    }
}

impl fmt::Display for NonEmptyText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for NonEmptyText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decomposed_input_is_stored_composed() {
        let nfd = "Đăng ky\u{301} khai sinh"; // "ký" typed as y + combining acute
        let text = NonEmptyText::parse(nfd).unwrap();
        assert_eq!(text.as_str(), "Đăng ký khai sinh");
    }

    #[test]
    fn blank_text_is_refused_with_its_name() {
        let err = NonEmptyText::parse_named("  \t ", "Tên thủ tục").unwrap_err();
        assert_eq!(err.to_string(), "Tên thủ tục không được để trống");
    }

    #[test]
    fn overlong_text_is_refused() {
        let long = "a".repeat(NonEmptyText::MAX_CHARS + 1);
        assert!(matches!(
            NonEmptyText::parse(&long),
            Err(ParseError::TooLong { .. })
        ));
    }
}
