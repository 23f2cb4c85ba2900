//! A campaign as the builder edits it: general information, audience, trigger and template, in
//! any order. [`Draft::problems`] says in words what is missing before it can be activated.

use super::audience::Filter;
use super::trigger::Trigger;
use super::{CampaignKind, Channel, EmailAddress, MessageType};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How often one contact may receive the campaign.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "frequency", rename_all = "snake_case")]
pub enum Frequency {
    /// At most once, ever.
    #[default]
    Once,
    /// Every time the trigger is met.
    EveryTime,
    /// At most once every `days` days.
    AtMostEvery { days: u32 },
}

/// A daily window, in the recipient's time zone, when nothing is sent. `start` and `end` are
/// minutes of the day; a window may wrap past midnight (22:00–07:00).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QuietPeriod {
    pub start: u16,
    pub end: u16,
}

impl QuietPeriod {
    /// Whether `minute` (of the recipient's local day) falls in the window.
    pub fn contains(self, minute: u16) -> bool {
        if self.start <= self.end {
            self.start <= minute && minute < self.end
        } else {
            minute >= self.start || minute < self.end
        }
    }
}

/// Part of the audience that gets its own template.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Split {
    pub segment_id: i64,
    pub template_id: i64,
}

/// General information, stored as the campaign's `settings`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub from_name: String,
    pub from_email: String,
    pub reply_to: String,
    /// 1 (lowest) … 5 (highest); 3 when unset.
    pub priority: u8,
    /// Language of the message; contacts get the template's variant for it or for their own.
    pub language: String,
    pub quiet_periods: Vec<QuietPeriod>,
    pub expires_at: Option<DateTime<Utc>>,
    pub frequency: Frequency,
    pub seed_list_id: Option<i64>,
    pub suppression_list_ids: Vec<i64>,
    pub splits: Vec<Split>,
    /// The template version each split's template sends, by template id: fixed on activation
    /// (as the campaign's own template version is); whatever a draft carries is replaced then.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub split_versions: std::collections::BTreeMap<i64, i64>,
}

/// What [`Draft::problems`] says of a campaign without a template (a workflow's steps name
/// theirs instead).
pub const NO_TEMPLATE: &str = "Choose the template to send.";

/// Everything the builder edits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub name: String,
    pub description: String,
    pub goal: String,
    pub kind: CampaignKind,
    pub message_type: MessageType,
    pub channel: Channel,
    pub audience: Filter,
    pub trigger: Option<Trigger>,
    pub template_id: Option<i64>,
    pub settings: Settings,
}

impl Default for Draft {
    fn default() -> Self {
        Draft {
            name: String::new(),
            description: String::new(),
            goal: String::new(),
            kind: CampaignKind::OneTime,
            message_type: MessageType::Marketing,
            channel: Channel::Email,
            audience: Filter::everyone(),
            trigger: None,
            template_id: None,
            settings: Settings::default(),
        }
    }
}

/// What saving a campaign did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    pub id: i64,
    /// Changes to an active campaign that are saved but not live yet.
    pub pending: bool,
    /// What the pending changes wait for, in words.
    pub waiting_for: Vec<String>,
}

/// Everything a campaign refers to by id, so that each can be checked to be the organisation's
/// own (and of the right kind) before it is saved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct References {
    pub groups: std::collections::BTreeSet<i64>,
    pub segments: std::collections::BTreeSet<i64>,
    pub seed_lists: std::collections::BTreeSet<i64>,
    pub suppression_lists: std::collections::BTreeSet<i64>,
    pub templates: std::collections::BTreeSet<i64>,
}

impl Draft {
    /// The groups, segments, lists and templates the draft names: in its audience, trigger,
    /// settings and splits.
    pub fn references(&self) -> References {
        let mut r = self.audience.references();
        if let Some(Trigger::SegmentEntered { segment_id }) = &self.trigger {
            r.segments.insert(*segment_id);
        }
        r.templates.extend(self.template_id);
        r.seed_lists.extend(self.settings.seed_list_id);
        r.suppression_lists
            .extend(self.settings.suppression_list_ids.iter().copied());
        for split in &self.settings.splits {
            if split.segment_id > 0 {
                r.segments.insert(split.segment_id);
            }
            if split.template_id > 0 {
                r.templates.insert(split.template_id);
            }
        }
        r
    }

