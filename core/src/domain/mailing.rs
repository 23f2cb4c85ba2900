//! Mailing lists: the Messages page's recipient filters, as school admins know them ("ongoing
//! enrollments", "valid pass holders", "recently created accounts" …, narrowed by trainer,
//! category, preferences, and leaving out remote courses), turned into an audience [`Filter`].
//! The same filter then goes through the audience engine, the reach rule and the outbox as
//! every campaign's does.

use super::MessageType;
use super::audience::{EnrollmentFilter, EnrollmentState, Filter, Unit, Window};
use serde::{Deserialize, Serialize};

/// The mailing lists, as (key, label).
pub const LISTS: &[(&str, &str)] = &[
    ("ongoing_enrollments", "Ongoing enrollments"),
    ("upcoming_enrollments", "Upcoming enrollments"),
    ("current_enrollments", "Current enrollments"),
    ("ended_enrollments", "Ended enrollments"),
    ("online_enrollments", "Online enrollments"),
    ("upcoming_bookings", "Upcoming bookings"),
    ("past_bookings", "Past bookings"),
    ("valid_pass", "Valid pass holders"),
    ("active_subscription", "Active subscription holders"),
    ("past_orders", "Past orders"),
    ("recent_accounts", "Recently created accounts"),
    ("active_users", "Active users"),
    ("group", "A group"),
];

/// What the Messages page's filter form says.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MailingQuery {
    /// One of [`LISTS`]' keys.
    pub list: String,
    /// Days for bookings and recent accounts, months for past orders.
    pub within: Option<u32>,
    pub group_id: Option<i64>,
    pub trainer: String,
    pub category: String,
    /// Only contacts who agreed to this type of message.
    pub preference: Option<MessageType>,
    pub exclude_remote: bool,
}

/// The longest window, in days or months.
const MAX_WITHIN: u32 = 3_650;

