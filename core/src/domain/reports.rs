//! What report pages show: a campaign's per-recipient table (one row per message, its query
//! and sort), its links, its opens and clicks over time, and the organisation's sending and
//! deliverability against the limits providers enforce.

use super::{DeliveryState, DeliveryStats, MessageType, Rate, RecipientFilter, RecipientSort};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Rows of the per-recipient table per page.
pub const PER_PAGE: u64 = 50;

/// What the per-recipient table shows of one message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecipientRow {
    pub message_id: i64,
    pub contact_id: Option<i64>,
    /// The contact's name (empty when it has none or is gone).
    pub name: String,
    pub recipient: String,
    pub state: DeliveryState,
    pub sent_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub bounced_at: Option<DateTime<Utc>>,
    pub soft_bounce: bool,
    pub complained_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    /// The skip reason, the provider's error or the bounce's diagnostic (outside text).
    pub detail: Option<String>,
    pub opens: i32,
    pub first_opened_at: Option<DateTime<Utc>>,
    pub last_opened_at: Option<DateTime<Utc>>,
    pub clicks: i32,
    pub first_clicked_at: Option<DateTime<Utc>>,
    pub last_clicked_at: Option<DateTime<Utc>>,
    /// Whether no opens or clicks of it looked like a person's (all flagged as machines').
    pub machine_only: bool,
}

impl RecipientRow {
    /// How the row is coloured: red for bounces, complaints and failures, green for opens.
    pub fn tone(&self) -> &'static str {
        match self.state {
            DeliveryState::Bounced | DeliveryState::Failed | DeliveryState::Complained => "bad",
            _ if self.opens > 0 || self.clicks > 0 => "good",
            _ => "",
        }
    }
}

/// A page of the per-recipient table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RecipientQuery {
    pub filter: Option<RecipientFilter>,
    pub sort: Option<RecipientSort>,
    /// Descending.
    pub desc: bool,
    /// Recipient address or name contains this.
    pub search: String,
    /// From 1.
    pub page: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientPage {
    pub rows: Vec<RecipientRow>,
    /// Rows matching the query.
    pub total: u64,
    pub page: u64,
    pub pages: u64,
}

/// One link of a campaign and its clicks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkRow {
    pub url: String,
    pub clicks: i64,
    /// Messages that clicked it.
    pub unique_clicks: i64,
    /// Messages that clicked it when no machine seemed to.
    pub human_clicks: i64,
    pub last_clicked_at: Option<DateTime<Utc>>,
}

/// Opens and clicks in one hour.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourRow {
    pub hour: DateTime<Utc>,
    pub opens: i64,
    pub human_opens: i64,
    pub clicks: i64,
    pub human_clicks: i64,
}

/// One run of a campaign with its numbers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRow {
    pub send_id: i64,
    pub started_at: DateTime<Utc>,
    pub stats: DeliveryStats,
}

/// What a campaign's report shows beside its cards and its recipients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignReport {
    pub links: Vec<LinkRow>,
    /// The last 48 hours with opens or clicks, oldest first.
    pub hours: Vec<HourRow>,
    /// The latest runs, newest first.
    pub runs: Vec<RunRow>,
}

/// Where a rate stands against a provider's limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Standing {
    Fine,
    /// Near the point where a provider reviews the account.
    Warning,
    /// Past it: sending may be paused.
    Over,
}

/// Amazon SES reviews an account at a 5 % bounce rate and may pause it at 10 %; for complaints
/// at 0.1 % and 0.5 %. Gmail and Yahoo ask bulk senders to stay under 0.3 % spam complaints.
/// Herald warns at half the review point.
pub const BOUNCE_LIMITS: (f64, f64) = (2.5, 5.0);
pub const COMPLAINT_LIMITS: (f64, f64) = (0.05, 0.1);

/// Where `rate` stands against `(warn, over)` in percent (no data: fine).
pub fn standing(rate: Rate, (warn, over): (f64, f64)) -> Standing {
    match rate.percent() {
        Some(p) if p >= over => Standing::Over,
        Some(p) if p >= warn => Standing::Warning,
        _ => Standing::Fine,
    }
}

/// Messages sent in one week by type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekRow {
    /// Monday of the week.
    pub week: chrono::NaiveDate,
    pub message_type: MessageType,
    pub sent: i64,
}

/// A campaign's engagement, for the organisation's report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignEngagement {
    pub id: i64,
    pub name: String,
    pub message_type: MessageType,
    pub stats: DeliveryStats,
}

/// The organisation's report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub since: DateTime<Utc>,
    pub weeks: Vec<WeekRow>,
    pub campaigns: Vec<CampaignEngagement>,
    /// Email in the period: sent, bounced (permanent), complained.
    pub email: DeliveryStats,
    pub bounce: Standing,
    pub complaint: Standing,
}

/// A bar chart's bars, scaled to `height`: each value's height, rounded (an empty chart is
/// flat). Drawn by the page itself as SVG, readable without JavaScript.
pub fn bars(values: &[i64], height: u32) -> Vec<u32> {
    let max = values.iter().copied().max().unwrap_or(0).max(0);
    values
        .iter()
        .map(|v| {
            if max == 0 {
                0
            } else {
                ((v.max(&0) * i64::from(height) + max / 2) / max) as u32
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standings() {
        let r = |part, whole| Rate { part, whole };
        for (rate, limits, want) in [
            (r(0, 0), BOUNCE_LIMITS, Standing::Fine),
            (r(2, 100), BOUNCE_LIMITS, Standing::Fine),
            (r(3, 100), BOUNCE_LIMITS, Standing::Warning),
            (r(5, 100), BOUNCE_LIMITS, Standing::Over),
            (r(1, 10_000), COMPLAINT_LIMITS, Standing::Fine),
            (r(5, 10_000), COMPLAINT_LIMITS, Standing::Warning),
            (r(1, 1000), COMPLAINT_LIMITS, Standing::Over),
        ] {
            assert_eq!(standing(rate, limits), want, "{rate:?}");
        }
    }

    #[test]
    fn bars_scale_to_the_highest() {
        assert_eq!(bars(&[0, 5, 10], 100), vec![0, 50, 100]);
        assert_eq!(bars(&[0, 0], 100), vec![0, 0]);
        assert_eq!(bars(&[], 100), Vec::<u32>::new());
        assert_eq!(bars(&[1, 3], 10), vec![3, 10]);
    }

    #[test]
    fn rows_are_coloured_by_what_happened() {
        let row = RecipientRow {
            message_id: 1,
            contact_id: None,
            name: String::new(),
            recipient: "a@x.example".into(),
            state: DeliveryState::Delivered,
            sent_at: None,
            delivered_at: None,
            bounced_at: None,
            soft_bounce: false,
            complained_at: None,
            failed_at: None,
            detail: None,
            opens: 0,
            first_opened_at: None,
            last_opened_at: None,
            clicks: 0,
            first_clicked_at: None,
            last_clicked_at: None,
            machine_only: false,
        };
        assert_eq!(row.tone(), "");
        assert_eq!(
            RecipientRow {
                opens: 2,
                ..row.clone()
            }
            .tone(),
            "good"
        );
        for bad in [
            DeliveryState::Bounced,
            DeliveryState::Failed,
            DeliveryState::Complained,
        ] {
            assert_eq!(
                RecipientRow {
                    state: bad,
                    opens: 3,
                    ..row.clone()
                }
                .tone(),
                "bad"
            );
        }
    }
}
