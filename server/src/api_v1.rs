//! The REST API under `/api/v1`: for the systems that feed Herald. Authenticated with
//! per-organisation API keys (`Authorization: Bearer hk_...`), never with cookies, so it is
//! exempt from the same-origin check. Write endpoints take batches and honour
//! `Idempotency-Key`. Every malformed request gets a 4xx JSON error naming the field.
//!
//! The OpenAPI description is generated from these handlers and types (utoipa) and served at
//! `/api/v1/openapi.json`; routes are registered through the same `OpenApiRouter`, so a route
//! cannot exist undocumented.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use herald_core::audience::{self, Scope};
use herald_core::domain::audience::Filter;
use herald_core::domain::ingest::{ContactInput, EventInput, FieldError, Outcome, RecordInput};
use herald_core::domain::{ContactDetail, ContactPage};
use herald_core::ingest::{self, IngestError, Stored};
use herald_core::{Herald, contacts, idempotency, segments};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
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
        .routes(routes!(upsert_contacts, list_contacts))
        .routes(routes!(get_contact))
        .routes(routes!(add_records))
        .routes(routes!(add_events))
        .routes(routes!(count_audience))
        .routes(routes!(create_segment, list_segments))
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

// ---------------------------------------------------------------------------------------------
// Errors

/// The body of every error answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// `unauthorized`, `malformed_json`, `invalid`, `not_found`, `conflict`, `internal`.
    pub code: String,
    pub message: String,
    /// The fields at fault, as paths into the request (`contacts[2].email`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
}

impl ApiError {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                error: ErrorDetail {
                    code: code.into(),
                    message: message.into(),
                    fields: vec![],
                },
            },
        }
    }

    fn fields(fields: Vec<FieldError>) -> Self {
        let first = fields
            .first()
            .map(|f| format!("{}: {}", f.field, f.message))
            .unwrap_or_default();
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("The request has invalid fields ({first})."),
        );
        e.body.error.fields = fields;
        e
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

impl From<herald_core::Error> for ApiError {
    fn from(e: herald_core::Error) -> Self {
        use herald_core::Error as E;
        match e {
            E::Unauthenticated => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Send a valid API key: Authorization: Bearer hk_...",
            ),
            E::Forbidden => ApiError::new(StatusCode::FORBIDDEN, "forbidden", e.to_string()),
            E::NotFound(what) => ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("No such {what}."),
            ),
            E::Invalid(message) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
            }
            E::RateLimited { .. } => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", e.to_string())
            }
            other => {
                let reference = format!("{:08x}", rand::random::<u32>());
                tracing::error!(error = %other, reference, "API request failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    format!("Something went wrong on our side (reference {reference})."),
                )
            }
        }
    }
}

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> Self {
        match e {
            IngestError::Fields(fields) => ApiError::fields(fields),
            IngestError::Core(e) => e.into(),
        }
    }
}

/// Parses a JSON body; an error names the field and what was wrong with it.
fn parse<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, ApiError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the body as JSON with Content-Type: application/json.",
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        let mut err = ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("The body is not valid for this endpoint: {message}"),
        );
        let path = if path == "." { String::new() } else { path };
        // Messages from tagged enums start with the field below the path (see `tagged`).
        let joined = herald_core::domain::tagged::join(&path, &message);
        let field = match herald_core::domain::tagged::lead(&joined) {
            Some((field, _)) => field.to_owned(),
            None if message.starts_with("missing field `") => {
                let name = message.split('`').nth(1).unwrap_or_default();
                herald_core::domain::tagged::join(&path, &format!("{name}: x"))
                    .trim_end_matches(": x")
                    .to_owned()
            }
            None => path,
        };
        err.body.error.fields = vec![FieldError::new(field, message)];
        err
    })
}

// ---------------------------------------------------------------------------------------------
// Authentication

/// The organisation an API key belongs to.
pub struct ApiOrg(pub i64);

impl FromRequestParts<Herald> for ApiOrg {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, h: &Herald) -> Result<Self, ApiError> {
        let key = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let Some(key) = key else {
            return Err(herald_core::Error::Unauthenticated.into());
        };
        match herald_core::api_keys::authenticate(&h.db, key).await? {
            Some(org) => Ok(ApiOrg(org)),
            None => Err(herald_core::Error::Unauthenticated.into()),
        }
    }
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => v.to_str().map(|s| Some(s.to_owned())).map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid",
                "Idempotency-Key must be visible ASCII characters.",
            )
        }),
    }
}

