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
}

impl ActiveModelBehavior for ActiveModel {}
