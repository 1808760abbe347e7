//! The service index of Decision 766/QĐ-TTg (2022): 100 points per agency in five groups — publicity 18,
//! progress and results 20, digitisation 22, online provision 22, satisfaction 18 — each group made of metrics
//! that are a share (numerator over denominator) of the agency's procedures or dossiers. The decision names the
//! groups and their points; how each group splits into metrics here is motcua's reading of the metrics the
//! national dashboard publishes (`docs/index-766.md`), kept in this one table so it can be changed in one place.

/// A group of the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    Publicity,
    Progress,
    Digitisation,
    Online,
    Satisfaction,
}

impl Group {
    pub const ALL: [Group; 5] = [
        Group::Publicity,
        Group::Progress,
        Group::Digitisation,
        Group::Online,
        Group::Satisfaction,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Group::Publicity => "Công khai, minh bạch",
            Group::Progress => "Tiến độ, kết quả giải quyết",
            Group::Digitisation => "Số hóa hồ sơ",
            Group::Online => "Cung cấp dịch vụ trực tuyến",
            Group::Satisfaction => "Mức độ hài lòng",
        }
    }

    /// Points of the group, in tenths (the decision's 18, 20, 22, 22, 18).
    pub fn max_tenths(self) -> u64 {
        Metric::ALL
            .iter()
            .filter(|m| m.group() == self)
            .map(|m| m.max_tenths())
            .sum()
    }
}

/// One measured share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Procedures whose public record is complete (legal basis, and components for every case).
    CompleteRecords,
    /// Cases with a form to download or an e-form.
    FormsProvided,
    /// Dossiers approved in the period by their appointment.
    HandledOnTime,
    /// Dossiers open now that are not past their appointment.
    OpenOnTime,
    /// Dossiers received in the period with their papers as files.
    DigitisedDossiers,
    /// Dossiers approved in the period with an electronic result.
    ElectronicResults,
    /// Procedures offered online (partly or fully) at the agency.
    OnlineProcedures,
    /// Dossiers received in the period that were submitted online.
    OnlineDossiers,
    /// Dossiers with fees received in the period that were paid online.
    OnlinePayments,
    /// Ratings given in the period that were "satisfied" or better.
    Satisfied,
}

impl Metric {
    pub const ALL: [Metric; 10] = [
        Metric::CompleteRecords,
        Metric::FormsProvided,
        Metric::HandledOnTime,
        Metric::OpenOnTime,
        Metric::DigitisedDossiers,
        Metric::ElectronicResults,
        Metric::OnlineProcedures,
        Metric::OnlineDossiers,
        Metric::OnlinePayments,
        Metric::Satisfied,
    ];

    pub fn group(self) -> Group {
        match self {
            Metric::CompleteRecords | Metric::FormsProvided => Group::Publicity,
            Metric::HandledOnTime | Metric::OpenOnTime => Group::Progress,
            Metric::DigitisedDossiers | Metric::ElectronicResults => Group::Digitisation,
            Metric::OnlineProcedures | Metric::OnlineDossiers | Metric::OnlinePayments => {
                Group::Online
            }
            Metric::Satisfied => Group::Satisfaction,
        }
    }

    /// Its points, in tenths.
    pub fn max_tenths(self) -> u64 {
        match self {
            Metric::CompleteRecords => 100,
            Metric::FormsProvided => 80,
            Metric::HandledOnTime => 140,
            Metric::OpenOnTime => 60,
            Metric::DigitisedDossiers => 110,
            Metric::ElectronicResults => 110,
            Metric::OnlineProcedures => 80,
            Metric::OnlineDossiers => 80,
            Metric::OnlinePayments => 60,
            Metric::Satisfied => 180,
        }
    }

