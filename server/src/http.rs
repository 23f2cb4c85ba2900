//! The HTTP surface: the Leptos app and its server functions, static files, health checks, and
//! the middleware in front of them.

use app::{App, shell};
use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::extract::{ConnectInfo, FromRef, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use herald_core::{ClientIp, Herald};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::net::SocketAddr;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Clone, Debug)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub herald: Herald,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let herald = state.herald.clone();
    let context = move || app::api::ssr::provide_request_context(herald.clone());
    let options = state.leptos_options.clone();
    let (api_v1, _) = crate::api_v1::router();
    // CSV uploads may be larger than any other request.
    let uploads = Router::new()
        .route(
            "/contacts/import/upload",
            post(crate::uploads::upload_contacts),
        )
        .layer(DefaultBodyLimit::max(
            herald_core::imports::MAX_FILE_BYTES + 64 * 1024,
        ))
        .layer(RequestBodyLimitLayer::new(
            herald_core::imports::MAX_FILE_BYTES + 64 * 1024,
        ));
    Router::new()
        .route("/healthz", get(healthz))
        .nest("/api/v1", api_v1.with_state(state.herald.clone()))
        .route(
            "/contacts/import/{id}/start",
            post(crate::uploads::start_import),
        )
        .route(
            "/contacts/import/{id}/errors.csv",
            get(crate::uploads::import_errors_csv),
        )
        .leptos_routes_with_context(&state, routes, context.clone(), move || {
            shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .merge(uploads)
        .layer(middleware::from_fn(same_origin_posts))
        .layer(middleware::from_fn(client_ip))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .with_state(state)
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

async fn client_ip(mut req: Request, next: Next) -> Response {
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    req.extensions_mut().insert(ClientIp(ip));
    next.run(req).await
}

/// Cross-site request protection for everything that changes data with the session cookie
/// (server functions, form posts): a browser always says where a POST comes from (`Origin`, or
/// `Sec-Fetch-Site`); one from another site is refused. Session cookies are also
/// `SameSite=Lax`. Requests without either header do not come from a browser and carry no
/// ambient credentials to abuse. The REST API authenticates with bearer keys, not cookies, and
/// is exempt.
async fn same_origin_posts(req: Request, next: Next) -> Response {
    let unsafe_method = req.method() != Method::GET && req.method() != Method::HEAD;
    let verdict = match unsafe_method && uses_session(req.uri().path()) {
        true => check_same_origin(req.headers()),
        false => Ok(()),
    };
    if let Err(reason) = verdict {
        tracing::warn!(
            path = req.uri().path(),
            reason,
            "refused a cross-site request"
        );
        let body = Body::from(format!("Cross-site request refused: {reason}."));
        return (StatusCode::FORBIDDEN, body).into_response();
    }
    next.run(req).await
}

fn uses_session(path: &str) -> bool {
    !path.starts_with("/api/v1/")
}

pub fn check_same_origin(headers: &HeaderMap) -> Result<(), &'static str> {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().map_err(|_| "unreadable Origin header")?;
        // "null" is sent by sandboxed frames and some redirects: never same-origin.
        let origin_host = origin
            .split_once("://")
            .map(|(_, rest)| rest)
            .ok_or("opaque origin")?;
        return match host {
            Some(host) if host.eq_ignore_ascii_case(origin_host) => Ok(()),
            _ => Err("the Origin header names another site"),
        };
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        None | Some("same-origin") | Some("none") => Ok(()),
        Some(_) => Err("Sec-Fetch-Site says another site"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_origin_rule() {
        let table: &[(&[(&str, &str)], bool)] = &[
            (
                &[
                    ("host", "herald.example"),
                    ("origin", "https://herald.example"),
                ],
                true,
            ),
            (
                &[
                    ("host", "127.0.0.1:3000"),
                    ("origin", "http://127.0.0.1:3000"),
                ],
                true,
            ),
            (
                &[
                    ("host", "herald.example"),
                    ("origin", "https://evil.example"),
                ],
                false,
            ),
            (
                &[
                    ("host", "herald.example"),
                    ("origin", "https://herald.example.evil.example"),
                ],
                false,
            ),
            (
                &[
                    ("host", "127.0.0.1:3000"),
                    ("origin", "http://127.0.0.1:3001"),
                ],
                false,
            ),
            (&[("host", "herald.example"), ("origin", "null")], false),
            (&[("origin", "https://herald.example")], false),
            (
                &[
                    ("host", "herald.example"),
                    ("sec-fetch-site", "same-origin"),
                ],
                true,
            ),
            (
                &[("host", "herald.example"), ("sec-fetch-site", "cross-site")],
                false,
            ),
            (
                &[("host", "herald.example"), ("sec-fetch-site", "same-site")],
                false,
            ),
            (&[("host", "herald.example")], true), // not a browser: no ambient credentials
        ];
        for (headers, allowed) in table {
            let mut map = HeaderMap::new();
            for (k, v) in *headers {
                map.insert(*k, HeaderValue::from_str(v).unwrap());
            }
            assert_eq!(check_same_origin(&map).is_ok(), *allowed, "{headers:?}");
        }
    }
}
