//! The outbox as callers read it (a campaign's numbers per state, its messages a page at a
//! time) and the transactional send: one template to one contact now.

use super::{Targets, start_send};
use crate::domain::access::{Action, Actor};
use crate::domain::audience::Filter;
use crate::domain::campaign::{Frequency, Settings};
use crate::domain::trigger::Trigger;
use crate::domain::{CampaignKind, CampaignStatus, Channel, DeliveryState, MessageType};
use crate::entity::{campaign, campaign_send, contact, message, template};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, ExprTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::collections::BTreeMap;

async fn own_campaign(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> Result<campaign::Model> {
    campaign::Entity::find_by_id(id)
        .filter(campaign::Column::OrgId.eq(actor.org_id()))
        .one(db)
        .await?
        .ok_or(Error::NotFound("campaign"))
}

/// How many of the campaign's messages (seed copies left out) are in each state, every state
/// named (zero included).
pub async fn state_counts(
    db: &impl ConnectionTrait,
    actor: &Actor,
    campaign_id: i64,
) -> Result<BTreeMap<String, u64>> {
    actor.require(Action::ReadCampaigns)?;
    own_campaign(db, actor, campaign_id).await?;
    let mut out: BTreeMap<String, u64> = DeliveryState::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), 0))
        .collect();
    let rows: Vec<(DeliveryState, i64)> = message::Entity::find()
        .select_only()
        .column(message::Column::State)
        .column_as(Expr::col(message::Column::Id).count(), "n")
        .filter(message::Column::CampaignId.eq(campaign_id))
        .filter(message::Column::Seed.eq(false))
        .group_by(message::Column::State)
        .into_tuple()
        .all(db)
        .await?;
    for (state, n) in rows {
        out.insert(state.as_str().to_owned(), u64::try_from(n).unwrap_or(0));
    }
    Ok(out)
}

/// The campaign's messages after id `after`, ascending, at most `limit`, in `state` if given.
pub async fn messages(
    db: &impl ConnectionTrait,
    actor: &Actor,
    campaign_id: i64,
    state: Option<DeliveryState>,
    after: i64,
    limit: u64,
) -> Result<Vec<message::Model>> {
    actor.require(Action::ReadCampaigns)?;
    own_campaign(db, actor, campaign_id).await?;
    let mut q = message::Entity::find()
        .filter(message::Column::CampaignId.eq(campaign_id))
        .filter(message::Column::Id.gt(after));
    if let Some(state) = state {
        q = q.filter(message::Column::State.eq(state));
    }
    Ok(q.order_by_asc(message::Column::Id)
        .limit(limit.clamp(1, 1000))
        .all(db)
        .await?)
}

/// Refuses a template that cannot be sent outside a campaign timed on record dates: a message
/// sent on its own has no record behind it, so a template that names a record's fields cannot
/// render (refused here, not failed later); system templates are Herald's own.
pub(crate) async fn check_standalone(
    db: &impl ConnectionTrait,
    org_id: i64,
    template_id: i64,
) -> Result<()> {
    let (input, summary) = crate::templates::get_in(db, org_id, template_id).await?;
    if summary.is_system {
        return Err(Error::Invalid(
            "System templates are Herald's own and cannot be sent to contacts.".into(),
        ));
    }
    let attributes = crate::templates::attribute_keys(db, org_id).await?;
    let issues = crate::templates::check_for(&input, &attributes, Some(""));
    if !issues.is_empty() {
        let words: Vec<String> = issues.iter().map(|i| i.describe()).collect();
        return Err(Error::Invalid(format!(
            "This template cannot be sent on its own: {} (record fields need a campaign timed \
             on a record date).",
            words.join("; ")
        )));
    }
    Ok(())
}

/// The event name that marks a template's transactional campaign.
fn marker(template_id: i64) -> Trigger {
    Trigger::Event {
        name: format!("api.template.{template_id}"),
    }
}

