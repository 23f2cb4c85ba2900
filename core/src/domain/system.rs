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
