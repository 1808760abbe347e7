//! The public portal: home, the procedure catalogue and each procedure, form templates.

pub(crate) mod pages;
