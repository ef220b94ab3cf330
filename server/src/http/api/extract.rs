//! Extractors of `/api/v1`: who is calling ([`ApiCaller`]) and JSON bodies whose
//! rejections speak the API's error format ([`ApiJson`]).

use std::net::IpAddr;

use axum::{
    extract::{FromRequest, FromRequestParts, Request, rejection::JsonRejection},
    http::{header, request::Parts},
};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::ApiError;
use crate::{
    accounts::{
        OrgId, Permission, Role, api_keys,
        audit::{Actor, By},
    },
    http::AppState,
    limits::ClientIp,
};

/// The organization and role of the request's API key. A handler that takes it is
/// authenticated; everything it reads or writes is scoped to `org`.
#[derive(Clone, Debug)]
pub struct ApiCaller {
    pub key_id: Uuid,
    pub org: OrgId,
    pub org_name: String,
    pub role: Role,
    pub ip: Option<IpAddr>,
}

impl ApiCaller {
    /// This caller, for the audit log.
    pub fn by(&self) -> By {
        By { actor: Actor::ApiKey(self.key_id), ip: self.ip }
    }

    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.role.allows(permission) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!("this API key's role ({}) may not do that", self.role)))
        }
    }
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(ApiError::Unauthorized)?;
        let identity =
            api_keys::authenticate(&state.db, presented).await?.ok_or(ApiError::Unauthorized)?;
        let ip = ClientIp::of(&parts.extensions);
        Ok(Self {
            key_id: identity.key_id,
            org: identity.org,
            org_name: identity.org_name,
            role: identity.role,
            ip,
        })
    }
}

/// `axum::Json`, with malformed bodies answered as `{"error": …}`.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(JsonRejection::JsonDataError(error)) => Err(ApiError::Unprocessable {
                message: error.body_text(),
                fields: Default::default(),
            }),
            Err(rejection) => Err(ApiError::BadRequest(rejection.body_text())),
        }
    }
}