/// One template to one contact, now: the message goes through the outbox like every other
/// (decided, queued in this transaction, sent by a sender job), as part of the template's
/// transactional campaign ("API: <template>", created on first use, operational unless
/// `message_type` says otherwise). `key` makes it idempotent: the same key answers the same
/// message and sends nothing twice.
#[allow(clippy::too_many_arguments)]
pub async fn send_one(
    db: &DatabaseConnection,
    actor: &Actor,
    template_id: i64,
    contact_id: i64,
    message_type: MessageType,
    key: &str,
    default_from: &str,
    now: DateTime<Utc>,
) -> Result<message::Model> {
    actor.require(Action::SendMessages)?;
    let org_id = actor.org_id();
    let t = template::Entity::find_by_id(template_id)
        .filter(template::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound("template"))?;
    let mut mine =
        contact::Entity::find_by_id(contact_id).filter(contact::Column::OrgId.eq(org_id));
    if let Some(user) = actor.assigned_to() {
        // Account managers send only to the contacts assigned to them.
        mine = mine.filter(contact::Column::AssignedUserId.eq(user));
    }
    mine.one(db).await?.ok_or(Error::NotFound("contact"))?;
    check_standalone(db, org_id, template_id).await?;
    let version = crate::templates::current_version(db, org_id, template_id).await?;
    let _writer = crate::db::write_lock(db).await;
    // Reads and single-statement writes first: on SQLite a transaction that reads before it
    // writes cannot wait for another writer.
    let existing = campaign::Entity::find()
        .filter(campaign::Column::OrgId.eq(org_id))
        .filter(campaign::Column::TemplateId.eq(template_id))
        .filter(campaign::Column::Kind.eq(CampaignKind::EventTriggered))
        .filter(campaign::Column::MessageType.eq(message_type))
        .all(db)
        .await?
        .into_iter()
        .find(|c| c.trigger.as_ref() == Some(&marker(template_id)));
    let c = match existing {
        Some(c) if c.template_version_id == Some(version) => c,
        Some(c) => {
            // The template changed since: send its current version from now on.
            let mut a: campaign::ActiveModel = c.into();
            a.template_version_id = Set(Some(version));
            a.update(db).await?
        }
        None => {
            campaign::ActiveModel {
                org_id: Set(org_id),
                name: Set(Some(format!("API: {}", t.name))),
                description: Set(
                    "Messages sent one at a time through POST /api/v1/messages.".into()
                ),
                goal: Set(String::new()),
                kind: Set(CampaignKind::EventTriggered),
                message_type: Set(message_type),
                channel: Set(Channel::Email),
                status: Set(CampaignStatus::Active),
                template_id: Set(Some(template_id)),
                template_version_id: Set(Some(version)),
                created_by: Set(actor.user_id()),
                created_at: Set(now),
                updated_at: Set(now),
                activated_at: Set(Some(now)),
                audience: Set(Filter::everyone()),
                trigger: Set(Some(marker(template_id))),
                settings: Set(Settings {
                    from_email: default_from.to_owned(),
                    frequency: Frequency::EveryTime,
                    ..Settings::default()
                }),
                revision: Set(0),
                ..Default::default()
            }
            .insert(db)
            .await?
        }
    };
    // The send's first statement is its insert.
    let txn = crate::db::begin_write(db).await?;
    let occurrence = format!("api:{key}");
    start_send(
        &txn,
        &c,
        &occurrence,
        Targets::Contacts(vec![contact_id]),
        now,
    )
    .await?;
    let send = campaign_send::Entity::find()
        .filter(campaign_send::Column::CampaignId.eq(c.id))
        .filter(campaign_send::Column::Occurrence.eq(occurrence))
        .one(&txn)
        .await?
        .ok_or(Error::NotFound("send"))?;
    let m = message::Entity::find()
        .filter(message::Column::SendId.eq(send.id))
        .one(&txn)
        .await?
        .ok_or_else(|| {
            Error::Invalid("This idempotency key was used for another contact or template.".into())
        })?;
    if m.contact_id != Some(contact_id) {
        return Err(Error::Invalid(
            "This idempotency key was used for another contact.".into(),
        ));
    }
    txn.commit().await?;
    Ok(m)
}

/// The organisation's contact with this address.
pub async fn contact_id_by_email(
    db: &impl ConnectionTrait,
    actor: &Actor,
    email: &str,
) -> Result<i64> {
    let email = crate::domain::EmailAddress::parse(email)
        .map_err(|e| Error::Invalid(format!("“{}” is not an address: {e}", email.trim())))?;
    contact::Entity::find()
        .select_only()
        .column(contact::Column::Id)
        .filter(contact::Column::OrgId.eq(actor.org_id()))
        .filter(contact::Column::Email.eq(email.as_str().to_lowercase()))
        .into_tuple()
        .one(db)
        .await?
        .ok_or(Error::NotFound("contact"))
}
