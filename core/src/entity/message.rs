use crate::domain::{BounceType, Channel, DeliveryState, SkipReason};
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "message")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub campaign_id: i64,
    pub send_id: i64,
    pub contact_id: Option<i64>,
    pub channel: Channel,
    pub recipient: String,
    pub state: DeliveryState,
    /// Why a skipped message was not sent.
    pub skip_reason: Option<SkipReason>,
    /// A copy for a seed list: no contact, left out of the statistics.
    pub seed: bool,
    /// A queued message waits until then (a quiet period, a retry after a transient error).
    pub not_before: Option<DateTimeUtc>,
    /// When a sender claimed it; the provider call happens after this is committed.
    pub sending_at: Option<DateTimeUtc>,
    /// The sender run that claimed it, `job id:attempt`.
    pub sending_by: Option<String>,
    pub provider_message_id: Option<String>,
    pub error: Option<String>,
    pub attempts: i32,
    pub queued_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    pub delivered_at: Option<DateTimeUtc>,
    pub bounced_at: Option<DateTimeUtc>,
    pub bounce_type: Option<BounceType>,
    pub complained_at: Option<DateTimeUtc>,
    pub failed_at: Option<DateTimeUtc>,
    pub opens: i32,
    pub first_opened_at: Option<DateTimeUtc>,
    pub last_opened_at: Option<DateTimeUtc>,
    pub clicks: i32,
    pub first_clicked_at: Option<DateTimeUtc>,
    pub last_clicked_at: Option<DateTimeUtc>,
    /// The first open or click no machine seemed to make.
    pub human_opened_at: Option<DateTimeUtc>,
    pub human_clicked_at: Option<DateTimeUtc>,
    /// When the recipient unsubscribed through it.
    pub unsubscribed_at: Option<DateTimeUtc>,
    /// A workflow's message: the run and its position (unique together).
    pub run_id: Option<i64>,
    pub run_seq: Option<i32>,
}

impl ActiveModelBehavior for ActiveModel {}
