//! API keys for the REST API: per organisation, shown once, stored as SHA-256, revocable, and
//! limited to the scopes chosen when they are made (see [`crate::domain::access`]).

use crate::auth::sessions::{new_token, token_hash};
pub use crate::domain::ApiKeySummary;
use crate::domain::access::{Action, Actor, KeyActor, KeyScopes};
use crate::entity::api_key;
use crate::{Error, Result};
use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

/// Every key starts with this, so that secret scanners and people recognise it.
pub const PREFIX: &str = "hk_";

impl From<api_key::Model> for ApiKeySummary {
    fn from(k: api_key::Model) -> Self {
        ApiKeySummary {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
            scopes: k.scopes,
        }
    }
}

/// Creates a key; returns it with the secret, which is not stored and cannot be shown again.
pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    name: &str,
    scopes: KeyScopes,
) -> Result<(ApiKeySummary, String)> {
    actor.require(Action::ManageApiKeys)?;
    if scopes.0.is_empty() {
        return Err(Error::Invalid(
            "Give the key at least one scope: read, write or send.".into(),
        ));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::Invalid(
            "Give the key a name of 1 to 100 characters (what uses it).".into(),
        ));
    }
    let secret = format!("{PREFIX}{}", new_token());
    let model = api_key::ActiveModel {
        org_id: Set(actor.org_id()),
        name: Set(name.to_owned()),
        prefix: Set(secret.chars().take(PREFIX.len() + 6).collect()),
        token_hash: Set(token_hash(&secret)),
        created_by: Set(actor.user_id()),
        created_at: Set(Utc::now()),
        scopes: Set(scopes),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((model.into(), secret))
}

pub async fn list(db: &impl ConnectionTrait, actor: &Actor) -> Result<Vec<ApiKeySummary>> {
    actor.require(Action::ManageApiKeys)?;
    Ok(api_key::Entity::find()
        .filter(api_key::Column::OrgId.eq(actor.org_id()))
        .order_by_desc(api_key::Column::CreatedAt)
        .order_by_desc(api_key::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// Revokes a key of the organisation; requests with it fail from now on.
pub async fn revoke(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> Result<()> {
    actor.require(Action::ManageApiKeys)?;
    let key = api_key::Entity::find_by_id(id)
        .filter(api_key::Column::OrgId.eq(actor.org_id()))
        .one(db)
        .await?
        .ok_or(Error::NotFound("API key"))?;
    if key.revoked_at.is_none() {
        let mut am: api_key::ActiveModel = key.into();
        am.revoked_at = Set(Some(Utc::now()));
        am.update(db).await?;
    }
    Ok(())
}

/// The actor a presented key stands for, if it is a live key. Notes when it was used (at most
/// once a minute).
pub async fn authenticate(db: &impl ConnectionTrait, secret: &str) -> Result<Option<Actor>> {
    if !secret.starts_with(PREFIX) || secret.len() > 100 {
        return Ok(None);
    }
    let Some(key) = api_key::Entity::find()
        .filter(api_key::Column::TokenHash.eq(token_hash(secret)))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if key.revoked_at.is_some() {
        return Ok(None);
    }
    let now = Utc::now();
    let actor = Actor::ApiKey(KeyActor {
        org_id: key.org_id,
        key_id: key.id,
        scopes: key.scopes.clone(),
    });
    if key
        .last_used_at
        .is_none_or(|t| now - t > Duration::minutes(1))
    {
        let mut am: api_key::ActiveModel = key.into();
        am.last_used_at = Set(Some(now));
        am.update(db).await?;
    }
    Ok(Some(actor))
}
