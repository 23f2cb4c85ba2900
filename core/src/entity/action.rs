use crate::domain::{ActionState, Channel};
use sea_orm::entity::prelude::*;

/// A message that could not be sent, as a to-do for the campaign's creator.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "action")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub campaign_id: i64,
    /// The message that could not be sent (none for a workflow's to-do step).
    pub message_id: Option<i64>,
    pub contact_id: i64,
    pub channel: Channel,
    pub reason: String,
    pub owner_id: Option<i64>,
    pub state: ActionState,
    pub created_at: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
    pub resolved_by: Option<i64>,
    /// A workflow's to-do step: the run and its position (unique together).
    pub run_id: Option<i64>,
    pub run_seq: Option<i32>,
}

impl ActiveModelBehavior for ActiveModel {}