impl MailingQuery {
    /// The audience the query means, or what is wrong with it, in words.
    pub fn filter(&self) -> Result<Filter, String> {
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let (trainer, category) = (text(&self.trainer), text(&self.category));
        let within = |default: u32, unit: Unit, past: bool| -> Result<Window, String> {
            let amount = self.within.unwrap_or(default);
            if amount == 0 || amount > MAX_WITHIN {
                return Err(format!("Choose a period between 1 and {MAX_WITHIN}."));
            }
            Ok(if past {
                Window::Last { amount, unit }
            } else {
                Window::Next { amount, unit }
            })
        };
        let enrollment = |state: Option<EnrollmentState>, online: Option<bool>| {
            Filter::Enrollment(EnrollmentFilter {
                state,
                online,
                exclude_remote: self.exclude_remote,
                trainer: trainer.clone(),
                category: category.clone(),
            })
        };
        let base = match self.list.as_str() {
            "ongoing_enrollments" => enrollment(Some(EnrollmentState::Ongoing), None),
            "upcoming_enrollments" => enrollment(Some(EnrollmentState::Upcoming), None),
            "current_enrollments" => enrollment(Some(EnrollmentState::Current), None),
            "ended_enrollments" => enrollment(Some(EnrollmentState::Ended), None),
            "online_enrollments" => enrollment(None, Some(true)),
            "upcoming_bookings" => Filter::Booking {
                within: within(30, Unit::Days, false)?,
            },
            "past_bookings" => Filter::Booking {
                within: within(30, Unit::Days, true)?,
            },
            "valid_pass" => Filter::ValidPass,
            "active_subscription" => Filter::ActiveSubscription,
            "past_orders" => Filter::Ordered {
                within: within(6, Unit::Months, true)?,
            },
            "recent_accounts" => Filter::Created {
                within: within(30, Unit::Days, true)?,
            },
            "active_users" => Filter::ActiveContact,
            "group" => Filter::InGroup {
                group_id: self.group_id.ok_or("Choose the group.")?,
            },
            "" => return Err("Choose who the message is for.".into()),
            other => return Err(format!("There is no mailing list “{other}”.")),
        };
        let narrowed_by_course = matches!(base, Filter::Enrollment(_));
        let mut all = vec![base];
        // A trainer, a category or leaving out remote courses narrows any other list to
        // contacts with such an enrollment.
        if !narrowed_by_course && (trainer.is_some() || category.is_some() || self.exclude_remote) {
            all.push(enrollment(None, None));
        }
        if let Some(message_type) = self.preference.filter(|t| *t != MessageType::Operational) {
            all.push(Filter::Consent { message_type });
        }
        Ok(if all.len() == 1 {
            all.remove(0)
        } else {
            Filter::All { of: all }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(list: &str) -> MailingQuery {
        MailingQuery {
            list: list.into(),
            ..MailingQuery::default()
        }
    }

    #[test]
    fn mailing_lists_become_audiences() {
        let ended = |trainer: Option<&str>, remote: bool| {
            Filter::Enrollment(EnrollmentFilter {
                state: Some(EnrollmentState::Ended),
                online: None,
                exclude_remote: remote,
                trainer: trainer.map(str::to_owned),
                category: None,
            })
        };
        let cases: Vec<(&str, MailingQuery, Result<Filter, &str>)> = vec![
            ("a list alone", q("valid_pass"), Ok(Filter::ValidPass)),
            (
                "enrollments narrowed in place",
                MailingQuery {
                    trainer: " Ines ".into(),
                    exclude_remote: true,
                    ..q("ended_enrollments")
                },
                Ok(ended(Some("Ines"), true)),
            ),
            (
                "another list narrowed by course",
                MailingQuery {
                    exclude_remote: true,
                    ..q("active_users")
                },
                Ok(Filter::All {
                    of: vec![
                        Filter::ActiveContact,
                        Filter::Enrollment(EnrollmentFilter {
                            state: None,
                            online: None,
                            exclude_remote: true,
                            trainer: None,
                            category: None,
                        }),
                    ],
                }),
            ),
            (
                "a preference",
                MailingQuery {
                    preference: Some(MessageType::Newsletter),
                    ..q("active_subscription")
                },
                Ok(Filter::All {
                    of: vec![
                        Filter::ActiveSubscription,
                        Filter::Consent {
                            message_type: MessageType::Newsletter,
                        },
                    ],
                }),
            ),
            (
                "operational needs no preference",
                MailingQuery {
                    preference: Some(MessageType::Operational),
                    ..q("valid_pass")
                },
                Ok(Filter::ValidPass),
            ),
            (
                "past orders default to 6 months",
                q("past_orders"),
                Ok(Filter::Ordered {
                    within: Window::Last {
                        amount: 6,
                        unit: Unit::Months,
                    },
                }),
            ),
            (
                "upcoming bookings, 14 days",
                MailingQuery {
                    within: Some(14),
                    ..q("upcoming_bookings")
                },
                Ok(Filter::Booking {
                    within: Window::Next {
                        amount: 14,
                        unit: Unit::Days,
                    },
                }),
            ),
            (
                "a group",
                MailingQuery {
                    group_id: Some(3),
                    ..q("group")
                },
                Ok(Filter::InGroup { group_id: 3 }),
            ),
            ("a group not chosen", q("group"), Err("Choose the group.")),
            (
                "nothing chosen",
                q(""),
                Err("Choose who the message is for."),
            ),
            (
                "unknown",
                q("everyone_ever"),
                Err("There is no mailing list “everyone_ever”."),
            ),
            (
                "a zero period",
                MailingQuery {
                    within: Some(0),
                    ..q("recent_accounts")
                },
                Err("Choose a period between 1 and 3650."),
            ),
        ];
        for (name, query, expected) in cases {
            assert_eq!(query.filter(), expected.map_err(str::to_owned), "{name}");
        }
        for (key, _) in LISTS {
            let query = MailingQuery {
                group_id: Some(1),
                ..q(key)
            };
            assert!(query.filter().is_ok(), "{key}");
        }
    }
}
