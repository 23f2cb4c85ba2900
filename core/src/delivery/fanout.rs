//! The fan-out of one send: the audience, a page at a time, becomes message rows.

use super::{address, find_org, policy, recipients};
use crate::audience::{self, Scope};
use crate::domain::delivery::Policy;
use crate::domain::delivery::{Decision, decide};
use crate::domain::{Channel, DeliveryState, SkipReason};
use crate::entity::{campaign, campaign_send, contact, message, message_event};
use crate::jobs::{Job, JobContext, Step};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use serde::{Deserialize, Serialize};

/// Contacts per page: one transaction each.
pub(super) const PAGE: u64 = 500;

/// Writes the message rows of send `send_id`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FanOut {
    pub org_id: i64,
    pub send_id: i64,
}

impl Job for FanOut {
    const KIND: &'static str = "delivery.fan_out";
    const PRIORITY: i32 = 10;
    const MAX_ATTEMPTS: i32 = 10;

    fn org_id(&self) -> Option<i64> {
        Some(self.org_id)
    }

    fn dedup_key(&self) -> Option<String> {
        Some(self.send_id.to_string())
    }

    async fn run(&self, ctx: &JobContext) -> Result<Step> {
        loop {
            if ctx.stopping() {
                return Ok(Step::Yield);
            }
            if !page(ctx, self.send_id).await? {
                return Ok(Step::Done);
            }
        }
    }
}

/// Writes the next page; `false` when the send is fanned out.
async fn page(ctx: &JobContext, send_id: i64) -> Result<bool> {
    let db = ctx.db();
    let now = ctx.now();
    let Some(send) = campaign_send::Entity::find_by_id(send_id).one(db).await? else {
        return Ok(false);
    };
    if send.fanned_out_at.is_some() {
        return Ok(false);
    }
    let c = campaign::Entity::find_by_id(send.campaign_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound("campaign"))?;
    let org = find_org(db, c.org_id).await?;
    let policy = policy(&c, &org);
    let scope = Scope {
        org_id: c.org_id,
        assigned_to: None,
    };
    let targets = send.targeted.then_some(send.id);
    let contacts = audience::page(db, scope, &c.audience, now, send.cursor, PAGE, targets).await?;
    let txn = db.begin().await?;
    ctx.fence(&txn).await?;
    if contacts.is_empty() {
        finish(&txn, &c, &send, now).await?;
        txn.commit().await?;
        tracing::info!(send = send.id, campaign = c.id, "fan-out complete");
        return Ok(false);
    }
    write(&txn, &c, &policy, &send, &contacts, now).await?;
    txn.commit().await?;
    Ok(true)
}

/// Writes the rows of `contacts` (ascending ids, after the send's cursor) and moves the cursor
/// past them.
pub(super) async fn write(
    db: &impl ConnectionTrait,
    c: &campaign::Model,
    policy: &Policy,
    send: &campaign_send::Model,
    contacts: &[contact::Model],
    now: DateTime<Utc>,
) -> Result<()> {
    let facts = recipients(db, c, policy, contacts, send.id, now).await?;
    let mut no_address = false;
    let rows: Vec<message::ActiveModel> = contacts
        .iter()
        .zip(&facts)
        .map(|(k, r)| {
            let decision = decide(policy, r, now);
            let mut m = row(c, send, Some(k.id), address(k, c.channel), now);
            match decision {
                Decision::Send => {}
                Decision::Defer(until) => m.not_before = Set(Some(until)),
                Decision::Skip(reason) => {
                    no_address |= reason == SkipReason::NoAddress;
                    m.state = Set(DeliveryState::Skipped);
                    m.skip_reason = Set(Some(reason));
                }
            }
            m
        })
        .collect();
    message::Entity::insert_many(rows)
        // Any conflict: the unique index on send and contact covers only the rows of sends
        // that are not a workflow's (a partial index, which a conflict target would have to
        // repeat the condition of).
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    let last = contacts.last().map_or(send.cursor, |k| k.id);
    first_events(db, send.id, send.cursor, last).await?;
    if no_address {
        // Contacts without an address for the channel: to-dos for the campaign's creator.
        let skipped = message::Entity::find()
            .filter(message::Column::SendId.eq(send.id))
            .filter(message::Column::ContactId.gt(send.cursor))
            .filter(message::Column::ContactId.lte(last))
            .filter(message::Column::SkipReason.eq(SkipReason::NoAddress))
            .all(db)
            .await?;
        super::actions::open(db, c, &skipped, now).await?;
    }
    campaign_send::Entity::update_many()
        .col_expr(campaign_send::Column::Cursor, Expr::value(last))
        .filter(campaign_send::Column::Id.eq(send.id))
        .exec(db)
        .await?;
    Ok(())
}

