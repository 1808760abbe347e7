//! The applicant's rating of how a dossier was handled (`domain.md` §9): five levels, once per dossier, after the
//! result was handed over, with an optional comment. Ratings feed the agencies' satisfaction figures.

use crate::{AccountId, DossierId, DossierStatus};
use time::OffsetDateTime;

/// The five levels, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Satisfaction {
    VeryDissatisfied = 1,
    Dissatisfied = 2,
    Neutral = 3,
    Satisfied = 4,
    VerySatisfied = 5,
}

impl Satisfaction {
    pub const ALL: [Satisfaction; 5] = [
        Satisfaction::VerySatisfied,
        Satisfaction::Satisfied,
        Satisfaction::Neutral,
        Satisfaction::Dissatisfied,
        Satisfaction::VeryDissatisfied,
    ];

    pub fn score(self) -> u8 {
        self as u8
    }

    pub fn from_score(score: i64) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| i64::from(s.score()) == score)
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Satisfaction::VerySatisfied => "Rất hài lòng",
            Satisfaction::Satisfied => "Hài lòng",
            Satisfaction::Neutral => "Bình thường",
            Satisfaction::Dissatisfied => "Không hài lòng",
            Satisfaction::VeryDissatisfied => "Rất không hài lòng",
        }
    }

    /// Counts as satisfied in the agency's figures (satisfied or very satisfied).
    pub fn is_satisfied(self) -> bool {
        self >= Satisfaction::Satisfied
    }
}

/// The longest comment kept.
pub const MAX_COMMENT_CHARS: usize = 1000;

/// A rating as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rating {
    pub dossier: DossierId,
    pub level: Satisfaction,
    pub comment: Option<String>,
    pub at: OffsetDateTime,
    pub account: Option<AccountId>,
}

/// A dossier may be rated once its result was handed over.
pub fn may_rate(status: DossierStatus) -> bool {
    status == DossierStatus::ResultDelivered
}

/// How many ratings of each level (index 0: very dissatisfied … 4: very satisfied), and the share satisfied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SatisfactionFigures {
    pub counts: [u64; 5],
}

impl SatisfactionFigures {
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Percentage satisfied or very satisfied, rounded down; `None` without ratings.
    pub fn satisfied_percent(&self) -> Option<u64> {
        let total = self.total();
        (total > 0).then(|| (self.counts[3] + self.counts[4]) * 100 / total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn five_levels_with_their_names_and_only_a_delivered_dossier_is_rated() {
        assert_eq!(
            Satisfaction::ALL.map(|s| s.label_vi()),
            [
                "Rất hài lòng",
                "Hài lòng",
                "Bình thường",
                "Không hài lòng",
                "Rất không hài lòng"
            ]
        );
        for s in Satisfaction::ALL {
            assert_eq!(Satisfaction::from_score(i64::from(s.score())), Some(s));
        }
        assert_eq!(Satisfaction::from_score(0), None);
        assert_eq!(Satisfaction::from_score(6), None);
        for status in DossierStatus::ALL {
            assert_eq!(may_rate(status), status == DossierStatus::ResultDelivered);
        }
    }

    proptest! {
        #[test]
        fn the_satisfied_share_is_a_percentage_of_the_ratings(counts in proptest::array::uniform5(0u64..1000)) {
            let f = SatisfactionFigures { counts };
            match f.satisfied_percent() {
                None => prop_assert_eq!(f.total(), 0),
                Some(p) => {
                    prop_assert!(p <= 100);
                    prop_assert_eq!(p, (counts[3] + counts[4]) * 100 / f.total());
                }
            }
        }
    }
}
