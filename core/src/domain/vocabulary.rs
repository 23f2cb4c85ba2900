//! The words the builder's pickers offer, next to the types they stand for: every choice a
//! page shows comes from here (its key in forms, its label for people, its default), so a new
//! condition, unit or trigger is added in one place and no page keeps a string table of its own.

use super::audience::{
    CredentialDate, Engagement, EnrollmentFilter, EnrollmentState, Filter, Unit, Window,
};
use super::trigger::{Cadence, RecordDate, Relation, Trigger};
use super::{MessageType, campaign::Frequency};
use chrono::{DateTime, Utc};

/// A closed list of choices with a form key and a label each.
pub trait Choice: Copy + PartialEq + 'static {
    const CHOICES: &'static [Self];
    fn key(self) -> &'static str;
    fn label(self) -> &'static str;
    fn from_key(key: &str) -> Option<Self> {
        Self::CHOICES.iter().copied().find(|c| c.key() == key)
    }
}

macro_rules! choices {
    ($ty:ty { $($variant:expr => $key:literal, $label:literal;)+ }) => {
        impl Choice for $ty {
            const CHOICES: &'static [Self] = &[$($variant),+];
            fn key(self) -> &'static str {
                $(if self == $variant { return $key; })+
                unreachable!()
            }
            fn label(self) -> &'static str {
                $(if self == $variant { return $label; })+
                unreachable!()
            }
        }
    };
}

choices!(Unit {
    Unit::Days => "days", "days";
    Unit::Weeks => "weeks", "weeks";
    Unit::Months => "months", "months";
});

choices!(Relation {
    Relation::Before => "before", "before";
    Relation::On => "on", "on the day";
    Relation::After => "after", "after";
});

choices!(CredentialDate {
    CredentialDate::Published => "published", "published";
    CredentialDate::Renewed => "renewed", "renewed";
    CredentialDate::Expires => "expires", "expiring";
});

choices!(EnrollmentState {
    EnrollmentState::Ongoing => "ongoing", "ongoing";
    EnrollmentState::Upcoming => "upcoming", "upcoming";
    EnrollmentState::Current => "current", "current";
    EnrollmentState::Ended => "ended", "ended";
});

choices!(Engagement {
    Engagement::Opened => "opened", "opened a message";
    Engagement::Clicked => "clicked", "clicked a link";
    Engagement::NeverEngaged => "never", "never engaged";
});

choices!(RecordDate {
    RecordDate::CredentialPublished => "credential_published", "a credential is published";
    RecordDate::CredentialRenewed => "credential_renewed", "a credential is renewed";
    RecordDate::CredentialExpires => "credential_expires", "a credential expires";
    RecordDate::EnrollmentStarts => "enrollment_starts", "an enrollment starts";
    RecordDate::EnrollmentEnds => "enrollment_ends", "an enrollment ends";
    RecordDate::Booking => "booking", "a booking takes place";
    RecordDate::PassValidFrom => "pass_valid_from", "a pass becomes valid";
    RecordDate::PassValidTo => "pass_valid_to", "a pass runs out";
    RecordDate::SubscriptionStarts => "subscription_starts", "a subscription period starts";
    RecordDate::SubscriptionEnds => "subscription_ends", "a subscription period ends";
    RecordDate::Order => "order", "an order is placed";
});

/// The kinds of condition an audience row can be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConditionKind {
    ActiveContact,
    InGroup,
    Credential,
    Enrollment,
    Booking,
    ValidPass,
    ActiveSubscription,
    Ordered,
    Event,
    Engagement,
    Consent,
    Language,
    Created,
    Contacts,
}

choices!(ConditionKind {
    ConditionKind::ActiveContact => "active_contact", "Contact is active";
    ConditionKind::InGroup => "in_group", "Is in group";
    ConditionKind::Credential => "credential", "Holds a credential";
    ConditionKind::Enrollment => "enrollment", "Has an enrollment";
    ConditionKind::Booking => "booking", "Has a booking";
    ConditionKind::ValidPass => "valid_pass", "Holds a valid pass";
    ConditionKind::ActiveSubscription => "active_subscription", "Has an active subscription";
    ConditionKind::Ordered => "ordered", "Ordered";
    ConditionKind::Event => "event", "Did an event";
    ConditionKind::Engagement => "engagement", "Engagement";
    ConditionKind::Consent => "consent", "Consented to";
    ConditionKind::Language => "language", "Speaks language";
    ConditionKind::Created => "created", "Contact created";
    ConditionKind::Contacts => "contacts", "Hand-picked contacts";
});

