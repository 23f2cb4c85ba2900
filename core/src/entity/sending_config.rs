use sea_orm::entity::prelude::*;

/// How one organisation sends (see `delivery::sending`); secrets are sealed.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sending_config")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub org_id: i64,
    pub email_provider: String,
    pub smtp_url: Option<String>,
    pub ses_region: Option<String>,
    pub ses_configuration_set: Option<String>,
    pub ses_topic_arn: Option<String>,
    pub sms_provider: String,
    pub sms_url: Option<String>,
    pub sms_from: Option<String>,
    pub rate_per_second: Option<i32>,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
