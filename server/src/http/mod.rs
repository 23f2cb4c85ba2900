//! The HTTP surface: the router that puts together the Leptos app and its server functions,
//! the REST API ([`crate::api_v1`]), the public endpoints ([`crate::public`]), CSV upload forms
//! ([`uploads`]) and static files, with the middleware in front of them ([`middleware`]).

pub mod client_ip;
pub mod live;
pub mod middleware;
pub mod reports;
pub mod uploads;

use app::{App, shell};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::FromRef;
use axum::http::{HeaderValue, header};
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use herald_core::Herald;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What handlers and middleware share. Axum clones the state for every request, once per
/// layer that holds it: a pointer, not the Leptos options' dozen strings (which cost the
/// tracking endpoints a tenth of their time).
#[derive(Clone, Debug)]
pub struct AppState(std::sync::Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(std::sync::Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

#[derive(Debug)]
pub struct Shared {
    pub leptos_options: LeptosOptions,
    pub herald: Herald,
    pub trusted_proxies: std::sync::Arc<client_ip::TrustedProxies>,
    /// Takes opens and clicks off the request path.
    pub recorder: std::sync::Arc<herald_core::tracking::recorder::Recorder>,
    /// Where click tokens lead, remembered.
    pub destinations: std::sync::Arc<crate::public::tracking::Destinations>,
    /// Verifies SNS messages and knows the accepted topics.
    pub sns: std::sync::Arc<crate::public::webhooks::Sns>,
}

/// The signed-in user of a request, by its session cookie (`None`: nobody is signed in).
pub async fn signed_in(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> Result<Option<herald_core::domain::access::Actor>, axum::response::Response> {
    use axum::response::IntoResponse;
    let Some(token) = app::api::ssr::session_token_in(headers) else {
        return Ok(None);
    };
    herald_core::auth::sessions::user_for_session(&state.herald.db, &token)
        .await
        .map(|u| u.map(herald_core::domain::access::Actor::User))
        .map_err(|e| {
            tracing::error!(error = %e, "session lookup failed");
            axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        })
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
        .route("/contacts/import/upload", post(uploads::upload_contacts))
        .layer(DefaultBodyLimit::max(
            herald_core::ingest::imports::MAX_FILE_BYTES + 64 * 1024,
        ))
        .layer(RequestBodyLimitLayer::new(
            herald_core::ingest::imports::MAX_FILE_BYTES + 64 * 1024,
        ));
    Router::new()
        .merge(crate::public::router())
        .nest("/api/v1", api_v1.with_state(state.herald.clone()))
        .route("/contacts/import/{id}/start", post(uploads::start_import))
        .route("/campaigns/{id}/live", get(live::campaign))
        .route(
            "/campaigns/{id}/recipients.csv",
            get(reports::recipients_csv),
        )
        .route(
            "/contacts/import/{id}/errors.csv",
            get(uploads::import_errors_csv),
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
        .layer(from_fn_with_state(
            state.clone(),
            middleware::same_origin_posts,
        ))
        .layer(from_fn_with_state(state.clone(), middleware::client_ip))
        // A bug that panics answers 500 (and is logged) instead of dropping the connection.
        .layer(CatchPanicLayer::custom(middleware::panicked))
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
