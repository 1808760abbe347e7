//! Dossiers (hồ sơ): their statuses and the one table of allowed transitions, submission channels, the human
//! dossier code, and the append-only, hash-chained history of every state change.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::{fmt, str::FromStr};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::{AgencyCode, CaseKey, NonEmptyText, ParseError, ProcedureCode};

/// Internal identifier of a dossier (UUIDv7: time-ordered). The human key is [`DossierCode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DossierId(pub Uuid);

impl DossierId {
    pub fn new() -> Self {
        DossierId(Uuid::now_v7())
    }
}

impl Default for DossierId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for DossierId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How a dossier reached the agency. Kept as evidence: "online" figures must be honest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// 1 — trực tiếp (at the counter)
    InPerson = 1,
    /// 2 — trực tuyến
    Online = 2,
    /// 3 — qua dịch vụ bưu chính
    Post = 3,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::InPerson, Channel::Online, Channel::Post];

    /// The national code (`KENH`): 1 in person, 2 online, 3 post.
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|c| c.code() == code)
            .ok_or_else(|| ParseError::Channel(code.to_string()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::InPerson => "in_person",
            Channel::Online => "online",
            Channel::Post => "post",
        }
    }

    pub fn parse(input: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == input)
            .ok_or_else(|| ParseError::Channel(input.to_string()))
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Channel::InPerson => "Trực tiếp",
            Channel::Online => "Trực tuyến",
            Channel::Post => "Qua dịch vụ bưu chính",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Channel::InPerson => "In person",
            Channel::Online => "Online",
            Channel::Post => "By post",
        }
    }
}

/// Whether the legal clock of a dossier runs in a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockState {
    /// Not started yet (draft, awaiting reception).
    NotStarted,
    Running,
    /// Paused: waiting for the citizen (supplement, financial obligation). Paused time is added back.
    Paused,
    /// Stopped for good (result ready, refused, withdrawn…).
    Stopped,
}

/// Status of a dossier: the ten national codes (`domain.md` §4) plus `Draft` before 1 and `Withdrawn` after 7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DossierStatus {
    /// Bản nháp — the citizen's unsent dossier.
    Draft,
    /// 1 — Mới đăng ký (awaiting reception).
    Submitted,
    /// 2 — Được tiếp nhận.
    Received,
    /// 3 — Không được tiếp nhận.
    Refused,
    /// 4 — Đang xử lý.
    Processing,
    /// 5 — Yêu cầu bổ sung giấy tờ.
    SupplementRequested,
    /// 6 — Yêu cầu thực hiện nghĩa vụ tài chính.
    AwaitingFinancialObligation,
    /// 7 — Công dân yêu cầu rút hồ sơ.
    WithdrawalRequested,
    /// 8 — Dừng xử lý.
    Stopped,
    /// 9 — Đã xử lý xong.
    Processed,
    /// 10 — Đã trả kết quả.
    ResultDelivered,
    /// Đã rút hồ sơ.
    Withdrawn,
}

use DossierStatus as S;

/// Every allowed status change, in one place. Anything not listed is refused.
/// The fewest characters a written reason may have (a refusal, a supplement request, a return, an apology): the
/// law asks for the reason in writing, and "x" is not one.
pub const MIN_REASON_CHARS: usize = 10;

/// Whether `reason` (trimmed) is long enough to be a reason.
pub fn is_reason(reason: &str) -> bool {
    reason.trim().chars().count() >= MIN_REASON_CHARS
}