    /// What stands between the draft and activation at `now`, in words; empty when ready.
    pub fn problems(&self, now: DateTime<Utc>) -> Vec<String> {
        let mut out = Vec::new();
        if self.name.trim().is_empty() {
            out.push("Give the campaign a name.".to_string());
        }
        match &self.trigger {
            None => out.push("Choose when the campaign sends (the trigger).".into()),
            Some(t) => {
                out.extend(t.problems(now));
                let fits = match (self.kind, t) {
                    (CampaignKind::OneTime, Trigger::Immediately | Trigger::At { .. }) => true,
                    (CampaignKind::OneTime, _) => false,
                    (CampaignKind::Recurring, Trigger::Recurring { .. }) => true,
                    (CampaignKind::Recurring, _) => false,
                    (_, Trigger::Immediately | Trigger::At { .. } | Trigger::Recurring { .. }) => {
                        false
                    }
                    _ => true,
                };
                if !fits {
                    out.push(format!(
                        "A {} campaign cannot send “{}”: change the campaign type or the trigger.",
                        self.kind.label().to_lowercase(),
                        t.describe().to_lowercase()
                    ));
                }
            }
        }
        if self.template_id.is_none() {
            out.push(NO_TEMPLATE.into());
        }
        if self.channel == Channel::Email {
            if self.settings.from_email.trim().is_empty() {
                out.push("Set the sender's email address.".into());
            } else if EmailAddress::parse(&self.settings.from_email).is_err() {
                out.push(format!(
                    "The sender address “{}” is not a valid email address.",
                    self.settings.from_email
                ));
            }
            let reply = self.settings.reply_to.trim();
            if !reply.is_empty() && EmailAddress::parse(reply).is_err() {
                out.push(format!(
                    "The reply-to address “{reply}” is not a valid email address."
                ));
            }
        }
        if self.settings.priority > 5 {
            out.push("Priority goes from 1 (lowest) to 5 (highest).".into());
        }
        if let Some(expiry) = self.settings.expires_at
            && expiry <= now
        {
            out.push("The expiry date is in the past.".into());
        }
        if let Frequency::AtMostEvery { days: 0 } = self.settings.frequency {
            out.push("“At most every N days” needs at least 1 day.".into());
        }
        if self
            .settings
            .splits
            .iter()
            .any(|s| s.segment_id <= 0 || s.template_id <= 0)
        {
            out.push("Choose a segment and a template for each segment split.".into());
        }
        for q in &self.settings.quiet_periods {
            if q.start >= 1440 || q.end >= 1440 || q.start == q.end {
                out.push(
                    "Quiet periods need a start and an end time between 00:00 and 23:59.".into(),
                );
                break;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::audience::Unit;
    use crate::domain::trigger::{RecordDate, Relation};
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap()
    }

    #[test]
    fn references_are_collected_from_every_part() {
        use crate::domain::audience::Filter;
        let mut d = ready();
        d.audience = Filter::All {
            of: vec![
                Filter::InGroup { group_id: 4 },
                Filter::Not {
                    not: Box::new(Filter::Any {
                        of: vec![Filter::InGroup { group_id: 9 }, Filter::ValidPass],
                    }),
                },
            ],
        };
        d.trigger = Some(Trigger::SegmentEntered { segment_id: 7 });
        d.settings.seed_list_id = Some(11);
        d.settings.suppression_list_ids = vec![12, 13];
        d.settings.splits = vec![
            Split {
                segment_id: 8,
                template_id: 5,
            },
            Split {
                segment_id: 0,
                template_id: 0,
            },
        ];
        let r = d.references();
        let set = |v: &[i64]| v.iter().copied().collect::<std::collections::BTreeSet<_>>();
        assert_eq!(r.groups, set(&[4, 9]));
        assert_eq!(r.segments, set(&[7, 8]));
        assert_eq!(r.seed_lists, set(&[11]));
        assert_eq!(r.suppression_lists, set(&[12, 13]));
        assert_eq!(r.templates, set(&[3, 5]));
        assert_eq!(Draft::default().references(), References::default());
    }

    fn ready() -> Draft {
        Draft {
            name: "Renewal reminder".into(),
            kind: CampaignKind::EventTriggered,
            trigger: Some(Trigger::Relative {
                date: RecordDate::CredentialExpires,
                relation: Relation::Before,
                amount: 30,
                unit: Unit::Days,
            }),
            template_id: Some(3),
            settings: Settings {
                from_email: "news@northwind.example".into(),
                ..Settings::default()
            },
            ..Draft::default()
        }
    }

    #[test]
    fn a_complete_draft_has_no_problems() {
        assert_eq!(ready().problems(now()), Vec::<String>::new());
    }

    #[test]
    fn problems_in_words() {
        type Edit = fn(&mut Draft);
        let cases: Vec<(Edit, &str)> = vec![
            (|d| d.name = " ".into(), "Give the campaign a name."),
            (
                |d| d.trigger = None,
                "Choose when the campaign sends (the trigger).",
            ),
            (|d| d.template_id = None, "Choose the template to send."),
            (
                |d| d.settings.from_email = String::new(),
                "Set the sender's email address.",
            ),
            (
                |d| d.settings.from_email = "news@".into(),
                "The sender address “news@” is not a valid email address.",
            ),
            (
                |d| d.settings.reply_to = "x".into(),
                "The reply-to address “x” is not a valid email address.",
            ),
            (
                |d| d.kind = CampaignKind::OneTime,
                "A one-time campaign cannot send “30 days before a credential expires”: change the campaign type or the trigger.",
            ),
            (
                |d| d.settings.expires_at = Some(now()),
                "The expiry date is in the past.",
            ),
            (
                |d| d.settings.frequency = Frequency::AtMostEvery { days: 0 },
                "“At most every N days” needs at least 1 day.",
            ),
            (
                |d| {
                    d.settings.splits = vec![Split {
                        segment_id: 4,
                        template_id: 0,
                    }]
                },
                "Choose a segment and a template for each segment split.",
            ),
            (
                |d| d.settings.priority = 9,
                "Priority goes from 1 (lowest) to 5 (highest).",
            ),
            (
                |d| d.settings.quiet_periods = vec![QuietPeriod { start: 60, end: 60 }],
                "Quiet periods need a start and an end time between 00:00 and 23:59.",
            ),
        ];
        for (edit, expected) in cases {
            let mut d = ready();
            edit(&mut d);
            assert_eq!(d.problems(now()), vec![expected.to_string()]);
        }
        // SMS campaigns need no sender address.
        let mut sms = ready();
        sms.channel = Channel::Sms;
        sms.settings.from_email = String::new();
        assert!(sms.problems(now()).is_empty());
    }

    #[test]
    fn quiet_periods_wrap_past_midnight() {
        let night = QuietPeriod {
            start: 22 * 60,
            end: 7 * 60,
        };
        let lunch = QuietPeriod {
            start: 12 * 60,
            end: 13 * 60,
        };
        let cases = [
            (night, 23 * 60, true),
            (night, 0, true),
            (night, 7 * 60, false),
            (night, 12 * 60, false),
            (lunch, 12 * 60 + 30, true),
            (lunch, 13 * 60, false),
        ];
        for (q, minute, quiet) in cases {
            assert_eq!(q.contains(minute), quiet, "{q:?} at {minute}");
        }
    }

    #[test]
    fn drafts_round_trip_as_json() {
        let d = ready();
        let back: Draft = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
        assert_eq!(back, d);
        // Settings stored before a field existed still read.
        let s: Settings = serde_json::from_str(r#"{"from_email":"a@b.example"}"#).unwrap();
        assert_eq!(s.frequency, Frequency::Once);
    }
}
