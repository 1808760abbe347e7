//! The one-stop desk: reception queue and counter intake, an officer's dossier page, processing steps and results,
//! fees, results by post, the inbox, the register.

pub(crate) mod delivery;
pub(crate) mod done;
pub(crate) mod fees;
pub(crate) mod home;
pub(crate) mod inbox;
pub(crate) mod index766;
pub(crate) mod intake;
pub(crate) mod page;
pub(crate) mod processing;
pub(crate) mod queue;
pub(crate) mod reception;
pub(crate) mod register;