pub const TRANSITIONS: &[(DossierStatus, DossierStatus)] = &[
    // the citizen sends the draft
    (S::Draft, S::Submitted),
    // reception: accept, ask for more, refuse; the citizen may still take it back
    (S::Submitted, S::Received),
    (S::Submitted, S::SupplementRequested),
    (S::Submitted, S::Refused),
    (S::Submitted, S::Withdrawn),
    // after receipt
    (S::Received, S::Processing),
    (S::Received, S::Processed),
    (S::Received, S::SupplementRequested),
    (S::Received, S::AwaitingFinancialObligation),
    (S::Received, S::WithdrawalRequested),
    (S::Received, S::Stopped),
    // processing
    (S::Processing, S::SupplementRequested),
    (S::Processing, S::AwaitingFinancialObligation),
    (S::Processing, S::WithdrawalRequested),
    (S::Processing, S::Stopped),
    (S::Processing, S::Processed),
    // the citizen answers a supplement request (before receipt: back to reception; after: back to processing)
    (S::SupplementRequested, S::Submitted),
    (S::SupplementRequested, S::Processing),
    (S::SupplementRequested, S::Refused),
    (S::SupplementRequested, S::Stopped),
    (S::SupplementRequested, S::WithdrawalRequested),
    // financial obligation met (or not)
    (S::AwaitingFinancialObligation, S::Processing),
    (S::AwaitingFinancialObligation, S::Processed),
    (S::AwaitingFinancialObligation, S::Stopped),
    (S::AwaitingFinancialObligation, S::WithdrawalRequested),
    // withdrawal: granted, or the request is dropped and work resumes
    (S::WithdrawalRequested, S::Withdrawn),
    (S::WithdrawalRequested, S::Received),
    (S::WithdrawalRequested, S::Processing),
    // result handed over at the counter, by post or online
    (S::Processed, S::ResultDelivered),
];

impl DossierStatus {
    pub const ALL: [DossierStatus; 12] = [
        S::Draft,
        S::Submitted,
        S::Received,
        S::Refused,
        S::Processing,
        S::SupplementRequested,
        S::AwaitingFinancialObligation,
        S::WithdrawalRequested,
        S::Stopped,
        S::Processed,
        S::ResultDelivered,
        S::Withdrawn,
    ];

    /// The national status code 1–10; `None` for `Draft` and `Withdrawn`, which are ours.
    pub fn national_code(self) -> Option<u8> {
        match self {
            S::Draft | S::Withdrawn => None,
            S::Submitted => Some(1),
            S::Received => Some(2),
            S::Refused => Some(3),
            S::Processing => Some(4),
            S::SupplementRequested => Some(5),
            S::AwaitingFinancialObligation => Some(6),
            S::WithdrawalRequested => Some(7),
            S::Stopped => Some(8),
            S::Processed => Some(9),
            S::ResultDelivered => Some(10),
        }
    }

