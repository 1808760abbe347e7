//! Accounts: logging in and out, registration, password reset and e-mail verification, the account page, contact
//! details and password change, personal tokens for the API, and the locks that wrong passwords earn.

pub(crate) mod lockout;
pub(crate) mod login;
pub(crate) mod mail;
pub(crate) mod password_reset;
pub(crate) mod profile;
pub(crate) mod registration;
pub(crate) mod tokens;
