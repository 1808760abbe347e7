//! The one error type for values rejected at the edge. Messages are Vietnamese (the default UI language);
//! `code()` gives a stable identifier that support staff, logs and tests can refer to.

use thiserror::Error;

/// Why a value from outside was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    #[error(
        "Mã định danh cơ quan \u{201c}{0}\u{201d} không đúng dạng DDD.DD.DD.XNN (ví dụ 000.00.06.H56)"
    )]
    AgencyCode(String),
    #[error(
        "Mã lĩnh vực \u{201c}{0}\u{201d} không hợp lệ (chỉ gồm chữ, số, dấu chấm hoặc gạch ngang, tối đa 32 ký tự)"
    )]
    FieldCode(String),
    #[error(
        "Mã thủ tục \u{201c}{0}\u{201d} không đúng dạng một chữ số, dấu chấm và sáu chữ số (ví dụ 1.001193)"
    )]
    ProcedureCode(String),
    #[error(
        "Mã trường hợp \u{201c}{0}\u{201d} không hợp lệ (chữ thường không dấu, số và gạch ngang, tối đa 64 ký tự)"
    )]
    CaseKey(String),
    #[error(
        "Mã hồ sơ \u{201c}{0}\u{201d} không đúng dạng {{mã cơ quan}}-{{yyMMdd}}-{{NNNN}} (ví dụ 000.00.06.H56-231027-0361)"
    )]
    DossierCode(String),
    #[error("Mức độ dịch vụ công trực tuyến phải từ 1 đến 4, không phải \u{201c}{0}\u{201d}")]
    OnlineLevel(String),
    #[error("Trạng thái hồ sơ \u{201c}{0}\u{201d} không tồn tại")]
    DossierStatus(String),
    #[error(
        "Kênh nộp hồ sơ \u{201c}{0}\u{201d} không tồn tại (1 trực tiếp, 2 trực tuyến, 3 bưu chính)"
    )]
    Channel(String),
    #[error("Số tiền không được âm: {0}")]
    NegativeAmount(i64),
    #[error("{0} không được để trống")]
    Empty(&'static str),
    #[error("{what} quá dài (tối đa {max} ký tự)")]
    TooLong { what: &'static str, max: usize },
    #[error("{0}")]
    Invalid(String),
}

impl ParseError {
    /// A stable code for this kind of error (never translated, never reworded).
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::AgencyCode(_) => "agency_code.invalid",
            ParseError::FieldCode(_) => "field_code.invalid",
            ParseError::ProcedureCode(_) => "procedure_code.invalid",
            ParseError::CaseKey(_) => "case_key.invalid",
            ParseError::DossierCode(_) => "dossier_code.invalid",
            ParseError::OnlineLevel(_) => "online_level.invalid",
            ParseError::DossierStatus(_) => "dossier_status.invalid",
            ParseError::Channel(_) => "channel.invalid",
            ParseError::NegativeAmount(_) => "amount.negative",
            ParseError::Empty(_) => "text.empty",
            ParseError::TooLong { .. } => "text.too_long",
            ParseError::Invalid(_) => "value.invalid",
        }
    }
}
