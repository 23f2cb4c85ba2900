//! Checks a sending domain against the mailbox providers' sender rules when an admin asks:
//! looks up its SPF, DKIM and DMARC records through the configured resolver (`dns`), judges
//! them (`domain::sender_auth`), and keeps the result on the domain so that the settings page
//! shows when it was last checked and what was found.

use super::dns::Resolver;
use super::provider::Provider;
use super::sending::routes;
use crate::domain::access::{Action, Actor};
use crate::domain::sender_auth::{self, Answer, DomainCheck, EnvelopeSender, Lookups};
use crate::entity::sending_domain;
use crate::{Error, Herald, Result};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

/// Checks the organisation's sending domain `id` now, and stores the result.
pub async fn check(h: &Herald, actor: &Actor, id: i64) -> Result<DomainCheck> {
    actor.require(Action::ManageSettings)?;
    let d = sending_domain::Entity::find_by_id(id)
        .filter(sending_domain::Column::OrgId.eq(actor.org_id()))
        .one(&h.db)
        .await?
        .ok_or(Error::NotFound("sending domain"))?;
    let envelope = match routes(h, actor.org_id()).await?.email.as_ref() {
        Provider::Ses { .. } => EnvelopeSender::Provider("amazonses.com".into()),
        _ => EnvelopeSender::FromAddress,
    };
    let lookups = look_up(&h.settings.resolver, &d, envelope).await;
    let result = sender_auth::judge(&lookups, h.now());
    let json = serde_json::to_string(&result).map_err(|e| Error::Internal(e.to_string()))?;
    sending_domain::ActiveModel {
        id: Set(d.id),
        dns_check: Set(Some(json)),
        ..Default::default()
    }
    .update(&h.db)
    .await?;
    Ok(result)
}

/// The stored result of the domain's last check, if it has one that still reads.
pub fn last_check(d: &sending_domain::Model) -> Option<DomainCheck> {
    serde_json::from_str(d.dns_check.as_deref()?).ok()
}

async fn look_up(r: &Resolver, d: &sending_domain::Model, envelope: EnvelopeSender) -> Lookups {
    let answer = |a: std::result::Result<Vec<String>, String>| match a {
        Ok(records) => Answer::Records(records),
        Err(e) => Answer::Failed(e),
    };
    let dkim_name = format!("{}._domainkey.{}", d.selector, d.domain);
    let (spf, dkim) = tokio::join!(r.txt(&d.domain), r.txt(&dkim_name));
    let mut dmarc = Vec::new();
    // The walk stops at the first name with a DMARC record, or at a failure.
    for name in sender_auth::dmarc_names(&d.domain) {
        let a = answer(r.txt(&name).await);
        let stop = match &a {
            Answer::Records(records) => records.iter().any(|r| sender_auth::is_dmarc(r)),
            Answer::Failed(_) => true,
        };
        dmarc.push((name, a));
        if stop {
            break;
        }
    }
    Lookups {
        domain: d.domain.clone(),
        selector: d.selector.clone(),
        public_key: d.public_key.clone(),
        envelope,
        spf: answer(spf),
        dkim: answer(dkim),
        dmarc,
    }
}
