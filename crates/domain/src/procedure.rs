//! Administrative procedures (thủ tục hành chính, TTHC) as the national procedure database records them:
//! cases (trường hợp), each with its own components, per-channel time limits and fee lines.

use serde::{Deserialize, Serialize};
use std::{collections::HashSet, fmt, str::FromStr};
use time::Date;

use crate::{AgencyCode, Channel, FieldCode, NonEmptyText, ParseError, Vnd};

/// National procedure code: one digit, a dot, six digits (`1.001193` is birth registration).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProcedureCode(String);

impl ProcedureCode {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let code = input.trim();
        let b = code.as_bytes();
        let ok = b.len() == 8
            && b[0].is_ascii_digit()
            && b[1] == b'.'
            && b[2..].iter().all(u8::is_ascii_digit);
        if ok {
            Ok(ProcedureCode(code.to_string()))
        } else {
            Err(ParseError::ProcedureCode(input.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ProcedureCode {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for ProcedureCode {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ProcedureCode> for String {
    fn from(value: ProcedureCode) -> Self {
        value.0
    }
}

impl fmt::Display for ProcedureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Key of a case within its procedure (`mac-dinh`, `qua-han`…): lowercase ASCII, digits and hyphens, so it can
/// stand in a URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CaseKey(String);

impl CaseKey {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let key = input.trim();
        let ok = !key.is_empty()
            && key.len() <= 64
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(CaseKey(key.to_string()))
        } else {
            Err(ParseError::CaseKey(input.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CaseKey {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<CaseKey> for String {
    fn from(value: CaseKey) -> Self {
        value.0
    }
}

impl fmt::Display for CaseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Level of government that carries out a procedure (cấp thực hiện).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImplementingLevel {
    Ministry,
    Province,
    Commune,
}

impl ImplementingLevel {
    pub fn label_vi(self) -> &'static str {
        match self {
            ImplementingLevel::Ministry => "Cấp bộ",
            ImplementingLevel::Province => "Cấp tỉnh",
            ImplementingLevel::Commune => "Cấp xã",
        }
    }
}

/// Who may apply (đối tượng thực hiện).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicantKind {
    /// Công dân Việt Nam
    Citizen,
    /// Người nước ngoài
    Foreigner,
    /// Doanh nghiệp
    Business,
    /// Tổ chức (không phải doanh nghiệp)
    Organisation,
}

impl ApplicantKind {
    pub fn label_vi(self) -> &'static str {
        match self {
            ApplicantKind::Citizen => "Công dân Việt Nam",
            ApplicantKind::Foreigner => "Người nước ngoài",
            ApplicantKind::Business => "Doanh nghiệp",
            ApplicantKind::Organisation => "Tổ chức",
        }
    }
}

/// Unit in which a time limit is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    /// Ngày làm việc: 8 working hours, skipping weekends and holidays.
    WorkingDays,
    /// Ngày (calendar days).
    CalendarDays,
    /// Giờ làm việc.
    WorkingHours,
}

impl TimeUnit {
    pub fn label_vi(self) -> &'static str {
        match self {
            TimeUnit::WorkingDays => "ngày làm việc",
            TimeUnit::CalendarDays => "ngày",
            TimeUnit::WorkingHours => "giờ làm việc",
        }
    }
}

/// A time limit (thời hạn giải quyết): `value` units. Zero working days means "within the same working day".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TimeLimit {
    pub value: u32,
    pub unit: TimeUnit,
}

impl TimeLimit {
    /// Longest time limit accepted: anything longer than two years is a data-entry error.
    pub const MAX_DAYS: u32 = 730;

    pub fn validate(&self) -> Result<(), ParseError> {
        let max = match self.unit {
            TimeUnit::WorkingHours => Self::MAX_DAYS * 8,
            TimeUnit::WorkingDays | TimeUnit::CalendarDays => Self::MAX_DAYS,
        };
        if self.value > max {
            return Err(ParseError::Invalid(format!(
                "Thời hạn giải quyết {} {} quá dài (tối đa {max})",
                self.value,
                self.unit.label_vi()
            )));
        }
        Ok(())
    }
}

impl fmt::Display for TimeLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value == 0 && self.unit == TimeUnit::WorkingDays {
            f.write_str("Trong ngày làm việc")
        } else {
            write!(f, "{} {}", self.value, self.unit.label_vi())
        }
    }
}

/// The time limit for one submission channel, with an optional note ("kể từ ngày nhận đủ hồ sơ hợp lệ").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelTimeLimit {
    pub channel: Channel,
    pub limit: TimeLimit,
    #[serde(default)]
    pub note: Option<String>,
    /// Received after this hour (UTC+7, e.g. 15 for 15:00) counts as received the next working day.
    #[serde(default)]
    pub cutoff_hour: Option<u8>,
}

/// The cut-off hour hidden in a time limit's note, as the national catalogue writes it in words: "hồ sơ nhận sau
/// 15 giờ thì trả trong ngày làm việc tiếp theo", "sau 15h00 … ngày làm việc kế tiếp" give 15. Only a whole hour of
/// the working day (8 to 17), after "sau", in a note that says the dossier then counts from the next day; a
/// duration ("sau 8 giờ làm việc"), a half hour or a note that names no next day gives `None`.
pub fn cutoff_hour_in(note: &str) -> Option<u8> {
    use unicode_normalization::UnicodeNormalization;
    // letters without marks, lower case: "Sau 15 Giờ" and "sau 15 gio" read the same
    let text: String = note
        .nfd()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .collect::<String>()
        .to_lowercase()
        .replace('đ', "d");
    let next_day = ["tiep theo", "ke tiep", "hom sau", "ngay sau"]
        .iter()
        .any(|p| text.contains(p));
    if !next_day {
        return None;
    }
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == '(' || c == ')')
        .filter(|w| !w.is_empty())
        .collect();
    for (i, w) in words.iter().enumerate() {
        if *w != "sau" {
            continue;
        }
        let Some(next) = words.get(i + 1) else {
            continue;
        };
        let digits: String = next.chars().take_while(char::is_ascii_digit).collect();
        let rest = &next[digits.len()..];
        // where the word after the hour is
        let after = match rest {
            "h" | "g" | ":00" | "h00" | "g00" => i + 2,
            "" if words.get(i + 2).is_some_and(|u| matches!(*u, "gio" | "h")) => i + 3,
            _ => continue,
        };
        // "sau 8 giờ làm việc": a duration, not a time of day
        if words.get(after).is_some_and(|w| *w == "lam") {
            continue;
        }
        if let Ok(hour) = digits.parse::<u8>()
            && (8..=17).contains(&hour)
        {
            return Some(hour);
        }
    }
    None
}

