//! E-forms (tờ khai điện tử): a declarative definition stored with each procedure case — so a dossier keeps the
//! form of the procedure version it was submitted under — and its validation with specific Vietnamese messages.
//!
//! Every online dossier starts with the same page about the applicant ([`applicant_page`]); the case's own pages
//! follow. Answers travel as text (what the browser sent) and are normalised here: NFC, trimmed, dates as
//! dd/mm/yyyy, money as a whole number of đồng.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::{Date, Month};

use crate::{Email, PersonalId, Phone, Vnd, text::normalize};

/// Raw or normalised answers: field key → values (one for most fields, several for multiple choice).
pub type Answers = BTreeMap<String, Vec<String>>;

/// The 34 provinces and centrally-run cities from 1 July 2025 (Resolution 202/2025/QH15).
pub const PROVINCES: [&str; 34] = [
    "Thành phố Hà Nội",
    "Thành phố Huế",
    "Tỉnh Lai Châu",
    "Tỉnh Điện Biên",
    "Tỉnh Sơn La",
    "Tỉnh Lạng Sơn",
    "Tỉnh Quảng Ninh",
    "Tỉnh Thanh Hóa",
    "Tỉnh Nghệ An",
    "Tỉnh Hà Tĩnh",
    "Tỉnh Cao Bằng",
    "Tỉnh Tuyên Quang",
    "Tỉnh Lào Cai",
    "Tỉnh Thái Nguyên",
    "Tỉnh Phú Thọ",
    "Tỉnh Bắc Ninh",
    "Tỉnh Hưng Yên",
    "Thành phố Hải Phòng",
    "Tỉnh Ninh Bình",
    "Tỉnh Quảng Trị",
    "Thành phố Đà Nẵng",
    "Tỉnh Quảng Ngãi",
    "Tỉnh Gia Lai",
    "Tỉnh Khánh Hòa",
    "Tỉnh Lâm Đồng",
    "Tỉnh Đắk Lắk",
    "Thành phố Hồ Chí Minh",
    "Tỉnh Đồng Nai",
    "Tỉnh Tây Ninh",
    "Thành phố Cần Thơ",
    "Tỉnh Vĩnh Long",
    "Tỉnh Đồng Tháp",
    "Tỉnh Cà Mau",
    "Tỉnh An Giang",
];

/// The 54 ethnic groups of Viet Nam by their official names (Decision 121-TCTK/PPCĐ, 1979), for the ethnicity
/// pick-list; shown in Vietnamese dictionary order.
pub const ETHNICITIES: [&str; 54] = [
    "Kinh",
    "Tày",
    "Thái",
    "Mường",
    "Khơ Me",
    "Hoa",
    "Nùng",
    "Mông",
    "Dao",
    "Gia Rai",
    "Ngái",
    "Ê Đê",
    "Ba Na",
    "Xơ Đăng",
    "Sán Chay",
    "Cơ Ho",
    "Chăm",
    "Sán Dìu",
    "Hrê",
    "Mnông",
    "Ra Glai",
    "Xtiêng",
    "Bru - Vân Kiều",
    "Thổ",
    "Giáy",
    "Cơ Tu",
    "Giẻ Triêng",
    "Mạ",
    "Khơ Mú",
    "Co",
    "Tà Ôi",
    "Chơ Ro",
    "Kháng",
    "Xinh Mun",
    "Hà Nhì",
    "Chu Ru",
    "Lào",
    "La Chí",
    "La Ha",
    "Phù Lá",
    "La Hủ",
    "Lự",
    "Lô Lô",
    "Chứt",
    "Mảng",
    "Pà Thẻn",
    "Cờ Lao",
    "Cống",
    "Bố Y",
    "Si La",
    "Pu Péo",
    "Brâu",
    "Ơ Đu",
    "Rơ Măm",
];

/// A known list in the order a Vietnamese reader looks for a name: dictionary order of the name, without the
/// "Tỉnh" / "Thành phố" before a province.
pub fn in_vietnamese_order(list: &[&'static str]) -> Vec<&'static str> {
    let mut sorted = list.to_vec();
    crate::text::sort_vietnamese(&mut sorted, |name| {
        name.strip_prefix("Thành phố ")
            .or_else(|| name.strip_prefix("Tỉnh "))
            .unwrap_or(name)
    });
    sorted
}

/// The 34 provinces in the order a reader looks for them (see [`in_vietnamese_order`]), for every pick-list.
pub fn provinces_in_order() -> &'static [&'static str] {
    static SORTED: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    SORTED.get_or_init(|| in_vietnamese_order(&PROVINCES))
}

/// Every province's communes as JSON (`{"Tỉnh …": ["Phường …", …], …}`), for the script that fills the commune
/// list when a province is chosen.
pub fn communes_json() -> &'static str {
    static JSON: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    JSON.get_or_init(|| {
        let map: BTreeMap<&str, &[&str]> = PROVINCES.iter().map(|p| (*p, communes_of(p))).collect();
        serde_json::to_string(&map).unwrap_or_else(|_| "{}".into())
    })
}

/// The communes, wards and special zones from 1 July 2025 (see `docs/third-party.md`): code, province, name.
const COMMUNES: &str = include_str!("communes.tsv");

