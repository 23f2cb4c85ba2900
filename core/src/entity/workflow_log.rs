use crate::domain::{ExitReason, RunStatus};
use sea_orm::entity::prelude::*;

/// A step a run arrived at (`status` active), or where it ended (completed, exited).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "workflow_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub campaign_id: i64,
    pub run_id: i64,
    pub version_id: i64,
    pub seq: i32,
    pub step_id: String,
    pub status: RunStatus,
    pub exit_reason: Option<ExitReason>,
    pub at: DateTimeUtc,
    /// Which way out of the step before it the run took to get here.
    pub via: Option<i32>,
}

impl ActiveModelBehavior for ActiveModel {}
