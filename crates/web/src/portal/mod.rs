//! The public portal: home, the procedure catalogue and each procedure, form templates, and the verification page
//! of signed electronic results.

pub(crate) mod pages;
pub(crate) mod verification;
