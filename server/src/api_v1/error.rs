//! Error answers: every 4xx and 5xx is JSON naming what was wrong, and bodies are parsed so
//! that a mistake names its field.

use axum::Json;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use herald_core::domain::ingest::FieldError;
use herald_core::ingest::IngestError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
    pub(super) status: StatusCode,
    body: ErrorBody,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
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

    pub(super) fn fields(fields: Vec<FieldError>) -> Self {
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
            E::Forbidden(message) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", message),
            E::NotFound(what) => ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("No such {what}."),
            ),
            E::Invalid(message) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
            }
            E::Upload(problem) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                problem.message(&[]),
            ),
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
pub(super) fn parse<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, ApiError> {
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
