//! Audiences: a typed filter tree over contacts and their records, and a plain in-memory
//! evaluator of it. The evaluator is the reference semantics: the SQL compiler
//! (`crate::audience`) must select exactly the same contacts, which a property test checks on
//! SQLite and PostgreSQL.
//!
//! Times in filters are relative to "now", given at evaluation, so a saved audience means the
//! same thing every day it is used.

use super::MessageType;
use chrono::{DateTime, Months, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A unit of relative time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Days,
    Weeks,
    Months,
}

/// A span of time before or after now: "the last 6 months", "the next 30 days".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "direction", rename_all = "snake_case")]
pub enum Window {
    /// From `amount` units ago up to now.
    Last { amount: u32, unit: Unit },
    /// From now up to `amount` units ahead.
    Next { amount: u32, unit: Unit },
}

/// The longest time window a filter may name, in days (a hundred years). Longer ones are
/// refused before they reach a query ([`Filter::longest_window_days`]).
pub const MAX_WINDOW_DAYS: i64 = 36_525;

/// `t` moved by `amount` units (negative: back in time). Months keep the day of the month where
/// it exists and clamp to the month's end otherwise (31 Jan + 1 month = 28/29 Feb). Never
/// panics: a move past the representable range stops at its end.
pub fn shift(t: DateTime<Utc>, amount: i64, unit: Unit) -> DateTime<Utc> {
    let by_days = |days: i64| {
        chrono::Duration::try_days(days)
            .and_then(|d| t.checked_add_signed(d))
            .unwrap_or(if days < 0 {
                DateTime::<Utc>::MIN_UTC
            } else {
                DateTime::<Utc>::MAX_UTC
            })
    };
    match unit {
        Unit::Days => by_days(amount),
        Unit::Weeks => by_days(amount.saturating_mul(7)),
        Unit::Months => {
            let months = Months::new(amount.unsigned_abs().min(u32::MAX as u64) as u32);
            let moved = if amount >= 0 {
                t.checked_add_months(months)
            } else {
                t.checked_sub_months(months)
            };
            moved.unwrap_or(t)
        }
    }
}

impl Window {
    /// The inclusive bounds `[from, to]` of the window at `now`.
    pub fn bounds(self, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        match self {
            Window::Last { amount, unit } => (shift(now, -i64::from(amount), unit), now),
            Window::Next { amount, unit } => (now, shift(now, i64::from(amount), unit)),
        }
    }

    pub fn contains(self, now: DateTime<Utc>, t: DateTime<Utc>) -> bool {
        let (from, to) = self.bounds(now);
        from <= t && t <= to
    }
}

/// Which date of a credential a filter looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CredentialDate {
    Published,
    Renewed,
    Expires,
}

/// Where an enrollment stands at a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EnrollmentState {
    /// Not ended yet: upcoming or current.
    Ongoing,
    /// Starts later.
    Upcoming,
    /// Started and not ended.
    Current,
    /// Ended.
    Ended,
}

