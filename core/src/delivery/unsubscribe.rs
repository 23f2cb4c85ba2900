//! Unsubscribing, from a message's signed token ([`super::compose::unsubscribe_token`]): the
//! RFC 8058 one-click POST withdraws consent for the message's type at once; the page a person
//! opens shows what they receive and lets them change it. A token that does not verify names
//! nothing (the caller answers a plain 404).

use super::compose::read_unsubscribe_token;
use crate::domain::MessageType;
use crate::entity::{campaign, contact, message, organisation};
use crate::secret::SecretKey;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

/// What the preference page shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preferences {
    pub organisation: String,
    /// The type of the message the link came from.
    pub message_type: MessageType,
    /// Whether the contact receives marketing and newsletter messages now. `None` for a seed
    /// copy, which has no contact.
    pub marketing: Option<bool>,
    pub newsletter: Option<bool>,
}

struct Found {
    message_id: i64,
    org: organisation::Model,
    campaign: campaign::Model,
    contact: Option<contact::Model>,
}

async fn find(db: &impl ConnectionTrait, key: &SecretKey, token: &str) -> Result<Found> {
    let id = read_unsubscribe_token(key, token).ok_or(Error::NotFound("message"))?;
    let m = message::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound("message"))?;
    let campaign = campaign::Entity::find_by_id(m.campaign_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound("message"))?;
    let org = super::find_org(db, m.org_id).await?;
    let contact = match m.contact_id {
        Some(id) => contact::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    Ok(Found {
        message_id: id,
        org,
        campaign,
        contact,
    })
}

fn receives(given: bool, at: Option<DateTime<Utc>>) -> bool {
    // Never asked counts as receiving (unless the organisation requires opt-in, where the
    // engine sends nothing without consent anyway).
    given || at.is_none()
}

/// The contact's preferences, for the page behind a message's link.
pub async fn preferences(
    db: &impl ConnectionTrait,
    key: &SecretKey,
    token: &str,
) -> Result<Preferences> {
    let f = find(db, key, token).await?;
    Ok(Preferences {
        organisation: f.org.name,
        message_type: f.campaign.message_type,
        marketing: f
            .contact
            .as_ref()
            .map(|c| receives(c.marketing_consent, c.marketing_consent_at)),
        newsletter: f
            .contact
            .as_ref()
            .map(|c| receives(c.newsletter_consent, c.newsletter_consent_at)),
    })
}

/// Sets what the contact behind `token` receives: `marketing` and `newsletter` as given
/// (`None` leaves one as it is). Answers the preferences after the change.
pub async fn set(
    db: &impl ConnectionTrait,
    key: &SecretKey,
    token: &str,
    marketing: Option<bool>,
    newsletter: Option<bool>,
    now: DateTime<Utc>,
) -> Result<Preferences> {
    let f = find(db, key, token).await?;
    if let Some(c) = f.contact {
        let mut a: contact::ActiveModel = c.clone().into();
        let mut changed = false;
        if let Some(on) = marketing
            && (on != c.marketing_consent || c.marketing_consent_at.is_none())
        {
            a.marketing_consent = Set(on);
            a.marketing_consent_at = Set(Some(now));
            a.marketing_consent_source = Set(Some("unsubscribe".into()));
            changed = true;
        }
        if let Some(on) = newsletter
            && (on != c.newsletter_consent || c.newsletter_consent_at.is_none())
        {
            a.newsletter_consent = Set(on);
            a.newsletter_consent_at = Set(Some(now));
            a.newsletter_consent_source = Set(Some("unsubscribe".into()));
            changed = true;
        }
        if changed {
            a.updated_at = Set(now);
            a.update(db).await?;
            if marketing == Some(false) || newsletter == Some(false) {
                // The message it was done through counts an unsubscribe (once).
                message::Entity::update_many()
                    .col_expr(message::Column::UnsubscribedAt, Expr::value(Some(now)))
                    .filter(message::Column::Id.eq(f.message_id))
                    .filter(message::Column::UnsubscribedAt.is_null())
                    .exec(db)
                    .await?;
            }
            tracing::info!(
                contact = c.id,
                ?marketing,
                ?newsletter,
                "preferences changed"
            );
        }
    }
    preferences(db, key, token).await
}

/// RFC 8058 one-click: withdraws consent for the type of the message the token names.
pub async fn one_click(
    db: &impl ConnectionTrait,
    key: &SecretKey,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Preferences> {
    let f = find(db, key, token).await?;
    match f.campaign.message_type {
        MessageType::Newsletter => set(db, key, token, None, Some(false), now).await,
        // An operational message has no unsubscribe header; a link to it withdraws from
        // marketing, the most a person can mean.
        _ => set(db, key, token, Some(false), None, now).await,
    }
}
