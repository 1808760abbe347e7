//! Administration: officers and their roles, workflows per procedure case, holidays, the security audit trail.

pub(crate) mod audit_trail;
pub(crate) mod holidays;
pub(crate) mod officers;
pub(crate) mod workflows;
