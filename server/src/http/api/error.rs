//! The one error type of `/api/v1`: each variant maps to a status and a JSON body
//! `{"error": "…"}` (422 adds `"fields"`). Internal failures are logged with the request
//! id and answered with a generic message: no SQL or stack ever reaches a client.

use std::collections::BTreeMap;

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::accounts::AccountError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or unknown API key")]
    Unauthorized,
    /// A credential in the path (a postback key) that names nothing live.
    #[error("unknown or revoked postback key")]
    UnknownPostbackKey,
    #[error("{0}")]
    Forbidden(String),
    /// Also the answer for anything that belongs to another organization.
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    /// A 409 about fields: a value someone else holds.
    #[error("{message}")]
    Taken { message: String, fields: BTreeMap<String, String> },
    #[error("too many requests: try again in {retry_after_seconds} s")]
    RateLimited { retry_after_seconds: u64 },
    #[error("{message}")]
    Unprocessable { message: String, fields: BTreeMap<String, String> },
    /// Something Bidline depends on (Stripe) did not answer as it should.
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// A 422 about one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::Unprocessable {
            message: format!("invalid {field}: {message}"),
            fields: BTreeMap::from([(field.to_owned(), message)]),
        }
    }
}

impl ApiError {
    /// A 429 that says when to come back.
    pub fn too_many(wait: std::time::Duration) -> Self {
        Self::RateLimited { retry_after_seconds: wait.as_secs().max(1) }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        Self::Internal(Box::new(error))
    }
}

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::Invalid { field, message } => Self::field(field, message),
            AccountError::ExistingUserPassword | AccountError::UnknownEmail => {
                Self::BadRequest(error.to_string())
            }
            AccountError::NotFound => Self::NotFound,
            AccountError::NotAllowed(why) => Self::Forbidden(why.to_owned()),
            AccountError::Database(error) => error.into(),
            AccountError::Hash(error) => Self::Internal(Box::new(error)),
        }
    }
}

impl From<crate::network::NetworkError> for ApiError {
    fn from(error: crate::network::NetworkError) -> Self {
        use crate::network::NetworkError;
        match error {
            NetworkError::Invalid(invalid) => {
                let fields = invalid.0;
                Self::Unprocessable { message: summary(&fields), fields }
            }
            NetworkError::Taken(taken) => {
                let message = match taken.0.iter().next() {
                    Some((field, message)) => format!("{field} {message}"),
                    None => "already in use".to_owned(),
                };
                Self::Taken { message, fields: taken.0 }
            }
            NetworkError::NotFound => Self::NotFound,
            NetworkError::InUse(why) => Self::Conflict(format!("cannot delete: {why}")),
            NetworkError::Database(error) => error.into(),
        }
    }
}

/// The `error` line of a 422: the one field's problem, or a pointer to the list.
fn summary(fields: &BTreeMap<String, String>) -> String {
    match fields.iter().next() {
        Some((field, message)) if fields.len() == 1 => format!("invalid {field}: {message}"),
        _ => "invalid input: see fields".to_owned(),
    }
}

impl From<crate::postbacks::report::PostbackError> for ApiError {
    fn from(error: crate::postbacks::report::PostbackError) -> Self {
        use crate::postbacks::report::PostbackError;
        match error {
            PostbackError::Invalid { field, message } => Self::field(field, message),
            PostbackError::NotFound => Self::NotFound,
            PostbackError::Live => Self::Conflict(error.to_string()),
            PostbackError::Database(error) => error.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::Unauthorized | Self::UnknownPostbackKey => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Conflict(_) | Self::Taken { .. } => StatusCode::CONFLICT,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(error) => {
                tracing::error!(error = %error, "API request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let body = match &self {
            Self::Unprocessable { message, fields } | Self::Taken { message, fields } => {
                json!({ "error": message, "fields": fields })
            }
            _ => json!({ "error": self.to_string() }),
        };
        let mut response = (status, Json(body)).into_response();
        if let Self::RateLimited { retry_after_seconds } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
        }
        if let Self::Unauthorized = self {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
