use sea_orm::entity::prelude::*;

/// A domain the organisation sends from, with its DKIM key (the private key sealed).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sending_domain")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub domain: String,
    pub selector: String,
    pub private_key: String,
    pub public_key: String,
    pub created_at: DateTimeUtc,
    /// The last check of its SPF, DKIM and DMARC records (`domain::sender_auth::DomainCheck`,
    /// JSON), if it was ever checked.
    #[sea_orm(column_type = "Text", nullable)]
    pub dns_check: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