/// Phí (charge for a service) or lệ phí (state levy): always kept as separate lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeKind {
    /// Phí
    Fee,
    /// Lệ phí
    Levy,
}

impl FeeKind {
    pub fn label_vi(self) -> &'static str {
        match self {
            FeeKind::Fee => "Phí",
            FeeKind::Levy => "Lệ phí",
        }
    }
}

/// When a fee line is paid.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeDue {
    /// After the dossier is checked (the officer sets the amount; status 6), or at the counter: the default.
    #[default]
    AfterCheck,
    /// With the online submission, before the dossier goes to reception (level 4).
    AtSubmission,
}

impl FeeDue {
    fn is_after_check(&self) -> bool {
        *self == FeeDue::AfterCheck
    }
}

/// One fee line of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeLine {
    pub kind: FeeKind,
    pub amount: Vnd,
    pub description: NonEmptyText,
    /// The amount when the dossier is submitted online, where it differs (provinces often reduce fees online).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online_amount: Option<Vnd>,
    /// When it is paid.
    #[serde(default, skip_serializing_if = "FeeDue::is_after_check")]
    pub due: FeeDue,
    /// Who is exempt and under which resolution, e.g. "Miễn lệ phí đăng ký khai sinh đúng hạn".
    #[serde(default)]
    pub exemption_note: Option<String>,
    /// Charged per copy: the key of the e-form's number field that says how many copies are asked for (e.g.
    /// `so_ban_sao` for extracts of a birth registration). No copies asked for, nothing charged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_copy_of: Option<String>,
}

