use crate::domain::JobState;
use sea_orm::entity::prelude::*;

/// One piece of background work (see `crate::jobs`).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The job type's name (`contacts.import`, `segments.refresh`...).
    pub kind: String,
    /// The job's own data, as JSON.
    pub payload: String,
    /// The organisation it works for; `None` for work of the whole instance.
    pub org_id: Option<i64>,
    /// Higher runs first.
    pub priority: i32,
    pub state: JobState,
    /// Not before this time.
    pub run_at: DateTimeUtc,
    /// Claims so far, including one that is running.
    pub attempts: i32,
    pub max_attempts: i32,
    pub last_error: Option<String>,
    /// The worker holding it, until `lease_expires_at`.
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTimeUtc>,
    /// The PostgreSQL advisory lock the holding worker keeps while its process lives; `None`
    /// where the lease alone tells (SQLite, one-off runs). See `crate::jobs::liveness`.
    pub lease_key: Option<i32>,
    /// Two jobs of one kind with the same key are never pending at once.
    pub dedup_key: Option<String>,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub failed_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