impl EnrollmentState {
    pub fn holds(
        self,
        now: DateTime<Utc>,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
    ) -> bool {
        match self {
            EnrollmentState::Ongoing => ends_at > now,
            EnrollmentState::Upcoming => starts_at > now,
            EnrollmentState::Current => starts_at <= now && ends_at > now,
            EnrollmentState::Ended => ends_at <= now,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Engagement {
    /// Opened a message in the window.
    Opened,
    /// Clicked a link in a message in the window.
    Clicked,
    /// Neither opened nor clicked anything in the window.
    NeverEngaged,
}

/// Narrowing conditions on enrollments (the school platform's filters). Unset fields match all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollmentFilter {
    pub state: Option<EnrollmentState>,
    /// Only online (true) or only on-site (false) courses.
    pub online: Option<bool>,
    pub exclude_remote: bool,
    pub trainer: Option<String>,
    pub category: Option<String>,
}

/// An audience: which contacts of an organisation a campaign reaches.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "filter", rename_all = "snake_case")]
pub enum Filter {
    /// Every condition holds (an empty list: everyone).
    All {
        #[cfg_attr(feature = "openapi", schema(no_recursion))]
        of: Vec<Filter>,
    },
    /// At least one condition holds (an empty list: no one).
    Any {
        #[cfg_attr(feature = "openapi", schema(no_recursion))]
        of: Vec<Filter>,
    },
    Not {
        #[cfg_attr(feature = "openapi", schema(no_recursion))]
        not: Box<Filter>,
    },
    /// The contact's status is active.
    ActiveContact,
    Language {
        code: String,
    },
    /// The contact was created in the window.
    Created {
        within: Window,
    },
    InGroup {
        group_id: i64,
    },
    /// Holds a credential, of a collection if given, whose date falls in the window if given.
    Credential {
        collection: Option<String>,
        date: Option<(CredentialDate, Window)>,
    },
    Enrollment(EnrollmentFilter),
    /// Has a booking in the window.
    Booking {
        within: Window,
    },
    /// Holds a pass valid now.
    ValidPass,
    /// Has a subscription whose status is active and whose period has not ended.
    ActiveSubscription,
    /// Ordered in the window.
    Ordered {
        within: Window,
    },
    /// Did `name` (in the window, if given).
    Event {
        name: String,
        within: Option<Window>,
    },
    Engagement {
        activity: Engagement,
        within: Window,
    },
    /// Agreed to receive messages of this type (operational messages need no consent).
    Consent {
        message_type: MessageType,
    },
    /// One of these contacts: a hand-picked selection (at most [`MAX_SELECTED_CONTACTS`]).
    Contacts {
        ids: Vec<i64>,
    },
}

// Reading: through externally tagged twins, so that errors name the field (see `tagged`).

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum ExternalWindow {
    Last { amount: u32, unit: Unit },
    Next { amount: u32, unit: Unit },
}

impl<'de> Deserialize<'de> for Window {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(
            match super::tagged::read::<D, ExternalWindow>(d, "direction", &[])? {
                ExternalWindow::Last { amount, unit } => Window::Last { amount, unit },
                ExternalWindow::Next { amount, unit } => Window::Next { amount, unit },
            },
        )
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum ExternalFilter {
    All {
        of: Vec<Filter>,
    },
    Any {
        of: Vec<Filter>,
    },
    Not {
        not: Box<Filter>,
    },
    ActiveContact,
    Language {
        code: String,
    },
    Created {
        within: Window,
    },
    InGroup {
        group_id: i64,
    },
    Credential {
        collection: Option<String>,
        date: Option<(CredentialDate, Window)>,
    },
    Enrollment(EnrollmentFilter),
    Booking {
        within: Window,
    },
    ValidPass,
    ActiveSubscription,
    Ordered {
        within: Window,
    },
    Event {
        name: String,
        within: Option<Window>,
    },
    Engagement {
        activity: Engagement,
        within: Window,
    },
    Consent {
        message_type: MessageType,
    },
    Contacts {
        ids: Vec<i64>,
    },
}

impl<'de> Deserialize<'de> for Filter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use ExternalFilter as E;
        let units = ["active_contact", "valid_pass", "active_subscription"];
        Ok(match super::tagged::read::<D, E>(d, "filter", &units)? {
            E::All { of } => Filter::All { of },
            E::Any { of } => Filter::Any { of },
            E::Not { not } => Filter::Not { not },
            E::ActiveContact => Filter::ActiveContact,
            E::Language { code } => Filter::Language { code },
            E::Created { within } => Filter::Created { within },
            E::InGroup { group_id } => Filter::InGroup { group_id },
            E::Credential { collection, date } => Filter::Credential { collection, date },
            E::Enrollment(f) => Filter::Enrollment(f),
            E::Booking { within } => Filter::Booking { within },
            E::ValidPass => Filter::ValidPass,
            E::ActiveSubscription => Filter::ActiveSubscription,
            E::Ordered { within } => Filter::Ordered { within },
            E::Event { name, within } => Filter::Event { name, within },
            E::Engagement { activity, within } => Filter::Engagement { activity, within },
            E::Consent { message_type } => Filter::Consent { message_type },
            E::Contacts { ids } => Filter::Contacts { ids },
        })
    }
}

impl Filter {
    pub fn everyone() -> Self {
        Filter::All { of: vec![] }
    }