    /// Stable key used in storage and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            S::Draft => "draft",
            S::Submitted => "submitted",
            S::Received => "received",
            S::Refused => "refused",
            S::Processing => "processing",
            S::SupplementRequested => "supplement_requested",
            S::AwaitingFinancialObligation => "awaiting_financial_obligation",
            S::WithdrawalRequested => "withdrawal_requested",
            S::Stopped => "stopped",
            S::Processed => "processed",
            S::ResultDelivered => "result_delivered",
            S::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(input: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == input)
            .ok_or_else(|| ParseError::DossierStatus(input.to_string()))
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            S::Draft => "Bản nháp",
            S::Submitted => "Mới đăng ký",
            S::Received => "Được tiếp nhận",
            S::Refused => "Không được tiếp nhận",
            S::Processing => "Đang xử lý",
            S::SupplementRequested => "Yêu cầu bổ sung giấy tờ",
            S::AwaitingFinancialObligation => "Yêu cầu thực hiện nghĩa vụ tài chính",
            S::WithdrawalRequested => "Công dân yêu cầu rút hồ sơ",
            S::Stopped => "Dừng xử lý",
            S::Processed => "Đã xử lý xong",
            S::ResultDelivered => "Đã trả kết quả",
            S::Withdrawn => "Đã rút hồ sơ",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            S::Draft => "Draft",
            S::Submitted => "Submitted, awaiting reception",
            S::Received => "Received",
            S::Refused => "Refused at reception",
            S::Processing => "Being processed",
            S::SupplementRequested => "Supplement requested",
            S::AwaitingFinancialObligation => "Awaiting fees or taxes",
            S::WithdrawalRequested => "Withdrawal requested",
            S::Stopped => "Processing stopped",
            S::Processed => "Processed, result ready",
            S::ResultDelivered => "Result delivered",
            S::Withdrawn => "Withdrawn",
        }
    }

    pub fn clock(self) -> ClockState {
        match self {
            S::Draft | S::Submitted => ClockState::NotStarted,
            S::Received | S::Processing | S::WithdrawalRequested => ClockState::Running,
            S::SupplementRequested | S::AwaitingFinancialObligation => ClockState::Paused,
            S::Refused | S::Stopped | S::Processed | S::ResultDelivered | S::Withdrawn => {
                ClockState::Stopped
            }
        }
    }

    pub fn can_become(self, to: DossierStatus) -> bool {
        TRANSITIONS.contains(&(self, to))
    }

    /// Statuses reachable in one step from this one.
    pub fn next_statuses(self) -> impl Iterator<Item = DossierStatus> {
        TRANSITIONS
            .iter()
            .filter(move |(from, _)| *from == self)
            .map(|(_, to)| *to)
    }

    /// No way out: the dossier's life is over.
    pub fn is_terminal(self) -> bool {
        self.next_statuses().next().is_none()
    }

    /// Sent and not finished: an agency still answers for the dossier (a merger moves it, an agency cannot end
    /// while it has one).
    pub fn is_open(self) -> bool {
        self != DossierStatus::Draft && !self.is_terminal()
    }
}

impl fmt::Display for DossierStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label_vi())
    }
}

/// Human dossier code `{agency code}-{yyMMdd}-{NNNN}`, e.g. `000.00.06.H56-231027-0361`: the counter is per
/// agency and restarts every day (in UTC+7). More than 9,999 a day widens the counter rather than repeating.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DossierCode {
    agency: AgencyCode,
    day: Date,
    number: u32,
}

impl DossierCode {
    /// `number` starts at 1.
    pub fn new(agency: AgencyCode, day: Date, number: u32) -> Result<Self, ParseError> {
        if number == 0 {
            return Err(ParseError::Invalid(
                "Số thứ tự hồ sơ phải bắt đầu từ 1".into(),
            ));
        }
        if !(2000..=2099).contains(&day.year()) {
            return Err(ParseError::Invalid(format!(
                "Năm {} không biểu diễn được trong mã hồ sơ (yyMMdd)",
                day.year()
            )));
        }
        Ok(DossierCode {
            agency,
            day,
            number,
        })
    }

    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let bad = || ParseError::DossierCode(input.to_string());
        let text = input.trim();
        let mut parts = text.split('-');
        let (Some(agency), Some(day), Some(number), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let agency = AgencyCode::parse(agency).map_err(|_| bad())?;
        if day.len() != 6 || !day.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        if number.len() < 4 || number.len() > 9 || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        // a wider counter never has a leading zero: 10000, not 010000
        if number.len() > 4 && number.starts_with('0') {
            return Err(bad());
        }
        let two = |i: usize| day[i..i + 2].parse::<u8>().map_err(|_| bad());
        let month = time::Month::try_from(two(2)?).map_err(|_| bad())?;
        let day = Date::from_calendar_date(2000 + i32::from(two(0)?), month, two(4)?)
            .map_err(|_| bad())?;
        let number: u32 = number.parse().map_err(|_| bad())?;
        Self::new(agency, day, number).map_err(|_| bad())
    }

    pub fn agency(&self) -> &AgencyCode {
        &self.agency
    }

    /// The day (UTC+7) of the counter that issued this code.
    pub fn day(&self) -> Date {
        self.day
    }

    pub fn number(&self) -> u32 {
        self.number
    }
}

