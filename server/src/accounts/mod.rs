//! Accounts and tenancy: organizations, users and their roles, API keys, and the
//! security audit log.
//!
//! Every function that touches an organization's rows takes its [`OrgId`] and puts it
//! in the query's `WHERE`, so a row of another organization is simply not found.

pub mod api_keys;
pub mod audit;
pub mod invitations;
pub mod members;
pub mod orgs;
pub mod passwords;
pub mod sign_in;
pub mod throttle;
pub(crate) mod tokens;
pub mod users;

use uuid::Uuid;

pub use bidline_model::roles::{Permission, Role};

/// An organization's id: the key every customer row carries.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    sqlx::Type,
    serde::Serialize,
    serde::Deserialize,
)]
#[sqlx(transparent)]
#[serde(transparent)]
pub struct OrgId(pub Uuid);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, sqlx::Type, serde::Serialize)]
#[sqlx(transparent)]
#[serde(transparent)]
pub struct UserId(pub Uuid);

impl std::fmt::Display for OrgId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Input that breaks a rule; `field` names the input (`email`, `password`, …).
    #[error("invalid {field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("a user with this email already exists and the password does not match it")]
    ExistingUserPassword,
    #[error("no user has this email")]
    UnknownEmail,
    /// Not there, or not in the caller's organization.
    #[error("not found")]
    NotFound,
    #[error("not allowed: {0}")]
    NotAllowed(&'static str),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Hash(#[from] passwords::HashError),
}

impl AccountError {
    fn invalid(field: &'static str, message: impl std::fmt::Display) -> Self {
        Self::Invalid { field, message: message.to_string() }
    }
}

/// Trimmed and lower-cased, or why it is not an email address.
pub fn normalize_email(email: &str) -> Result<String, AccountError> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if valid { Ok(email) } else { Err(AccountError::invalid("email", "is not an email address")) }
}

/// A display name (organization, API key): trimmed, 1 to 100 characters.
pub fn normalize_name(field: &'static str, name: &str) -> Result<String, AccountError> {
    let name = name.trim();
    match name.chars().count() {
        0 => Err(AccountError::invalid(field, "must not be empty")),
        1..=100 => Ok(name.to_owned()),
        _ => Err(AccountError::invalid(field, "must be at most 100 characters")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_lower_cased_and_checked() {
        assert_eq!(normalize_email("  Dana@Network.Example ").unwrap(), "dana@network.example");
        for bad in ["", "dana", "dana@", "@network.example", "dana@localhost", "da na@x.example"] {
            assert!(normalize_email(bad).is_err(), "{bad:?} passed");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(normalize_name("name", "  Acme Leads ").unwrap(), "Acme Leads");
        assert!(normalize_name("name", "   ").is_err());
        assert!(normalize_name("name", &"x".repeat(101)).is_err());
    }
}
