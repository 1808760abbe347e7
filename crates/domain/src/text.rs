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

/// The Vietnamese alphabet in dictionary order (a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y); other
/// letters sort after by their code.
const ALPHABET: &str = "aăâbcdđeêghiklmnoôơpqrstuưvxy";

/// The key that sorts Vietnamese words as a dictionary does: letter by letter in the Vietnamese alphabet, case
/// and tone marks ignored, then tones in their order (none, huyền, hỏi, ngã, sắc, nặng) to break ties. "Ê Đê"
/// sorts after "Dao" and before "Gia Rai"; "Bắc Ninh" after "An Giang" and before "Cà Mau".
pub fn vietnamese_sort_key(text: &str) -> (Vec<u32>, Vec<u8>) {
    let mut letters: Vec<char> = Vec::new();
    let mut tones: Vec<u8> = Vec::new();
    for c in text.nfd().flat_map(char::to_lowercase) {
        let tone = match c {
            '\u{300}' => 1, // huyền
            '\u{309}' => 2, // hỏi
            '\u{303}' => 3, // ngã
            '\u{301}' => 4, // sắc
            '\u{323}' => 5, // nặng
            _ => 0,
        };
        if tone > 0 {
            if let Some(last) = tones.last_mut() {
                *last = tone;
            }
            continue;
        }
        // a letter's own mark (breve, circumflex, horn) makes another letter of the alphabet
        if matches!(c, '\u{306}' | '\u{302}' | '\u{31b}')
            && let Some(base) = letters.last_mut()
        {
            let composed: String = [*base, c].iter().collect::<String>().nfc().collect();
            *base = composed.chars().next().unwrap_or(*base);
            continue;
        }
        letters.push(c);
        tones.push(0);
    }
    let ranks = letters
        .iter()
        .map(|&letter| match ALPHABET.chars().position(|a| a == letter) {
            Some(i) => i as u32 + 100,
            None if letter.is_whitespace() => 0,
            None => 1000 + u32::from(letter),
        })
        .collect();
    (ranks, tones)
}

/// A person's name as a public list shows it: the family name whole, each other name by its initial ("Nguyễn
/// Văn An" → "Nguyễn V. A."); a one-word name keeps its initial only.
pub fn masked_name(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    let initial = |w: &str| {
        w.chars()
            .next()
            .map(|c| format!("{}.", c.to_uppercase()))
            .unwrap_or_default()
    };
    match words.as_slice() {
        [] => String::new(),
        [only] => initial(only),
        [family, rest @ ..] => std::iter::once(family.to_string())
            .chain(rest.iter().map(|w| initial(w)))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// Sort text in Vietnamese dictionary order.
pub fn sort_vietnamese<T>(items: &mut [T], text: impl Fn(&T) -> &str) {
    items.sort_by_cached_key(|item| vietnamese_sort_key(text(item)));
}

/// Text as it arrives from any request, made safe to keep: NFC, with NUL and every other control character
/// removed except the line breaks and tabs of a long answer (`\r\n` becomes `\n`). Every form value and query
/// parameter passes through this at the HTTP edge, so no handler can forget it and no database (PostgreSQL
/// refuses NUL in text) sees one. Not trimmed: a field's own type decides that.
pub fn clean_input(input: &str) -> String {
    if input
        .chars()
        .all(|c| !c.is_control() || c == '\n' || c == '\t')
        && unicode_normalization::is_nfc(input)
    {
        return input.to_string();
    }
    input
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .nfc()
        .collect()
}

/// A person's full name as it may appear on a dossier, in a slip or in an e-mail: letters of any alphabet
/// (Vietnamese in NFC), spaces, and `.` `'` `-` between them; 2 to 100 characters, spaces collapsed.
pub fn person_name(input: &str, what: &'static str) -> Result<NonEmptyText, ParseError> {
    const MAX: usize = 100;
    let text: String = normalize(input)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if text.is_empty() {
        return Err(ParseError::Empty(what));
    }
    if text.chars().count() > MAX {
        return Err(ParseError::TooLong { what, max: MAX });
    }
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    let allowed = text
        .chars()
        .all(|c| c.is_alphabetic() || matches!(c, ' ' | '.' | '\'' | '-'));
    if !allowed || letters < 2 {
        return Err(ParseError::Invalid(format!(
            "{what} chỉ gồm chữ cái, dấu cách và các dấu . ' - (ít nhất 2 chữ cái)"
        )));
    }
    Ok(NonEmptyText(text))
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
    fn a_public_list_shows_the_family_name_and_initials() {
        assert_eq!(masked_name("Nguyễn Văn An"), "Nguyễn V. A.");
        assert_eq!(masked_name(" Lê  Thị   Hồng "), "Lê T. H.");
        assert_eq!(masked_name("Đặng Ánh"), "Đặng Á.");
        assert_eq!(masked_name("Hùng"), "H.");
        assert_eq!(masked_name(""), "");
    }

    #[test]
    fn words_sort_as_a_vietnamese_dictionary_does() {
        let mut names = vec![
            "Gia Rai",
            "Ê Đê",
            "Dao",
            "Đà Nẵng",
            "Cà Mau",
            "Cần Thơ",
            "Cao Bằng",
            "An Giang",
            "Bắc Ninh",
            "Ba Na",
            "Ơ Đu",
            "Hà Nhì",
            "Hoa",
            "Ha",
            "Hạ",
            "Hả",
        ];
        sort_vietnamese(&mut names, |n| n);
        assert_eq!(
            names,
            [
                "An Giang",
                "Ba Na",
                "Bắc Ninh",
                "Cà Mau",
                "Cao Bằng",
                "Cần Thơ",
                "Dao",
                "Đà Nẵng",
                "Ê Đê",
                "Gia Rai",
                "Ha",
                "Hả",
                "Hạ",
                "Hà Nhì",
                "Hoa",
                "Ơ Đu",
            ]
        );
    }

    #[test]
    fn input_loses_nul_and_control_characters_but_keeps_lines() {
        assert_eq!(clean_input("a\0b\u{1b}c"), "abc");
        assert_eq!(clean_input("dòng 1\r\ndòng 2\tx"), "dòng 1\ndòng 2\tx");
        assert_eq!(clean_input("Nguye\u{302}\u{303}n"), "Nguyễn");
        assert_eq!(clean_input("  giữ nguyên  "), "  giữ nguyên  ");
    }

    #[test]
    fn person_names_are_letters_of_a_sane_length() {
        assert_eq!(
            person_name("  Nguyễn   Văn  An ", "Họ và tên")
                .unwrap()
                .as_str(),
            "Nguyễn Văn An"
        );
        assert!(person_name("O'Neil Mary-Jane Jr.", "Họ và tên").is_ok());
        for bad in [
            "",
            "A",
            "http://evil.example",
            "An\nBcc: x@y",
            "Số 1",
            "<b>An</b>",
        ] {
            assert!(person_name(bad, "Họ và tên").is_err(), "{bad:?}");
        }
        assert!(person_name(&"a".repeat(101), "Họ và tên").is_err());
    }

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