/// Every recipient has a row: adds the seed copies (of sends to the whole audience; a send
/// for one event's contact gets none) and marks the send fanned out.
pub(super) async fn finish(
    db: &impl ConnectionTrait,
    c: &campaign::Model,
    send: &campaign_send::Model,
    now: DateTime<Utc>,
) -> Result<()> {
    if !send.targeted {
        seeds(db, c, send, now).await?;
    }
    campaign_send::Entity::update_many()
        .col_expr(campaign_send::Column::FannedOutAt, Expr::value(now))
        .filter(campaign_send::Column::Id.eq(send.id))
        .exec(db)
        .await?;
    Ok(())
}

/// A queued message row as the fan-out writes it (no contact: a seed copy).
fn row(
    c: &campaign::Model,
    send: &campaign_send::Model,
    contact_id: Option<i64>,
    recipient: Option<String>,
    now: DateTime<Utc>,
) -> message::ActiveModel {
    message::ActiveModel {
        org_id: Set(c.org_id),
        campaign_id: Set(c.id),
        send_id: Set(send.id),
        contact_id: Set(contact_id),
        channel: Set(c.channel),
        recipient: Set(recipient.unwrap_or_default()),
        state: Set(DeliveryState::Queued),
        attempts: Set(0),
        queued_at: Set(now),
        seed: Set(contact_id.is_none()),
        ..Default::default()
    }
}

/// The first event of each row of the page just written (contact ids in `(after, last]`).
async fn first_events(
    db: &impl ConnectionTrait,
    send_id: i64,
    after: i64,
    last: i64,
) -> Result<()> {
    use message::Column as M;
    let select = Query::select()
        .columns([
            M::OrgId,
            M::CampaignId,
            M::Id,
            M::State,
            M::QueuedAt,
            M::SkipReason,
        ])
        .from(message::Entity)
        .and_where(M::SendId.eq(send_id))
        .and_where(M::ContactId.gt(after))
        .and_where(M::ContactId.lte(last))
        .to_owned();
    let insert = Query::insert()
        .into_table(message_event::Entity)
        .columns([
            message_event::Column::OrgId,
            message_event::Column::CampaignId,
            message_event::Column::MessageId,
            message_event::Column::State,
            message_event::Column::At,
            message_event::Column::Detail,
        ])
        .select_from(select)
        .map_err(|e| Error::Internal(e.to_string()))?
        .to_owned();
    let backend = db.get_database_backend();
    db.execute_raw(sea_orm::StatementBuilder::build(&insert, &backend))
        .await?;
    Ok(())
}

/// A copy of the send for each address of the campaign's seed list (email campaigns).
async fn seeds(
    db: &impl ConnectionTrait,
    c: &campaign::Model,
    send: &campaign_send::Model,
    now: DateTime<Utc>,
) -> Result<()> {
    let Some(list) = c.settings.seed_list_id else {
        return Ok(());
    };
    if c.channel != Channel::Email {
        return Ok(());
    }
    for email in crate::contacts::lists::seed_addresses(db, c.org_id, list).await? {
        let exists = message::Entity::find()
            .filter(message::Column::SendId.eq(send.id))
            .filter(message::Column::Seed.eq(true))
            .filter(message::Column::Recipient.eq(email.clone()))
            .one(db)
            .await?;
        if exists.is_none() {
            let m =
                sea_orm::ActiveModelTrait::insert(row(c, send, None, Some(email), now), db).await?;
            super::record(db, vec![super::event(&m, DeliveryState::Queued, now, None)]).await?;
        }
    }
    Ok(())
}