/// Runs a write under the request's idempotency key and answers with its (stored) result.
async fn idempotent<T, F>(
    h: &Herald,
    org: i64,
    headers: &HeaderMap,
    endpoint: &str,
    body: &[u8],
    work: F,
) -> Result<Response, ApiError>
where
    T: Serialize,
    F: AsyncFnOnce(&sea_orm::DatabaseTransaction) -> Result<T, ApiError>,
{
    let key = idempotency_key(headers)?;
    // A validation failure must reach the caller as itself, not as an internal error: carry
    // it out of the transaction beside the core's Result.
    let mut refused: Option<ApiError> = None;
    let answer = idempotency::run(
        &h.db,
        org,
        key.as_deref(),
        endpoint,
        body,
        async |tx| match work(tx).await {
            Ok(value) => Ok((
                200,
                serde_json::to_string(&value)
                    .map_err(|e| herald_core::Error::Internal(e.to_string()))?,
            )),
            Err(e) => {
                let status = e.status.as_u16();
                refused = Some(e);
                Ok((status, String::new()))
            }
        },
    )
    .await?;
    if let Some(e) = refused {
        return Err(e);
    }
    let mut response = (
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK),
        [(header::CONTENT_TYPE, "application/json")],
        answer.body,
    )
        .into_response();
    if answer.replayed {
        response.headers_mut().insert(
            "idempotent-replayed",
            header::HeaderValue::from_static("true"),
        );
    }
    Ok(response)
}

// ---------------------------------------------------------------------------------------------
// Contacts

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactBatch {
    /// 1 to 1,000 contacts.
    pub contacts: Vec<ContactInput>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ContactResult {
    pub email: String,
    pub id: i64,
    pub outcome: Outcome,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ContactResults {
    /// One per contact sent, in order.
    pub results: Vec<ContactResult>,
}

/// Create or update contacts, merged by email address.
///
/// Fields left out keep their stored values; attributes are merged; groups are added to.
/// Consent changes are recorded with their time and source `api`.
#[utoipa::path(
    post, path = "/contacts", tag = "contacts",
    request_body = ContactBatch,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request change nothing twice.")),
    responses(
        (status = 200, description = "Stored", body = ContactResults),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 422, description = "Invalid fields; nothing was stored", body = ErrorBody),
    )
)]
async fn upsert_contacts(
    State(h): State<Herald>,
    ApiOrg(org): ApiOrg,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let batch: ContactBatch = parse(&headers, &body)?;
    let valid = ingest::validate_batch("contacts", &batch.contacts, ingest::validate_contact)
        .map_err(ApiError::fields)?;
    idempotent(&h, org, &headers, "contacts", &body, async |tx| {
        let stored = ingest::upsert_contacts(tx, org, &valid, "api", Utc::now()).await?;
        Ok(ContactResults {
            results: valid
                .iter()
                .zip(stored)
                .map(|(c, s)| ContactResult {
                    email: c.email.clone(),
                    id: s.id,
                    outcome: s.outcome,
                })
                .collect(),
        })
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Matches first name, last name or email (case-insensitive).
    #[serde(default)]
    pub search: String,
    /// From 1; 50 contacts per page.
    pub page: Option<u64>,
}

/// List contacts, 50 per page, sorted by last name.
#[utoipa::path(
    get, path = "/contacts", tag = "contacts",
    params(ListParams),
    responses(
        (status = 200, body = ContactPage),
        (status = 400, description = "Malformed query", body = ErrorBody),
        (status = 401, body = ErrorBody),
    )
)]
async fn list_contacts(
    State(h): State<Herald>,
    ApiOrg(org): ApiOrg,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ContactPage>, ApiError> {
    let Query(params) = params
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_query", e.body_text()))?;
    let page = contacts::list(
        &h.db,
        Scope {
            org_id: org,
            assigned_to: None,
        },
        &contacts::ListFilter {
            search: params.search,
            ..Default::default()
        },
        params.page.unwrap_or(1),
    )
    .await?;
    Ok(Json(page))
}

/// One contact with groups, consent history and timeline.
#[utoipa::path(
    get, path = "/contacts/{id}", tag = "contacts",
    params(("id" = i64, Path, description = "The contact's id")),
    responses(
        (status = 200, body = ContactDetail),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
async fn get_contact(
    State(h): State<Herald>,
    ApiOrg(org): ApiOrg,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> Result<Json<ContactDetail>, ApiError> {
    let Path(id) = id.map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_path",
            "The contact id must be a number.",
        )
    })?;
    let scope = Scope {
        org_id: org,
        assigned_to: None,
    };
    Ok(Json(contacts::detail(&h.db, scope, id).await?))
}