fn last(amount: u32, unit: Unit) -> Window {
    Window::Last { amount, unit }
}

impl ConditionKind {
    /// The kind of a condition; `None` for a nested group (all / any / not).
    pub fn of(f: &Filter) -> Option<ConditionKind> {
        use ConditionKind as K;
        Some(match f {
            Filter::ActiveContact => K::ActiveContact,
            Filter::InGroup { .. } => K::InGroup,
            Filter::Credential { .. } => K::Credential,
            Filter::Enrollment(_) => K::Enrollment,
            Filter::Booking { .. } => K::Booking,
            Filter::ValidPass => K::ValidPass,
            Filter::ActiveSubscription => K::ActiveSubscription,
            Filter::Ordered { .. } => K::Ordered,
            Filter::Event { .. } => K::Event,
            Filter::Engagement { .. } => K::Engagement,
            Filter::Consent { .. } => K::Consent,
            Filter::Language { .. } => K::Language,
            Filter::Created { .. } => K::Created,
            Filter::Contacts { .. } => K::Contacts,
            Filter::All { .. } | Filter::Any { .. } | Filter::Not { .. } => return None,
        })
    }

    /// The condition a new row of this kind starts as; `first_group` for "is in group".
    pub fn default_filter(self, first_group: Option<i64>) -> Filter {
        use ConditionKind as K;
        match self {
            K::ActiveContact => Filter::ActiveContact,
            K::InGroup => Filter::InGroup {
                group_id: first_group.unwrap_or(0),
            },
            K::Credential => Filter::Credential {
                collection: None,
                date: Some((
                    CredentialDate::Expires,
                    Window::Next {
                        amount: 30,
                        unit: Unit::Days,
                    },
                )),
            },
            K::Enrollment => Filter::Enrollment(EnrollmentFilter::default()),
            K::Booking => Filter::Booking {
                within: Window::Next {
                    amount: 14,
                    unit: Unit::Days,
                },
            },
            K::ValidPass => Filter::ValidPass,
            K::ActiveSubscription => Filter::ActiveSubscription,
            K::Ordered => Filter::Ordered {
                within: last(6, Unit::Months),
            },
            K::Event => Filter::Event {
                name: String::new(),
                within: Some(last(90, Unit::Days)),
            },
            K::Engagement => Filter::Engagement {
                activity: Engagement::Opened,
                within: last(90, Unit::Days),
            },
            K::Consent => Filter::Consent {
                message_type: MessageType::Marketing,
            },
            K::Language => Filter::Language { code: "en".into() },
            K::Created => Filter::Created {
                within: last(30, Unit::Days),
            },
            K::Contacts => Filter::Contacts { ids: vec![] },
        }
    }
}

/// The kinds of trigger the builder offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TriggerKind {
    Immediately,
    At,
    Recurring,
    Relative,
    SegmentEntered,
    Event,
}

choices!(TriggerKind {
    TriggerKind::Immediately => "immediately", "Immediately on activation";
    TriggerKind::At => "at", "At a date and time";
    TriggerKind::Recurring => "recurring", "Recurring";
    TriggerKind::Relative => "relative", "Before, on or after a record date";
    TriggerKind::SegmentEntered => "segment", "When a contact enters a segment";
    TriggerKind::Event => "event", "When an event is received";
});

impl TriggerKind {
    pub fn of(t: &Trigger) -> TriggerKind {
        match t {
            Trigger::Immediately => TriggerKind::Immediately,
            Trigger::At { .. } => TriggerKind::At,
            Trigger::Recurring { .. } => TriggerKind::Recurring,
            Trigger::Relative { .. } => TriggerKind::Relative,
            Trigger::SegmentEntered { .. } => TriggerKind::SegmentEntered,
            Trigger::Event { .. } => TriggerKind::Event,
        }
    }

