//! The error every server function of the dashboard answers with.
//!
//! The server maps each variant to an HTTP status (401, 403, 404, 422, 429, 500), so
//! clients other than the app get the same meaning; the app shows the message, and
//! field messages next to their fields.

use std::collections::BTreeMap;

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppError {
    /// No one is signed in (or the session ended).
    SignedOut,
    /// Email and password do not match a user. Deliberately says no more.
    BadCredentials,
    /// The member's role does not allow it.
    Forbidden,
    /// Not there, or not in this organization.
    NotFound,
    /// It cannot be done while something depends on it; says what.
    Conflict(String),
    /// Input that breaks a rule: field name → message.
    Invalid(BTreeMap<String, String>),
    /// Too many attempts; try again after this many seconds.
    RateLimited { retry_after_seconds: u64 },
    /// Something failed on the server; the message is safe to show.
    Internal(String),
}

impl AppError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid(BTreeMap::from([(field.to_owned(), message.into())]))
    }

    /// The message for `field`, if this error is about it.
    pub fn field_message(&self, field: &str) -> Option<String> {
        match self {
            Self::Invalid(fields) => fields.get(field).cloned(),
            _ => None,
        }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SignedOut => f.write_str("Please sign in."),
            Self::BadCredentials => f.write_str("The email or password is not right."),
            Self::Forbidden => f.write_str("Your role does not allow this."),
            Self::NotFound => f.write_str("Not found."),
            Self::Conflict(why) => write!(f, "Cannot delete: {why}."),
            Self::Invalid(fields) if fields.len() == 1 => {
                let (field, message) = fields.iter().next().expect("one field");
                write!(f, "{} {message}.", capitalise(field))
            }
            Self::Invalid(_) => f.write_str("Please correct the fields marked below."),
            Self::RateLimited { retry_after_seconds } => {
                write!(f, "Too many attempts. Try again in {retry_after_seconds} seconds.")
            }
            Self::Internal(message) => write!(f, "Something went wrong: {message}"),
        }
    }
}

fn capitalise(field: &str) -> String {
    let text = field.replace('_', " ");
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

impl std::error::Error for AppError {}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(error: ServerFnErrorErr) -> Self {
        Self::Internal(error.to_string())
    }
}
