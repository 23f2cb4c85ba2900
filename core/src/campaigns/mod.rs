//! Campaigns: the list and report pages read them here; [`builder`] stores drafts, checks
//! for duplicates, activates and deactivates.
//!
//! Campaigns as the list and report pages read them. Numbers come from the counters the
//! database keeps with the per-recipient `message` rows ([`crate::reports`]).

pub mod builder;
pub mod references;
pub mod send_now;

use crate::domain::access::{Action, Actor};
use crate::domain::{
    CampaignDetail, CampaignKind, CampaignStatus, CampaignSummary, Channel, DeliveryStats,
};
use crate::entity::{app_user, campaign, campaign_send, template};
use crate::{Error, Result};
use sea_orm::sea_query::{NullOrdering, Order};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use std::collections::HashMap;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CampaignFilter {
    pub status: Option<CampaignStatus>,
    pub goal: Option<String>,
    pub kind: Option<CampaignKind>,
    pub channel: Option<Channel>,
}

/// Delivery statistics per campaign of the organisation, for the given campaigns: the
/// counters the database keeps with the message rows.
async fn stats(
    db: &DatabaseConnection,
    org_id: i64,
    campaign_ids: &[i64],
) -> Result<HashMap<i64, DeliveryStats>> {
    crate::reports::campaign_stats(db, org_id, campaign_ids).await
}

fn summary(c: &campaign::Model, stats: DeliveryStats) -> CampaignSummary {
    CampaignSummary {
        id: c.id,
        name: c.name.clone(),
        kind: c.kind,
        message_type: c.message_type,
        channel: c.channel,
        status: c.status,
        goal: c.goal.clone(),
        last_sent_at: c.last_sent_at,
        stats,
    }
}

/// The organisation's campaigns, most recently sent first (never-sent ones last, newest first).
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: CampaignFilter,
) -> Result<Vec<CampaignSummary>> {
    actor.require(Action::ReadCampaigns)?;
    let org_id = actor.org_id();
    let mut query = campaign::Entity::find().filter(campaign::Column::OrgId.eq(org_id));
    if let Some(status) = filter.status {
        query = query.filter(campaign::Column::Status.eq(status));
    }
    if let Some(goal) = filter.goal {
        query = query.filter(campaign::Column::Goal.eq(goal));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(campaign::Column::Kind.eq(kind));
    }
    if let Some(channel) = filter.channel {
        query = query.filter(campaign::Column::Channel.eq(channel));
    }
    let campaigns = query
        .order_by_with_nulls(
            campaign::Column::LastSentAt,
            Order::Desc,
            NullOrdering::Last,
        )
        .order_by_desc(campaign::Column::CreatedAt)
        .order_by_desc(campaign::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i64> = campaigns.iter().map(|c| c.id).collect();
    let stats = stats(db, org_id, &ids).await?;
    Ok(campaigns
        .iter()
        .map(|c| summary(c, stats.get(&c.id).copied().unwrap_or_default()))
        .collect())
}

/// One campaign of the organisation, or `NotFound` (also when it belongs to another one).
/// `daily_at`: the hour of the daily run (for the next run of a campaign timed by record dates).
pub async fn get(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    daily_at: chrono::NaiveTime,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<CampaignDetail> {
    actor.require(Action::ReadCampaigns)?;
    let org_id = actor.org_id();
    let c = campaign::Entity::find_by_id(id)
        .filter(campaign::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound("campaign"))?;
    let stats = stats(db, org_id, &[c.id])
        .await?
        .remove(&c.id)
        .unwrap_or_default();
    let template = match c.template_id {
        Some(t) => {
            template::Entity::find_by_id(t)
                .filter(template::Column::OrgId.eq(org_id))
                .one(db)
                .await?
        }
        None => None,
    };
    let created_by = match c.created_by {
        Some(u) => app_user::Entity::find_by_id(u)
            .one(db)
            .await?
            .map(|u| u.name),
        None => None,
    };
    let sends = campaign_send::Entity::find()
        .filter(campaign_send::Column::CampaignId.eq(c.id))
        .count(db)
        .await?;
    let org = crate::delivery::find_org(db, org_id).await?;
    let trigger = c.trigger.as_ref().map(|t| match t {
        crate::domain::trigger::Trigger::Recurring { .. } => {
            format!("{} ({})", t.describe(), org.time_zone)
        }
        crate::domain::trigger::Trigger::Relative { .. } => {
            format!(
                "{}, checked daily at {} UTC",
                t.describe(),
                daily_at.format("%H:%M")
            )
        }
        _ => t.describe(),
    });
    let next_run_at = crate::delivery::scheduler::next_run_of(&c, daily_at, now);
    let paused = crate::delivery::sending::outage(db, org_id, c.channel)
        .await?
        .filter(|_| c.status == CampaignStatus::Active || stats.waiting > 0)
        .map(|(since, error)| {
            format!(
                "Sending is paused: the {} provider is not taking messages since {} ({error}). \
                 Nothing is lost: it resumes by itself when the provider answers again.",
                c.channel.label().to_lowercase(),
                since.format("%Y-%m-%d %H:%M UTC")
            )
        });
    let open_actions = crate::delivery::actions::open_count(db, actor, c.id).await?;
    Ok(CampaignDetail {
        open_actions,
        paused,
        trigger,
        next_run_at,
        summary: summary(&c, stats),
        description: c.description,
        goal: c.goal,
        template_name: template.as_ref().map(|t| t.name.clone()),
        subject: template.map(|t| t.subject),
        created_by,
        created_at: c.created_at,
        activated_at: c.activated_at,
        sends: sends as i64,
    })
}
