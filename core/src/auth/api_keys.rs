//! API keys for the REST API: per organisation, shown once, stored as SHA-256, revocable.

use crate::auth::accounts::{new_token, token_hash};
pub use crate::domain::ApiKeySummary;
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
        }
    }
}

/// Creates a key; returns it with the secret, which is not stored and cannot be shown again.
pub async fn create(
    db: &impl ConnectionTrait,
    org_id: i64,
    name: &str,
    created_by: Option<i64>,
) -> Result<(ApiKeySummary, String)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::Invalid(
            "Give the key a name of 1 to 100 characters (what uses it).".into(),
        ));
    }
    let secret = format!("{PREFIX}{}", new_token());
    let model = api_key::ActiveModel {
        org_id: Set(org_id),
        name: Set(name.to_owned()),
        prefix: Set(secret.chars().take(PREFIX.len() + 6).collect()),
        token_hash: Set(token_hash(&secret)),
        created_by: Set(created_by),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((model.into(), secret))
}

pub async fn list(db: &impl ConnectionTrait, org_id: i64) -> Result<Vec<ApiKeySummary>> {
    Ok(api_key::Entity::find()
        .filter(api_key::Column::OrgId.eq(org_id))
        .order_by_desc(api_key::Column::CreatedAt)
        .order_by_desc(api_key::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// Revokes a key of the organisation; requests with it fail from now on.
pub async fn revoke(db: &impl ConnectionTrait, org_id: i64, id: i64) -> Result<()> {
    let key = api_key::Entity::find_by_id(id)
        .filter(api_key::Column::OrgId.eq(org_id))
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

/// The organisation a presented key belongs to, if it is a live key. Notes when it was used
/// (at most once a minute).
pub async fn authenticate(db: &impl ConnectionTrait, secret: &str) -> Result<Option<i64>> {
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
    let org_id = key.org_id;
    if key
        .last_used_at
        .is_none_or(|t| now - t > Duration::minutes(1))
    {
        let mut am: api_key::ActiveModel = key.into();
        am.last_used_at = Set(Some(now));
        am.update(db).await?;
    }
    Ok(Some(org_id))
}
