//! The citizen's own area: applying online (drafts, form pages, files, submit), "Hồ sơ của tôi", a dossier's page
//! with supplements, withdrawal, fees, delivery by post and rating, and the public lookup.

pub(crate) mod apply;
pub(crate) mod attachments;
pub(crate) mod delivery;
pub(crate) mod lookup;
pub(crate) mod payment;
pub(crate) mod rating;
pub(crate) mod submit;
pub(crate) mod supplement;
pub(crate) mod tracking;