impl fmt::Display for DossierCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{:02}{:02}{:02}-{:04}",
            self.agency,
            self.day.year() % 100,
            u8::from(self.day.month()),
            self.day.day(),
            self.number
        )
    }
}

impl FromStr for DossierCode {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for DossierCode {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<DossierCode> for String {
    fn from(value: DossierCode) -> Self {
        value.to_string()
    }
}

/// What is needed to create a dossier. The procedure version it names is its snapshot: procedure versions are
/// immutable, so the dossier keeps the components, time limits and fees it was received under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDossier {
    pub id: DossierId,
    pub code: DossierCode,
    pub procedure: ProcedureCode,
    pub procedure_version: u32,
    pub case: CaseKey,
    pub channel: Channel,
    pub status: DossierStatus,
    pub applicant_name: NonEmptyText,
    pub created_at: OffsetDateTime,
    /// Who created it (account id, officer id, or `system`).
    pub actor: String,
}

/// A dossier as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dossier {
    pub id: DossierId,
    pub code: DossierCode,
    pub agency: AgencyCode,
    pub procedure: ProcedureCode,
    pub procedure_version: u32,
    pub case: CaseKey,
    pub channel: Channel,
    pub status: DossierStatus,
    pub applicant_name: NonEmptyText,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// Appointment date for the result, once received.
    pub due_at: Option<OffsetDateTime>,
}

/// A requested state change, checked against [`TRANSITIONS`] when it is made. The store applies it only if the
/// dossier is still in `from` (so two officers acting at once cannot both succeed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub event_id: Uuid,
    pub dossier: DossierId,
    pub from: DossierStatus,
    pub to: DossierStatus,
    pub at: OffsetDateTime,
    pub actor: String,
    pub reason: Option<String>,
    /// New appointment date, when the change sets one (receipt, apology with a new date).
    pub due_at: Option<OffsetDateTime>,
}

impl Transition {
    pub fn new(
        dossier: DossierId,
        from: DossierStatus,
        to: DossierStatus,
        at: OffsetDateTime,
        actor: impl Into<String>,
    ) -> Result<Self, ParseError> {
        if !from.can_become(to) {
            return Err(ParseError::Invalid(format!(
                "Không thể chuyển hồ sơ từ trạng thái \u{201c}{}\u{201d} sang \u{201c}{}\u{201d}",
                from.label_vi(),
                to.label_vi()
            )));
        }
        Ok(Transition {
            event_id: Uuid::now_v7(),
            dossier,
            from,
            to,
            at: truncate_to_micros(at),
            actor: actor.into(),
            reason: None,
            due_at: None,
        })
    }

    /// The apology with a new appointment (Decree 61/2018 → 118/2025): the one event that changes the due time
    /// without changing the status. Only while the clock runs (received, processing).
    pub fn apology(
        dossier: DossierId,
        status: DossierStatus,
        at: OffsetDateTime,
        actor: impl Into<String>,
        new_due: OffsetDateTime,
        reason: impl Into<String>,
    ) -> Result<Self, ParseError> {
        if status.clock() != ClockState::Running {
            return Err(ParseError::Invalid(format!(
                "Hồ sơ ở trạng thái \u{201c}{}\u{201d} không có thời hạn đang chạy để hẹn lại",
                status.label_vi()
            )));
        }
        Ok(Transition {
            event_id: Uuid::now_v7(),
            dossier,
            from: status,
            to: status,
            at: truncate_to_micros(at),
            actor: actor.into(),
            reason: None,
            due_at: None,
        }
        .with_reason(reason)
        .with_due_at(new_due))
    }

    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(crate::text::normalize(&reason.into()));
        self
    }

    pub fn with_due_at(mut self, due_at: OffsetDateTime) -> Self {
        self.due_at = Some(truncate_to_micros(due_at));
        self
    }
}

/// Both backends keep microseconds; instants are cut there before they are hashed or stored, so a stored
/// event hashes the same after a round trip.
pub fn truncate_to_micros(at: OffsetDateTime) -> OffsetDateTime {
    let nanos = at.nanosecond();
    at.replace_nanosecond(nanos - nanos % 1_000).unwrap_or(at)
}

