//! The background job queue as operators see it (Settings → System, `herald jobs`).

use super::JobState;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One kind of job: how much is waiting and for how long.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindSummary {
    pub kind: String,
    pub pending: u64,
    /// Pending and due now (the rest wait for their time or a retry).
    pub due: u64,
    pub running: u64,
    pub failed: u64,
    /// When the oldest pending job of this kind was enqueued.
    pub oldest_pending_at: Option<DateTime<Utc>>,
}

/// One job in the lists of running and failed jobs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    /// What it works on, in words (`import 12`, `segment 3`).
    pub subject: String,
    pub state: JobState,
    pub attempts: i32,
    pub max_attempts: i32,
    pub last_error: Option<String>,
    pub run_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// Whether the viewer may retry it (their organisation's failed jobs).
    pub retryable: bool,
}

/// The queue at a glance.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueSummary {
    pub kinds: Vec<KindSummary>,
    pub running: Vec<JobRow>,
    pub failed: Vec<JobRow>,
    /// The clock the numbers were read at.
    pub now: Option<DateTime<Utc>>,
}

/// How the viewer's organisation is sending (Settings → System).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendingStatus {
    /// Where email goes, in words ("SMTP at smtp://relay:587").
    pub email_route: String,
    pub sms_route: String,
    /// The organisation's limit in messages per second (per instance), if it set one.
    pub rate_limit: Option<u32>,
    /// Messages handed to a provider in the last minute and the last hour.
    pub sent_last_minute: u64,
    pub sent_last_hour: u64,
    /// Messages waiting to be sent now.
    pub queued: u64,
    /// Since when and why a provider is not taking messages, per channel.
    pub outages: Vec<(String, DateTime<Utc>, String)>,
    /// What each channel's provider last answered.
    pub answers: Vec<ProviderAnswer>,
}

/// A provider's last answers on one channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderAnswer {
    pub channel: String,
    /// When it last took a message.
    pub last_ok_at: Option<DateTime<Utc>>,
    /// The last refusal, in its words.
    pub last_error: Option<String>,
}
