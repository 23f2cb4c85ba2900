//! Manual actions and run notifications as the app shows them, and the one rule that names a
//! run's outcome.

use super::{ActionState, Channel, RunOutcome};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A message that could not be sent, as a to-do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRow {
    pub id: i64,
    pub campaign_id: i64,
    pub campaign_name: String,
    pub contact_id: i64,
    pub contact_name: String,
    /// The contact's address for the channel now (fixed since, perhaps).
    pub address: Option<String>,
    pub channel: Channel,
    pub reason: String,
    pub state: ActionState,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// The Actions page's filters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionFilter {
    pub campaign_id: Option<i64>,
    pub channel: Option<Channel>,
    /// None: every state.
    pub state: Option<ActionState>,
    /// Only the actions of the signed-in user's campaigns.
    pub mine: bool,
}

/// One page of actions, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionPage {
    pub total: u64,
    pub page: u64,
    pub pages: u64,
    pub rows: Vec<ActionRow>,
    /// The campaigns that have actions, for the filter: (id, name).
    pub campaigns: Vec<(i64, String)>,
}

/// What resolving several actions did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolved {
    pub sent: u64,
    pub ignored: u64,
    /// Actions left to do because the contact still has no address for the channel, by
    /// contact name.
    pub still_missing: Vec<String>,
}

impl Resolved {
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.sent > 0 {
            parts.push(format!("{} sent", self.sent));
        }
        if self.ignored > 0 {
            parts.push(format!("{} ignored", self.ignored));
        }
        if !self.still_missing.is_empty() {
            parts.push(format!(
                "still no address for {}",
                self.still_missing.join(", ")
            ));
        }
        if parts.is_empty() {
            "Nothing to do: those actions were already handled.".into()
        } else {
            let mut s = parts.join("; ");
            s[..1].make_ascii_uppercase();
            s + "."
        }
    }
}

/// A notification in the bell's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRow {
    pub id: i64,
    pub campaign_id: Option<i64>,
    pub outcome: RunOutcome,
    pub title: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

/// The bell: unread count and the latest notifications.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notifications {
    pub unread: u64,
    pub latest: Vec<NotificationRow>,
}

/// How a run went: `sent` messages went out, `to_act` could not be sent and became actions,
/// `skipped` were left out by rule (unsubscribed, suppressed, inactive…).
pub fn outcome(sent: u64, to_act: u64, skipped: u64) -> RunOutcome {
    match (sent, to_act) {
        (0, _) if to_act + skipped > 0 => RunOutcome::Failed,
        (_, 0) => RunOutcome::Success,
        _ => RunOutcome::Partial,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runs_outcome() {
        use RunOutcome::*;
        for (sent, to_act, skipped, expected) in [
            (10, 0, 0, Success),
            (10, 0, 3, Success), // left out by rule: nothing went wrong
            (10, 2, 0, Partial),
            (1, 5, 5, Partial),
            (0, 3, 0, Failed),
            (0, 0, 4, Failed),  // nobody could be reached
            (0, 0, 0, Success), // an empty audience: nothing to send, nothing failed
        ] {
            assert_eq!(
                outcome(sent, to_act, skipped),
                expected,
                "{sent} {to_act} {skipped}"
            );
        }
    }

    #[test]
    fn resolutions_in_words() {
        let r = Resolved {
            sent: 2,
            ignored: 1,
            still_missing: vec!["Ada".into()],
        };
        assert_eq!(r.describe(), "2 sent; 1 ignored; still no address for Ada.");
        assert_eq!(
            Resolved::default().describe(),
            "Nothing to do: those actions were already handled."
        );
    }
}
