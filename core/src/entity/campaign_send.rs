use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign_send")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub campaign_id: i64,
    pub started_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
    /// The run this send is (unique per campaign): `activation:<time>`, `at`, a recurring
    /// run's time, an event's id. Enqueueing the same occurrence twice finds this row.
    pub occurrence: String,
    /// The fan-out's progress: the last contact id it has written messages for.
    pub cursor: i64,
    /// Every recipient has a message row (queued or skipped).
    pub fanned_out_at: Option<DateTimeUtc>,
    /// How many sender jobs share the rows (row id modulo `shards`).
    pub shards: i32,
    /// The send is for the contacts of `send_target` only (those an event, a record date or a
    /// segment entry picked), as far as they are in the campaign's audience.
    pub targeted: bool,
    /// A workflow's send step (of version `version_id`): a send that lasts as long as the
    /// version, with a message per run that passes the step.
    pub version_id: Option<i64>,
    pub step_id: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
