//! What providers report after a message was handed over (Amazon SES events through SNS, SMS
//! delivery receipts), applied to the message it names:
//!
//! - **Send**: the provider has it. A row left in `sending` by a crash becomes `sent`.
//! - **Delivery**: `delivered`.
//! - **Bounce**: permanent bounces suppress the address (the organisation's global suppression
//!   list) and become an action for the campaign's creator; soft bounces are recorded as such.
//! - **Complaint**: suppressed and unsubscribed from the message's type.
//! - **Reject**, **Rendering Failure**, an undelivered SMS: `failed`, with an action.
//! - **DeliveryDelay**: noted on the message; its state does not change.
//!
//! Each notification is taken in once: its id at the source is stored in the transaction that
//! applies it ([`webhook_receipt`]), so a repeat changes nothing. A notice the message's state
//! cannot take (late, out of order) is recorded nowhere and changes nothing.

use super::{event, record};
use crate::domain::{BounceType, Channel, DeliveryState, MessageType};
use crate::entity::{campaign, contact, message, webhook_receipt};
use crate::{Herald, Result};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

/// What a provider said happened to a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    Sent,
    Delivered,
    Bounced { permanent: bool },
    Complained,
    Failed,
    Delayed,
}

/// One provider notice.
#[derive(Clone, Debug)]
pub struct ProviderNotice {
    /// Herald's message id, from the message's tag.
    pub message_id: Option<i64>,
    /// The provider's id for it (what `message.provider_message_id` holds).
    pub provider_message_id: Option<String>,
    pub notice: Notice,
    pub at: DateTime<Utc>,
    /// The provider's words (diagnostic codes, bounce texts): outside text, escaped where shown.
    pub detail: String,
}

/// What became of a notice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// This notification was taken in before.
    Repeat,
    /// No message of Herald's matches it.
    Unknown,
    /// The message could not take it (late or out of order): nothing changed.
    Ignored,
    /// Applied to this message (of this campaign).
    Changed { message_id: i64, campaign_id: i64 },
}

async fn find(
    db: &impl sea_orm::ConnectionTrait,
    n: &ProviderNotice,
) -> Result<Option<message::Model>> {
    // The tag names the message (a copy handed over again after a crash has another
    // provider id, and its events are about the same message).
    if let Some(id) = n.message_id {
        return Ok(message::Entity::find_by_id(id).one(db).await?);
    }
    match &n.provider_message_id {
        Some(pid) if !pid.is_empty() => Ok(message::Entity::find()
            .filter(message::Column::ProviderMessageId.eq(pid.as_str()))
            .one(db)
            .await?),
        _ => Ok(None),
    }
}