impl FeeLine {
    /// The amount as a citizen reads it: "8.000 đ", or "Miễn lệ phí" / "Miễn phí" when nothing is charged.
    pub fn amount_text(&self) -> String {
        if self.amount == crate::Vnd::ZERO {
            match self.kind {
                FeeKind::Levy => "Miễn lệ phí".into(),
                FeeKind::Fee => "Miễn phí".into(),
            }
        } else if self.per_copy_of.is_some() {
            format!("{}/bản", self.amount)
        } else {
            self.amount.to_string()
        }
    }

    /// How many copies these answers ask for, when the line is charged per copy.
    pub fn copies(&self, answers: &crate::form::Answers) -> Option<u32> {
        self.per_copy_of
            .as_deref()
            .map(|key| crate::form::first(answers, key).parse().unwrap_or(0))
    }

    /// The amount of one (copy), online or not.
    pub fn unit(&self, online: bool) -> Vnd {
        if online {
            self.online_amount.unwrap_or(self.amount)
        } else {
            self.amount
        }
    }

    /// What this line costs for these answers, online or not: its amount, times the copies asked for when it is
    /// charged per copy (`None` if it would overflow).
    pub fn amount_for(&self, answers: &crate::form::Answers, online: bool) -> Option<Vnd> {
        let unit = self.unit(online);
        match self.copies(answers) {
            Some(n) => unit.checked_times(n),
            None => Some(unit),
        }
    }

    /// This line for these answers as the citizen reads it: "8.000 đ × 2 bản = 16.000 đ" when charged per copy.
    pub fn amount_text_for(&self, answers: &crate::form::Answers, online: bool) -> String {
        match (self.copies(answers), self.amount_for(answers, online)) {
            (Some(0), _) => "Không yêu cầu bản sao".into(),
            (Some(n), Some(total)) if self.amount > Vnd::ZERO => {
                format!("{} × {n} bản = {total}", self.unit(online))
            }
            _ => self.amount_text(),
        }
    }
}

/// Reference to a downloadable form template (mẫu đơn, tờ khai) stored in the object store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateRef {
    /// Name shown to the citizen and used for the download, e.g. "Tờ khai đăng ký khai sinh.docx".
    pub file_name: NonEmptyText,
    /// Key in the object store.
    pub object_key: String,
}

/// A dossier component (thành phần hồ sơ).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    pub name: NonEmptyText,
    /// Number of originals (bản chính).
    #[serde(default)]
    pub originals: u8,
    /// Number of copies (bản sao).
    #[serde(default)]
    pub copies: u8,
    #[serde(default = "yes")]
    pub required: bool,
    #[serde(default)]
    pub template: Option<TemplateRef>,
    /// The case's e-form produces this paper (the declaration itself): it is not asked for again as an upload.
    #[serde(default, skip_serializing_if = "is_false")]
    pub from_form: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

fn yes() -> bool {
    true
}

/// A case (trường hợp) of a procedure: its own components, time limits per channel, and fees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcedureCase {
    pub key: CaseKey,
    pub name: NonEmptyText,
    pub components: Vec<Component>,
    pub time_limits: Vec<ChannelTimeLimit>,
    #[serde(default)]
    pub fees: Vec<FeeLine>,
    /// The case's e-form (its own pages; the applicant page is shared); `None` asks for the request in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<crate::form::FormDefinition>,
}

impl ProcedureCase {
    pub fn time_limit_for(&self, channel: Channel) -> Option<&ChannelTimeLimit> {
        self.time_limits.iter().find(|t| t.channel == channel)
    }

    /// Total of all fee lines; `None` if it would overflow.
    pub fn total_fees(&self) -> Option<Vnd> {
        self.fees
            .iter()
            .try_fold(Vnd::ZERO, |sum, line| sum.checked_add(line.amount))
    }