fn short_unit_name(name: &str) -> &str {
    ["Xã ", "Phường ", "Đặc khu "]
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name)
}

/// The communes, wards and special zones of `province` (one of [`PROVINCES`]), in Vietnamese order of their
/// names (without "Xã", "Phường", "Đặc khu"); empty for a name that is not a province.
pub fn communes_of(province: &str) -> &'static [&'static str] {
    static BY_PROVINCE: std::sync::OnceLock<BTreeMap<&'static str, Vec<&'static str>>> =
        std::sync::OnceLock::new();
    BY_PROVINCE
        .get_or_init(|| {
            let mut map: BTreeMap<&'static str, Vec<&'static str>> = BTreeMap::new();
            for line in COMMUNES.lines().filter(|l| !l.starts_with('#')) {
                let mut parts = line.split('\t');
                if let (Some(_code), Some(province), Some(name)) =
                    (parts.next(), parts.next(), parts.next())
                {
                    map.entry(province).or_default().push(name);
                }
            }
            for names in map.values_mut() {
                crate::text::sort_vietnamese(names, |n| short_unit_name(n));
            }
            map
        })
        .get(province)
        .map_or(&[], Vec::as_slice)
}

/// The commune of `province` a typed name means: its exact name in any case, or its name without "Xã",
/// "Phường" or "Đặc khu" when only one of the province's has it.
pub fn find_commune(province: &str, typed: &str) -> Option<&'static str> {
    let typed = normalize(typed).to_lowercase();
    let all = communes_of(province);
    if let Some(exact) = all.iter().find(|n| n.to_lowercase() == typed) {
        return Some(exact);
    }
    let mut short = all
        .iter()
        .filter(|n| short_unit_name(n).to_lowercase() == typed);
    match (short.next(), short.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    }
}

/// When a date may fall, relative to the day it is typed (a birth cannot be in the future; a registration on
/// time is within 60 days of the birth, a late one after).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateRule {
    /// Not after today.
    #[serde(default)]
    pub past: bool,
    /// At most this many days before today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_days_ago: Option<u32>,
    /// More than this many days before today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub more_than_days_ago: Option<u32>,
    /// What to do when the date falls outside those days, e.g. "chọn trường hợp đăng ký khai sinh quá hạn".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otherwise: Option<String>,
}

/// What kind of answer a field takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    LongText,
    Number {
        #[serde(default)]
        min: Option<i64>,
        #[serde(default)]
        max: Option<i64>,
    },
    Date {
        #[serde(flatten)]
        rule: DateRule,
    },
    Choice {
        options: Vec<String>,
    },
    MultiChoice {
        options: Vec<String>,
    },
    YesNo,
    PersonalId,
    Phone,
    Email,
    /// One of the 54 [`ETHNICITIES`], from a list.
    Ethnicity,
    /// Province (one of [`PROVINCES`]), commune/ward and street address: answers under `{key}.tinh`, `{key}.xa`
    /// and `{key}.dia_chi`.
    Address,
    Money,
}

/// Account data a field is pre-filled from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prefill {
    FullName,
    PersonalId,
    Phone,
    Email,
    Address,
}

/// Show a field only when another field has a given answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    pub field: String,
    pub equals: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormField {
    /// Lower-case ASCII, digits and `_`: the key of the answer.
    pub key: String,
    pub label: String,
    #[serde(flatten)]
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub help: Option<String>,
    #[serde(default)]
    pub visible_if: Option<Condition>,
    #[serde(default)]
    pub prefill: Option<Prefill>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormPage {
    pub title: String,
    pub fields: Vec<FormField>,
}

/// The pages of a case's form (without the applicant page, which every form shares).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FormDefinition {
    pub pages: Vec<FormPage>,
}

/// One answer refused, with the message to show next to the field and in the error summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The HTML id of the input to focus (for an address: its first part that is wrong).
    pub key: String,
    pub message: String,
}

pub const YES: &str = "co";
pub const NO: &str = "khong";
/// Answer keys of the applicant page.
pub const ON_BEHALF: &str = "nop_thay";
pub const APPLICANT_NAME: &str = "nguoi_nop_ho_ten";
pub const APPLICANT_ID: &str = "nguoi_nop_so_dinh_danh";
pub const APPLICANT_PHONE: &str = "nguoi_nop_dien_thoai";
pub const APPLICANT_EMAIL: &str = "nguoi_nop_email";
pub const APPLICANT_ADDRESS: &str = "nguoi_nop_dia_chi";

fn field(key: &str, label: &str, kind: FieldKind, required: bool) -> FormField {
    FormField {
        key: key.into(),
        label: label.into(),
        kind,
        required,
        help: None,
        visible_if: None,
        prefill: None,
    }
}