/// SHA-256 of a history event, chained to the previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventHash(pub [u8; 32]);

impl EventHash {
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn from_hex(hex: &str) -> Option<Self> {
        if hex.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(EventHash(out))
    }
}

/// One entry of a dossier's append-only history. `seq` counts from 1 per dossier; each `hash` covers the event
/// and the previous hash, so a changed or removed entry breaks the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEvent {
    pub id: Uuid,
    pub dossier: DossierId,
    pub seq: u32,
    pub at: OffsetDateTime,
    pub actor: String,
    pub from: Option<DossierStatus>,
    pub to: DossierStatus,
    pub reason: Option<String>,
    pub due_at: Option<OffsetDateTime>,
    pub prev_hash: Option<EventHash>,
    pub hash: EventHash,
}

impl HistoryEvent {
    /// Build the event that follows `prev` (or the first one) and seal it with its hash.
    #[allow(clippy::too_many_arguments)]
    pub fn seal(
        id: Uuid,
        dossier: DossierId,
        prev: Option<(u32, EventHash)>,
        at: OffsetDateTime,
        actor: String,
        from: Option<DossierStatus>,
        to: DossierStatus,
        reason: Option<String>,
        due_at: Option<OffsetDateTime>,
    ) -> Self {
        let mut event = HistoryEvent {
            id,
            dossier,
            seq: prev.map_or(1, |(seq, _)| seq + 1),
            at: truncate_to_micros(at),
            actor,
            from,
            to,
            reason,
            due_at: due_at.map(truncate_to_micros),
            prev_hash: prev.map(|(_, hash)| hash),
            hash: EventHash([0; 32]),
        };
        event.hash = event.compute_hash();
        event
    }

