//! `GET /campaigns/{id}/live`: a campaign's numbers as server-sent events, for its report page.
//! An event (`stats`, the JSON of [`DeliveryStats`]) is sent at once and then whenever the
//! numbers change: this instance's recorder and senders say when they moved them, and the
//! counters are read again every few seconds besides, for what another instance recorded.
//! Reads are at most four a second per page, however fast hits arrive. Browsers reconnect by
//! themselves when the stream breaks.

use crate::http::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use herald_core::domain::DeliveryStats;
use herald_core::domain::access::Actor;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// How often the counters are read when nothing here said they moved.
const POLL: Duration = Duration::from_secs(3);
/// The least time between two reads of one page's counters.
const THROTTLE: Duration = Duration::from_millis(250);

struct Watch {
    state: AppState,
    actor: Actor,
    id: i64,
    rx: tokio::sync::broadcast::Receiver<i64>,
    last: Option<DeliveryStats>,
    read_at: Option<tokio::time::Instant>,
}

impl Watch {
    /// Waits until the campaign's numbers may have moved.
    async fn wait(&mut self) {
        let deadline = tokio::time::sleep(POLL);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                () = &mut deadline => break,
                got = self.rx.recv() => match got {
                    Ok(id) if id == self.id => break,
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => break,
                    Err(RecvError::Closed) => {
                        (&mut deadline).await;
                        break;
                    }
                },
            }
        }
        if let Some(at) = self.read_at {
            tokio::time::sleep_until(at + THROTTLE).await;
        }
    }

    /// The next change, as an event (`None` ends the stream: the campaign is gone).
    async fn next(mut self) -> Option<(Event, Watch)> {
        loop {
            if self.last.is_some() {
                self.wait().await;
            }
            self.read_at = Some(tokio::time::Instant::now());
            let h = &self.state.herald;
            let stats = match herald_core::reports::live(&h.db, &self.actor, self.id).await {
                Ok(s) => s,
                Err(herald_core::Error::NotFound(_) | herald_core::Error::Forbidden(_)) => {
                    return None;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "live report: reading the counters failed");
                    continue;
                }
            };
            if self.last != Some(stats) {
                self.last = Some(stats);
                let event = Event::default().event("stats").json_data(stats).ok()?;
                return Some((event, self));
            }
        }
    }
}

pub async fn campaign(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Response {
    let actor = match super::signed_in(&state, &headers).await {
        Ok(Some(a)) => a,
        Ok(None) => return StatusCode::UNAUTHORIZED.into_response(),
        Err(r) => return r,
    };
    // Refused or unknown before the stream starts: a status, not an empty stream.
    match herald_core::reports::live(&state.herald.db, &actor, id).await {
        Ok(_) => {}
        Err(herald_core::Error::NotFound(_)) => return StatusCode::NOT_FOUND.into_response(),
        Err(herald_core::Error::Forbidden(_)) => return StatusCode::FORBIDDEN.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "live report");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    }
    let rx = state.herald.settings.live.subscribe();
    let watch = Watch {
        state,
        actor,
        id,
        rx,
        last: None,
        read_at: None,
    };
    let stream = futures::stream::unfold(watch, |w| async move {
        w.next()
            .await
            .map(|(event, w)| (Ok::<_, std::convert::Infallible>(event), w))
    });
    let mut r = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response();
    // Proxies must pass each event on as it comes.
    r.headers_mut().insert(
        "x-accel-buffering",
        axum::http::HeaderValue::from_static("no"),
    );
    r
}
