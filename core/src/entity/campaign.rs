use crate::domain::audience::Filter;
use crate::domain::campaign::{Draft, Settings};
use crate::domain::trigger::Trigger;
use crate::domain::workflow::Workflow;
use crate::domain::{CampaignKind, CampaignStatus, Channel, MessageType};
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub name: Option<String>,
    pub description: String,
    pub goal: String,
    pub kind: CampaignKind,
    pub message_type: MessageType,
    pub channel: Channel,
    pub status: CampaignStatus,
    pub template_id: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub activated_at: Option<DateTimeUtc>,
    pub last_sent_at: Option<DateTimeUtc>,
    pub audience: Filter,
    /// Unset in an unfinished draft.
    pub trigger: Option<Trigger>,
    pub settings: Settings,
    /// The template version it sends: fixed on activation and on each edit of an active campaign.
    pub template_version_id: Option<i64>,
    pub approval_requested_at: Option<DateTimeUtc>,
    pub approved_by: Option<i64>,
    pub approved_at: Option<DateTimeUtc>,
    pub deactivated_at: Option<DateTimeUtc>,
    /// Counts saves and status changes: activation checks a campaign and then changes it only
    /// if it is still the revision it checked.
    pub revision: i32,
    /// When a timed campaign (at a time, recurring) next runs; set on activation and by each
    /// run of the scheduler.
    pub next_run_at: Option<DateTimeUtc>,
    /// The last day (UTC) whose record dates a relative campaign's daily run has looked at.
    pub evaluated_through: Option<Date>,
    /// Changes to an active campaign that are not live yet: they wait until they validate and,
    /// where the organisation requires it, an admin approves them.
    pub pending: Option<Draft>,
    pub pending_by: Option<i64>,
    pub pending_at: Option<DateTimeUtc>,
    /// The workflow being edited, for a campaign that is a series of steps.
    pub workflow: Option<Workflow>,
    /// The published version of the workflow that runs enter (`None`: a one-message campaign).
    pub workflow_version_id: Option<i64>,
}

impl ActiveModelBehavior for ActiveModel {}
