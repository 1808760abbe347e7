//! Accounts: logging in and out, registration, password reset and e-mail verification, the account page, contact
//! details and password change.

pub(crate) mod account_pages;
pub(crate) mod password_reset;
pub(crate) mod registration;
