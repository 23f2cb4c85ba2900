use crate::domain::{ExitReason, RunStatus};
use sea_orm::entity::prelude::*;

/// One contact's way through one version of a workflow (per key, for keyed entries).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "workflow_run")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub campaign_id: i64,
    pub version_id: i64,
    pub contact_id: i64,
    /// The entry's key (an invoice id); empty when the workflow is not keyed.
    pub run_key: String,
    /// The step it is at, since `arrived_at`, as its `seq`-th step.
    pub step_id: String,
    pub seq: i32,
    pub arrived_at: DateTimeUtc,
    /// When to advance it next (active runs only).
    pub wake_at: Option<DateTimeUtc>,
    pub status: RunStatus,
    pub exit_reason: Option<ExitReason>,
    pub entered_at: DateTimeUtc,
    pub ended_at: Option<DateTimeUtc>,
    /// Failed advances in a row, and the last one's error.
    pub attempts: i32,
    pub error: Option<String>,
    /// What its messages render with beyond the contact (an event's, a record's fields).
    pub context: Option<String>,
    /// Resumed after a pause with "skip": the send steps it passes when it next moves on are
    /// skipped (they were due while it was paused).
    pub skip_sends: bool,
}

impl ActiveModelBehavior for ActiveModel {}
