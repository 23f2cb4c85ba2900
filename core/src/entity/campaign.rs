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
    pub kind: String,
    pub message_type: String,
    pub channel: String,
    pub status: String,
    pub template_id: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub activated_at: Option<DateTimeUtc>,
    pub last_sent_at: Option<DateTimeUtc>,
    /// `domain::audience::Filter` as JSON.
    pub audience: String,
    /// `domain::trigger::Trigger` as JSON; unset in an unfinished draft.
    pub trigger: Option<String>,
    /// `domain::campaign::Settings` as JSON.
    pub settings: String,
    /// The template version it sends: fixed on activation and on each edit of an active campaign.
    pub template_version_id: Option<i64>,
    pub approval_requested_at: Option<DateTimeUtc>,
    pub approved_by: Option<i64>,
    pub approved_at: Option<DateTimeUtc>,
    pub deactivated_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