    /// In addresses (the officers' drill-down).
    pub fn code(self) -> &'static str {
        match self {
            Metric::CompleteRecords => "cong-khai-day-du",
            Metric::FormsProvided => "bieu-mau",
            Metric::HandledOnTime => "dung-han",
            Metric::OpenOnTime => "chua-qua-han",
            Metric::DigitisedDossiers => "so-hoa-ho-so",
            Metric::ElectronicResults => "ket-qua-dien-tu",
            Metric::OnlineProcedures => "thu-tuc-truc-tuyen",
            Metric::OnlineDossiers => "ho-so-truc-tuyen",
            Metric::OnlinePayments => "thanh-toan-truc-tuyen",
            Metric::Satisfied => "hai-long",
        }
    }

    pub fn parse(code: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Metric::CompleteRecords => {
                "Thủ tục công khai đầy đủ (căn cứ pháp lý, thành phần hồ sơ)"
            }
            Metric::FormsProvided => "Trường hợp thủ tục có mẫu đơn tải về hoặc biểu mẫu điện tử",
            Metric::HandledOnTime => "Hồ sơ giải quyết đúng hạn",
            Metric::OpenOnTime => "Hồ sơ đang giải quyết chưa quá hạn",
            Metric::DigitisedDossiers => "Hồ sơ tiếp nhận có thành phần được số hóa",
            Metric::ElectronicResults => "Hồ sơ có kết quả điện tử",
            Metric::OnlineProcedures => "Thủ tục cung cấp dịch vụ công trực tuyến",
            Metric::OnlineDossiers => "Hồ sơ nộp trực tuyến",
            Metric::OnlinePayments => "Hồ sơ có phí được thanh toán trực tuyến",
            Metric::Satisfied => "Lượt đánh giá hài lòng trở lên",
        }
    }

    /// Whether the metric counts dossiers (an officer can list those behind it) rather than procedures.
    pub fn counts_dossiers(self) -> bool {
        !matches!(
            self,
            Metric::CompleteRecords | Metric::FormsProvided | Metric::OnlineProcedures
        )
    }

    /// What would bring the metric to its full points, `missing` being how many are short.
    pub fn advice(self, missing: u64, points: &str) -> String {
        let n = crate::money::grouped(missing);
        match self {
            Metric::CompleteRecords => {
                format!("bổ sung căn cứ pháp lý, thành phần hồ sơ cho {n} thủ tục để đạt {points}")
            }
            Metric::FormsProvided => {
                format!("đăng mẫu đơn hoặc biểu mẫu điện tử cho {n} trường hợp để đạt {points}")
            }
            Metric::HandledOnTime => {
                format!(
                    "{n} hồ sơ giải quyết quá hạn trong kỳ; giải quyết đúng hạn mọi hồ sơ để đạt {points}"
                )
            }
            Metric::OpenOnTime => {
                format!("giải quyết ngay {n} hồ sơ đang quá hạn để đạt {points}")
            }
            Metric::DigitisedDossiers => format!("số hóa thêm {n} hồ sơ để đạt {points}"),
            Metric::ElectronicResults => format!("số hóa thêm {n} kết quả để đạt {points}"),
            Metric::OnlineProcedures => {
                format!("đưa thêm {n} thủ tục lên dịch vụ công trực tuyến để đạt {points}")
            }
            Metric::OnlineDossiers => {
                format!(
                    "{n} hồ sơ nộp trực tiếp hoặc qua bưu chính; hướng dẫn người dân nộp trực tuyến để đạt {points}"
                )
            }
            Metric::OnlinePayments => {
                format!(
                    "{n} hồ sơ có phí chưa thanh toán trực tuyến; mời thanh toán trực tuyến để đạt {points}"
                )
            }
            Metric::Satisfied => format!("{n} lượt đánh giá chưa hài lòng trong kỳ"),
        }
    }
}

/// One metric of one agency: how many of how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measure {
    pub metric: Metric,
    pub numerator: u64,
    pub denominator: u64,
}

