//! Other systems calling the portal: the payment gateway's server-to-server notification (IPN), and the built-in
//! sandbox gateway that plays VNPay for demos and tests.

pub(crate) mod sandbox;
pub(crate) mod vnpay;
