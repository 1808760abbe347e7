//! Money in Vietnamese đồng: a whole, non-negative number of VND (never floating point), shown as `1.234.000 đ`.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::ParseError;

/// An amount of VND, never negative.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(try_from = "i64", into = "i64")]
pub struct Vnd(i64);

impl Vnd {
    pub const ZERO: Vnd = Vnd(0);

    pub fn new(amount: i64) -> Result<Self, ParseError> {
        if amount < 0 {
            Err(ParseError::NegativeAmount(amount))
        } else {
            Ok(Vnd(amount))
        }
    }

    pub fn amount(self) -> i64 {
        self.0
    }

    /// This amount `times` times (a fee per copy); `None` if it would overflow.
    pub fn checked_times(self, times: u32) -> Option<Vnd> {
        self.0.checked_mul(i64::from(times)).map(Vnd)
    }

    /// Sum of amounts; `None` on overflow (an amount that large is a data error, not money).
    pub fn checked_add(self, other: Vnd) -> Option<Vnd> {
        self.0.checked_add(other.0).map(Vnd)
    }
}

impl TryFrom<i64> for Vnd {
    type Error = ParseError;
    fn try_from(value: i64) -> Result<Self, Self::Error> {
        Vnd::new(value)
    }
}

impl From<Vnd> for i64 {
    fn from(value: Vnd) -> Self {
        value.0
    }
}

/// `part` of `whole` as a Vietnamese percentage ("85,7 %"), or "—" of nothing.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "—".into();
    }
    let tenths = (part * 1000 + whole / 2) / whole;
    format!("{},{} %", tenths / 10, tenths % 10)
}

/// A whole number as Vietnamese writes it: dots group thousands (`1.234.000`).
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(ch);
    }
    out
}

/// `1.234.000 đ`: dots group thousands, a space and the sign đ follow.
impl fmt::Display for Vnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // an amount is never negative (`Vnd::new`)
        write!(f, "{} đ", grouped(self.0.unsigned_abs()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn counts_are_grouped_by_thousands_with_dots() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1.000");
        assert_eq!(grouped(1234567), "1.234.567");
    }

    #[test]
    fn amounts_are_grouped_with_dots() {
        assert_eq!(Vnd::new(0).unwrap().to_string(), "0 đ");
        assert_eq!(Vnd::new(5_000).unwrap().to_string(), "5.000 đ");
        assert_eq!(Vnd::new(100_000).unwrap().to_string(), "100.000 đ");
        assert_eq!(Vnd::new(1_234_000).unwrap().to_string(), "1.234.000 đ");
    }

    #[test]
    fn negative_amounts_are_refused() {
        assert_eq!(Vnd::new(-1), Err(ParseError::NegativeAmount(-1)));
        assert!(serde_json::from_str::<Vnd>("-5").is_err());
    }

    proptest! {
        #[test]
        fn display_reads_back_to_the_same_amount(amount in 0i64..=i64::MAX) {
            let shown = Vnd::new(amount).unwrap().to_string();
            let number = shown.trim_end_matches(" đ").replace('.', "");
            prop_assert_eq!(number.parse::<i64>().unwrap(), amount);
            // groups after the first are exactly three digits
            for group in shown.trim_end_matches(" đ").split('.').skip(1) {
                prop_assert_eq!(group.len(), 3);
            }
        }
    }
}
