//! `/audience/count` and `/segments`.

use super::auth::ApiActor;
use super::error::{ApiError, ErrorBody, parse};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use herald_core::Herald;
use herald_core::audience::{self, segments};
use herald_core::domain::audience::Filter;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
pub(super) async fn count_audience(
    State(h): State<Herald>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<AudienceSize>, ApiError> {
    let filter: Filter = parse(&headers, &body)?;
    let now = Utc::now();
    let count = audience::count(&h.db, &actor, &filter, now).await?;
    let sample = audience::sample(&h.db, &actor, &filter, now, 5)
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
pub(super) async fn create_segment(
    State(h): State<Herald>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Segment>), ApiError> {
    let new: NewSegment = parse(&headers, &body)?;
    let now = Utc::now();
    let created = segments::create(&h.db, &actor, &new.name, &new.filter, now).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// List saved segments with their member counts.
#[utoipa::path(
    get, path = "/segments", tag = "audiences",
    responses((status = 200, body = Vec<Segment>), (status = 401, body = ErrorBody))
)]
pub(super) async fn list_segments(
    State(h): State<Herald>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<Segment>>, ApiError> {
    Ok(Json(
        segments::list(&h.db, &actor, Utc::now())
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}
