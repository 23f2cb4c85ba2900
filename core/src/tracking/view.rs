//! A sent message in the browser (`/v/…`): rendered again from its template version with the
//! same data, its links tracked and its unsubscribe link working, as the recipient got it.

use super::{HitKind, Urls};
use crate::domain::access::Actor;
use crate::domain::{Channel, MessageType};
use crate::entity::{campaign, contact, message, send_target};
use crate::{Error, Herald, Result};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// The HTML of the message `token` names, or `NotFound` for a token that does not verify or a
/// message that was never sent (or is not an email).
pub async fn render(h: &Herald, token: &str) -> Result<(i64, String)> {
    let db = &h.db;
    let t = super::read(super::keys(&h.settings), HitKind::View, token)
        .ok_or(Error::NotFound("message"))?;
    let m = message::Entity::find_by_id(t.message_id)
        .one(db)
        .await?
        .filter(|m| m.sent_at.is_some() && m.channel == Channel::Email)
        .ok_or(Error::NotFound("message"))?;
    let c = campaign::Entity::find_by_id(m.campaign_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound("message"))?;
    let org = crate::delivery::find_org(db, m.org_id).await?;
    let k = match m.contact_id {
        Some(id) => contact::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    let language = k
        .as_ref()
        .map_or(c.settings.language.clone(), |k| k.language.clone());
    let version = c.template_version_id.ok_or(Error::NotFound("message"))?;
    let content =
        crate::templates::version_content(db, &Actor::system(m.org_id), version, &language).await?;
    let s = &h.settings;
    let unsubscribe_url = (c.message_type != MessageType::Operational).then(|| {
        format!(
            "{}/u/{}",
            s.public_url,
            crate::delivery::compose::unsubscribe_token(&s.secret_key, m.id)
        )
    });
    let urls = Urls {
        public_url: &s.public_url,
        key: &s.secret_key,
    };
    let mut vars = crate::delivery::sender::context(
        k.as_ref(),
        &m.recipient,
        &org.name,
        unsubscribe_url.as_deref(),
        &urls.view(m.id),
    );
    if let Some(id) = m.contact_id
        && let Some(target) = send_target::Entity::find()
            .filter(send_target::Column::SendId.eq(m.send_id))
            .filter(send_target::Column::ContactId.eq(id))
            .one(db)
            .await?
        && let Some(Ok(serde_json::Value::Object(extra))) =
            target.context.as_deref().map(serde_json::from_str)
        && let Some(vars) = vars.as_object_mut()
    {
        vars.extend(extra);
    }
    let body = crate::delivery::compose::render_body(&content, &vars, unsubscribe_url.as_deref())
        .map_err(|e| Error::Invalid(format!("The message could not be rendered: {e}")))?;
    let mut links = std::collections::HashMap::new();
    let html = super::track_links(
        db,
        &urls,
        m.org_id,
        m.campaign_id,
        m.id,
        &mut links,
        &body.html,
    )
    .await?;
    Ok((m.id, html))
}