/// The first page of every online form: who applies. Pre-filled from the account; when applying on behalf of
/// someone else, the applicant's own details are typed in and the account holder is recorded as the submitter.
pub fn applicant_page() -> FormPage {
    let prefilled = |mut f: FormField, p: Prefill| {
        f.prefill = Some(p);
        f
    };
    let mut on_behalf = field(
        ON_BEHALF,
        "Bạn có nộp thay cho người khác không?",
        FieldKind::YesNo,
        true,
    );
    on_behalf.help = Some(
        "Chọn “Có” nếu bạn nộp thay (ví dụ cho cha mẹ, hoặc theo ủy quyền); khi đó hãy nhập thông tin của người yêu cầu giải quyết thủ tục.".into(),
    );
    let mut phone = prefilled(
        field(
            APPLICANT_PHONE,
            "Số điện thoại di động",
            FieldKind::Phone,
            true,
        ),
        Prefill::Phone,
    );
    phone.help =
        Some("Dùng để nhận tin nhắn về hồ sơ và để tra cứu hồ sơ cùng với mã hồ sơ.".into());
    FormPage {
        title: "Người yêu cầu giải quyết thủ tục".into(),
        fields: vec![
            on_behalf,
            prefilled(
                field(APPLICANT_NAME, "Họ, chữ đệm và tên", FieldKind::Text, true),
                Prefill::FullName,
            ),
            prefilled(
                field(
                    APPLICANT_ID,
                    "Số định danh cá nhân (12 số trên thẻ căn cước)",
                    FieldKind::PersonalId,
                    true,
                ),
                Prefill::PersonalId,
            ),
            phone,
            prefilled(
                field(APPLICANT_EMAIL, "Thư điện tử", FieldKind::Email, false),
                Prefill::Email,
            ),
            prefilled(
                field(APPLICANT_ADDRESS, "Nơi cư trú", FieldKind::Address, true),
                Prefill::Address,
            ),
        ],
    }
}

/// A case without its own form asks what is requested, in words.
pub fn default_case_page() -> FormPage {
    let mut content = field(
        "noi_dung_de_nghi",
        "Nội dung đề nghị giải quyết",
        FieldKind::LongText,
        true,
    );
    content.help = Some("Ghi rõ bạn đề nghị cơ quan giải quyết việc gì.".into());
    FormPage {
        title: "Nội dung đề nghị".into(),
        fields: vec![content],
    }
}

impl FormDefinition {
    /// The whole form shown to an applicant: the applicant page, then the case's pages (or the default one).
    pub fn for_case(case_form: Option<&FormDefinition>) -> FormDefinition {
        let mut pages = vec![applicant_page()];
        match case_form {
            Some(f) if !f.pages.is_empty() => pages.extend(f.pages.iter().cloned()),
            _ => pages.push(default_case_page()),
        }
        FormDefinition { pages }
    }

    /// Every field, in order.
    pub fn fields(&self) -> impl Iterator<Item = &FormField> {
        self.pages.iter().flat_map(|p| p.fields.iter())
    }

    pub fn field(&self, key: &str) -> Option<&FormField> {
        self.fields().find(|f| f.key == key)
    }

    /// A definition that cannot work (duplicate keys, conditions on unknown fields, choices without options).
    pub fn check(&self) -> Result<(), String> {
        let mut seen = std::collections::BTreeSet::new();
        for f in self.fields() {
            let ok_key = !f.key.is_empty()
                && f.key.len() <= 64
                && f.key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !ok_key {
                return Err(format!("khóa trường “{}” không hợp lệ", f.key));
            }
            if !seen.insert(f.key.as_str()) {
                return Err(format!("khóa trường “{}” bị trùng", f.key));
            }
            if let FieldKind::Choice { options } | FieldKind::MultiChoice { options } = &f.kind
                && options.is_empty()
            {
                return Err(format!("trường “{}” không có lựa chọn nào", f.label));
            }
        }
        for f in self.fields() {
            if let Some(c) = &f.visible_if
                && !seen.contains(c.field.as_str())
            {
                return Err(format!(
                    "trường “{}” phụ thuộc trường không có: {}",
                    f.label, c.field
                ));
            }
        }
        Ok(())
    }

    /// Whether `field` is shown given these answers (a field hidden by a hidden field is hidden too).
    pub fn is_visible(&self, field: &FormField, answers: &Answers) -> bool {
        let mut current = field;
        for _ in 0..16 {
            let Some(c) = &current.visible_if else {
                return true;
            };
            if first(answers, &c.field) != c.equals {
                return false;
            }
            match self.field(&c.field) {
                Some(parent) => current = parent,
                None => return false,
            }
        }
        false
    }

