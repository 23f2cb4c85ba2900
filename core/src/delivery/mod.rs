//! The delivery engine: a campaign's sends become one `message` row per recipient (the outbox),
//! and those rows become messages at a provider, each exactly once.
//!
//! - A **send** is one run of a campaign (`campaign_send`), keyed by its occurrence
//!   (`activation:<time>` for an immediate campaign, the time of a scheduled run, an event's
//!   id): [`start_send`] is idempotent, so the same run enqueued twice is one send.
//! - The **fan-out** ([`fanout::FanOut`], a job) streams the audience a page at a time and
//!   writes each recipient's row, `queued` or `skipped` with the reason
//!   [`crate::domain::delivery::decide`] gives; the page and the cursor that records it commit
//!   together, so a crash repeats no page and loses none. Seed copies are added at its end.
//! - **Senders** ([`sender::Deliver`], one job per shard of the send's rows) claim due queued
//!   rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL), decide again with fresh facts (an opt-out
//!   during a long send is honoured), commit `sending` (a batch in one statement), call the
//!   provider with no transaction open, then commit `sent` with the provider's id: the answers
//!   that arrived meanwhile in one transaction, while the next messages are handed over.
//!   Transient errors put the row back in the queue with a backoff and never count as
//!   failures; permanent ones fail it.
//! - **After a crash** a row left in `sending` is reconciled: the provider is asked whether it
//!   has the message (the development mailbox knows; SES will, by its tags); where it cannot
//!   tell (SMTP), the row goes back to the queue. So nothing is lost, and duplicates are at
//!   most the messages that were in flight, or taken and not yet recorded, when the process
//!   died: never more than the batch (50 rows) each sender had claimed.
//! - Every transition is a row of `message_event` with its time. A row's first state (queued
//!   or skipped) is dated by the row's `queued_at`.

pub mod actions;
pub mod compose;
pub mod dns;
pub mod domain_check;
pub mod events;
pub mod fanout;
pub mod mailbox;
pub mod notify;
pub mod outbox;
pub mod provider;
pub mod scheduler;
pub mod sender;
pub mod sending;
pub mod smtp;
pub mod test_send;
pub mod unsubscribe;

pub use provider::Provider;
pub use scheduler::first_run;

use crate::domain::delivery::{CAP_WINDOW_DAYS, Consent, Policy, Recipient};
use crate::domain::{CampaignStatus, Channel, DeliveryState, MessageType};
use crate::entity::{
    campaign, campaign_send, contact, message, message_event, organisation, send_target,
};
use crate::{Error, Result};
use chrono::{DateTime, Duration, FixedOffset, Offset, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QuerySelect, Set,
};
use std::collections::{HashMap, HashSet};

/// The rows of a send are split into this many shards, each delivered by its own job: the
/// instances (and the workers of one instance) share a large send.
pub const SHARDS: i64 = 4;

/// Whom a send is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Targets {
    /// The campaign's whole audience (immediate, timed and recurring runs).
    Audience,
    /// These contacts, as far as they are in the audience (an event's contact, the contacts
    /// who entered a segment).
    Contacts(Vec<i64>),
    /// The contacts whose records fell due, each with its record's fields (what `record.*`
    /// renders).
    Records(std::collections::BTreeMap<i64, serde_json::Value>),
}

/// Targeted sends this small are fanned out in the caller's transaction, so an event's
/// message is queued the moment the event is stored.
const INLINE: usize = 20;

