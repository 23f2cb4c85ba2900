//! Who is calling: the API key in `Authorization: Bearer`, and idempotent writes.

use super::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use herald_core::Herald;
use herald_core::domain::access::Actor;
use herald_core::ingest::idempotency;
use serde::Serialize;

/// The API key calling, as the actor core checks permissions for (its organisation and
/// scopes).
pub struct ApiActor(pub Actor);

impl FromRequestParts<Herald> for ApiActor {
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
        match herald_core::auth::api_keys::authenticate(&h.db, key).await? {
            Some(actor) => Ok(ApiActor(actor)),
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
pub(super) async fn idempotent<T, F>(
    h: &Herald,
    actor: &Actor,
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
    let answer =
        idempotency::run(
            &h.db,
            actor,
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
