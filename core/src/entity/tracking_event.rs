use crate::domain::{HitKind, Machine};
use sea_orm::entity::prelude::*;

/// One open, click or view in the browser, with what flagged it as a machine's.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tracking_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub campaign_id: i64,
    pub message_id: i64,
    pub contact_id: Option<i64>,
    pub kind: HitKind,
    pub link_id: Option<i64>,
    pub at: DateTimeUtc,
    pub machine: Option<Machine>,
    /// As the client sent it, cut to 300 characters (outside text: escaped where shown).
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
