//! Manual actions: a message that cannot be sent (the contact has no address for the channel,
//! or the provider refused the address for good) becomes a to-do for the campaign's creator,
//! written in the same transaction that records the failure. From the Actions page they fix
//! the contact's address and send (a new message of the same campaign, through the outbox), or
//! ignore it; several at once.
//!
//! Account managers see and handle the actions of the contacts assigned to them; everyone else
//! with access to campaigns sees the organisation's, and may narrow them to their own
//! campaigns'.

use super::{Targets, start_send};
use crate::domain::access::{Action, Actor};
use crate::domain::actions::{ActionFilter, ActionPage, ActionRow, Resolved};
use crate::domain::{ActionState, Channel, DeliveryState, EmailAddress, SkipReason};
use crate::entity::{action, campaign, contact, message};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::collections::HashMap;

pub const PER_PAGE: u64 = 50;
const MAX_PAGE: u64 = 1_000_000;
/// The most actions resolved by one request.
pub const MAX_AT_ONCE: usize = 500;

/// Whether a message needs someone: a failure, a permanent bounce (the address is wrong), or a
/// skip for a missing address (the other skip reasons are the rules working).
fn needs_someone(m: &message::Model) -> bool {
    !m.seed
        && m.contact_id.is_some()
        && (m.state == DeliveryState::Failed
            || (m.state == DeliveryState::Bounced
                && m.bounce_type == Some(crate::domain::BounceType::Permanent))
            || (m.state == DeliveryState::Skipped && m.skip_reason == Some(SkipReason::NoAddress)))
}

fn reason_of(m: &message::Model, channel: Channel) -> String {
    match m.state {
        DeliveryState::Skipped => match channel {
            Channel::Email => "No email address".into(),
            Channel::Sms => "No phone number".into(),
        },
        DeliveryState::Bounced => format!(
            "The address bounced for good: {}",
            m.error.as_deref().unwrap_or("no reason given")
        ),
        _ => match &m.error {
            Some(e) => format!("The provider refused it: {e}"),
            None => "Could not be sent".into(),
        },
    }
}

