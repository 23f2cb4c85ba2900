//! The campaign builder: options to pick from, load and save drafts, live duplicate warnings,
//! activation (with the problems in words), deactivation and approval.

use crate::error::AppError;
use herald_core::domain::campaign::{Draft, Saved};
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
    /// The organisation's time zone: recurring campaigns send at a local time in it.
    pub time_zone: String,
}

/// A stored campaign as the builder opens it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuilderCampaign {
    pub id: i64,
    /// What the user edits: the pending changes of an active campaign when there are some.
    pub draft: Draft,
    pub status: CampaignStatus,
    pub approved: bool,
    /// The draft holds changes to the active campaign that are not live yet.
    pub pending: bool,
}

#[server(endpoint = "builder_options")]
pub async fn get_builder_options() -> Result<BuilderOptions, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    options_for(&h, &actor).await
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
    let (h, actor) = super::ssr::require_actor().await?;
    let options = options_for(&h, &actor).await?;
    let campaign = match id {
        Some(id) => Some(load(&h, &actor, id).await?),
        None => None,
    };
    let selection = match selection {
        Some((filter, ids, all)) => {
            Some(super::contacts::selection_filter(&h, &actor, filter, ids, all).await?)
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
    actor: &herald_core::domain::access::Actor,
) -> Result<BuilderOptions, AppError> {
    use herald_core::domain::access::Action;
    actor
        .require(Action::EditCampaigns)
        .map_err(herald_core::Error::from)?;
    let db = &h.db;
    Ok(BuilderOptions {
        templates: herald_core::templates::list(db, actor, true).await?,
        groups: herald_core::contacts::groups::list(db, actor).await?,
        segments: herald_core::audience::segments::names(db, actor).await?,
        lists: herald_core::contacts::lists::all(db, actor).await?,
        require_approval: herald_core::campaigns::builder::requires_approval(db, actor).await?,
        role: actor.role().unwrap_or(Role::Marketer),
        now: chrono::Utc::now(),
        time_zone: herald_core::auth::accounts::time_zone(db, actor).await?,
    })
}

#[cfg(feature = "ssr")]
async fn load(
    h: &herald_core::Herald,
    actor: &herald_core::domain::access::Actor,
    id: i64,
) -> Result<BuilderCampaign, AppError> {
    let loaded = herald_core::campaigns::builder::load(&h.db, actor, id).await?;
    Ok(BuilderCampaign {
        id,
        draft: loaded.draft,
        status: loaded.status,
        approved: loaded.approved,
        pending: loaded.pending,
    })
}

/// Saves the builder's state; answers the campaign's id and, for an active campaign, whether
/// the changes are live or wait (and for what).
#[server(endpoint = "save_campaign", input = Json)]
pub async fn save_campaign(id: Option<i64>, draft: Draft) -> Result<Saved, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    let now = chrono::Utc::now();
    Ok(herald_core::campaigns::builder::save(&h.db, &actor, id, &draft, now).await?)
}

/// Drops the changes waiting on an active campaign.
#[server(endpoint = "discard_pending")]
pub async fn discard_pending(id: i64) -> Result<(), AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::campaigns::builder::discard_pending(&h.db, &actor, id).await?)
}

/// The live duplicate warnings for the draft being built.
#[server(endpoint = "campaign_conflicts", input = Json)]
pub async fn campaign_conflicts(id: Option<i64>, draft: Draft) -> Result<Vec<Conflict>, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    let now = chrono::Utc::now();
    Ok(herald_core::campaigns::builder::conflicts(&h.db, &actor, id, &draft, now).await?)
}

/// What stops a saved campaign from being activated now, in words.
#[server(endpoint = "campaign_problems")]
pub async fn campaign_problems(id: i64) -> Result<Vec<String>, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    let now = chrono::Utc::now();
    Ok(herald_core::campaigns::builder::activation_problems(&h.db, &actor, id, now).await?)
}

#[server(endpoint = "activate_campaign")]
pub async fn activate_campaign(id: i64) -> Result<(), AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    let now = chrono::Utc::now();
    Ok(herald_core::campaigns::builder::activate(&h.db, &actor, id, now).await?)
}

#[server(endpoint = "deactivate_campaign")]
pub async fn deactivate_campaign(id: i64) -> Result<(), AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    let now = chrono::Utc::now();
    Ok(herald_core::campaigns::builder::deactivate(&h.db, &actor, id, now).await?)
}

#[server(endpoint = "approve_campaign")]
pub async fn approve_campaign(id: i64) -> Result<(), AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    let now = chrono::Utc::now();
    Ok(herald_core::campaigns::builder::approve(&h.db, &actor, id, now).await?)
}

/// Whether marketers' campaigns need an admin's approval before activation.
#[server(endpoint = "set_require_approval")]
pub async fn set_require_approval(on: Option<String>) -> Result<(), AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    let on = on.is_some_and(|v| v == "on" || v == "true");
    Ok(herald_core::campaigns::builder::set_require_approval(&h.db, &actor, on).await?)
}

/// The organisation's time zone (an IANA name such as Europe/Berlin).
#[server(endpoint = "set_time_zone")]
pub async fn set_time_zone(time_zone: String) -> Result<(), AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::auth::accounts::set_time_zone(&h.db, &actor, &time_zone).await?)
}
