use crate::domain::access::KeyScopes;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_key")]
/// A per-organisation key for the REST API; only its SHA-256 is stored.
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    /// The first characters of the key, to recognise it in lists.
    pub prefix: String,
    pub token_hash: String,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    /// What the key may do.
    pub scopes: KeyScopes,
}

impl ActiveModelBehavior for ActiveModel {}