/// Opens an action for each of `messages` that could not be sent (others are passed over), in
/// the caller's transaction; a message never gets two.
pub(crate) async fn open(
    db: &impl ConnectionTrait,
    c: &campaign::Model,
    messages: &[message::Model],
    now: DateTime<Utc>,
) -> Result<()> {
    let rows: Vec<action::ActiveModel> = messages
        .iter()
        .filter(|m| needs_someone(m))
        .map(|m| action::ActiveModel {
            org_id: Set(m.org_id),
            campaign_id: Set(m.campaign_id),
            message_id: Set(Some(m.id)),
            contact_id: Set(m.contact_id.unwrap_or_default()),
            channel: Set(c.channel),
            reason: Set(reason_of(m, c.channel)),
            owner_id: Set(c.created_by),
            state: Set(ActionState::Todo),
            created_at: Set(now),
            ..Default::default()
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    action::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(action::Column::MessageId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// [`open`] for messages `ids`, read first.
pub(crate) async fn open_for(
    db: &impl ConnectionTrait,
    c: &campaign::Model,
    ids: Vec<i64>,
    now: DateTime<Utc>,
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let messages = message::Entity::find()
        .filter(message::Column::Id.is_in(ids))
        .all(db)
        .await?;
    open(db, c, &messages, now).await
}

fn scoped(actor: &Actor) -> sea_orm::Select<action::Entity> {
    let mut q = action::Entity::find().filter(action::Column::OrgId.eq(actor.org_id()));
    if let Some(user) = actor.assigned_to() {
        q = q.filter(
            action::Column::ContactId.in_subquery(
                Query::select()
                    .column(contact::Column::Id)
                    .from(contact::Entity)
                    .and_where(contact::Column::OrgId.eq(actor.org_id()))
                    .and_where(contact::Column::AssignedUserId.eq(user))
                    .to_owned(),
            ),
        );
    }
    q
}

/// Page `page` (from 1) of the actions `actor` may see that match `filter`, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    filter: &ActionFilter,
    page: u64,
) -> Result<ActionPage> {
    actor.require(Action::ReadCampaigns)?;
    if !(1..=MAX_PAGE).contains(&page) {
        return Err(Error::Invalid(format!(
            "The page must be between 1 and {MAX_PAGE}."
        )));
    }
    let mut q = scoped(actor);
    if filter.mine {
        q = q.filter(action::Column::OwnerId.eq(actor.user_id().unwrap_or(-1)));
    }
    // The campaigns to filter by: those with actions the actor may see (before this filter).
    let campaign_ids: Vec<i64> = q
        .clone()
        .select_only()
        .column(action::Column::CampaignId)
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    if let Some(id) = filter.campaign_id {
        q = q.filter(action::Column::CampaignId.eq(id));
    }
    if let Some(ch) = filter.channel {
        q = q.filter(action::Column::Channel.eq(ch));
    }
    if let Some(state) = filter.state {
        q = q.filter(action::Column::State.eq(state));
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(action::Column::Id)
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
        .all(db)
        .await?;
    let names = campaign_names(db, actor.org_id(), &campaign_ids).await?;
    let contacts = contacts_of(db, actor.org_id(), &rows).await?;
    let mut campaigns: Vec<(i64, String)> = names.clone().into_iter().collect();
    campaigns.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(ActionPage {
        total,
        page,
        pages: Ord::max(total.div_ceil(PER_PAGE), 1),
        rows: rows
            .into_iter()
            .map(|a| {
                let k = contacts.get(&a.contact_id);
                ActionRow {
                    id: a.id,
                    campaign_id: a.campaign_id,
                    campaign_name: names
                        .get(&a.campaign_id)
                        .cloned()
                        .unwrap_or_else(|| "Untitled".into()),
                    contact_id: a.contact_id,
                    contact_name: k.map_or_else(String::new, |k| k.display_name()),
                    address: k.and_then(|k| super::address(k, a.channel)),
                    channel: a.channel,
                    reason: a.reason,
                    state: a.state,
                    created_at: a.created_at,
                    resolved_at: a.resolved_at,
                }
            })
            .collect(),
        campaigns,
    })
}

/// The contacts of `actions`, by id.
async fn contacts_of(
    db: &impl ConnectionTrait,
    org_id: i64,
    actions: &[action::Model],
) -> Result<HashMap<i64, contact::Model>> {
    Ok(contact::Entity::find()
        .filter(contact::Column::OrgId.eq(org_id))
        .filter(contact::Column::Id.is_in(actions.iter().map(|a| a.contact_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|k| (k.id, k))
        .collect())
}

async fn campaign_names(
    db: &impl ConnectionTrait,
    org_id: i64,
    ids: &[i64],
) -> Result<HashMap<i64, String>> {
    Ok(campaign::Entity::find()
        .select_only()
        .column(campaign::Column::Id)
        .column(campaign::Column::Name)
        .filter(campaign::Column::OrgId.eq(org_id))
        .filter(campaign::Column::Id.is_in(ids.iter().copied()))
        .into_tuple::<(i64, Option<String>)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, name)| (id, name.unwrap_or_else(|| "Untitled".into())))
        .collect())
}

/// How many actions of campaign `campaign_id` are still to do (what `actor` may see).
pub async fn open_count(db: &impl ConnectionTrait, actor: &Actor, campaign_id: i64) -> Result<u64> {
    actor.require(Action::ReadCampaigns)?;
    Ok(scoped(actor)
        .filter(action::Column::CampaignId.eq(campaign_id))
        .filter(action::Column::State.eq(ActionState::Todo))
        .count(db)
        .await?)
}

/// The actions of contact `contact_id` (its timeline shows them).
pub(crate) async fn of_contact(
    db: &impl ConnectionTrait,
    org_id: i64,
    contact_id: i64,
) -> Result<Vec<action::Model>> {
    Ok(action::Entity::find()
        .filter(action::Column::OrgId.eq(org_id))
        .filter(action::Column::ContactId.eq(contact_id))
        .order_by_desc(action::Column::Id)
        .limit(50)
        .all(db)
        .await?)
}

async fn todo(db: &impl ConnectionTrait, actor: &Actor, ids: &[i64]) -> Result<Vec<action::Model>> {
    if ids.is_empty() {
        return Err(Error::Invalid("Select at least one action.".into()));
    }
    if ids.len() > MAX_AT_ONCE {
        return Err(Error::Invalid(format!(
            "Handle at most {MAX_AT_ONCE} actions at once."
        )));
    }
    Ok(scoped(actor)
        .filter(action::Column::Id.is_in(ids.iter().copied()))
        .filter(action::Column::State.eq(ActionState::Todo))
        .order_by_asc(action::Column::Id)
        .all(db)
        .await?)
}

/// Ignores the to-do actions among `ids`.
pub async fn ignore(
    db: &DatabaseConnection,
    actor: &Actor,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<Resolved> {
    actor.require(Action::SendMessages)?;
    let open = todo(db, actor, ids).await?;
    let done = action::Entity::update_many()
        .col_expr(action::Column::State, Expr::value(ActionState::Ignored))
        .col_expr(action::Column::ResolvedAt, Expr::value(now))
        .col_expr(action::Column::ResolvedBy, Expr::value(actor.user_id()))
        .filter(action::Column::Id.is_in(open.iter().map(|a| a.id)))
        .filter(action::Column::State.eq(ActionState::Todo))
        .exec(db)
        .await?;
    Ok(Resolved {
        ignored: done.rows_affected,
        ..Resolved::default()
    })
}

/// Sends the to-do actions among `ids` again, each as a new message of its campaign to its
/// contact (decided by the same rule as every message); an action whose contact still has no
/// address for the channel stays to do.
pub async fn send(
    db: &DatabaseConnection,
    actor: &Actor,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<Resolved> {
    actor.require(Action::SendMessages)?;
    let open = todo(db, actor, ids).await?;
    let contacts = contacts_of(db, actor.org_id(), &open).await?;
    let mut report = Resolved::default();
    for a in open {
        let Some(k) = contacts.get(&a.contact_id) else {
            continue;
        };
        if super::address(k, a.channel).is_none() {
            report.still_missing.push(k.display_name());
            continue;
        }
        let c = campaign::Entity::find_by_id(a.campaign_id)
            .one(db)
            .await?
            .ok_or(Error::NotFound("campaign"))?;
        let _writer = crate::db::write_lock(db).await;
        let txn = crate::db::begin_write(db).await?;
        // Claim the action first (the transaction's first statement writes): a second click
        // finds it done and sends nothing.
        let claimed = action::Entity::update_many()
            .col_expr(action::Column::State, Expr::value(ActionState::Sent))
            .col_expr(action::Column::ResolvedAt, Expr::value(now))
            .col_expr(action::Column::ResolvedBy, Expr::value(actor.user_id()))
            .filter(action::Column::Id.eq(a.id))
            .filter(action::Column::State.eq(ActionState::Todo))
            .exec(&txn)
            .await?;
        if claimed.rows_affected == 1 {
            start_send(
                &txn,
                &c,
                &format!("action:{}", a.id),
                Targets::Contacts(vec![a.contact_id]),
                now,
            )
            .await?;
            report.sent += 1;
        }
        txn.commit().await?;
    }
    Ok(report)
}

/// Gives action `id`'s contact the address `address` for the action's channel, then sends it.
pub async fn fix_and_send(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    address: &str,
    now: DateTime<Utc>,
) -> Result<Resolved> {
    actor.require(Action::WriteContacts)?;
    let a = todo(db, actor, &[id])
        .await?
        .into_iter()
        .next()
        .ok_or(Error::NotFound("action"))?;
    let k = contact::Entity::find_by_id(a.contact_id)
        .filter(contact::Column::OrgId.eq(actor.org_id()))
        .one(db)
        .await?
        .ok_or(Error::NotFound("contact"))?;
    let mut change: contact::ActiveModel = k.into();
    match a.channel {
        Channel::Email => {
            let email = EmailAddress::parse(address).map_err(|e| Error::Invalid(e.to_string()))?;
            let taken = contact::Entity::find()
                .filter(contact::Column::OrgId.eq(actor.org_id()))
                .filter(contact::Column::Email.eq(email.as_str()))
                .filter(contact::Column::Id.ne(a.contact_id))
                .one(db)
                .await?;
            if let Some(other) = taken {
                return Err(Error::Invalid(format!(
                    "Another contact ({}) has the address {}.",
                    other.display_name(),
                    email.as_str()
                )));
            }
            change.email = Set(Some(email.as_str().to_owned()));
        }
        Channel::Sms => {
            let phone = address.trim();
            let digits = phone.chars().filter(char::is_ascii_digit).count();
            if !(7..=15).contains(&digits)
                || !phone
                    .chars()
                    .all(|c| c.is_ascii_digit() || " +-().".contains(c))
            {
                return Err(Error::Invalid(format!(
                    "“{phone}” is not a phone number: write it with its country code, e.g. \
                     +44 20 7946 0958."
                )));
            }
            change.phone = Set(Some(phone.to_owned()));
        }
    }
    change.updated_at = Set(now);
    change.update(db).await?;
    send(db, actor, &[id], now).await
}
