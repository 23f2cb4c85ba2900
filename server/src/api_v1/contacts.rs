//! `/contacts`: create, update, list and read contacts.

use super::auth::{ApiActor, idempotent};
use super::error::{ApiError, ErrorBody, parse};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Utc;
use herald_core::domain::ingest::{ContactInput, Outcome};
use herald_core::domain::{ContactDetail, ContactPage};
use herald_core::ingest;
use herald_core::{Herald, contacts};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

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
pub(super) async fn upsert_contacts(
    State(h): State<Herald>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let batch: ContactBatch = parse(&headers, &body)?;
    let valid = ingest::validate_batch("contacts", &batch.contacts, ingest::validate_contact)
        .map_err(ApiError::fields)?;
    idempotent(&h, &actor, &headers, "contacts", &body, async |tx| {
        let stored = ingest::upsert_contacts(tx, &actor, &valid, "api", Utc::now()).await?;
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
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u64>,
}

/// List contacts, 50 per page, sorted by last name.
#[utoipa::path(
    get, path = "/contacts", tag = "contacts",
    params(ListParams),
    responses(
        (status = 200, body = ContactPage),
        (status = 400, description = "Malformed query", body = ErrorBody),
        (status = 422, description = "The page is out of range", body = ErrorBody),
        (status = 401, body = ErrorBody),
    )
)]
pub(super) async fn list_contacts(
    State(h): State<Herald>,
    ApiActor(actor): ApiActor,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ContactPage>, ApiError> {
    let Query(params) = params
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_query", e.body_text()))?;
    let page = contacts::list(
        &h.db,
        &actor,
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
pub(super) async fn get_contact(
    State(h): State<Herald>,
    ApiActor(actor): ApiActor,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> Result<Json<ContactDetail>, ApiError> {
    let Path(id) = id.map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_path",
            "The contact id must be a number.",
        )
    })?;
    Ok(Json(contacts::detail(&h.db, &actor, id).await?))
}