    /// The fee lines paid with an online submission with these answers, at their online amounts (times the
    /// copies asked for), and their total (zero when there are none; `None` if it would overflow).
    pub fn due_at_submission(
        &self,
        answers: &crate::form::Answers,
    ) -> Option<(Vnd, Vec<(&FeeLine, Vnd)>)> {
        let lines: Vec<(&FeeLine, Vnd)> = self
            .fees
            .iter()
            .filter(|l| l.due == FeeDue::AtSubmission)
            .map(|l| l.amount_for(answers, true).map(|a| (l, a)))
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .filter(|(_, amount)| *amount > Vnd::ZERO)
            .collect();
        let total = lines
            .iter()
            .try_fold(Vnd::ZERO, |sum, (_, amount)| sum.checked_add(*amount))?;
        Some((total, lines))
    }
}

/// A legal basis (căn cứ pháp lý): number, title, date, issuer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalBasis {
    pub number: NonEmptyText,
    pub title: NonEmptyText,
    #[serde(default)]
    pub issued_on: Option<Date>,
    #[serde(default)]
    pub issuer: Option<String>,
}

/// A procedure record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Procedure {
    pub code: ProcedureCode,
    pub name: NonEmptyText,
    pub fields: Vec<FieldCode>,
    pub implementing_levels: Vec<ImplementingLevel>,
    /// Agencies that carry it out (cơ quan thực hiện).
    pub agencies: Vec<AgencyCode>,
    pub applicants: Vec<ApplicantKind>,
    pub cases: Vec<ProcedureCase>,
    #[serde(default)]
    pub conditions: Vec<String>,
    #[serde(default)]
    pub steps: Vec<String>,
    #[serde(default)]
    pub results: Vec<String>,
    #[serde(default)]
    pub legal_bases: Vec<LegalBasis>,
    /// Number of sets of the dossier (số bộ hồ sơ).
    #[serde(default = "one")]
    pub number_of_sets: u8,
    #[serde(default)]
    pub where_to_submit: Option<String>,
    /// Decision that published the procedure (quyết định công bố).
    #[serde(default)]
    pub publishing_decision: Option<String>,
    /// Shown on the portal and open to new dossiers; an unpublished procedure stays readable for the dossiers
    /// already under it. Absent from a record: published.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub published: bool,
}

fn one() -> u8 {
    1
}

fn is_true(value: &bool) -> bool {
    *value
}

impl Procedure {
    /// Cross-field rules: at least one case, one field, one agency; case keys unique; every case has a time
    /// limit for at least one channel and each limit is sane; fee totals do not overflow.
    pub fn validate(&self) -> Result<(), ParseError> {
        let here = |msg: &str| ParseError::Invalid(format!("Thủ tục {}: {msg}", self.code));
        if self.cases.is_empty() {
            return Err(here("phải có ít nhất một trường hợp"));
        }
        if self.fields.is_empty() {
            return Err(here("phải thuộc ít nhất một lĩnh vực"));
        }
        if self.agencies.is_empty() {
            return Err(here("phải có ít nhất một cơ quan thực hiện"));
        }
        if self.number_of_sets == 0 {
            return Err(here("số bộ hồ sơ phải lớn hơn 0"));
        }
        let mut keys = HashSet::new();
        for case in &self.cases {
            if !keys.insert(&case.key) {
                return Err(here(&format!(
                    "trường hợp \u{201c}{}\u{201d} bị trùng",
                    case.key
                )));
            }
            if case.time_limits.is_empty() {
                return Err(here(&format!(
                    "trường hợp \u{201c}{}\u{201d} chưa có thời hạn giải quyết",
                    case.key
                )));
            }
            let mut channels = HashSet::new();
            for limit in &case.time_limits {
                limit.limit.validate()?;
                if !channels.insert(limit.channel) {
                    return Err(here(&format!(
                        "trường hợp \u{201c}{}\u{201d} có hai thời hạn cho kênh {}",
                        case.key,
                        limit.channel.label_vi()
                    )));
                }
                if limit.cutoff_hour.is_some_and(|h| h > 23) {
                    return Err(here("giờ chốt nhận hồ sơ phải từ 0 đến 23"));
                }
            }
            if case.total_fees().is_none() {
                return Err(here("tổng phí, lệ phí quá lớn"));
            }
            // a fee per copy counts the copies from a number field of the case's e-form
            for line in &case.fees {
                if let Some(key) = &line.per_copy_of {
                    // a whole number of copies from 0 to a limit, whose total cannot overflow
                    let most = case
                        .form
                        .as_ref()
                        .and_then(|f| f.field(key))
                        .and_then(|f| match f.kind {
                            crate::form::FieldKind::Number {
                                min: Some(min),
                                max: Some(max),
                            } if min >= 0 => u32::try_from(max).ok(),
                            _ => None,
                        });
                    match most {
                        None => {
                            return Err(here(&format!(
                                "khoản thu \u{201c}{}\u{201d} tính theo số bản của trường “{key}”, nhưng tờ khai không có trường số (từ 0, có giới hạn) này",
                                line.description
                            )));
                        }
                        Some(most) if line.amount.checked_times(most).is_none() => {
                            return Err(here("phí, lệ phí theo số bản quá lớn"));
                        }
                        Some(_) => {}
                    }
                }
            }
            if let Some(form) = &case.form {
                crate::form::FormDefinition::for_case(Some(form))
                    .check()
                    .map_err(|e| {
                        here(&format!(
                            "tờ khai của trường hợp \u{201c}{}\u{201d}: {e}",
                            case.key
                        ))
                    })?;
            }
        }
        Ok(())
    }