    /// The trigger a newly picked kind starts as.
    pub fn default_trigger(self, now: DateTime<Utc>, first_segment: Option<i64>) -> Trigger {
        match self {
            TriggerKind::Immediately => Trigger::Immediately,
            TriggerKind::At => Trigger::At {
                at: now + chrono::Duration::days(1),
            },
            TriggerKind::Recurring => Trigger::Recurring {
                cadence: Cadence::Weekly { weekday: 0 },
                minute: 9 * 60,
            },
            TriggerKind::Relative => Trigger::Relative {
                date: RecordDate::CredentialExpires,
                relation: Relation::Before,
                amount: 30,
                unit: Unit::Days,
            },
            TriggerKind::SegmentEntered => Trigger::SegmentEntered {
                segment_id: first_segment.unwrap_or(0),
            },
            TriggerKind::Event => Trigger::Event {
                name: String::new(),
            },
        }
    }
}

/// How often a recurring campaign sends, without its day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CadenceKind {
    Daily,
    Weekly,
    Monthly,
}

choices!(CadenceKind {
    CadenceKind::Daily => "daily", "every day";
    CadenceKind::Weekly => "weekly", "every week";
    CadenceKind::Monthly => "monthly", "every month";
});

impl CadenceKind {
    pub fn of(c: Cadence) -> CadenceKind {
        match c {
            Cadence::Daily => CadenceKind::Daily,
            Cadence::Weekly { .. } => CadenceKind::Weekly,
            Cadence::Monthly { .. } => CadenceKind::Monthly,
        }
    }

    pub fn default_cadence(self) -> Cadence {
        match self {
            CadenceKind::Daily => Cadence::Daily,
            CadenceKind::Weekly => Cadence::Weekly { weekday: 0 },
            CadenceKind::Monthly => Cadence::Monthly { day: 1 },
        }
    }
}

pub use super::trigger::WEEKDAYS;

/// How often one contact may receive a campaign, without its number of days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrequencyKind {
    Once,
    EveryTime,
    AtMostEvery,
}

choices!(FrequencyKind {
    FrequencyKind::Once => "once", "Send once per contact";
    FrequencyKind::EveryTime => "every_time", "Every time the trigger is met";
    FrequencyKind::AtMostEvery => "every_n", "At most every N days";
});

impl FrequencyKind {
    pub fn of(f: Frequency) -> FrequencyKind {
        match f {
            Frequency::Once => FrequencyKind::Once,
            Frequency::EveryTime => FrequencyKind::EveryTime,
            Frequency::AtMostEvery { .. } => FrequencyKind::AtMostEvery,
        }
    }

    pub fn default_frequency(self) -> Frequency {
        match self {
            FrequencyKind::Once => Frequency::Once,
            FrequencyKind::EveryTime => Frequency::EveryTime,
            FrequencyKind::AtMostEvery => Frequency::AtMostEvery { days: 7 },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T: Choice + std::fmt::Debug>() {
        let mut keys = std::collections::BTreeSet::new();
        for c in T::CHOICES {
            assert_eq!(T::from_key(c.key()), Some(*c), "{c:?}");
            assert!(keys.insert(c.key()), "{} twice", c.key());
            assert!(!c.label().is_empty());
        }
        assert_eq!(T::from_key("no such key"), None);
    }

    #[test]
    fn every_choice_round_trips_through_its_key() {
        round_trips::<Unit>();
        round_trips::<Relation>();
        round_trips::<CredentialDate>();
        round_trips::<EnrollmentState>();
        round_trips::<Engagement>();
        round_trips::<RecordDate>();
        round_trips::<ConditionKind>();
        round_trips::<TriggerKind>();
        round_trips::<CadenceKind>();
        round_trips::<FrequencyKind>();
    }

    #[test]
    fn every_kind_starts_as_a_condition_of_its_kind() {
        for k in ConditionKind::CHOICES {
            assert_eq!(ConditionKind::of(&k.default_filter(Some(3))), Some(*k));
        }
        assert_eq!(ConditionKind::of(&Filter::everyone()), None);
        let now = Utc::now();
        for k in TriggerKind::CHOICES {
            assert_eq!(TriggerKind::of(&k.default_trigger(now, Some(1))), *k);
        }
        for k in CadenceKind::CHOICES {
            assert_eq!(CadenceKind::of(k.default_cadence()), *k);
        }
        for k in FrequencyKind::CHOICES {
            assert_eq!(FrequencyKind::of(k.default_frequency()), *k);
        }
    }

    #[test]
    fn record_date_keys_are_their_stored_names() {
        for d in RecordDate::CHOICES {
            assert_eq!(
                serde_json::to_string(d).unwrap(),
                format!("\"{}\"", d.key())
            );
        }
    }
}
