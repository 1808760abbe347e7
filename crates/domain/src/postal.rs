//! Results by post (level 4): the applicant's postal address (one of the 34 provinces and cities since the 2025
//! reorganisation, a commune, a street), and the life of a delivery — asked for, handed to the post with its
//! tracking number, then delivered or returned to the counter.

use time::OffsetDateTime;

use crate::{DossierId, DossierStatus, identity::Phone, text::normalize};

pub use crate::form::PROVINCES;

/// Where the result goes: the recipient, a phone for the postman, and the address down to the street.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostalAddress {
    pub recipient: String,
    pub phone: String,
    pub province: String,
    /// Xã, phường or đặc khu (no district level since 2025).
    pub commune: String,
    /// House number, street, hamlet.
    pub street: String,
}

impl PostalAddress {
    /// The address on one line, as the post writes it.
    pub fn one_line(&self) -> String {
        format!("{}, {}, {}", self.street, self.commune, self.province)
    }
}

/// Form field of each part, for messages by field.
pub type AddressErrors = Vec<(&'static str, &'static str)>;

const MAX_PART: usize = 200;

/// Check what the applicant typed: every part present (NFC, trimmed, at most 200 characters), a province of the
/// list, a Vietnamese mobile number.
pub fn check_address(
    recipient: &str,
    phone: &str,
    province: &str,
    commune: &str,
    street: &str,
) -> Result<PostalAddress, AddressErrors> {
    let mut errors = AddressErrors::new();
    let mut part = |value: &str, field: &'static str, missing: &'static str| {
        let value = normalize(value);
        if value.is_empty() {
            errors.push((field, missing));
        } else if value.chars().count() > MAX_PART {
            errors.push((field, "Dài quá 200 ký tự: hãy viết gọn lại"));
        }
        value
    };
    let recipient = part(recipient, "nguoi_nhan", "Nhập họ tên người nhận");
    let commune = part(commune, "xa_phuong", "Nhập xã, phường hoặc đặc khu");
    let street = part(street, "dia_chi", "Nhập số nhà, đường, thôn, tổ dân phố");
    let province = normalize(province);
    let mut commune = commune;
    if !PROVINCES.contains(&province.as_str()) {
        errors.push(("tinh_thanh", "Chọn tỉnh, thành phố trong danh sách"));
    } else if !commune.is_empty() {
        // one of the province's communes, under its own name
        match crate::form::find_commune(&province, &commune) {
            Some(known) => commune = known.to_string(),
            None => errors.push((
                "xa_phuong",
                "Không có xã, phường, đặc khu này ở tỉnh, thành phố đã chọn: chọn trong danh sách",
            )),
        }
    }
    let phone = match Phone::parse(phone) {
        Ok(p) => p.as_str().to_string(),
        Err(_) => {
            errors.push((
                "dien_thoai_nhan",
                "Nhập số điện thoại di động của người nhận, 10 chữ số, ví dụ 0912345678",
            ));
            String::new()
        }
    };
    if errors.is_empty() {
        Ok(PostalAddress {
            recipient,
            phone,
            province,
            commune,
            street,
        })
    } else {
        Err(errors)
    }
}

/// Whether delivery by post may still be asked for (or its address changed): until the result is handed over.
pub fn may_ask(status: DossierStatus) -> bool {
    !status.is_terminal()
}

/// A result to be sent by post, and how far it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub dossier: DossierId,
    pub address: PostalAddress,
    pub asked_at: OffsetDateTime,
    /// Handed to the post: the carrier, its tracking number and when.
    pub handed: Option<(String, String, OffsetDateTime)>,
    pub delivered_at: Option<OffsetDateTime>,
    /// Came back: when and why.
    pub returned: Option<(OffsetDateTime, String)>,
}

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStage {
    Asked,
    WithPost,
    Delivered,
    Returned,
}

impl Delivery {
    pub fn stage(&self) -> DeliveryStage {
        if self.delivered_at.is_some() {
            DeliveryStage::Delivered
        } else if self.returned.is_some() {
            DeliveryStage::Returned
        } else if self.handed.is_some() {
            DeliveryStage::WithPost
        } else {
            DeliveryStage::Asked
        }
    }
}

