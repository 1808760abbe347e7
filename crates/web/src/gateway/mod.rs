//! Other systems calling the portal: the payment provider's server-to-server notification, and the built-in
//! sandbox gateway that plays VNPay for demos and tests.

pub(crate) mod notification;
pub(crate) mod sandbox;
