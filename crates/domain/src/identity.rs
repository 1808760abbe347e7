//! Who people are, as the portal records them: the 12-digit personal identity number (số định danh cá nhân,
//! on the CCCD card), Vietnamese mobile numbers, e-mail addresses, and the rules for passwords. Each parses
//! into a type that cannot hold a malformed value; identity numbers are masked wherever they are listed.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::ParseError;

/// Số định danh cá nhân: exactly 12 digits (spaces and dots typed between groups are ignored).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonalId(String);

impl PersonalId {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let digits: String = input
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-'))
            .collect();
        if digits.len() == 12 && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(PersonalId(digits))
        } else {
            let count = digits.chars().filter(char::is_ascii_digit).count();
            Err(ParseError::Invalid(
                if digits.chars().all(|c| c.is_ascii_digit()) {
                    format!("Số định danh cá nhân phải có đúng 12 chữ số (bạn nhập {count} chữ số)")
                } else {
                    "Số định danh cá nhân chỉ gồm chữ số".to_string()
                },
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `0xx xxx xxx 123`: first and last three digits kept, for lists and logs.
    pub fn masked(&self) -> String {
        let d = &self.0;
        format!("{}xx xxx xxx {}", &d[..1], &d[9..])
    }
}

/// Never print the whole number by accident.
impl fmt::Debug for PersonalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonalId({})", self.masked())
    }
}