impl DeliveryStage {
    pub fn label_vi(self) -> &'static str {
        match self {
            DeliveryStage::Asked => "Đã đăng ký nhận qua bưu chính",
            DeliveryStage::WithPost => "Đã giao cho bưu chính",
            DeliveryStage::Delivered => "Đã phát thành công",
            DeliveryStage::Returned => "Bưu chính chuyển hoàn: nhận tại bộ phận một cửa",
        }
    }
}

/// What the desk records about a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryEvent {
    /// Handed to the post (the dossier must be processed, the delivery asked for and not yet handed).
    HandedOver { carrier: String, tracking: String },
    /// The post delivered it (the delivery must be with the post).
    Delivered,
    /// The post brought it back (the delivery must be with the post).
    Returned { reason: String },
}

impl DeliveryEvent {
    /// The stage a delivery must be at for this event.
    pub fn from_stage(&self) -> DeliveryStage {
        match self {
            DeliveryEvent::HandedOver { .. } => DeliveryStage::Asked,
            DeliveryEvent::Delivered | DeliveryEvent::Returned { .. } => DeliveryStage::WithPost,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_34_provinces_each_once() {
        let mut seen = std::collections::HashSet::new();
        for p in PROVINCES {
            assert!(seen.insert(p), "{p}");
            assert_eq!(normalize(p), p, "NFC: {p}");
        }
        assert_eq!(seen.len(), 34);
        // merged away in 2025
        for gone in [
            "Tỉnh Bình Phước",
            "Tỉnh Hà Giang",
            "Tỉnh Quảng Nam",
            "Tỉnh Bình Dương",
        ] {
            assert!(!PROVINCES.contains(&gone));
        }
    }

    #[test]
    fn an_address_is_checked_part_by_part() {
        let ok = check_address(
            " Nguyễn Văn An ",
            "091 234 5678",
            "Tỉnh Đắk Lắk",
            "Phường Tân Lập",
            "12 Lê Duẩn",
        )
        .unwrap();
        assert_eq!(ok.recipient, "Nguyễn Văn An");
        assert_eq!(ok.phone, "0912345678");
        assert_eq!(ok.one_line(), "12 Lê Duẩn, Phường Tân Lập, Tỉnh Đắk Lắk");
        let bad = check_address("", "123", "Tỉnh Bình Phước", " ", &"x".repeat(201)).unwrap_err();
        let fields: Vec<_> = bad.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            fields,
            [
                "nguoi_nhan",
                "xa_phuong",
                "dia_chi",
                "tinh_thanh",
                "dien_thoai_nhan"
            ]
        );
        assert!(bad[2].1.contains("200"));
        // a commune of another province is refused; a short name finds the province's own
        let elsewhere =
            check_address("A B", "0912345678", "Tỉnh Đắk Lắk", "Phường Ba Đình", "1").unwrap_err();
        assert_eq!(elsewhere[0].0, "xa_phuong");
        let short = check_address("A B", "0912345678", "Tỉnh Đắk Lắk", "tân lập", "1").unwrap();
        assert_eq!(short.commune, "Phường Tân Lập");
    }

    #[test]
    fn a_delivery_moves_asked_with_post_then_delivered_or_returned() {
        let at = OffsetDateTime::UNIX_EPOCH;
        let mut d = Delivery {
            dossier: DossierId::new(),
            address: check_address("A B", "0912345678", "Tỉnh Đắk Lắk", "Tân Lập", "Y").unwrap(),
            asked_at: at,
            handed: None,
            delivered_at: None,
            returned: None,
        };
        assert_eq!(d.stage(), DeliveryStage::Asked);
        d.handed = Some(("VNPost".into(), "EL123".into(), at));
        assert_eq!(d.stage(), DeliveryStage::WithPost);
        let mut back = d.clone();
        back.returned = Some((at, "Không có người nhận".into()));
        assert_eq!(back.stage(), DeliveryStage::Returned);
        d.delivered_at = Some(at);
        assert_eq!(d.stage(), DeliveryStage::Delivered);
        assert_eq!(
            DeliveryEvent::Delivered.from_stage(),
            DeliveryStage::WithPost
        );
    }
}
