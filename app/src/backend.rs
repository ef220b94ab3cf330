//! What server functions need from the server binary.
//!
//! The app cannot depend on the server crate (the dependency runs the other way), so
//! the server implements [`Backend`] and provides it as Leptos context for every
//! request. Server functions reach it with [`backend`]; they never open connections
//! of their own.

use std::sync::Arc;

use futures::future::BoxFuture;
use leptos::prelude::*;

use crate::status::SystemStatus;

pub trait Backend: Send + Sync + 'static {
    /// The same check `GET /healthz` reports.
    fn system_status(&self) -> BoxFuture<'_, SystemStatus>;
}

/// The backend the server provided for this request.
pub fn backend() -> Result<Arc<dyn Backend>, ServerFnError> {
    use_context::<Arc<dyn Backend>>()
        .ok_or_else(|| ServerFnError::new("the server provided no backend to the app"))
}