    /// Validate one page as typed on `today` (Vietnam's date, for the dates' rules); `Ok` holds the page's
    /// normalised answers (hidden fields dropped).
    pub fn validate_page(
        &self,
        page: usize,
        raw: &Answers,
        today: Date,
    ) -> Result<Answers, Vec<FieldError>> {
        let mut out = Answers::new();
        let mut errors = Vec::new();
        if let Some(p) = self.pages.get(page) {
            for f in &p.fields {
                if self.is_visible(f, raw) {
                    validate_field(f, raw, today, &mut out, &mut errors);
                }
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }

    /// Validate the whole form: the normalised answers, or every error with the page it is on.
    pub fn validate(
        &self,
        raw: &Answers,
        today: Date,
    ) -> Result<Answers, Vec<(usize, FieldError)>> {
        let mut all = Answers::new();
        let mut errors = Vec::new();
        for page in 0..self.pages.len() {
            match self.validate_page(page, raw, today) {
                Ok(a) => all.extend(a),
                Err(e) => errors.extend(e.into_iter().map(|e| (page, e))),
            }
        }
        if errors.is_empty() {
            Ok(all)
        } else {
            Err(errors)
        }
    }

    /// The answer as shown on the check-your-answers page and the receipt (`Có`/`Không`, choices joined).
    pub fn display_answer(&self, field: &FormField, answers: &Answers) -> String {
        match &field.kind {
            FieldKind::YesNo => match first(answers, &field.key) {
                YES => "Có".into(),
                NO => "Không".into(),
                _ => String::new(),
            },
            FieldKind::MultiChoice { .. } => answers
                .get(&field.key)
                .map(|v| v.join("; "))
                .unwrap_or_default(),
            FieldKind::Address => {
                let parts: Vec<&str> = ["dia_chi", "xa", "tinh"]
                    .iter()
                    .map(|p| first(answers, &format!("{}.{p}", field.key)))
                    .filter(|s| !s.is_empty())
                    .collect();
                parts.join(", ")
            }
            FieldKind::Money => match first(answers, &field.key).parse::<i64>() {
                Ok(n) => Vnd::new(n).map(|v| v.to_string()).unwrap_or_default(),
                Err(_) => String::new(),
            },
            _ => first(answers, &field.key).to_string(),
        }
    }
}

/// The first value of an answer, or "".
pub fn first<'a>(answers: &'a Answers, key: &str) -> &'a str {
    answers
        .get(key)
        .and_then(|v| v.first())
        .map(String::as_str)
        .unwrap_or("")
}

