//! Tracking URLs, hit from every mail client, image proxy and link scanner on the internet:
//!
//! - `GET /o/{token}`: the open pixel, a 1×1 transparent GIF that is never cached, answered the
//!   same whatever the token (a bad one is simply not recorded).
//! - `GET /c/{token}`: records the click and redirects to the link Herald stored for the
//!   message's campaign. The destination never comes from the request: a token that does not
//!   verify, or names a link of another campaign or none, gets a plain 404 page.
//! - `GET /v/{token}`: the message in the browser, its links tracked.
//!
//! Hits go to the [`Recorder`](herald_core::tracking::recorder::Recorder)'s bounded queue:
//! recording never waits for the database. `HEAD` requests are answered and recorded, flagged as
//! a machine's. `GET /metrics` says what the queue took, wrote and dropped.

use crate::http::AppState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use herald_core::ClientIp;
use herald_core::domain::HitKind;
use herald_core::entity::{link, message};
use herald_core::tracking::recorder::Hit;
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use std::sync::atomic::Ordering;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/o/{token}", get(open))
        .route("/c/{token}", get(click))
        .route("/v/{token}", get(view))
        .route("/metrics", get(metrics))
        .route("/livez", get(livez))
}

/// The smallest transparent GIF (1×1, 43 bytes).
const PIXEL: [u8; 43] = [
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

fn no_cache(r: &mut Response) {
    let h = r.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache, must-revalidate, max-age=0"),
    );
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(header::EXPIRES, HeaderValue::from_static("0"));
    // The token is in the URL: it goes nowhere else.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

/// A plain 404 page: the same for every bad token, whatever its shape.
fn not_found() -> Response {
    let mut r = (
        StatusCode::NOT_FOUND,
        Html("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found</title></head><body><h1>Not found</h1><p>This link is not valid.</p></body></html>"),
    )
        .into_response();
    no_cache(&mut r);
    r
}

/// The hit as the request shows it. The user agent is cut to a bounded length before it is
/// queued: the queue's memory is bounded too.
fn hit(
    kind: HitKind,
    message_id: i64,
    link_id: Option<i64>,
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
    ip: Option<&ClientIp>,
) -> Hit {
    Hit {
        kind,
        message_id,
        link_id,
        at: state.herald.now(),
        head: method == Method::HEAD,
        user_agent: headers.get(header::USER_AGENT).map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .chars()
                .take(300)
                .collect()
        }),
        ip: ip.and_then(|ip| ip.0.parse().ok()),
    }
}

async fn open(
    State(state): State<AppState>,
    Path(token): Path<String>,
    method: Method,
    headers: HeaderMap,
    ip: Option<axum::Extension<ClientIp>>,
) -> Response {
    let token = token.strip_suffix(".gif").unwrap_or(&token);
    if let Some(t) = herald_core::tracking::read(
        herald_core::tracking::keys(&state.herald.settings),
        HitKind::Open,
        token,
    ) {
        let ip = ip.as_ref().map(|e| &e.0);
        state.recorder.record(hit(
            HitKind::Open,
            t.message_id,
            None,
            &state,
            &method,
            &headers,
            ip,
        ));
    }
    let mut r = (
        [(header::CONTENT_TYPE, HeaderValue::from_static("image/gif"))],
        PIXEL.as_slice(),
    )
        .into_response();
    no_cache(&mut r);
    r
}

/// Where click tokens lead, remembered: a link's URL and campaign never change, nor does a
/// message's campaign, so an answer read once stays right. Bounded: forgotten all at once when
/// full.
#[derive(Debug, Default)]
pub struct Destinations(std::sync::Mutex<std::collections::HashMap<(i64, i64), String>>);

/// Remembered destinations at most.
const REMEMBERED: usize = 100_000;

/// The stored URL of link `link_id`, when it is a link of message `message_id`'s campaign.
async fn destination(
    state: &AppState,
    message_id: i64,
    link_id: i64,
) -> Result<Option<String>, sea_orm::DbErr> {
    let key = (message_id, link_id);
    if let Some(url) = state.destinations.0.lock().expect("not poisoned").get(&key) {
        return Ok(Some(url.clone()));
    }
    let url = read_destination(state, message_id, link_id).await?;
    if let Some(url) = &url {
        let mut known = state.destinations.0.lock().expect("not poisoned");
        if known.len() >= REMEMBERED {
            known.clear();
        }
        known.insert(key, url.clone());
    }
    Ok(url)
}

