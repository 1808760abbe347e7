//! The shared layer: what every audience stands on. HTTP plumbing (errors, input cleaning, sessions, the origin
//! check, security headers, the outage breaker, assets, probes), the page frame, passwords, the in-memory
//! catalogue, and the dossier views and slips that more than one audience shows. Nothing here imports an
//! audience module (`portal`, `accounts`, `citizen`, `desk`, `admin`, `gateway`).

pub(crate) mod answers;
pub mod articles;
pub(crate) mod assets;
pub(crate) mod audit;
pub mod auth;
pub(crate) mod background;
pub mod catalogue;
pub(crate) mod csrf;
pub(crate) mod dossier_lookup;
pub(crate) mod dossiers;
pub(crate) mod error;
pub mod files;
pub(crate) mod frame;
pub(crate) mod guard;
pub(crate) mod health;
pub(crate) mod index766;
pub(crate) mod input;
pub(crate) mod layout;
pub mod misses;
pub mod months;
pub(crate) mod outage;
pub mod payments;
pub mod postal;
pub(crate) mod problem;
pub(crate) mod receiving;
pub mod seals;
pub(crate) mod security;
pub mod session;
pub(crate) mod slips;
pub(crate) mod steps;
pub(crate) mod urls;
pub(crate) mod viewer;
pub mod visits;
pub(crate) mod withdrawal;
