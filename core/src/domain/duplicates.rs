//! Duplicate detection: could the people of a draft campaign receive the same, or an overlapping,
//! message from another active campaign? Decided from facts about both campaigns and the number
//! of contacts their audiences share (counted by the audience engine); the answer says which
//! campaign, how many people, why, and how to resolve it.
//!
//! The rule, in order:
//! 1. No shared contacts, another channel, or the campaign itself: no conflict.
//! 2. Same template, and the two send within [`NEAR_DAYS`] of each other (or the draft's timing
//!    is not set yet): a **duplicate**: the same people get the same message twice.
//! 3. Same template at clearly different times: a **possible duplicate** (a reminder series may
//!    mean it; a copied campaign usually does not).
//! 4. Another template of the same marketing or newsletter message type within [`NEAR_DAYS`]:
//!    **overlap**: the same people get two promotional messages close together. Operational
//!    messages of different templates never conflict: receipts and reminders are expected.
//! 5. Otherwise (unrelated triggers, far apart, different message types): no conflict.

use super::trigger::Trigger;
use super::{Channel, MessageType};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Sends this many days apart or closer count as "the same time".
pub const NEAR_DAYS: i64 = 3;

/// What the detector needs to know about one campaign.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignFacts {
    /// `None` for a draft not saved yet.
    pub id: Option<i64>,
    pub name: String,
    pub message_type: MessageType,
    pub channel: Channel,
    pub template_id: Option<i64>,
    pub trigger: Option<Trigger>,
    /// When it was activated; for a draft, when it would be (now).
    pub since: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The same message to the same people at (nearly) the same time.
    Duplicate,
    /// The same message at another time.
    PossibleDuplicate,
    /// Two promotional messages to the same people close together.
    Overlap,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Duplicate => "Duplicate",
            Severity::PossibleDuplicate => "Possible duplicate",
            Severity::Overlap => "Overlap",
        }
    }
}

/// Why two campaigns conflict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    SameTemplate,
    SameMessageType {
        message_type: MessageType,
    },
    /// Both send within `days` days of each other.
    NearTiming {
        days: i64,
    },
    /// Both send, but `days` days apart.
    DistantTiming {
        days: i64,
    },
    /// The draft has no trigger yet, so timing cannot rule the conflict out.
    TimingNotSet,
}

impl Reason {
    pub fn describe(&self) -> String {
        match self {
            Reason::SameTemplate => "Both send the same template.".into(),
            Reason::SameMessageType { message_type } => {
                format!("Both are {} messages.", message_type.label().to_lowercase())
            }
            Reason::NearTiming { days: 0 } => "Both send on the same day.".into(),
            Reason::NearTiming { days } => format!("They send within {days} days of each other."),
            Reason::DistantTiming { days } => format!("They send {days} days apart."),
            Reason::TimingNotSet => "The trigger is not set yet, so they may send together.".into(),
        }
    }
}

/// A way out, most useful first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "hint", rename_all = "snake_case")]
pub enum Hint {
    /// Exclude the other campaign's audience from this one.
    NarrowAudience,
    /// Move this campaign's timing at least this many more days away.
    ChangeTiming {
        more_days: i64,
    },
    ChooseAnotherTemplate,
    DeactivateOther,
}