impl TryFrom<String> for PersonalId {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PersonalId> for String {
    fn from(value: PersonalId) -> Self {
        value.0
    }
}

/// A Vietnamese mobile number, stored as 10 digits starting with 0 (`0912345678`); `+84`/`84` prefixes and
/// spaces, dots or dashes are accepted on input.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

/// Mobile prefixes in use since the 2018 renumbering (03x, 05x, 07x, 08x, 09x).
const MOBILE_PREFIXES: [u8; 5] = [b'3', b'5', b'7', b'8', b'9'];

impl Phone {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let mut digits: String = input
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
            .collect();
        if let Some(rest) = digits
            .strip_prefix("+84")
            .or_else(|| digits.strip_prefix("84").filter(|r| r.len() == 9))
        {
            digits = format!("0{rest}");
        }
        let b = digits.as_bytes();
        if b.len() == 10
            && b[0] == b'0'
            && MOBILE_PREFIXES.contains(&b[1])
            && b.iter().all(u8::is_ascii_digit)
        {
            Ok(Phone(digits))
        } else {
            Err(ParseError::Invalid(
                "Số điện thoại di động phải có 10 chữ số, bắt đầu bằng 03, 05, 07, 08 hoặc 09 (ví dụ 0912 345 678)"
                    .into(),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Phone {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Phone> for String {
    fn from(value: Phone) -> Self {
        value.0
    }
}

/// An e-mail address, trimmed and lower-cased (so one address is one account).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let email = input.trim().to_lowercase();
        let bad = || {
            ParseError::Invalid("Địa chỉ thư điện tử không hợp lệ (ví dụ ten@example.vn)".into())
        };
        let (local, domain) = email.split_once('@').ok_or_else(bad)?;
        let ok = !local.is_empty()
            && local.len() <= 64
            && domain.len() <= 253
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && email.chars().all(|c| c.is_ascii_graphic())
            && !domain.contains('@');
        if ok { Ok(Email(email)) } else { Err(bad()) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

/// What a login form's identifier turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginName {
    PersonalId(PersonalId),
    Phone(Phone),
    Email(Email),
}

impl LoginName {
    /// Citizens log in with their identity number, phone or e-mail, whichever they type.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let input = input.trim();
        if input.contains('@') {
            return Email::parse(input).map(LoginName::Email);
        }
        if let Ok(id) = PersonalId::parse(input) {
            return Ok(LoginName::PersonalId(id));
        }
        Phone::parse(input).map(LoginName::Phone).map_err(|_| {
            ParseError::Invalid(
                "Nhập số định danh cá nhân (12 chữ số), số điện thoại di động hoặc địa chỉ thư điện tử".into(),
            )
        })
    }
}

/// The password rule: at least 10 characters, with a letter and a digit, not all one character. Long
/// passphrases are welcome (up to 128 characters).
pub fn check_password(password: &str) -> Result<(), ParseError> {
    let n = password.chars().count();
    if n < 10 {
        return Err(ParseError::Invalid(format!(
            "Mật khẩu quá ngắn: cần ít nhất 10 ký tự (mới có {n})"
        )));
    }
    if n > 128 {
        return Err(ParseError::Invalid("Mật khẩu dài quá 128 ký tự".into()));
    }
    let letters = password.chars().any(char::is_alphabetic);
    let digits = password.chars().any(|c| c.is_ascii_digit());
    if !letters || !digits {
        return Err(ParseError::Invalid(
            "Mật khẩu quá yếu: cần có cả chữ và số".into(),
        ));
    }
    let first = password.chars().next();
    if password.chars().all(|c| Some(c) == first) {
        return Err(ParseError::Invalid(
            "Mật khẩu quá yếu: không được lặp một ký tự".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn personal_ids_are_twelve_digits_and_masked_in_lists() {
        let id = PersonalId::parse("001 099 012 345").unwrap();
        assert_eq!(id.as_str(), "001099012345");
        assert_eq!(id.masked(), "0xx xxx xxx 345");
        assert_eq!(format!("{id:?}"), "PersonalId(0xx xxx xxx 345)");
        assert_eq!(
            PersonalId::parse("00109901234").unwrap_err().to_string(),
            "Số định danh cá nhân phải có đúng 12 chữ số (bạn nhập 11 chữ số)"
        );
        assert!(PersonalId::parse("00109901234a").is_err());
    }

    #[test]
    fn mobile_numbers_in_every_usual_form() {
        for input in [
            "0912345678",
            "0912 345 678",
            "+84912345678",
            "84 912 345 678",
            "091.234.5678",
        ] {
            assert_eq!(
                Phone::parse(input).unwrap().as_str(),
                "0912345678",
                "{input}"
            );
        }
        for bad in [
            "0212345678",
            "091234567",
            "09123456789",
            "abc",
            "+1912345678",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            Email::parse(" An.Nguyen@Example.VN ").unwrap().as_str(),
            "an.nguyen@example.vn"
        );
        for bad in [
            "", "a", "a@b", "@b.vn", "a@.vn", "a@b..vn", "a b@c.vn", "a@b@c.vn",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_login_name_is_whatever_the_citizen_typed() {
        assert!(matches!(
            LoginName::parse("001099012345"),
            Ok(LoginName::PersonalId(_))
        ));
        assert!(matches!(
            LoginName::parse("0912 345 678"),
            Ok(LoginName::Phone(_))
        ));
        assert!(matches!(
            LoginName::parse("an@example.vn"),
            Ok(LoginName::Email(_))
        ));
        assert!(LoginName::parse("nguyen van an").is_err());
    }

    #[test]
    fn weak_passwords_are_refused_with_the_reason() {
        assert!(
            check_password("ngan1")
                .unwrap_err()
                .to_string()
                .contains("quá ngắn")
        );
        assert!(
            check_password("chicochumakhongso")
                .unwrap_err()
                .to_string()
                .contains("cả chữ và số")
        );
        assert!(check_password("1111111111").is_err());
        assert!(check_password("Hòa Bình 2026 mùa xuân").is_ok());
    }

    proptest! {
        #[test]
        fn any_twelve_digits_round_trip_and_mask_keeps_only_four(id in "[0-9]{12}") {
            let parsed = PersonalId::parse(&id).unwrap();
            prop_assert_eq!(parsed.as_str(), id.as_str());
            let masked = parsed.masked();
            prop_assert_eq!(masked.chars().filter(char::is_ascii_digit).count(), 4);
        }

        #[test]
        fn parsing_people_data_never_panics(s in "\\PC{0,40}") {
            let _ = PersonalId::parse(&s);
            let _ = Phone::parse(&s);
            let _ = Email::parse(&s);
            let _ = LoginName::parse(&s);
            let _ = check_password(&s);
        }
    }
}