async fn read_destination(
    state: &AppState,
    message_id: i64,
    link_id: i64,
) -> Result<Option<String>, sea_orm::DbErr> {
    let url: Option<String> = link::Entity::find_by_id(link_id)
        .select_only()
        .column(link::Column::Url)
        .filter(
            link::Column::CampaignId.in_subquery(
                Query::select()
                    .column(message::Column::CampaignId)
                    .from(message::Entity)
                    .and_where(message::Column::Id.eq(message_id))
                    .to_owned(),
            ),
        )
        .into_tuple()
        .one(&state.herald.db)
        .await?;
    // Stored links are absolute http(s) URLs; what goes into `Location` is their ASCII form.
    Ok(url
        .and_then(|u| url::Url::parse(&u).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .map(String::from))
}

async fn click(
    State(state): State<AppState>,
    Path(token): Path<String>,
    method: Method,
    headers: HeaderMap,
    ip: Option<axum::Extension<ClientIp>>,
) -> Response {
    let Some(t) = herald_core::tracking::read(
        herald_core::tracking::keys(&state.herald.settings),
        HitKind::Click,
        &token,
    ) else {
        return not_found();
    };
    let Some(link_id) = t.link_id else {
        return not_found();
    };
    let url = match destination(&state, t.message_id, link_id).await {
        Ok(Some(url)) => url,
        Ok(None) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "click: reading the link failed");
            return (StatusCode::SERVICE_UNAVAILABLE, "Please try again.").into_response();
        }
    };
    let Ok(location) = HeaderValue::from_str(&url) else {
        return not_found();
    };
    let ip = ip.as_ref().map(|e| &e.0);
    state.recorder.record(hit(
        HitKind::Click,
        t.message_id,
        Some(link_id),
        &state,
        &method,
        &headers,
        ip,
    ));
    let mut r = StatusCode::FOUND.into_response();
    r.headers_mut().insert(header::LOCATION, location);
    no_cache(&mut r);
    r
}

async fn view(
    State(state): State<AppState>,
    Path(token): Path<String>,
    method: Method,
    headers: HeaderMap,
    ip: Option<axum::Extension<ClientIp>>,
) -> Response {
    match herald_core::tracking::view::render(&state.herald, &token).await {
        Ok((message_id, html)) => {
            let ip = ip.as_ref().map(|e| &e.0);
            state.recorder.record(hit(
                HitKind::View,
                message_id,
                None,
                &state,
                &method,
                &headers,
                ip,
            ));
            let mut r = Html(html).into_response();
            no_cache(&mut r);
            // The message's own HTML: no scripts, whatever a template holds.
            r.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("script-src 'none'; object-src 'none'; base-uri 'none'"),
            );
            r
        }
        Err(herald_core::Error::NotFound(_)) => not_found(),
        Err(e) => {
            tracing::error!(error = %e, "view in the browser failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.").into_response()
        }
    }
}

/// 200 while the process serves requests (the database is not asked: `/healthz` does that).
async fn livez() -> &'static str {
    "ok"
}

/// The tracking queue's counters, in Prometheus' text format.
async fn metrics(State(state): State<AppState>) -> Response {
    let c = &state.recorder.counters;
    let body = format!(
        "# HELP herald_tracking_hits_total Opens, clicks and views by what became of them.\n\
         # TYPE herald_tracking_hits_total counter\n\
         herald_tracking_hits_total{{outcome=\"accepted\"}} {}\n\
         herald_tracking_hits_total{{outcome=\"dropped\"}} {}\n\
         herald_tracking_hits_total{{outcome=\"written\"}} {}\n\
         herald_tracking_hits_total{{outcome=\"ignored\"}} {}\n\
         herald_tracking_hits_total{{outcome=\"lost\"}} {}\n\
         # HELP herald_tracking_queue Hits waiting to be written.\n\
         # TYPE herald_tracking_queue gauge\n\
         herald_tracking_queue {}\n",
        c.accepted.load(Ordering::Relaxed),
        c.dropped.load(Ordering::Relaxed),
        c.written.load(Ordering::Relaxed),
        c.ignored.load(Ordering::Relaxed),
        c.lost.load(Ordering::Relaxed),
        state.recorder.queued(),
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