    /// The hash this event must carry, from its content and `prev_hash`.
    pub fn compute_hash(&self) -> EventHash {
        let mut h = Sha256::new();
        let mut field = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        };
        field(self.prev_hash.map(|p| p.0).unwrap_or([0; 32]).as_slice());
        field(self.id.as_bytes());
        field(self.dossier.0.as_bytes());
        field(&self.seq.to_be_bytes());
        field(&self.at.unix_timestamp_nanos().to_be_bytes());
        field(self.actor.as_bytes());
        field(self.from.map_or("", DossierStatus::as_str).as_bytes());
        field(self.to.as_str().as_bytes());
        field(self.reason.as_deref().unwrap_or("").as_bytes());
        field(
            &self
                .due_at
                .map_or(i128::MIN, |d| d.unix_timestamp_nanos())
                .to_be_bytes(),
        );
        EventHash(h.finalize().into())
    }

    /// Check a dossier's whole history: consecutive numbers, each hash right, each linked to the one before.
    /// On failure, the `seq` of the first bad event.
    pub fn verify_chain(events: &[HistoryEvent]) -> Result<(), u32> {
        let mut prev: Option<&HistoryEvent> = None;
        for event in events {
            let linked = match prev {
                None => event.seq == 1 && event.prev_hash.is_none(),
                Some(p) => event.seq == p.seq + 1 && event.prev_hash == Some(p.hash),
            };
            if !linked || event.compute_hash() != event.hash {
                return Err(event.seq);
            }
            prev = Some(event);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_reason_has_at_least_ten_characters_besides_spaces() {
        assert!(is_reason("Thiếu bản sao giấy khai sinh"));
        assert!(!is_reason("   thiếu    "));
        assert!(is_reason("Thiếu giấy"));
        assert!(!is_reason("Thiếu gi"));
    }

    #[test]
    fn an_apology_keeps_the_status_and_only_while_the_clock_runs() {
        let at = time::macros::datetime!(2026-03-02 02:00 UTC);
        let new_due = time::macros::datetime!(2026-03-10 10:00 UTC);
        let t = Transition::apology(
            DossierId::new(),
            DossierStatus::Processing,
            at,
            "tp",
            new_due,
            " Xin lỗi ",
        )
        .unwrap();
        assert_eq!(
            (t.from, t.to),
            (DossierStatus::Processing, DossierStatus::Processing)
        );
        assert_eq!(t.due_at, Some(new_due));
        assert_eq!(t.reason.as_deref(), Some("Xin lỗi"));
        for status in [
            DossierStatus::SupplementRequested,
            DossierStatus::Processed,
            DossierStatus::Submitted,
        ] {
            assert!(
                Transition::apology(DossierId::new(), status, at, "tp", new_due, "x").is_err(),
                "{status:?}"
            );
        }
    }

    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;
    use time::macros::{date, datetime};

    #[test]
    fn national_codes_are_one_to_ten_each_once() {
        let codes: Vec<u8> = DossierStatus::ALL
            .iter()
            .filter_map(|s| s.national_code())
            .collect();
        assert_eq!(codes, (1..=10).collect::<Vec<_>>());
    }

    #[test]
    fn keys_parse_back() {
        for status in DossierStatus::ALL {
            assert_eq!(DossierStatus::parse(status.as_str()), Ok(status));
        }
        assert!(DossierStatus::parse("deleted").is_err());
        for channel in Channel::ALL {
            assert_eq!(Channel::parse(channel.as_str()), Ok(channel));
            assert_eq!(Channel::from_code(channel.code()), Ok(channel));
        }
        assert!(Channel::from_code(4).is_err());
    }

    #[test]
    fn the_transition_table_has_no_loops_or_duplicates() {
        let mut seen = HashSet::new();
        for (from, to) in TRANSITIONS {
            assert_ne!(from, to, "{from:?} to itself");
            assert!(seen.insert((from, to)), "{from:?} → {to:?} listed twice");
        }
    }

    #[test]
    fn every_status_is_reachable_from_draft_and_every_path_can_end() {
        let mut reached = HashSet::from([DossierStatus::Draft]);
        let mut frontier = vec![DossierStatus::Draft];
        while let Some(s) = frontier.pop() {
            for next in s.next_statuses() {
                if reached.insert(next) {
                    frontier.push(next);
                }
            }
        }
        assert_eq!(reached.len(), DossierStatus::ALL.len());
        // from every status a terminal status can be reached
        for start in DossierStatus::ALL {
            let mut seen = HashSet::from([start]);
            let mut frontier = vec![start];
            let mut ends = false;
            while let Some(s) = frontier.pop() {
                ends |= s.is_terminal();
                frontier.extend(s.next_statuses().filter(|n| seen.insert(*n)));
            }
            assert!(ends, "{start:?} can never end");
        }
    }

    #[test]
    fn terminal_statuses_are_exactly_the_final_ones() {
        let terminal: HashSet<_> = DossierStatus::ALL
            .into_iter()
            .filter(|s| s.is_terminal())
            .collect();
        assert_eq!(
            terminal,
            HashSet::from([S::Refused, S::Stopped, S::ResultDelivered, S::Withdrawn])
        );
        for s in terminal {
            assert_eq!(s.clock(), ClockState::Stopped);
        }
        // a dossier is approved at most once: from "processed" the only way is the hand-over, which ends it (the
        // results list and the statistics read each approval event as the dossier's one approval)
        assert_eq!(
            S::Processed.next_statuses().collect::<Vec<_>>(),
            [S::ResultDelivered]
        );
        assert!(S::ResultDelivered.is_terminal());
    }

    #[test]
    fn the_clock_pauses_only_while_waiting_for_the_citizen() {
        assert_eq!(S::SupplementRequested.clock(), ClockState::Paused);
        assert_eq!(S::AwaitingFinancialObligation.clock(), ClockState::Paused);
        assert_eq!(S::Processing.clock(), ClockState::Running);
        assert_eq!(S::Submitted.clock(), ClockState::NotStarted);
    }

    #[test]
    fn a_refused_transition_says_why_in_vietnamese() {
        let err = Transition::new(
            DossierId::new(),
            S::Draft,
            S::Processed,
            OffsetDateTime::UNIX_EPOCH,
            "x",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Không thể chuyển hồ sơ từ trạng thái “Bản nháp” sang “Đã xử lý xong”"
        );
    }

    proptest! {
        #[test]
        fn transition_new_agrees_with_the_table(a in 0usize..12, b in 0usize..12) {
            let (from, to) = (DossierStatus::ALL[a], DossierStatus::ALL[b]);
            let made = Transition::new(DossierId::new(), from, to, OffsetDateTime::UNIX_EPOCH, "t");
            prop_assert_eq!(made.is_ok(), TRANSITIONS.contains(&(from, to)));
        }

        #[test]
        fn dossier_codes_round_trip(n in 1u32..=999_999_999, days in 0i64..36_000, agency in 0u32..1000) {
            let day = date!(2000-01-01) + time::Duration::days(days);
            let agency = AgencyCode::parse(&format!("000.{:02}.{:02}.H56", agency / 100 % 100, agency % 100)).unwrap();
            if let Ok(code) = DossierCode::new(agency, day, n) {
                let text = code.to_string();
                prop_assert_eq!(DossierCode::parse(&text).unwrap(), code);
            }
        }

        #[test]
        fn dossier_code_parsing_never_panics(s in ".{0,40}") {
            let _ = DossierCode::parse(&s);
        }
    }

    #[test]
    fn the_documented_example_parses() {
        let code = DossierCode::parse("000.00.06.H56-231027-0361").unwrap();
        assert_eq!(code.agency().as_str(), "000.00.06.H56");
        assert_eq!(code.day(), date!(2023 - 10 - 27));
        assert_eq!(code.number(), 361);
        assert_eq!(code.to_string(), "000.00.06.H56-231027-0361");
        let wide = DossierCode::new(code.agency().clone(), code.day(), 12_345).unwrap();
        assert_eq!(wide.to_string(), "000.00.06.H56-231027-12345");
        for bad in [
            "000.00.06.H56-231327-0361",
            "000.00.06.H56-231027-361",
            "000.00.06.H56-231027-0000",
            "000.00.06.H56-231027-012345",
            "000.00.06.H56-231027",
            "x-231027-0361",
            "000.00.06.H56-230229-0001",
        ] {
            assert!(DossierCode::parse(bad).is_err(), "{bad}");
        }
    }

    fn chain() -> Vec<HistoryEvent> {
        let d = DossierId::new();
        let first = HistoryEvent::seal(
            Uuid::now_v7(),
            d,
            None,
            datetime!(2023-10-27 02:32 UTC),
            "citizen".into(),
            None,
            S::Submitted,
            None,
            None,
        );
        let second = HistoryEvent::seal(
            Uuid::now_v7(),
            d,
            Some((first.seq, first.hash)),
            datetime!(2023-10-27 03:00 UTC),
            "officer".into(),
            Some(S::Submitted),
            S::Received,
            None,
            Some(datetime!(2023-11-03 10:00 UTC)),
        );
        vec![first, second]
    }

    #[test]
    fn an_untouched_history_verifies() {
        let events = chain();
        assert_eq!(events[1].seq, 2);
        assert_eq!(HistoryEvent::verify_chain(&events), Ok(()));
        let hex = events[0].hash.to_hex();
        assert_eq!(EventHash::from_hex(&hex), Some(events[0].hash));
    }

    #[test]
    fn a_tampered_or_removed_event_breaks_the_chain() {
        let mut events = chain();
        events[0].reason = Some("sửa lén".into());
        assert_eq!(HistoryEvent::verify_chain(&events), Err(1));
        let events = chain();
        assert_eq!(HistoryEvent::verify_chain(&events[1..]), Err(2));
    }
}