/// Applies notice `n`, known at its source (`"ses"`, `"sms"`) as `receipt_id`.
pub async fn apply(
    h: &Herald,
    source: &str,
    receipt_id: &str,
    n: &ProviderNotice,
) -> Result<Applied> {
    let now = h.now();
    let _lock = crate::db::write_lock(&h.db).await;
    let txn = crate::db::begin_write(&h.db).await?;
    let taken = webhook_receipt::Entity::insert(webhook_receipt::ActiveModel {
        source: Set(source.to_owned()),
        receipt_id: Set(receipt_id.chars().take(200).collect()),
        received_at: Set(now),
    })
    .on_conflict_do_nothing_on([
        webhook_receipt::Column::Source,
        webhook_receipt::Column::ReceiptId,
    ])
    .exec_without_returning(&txn)
    .await?;
    if !matches!(taken, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
        return Ok(Applied::Repeat);
    }
    let Some(m) = find(&txn, n).await? else {
        txn.commit().await?;
        return Ok(Applied::Unknown);
    };
    let detail: String = n.detail.chars().take(1000).collect();
    let at = n.at;
    use message::Column as M;
    let update = message::Entity::update_many()
        .filter(M::Id.eq(m.id))
        .filter(M::State.eq(m.state));
    let next = match n.notice {
        Notice::Sent => DeliveryState::Sent,
        Notice::Delivered => DeliveryState::Delivered,
        Notice::Bounced { .. } => DeliveryState::Bounced,
        Notice::Complained => DeliveryState::Complained,
        Notice::Failed => DeliveryState::Failed,
        Notice::Delayed => {
            message::Entity::update_many()
                .filter(M::Id.eq(m.id))
                .col_expr(M::Error, Expr::value(format!("Delayed: {detail}")))
                .exec(&txn)
                .await?;
            txn.commit().await?;
            return Ok(Applied::Changed {
                message_id: m.id,
                campaign_id: m.campaign_id,
            });
        }
    };
    if !m.state.can_become(next) {
        txn.commit().await?;
        return Ok(Applied::Ignored);
    }
    let update = update.col_expr(M::State, Expr::value(next));
    let update = match &n.notice {
        Notice::Sent => update.col_expr(M::SentAt, Expr::value(at)).col_expr(
            M::ProviderMessageId,
            Expr::value(n.provider_message_id.clone()),
        ),
        Notice::Delivered => update.col_expr(M::DeliveredAt, Expr::value(at)),
        Notice::Bounced { permanent } => update
            .col_expr(M::BouncedAt, Expr::value(at))
            .col_expr(
                M::BounceType,
                Expr::value(if *permanent {
                    BounceType::Permanent
                } else {
                    BounceType::Transient
                }),
            )
            .col_expr(M::Error, Expr::value(detail.clone())),
        Notice::Complained => update
            .col_expr(M::ComplainedAt, Expr::value(at))
            .col_expr(M::UnsubscribedAt, Expr::value(Some(at))),
        Notice::Failed => update
            .col_expr(M::FailedAt, Expr::value(at))
            .col_expr(M::Error, Expr::value(detail.clone())),
        Notice::Delayed => unreachable!("answered above"),
    };
    if update.exec(&txn).await?.rows_affected == 0 {
        // Another notice about it won the race.
        txn.commit().await?;
        return Ok(Applied::Ignored);
    }
    record(
        &txn,
        vec![event(
            &m,
            next,
            at,
            (!detail.is_empty()).then(|| detail.clone()),
        )],
    )
    .await?;
    let c = campaign::Entity::find_by_id(m.campaign_id)
        .one(&txn)
        .await?;
    let address = (m.channel == Channel::Email).then(|| m.recipient.clone());
    match &n.notice {
        Notice::Bounced { permanent: true } => {
            if let Some(email) = &address {
                crate::contacts::lists::suppress(
                    &txn,
                    m.org_id,
                    email,
                    &format!("Bounced: {detail}"),
                    now,
                )
                .await?;
            }
            if let Some(c) = &c {
                super::actions::open_for(&txn, c, vec![m.id], now).await?;
            }
        }
        Notice::Complained => {
            if let Some(email) = &address {
                crate::contacts::lists::suppress(
                    &txn,
                    m.org_id,
                    email,
                    "Marked the message as spam",
                    now,
                )
                .await?;
            }
            if let (Some(c), Some(contact_id)) = (&c, m.contact_id) {
                unsubscribe(&txn, contact_id, c.message_type, at).await?;
            }
        }
        Notice::Failed => {
            if let Some(c) = &c {
                super::actions::open_for(&txn, c, vec![m.id], now).await?;
            }
        }
        _ => {}
    }
    txn.commit().await?;
    h.settings.live.changed([m.campaign_id]);
    tracing::info!(message = m.id, notice = ?n.notice, "provider notice applied");
    Ok(Applied::Changed {
        message_id: m.id,
        campaign_id: m.campaign_id,
    })
}

/// Withdraws the contact's consent for messages of `t`'s kind (an operational message's
/// complaint withdraws marketing: the person wants no more than they must get).
async fn unsubscribe(
    db: &impl sea_orm::ConnectionTrait,
    contact_id: i64,
    t: MessageType,
    at: DateTime<Utc>,
) -> Result<()> {
    use contact::Column as K;
    let (given, when, source) = match t {
        MessageType::Newsletter => (
            K::NewsletterConsent,
            K::NewsletterConsentAt,
            K::NewsletterConsentSource,
        ),
        _ => (
            K::MarketingConsent,
            K::MarketingConsentAt,
            K::MarketingConsentSource,
        ),
    };
    contact::Entity::update_many()
        .col_expr(given, Expr::value(false))
        .col_expr(when, Expr::value(Some(at)))
        .col_expr(source, Expr::value(Some("complaint".to_owned())))
        .col_expr(K::UpdatedAt, Expr::value(at))
        .filter(K::Id.eq(contact_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Confirms an SNS subscription: fetches its `SubscribeURL` (AWS's host only, checked again
/// here; no redirects; a timeout), retried with the queue's backoff while AWS cannot be reached.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ConfirmSubscription {
    pub topic: String,
    pub url: String,
}

impl crate::jobs::Job for ConfirmSubscription {
    const KIND: &'static str = "sns.confirm";
    const MAX_ATTEMPTS: i32 = 8;

    fn org_id(&self) -> Option<i64> {
        None
    }

    fn dedup_key(&self) -> Option<String> {
        Some(self.url.clone())
    }

    async fn run(&self, _ctx: &crate::jobs::JobContext) -> Result<crate::jobs::Step> {
        let url = crate::webhooks::sns::check_subscribe_url(&self.url)
            .map_err(|e| crate::Error::Invalid(e.to_string()))?;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| crate::Error::Internal(e.to_string()))?;
        let answer = client
            .get(url)
            .send()
            .await
            .map_err(|e| crate::Error::Internal(format!("SNS did not answer: {e}")))?;
        if !answer.status().is_success() {
            return Err(crate::Error::Internal(format!(
                "SNS answered {} to the subscription confirmation",
                answer.status().as_u16()
            )));
        }
        tracing::info!(topic = %self.topic, "SNS subscription confirmed");
        Ok(crate::jobs::Step::Done)
    }
}
