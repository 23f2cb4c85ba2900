//! Run notifications: when a run of a campaign is done (every message sent, skipped or failed),
//! the person who created the campaign is told in the app, with the numbers sent and not sent
//! and the run's outcome (fully successful, partially successful, failed), linking to the
//! campaign and its actions. Written in the transaction that marks the run complete, once per
//! run. Runs for one contact at a time (an event, a record date, an action sent again) are not
//! reported one by one: they would bury the rest.

use crate::domain::access::{Action, Actor};
use crate::domain::actions::{NotificationRow, Notifications, outcome};
use crate::domain::{DeliveryState, SkipReason};
use crate::entity::{campaign, campaign_send, message, notification};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

/// Tells the creator of `send`'s campaign that it is done.
pub(crate) async fn run_done(
    db: &impl ConnectionTrait,
    send: &campaign_send::Model,
    now: DateTime<Utc>,
) -> Result<()> {
    if send.targeted {
        return Ok(());
    }
    let Some(c) = campaign::Entity::find_by_id(send.campaign_id)
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let Some(user_id) = c.created_by else {
        return Ok(());
    };
    let rows: Vec<(DeliveryState, Option<SkipReason>, i64)> = message::Entity::find()
        .select_only()
        .column(message::Column::State)
        .column(message::Column::SkipReason)
        .column_as(Expr::col(message::Column::Id).count(), "n")
        .filter(message::Column::SendId.eq(send.id))
        .filter(message::Column::Seed.eq(false))
        .group_by(message::Column::State)
        .group_by(message::Column::SkipReason)
        .into_tuple()
        .all(db)
        .await?;
    let (mut sent, mut to_act, mut skipped) = (0u64, 0u64, 0u64);
    for (state, reason, n) in rows {
        let n = u64::try_from(n).unwrap_or(0);
        match (state, reason) {
            (DeliveryState::Failed, _) | (DeliveryState::Skipped, Some(SkipReason::NoAddress)) => {
                to_act += n
            }
            (DeliveryState::Skipped, _) => skipped += n,
            _ => sent += n,
        }
    }
    let result = outcome(sent, to_act, skipped);
    let name = c.name.clone().unwrap_or_else(|| "Untitled".into());
    let mut body = format!("“{name}”: {sent} sent, {} not sent.", to_act + skipped);
    if to_act > 0 {
        body += &format!(" {to_act} could not be sent and wait in Actions.");
    }
    if skipped > 0 {
        body += &format!(" {skipped} left out by the sending rules (consent, suppression, caps).");
    }
    notification::Entity::insert(notification::ActiveModel {
        org_id: Set(c.org_id),
        user_id: Set(user_id),
        campaign_id: Set(Some(c.id)),
        send_id: Set(Some(send.id)),
        outcome: Set(result),
        title: Set(result.label().to_owned()),
        body: Set(body),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([notification::Column::SendId, notification::Column::UserId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

fn user_of(actor: &Actor) -> Result<i64> {
    actor
        .user_id()
        .ok_or_else(|| Error::Invalid("Notifications are for people signed in.".into()))
}

/// The signed-in user's unread count and latest notifications.
pub async fn list(db: &impl ConnectionTrait, actor: &Actor, limit: u64) -> Result<Notifications> {
    actor.require(Action::ReadCampaigns)?;
    let user = user_of(actor)?;
    let mine = || {
        notification::Entity::find()
            .filter(notification::Column::OrgId.eq(actor.org_id()))
            .filter(notification::Column::UserId.eq(user))
    };
    let unread = mine()
        .filter(notification::Column::ReadAt.is_null())
        .count(db)
        .await?;
    let latest = mine()
        .order_by_desc(notification::Column::Id)
        .limit(limit.clamp(1, 100))
        .all(db)
        .await?
        .into_iter()
        .map(|n| NotificationRow {
            id: n.id,
            campaign_id: n.campaign_id,
            outcome: n.outcome,
            title: n.title,
            body: n.body,
            created_at: n.created_at,
            read: n.read_at.is_some(),
        })
        .collect();
    Ok(Notifications { unread, latest })
}

/// Marks the signed-in user's notifications read (all of them).
pub async fn mark_read(
    db: &impl ConnectionTrait,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<u64> {
    actor.require(Action::ReadCampaigns)?;
    let user = user_of(actor)?;
    Ok(notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(now))
        .filter(notification::Column::OrgId.eq(actor.org_id()))
        .filter(notification::Column::UserId.eq(user))
        .filter(notification::Column::ReadAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}