// ---------------------------------------------------------------------------------------------
// Records and events

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordBatch {
    /// 1 to 1,000 records.
    pub records: Vec<RecordInput>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBatch {
    /// 1 to 1,000 events.
    pub events: Vec<EventInput>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StoredResults {
    /// One per item sent, in order.
    pub results: Vec<Stored>,
}

/// Add records (credentials, enrollments, bookings, passes, subscriptions, orders) to contacts.
///
/// A record with an `external_id` that was sent before updates that record.
#[utoipa::path(
    post, path = "/records", tag = "records",
    request_body = RecordBatch,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request change nothing twice.")),
    responses(
        (status = 200, body = StoredResults),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 422, description = "Invalid fields or unknown contacts; nothing was stored", body = ErrorBody),
    )
)]
async fn add_records(
    State(h): State<Herald>,
    ApiOrg(org): ApiOrg,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let batch: RecordBatch = parse(&headers, &body)?;
    // Validated inside, with the contacts looked up: one pass, one set of field errors.
    idempotent(&h, org, &headers, "records", &body, async |tx| {
        Ok(StoredResults {
            results: ingest::add_records(tx, org, &batch.records).await?,
        })
    })
    .await
}

/// Record events contacts did (`course_completed`, `invoice_paid`...).
///
/// An event with an `external_id` that was received before is not stored again.
#[utoipa::path(
    post, path = "/events", tag = "records",
    request_body = EventBatch,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request change nothing twice.")),
    responses(
        (status = 200, body = StoredResults),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 422, description = "Invalid fields or unknown contacts; nothing was stored", body = ErrorBody),
    )
)]
async fn add_events(
    State(h): State<Herald>,
    ApiOrg(org): ApiOrg,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let batch: EventBatch = parse(&headers, &body)?;
    // Validated inside, with the contacts looked up: one pass, one set of field errors.
    idempotent(&h, org, &headers, "events", &body, async |tx| {
        Ok(StoredResults {
            results: ingest::add_events(tx, org, &batch.events, Utc::now()).await?,
        })
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Audiences and segments

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AudienceSize {
    pub count: u64,
    /// Up to five contacts of the audience.
    pub sample: Vec<SampleContact>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SampleContact {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
}

/// Count the contacts an audience (a filter tree) reaches now.
#[utoipa::path(
    post, path = "/audience/count", tag = "audiences",
    request_body = Filter,
    responses(
        (status = 200, body = AudienceSize),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 422, description = "The tree is too deep or too large", body = ErrorBody),
    )
)]
async fn count_audience(
    State(h): State<Herald>,
    ApiOrg(org): ApiOrg,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<AudienceSize>, ApiError> {
    let filter: Filter = parse(&headers, &body)?;
    let scope = Scope {
        org_id: org,
        assigned_to: None,
    };
    let now = Utc::now();
    let count = audience::count(&h.db, scope, &filter, now).await?;
    let sample = audience::sample(&h.db, scope, &filter, now, 5)
        .await?
        .into_iter()
        .map(|c| SampleContact {
            id: c.id,
            name: c.display_name(),
            email: c.email,
        })
        .collect();
    Ok(Json(AudienceSize { count, sample }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSegment {
    pub name: String,
    pub filter: Filter,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Segment {
    pub id: i64,
    pub name: String,
    pub filter: Filter,
    /// Members as of the last refresh (every minute).
    pub members: u64,
    /// Contacts that entered in the last 7 days.
    pub entered_recently: u64,
}

impl From<segments::SegmentSummary> for Segment {
    fn from(s: segments::SegmentSummary) -> Self {
        Segment {
            id: s.id,
            name: s.name,
            filter: s.filter,
            members: s.members,
            entered_recently: s.entered_recently,
        }
    }
}

/// Save a segment: a named audience whose entering contacts can trigger campaigns.
#[utoipa::path(
    post, path = "/segments", tag = "audiences",
    request_body = NewSegment,
    responses(
        (status = 201, body = Segment),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
async fn create_segment(
    State(h): State<Herald>,
    ApiOrg(org): ApiOrg,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Segment>), ApiError> {
    let new: NewSegment = parse(&headers, &body)?;
    let now = Utc::now();
    let created = segments::create(&h.db, org, &new.name, &new.filter, None, now).await?;
    let summary = segments::summary(&h.db, org, created.id, now).await?;
    Ok((StatusCode::CREATED, Json(summary.into())))
}

/// List saved segments with their member counts.
#[utoipa::path(
    get, path = "/segments", tag = "audiences",
    responses((status = 200, body = Vec<Segment>), (status = 401, body = ErrorBody))
)]
async fn list_segments(
    State(h): State<Herald>,
    ApiOrg(org): ApiOrg,
) -> Result<Json<Vec<Segment>>, ApiError> {
    Ok(Json(
        segments::list(&h.db, org, Utc::now())
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}