/// Starts run `occurrence` of campaign `c` for `targets`, inside the caller's transaction:
/// creates the send and enqueues its fan-out and senders. Answers the send's id, or `None`
/// when that run was already started.
pub async fn start_send(
    db: &impl ConnectionTrait,
    c: &campaign::Model,
    occurrence: &str,
    targets: Targets,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    if c.workflow_version_id.is_some() {
        return crate::workflows::entry::enter(db, c, occurrence, targets, now).await;
    }
    let (targeted, mut ids, mut contexts) = match targets {
        Targets::Audience => (false, Vec::new(), std::collections::BTreeMap::new()),
        Targets::Contacts(ids) => (true, ids, std::collections::BTreeMap::new()),
        Targets::Records(records) => (
            true,
            records.keys().copied().collect(),
            records
                .into_iter()
                .map(|(id, r)| (id, serde_json::json!({ "record": r }).to_string()))
                .collect(),
        ),
    };
    ids.sort_unstable();
    ids.dedup();
    let shards = if targeted && ids.len() <= fanout::PAGE as usize {
        1
    } else {
        SHARDS
    };
    let inserted = campaign_send::Entity::insert(campaign_send::ActiveModel {
        org_id: Set(c.org_id),
        campaign_id: Set(c.id),
        started_at: Set(now),
        occurrence: Set(occurrence.to_owned()),
        cursor: Set(0),
        shards: Set(shards as i32),
        targeted: Set(targeted),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([
        campaign_send::Column::CampaignId,
        campaign_send::Column::Occurrence,
    ])
    .exec(db)
    .await?;
    let sea_orm::TryInsertResult::Inserted(done) = inserted else {
        return Ok(None);
    };
    let send_id = done.last_insert_id;
    for chunk in ids.chunks(1000) {
        send_target::Entity::insert_many(chunk.iter().map(|id| send_target::ActiveModel {
            send_id: Set(send_id),
            contact_id: Set(*id),
            context: Set(contexts.remove(id)),
        }))
        .exec_without_returning(db)
        .await?;
    }
    if targeted && ids.len() <= INLINE {
        let send = campaign_send::Entity::find_by_id(send_id)
            .one(db)
            .await?
            .ok_or(Error::NotFound("send"))?;
        let org = find_org(db, c.org_id).await?;
        let scope = crate::audience::Scope {
            org_id: c.org_id,
            assigned_to: None,
        };
        let contacts =
            crate::audience::page(db, scope, &c.audience, now, 0, INLINE as u64, Some(send_id))
                .await?;
        if !contacts.is_empty() {
            fanout::write(db, c, &policy(c, &org), &send, &contacts, now).await?;
        }
        fanout::finish(db, c, &send, now).await?;
    } else {
        crate::jobs::enqueue(
            db,
            now,
            &fanout::FanOut {
                org_id: c.org_id,
                send_id,
            },
        )
        .await?;
    }
    enqueue_senders(db, c, send_id, shards, now).await?;
    Ok(Some(send_id))
}

/// Enqueues the sender of each shard of send `send_id` (one pending each: a sender already
/// waiting takes the new rows too).
async fn enqueue_senders(
    db: &impl ConnectionTrait,
    c: &campaign::Model,
    send_id: i64,
    shards: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    for shard in 0..shards {
        crate::jobs::enqueue(
            db,
            now,
            &sender::Deliver {
                org_id: c.org_id,
                send_id,
                shard,
                // 1 (lowest) … 5 (highest); 3 when unset.
                priority: match c.settings.priority {
                    0 => 3,
                    p => i32::from(Ord::min(p, 5)),
                },
            },
        )
        .await?;
    }
    Ok(())
}

/// Has the senders of a long-lived send (a workflow's send step) take the rows just queued.
pub(crate) async fn deliver_send(
    db: &impl ConnectionTrait,
    c: &campaign::Model,
    send: &campaign_send::Model,
    now: DateTime<Utc>,
) -> Result<()> {
    enqueue_senders(db, c, send.id, i64::from(send.shards), now).await
}

/// What the campaign and its organisation ask of every message.
pub(crate) fn policy(c: &campaign::Model, org: &organisation::Model) -> Policy {
    Policy {
        message_type: c.message_type,
        channel: c.channel,
        frequency: c.settings.frequency,
        quiet_periods: c.settings.quiet_periods.clone(),
        expires_at: c.settings.expires_at,
        require_opt_in: org.require_opt_in,
        weekly_cap: org.weekly_cap.and_then(|n| u32::try_from(n).ok()),
    }
}

/// A contact's address for `channel`, normalised.
pub(crate) fn address(c: &contact::Model, channel: Channel) -> Option<String> {
    match channel {
        Channel::Email => c.email.as_deref().map(|e| e.trim().to_lowercase()),
        Channel::Sms => c.phone.as_deref().map(|p| p.trim().to_owned()),
    }
    .filter(|a| !a.is_empty())
}

/// The contact's offset from UTC at `now`, from its IANA time zone (UTC when unknown).
pub(crate) fn utc_offset(c: &contact::Model, now: DateTime<Utc>) -> FixedOffset {
    match c.time_zone.parse::<chrono_tz::Tz>() {
        Ok(tz) => now.with_timezone(&tz).offset().fix(),
        Err(_) => FixedOffset::east_opt(0).expect("zero offset"),
    }
}

/// The decision's facts for a page of contacts, read in a few queries. `exclude_send`: the
/// send being delivered, whose own rows do not count as earlier messages.
pub(crate) async fn recipients(
    db: &impl ConnectionTrait,
    c: &campaign::Model,
    policy: &Policy,
    contacts: &[contact::Model],
    exclude_send: i64,
    now: DateTime<Utc>,
) -> Result<Vec<Recipient>> {
    let ids: Vec<i64> = contacts.iter().map(|c| c.id).collect();
    let emails: Vec<String> = contacts
        .iter()
        .filter_map(|k| address(k, Channel::Email))
        .collect();
    let suppressed: HashSet<String> = crate::contacts::lists::suppressed_among(
        db,
        c.org_id,
        &c.settings.suppression_list_ids,
        &emails,
    )
    .await?;
    // When this campaign last reached each contact (in another send): needed only when the
    // campaign limits how often it reaches someone and has run before. (A first send of a
    // large audience would otherwise look through its campaign's rows for every page.)
    let counts_earlier = policy.frequency != crate::domain::campaign::Frequency::EveryTime
        && campaign_send::Entity::find()
            .filter(campaign_send::Column::CampaignId.eq(c.id))
            .filter(campaign_send::Column::Id.ne(exclude_send))
            .one(db)
            .await?
            .is_some();
    let last: HashMap<i64, DateTime<Utc>> = if !counts_earlier {
        HashMap::new()
    } else {
        message::Entity::find()
            .select_only()
            .column(message::Column::ContactId)
            .column_as(Expr::col(message::Column::QueuedAt).max(), "last")
            .filter(message::Column::CampaignId.eq(c.id))
            .filter(message::Column::ContactId.is_in(ids.clone()))
            .filter(message::Column::SendId.ne(exclude_send))
            .filter(message::Column::Seed.eq(false))
            .filter(
                message::Column::State.is_not_in([DeliveryState::Skipped, DeliveryState::Failed]),
            )
            .group_by(message::Column::ContactId)
            .into_tuple::<(i64, DateTime<Utc>)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    // Marketing and newsletter messages each contact got in the cap's window.
    let in_window: HashMap<i64, i64> = if policy.weekly_cap.is_some() {
        message::Entity::find()
            .select_only()
            .column(message::Column::ContactId)
            .column_as(Expr::col(message::Column::Id).count(), "n")
            .filter(
                message::Column::CampaignId.in_subquery(
                    Query::select()
                        .column(campaign::Column::Id)
                        .from(campaign::Entity)
                        .and_where(campaign::Column::OrgId.eq(c.org_id))
                        .and_where(campaign::Column::MessageType.ne(MessageType::Operational))
                        .to_owned(),
                ),
            )
            .filter(message::Column::OrgId.eq(c.org_id))
            .filter(message::Column::ContactId.is_in(ids.clone()))
            .filter(message::Column::Seed.eq(false))
            .filter(message::Column::SendId.ne(exclude_send))
            .filter(message::Column::SentAt.gte(now - Duration::days(CAP_WINDOW_DAYS)))
            .group_by(message::Column::ContactId)
            .into_tuple::<(i64, i64)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    } else {
        HashMap::new()
    };
    Ok(contacts
        .iter()
        .map(|k| {
            let (given, at) = match c.message_type {
                MessageType::Newsletter => (k.newsletter_consent, k.newsletter_consent_at),
                _ => (k.marketing_consent, k.marketing_consent_at),
            };
            let email = address(k, Channel::Email);
            Recipient {
                status: k.status,
                address: address(k, c.channel),
                consent: Consent::from_stored(given, at),
                suppressed: email.is_some_and(|e| suppressed.contains(&e)),
                utc_offset: utc_offset(k, now),
                last_from_campaign: last.get(&k.id).copied(),
                marketing_in_window: in_window
                    .get(&k.id)
                    .map_or(0, |n| u32::try_from(*n).unwrap_or(u32::MAX)),
            }
        })
        .collect())
}

/// Records that message `m` became `state` at `at`.
pub(crate) fn event(
    m: &message::Model,
    state: DeliveryState,
    at: DateTime<Utc>,
    detail: Option<String>,
) -> message_event::ActiveModel {
    message_event::ActiveModel {
        org_id: Set(m.org_id),
        campaign_id: Set(m.campaign_id),
        message_id: Set(m.id),
        state: Set(state),
        at: Set(at),
        detail: Set(detail),
        ..Default::default()
    }
}

pub(crate) async fn record(
    db: &impl ConnectionTrait,
    events: Vec<message_event::ActiveModel>,
) -> Result<()> {
    if !events.is_empty() {
        message_event::Entity::insert_many(events)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

pub(crate) async fn find_org(db: &impl ConnectionTrait, id: i64) -> Result<organisation::Model> {
    organisation::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound("organisation"))
}

/// Marks the send complete once every row has left the queue; a one-time campaign whose run is
/// complete is then complete too.
pub(crate) async fn complete_if_done(
    db: &impl ConnectionTrait,
    send: &campaign_send::Model,
    now: DateTime<Utc>,
) -> Result<bool> {
    if send.fanned_out_at.is_none() || send.completed_at.is_some() {
        return Ok(send.completed_at.is_some());
    }
    if send.step_id.is_some() {
        // A workflow's send step lasts as long as its version: more runs will pass it.
        return Ok(false);
    }
    let open = message::Entity::find()
        .filter(message::Column::SendId.eq(send.id))
        .filter(message::Column::State.is_in([DeliveryState::Queued, DeliveryState::Sending]))
        .limit(1)
        .one(db)
        .await?;
    if open.is_some() {
        return Ok(false);
    }
    let done = campaign_send::Entity::update_many()
        .col_expr(campaign_send::Column::CompletedAt, Expr::value(now))
        .filter(campaign_send::Column::Id.eq(send.id))
        .filter(campaign_send::Column::CompletedAt.is_null())
        .exec(db)
        .await?;
    if done.rows_affected == 1 {
        let c = campaign::Entity::find_by_id(send.campaign_id)
            .one(db)
            .await?;
        if let Some(c) = c
            && c.trigger.as_ref().is_some_and(|t| t.runs_once())
        {
            campaign::Entity::update_many()
                .col_expr(
                    campaign::Column::Status,
                    Expr::value(CampaignStatus::Completed),
                )
                .col_expr(campaign::Column::UpdatedAt, Expr::value(now))
                .col_expr(
                    campaign::Column::Revision,
                    Expr::col(campaign::Column::Revision).add(1),
                )
                .filter(campaign::Column::Id.eq(c.id))
                .filter(campaign::Column::Status.eq(CampaignStatus::Active))
                .exec(db)
                .await?;
        }
        notify::run_done(db, send, now).await?;
        tracing::info!(send = send.id, campaign = send.campaign_id, "send complete");
    }
    Ok(true)
}