fn lower_first(label: &str) -> String {
    let mut chars = label.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Longest free text kept in one answer.
pub const MAX_TEXT: usize = 500;
pub const MAX_LONG_TEXT: usize = 5_000;

fn validate_field(
    f: &FormField,
    raw: &Answers,
    today: Date,
    out: &mut Answers,
    errors: &mut Vec<FieldError>,
) {
    let name = lower_first(&f.label);
    let mut fail = |key: &str, message: String| {
        errors.push(FieldError {
            key: key.to_string(),
            message,
        })
    };
    if let FieldKind::Address = f.kind {
        let part = |p: &str| normalize(first(raw, &format!("{}.{p}", f.key)));
        let (province, commune, street) = (part("tinh"), part("xa"), part("dia_chi"));
        if province.is_empty() && commune.is_empty() && street.is_empty() && !f.required {
            return;
        }
        let mut ok = true;
        if !PROVINCES.contains(&province.as_str()) {
            ok = false;
            fail(
                &format!("{}.tinh", f.key),
                format!("Chọn tỉnh, thành phố của {name}"),
            );
        }
        let mut commune = commune;
        if commune.is_empty() {
            ok = false;
            fail(
                &format!("{}.xa", f.key),
                format!("Nhập xã, phường, đặc khu của {name}"),
            );
        } else if PROVINCES.contains(&province.as_str()) {
            match find_commune(&province, &commune) {
                Some(known) => commune = known.to_string(),
                None => {
                    ok = false;
                    fail(
                        &format!("{}.xa", f.key),
                        format!(
                            "{province} không có “{commune}”: chọn xã, phường, đặc khu của {name} trong danh sách"
                        ),
                    );
                }
            }
        }
        if street.chars().count() > MAX_TEXT || commune.chars().count() > MAX_TEXT {
            ok = false;
            fail(
                &format!("{}.dia_chi", f.key),
                format!("Địa chỉ quá dài (tối đa {MAX_TEXT} ký tự)"),
            );
        }
        if ok {
            out.insert(format!("{}.tinh", f.key), vec![province]);
            out.insert(format!("{}.xa", f.key), vec![commune]);
            if !street.is_empty() {
                out.insert(format!("{}.dia_chi", f.key), vec![street]);
            }
        }
        return;
    }
    let values: Vec<String> = raw
        .get(&f.key)
        .map(|v| {
            v.iter()
                .map(|s| normalize(s))
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if values.is_empty() {
        if f.required {
            let verb = match f.kind {
                FieldKind::Choice { .. } | FieldKind::YesNo => "Chọn",
                FieldKind::MultiChoice { .. } => "Chọn ít nhất một",
                _ => "Nhập",
            };
            fail(&f.key, format!("{verb} {name}"));
        }
        return;
    }
    let value = values[0].clone();
    let single = |v: String| vec![v];
    let result: Result<Vec<String>, String> = match &f.kind {
        FieldKind::Text => {
            if value.chars().count() > MAX_TEXT {
                Err(format!(
                    "{} quá dài (tối đa {MAX_TEXT} ký tự)",
                    capital(&name)
                ))
            } else {
                Ok(single(value))
            }
        }
        FieldKind::LongText => {
            if value.chars().count() > MAX_LONG_TEXT {
                Err(format!(
                    "{} quá dài (tối đa {MAX_LONG_TEXT} ký tự)",
                    capital(&name)
                ))
            } else {
                Ok(single(value))
            }
        }
        FieldKind::Number { min, max } => match value.parse::<i64>() {
            Err(_) => Err(format!("{} phải là một số nguyên, ví dụ 2", capital(&name))),
            Ok(n) if min.is_some_and(|m| n < m) => Err(format!(
                "{} không được nhỏ hơn {}",
                capital(&name),
                min.unwrap_or(0)
            )),
            Ok(n) if max.is_some_and(|m| n > m) => Err(format!(
                "{} không được lớn hơn {}",
                capital(&name),
                max.unwrap_or(0)
            )),
            Ok(n) => Ok(single(n.to_string())),
        },
        FieldKind::Date { rule } => match parse_date(&value) {
            Some(d) => {
                check_date(rule, d, today, &name).map(|()| single(crate::vntime::format_date(d)))
            }
            None => Err(format!(
                "{} phải là một ngày có thật, dạng ngày/tháng/năm, ví dụ 05/09/2024",
                capital(&name)
            )),
        },
        FieldKind::Choice { options } => {
            if options.contains(&value) {
                Ok(single(value))
            } else {
                Err(format!("Chọn {name} trong danh sách"))
            }
        }
        FieldKind::MultiChoice { options } => {
            if values.iter().all(|v| options.contains(v)) {
                let mut chosen: Vec<String> = options
                    .iter()
                    .filter(|o| values.contains(o))
                    .cloned()
                    .collect();
                chosen.dedup();
                Ok(chosen)
            } else {
                Err(format!("Chọn {name} trong danh sách"))
            }
        }
        FieldKind::YesNo => {
            if value == YES || value == NO {
                Ok(single(value))
            } else {
                Err(format!("Chọn Có hoặc Không cho {name}"))
            }
        }
        // the type's message names the field it is about ("Số định danh cá nhân của người mẹ phải có …")
        FieldKind::PersonalId => PersonalId::parse(&value)
            .map(|p| single(p.as_str().to_string()))
            .map_err(|e| whose(&e.to_string(), "Số định danh cá nhân", &f.label)),
        FieldKind::Phone => Phone::parse(&value)
            .map(|p| single(p.as_str().to_string()))
            .map_err(|e| whose(&e.to_string(), "Số điện thoại di động", &f.label)),
        FieldKind::Email => Email::parse(&value)
            .map(|p| single(p.as_str().to_string()))
            .map_err(|e| whose(&e.to_string(), "Địa chỉ thư điện tử", &f.label)),
        FieldKind::Money => match parse_money(&value) {
            Some(v) => Ok(single(v.amount().to_string())),
            None => Err(format!(
                "{} phải là số tiền bằng đồng, ví dụ 1.500.000",
                capital(&name)
            )),
        },
        FieldKind::Ethnicity => {
            if ETHNICITIES.contains(&value.as_str()) {
                Ok(single(value))
            } else {
                Err(format!("Chọn {name} trong danh sách 54 dân tộc"))
            }
        }
        FieldKind::Address => Ok(Vec::new()),
    };
    match result {
        Ok(v) => {
            out.insert(f.key.clone(), v);
        }
        Err(message) => fail(&f.key, message),
    }
}

/// A real date against its field's rule, on `today`: the message names the field, the date and what to do.
fn check_date(rule: &DateRule, d: Date, today: Date, name: &str) -> Result<(), String> {
    let shown = crate::vntime::format_date(d);
    let days_ago = (today - d).whole_days();
    let otherwise = rule
        .otherwise
        .as_deref()
        .map(|o| format!(": {o}"))
        .unwrap_or_default();
    if rule.past && d > today {
        return Err(format!(
            "{} ({shown}) không thể sau hôm nay ({})",
            capital(name),
            crate::vntime::format_date(today)
        ));
    }
    if let Some(max) = rule.max_days_ago
        && days_ago > i64::from(max)
    {
        return Err(format!(
            "{} ({shown}) đã quá {max} ngày{otherwise}",
            capital(name)
        ));
    }
    if let Some(min) = rule.more_than_days_ago
        && days_ago <= i64::from(min)
    {
        return Err(format!(
            "{} ({shown}) chưa quá {min} ngày{otherwise}",
            capital(name)
        ));
    }
    Ok(())
}

/// A type's message about `subject` ("Số định danh cá nhân phải có …") said of the field `label` instead ("Số định
/// danh cá nhân của người mẹ phải có …"); a message about something else keeps its words after the label.
fn whose(message: &str, subject: &str, label: &str) -> String {
    match message.strip_prefix(subject) {
        Some(rest) => format!("{label}{rest}"),
        None => format!("{label}: {}", lower_first(message)),
    }
}

fn capital(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The years a typed date may fall in: wide enough for an old title deed or a birth in 1900, narrow enough that
/// no working-time or calendar arithmetic on the date can overflow.
pub const DATE_YEARS: std::ops::RangeInclusive<i32> = 1800..=2200;

/// `d/m/yyyy` or `dd/mm/yyyy` (also with `-` or `.`), or the `yyyy-mm-dd` a date input sends, within
/// [`DATE_YEARS`].
pub fn parse_date(input: &str) -> Option<Date> {
    let parts: Vec<&str> = input.trim().split(['/', '-', '.']).collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    let num = |s: &str| s.parse::<i32>().ok();
    let (day, month, year) = if a.len() == 4 {
        (num(c)?, num(b)?, num(a)?)
    } else {
        (num(a)?, num(b)?, num(c)?)
    };
    if !DATE_YEARS.contains(&year) {
        return None;
    }
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()
}

/// `1.500.000`, `1500000`, `1 500 000 đ` → 1,500,000 đồng. No decimals: đồng has no subunit.
pub fn parse_money(input: &str) -> Option<Vnd> {
    let trimmed = input
        .trim()
        .trim_end_matches(['đ', 'Đ'])
        .trim_end_matches("VND")
        .trim_end_matches("vnđ")
        .trim();
    if trimmed.is_empty() {
        return None;
    }
    let digits: String = trimmed
        .chars()
        .filter(|c| !matches!(c, '.' | ' ' | '\u{a0}'))
        .collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 15 {
        return None;
    }
    Vnd::new(digits.parse().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TODAY: Date = time::macros::date!(2026 - 11 - 29);

    fn answers(pairs: &[(&str, &str)]) -> Answers {
        let mut a = Answers::new();
        for (k, v) in pairs {
            a.entry((*k).to_string())
                .or_default()
                .push((*v).to_string());
        }
        a
    }

    fn birth_form() -> FormDefinition {
        serde_json::from_str(
            r#"{"pages": [{"title": "Trẻ", "fields": [
                {"key": "ho_ten_tre", "label": "Họ tên trẻ", "type": "text", "required": true},
                {"key": "ngay_sinh", "label": "Ngày sinh", "type": "date", "required": true},
                {"key": "gioi_tinh", "label": "Giới tính", "type": "choice", "options": ["Nam", "Nữ"], "required": true},
                {"key": "co_cha", "label": "Có thông tin người cha", "type": "yes_no", "required": true},
                {"key": "ho_ten_cha", "label": "Họ tên cha", "type": "text", "required": true,
                 "visible_if": {"field": "co_cha", "equals": "co"}},
                {"key": "so_ban_sao", "label": "Số bản sao", "type": "number", "min": 0, "max": 10},
                {"key": "le_phi", "label": "Lệ phí đã nộp", "type": "money"},
                {"key": "giay_to", "label": "Giấy tờ kèm theo", "type": "multi_choice", "options": ["A", "B"]}
            ]}]}"#,
        )
        .unwrap()
    }

    #[test]
    fn the_full_form_starts_with_the_applicant_and_checks_itself() {
        let form = FormDefinition::for_case(Some(&birth_form()));
        assert_eq!(form.pages.len(), 2);
        assert_eq!(form.pages[0].title, "Người yêu cầu giải quyết thủ tục");
        form.check().unwrap();
        let default = FormDefinition::for_case(None);
        assert_eq!(default.pages[1].fields[0].key, "noi_dung_de_nghi");
    }

    #[test]
    fn missing_and_wrong_answers_get_specific_messages() {
        let form = birth_form();
        let errors = form
            .validate_page(
                0,
                &answers(&[
                    ("ngay_sinh", "31/02/2024"),
                    ("gioi_tinh", "Khác"),
                    ("co_cha", "co"),
                    ("so_ban_sao", "11"),
                    ("le_phi", "12,5"),
                ]),
                TODAY,
            )
            .unwrap_err();
        let messages: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.key.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            messages,
            vec![
                ("ho_ten_tre", "Nhập họ tên trẻ"),
                (
                    "ngay_sinh",
                    "Ngày sinh phải là một ngày có thật, dạng ngày/tháng/năm, ví dụ 05/09/2024"
                ),
                ("gioi_tinh", "Chọn giới tính trong danh sách"),
                ("ho_ten_cha", "Nhập họ tên cha"),
                ("so_ban_sao", "Số bản sao không được lớn hơn 10"),
                (
                    "le_phi",
                    "Lệ phí đã nộp phải là số tiền bằng đồng, ví dụ 1.500.000"
                ),
            ]
        );
    }

    #[test]
    fn hidden_fields_are_neither_required_nor_kept() {
        let form = birth_form();
        let ok = form
            .validate_page(
                0,
                &answers(&[
                    ("ho_ten_tre", "  Nguyễn Thị Mai "),
                    ("ngay_sinh", "2024-09-05"),
                    ("gioi_tinh", "Nữ"),
                    ("co_cha", "khong"),
                    ("ho_ten_cha", "typed before changing the answer"),
                    ("le_phi", "1.500.000 đ"),
                    ("giay_to", "B"),
                    ("giay_to", "A"),
                ]),
                TODAY,
            )
            .unwrap();
        assert_eq!(first(&ok, "ho_ten_tre"), "Nguyễn Thị Mai");
        assert_eq!(first(&ok, "ngay_sinh"), "05/09/2024");
        assert_eq!(first(&ok, "le_phi"), "1500000");
        assert_eq!(ok["giay_to"], vec!["A".to_string(), "B".to_string()]);
        assert!(!ok.contains_key("ho_ten_cha"));
        let field = form.field("le_phi").unwrap();
        assert_eq!(form.display_answer(field, &ok), "1.500.000 đ");
    }

    #[test]
    fn the_applicant_page_checks_identity_phone_and_address() {
        let form = FormDefinition::for_case(None);
        let errors = form
            .validate_page(
                0,
                &answers(&[
                    (ON_BEHALF, "khong"),
                    (APPLICANT_NAME, "Nguyễn Văn An"),
                    (APPLICANT_ID, "12345"),
                    (APPLICANT_PHONE, "0912345678"),
                    ("nguoi_nop_dia_chi.tinh", "Tỉnh Hòa Bình"),
                ]),
                TODAY,
            )
            .unwrap_err();
        let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            vec![
                APPLICANT_ID,
                "nguoi_nop_dia_chi.tinh",
                "nguoi_nop_dia_chi.xa"
            ]
        );
    }

    #[test]
    fn dates_are_checked_for_what_they_are() {
        let form: FormDefinition = serde_json::from_str(
            r#"{"pages": [{"title": "Trẻ", "fields": [
                {"key": "ngay_sinh", "label": "Ngày sinh của trẻ", "type": "date", "required": true,
                 "past": true, "max_days_ago": 60,
                 "otherwise": "chọn trường hợp đăng ký khai sinh quá hạn"},
                {"key": "dan_toc", "label": "Dân tộc", "type": "ethnicity", "required": true}
            ]}]}"#,
        )
        .unwrap();
        let check = |birth: &str, ethnicity: &str| {
            form.validate_page(
                0,
                &answers(&[("ngay_sinh", birth), ("dan_toc", ethnicity)]),
                TODAY,
            )
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.message)
            .collect::<Vec<_>>()
        };
        assert!(check("01/11/2026", "Ê Đê").is_empty());
        assert!(
            check("30/09/2026", "Kinh").is_empty(),
            "60 days ago is still on time"
        );
        assert_eq!(
            check("30/11/2026", "Kinh"),
            ["Ngày sinh của trẻ (30/11/2026) không thể sau hôm nay (29/11/2026)"]
        );
        assert_eq!(
            check("29/09/2026", "Kinh"),
            [
                "Ngày sinh của trẻ (29/09/2026) đã quá 60 ngày: chọn trường hợp đăng ký khai sinh quá hạn"
            ]
        );
        assert_eq!(
            check("01/11/2026", "Việt"),
            ["Chọn dân tộc trong danh sách 54 dân tộc"]
        );
        // a late registration is for a birth more than 60 days ago
        let late = DateRule {
            past: true,
            more_than_days_ago: Some(60),
            otherwise: Some("chọn trường hợp đăng ký khai sinh đúng hạn".into()),
            ..Default::default()
        };
        assert!(
            check_date(
                &late,
                time::macros::date!(2026 - 01 - 01),
                TODAY,
                "ngày sinh"
            )
            .is_ok()
        );
        assert_eq!(
            check_date(&late, time::macros::date!(2026 - 11 - 01), TODAY, "ngày sinh"),
            Err("Ngày sinh (01/11/2026) chưa quá 60 ngày: chọn trường hợp đăng ký khai sinh đúng hạn".into())
        );
    }

    #[test]
    fn communes_are_those_of_2025_and_a_typed_name_finds_its_own() {
        let total: usize = PROVINCES.iter().map(|p| communes_of(p).len()).sum();
        assert_eq!(total, 3321, "2,621 xã, 687 phường, 13 đặc khu");
        assert!(
            communes_of("Tỉnh Hòa Bình").is_empty(),
            "merged into Phú Thọ in 2025"
        );
        let dak_lak = communes_of("Tỉnh Đắk Lắk");
        assert_eq!(dak_lak.len(), 102);
        assert!(dak_lak.contains(&"Phường Buôn Ma Thuột"));
        assert_eq!(
            find_commune("Tỉnh Đắk Lắk", " phường tân lập "),
            Some("Phường Tân Lập")
        );
        assert_eq!(
            find_commune("Tỉnh Đắk Lắk", "Tân Lập"),
            Some("Phường Tân Lập")
        );
        assert_eq!(find_commune("Tỉnh Đắk Lắk", "Ba Đình"), None);
        assert_eq!(
            find_commune("Thành phố Hà Nội", "Phường Ba Đình"),
            Some("Phường Ba Đình")
        );
        // in order of the name after "Xã" / "Phường"
        let keys: Vec<_> = dak_lak
            .iter()
            .map(|n| crate::text::vietnamese_sort_key(short_unit_name(n)))
            .collect();
        assert!(keys.windows(2).all(|w| w[0] <= w[1]));
        let form = FormDefinition::for_case(None);
        let errors = form
            .validate_page(
                0,
                &answers(&[
                    (ON_BEHALF, "khong"),
                    (APPLICANT_NAME, "Nguyễn Văn An"),
                    (APPLICANT_ID, "001099012345"),
                    (APPLICANT_PHONE, "0912345678"),
                    ("nguoi_nop_dia_chi.tinh", "Tỉnh Đắk Lắk"),
                    ("nguoi_nop_dia_chi.xa", "Phường Ba Đình"),
                ]),
                TODAY,
            )
            .unwrap_err();
        assert_eq!(errors[0].key, "nguoi_nop_dia_chi.xa");
        assert!(
            errors[0]
                .message
                .starts_with("Tỉnh Đắk Lắk không có “Phường Ba Đình”"),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn a_message_names_whose_number_is_wrong() {
        let form: FormDefinition = serde_json::from_str(
            r#"{"pages": [{"title": "Cha, mẹ", "fields": [
                {"key": "so_dinh_danh_me", "label": "Số định danh cá nhân của người mẹ", "type": "personal_id"},
                {"key": "dien_thoai_cha", "label": "Điện thoại của người cha", "type": "phone"}
            ]}]}"#,
        )
        .unwrap();
        let errors = form
            .validate_page(
                0,
                &answers(&[("so_dinh_danh_me", "12345"), ("dien_thoai_cha", "12")]),
                TODAY,
            )
            .unwrap_err();
        assert_eq!(
            errors[0].message,
            "Số định danh cá nhân của người mẹ phải có đúng 12 chữ số (bạn nhập 5 chữ số)"
        );
        assert!(
            errors[1]
                .message
                .starts_with("Điện thoại của người cha phải có 10 chữ số"),
            "{}",
            errors[1].message
        );
        assert_eq!(
            whose("Mật khẩu quá ngắn", "Số điện thoại di động", "Điện thoại"),
            "Điện thoại: mật khẩu quá ngắn"
        );
    }

    #[test]
    fn pick_lists_are_in_vietnamese_order() {
        assert_eq!(ETHNICITIES.len(), 54);
        let sorted = in_vietnamese_order(&ETHNICITIES);
        assert_eq!(&sorted[..4], ["Ba Na", "Bố Y", "Brâu", "Bru - Vân Kiều"]);
        assert_eq!(sorted.last(), Some(&"Xtiêng"));
        let provinces = in_vietnamese_order(&PROVINCES);
        assert_eq!(
            &provinces[..3],
            ["Tỉnh An Giang", "Tỉnh Bắc Ninh", "Tỉnh Cà Mau"]
        );
        assert_eq!(provinces.last(), Some(&"Tỉnh Vĩnh Long"));
    }

    proptest! {
        #[test]
        fn a_birth_is_never_accepted_after_the_day_it_is_typed(days in -400i64..400) {
            let rule = DateRule { past: true, ..Default::default() };
            let d = TODAY + time::Duration::days(days);
            prop_assert_eq!(check_date(&rule, d, TODAY, "ngày sinh").is_ok(), days <= 0);
            let on_time = DateRule { past: true, max_days_ago: Some(60), ..Default::default() };
            let late = DateRule { past: true, more_than_days_ago: Some(60), ..Default::default() };
            // every past birth fits exactly one of the two cases
            if days <= 0 {
                prop_assert!(check_date(&on_time, d, TODAY, "x").is_ok() != check_date(&late, d, TODAY, "x").is_ok());
            }
        }
    }

    #[test]
    fn definitions_with_mistakes_are_refused() {
        let mut form = birth_form();
        form.pages[0].fields[1].key = "ho_ten_tre".into();
        assert!(form.check().unwrap_err().contains("bị trùng"));
        let mut form = birth_form();
        form.pages[0].fields[4].visible_if = Some(Condition {
            field: "khong_co".into(),
            equals: "co".into(),
        });
        assert!(form.check().is_err());
    }

    proptest! {
        #[test]
        fn no_date_outside_the_sane_years_is_accepted(day in 1u8..=28, month in 1u8..=12, year in 0i32..100_000) {
            let typed = format!("{day:02}/{month:02}/{year}");
            prop_assert_eq!(parse_date(&typed).is_some(), DATE_YEARS.contains(&year));
        }

        #[test]
        fn every_real_date_round_trips(day in 1u8..=28, month in 1u8..=12, year in 1900i32..2100) {
            let date = Date::from_calendar_date(year, Month::try_from(month).unwrap(), day).unwrap();
            let shown = crate::vntime::format_date(date);
            prop_assert_eq!(parse_date(&shown), Some(date));
            prop_assert_eq!(parse_date(&date.to_string()), Some(date));
        }

        #[test]
        fn money_as_shown_parses_back(amount in 0i64..1_000_000_000_000) {
            let shown = Vnd::new(amount).unwrap().to_string();
            prop_assert_eq!(parse_money(&shown).map(Vnd::amount), Some(amount));
        }

        #[test]
        fn validation_never_panics_and_normalised_answers_validate_again(
            values in proptest::collection::vec(".{0,20}", 8)
        ) {
            let form = birth_form();
            let keys = ["ho_ten_tre", "ngay_sinh", "gioi_tinh", "co_cha", "ho_ten_cha", "so_ban_sao", "le_phi", "giay_to"];
            let raw: Answers = keys.iter().zip(values).map(|(k, v)| (k.to_string(), vec![v])).collect();
            if let Ok(clean) = form.validate_page(0, &raw, TODAY) {
                prop_assert_eq!(form.validate_page(0, &clean, TODAY), Ok(clean.clone()));
            }
        }
    }
}
