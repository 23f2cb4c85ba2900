use sea_orm::entity::prelude::*;

/// A campaign's opens and clicks in one hour (UTC): the chart over time.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign_hour")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub campaign_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub hour: DateTimeUtc,
    pub org_id: i64,
    pub opens: i64,
    pub human_opens: i64,
    pub clicks: i64,
    pub human_clicks: i64,
}

impl ActiveModelBehavior for ActiveModel {}
