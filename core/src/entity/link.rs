use sea_orm::entity::prelude::*;

/// A link of a campaign's messages, as it was before tracking rewrote it: what a click token's
/// link id names and the only place a click redirects to.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "link")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub campaign_id: i64,
    pub url: String,
    /// Hex of the URL's SHA-256: unique per campaign.
    pub url_key: String,
    pub clicks: i64,
    /// Messages that clicked it.
    pub unique_clicks: i64,
    /// Messages that clicked it when no machine seemed to.
    pub human_clicks: i64,
    pub first_clicked_at: Option<DateTimeUtc>,
    pub last_clicked_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
