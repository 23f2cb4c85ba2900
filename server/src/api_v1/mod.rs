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
//! segments), [`sending`] (templates, campaigns, transactional messages), [`workflows`]
//! (campaigns that are a series of steps); [`auth`] finds the caller, [`error`] shapes every
//! error answer.

mod audiences;
mod auth;
mod contacts;
mod error;
mod records;
mod sending;
mod workflows;

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
        description = "Feed contacts, their records and events into Herald, count audiences, \
            and send: templates, campaigns, one message to one contact. \
            Authenticate with an API key from Settings: `Authorization: Bearer hk_...`. \
            The endpoints for contacts, records and events take batches of up to 1,000 items, \
            store all or nothing, and honour an `Idempotency-Key` header: a request repeated \
            with the same key returns the first answer and changes nothing. \
            `POST /messages` honours it too: the same key answers the same message."
    ),
    modifiers(&BearerAuth),
    security(("api_key" = [])),
    tags((name = "contacts"), (name = "records"), (name = "audiences"), (name = "sending"), (name = "workflows"))
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
        .routes(routes!(sending::create_template))
        .routes(routes!(sending::create_campaign))
        .routes(routes!(sending::get_campaign))
        .routes(routes!(sending::activate_campaign))
        .routes(routes!(sending::deactivate_campaign))
        .routes(routes!(sending::list_messages))
        .routes(routes!(sending::campaign_stats))
        .routes(routes!(sending::campaign_links))
        .routes(routes!(sending::send_message))
        .routes(routes!(workflows::create_workflow))
        .routes(routes!(workflows::get_workflow, workflows::edit_workflow))
        .routes(routes!(workflows::publish_workflow))
        .routes(routes!(workflows::start_workflow))
        .routes(routes!(workflows::pause_workflow))
        .routes(routes!(workflows::resume_workflow))
        .routes(routes!(workflows::workflow_stats))
        .routes(routes!(workflows::step_runs))
        .routes(routes!(workflows::exit_run))
        .split_for_parts();
    // The paths above are relative to where the router is nested.
    api.paths.paths = std::mem::take(&mut api.paths.paths)
        .into_iter()
        .map(|(path, item)| (format!("/api/v1{path}"), item))
        .collect();
    document_common_answers(&mut api);
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

/// The answers every endpoint can give, whatever it does, added to each operation in one place
/// so that a new endpoint cannot leave them out: 401 without a valid key, 403 when the key
/// lacks the scope, 400 for a malformed path, query or body, 415 for a body that is not JSON,
/// 413 for one over the size limit.
fn document_common_answers(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::HttpMethod;
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build()
    };
    for item in api.paths.paths.values_mut() {
        let operations = [
            (HttpMethod::Get, item.get.as_mut()),
            (HttpMethod::Post, item.post.as_mut()),
            (HttpMethod::Put, item.put.as_mut()),
            (HttpMethod::Patch, item.patch.as_mut()),
            (HttpMethod::Delete, item.delete.as_mut()),
        ];
        for (method, op) in operations {
            let Some(op) = op else { continue };
            let answers = &mut op.responses.responses;
            let mut add = |status: &str, response: utoipa::openapi::Response| {
                answers
                    .entry(status.to_owned())
                    .or_insert_with(|| response.into());
            };
            add(
                "400",
                error("Malformed path, query or body; the error names the field"),
            );
            add("401", error("No valid API key"));
            add(
                "403",
                error("The API key does not have the scope this needs"),
            );
            if matches!(
                method,
                HttpMethod::Post | HttpMethod::Put | HttpMethod::Patch
            ) {
                add("415", error("The body is not sent as application/json"));
                add(
                    "413",
                    ResponseBuilder::new()
                        .description("The body is larger than 1 MiB")
                        .build(),
                );
            }
        }
    }
}
