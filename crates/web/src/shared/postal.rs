//! Results by post as the applicant and the desk see them, and the postal provider behind the hand-over.

use async_trait::async_trait;
use motcua_domain::{
    Dossier,
    postal::{Delivery, DeliveryStage, PostalAddress},
    vntime,
};

use crate::{AppError, AppState};

/// A postal provider: books the shipment of a result and gives its tracking number. A provider with an API (VNPost,
/// Viettel Post) answers with the number; the built-in manual provider answers `None`, and the desk types the
/// number printed on the post office's receipt.
#[async_trait]
pub trait PostalService: Send + Sync {
    /// The carrier's name as recorded with the hand-over.
    fn carrier(&self) -> &str;
    /// Book the shipment; `Ok(None)` when the number comes from the desk; `Err` is the message for the desk.
    async fn book(&self, dossier: &Dossier, to: &PostalAddress) -> Result<Option<String>, String>;
}

/// The built-in provider: the desk takes the result to the post office and types the tracking number.
pub struct ManualPost;

#[async_trait]
impl PostalService for ManualPost {
    fn carrier(&self) -> &str {
        "Bưu điện (nhập tay)"
    }

    async fn book(&self, _: &Dossier, _: &PostalAddress) -> Result<Option<String>, String> {
        Ok(None)
    }
}

/// The desk's forms for a delivery at this stage: hand to the post, then delivered or returned.
pub(crate) fn desk_forms(stage: DeliveryStage) -> &'static [&'static str] {
    match stage {
        DeliveryStage::Asked => &["giao"],
        DeliveryStage::WithPost => &["da_phat", "chuyen_hoan"],
        DeliveryStage::Delivered | DeliveryStage::Returned => &[],
    }
}

/// A delivery by post as shown.
pub(crate) struct DeliveryView {
    pub recipient: String,
    pub phone: String,
    /// The address on one line, and its parts (to fill the form when it is changed).
    pub address: String,
    pub province: String,
    pub commune: String,
    pub street: String,
    pub asked_at: String,
    pub stage: DeliveryStage,
    pub stage_label: &'static str,
    /// (carrier, tracking number, when)
    pub handed: Option<(String, String, String)>,
    pub delivered_at: Option<String>,
    /// (when, why)
    pub returned: Option<(String, String)>,
}

pub(crate) fn view(d: &Delivery) -> DeliveryView {
    DeliveryView {
        recipient: d.address.recipient.clone(),
        phone: d.address.phone.clone(),
        address: d.address.one_line(),
        province: d.address.province.clone(),
        commune: d.address.commune.clone(),
        street: d.address.street.clone(),
        asked_at: vntime::format_datetime(d.asked_at),
        stage: d.stage(),
        stage_label: d.stage().label_vi(),
        handed: d
            .handed
            .as_ref()
            .map(|(c, t, at)| (c.clone(), t.clone(), vntime::format_datetime(*at))),
        delivered_at: d.delivered_at.map(vntime::format_datetime),
        returned: d
            .returned
            .as_ref()
            .map(|(at, why)| (vntime::format_datetime(*at), why.clone())),
    }
}

pub(crate) async fn delivery_view(
    state: &AppState,
    dossier: &Dossier,
) -> Result<Option<DeliveryView>, AppError> {
    Ok(state
        .store
        .deliveries
        .delivery(dossier.id)
        .await?
        .as_ref()
        .map(view))
}

/// The address form, as typed.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(crate) struct AddressForm {
    #[serde(default)]
    pub nguoi_nhan: String,
    #[serde(default)]
    pub dien_thoai_nhan: String,
    #[serde(default)]
    pub tinh_thanh: String,
    #[serde(default)]
    pub xa_phuong: String,
    #[serde(default)]
    pub dia_chi: String,
}

impl AddressForm {
    /// The communes of the chosen province, for the commune list (empty until a province is chosen).
    pub(crate) fn communes(&self) -> &'static [&'static str] {
        motcua_domain::form::communes_of(self.tinh_thanh.trim())
    }

    /// The form filled with the address already given (to change it).
    pub(crate) fn from_view(d: &DeliveryView) -> AddressForm {
        AddressForm {
            nguoi_nhan: d.recipient.clone(),
            dien_thoai_nhan: d.phone.clone(),
            tinh_thanh: d.province.clone(),
            xa_phuong: d.commune.clone(),
            dia_chi: d.street.clone(),
        }
    }
}
