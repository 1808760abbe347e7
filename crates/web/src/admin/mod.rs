//! Administration: officers and their roles, workflows per procedure case, holidays.

pub(crate) mod holidays;
pub(crate) mod officers;
pub(crate) mod workflows;
