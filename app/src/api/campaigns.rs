use crate::error::AppError;
use herald_core::domain::{CampaignDetail, CampaignSummary};
use leptos::prelude::*;

/// The organisation's campaigns; `status` narrows them ("active", "draft", ...).
#[server(endpoint = "list_campaigns")]
pub async fn list_campaigns(status: Option<String>) -> Result<Vec<CampaignSummary>, AppError> {
    let (h, user) = super::ssr::require_user().await?;
    let status = match status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(s.parse().map_err(|_| {
            AppError::from(herald_core::Error::Invalid(format!(
                "Unknown campaign status {s:?}."
            )))
        })?),
    };
    let filter = herald_core::campaigns::CampaignFilter { status };
    Ok(herald_core::campaigns::list(&h.db, user.org_id, filter).await?)
}

#[server(endpoint = "get_campaign")]
pub async fn get_campaign(id: i64) -> Result<CampaignDetail, AppError> {
    let (h, user) = super::ssr::require_user().await?;
    Ok(herald_core::campaigns::get(&h.db, user.org_id, id).await?)
}
