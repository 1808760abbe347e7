//! Administration: the agency tree, officers and their roles, the systems that call the API and their keys, workflows per procedure case, holidays, the security audit trail, and
//! (for editors) the searches that found little and the synonym table of search.

pub(crate) mod agencies;
pub(crate) mod api_clients;
pub(crate) mod audit_trail;
pub(crate) mod holidays;
pub(crate) mod officers;
pub(crate) mod procedures;
pub(crate) mod search_log;
pub(crate) mod synonyms;
pub(crate) mod workflows;