impl Measure {
    /// Its points in tenths: its share of the metric's points, rounded down; `None` when there is nothing to
    /// measure (a denominator of zero: no dossier approved, no rating), so that an agency idle in a month neither
    /// gains nor loses points from it.
    pub fn tenths(&self) -> Option<u64> {
        let max = self.metric.max_tenths();
        (self.denominator > 0)
            .then(|| max * self.numerator.min(self.denominator) / self.denominator)
    }

    /// How many are short of the full points.
    pub fn missing(&self) -> u64 {
        self.denominator.saturating_sub(self.numerator)
    }

    /// "Số hóa thêm 37 kết quả để đạt 11/11", when anything is missing.
    pub fn advice(&self) -> Option<String> {
        (self.missing() > 0).then(|| {
            let max = points_label(self.metric.max_tenths());
            let text = self.metric.advice(self.missing(), &format!("{max}/{max}"));
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => text,
            }
        })
    }
}

/// Tenths of a point as written: "8", "12,5"; "—" when not measured.
pub fn points_or_dash(tenths: Option<u64>) -> String {
    tenths.map_or_else(|| "—".to_string(), points_label)
}

/// Tenths of a point as written: "8", "12,5".
pub fn points_label(tenths: u64) -> String {
    if tenths.is_multiple_of(10) {
        (tenths / 10).to_string()
    } else {
        format!("{},{}", tenths / 10, tenths % 10)
    }
}

/// What an agency's index is counted from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Inputs {
    /// Procedures the agency carries out, those with a complete record, and those offered online there.
    pub procedures: u64,
    pub complete_records: u64,
    pub online_procedures: u64,
    /// Cases of those procedures, and those with a form.
    pub cases: u64,
    pub cases_with_forms: u64,
    /// Dossiers received in the period: all, online, with files.
    pub received: u64,
    pub received_online: u64,
    pub digitised: u64,
    /// Approved in the period: on time, late, with an electronic result.
    pub on_time: u64,
    pub late: u64,
    pub e_results: u64,
    /// Open now, and of those past their appointment.
    pub open: u64,
    pub overdue: u64,
    /// Received in the period with fees, and of those paid online.
    pub fee_bearing: u64,
    pub paid_online: u64,
    /// Ratings in the period, and those satisfied or better.
    pub ratings: u64,
    pub satisfied: u64,
}

/// An agency's index: every metric measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub measures: Vec<Measure>,
}

impl Index {
    pub fn of(i: &Inputs) -> Index {
        let m = |metric, numerator, denominator| Measure {
            metric,
            numerator,
            denominator,
        };
        let approved = i.on_time + i.late;
        Index {
            measures: vec![
                m(Metric::CompleteRecords, i.complete_records, i.procedures),
                m(Metric::FormsProvided, i.cases_with_forms, i.cases),
                m(Metric::HandledOnTime, i.on_time, approved),
                m(Metric::OpenOnTime, i.open.saturating_sub(i.overdue), i.open),
                m(Metric::DigitisedDossiers, i.digitised, i.received),
                m(Metric::ElectronicResults, i.e_results, approved),
                m(Metric::OnlineProcedures, i.online_procedures, i.procedures),
                m(Metric::OnlineDossiers, i.received_online, i.received),
                m(Metric::OnlinePayments, i.paid_online, i.fee_bearing),
                m(Metric::Satisfied, i.satisfied, i.ratings),
            ],
        }
    }

    /// Points earned and points at stake (in tenths) of the measured metrics that pass `keep`.
    fn earned(&self, keep: impl Fn(&Measure) -> bool) -> (u64, u64) {
        self.measures
            .iter()
            .filter(|m| keep(m))
            .filter_map(|m| m.tenths().map(|t| (t, m.metric.max_tenths())))
            .fold((0, 0), |(e, s), (t, m)| (e + t, s + m))
    }

