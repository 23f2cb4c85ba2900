//! `/records` and `/events`: what contacts hold and did.

use super::auth::{ApiActor, idempotent};
use super::error::{ApiError, ErrorBody, parse};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::Utc;
use herald_core::Herald;
use herald_core::domain::ingest::{EventInput, RecordInput};
use herald_core::ingest::{self, Stored};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
pub(super) async fn add_records(
    State(h): State<Herald>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let batch: RecordBatch = parse(&headers, &body)?;
    // Validated inside, with the contacts looked up: one pass, one set of field errors.
    idempotent(&h, &actor, &headers, "records", &body, async |tx| {
        Ok(StoredResults {
            results: ingest::add_records(tx, &actor, &batch.records).await?,
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
pub(super) async fn add_events(
    State(h): State<Herald>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let batch: EventBatch = parse(&headers, &body)?;
    // Validated inside, with the contacts looked up: one pass, one set of field errors.
    idempotent(&h, &actor, &headers, "events", &body, async |tx| {
        Ok(StoredResults {
            results: ingest::add_events(tx, &actor, &batch.events, Utc::now()).await?,
        })
    })
    .await
}
