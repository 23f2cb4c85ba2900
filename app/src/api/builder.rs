//! The campaign builder: options to pick from, load and save drafts, live duplicate warnings,
//! activation (with the problems in words), deactivation and approval.

use crate::error::AppError;
use herald_core::domain::campaign::Draft;
use herald_core::domain::duplicates::Conflict;
use herald_core::domain::template::TemplateSummary;
use herald_core::domain::{CampaignStatus, GroupSummary, ListSummary, Role};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

/// What the builder's pickers offer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuilderOptions {
    /// Custom templates only: system templates are never pickable.
    pub templates: Vec<TemplateSummary>,
    pub groups: Vec<GroupSummary>,
    pub segments: Vec<(i64, String)>,
    pub lists: Vec<ListSummary>,
    pub require_approval: bool,
    pub role: Role,
    /// The server's clock, for checks like "the send time is in the past".
    pub now: chrono::DateTime<chrono::Utc>,
}

/// A stored campaign as the builder opens it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuilderCampaign {
    pub id: i64,
    pub draft: Draft,
    pub status: CampaignStatus,
    pub approved: bool,
}

#[server(endpoint = "builder_options")]
pub async fn get_builder_options() -> Result<BuilderOptions, AppError> {
    let (h, user) = super::ssr::require_marketer().await?;
    options_for(&h, &user).await
}

/// Everything the builder opens with, in one request: the options, the stored campaign (with
/// `id`), or a new draft whose audience is the contact-list selection (with `selection`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuilderStart {
    pub options: BuilderOptions,
    pub campaign: Option<BuilderCampaign>,
    pub selection: Option<herald_core::domain::audience::Filter>,
}

#[server(endpoint = "open_builder", input = Json)]
pub async fn open_builder(
    id: Option<i64>,
    selection: Option<(herald_core::domain::ContactFilter, Vec<i64>, bool)>,
) -> Result<BuilderStart, AppError> {
    let (h, user) = super::ssr::require_marketer().await?;
    let options = options_for(&h, &user).await?;
    let campaign = match id {
        Some(id) => {
            let (draft, status, approved) =
                herald_core::campaigns::builder::load_full(&h.db, user.org_id, id).await?;
            Some(BuilderCampaign {
                id,
                draft,
                status,
                approved,
            })
        }
        None => None,
    };
    let selection = match selection {
        Some((filter, ids, all)) => {
            let scope = herald_core::audience::Scope::for_user(&user);
            Some(super::contacts::selection_filter(&h, scope, filter, ids, all).await?)
        }
        None => None,
    };
    Ok(BuilderStart {
        options,
        campaign,
        selection,
    })
}

#[cfg(feature = "ssr")]
async fn options_for(
    h: &herald_core::Herald,
    user: &herald_core::domain::CurrentUser,
) -> Result<BuilderOptions, AppError> {
    let db = &h.db;
    let segments =
        herald_core::audience::segments::list(db, user.org_id, chrono::Utc::now()).await?;
    Ok(BuilderOptions {
        templates: herald_core::templates::list(db, user.org_id, true).await?,
        groups: herald_core::contacts::groups::list(db, user.org_id).await?,
        segments: segments.into_iter().map(|s| (s.id, s.name)).collect(),
        lists: herald_core::contacts::lists::all(db, user.org_id).await?,
        require_approval: herald_core::campaigns::builder::requires_approval(db, user.org_id)
            .await?,
        role: user.role,
        now: chrono::Utc::now(),
    })
}

#[server(endpoint = "load_builder")]
pub async fn load_builder(id: i64) -> Result<BuilderCampaign, AppError> {
    let (h, user) = super::ssr::require_marketer().await?;
    let (draft, status, approved) =
        herald_core::campaigns::builder::load_full(&h.db, user.org_id, id).await?;
    Ok(BuilderCampaign {
        id,
        draft,
        status,
        approved,
    })
}

/// Saves the builder's state; answers the campaign's id.
#[server(endpoint = "save_campaign", input = Json)]
pub async fn save_campaign(id: Option<i64>, draft: Draft) -> Result<i64, AppError> {
    let (h, user) = super::ssr::require_marketer().await?;
    Ok(herald_core::campaigns::builder::save(&h.db, &user, id, &draft).await?)
}

/// The live duplicate warnings for the draft being built.
#[server(endpoint = "campaign_conflicts", input = Json)]
pub async fn campaign_conflicts(id: Option<i64>, draft: Draft) -> Result<Vec<Conflict>, AppError> {
    let (h, user) = super::ssr::require_marketer().await?;
    let scope = herald_core::audience::Scope::for_user(&user);
    Ok(
        herald_core::campaigns::builder::conflicts(&h.db, scope, id, &draft, chrono::Utc::now())
            .await?,
    )
}

/// What stops a saved campaign from being activated now, in words.
#[server(endpoint = "campaign_problems")]
pub async fn campaign_problems(id: i64) -> Result<Vec<String>, AppError> {
    let (h, user) = super::ssr::require_marketer().await?;
    Ok(herald_core::campaigns::builder::activation_problems(&h.db, &user, id).await?)
}

#[server(endpoint = "activate_campaign")]
pub async fn activate_campaign(id: i64) -> Result<(), AppError> {
    let (h, user) = super::ssr::require_marketer().await?;
    Ok(herald_core::campaigns::builder::activate(&h.db, &user, id).await?)
}

#[server(endpoint = "deactivate_campaign")]
pub async fn deactivate_campaign(id: i64) -> Result<(), AppError> {
    let (h, user) = super::ssr::require_marketer().await?;
    Ok(herald_core::campaigns::builder::deactivate(&h.db, &user, id).await?)
}

#[server(endpoint = "approve_campaign")]
pub async fn approve_campaign(id: i64) -> Result<(), AppError> {
    let (h, user) = super::ssr::require_admin().await?;
    Ok(herald_core::campaigns::builder::approve(&h.db, &user, id).await?)
}

/// Whether marketers' campaigns need an admin's approval before activation.
#[server(endpoint = "set_require_approval")]
pub async fn set_require_approval(on: Option<String>) -> Result<(), AppError> {
    let (h, user) = super::ssr::require_admin().await?;
    let on = on.is_some_and(|v| v == "on" || v == "true");
    Ok(herald_core::campaigns::builder::set_require_approval(&h.db, &user, on).await?)
}
