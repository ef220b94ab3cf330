//! `GET /live/calls`: the signed-in member's organization's calls as they change, as
//! server-sent events (one JSON `CallSummary` per change). The dashboard's live view
//! subscribes once the page is up. This node's calls only: each node streams what its
//! own SIP edge handles.

use std::convert::Infallible;

use axum::{
    extract::State,
    http::StatusCode,
    response::sse::{Event, KeepAlive, Sse},
};
use futures::{Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;
use tower_sessions::Session;

use super::{AppState, session};
use crate::{backend::calls::summary, calls::query::CallView};

pub async fn calls(
    State(state): State<AppState>,
    session: Session,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, StatusCode> {
    let member = session::member(&session, &state.db)
        .await
        .map_err(|error| {
            tracing::error!(%error, "cannot read the session of a live-calls stream");
            StatusCode::INTERNAL_SERVER_ERROR
        })?
        .ok_or(StatusCode::UNAUTHORIZED)?;
    let org = member.org;
    let changes = futures::stream::unfold(state.live.subscribe(), move |mut changes| async move {
        loop {
            match changes.recv().await {
                Ok(row) if row.org == org => return Some((row, changes)),
                // Another organization's call, or changes this stream fell behind on.
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return None,
            }
        }
    });
    let routing = state.routing.clone();
    let events = changes.map(move |row| {
        let call = summary(&routing.current(), org, &CallView::from(&*row));
        Ok(Event::default().json_data(call).unwrap_or_default())
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
