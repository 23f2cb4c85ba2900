//! Triggers: when a campaign sends. A trigger is data (stored as JSON with the campaign, edited
//! in the builder), described in words for people, validated before activation, and compared
//! with other campaigns' triggers by the duplicate detector ([`Trigger::gap_days`]).

use super::audience::Unit;
use super::vocabulary::Choice;
use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

/// A date on a contact's record that a campaign can be timed against.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordDate {
    CredentialPublished,
    CredentialRenewed,
    CredentialExpires,
    EnrollmentStarts,
    EnrollmentEnds,
    Booking,
    PassValidFrom,
    PassValidTo,
    SubscriptionStarts,
    SubscriptionEnds,
    Order,
}

// Its words (`key`, `label`, the list) are in `super::vocabulary`.
impl RecordDate {
    /// The kind of record the date belongs to (what `record.*` tags refer to).
    pub fn record(self) -> &'static str {
        match self {
            RecordDate::CredentialPublished
            | RecordDate::CredentialRenewed
            | RecordDate::CredentialExpires => "credential",
            RecordDate::EnrollmentStarts | RecordDate::EnrollmentEnds => "enrollment",
            RecordDate::Booking => "booking",
            RecordDate::PassValidFrom | RecordDate::PassValidTo => "pass",
            RecordDate::SubscriptionStarts | RecordDate::SubscriptionEnds => "subscription",
            RecordDate::Order => "order",
        }
    }
}

/// Before, on or after a record date.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    Before,
    On,
    After,
}

/// How often a recurring campaign sends.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "every", rename_all = "snake_case")]
pub enum Cadence {
    Daily,
    /// `weekday`: 0 = Monday … 6 = Sunday.
    Weekly {
        weekday: u8,
    },
    /// `day`: 1 … 28, so every month has it.
    Monthly {
        day: u8,
    },
}

/// The weekdays of [`Cadence::Weekly`], from Monday (0).
pub const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// When a campaign sends.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "trigger", rename_all = "snake_case")]
pub enum Trigger {
    /// Once, to the whole audience, when the campaign is activated.
    Immediately,
    /// Once, at a moment.
    At { at: DateTime<Utc> },
    /// Again and again; `minute` of the day (0 … 1439) in the organisation's time zone.
    Recurring { cadence: Cadence, minute: u16 },
    /// Per record: `amount` `unit`s before, on or after one of its dates.
    Relative {
        date: RecordDate,
        relation: Relation,
        amount: u32,
        unit: Unit,
    },
    /// When a contact enters a saved segment.
    SegmentEntered { segment_id: i64 },
    /// When an event with this name is received for a contact.
    Event { name: String },
}

/// Longest offset from a record date: ten years.
pub const MAX_OFFSET_DAYS: i64 = 3_650;

fn unit_days(unit: Unit) -> i64 {
    match unit {
        Unit::Days => 1,
        Unit::Weeks => 7,
        Unit::Months => 30,
    }
}

fn plural(amount: u32, unit: Unit) -> String {
    let name = match unit {
        Unit::Days => "day",
        Unit::Weeks => "week",
        Unit::Months => "month",
    };
    if amount == 1 {
        format!("1 {name}")
    } else {
        format!("{amount} {name}s")
    }
}