    /// Depth of the tree, to refuse absurd inputs before they reach the database.
    pub fn depth(&self) -> usize {
        match self {
            Filter::All { of } | Filter::Any { of } => {
                1 + of.iter().map(Filter::depth).max().unwrap_or(0)
            }
            Filter::Not { not } => 1 + not.depth(),
            _ => 1,
        }
    }

    /// The longest time window anywhere in the tree, in days (months count 31).
    pub fn longest_window_days(&self) -> i64 {
        let days = |w: &Window| {
            let (Window::Last { amount, unit } | Window::Next { amount, unit }) = *w;
            i64::from(amount).saturating_mul(match unit {
                Unit::Days => 1,
                Unit::Weeks => 7,
                Unit::Months => 31,
            })
        };
        match self {
            Filter::All { of } | Filter::Any { of } => of
                .iter()
                .map(Filter::longest_window_days)
                .max()
                .unwrap_or(0),
            Filter::Not { not } => not.longest_window_days(),
            Filter::Created { within }
            | Filter::Booking { within }
            | Filter::Ordered { within }
            | Filter::Engagement { within, .. } => days(within),
            Filter::Event { within, .. } => within.as_ref().map_or(0, days),
            Filter::Credential { date, .. } => date.as_ref().map_or(0, |(_, w)| days(w)),
            _ => 0,
        }
    }

    /// The groups the tree names (the rest of a campaign's references are its draft's).
    pub fn references(&self) -> crate::domain::campaign::References {
        fn walk(f: &Filter, r: &mut crate::domain::campaign::References) {
            match f {
                Filter::All { of } | Filter::Any { of } => of.iter().for_each(|f| walk(f, r)),
                Filter::Not { not } => walk(not, r),
                Filter::InGroup { group_id } => {
                    r.groups.insert(*group_id);
                }
                _ => {}
            }
        }
        let mut r = Default::default();
        walk(self, &mut r);
        r
    }

    /// Number of nodes in the tree.
    pub fn size(&self) -> usize {
        match self {
            Filter::All { of } | Filter::Any { of } => {
                1 + of.iter().map(Filter::size).sum::<usize>()
            }
            Filter::Not { not } => 1 + not.size(),
            _ => 1,
        }
    }
}

/// Limits on a filter tree from outside (API, builder).
pub const MAX_FILTER_DEPTH: usize = 12;
pub const MAX_FILTER_NODES: usize = 200;
pub const MAX_SELECTED_CONTACTS: usize = 10_000;

// ---------------------------------------------------------------------------------------------
// The reference evaluator

/// What the in-memory evaluator knows about contacts: the plain rows, as the database holds them.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    pub contacts: Vec<ContactRow>,
    pub group_members: Vec<(i64, i64)>, // (group_id, contact_id)
    pub credentials: Vec<CredentialRow>,
    pub enrollments: Vec<EnrollmentRow>,
    pub bookings: Vec<(i64, DateTime<Utc>)>, // (contact_id, starts_at)
    pub passes: Vec<(i64, DateTime<Utc>, DateTime<Utc>)>, // (contact_id, valid_from, valid_to)
    pub subscriptions: Vec<(i64, String, Option<DateTime<Utc>>)>, // (contact_id, status, period_end)
    pub purchases: Vec<(i64, DateTime<Utc>)>,                     // (contact_id, ordered_at)
    pub events: Vec<(i64, String, DateTime<Utc>)>,                // (contact_id, name, occurred_at)
    pub messages: Vec<MessageRow>,
}

/// (contact_id, last_opened_at, last_clicked_at) of one message.
pub type MessageRow = (i64, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

#[derive(Clone, Debug)]
pub struct ContactRow {
    pub id: i64,
    pub active: bool,
    pub language: String,
    pub created_at: DateTime<Utc>,
    pub marketing_consent: bool,
    pub newsletter_consent: bool,
}

#[derive(Clone, Debug)]
pub struct CredentialRow {
    pub contact_id: i64,
    pub collection: String,
    pub published_at: DateTime<Utc>,
    pub renewed_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug)]