    pub fn case(&self, key: &CaseKey) -> Option<&ProcedureCase> {
        self.cases.iter().find(|c| &c.key == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fee_per_copy_is_multiplied_by_the_copies_asked_for() {
        let line: FeeLine = serde_json::from_value(serde_json::json!({
            "kind": "levy", "amount": 8000, "online_amount": 4000,
            "description": "Cấp bản sao trích lục", "due": "at_submission", "per_copy_of": "so_ban_sao"
        }))
        .unwrap();
        let mut answers = crate::form::Answers::new();
        assert_eq!(line.amount_text(), "8.000 đ/bản");
        assert_eq!(line.amount_for(&answers, false), Some(Vnd::ZERO));
        assert_eq!(
            line.amount_text_for(&answers, false),
            "Không yêu cầu bản sao"
        );
        answers.insert("so_ban_sao".into(), vec!["3".into()]);
        assert_eq!(
            line.amount_for(&answers, false),
            Some(Vnd::new(24_000).unwrap())
        );
        assert_eq!(
            line.amount_text_for(&answers, true),
            "4.000 đ × 3 bản = 12.000 đ"
        );
        let mut case: ProcedureCase = serde_json::from_value(serde_json::json!({
            "key": "dung-han", "name": "Đúng hạn", "components": [], "time_limits": [],
            "fees": [
                {"kind": "levy", "amount": 0, "description": "Lệ phí đăng ký", "due": "at_submission"}
            ]
        }))
        .unwrap();
        case.fees.push(line);
        let (total, lines) = case.due_at_submission(&answers).unwrap();
        assert_eq!(total, Vnd::new(12_000).unwrap());
        assert_eq!(lines.len(), 1, "a free line is not charged");
    }

    #[test]
    fn a_component_made_by_the_e_form_says_so_and_others_store_as_before() {
        let plain: Component =
            serde_json::from_value(serde_json::json!({"name": "Giấy chứng sinh"})).unwrap();
        assert!(!plain.from_form && plain.required);
        assert!(
            !serde_json::to_string(&plain).unwrap().contains("from_form"),
            "stored documents unchanged"
        );
        let declared: Component =
            serde_json::from_value(serde_json::json!({"name": "Tờ khai", "from_form": true}))
                .unwrap();
        assert!(declared.from_form);
    }

    #[test]
    fn a_line_charging_nothing_says_it_is_waived() {
        let line = |kind, amount| FeeLine {
            kind,
            amount: crate::Vnd::new(amount).unwrap(),
            description: NonEmptyText::parse("Lệ phí").unwrap(),
            online_amount: None,
            due: FeeDue::AfterCheck,
            exemption_note: None,
            per_copy_of: None,
        };
        assert_eq!(line(FeeKind::Levy, 0).amount_text(), "Miễn lệ phí");
        assert_eq!(line(FeeKind::Fee, 0).amount_text(), "Miễn phí");
        assert_eq!(line(FeeKind::Levy, 8000).amount_text(), "8.000 đ");
    }

    #[test]
    fn a_cut_off_hour_written_in_words_is_read() {
        for (note, hour) in [
            (
                "Hồ sơ nhận sau 15 giờ thì trả trong ngày làm việc tiếp theo",
                Some(15),
            ),
            (
                "Trường hợp tiếp nhận sau 15h00 được tính vào ngày làm việc kế tiếp",
                Some(15),
            ),
            ("Nhận sau 16:30, trả vào ngày hôm sau", None),
            ("Sau 15 Gio chieu", None),
            (
                "Trả sau 8 giờ làm việc kể từ khi nhận, hoặc ngày làm việc tiếp theo",
                None,
            ),
            (
                "Nhận từ 8 giờ; sau 16 giờ chuyển sang ngày làm việc tiếp theo",
                Some(16),
            ),
            ("Trong ngày làm việc", None),
            ("Sau 3 ngày làm việc tiếp theo", None),
            ("sau 20 giờ thì ngày hôm sau", None),
            ("", None),
        ] {
            assert_eq!(cutoff_hour_in(note), hour, "{note}");
        }
    }
    use proptest::prelude::*;

    #[test]
    fn procedure_codes() {
        assert!(ProcedureCode::parse("1.001193").is_ok());
        assert!(ProcedureCode::parse(" 2.000720 ").is_ok());
        for bad in [
            "",
            "1001193",
            "1.00119",
            "1.0011934",
            "a.001193",
            "1,001193",
            "11.00119",
        ] {
            assert!(ProcedureCode::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn procedure_codes_round_trip(a in 0u32..10, n in 0u32..1_000_000) {
            let text = format!("{a}.{n:06}");
            let code = ProcedureCode::parse(&text).unwrap();
            prop_assert_eq!(code.as_str(), text.as_str());
        }

        #[test]
        fn case_keys_never_panic(s in ".{0,80}") {
            if let Ok(key) = CaseKey::parse(&s) {
                prop_assert!(key.as_str().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            }
        }
    }

    pub(crate) fn birth_registration() -> Procedure {
        serde_json::from_value(serde_json::json!({
            "code": "1.001193",
            "name": "Đăng ký khai sinh",
            "fields": ["HOTICH"],
            "implementing_levels": ["commune"],
            "agencies": ["000.17.22.H56"],
            "applicants": ["citizen"],
            "cases": [{
                "key": "dung-han",
                "name": "Đăng ký khai sinh đúng hạn",
                "components": [{"name": "Tờ khai đăng ký khai sinh", "originals": 1}],
                "time_limits": [{"channel": "in_person", "limit": {"value": 0, "unit": "working_days"}, "cutoff_hour": 15}],
                "fees": [{"kind": "levy", "amount": 0, "description": "Lệ phí đăng ký khai sinh", "exemption_note": "Miễn lệ phí khi đăng ký đúng hạn"}]
            }]
        }))
        .unwrap()
    }

    #[test]
    fn a_well_formed_procedure_validates() {
        let p = birth_registration();
        p.validate().unwrap();
        assert_eq!(
            p.cases[0].time_limits[0].limit.to_string(),
            "Trong ngày làm việc"
        );
        assert!(
            p.cases[0].components[0].required,
            "components are required unless said otherwise"
        );
    }

    #[test]
    fn duplicate_case_keys_and_missing_limits_are_refused() {
        let mut p = birth_registration();
        p.cases.push(p.cases[0].clone());
        assert!(p.validate().unwrap_err().to_string().contains("bị trùng"));
        let mut p = birth_registration();
        p.cases[0].time_limits.clear();
        assert!(
            p.validate()
                .unwrap_err()
                .to_string()
                .contains("chưa có thời hạn")
        );
        let mut p = birth_registration();
        p.cases[0].time_limits[0].limit.value = 10_000;
        assert!(p.validate().is_err());
    }

    #[test]
    fn negative_fee_in_json_is_refused() {
        let mut json = serde_json::to_value(birth_registration()).unwrap();
        json["cases"][0]["fees"][0]["amount"] = serde_json::json!(-100);
        assert!(serde_json::from_value::<Procedure>(json).is_err());
    }
}