    /// A group's points out of its own, in tenths: what its measured metrics earned, scaled to the group's points
    /// (`None` when none of them could be measured).
    pub fn group_tenths(&self, group: Group) -> Option<u64> {
        let (earned, at_stake) = self.earned(|m| m.metric.group() == group);
        (at_stake > 0).then(|| group.max_tenths() * earned / at_stake)
    }

    /// Out of 100, in tenths: what the measured metrics earned, scaled to 100 (`None` when nothing could be
    /// measured).
    pub fn total_tenths(&self) -> Option<u64> {
        let (earned, at_stake) = self.earned(|_| true);
        (at_stake > 0).then(|| 1000 * earned / at_stake)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_groups_carry_the_decisions_points() {
        let points: Vec<u64> = Group::ALL.iter().map(|g| g.max_tenths()).collect();
        assert_eq!(points, vec![180, 200, 220, 220, 180]);
        assert_eq!(points.iter().sum::<u64>(), 1000);
    }

    #[test]
    fn an_idle_agency_is_scored_on_what_it_did_only() {
        // procedures all complete and online, nothing received or rated this month
        let idle = Index::of(&Inputs {
            procedures: 4,
            complete_records: 4,
            online_procedures: 4,
            cases: 4,
            cases_with_forms: 2,
            ..Inputs::default()
        });
        assert_eq!(idle.group_tenths(Group::Progress), None);
        assert_eq!(
            idle.group_tenths(Group::Publicity),
            Some(180 * (100 + 40) / 180)
        );
        // 100 + 40 + 80 earned of 100 + 80 + 80 at stake
        assert_eq!(idle.total_tenths(), Some(1000 * 220 / 260));
        assert_eq!(Index::of(&Inputs::default()).total_tenths(), None);
    }

    #[test]
    fn a_share_earns_its_part_of_the_points_and_says_what_is_missing() {
        let results = Measure {
            metric: Metric::ElectronicResults,
            numerator: 63,
            denominator: 100,
        };
        assert_eq!(results.tenths(), Some(69), "11 points × 63 %, rounded down");
        assert_eq!(
            results.advice().as_deref(),
            Some("Số hóa thêm 37 kết quả để đạt 11/11")
        );
        let nothing = Measure {
            metric: Metric::HandledOnTime,
            numerator: 0,
            denominator: 0,
        };
        assert_eq!(nothing.tenths(), None, "nothing approved: not measured");
        assert_eq!(nothing.advice(), None);
        assert_eq!(points_label(125), "12,5");
    }

    proptest! {
        /// Whatever the counts, the index stays within 0..=100 and each group within its points; a perfect
        /// agency scores 100.
        #[test]
        fn an_index_stays_within_its_points(values in proptest::collection::vec(0u64..1_000, 18)) {
            let v = |k: usize| values[k];
            let i = Inputs {
                procedures: v(0), complete_records: v(1), online_procedures: v(2), cases: v(3),
                cases_with_forms: v(4), received: v(5), received_online: v(6), digitised: v(7), on_time: v(8),
                late: v(9), e_results: v(10), open: v(11), overdue: v(12), fee_bearing: v(13),
                paid_online: v(14), ratings: v(15), satisfied: v(16),
            };
            let index = Index::of(&i);
            prop_assert!(index.total_tenths().unwrap_or(0) <= 1000);
            for g in Group::ALL {
                prop_assert!(index.group_tenths(g).unwrap_or(0) <= g.max_tenths());
            }
            let perfect = Inputs {
                complete_records: i.procedures, online_procedures: i.procedures, cases_with_forms: i.cases,
                received_online: i.received, digitised: i.received, late: 0, e_results: i.on_time,
                overdue: 0, paid_online: i.fee_bearing, satisfied: i.ratings, ..i
            };
            let expected = (i.procedures + i.cases + i.received + i.on_time + i.open + i.fee_bearing + i.ratings > 0)
                .then_some(1000);
            prop_assert_eq!(Index::of(&perfect).total_tenths(), expected);
        }
    }
}