pub struct EnrollmentRow {
    pub contact_id: i64,
    pub category: String,
    pub trainer: String,
    pub online: bool,
    pub remote: bool,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl Dataset {
    /// The ids of the contacts `filter` selects at `now`.
    pub fn select(&self, filter: &Filter, now: DateTime<Utc>) -> BTreeSet<i64> {
        self.contacts
            .iter()
            .filter(|c| self.matches(filter, c, now))
            .map(|c| c.id)
            .collect()
    }

    fn matches(&self, filter: &Filter, c: &ContactRow, now: DateTime<Utc>) -> bool {
        let id = c.id;
        match filter {
            Filter::All { of } => of.iter().all(|f| self.matches(f, c, now)),
            Filter::Any { of } => of.iter().any(|f| self.matches(f, c, now)),
            Filter::Not { not } => !self.matches(not, c, now),
            Filter::ActiveContact => c.active,
            Filter::Language { code } => &c.language == code,
            Filter::Created { within } => within.contains(now, c.created_at),
            Filter::InGroup { group_id } => self
                .group_members
                .iter()
                .any(|(g, m)| g == group_id && *m == id),
            Filter::Credential { collection, date } => self.credentials.iter().any(|r| {
                r.contact_id == id
                    && collection.as_ref().is_none_or(|col| &r.collection == col)
                    && date.is_none_or(|(which, window)| {
                        let t = match which {
                            CredentialDate::Published => Some(r.published_at),
                            CredentialDate::Renewed => r.renewed_at,
                            CredentialDate::Expires => r.expires_at,
                        };
                        t.is_some_and(|t| window.contains(now, t))
                    })
            }),
            Filter::Enrollment(f) => self.enrollments.iter().any(|r| {
                r.contact_id == id
                    && f.state.is_none_or(|s| s.holds(now, r.starts_at, r.ends_at))
                    && f.online.is_none_or(|o| r.online == o)
                    && !(f.exclude_remote && r.remote)
                    && f.trainer.as_ref().is_none_or(|t| &r.trainer == t)
                    && f.category.as_ref().is_none_or(|k| &r.category == k)
            }),
            Filter::Booking { within } => self
                .bookings
                .iter()
                .any(|(cid, t)| *cid == id && within.contains(now, *t)),
            Filter::ValidPass => self
                .passes
                .iter()
                .any(|(cid, from, to)| *cid == id && *from <= now && now < *to),
            Filter::ActiveSubscription => self.subscriptions.iter().any(|(cid, status, end)| {
                *cid == id && status == "active" && end.is_none_or(|e| e > now)
            }),
            Filter::Ordered { within } => self
                .purchases
                .iter()
                .any(|(cid, t)| *cid == id && within.contains(now, *t)),
            Filter::Event { name, within } => self.events.iter().any(|(cid, n, t)| {
                *cid == id && n == name && within.is_none_or(|w| w.contains(now, *t))
            }),
            Filter::Engagement { activity, within } => {
                let opened = self
                    .messages
                    .iter()
                    .any(|(cid, o, _)| *cid == id && o.is_some_and(|t| within.contains(now, t)));
                let clicked = self
                    .messages
                    .iter()
                    .any(|(cid, _, k)| *cid == id && k.is_some_and(|t| within.contains(now, t)));
                match activity {
                    Engagement::Opened => opened,
                    Engagement::Clicked => clicked,
                    Engagement::NeverEngaged => !opened && !clicked,
                }
            }
            Filter::Consent { message_type } => match message_type {
                MessageType::Operational => true,
                MessageType::Marketing => c.marketing_consent,
                MessageType::Newsletter => c.newsletter_consent,
            },
            Filter::Contacts { ids } => ids.contains(&id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_never_overflow_and_long_ones_are_measured() {
        let now = at("2026-11-25T00:00:00Z");
        for (window, from_is_min, to_is_max) in [
            (
                Window::Next {
                    amount: u32::MAX,
                    unit: Unit::Days,
                },
                false,
                true,
            ),
            (
                Window::Next {
                    amount: 2_147_483_648,
                    unit: Unit::Weeks,
                },
                false,
                true,
            ),
            (
                Window::Last {
                    amount: u32::MAX,
                    unit: Unit::Weeks,
                },
                true,
                false,
            ),
            (
                Window::Last {
                    amount: u32::MAX,
                    unit: Unit::Months,
                },
                false,
                false,
            ),
        ] {
            let (from, to) = window.bounds(now);
            assert_eq!(from == DateTime::<Utc>::MIN_UTC, from_is_min, "{window:?}");
            assert_eq!(to == DateTime::<Utc>::MAX_UTC, to_is_max, "{window:?}");
        }
        let w = |amount, unit| Filter::Created {
            within: Window::Last { amount, unit },
        };
        for (filter, days) in [
            (w(30, Unit::Days), 30),
            (w(3, Unit::Weeks), 21),
            (w(2, Unit::Months), 62),
            (
                Filter::All {
                    of: vec![
                        w(1, Unit::Days),
                        Filter::Not {
                            not: Box::new(w(10, Unit::Weeks)),
                        },
                    ],
                },
                70,
            ),
            (Filter::ValidPass, 0),
            (w(u32::MAX, Unit::Months), u32::MAX as i64 * 31),
        ] {
            assert_eq!(filter.longest_window_days(), days, "{filter:?}");
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn windows() {
        let now = at("2026-03-31T12:00:00Z");
        let table = [
            (
                Window::Last {
                    amount: 30,
                    unit: Unit::Days,
                },
                "2026-03-01T12:00:00Z",
                "2026-03-31T12:00:00Z",
            ),
            (
                Window::Next {
                    amount: 2,
                    unit: Unit::Weeks,
                },
                "2026-03-31T12:00:00Z",
                "2026-04-14T12:00:00Z",
            ),
            // Month arithmetic clamps to the end of shorter months.
            (
                Window::Next {
                    amount: 1,
                    unit: Unit::Months,
                },
                "2026-03-31T12:00:00Z",
                "2026-04-30T12:00:00Z",
            ),
            (
                Window::Last {
                    amount: 1,
                    unit: Unit::Months,
                },
                "2026-02-28T12:00:00Z",
                "2026-03-31T12:00:00Z",
            ),
            (
                Window::Last {
                    amount: 6,
                    unit: Unit::Months,
                },
                "2025-09-30T12:00:00Z",
                "2026-03-31T12:00:00Z",
            ),
            (
                Window::Last {
                    amount: 0,
                    unit: Unit::Days,
                },
                "2026-03-31T12:00:00Z",
                "2026-03-31T12:00:00Z",
            ),
        ];
        for (window, from, to) in table {
            assert_eq!(window.bounds(now), (at(from), at(to)), "{window:?}");
        }
        let w = Window::Last {
            amount: 7,
            unit: Unit::Days,
        };
        assert!(
            w.contains(now, at("2026-03-24T12:00:00Z")),
            "bounds are inclusive"
        );
        assert!(!w.contains(now, at("2026-03-24T11:59:59Z")));
        assert!(
            !w.contains(now, at("2026-03-31T12:00:01Z")),
            "the future is not in the past window"
        );
    }

    #[test]
    fn enrollment_states() {
        let now = at("2026-06-01T00:00:00Z");
        let (past, future) = (at("2026-05-01T00:00:00Z"), at("2026-07-01T00:00:00Z"));
        let (later, earlier) = (at("2026-08-01T00:00:00Z"), at("2026-04-01T00:00:00Z"));
        use EnrollmentState::*;
        // (starts, ends) -> [ongoing, upcoming, current, ended]
        let table = [
            ((future, later), [true, true, false, false]),
            ((past, future), [true, false, true, false]),
            ((earlier, past), [false, false, false, true]),
            ((past, now), [false, false, false, true]), // ends exactly now: ended
            ((now, future), [true, false, true, false]), // starts exactly now: current
        ];
        for ((starts, ends), expected) in table {
            let got = [Ongoing, Upcoming, Current, Ended].map(|s| s.holds(now, starts, ends));
            assert_eq!(got, expected, "{starts} – {ends}");
        }
    }

    #[test]
    fn the_tree_serialises_in_a_readable_shape() {
        let f = Filter::All {
            of: vec![
                Filter::Credential {
                    collection: Some("First aid".into()),
                    date: Some((
                        CredentialDate::Expires,
                        Window::Next {
                            amount: 30,
                            unit: Unit::Days,
                        },
                    )),
                },
                Filter::Not {
                    not: Box::new(Filter::Consent {
                        message_type: MessageType::Marketing,
                    }),
                },
            ],
        };
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["filter"], "all");
        assert_eq!(json["of"][0]["filter"], "credential");
        assert_eq!(
            json["of"][0]["date"][1],
            serde_json::json!({"direction": "next", "amount": 30, "unit": "days"})
        );
        assert_eq!(json["of"][1]["not"]["message_type"], "marketing");
        assert_eq!(serde_json::from_value::<Filter>(json).unwrap(), f);
        assert!(
            serde_json::from_str::<Filter>(r#"{"filter":"credential","collection":7}"#).is_err()
        );
        assert_eq!(f.depth(), 3);
        assert_eq!(f.size(), 4);
    }

    #[test]
    fn evaluator_semantics() {
        let now = at("2026-06-01T00:00:00Z");
        let contact = |id, active| ContactRow {
            id,
            active,
            language: if id % 2 == 0 {
                "fr".into()
            } else {
                "en".into()
            },
            created_at: at("2026-01-01T00:00:00Z"),
            marketing_consent: id == 1,
            newsletter_consent: false,
        };
        let data = Dataset {
            contacts: vec![contact(1, true), contact(2, true), contact(3, false)],
            group_members: vec![(10, 2)],
            credentials: vec![CredentialRow {
                contact_id: 3,
                collection: "First aid".into(),
                published_at: at("2025-06-10T00:00:00Z"),
                renewed_at: None,
                expires_at: Some(at("2026-06-20T00:00:00Z")),
            }],
            messages: vec![(1, Some(at("2026-05-30T00:00:00Z")), None)],
            ..Default::default()
        };
        let ids = |f: Filter| data.select(&f, now).into_iter().collect::<Vec<_>>();
        let month = Window::Next {
            amount: 1,
            unit: Unit::Months,
        };
        let week = Window::Last {
            amount: 7,
            unit: Unit::Days,
        };
        assert_eq!(ids(Filter::everyone()), vec![1, 2, 3]);
        assert_eq!(ids(Filter::Any { of: vec![] }), Vec::<i64>::new());
        assert_eq!(ids(Filter::ActiveContact), vec![1, 2]);
        assert_eq!(ids(Filter::Language { code: "fr".into() }), vec![2]);
        assert_eq!(ids(Filter::InGroup { group_id: 10 }), vec![2]);
        assert_eq!(
            ids(Filter::Credential {
                collection: None,
                date: Some((CredentialDate::Expires, month))
            }),
            vec![3]
        );
        assert_eq!(
            ids(Filter::Credential {
                collection: None,
                date: Some((CredentialDate::Renewed, month))
            }),
            Vec::<i64>::new()
        );
        assert_eq!(
            ids(Filter::Engagement {
                activity: Engagement::Opened,
                within: week
            }),
            vec![1]
        );
        assert_eq!(
            ids(Filter::Engagement {
                activity: Engagement::NeverEngaged,
                within: week
            }),
            vec![2, 3]
        );
        assert_eq!(
            ids(Filter::Consent {
                message_type: MessageType::Marketing
            }),
            vec![1]
        );
        assert_eq!(
            ids(Filter::Consent {
                message_type: MessageType::Operational
            }),
            vec![1, 2, 3]
        );
        assert_eq!(
            ids(Filter::Not {
                not: Box::new(Filter::ActiveContact)
            }),
            vec![3]
        );
    }
}