fn clock(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

impl Trigger {
    /// The trigger in words: "7 days before a credential expires".
    pub fn describe(&self) -> String {
        match self {
            Trigger::Immediately => "Immediately on activation".into(),
            Trigger::At { at } => format!("Once, on {}", at.format("%Y-%m-%d at %H:%M UTC")),
            Trigger::Recurring { cadence, minute } => match cadence {
                Cadence::Daily => format!("Every day at {}", clock(*minute)),
                Cadence::Weekly { weekday } => format!(
                    "Every {} at {}",
                    WEEKDAYS.get(*weekday as usize).unwrap_or(&"?"),
                    clock(*minute)
                ),
                Cadence::Monthly { day } => {
                    format!("On day {day} of every month at {}", clock(*minute))
                }
            },
            Trigger::Relative {
                date,
                relation: Relation::On,
                ..
            } => format!("On the day {}", date.label()),
            Trigger::Relative {
                date,
                relation,
                amount,
                unit,
            } => format!(
                "{} {} {}",
                plural(*amount, *unit),
                if *relation == Relation::Before {
                    "before"
                } else {
                    "after"
                },
                date.label()
            ),
            Trigger::SegmentEntered { segment_id } => {
                format!("When a contact enters segment #{segment_id}")
            }
            Trigger::Event { name } => format!("When the event “{name}” is received"),
        }
    }

    /// What activating a campaign with this trigger does, for the confirmation; `reach` is
    /// "1,200 contacts" or "its audience".
    pub fn on_activation(&self, reach: &str) -> String {
        match self {
            Trigger::Immediately => format!("It starts sending to {reach} now."),
            Trigger::SegmentEntered { .. } | Trigger::Event { .. } => format!(
                "It sends to the contacts of {reach} {}, within a minute, from now on.",
                self.describe().to_lowercase()
            ),
            Trigger::Relative { .. } => format!(
                "It sends to the contacts of {reach} {}, checked once a day.",
                self.describe().to_lowercase()
            ),
            _ => format!("It sends to {reach}: {}.", self.describe().to_lowercase()),
        }
    }

    /// Whether the campaign sends one run only (and is complete once it has).
    pub fn runs_once(&self) -> bool {
        matches!(self, Trigger::Immediately | Trigger::At { .. })
    }

    /// What is wrong with the trigger, in words; empty when it can be activated at `now`.
    pub fn problems(&self, now: DateTime<Utc>) -> Vec<String> {
        let mut out = Vec::new();
        match self {
            Trigger::Immediately | Trigger::SegmentEntered { .. } => {}
            Trigger::At { at } => {
                if *at <= now {
                    out.push("The send time is in the past.".into());
                }
            }
            Trigger::Recurring { cadence, minute } => {
                if *minute >= 24 * 60 {
                    out.push("The time of day must be between 00:00 and 23:59.".into());
                }
                match cadence {
                    Cadence::Weekly { weekday } if *weekday > 6 => {
                        out.push("Pick a day of the week.".into())
                    }
                    Cadence::Monthly { day } if !(1..=28).contains(day) => {
                        out.push("The day of the month must be between 1 and 28.".into())
                    }
                    _ => {}
                }
            }
            Trigger::Relative {
                relation,
                amount,
                unit,
                ..
            } => {
                if *relation != Relation::On && *amount == 0 {
                    out.push("Say how many days, weeks or months before or after.".into());
                }
                if i64::from(*amount) * unit_days(*unit) > MAX_OFFSET_DAYS {
                    out.push("The offset can be at most ten years.".into());
                }
            }
            Trigger::Event { name } => {
                if name.trim().is_empty() {
                    out.push("Name the event that triggers the campaign.".into());
                }
            }
        }
        out
    }

    /// Signed offset in days from the record date (before: negative), for relative triggers.
    pub fn offset_days(&self) -> Option<i64> {
        match self {
            Trigger::Relative {
                relation,
                amount,
                unit,
                ..
            } => {
                let days = i64::from(*amount) * unit_days(*unit);
                Some(match relation {
                    Relation::Before => -days,
                    Relation::On => 0,
                    Relation::After => days,
                })
            }
            _ => None,
        }
    }

    /// How many days apart two campaigns send to the same contact at the closest, when that can
    /// be known from the triggers alone; `None` when they fire on unrelated things (an event and
    /// a credential date), so timing says nothing either way. `since` is when each campaign was
    /// (or would be) activated, which is when an immediate trigger fires.
    pub fn gap_days(
        &self,
        self_since: DateTime<Utc>,
        other: &Trigger,
        other_since: DateTime<Utc>,
    ) -> Option<i64> {
        use Trigger::*;
        let moment = |t: &Trigger, since: DateTime<Utc>| match t {
            Immediately => Some(since),
            At { at } => Some(*at),
            _ => None,
        };
        match (self, other) {
            (Relative { date: a, .. }, Relative { date: b, .. }) => {
                let gap = (self.offset_days()? - other.offset_days()?).abs();
                (a == b).then_some(gap)
            }
            (SegmentEntered { segment_id: a }, SegmentEntered { segment_id: b }) => {
                (a == b).then_some(0)
            }
            (Event { name: a }, Event { name: b }) => (a.trim() == b.trim()).then_some(0),
            (Recurring { cadence: a, .. }, Recurring { cadence: b, .. }) => {
                Some(cadence_gap(*a, *b))
            }
            (Recurring { cadence, .. }, t) | (t, Recurring { cadence, .. }) => {
                let since = if matches!(self, Recurring { .. }) {
                    other_since
                } else {
                    self_since
                };
                moment(t, since).map(|m| gap_to_cadence(*cadence, m))
            }
            (a, b) => {
                let (x, y) = (moment(a, self_since)?, moment(b, other_since)?);
                Some((x - y).num_days().abs())
            }
        }
    }
}

/// Days from a moment to the nearest send of a cadence.
fn gap_to_cadence(cadence: Cadence, at: DateTime<Utc>) -> i64 {
    match cadence {
        Cadence::Daily => 0,
        Cadence::Weekly { weekday } => {
            let d =
                (i64::from(at.weekday().num_days_from_monday()) - i64::from(weekday)).rem_euclid(7);
            d.min(7 - d)
        }
        Cadence::Monthly { day } => {
            let d = (i64::from(at.day()) - i64::from(day)).rem_euclid(30);
            d.min(30 - d)
        }
    }
}

/// Days between the closest sends of two cadences.
fn cadence_gap(a: Cadence, b: Cadence) -> i64 {
    use Cadence::*;
    match (a, b) {
        (Daily, _) | (_, Daily) => 0,
        // Every week has every weekday, so a weekly send is at most 3 days from any other.
        (Weekly { weekday: x }, Weekly { weekday: y }) => {
            let d = (i64::from(x) - i64::from(y)).rem_euclid(7);
            d.min(7 - d)
        }
        // Some week of every month lands on the weekly day.
        (Weekly { .. }, Monthly { .. }) | (Monthly { .. }, Weekly { .. }) => 0,
        (Monthly { day: x }, Monthly { day: y }) => {
            let d = (i64::from(x) - i64::from(y)).rem_euclid(30);
            d.min(30 - d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(d: u32) -> DateTime<Utc> {
        // 2026-06-01 is a Monday.
        Utc.with_ymd_and_hms(2026, 6, d, 9, 0, 0).unwrap()
    }

    fn rel(date: RecordDate, relation: Relation, amount: u32, unit: Unit) -> Trigger {
        Trigger::Relative {
            date,
            relation,
            amount,
            unit,
        }
    }

    fn weekly(weekday: u8) -> Trigger {
        Trigger::Recurring {
            cadence: Cadence::Weekly { weekday },
            minute: 540,
        }
    }

    fn monthly(day: u8) -> Trigger {
        Trigger::Recurring {
            cadence: Cadence::Monthly { day },
            minute: 540,
        }
    }

    #[test]
    fn activation_says_what_happens() {
        assert_eq!(
            Trigger::Immediately.on_activation("12 contacts"),
            "It starts sending to 12 contacts now."
        );
        assert_eq!(
            Trigger::Event {
                name: "signup".into(),
            }
            .on_activation("its audience"),
            "It sends to the contacts of its audience when the event “signup” is received, \
             within a minute, from now on."
        );
        assert_eq!(
            monthly(15).on_activation("3 contacts"),
            "It sends to 3 contacts: on day 15 of every month at 09:00."
        );
        assert!(
            Trigger::Immediately.runs_once() && !Trigger::Event { name: "x".into() }.runs_once()
        );
    }

    #[test]
    fn describes_triggers_in_words() {
        use RecordDate::*;
        let cases = [
            (
                rel(CredentialExpires, Relation::Before, 7, Unit::Days),
                "7 days before a credential expires",
            ),
            (
                rel(CredentialPublished, Relation::After, 1, Unit::Weeks),
                "1 week after a credential is published",
            ),
            (
                rel(EnrollmentEnds, Relation::On, 0, Unit::Days),
                "On the day an enrollment ends",
            ),
            (Trigger::Immediately, "Immediately on activation"),
            (weekly(2), "Every Wednesday at 09:00"),
            (monthly(15), "On day 15 of every month at 09:00"),
            (
                Trigger::At { at: day(3) },
                "Once, on 2026-06-03 at 09:00 UTC",
            ),
            (
                Trigger::Event {
                    name: "invoice_paid".into(),
                },
                "When the event “invoice_paid” is received",
            ),
        ];
        for (trigger, words) in cases {
            assert_eq!(trigger.describe(), words, "{trigger:?}");
        }
    }

    #[test]
    fn problems_are_reported_in_words() {
        let now = day(10);
        let cases: Vec<(Trigger, &[&str])> = vec![
            (Trigger::Immediately, &[]),
            (Trigger::At { at: day(11) }, &[]),
            (
                Trigger::At { at: day(9) },
                &["The send time is in the past."],
            ),
            (
                rel(RecordDate::Order, Relation::After, 0, Unit::Days),
                &["Say how many days, weeks or months before or after."],
            ),
            (rel(RecordDate::Order, Relation::On, 0, Unit::Days), &[]),
            (
                rel(RecordDate::Order, Relation::Before, 122, Unit::Months),
                &["The offset can be at most ten years."],
            ),
            (
                Trigger::Recurring {
                    cadence: Cadence::Monthly { day: 31 },
                    minute: 1440,
                },
                &[
                    "The time of day must be between 00:00 and 23:59.",
                    "The day of the month must be between 1 and 28.",
                ],
            ),
            (weekly(7), &["Pick a day of the week."]),
            (
                Trigger::Event { name: "  ".into() },
                &["Name the event that triggers the campaign."],
            ),
        ];
        for (trigger, expected) in cases {
            assert_eq!(trigger.problems(now), expected, "{trigger:?}");
        }
    }

    #[test]
    fn gap_between_triggers() {
        use RecordDate::*;
        let since = day(1);
        let cases: Vec<(Trigger, Trigger, Option<i64>)> = vec![
            // Same record date: the offsets' distance.
            (
                rel(CredentialExpires, Relation::Before, 30, Unit::Days),
                rel(CredentialExpires, Relation::Before, 4, Unit::Weeks),
                Some(2),
            ),
            (
                rel(CredentialExpires, Relation::Before, 1, Unit::Days),
                rel(CredentialExpires, Relation::After, 1, Unit::Days),
                Some(2),
            ),
            (
                rel(CredentialExpires, Relation::On, 0, Unit::Days),
                rel(CredentialExpires, Relation::Before, 1, Unit::Months),
                Some(30),
            ),
            // Different record dates: unrelated.
            (
                rel(CredentialExpires, Relation::On, 0, Unit::Days),
                rel(CredentialPublished, Relation::On, 0, Unit::Days),
                None,
            ),
            (
                Trigger::Event {
                    name: "paid".into(),
                },
                Trigger::Event {
                    name: "paid".into(),
                },
                Some(0),
            ),
            (
                Trigger::Event {
                    name: "paid".into(),
                },
                Trigger::Event {
                    name: "late".into(),
                },
                None,
            ),
            (
                Trigger::SegmentEntered { segment_id: 4 },
                Trigger::SegmentEntered { segment_id: 4 },
                Some(0),
            ),
            (
                Trigger::SegmentEntered { segment_id: 4 },
                Trigger::Event { name: "x".into() },
                None,
            ),
            // Moments: immediate fires at `since` (1 June).
            (Trigger::Immediately, Trigger::At { at: day(4) }, Some(3)),
            (
                Trigger::At { at: day(20) },
                Trigger::At { at: day(4) },
                Some(16),
            ),
            (Trigger::Immediately, Trigger::Immediately, Some(0)),
            // Cadences.
            (weekly(0), weekly(5), Some(2)),
            (weekly(1), weekly(1), Some(0)),
            (monthly(1), monthly(28), Some(3)),
            (monthly(1), monthly(15), Some(14)),
            (weekly(3), monthly(9), Some(0)),
            // A moment against a cadence: 4 June 2026 is a Thursday (3).
            (Trigger::At { at: day(4) }, weekly(0), Some(3)),
            (weekly(3), Trigger::At { at: day(4) }, Some(0)),
            (Trigger::At { at: day(4) }, monthly(6), Some(2)),
            (
                Trigger::Recurring {
                    cadence: Cadence::Daily,
                    minute: 0,
                },
                Trigger::Immediately,
                Some(0),
            ),
            (weekly(0), Trigger::Event { name: "x".into() }, None),
        ];
        for (a, b, gap) in cases {
            assert_eq!(a.gap_days(since, &b, since), gap, "{a:?} vs {b:?}");
            assert_eq!(b.gap_days(since, &a, since), gap, "{b:?} vs {a:?}");
        }
    }

    #[test]
    fn record_date_keys_round_trip() {
        use crate::domain::vocabulary::Choice;
        for &d in RecordDate::CHOICES {
            assert_eq!(RecordDate::from_key(d.key()), Some(d));
            let json = serde_json::to_string(&d).unwrap();
            assert_eq!(json, format!("\"{}\"", d.key()));
        }
        assert_eq!(RecordDate::from_key("nope"), None);
    }
}