impl Hint {
    pub fn describe(&self, other: &str) -> String {
        match self {
            Hint::NarrowAudience => {
                format!("Narrow the audience to leave out the people “{other}” reaches.")
            }
            Hint::ChangeTiming { more_days } => format!(
                "Change the timing so the two are more than {NEAR_DAYS} days apart (move it by at least {more_days} {}).",
                if *more_days == 1 { "day" } else { "days" }
            ),
            Hint::ChooseAnotherTemplate => "Choose another template.".into(),
            Hint::DeactivateOther => format!("Deactivate “{other}” if this campaign replaces it."),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub other_id: i64,
    pub other_name: String,
    /// Contacts both campaigns reach.
    pub overlap: u64,
    pub severity: Severity,
    pub reasons: Vec<Reason>,
    pub hints: Vec<Hint>,
}

/// Another campaign with the number of contacts it shares with the draft.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub facts: CampaignFacts,
    pub id: i64,
    pub overlap: u64,
}

/// Whether timing alone can say the two are apart: the gap in days, if known.
fn timing(draft: &CampaignFacts, other: &CampaignFacts) -> Timing {
    match (&draft.trigger, &other.trigger) {
        (None, _) | (_, None) => Timing::Unknown,
        (Some(a), Some(b)) => match a.gap_days(draft.since, b, other.since) {
            Some(days) if days <= NEAR_DAYS => Timing::Near(days),
            Some(days) => Timing::Apart(days),
            None => Timing::Unrelated,
        },
    }
}

enum Timing {
    Unknown,
    Near(i64),
    Apart(i64),
    Unrelated,
}

/// One conflict between a draft and another campaign, if any.
pub fn check(draft: &CampaignFacts, other: &Candidate) -> Option<Conflict> {
    if other.overlap == 0 || draft.id == Some(other.id) || draft.channel != other.facts.channel {
        return None;
    }
    let same_template = draft.template_id.is_some() && draft.template_id == other.facts.template_id;
    let promotional = draft.message_type != MessageType::Operational;
    let same_type = draft.message_type == other.facts.message_type;
    let timing = timing(draft, &other.facts);

    let mut reasons = Vec::new();
    let mut hints = vec![Hint::NarrowAudience];
    if same_template {
        reasons.push(Reason::SameTemplate);
    } else if same_type && promotional {
        reasons.push(Reason::SameMessageType {
            message_type: draft.message_type,
        });
    } else {
        return None;
    }
    let severity = match timing {
        Timing::Near(days) => {
            reasons.push(Reason::NearTiming { days });
            hints.push(Hint::ChangeTiming {
                more_days: NEAR_DAYS + 1 - days,
            });
            if same_template {
                Severity::Duplicate
            } else {
                Severity::Overlap
            }
        }
        Timing::Unknown if same_template => {
            reasons.push(Reason::TimingNotSet);
            Severity::Duplicate
        }
        Timing::Apart(days) if same_template => {
            reasons.push(Reason::DistantTiming { days });
            Severity::PossibleDuplicate
        }
        Timing::Unrelated if same_template => Severity::PossibleDuplicate,
        // Another template at another or unknown time: nothing to warn about yet.
        _ => return None,
    };
    if same_template {
        hints.push(Hint::ChooseAnotherTemplate);
    }
    hints.push(Hint::DeactivateOther);
    Some(Conflict {
        other_id: other.id,
        other_name: other.facts.name.clone(),
        overlap: other.overlap,
        severity,
        reasons,
        hints,
    })
}

/// Every conflict of a draft with the other campaigns: most severe first, then most people.
pub fn conflicts(draft: &CampaignFacts, others: &[Candidate]) -> Vec<Conflict> {
    let mut out: Vec<Conflict> = others.iter().filter_map(|o| check(draft, o)).collect();
    out.sort_by(|a, b| {
        (a.severity, std::cmp::Reverse(a.overlap), a.other_id).cmp(&(
            b.severity,
            std::cmp::Reverse(b.overlap),
            b.other_id,
        ))
    });
    out
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

    fn expiry(days_before: u32) -> Option<Trigger> {
        Some(Trigger::Relative {
            date: RecordDate::CredentialExpires,
            relation: Relation::Before,
            amount: days_before,
            unit: Unit::Days,
        })
    }

    fn facts(template: Option<i64>, mt: MessageType, trigger: Option<Trigger>) -> CampaignFacts {
        CampaignFacts {
            id: None,
            name: "Draft".into(),
            message_type: mt,
            channel: Channel::Email,
            template_id: template,
            trigger,
            since: now(),
        }
    }

    fn other(
        template: Option<i64>,
        mt: MessageType,
        trigger: Option<Trigger>,
        overlap: u64,
    ) -> Candidate {
        Candidate {
            facts: CampaignFacts {
                id: Some(7),
                name: "Renewal reminder".into(),
                ..facts(template, mt, trigger)
            },
            id: 7,
            overlap,
        }
    }

    use MessageType::*;

    #[test]
    fn decides_conflicts() {
        // (draft, other, expected severity, expected reasons)
        type Case = (CampaignFacts, Candidate, Option<Severity>, Vec<Reason>);
        let cases: Vec<Case> = vec![
            // Same template, same timing: duplicate.
            (
                facts(Some(1), Marketing, expiry(30)),
                other(Some(1), Marketing, expiry(30), 120),
                Some(Severity::Duplicate),
                vec![Reason::SameTemplate, Reason::NearTiming { days: 0 }],
            ),
            // Same template, 2 days apart: still a duplicate (within NEAR_DAYS).
            (
                facts(Some(1), Operational, expiry(30)),
                other(Some(1), Operational, expiry(28), 5),
                Some(Severity::Duplicate),
                vec![Reason::SameTemplate, Reason::NearTiming { days: 2 }],
            ),
            // Same template, draft timing not set: duplicate until timing says otherwise.
            (
                facts(Some(1), Marketing, None),
                other(Some(1), Marketing, expiry(30), 9),
                Some(Severity::Duplicate),
                vec![Reason::SameTemplate, Reason::TimingNotSet],
            ),
            // Same template, far apart: possible duplicate.
            (
                facts(Some(1), Marketing, expiry(30)),
                other(Some(1), Marketing, expiry(7), 9),
                Some(Severity::PossibleDuplicate),
                vec![Reason::SameTemplate, Reason::DistantTiming { days: 23 }],
            ),
            // Same template on unrelated triggers: possible duplicate.
            (
                facts(
                    Some(1),
                    Marketing,
                    Some(Trigger::Event {
                        name: "paid".into(),
                    }),
                ),
                other(Some(1), Marketing, expiry(7), 9),
                Some(Severity::PossibleDuplicate),
                vec![Reason::SameTemplate],
            ),
            // Different template, same promotional type, near: overlap.
            (
                facts(Some(1), Newsletter, expiry(30)),
                other(Some(2), Newsletter, expiry(31), 40),
                Some(Severity::Overlap),
                vec![
                    Reason::SameMessageType {
                        message_type: Newsletter,
                    },
                    Reason::NearTiming { days: 1 },
                ],
            ),
            // Different template, same promotional type, far apart: fine.
            (
                facts(Some(1), Marketing, expiry(30)),
                other(Some(2), Marketing, expiry(10), 40),
                None,
                vec![],
            ),
            // Different template, same type, timing unknown: nothing to say yet.
            (
                facts(Some(1), Marketing, None),
                other(Some(2), Marketing, expiry(10), 40),
                None,
                vec![],
            ),
            // Operational messages with different templates never conflict.
            (
                facts(Some(1), Operational, expiry(30)),
                other(Some(2), Operational, expiry(30), 40),
                None,
                vec![],
            ),
            // Different message types, different templates: fine.
            (
                facts(Some(1), Marketing, expiry(30)),
                other(Some(2), Newsletter, expiry(30), 40),
                None,
                vec![],
            ),
            // No shared contacts: no conflict, whatever else.
            (
                facts(Some(1), Marketing, expiry(30)),
                other(Some(1), Marketing, expiry(30), 0),
                None,
                vec![],
            ),
            // No template on the draft: a template match cannot be claimed.
            (
                facts(None, Operational, expiry(30)),
                other(None, Operational, expiry(30), 3),
                None,
                vec![],
            ),
        ];
        for (i, (draft, other, severity, reasons)) in cases.into_iter().enumerate() {
            let got = check(&draft, &other);
            assert_eq!(got.as_ref().map(|c| c.severity), severity, "case {i}");
            assert_eq!(
                got.map(|c| c.reasons).unwrap_or_default(),
                reasons,
                "case {i}"
            );
        }
    }

    #[test]
    fn other_channels_and_the_campaign_itself_never_conflict() {
        let mut draft = facts(Some(1), Marketing, expiry(30));
        let same = other(Some(1), Marketing, expiry(30), 50);
        assert!(check(&draft, &same).is_some());
        draft.channel = Channel::Sms;
        assert!(check(&draft, &same).is_none());
        draft.channel = Channel::Email;
        draft.id = Some(7);
        assert!(check(&draft, &same).is_none());
    }

    #[test]
    fn hints_say_how_to_resolve() {
        let c = check(
            &facts(Some(1), Marketing, expiry(30)),
            &other(Some(1), Marketing, expiry(29), 12),
        )
        .unwrap();
        assert_eq!(
            c.hints,
            vec![
                Hint::NarrowAudience,
                Hint::ChangeTiming { more_days: 3 },
                Hint::ChooseAnotherTemplate,
                Hint::DeactivateOther
            ]
        );
        let words: Vec<String> = c.hints.iter().map(|h| h.describe(&c.other_name)).collect();
        assert_eq!(
            words[1],
            "Change the timing so the two are more than 3 days apart (move it by at least 3 days)."
        );
        assert_eq!(
            words[3],
            "Deactivate “Renewal reminder” if this campaign replaces it."
        );
        let overlap = check(
            &facts(Some(1), Newsletter, expiry(30)),
            &other(Some(2), Newsletter, expiry(30), 12),
        )
        .unwrap();
        assert!(!overlap.hints.contains(&Hint::ChooseAnotherTemplate));
    }

    #[test]
    fn most_severe_and_largest_first() {
        let draft = facts(Some(1), Marketing, expiry(30));
        let mk = |id: i64, template: i64, days: u32, overlap: u64| Candidate {
            id,
            ..other(Some(template), Marketing, expiry(days), overlap)
        };
        let found = conflicts(
            &draft,
            &[
                mk(1, 2, 30, 500), // overlap
                mk(2, 1, 10, 50),  // possible duplicate
                mk(3, 1, 30, 5),   // duplicate
                mk(4, 1, 31, 60),  // duplicate, more people
                mk(5, 2, 10, 900), // no conflict
            ],
        );
        let order: Vec<i64> = found.iter().map(|c| c.other_id).collect();
        assert_eq!(order, vec![4, 3, 2, 1]);
    }
}
