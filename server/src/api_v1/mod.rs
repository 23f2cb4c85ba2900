//! The REST API under `/api/v1`: for the systems that feed Herald. Authenticated with
//! per-organisation API keys (`Authorization: Bearer hk_...`), never with cookies, so it is
//! exempt from the same-origin check. Write endpoints take batches and honour
//! `Idempotency-Key`. Every malformed request gets a 4xx JSON error naming the field.
//!
//! The OpenAPI description is generated from these handlers and types (utoipa) and served at
//! `/api/v1/openapi.json`; routes are registered through the same `OpenApiRouter`, so a route
//! cannot exist undocumented.

//!
//! One file per area: [`contacts`], [`records`] (records and events), [`audiences`] (counts and
//! segments); [`auth`] finds the caller, [`error`] shapes every error answer.

mod audiences;
mod auth;
mod contacts;
mod error;
mod records;

pub use error::{ApiError, ErrorBody, ErrorDetail};

use axum::Json;
use axum::http::StatusCode;
use herald_core::Herald;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Herald API",
        description = "Feed contacts, their records and events into Herald, and count audiences. \
            Authenticate with an API key from Settings: `Authorization: Bearer hk_...`. \
            Write endpoints take batches of up to 1,000 items, store all or nothing, and honour \
            an `Idempotency-Key` header: a request repeated with the same key returns the first \
            answer and changes nothing."
    ),
    modifiers(&BearerAuth),
    security(("api_key" = [])),
    tags((name = "contacts"), (name = "records"), (name = "audiences"))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The router (to nest under `/api/v1`) and its OpenAPI description.
pub fn router() -> (axum::Router<Herald>, utoipa::openapi::OpenApi) {
    let (router, mut api) = OpenApiRouter::<Herald>::with_openapi(ApiDoc::openapi())
        .routes(routes!(contacts::upsert_contacts, contacts::list_contacts))
        .routes(routes!(contacts::get_contact))
        .routes(routes!(records::add_records))
        .routes(routes!(records::add_events))
        .routes(routes!(audiences::count_audience))
        .routes(routes!(audiences::create_segment, audiences::list_segments))
        .split_for_parts();
    // The paths above are relative to where the router is nested.
    api.paths.paths = std::mem::take(&mut api.paths.paths)
        .into_iter()
        .map(|(path, item)| (format!("/api/v1{path}"), item))
        .collect();
    let spec = api.clone();
    let router = router
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let spec = spec.clone();
                async move { Json(spec) }
            }),
        )
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "No such endpoint.")
        });
    (router, api)
}
