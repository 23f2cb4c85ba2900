//! Public endpoints: reached without signing in, by anyone on the internet, so written for
//! hostile input. The health check, unsubscribing ([`unsubscribe`]), the tracking pixel, click
//! redirects and the view in the browser ([`tracking`]), and provider webhooks ([`webhooks`]).

pub mod tracking;
pub mod unsubscribe;
pub mod webhooks;

use crate::http::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .merge(unsubscribe::router())
        .merge(tracking::router())
        .merge(webhooks::router())
}

/// 200 when the database answers, 503 otherwise.
async fn healthz(State(state): State<AppState>) -> Response {
    match herald_core::db::ping(&state.herald.db).await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}
