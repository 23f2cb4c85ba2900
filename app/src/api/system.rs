//! Settings → System: the background job queue as the organisation's admins see it (their own
//! jobs and the instance's), and retrying a failed job.

use crate::error::AppError;
use herald_core::domain::system::QueueSummary;
use leptos::prelude::*;

#[server(endpoint = "system_status")]
pub async fn system_status() -> Result<QueueSummary, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::jobs::queue::summary(&h.db, &actor, h.now()).await?)
}

/// How the organisation is sending: providers, messages per second, what waits, outages.
#[server(endpoint = "sending_status")]
pub async fn sending_status() -> Result<herald_core::domain::system::SendingStatus, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::delivery::sending::status(&h, &actor).await?)
}

/// Runs a failed job again, with its attempts reset.
#[server(endpoint = "retry_job")]
pub async fn retry_job(id: i64) -> Result<(), AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::jobs::queue::retry(&h.db, &actor, id, h.now()).await?)
}
