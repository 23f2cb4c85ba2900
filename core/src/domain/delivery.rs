//! Who receives a message: the one decision, for a campaign (or a transactional send) and a
//! contact at a moment, whether a message goes out now, later, or not at all, and why not.
//! The sender re-checks it when it claims a message, the scheduler when it fans a run out, and
//! the builder's reach count asks it too, so all three always agree.

use super::campaign::{Frequency, QuietPeriod};
use super::{Channel, ContactStatus, MessageType, SkipReason};
use chrono::{DateTime, Duration, FixedOffset, Timelike, Utc};

/// Whether a contact agreed to a type of message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consent {
    Given,
    /// Said no, or unsubscribed.
    Withdrawn,
    /// Never asked: allowed unless the organisation requires opt-in.
    Unknown,
}

impl Consent {
    /// From a contact's stored flag and the time it was last set (none: never set).
    pub fn from_stored(given: bool, at: Option<DateTime<Utc>>) -> Consent {
        match (given, at) {
            (true, _) => Consent::Given,
            (false, Some(_)) => Consent::Withdrawn,
            (false, None) => Consent::Unknown,
        }
    }
}

/// What the campaign and its organisation ask of every message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub message_type: MessageType,
    pub channel: Channel,
    pub frequency: Frequency,
    pub quiet_periods: Vec<QuietPeriod>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Marketing and newsletter messages need consent that was given, not only not withdrawn.
    pub require_opt_in: bool,
    /// The organisation's cap: at most this many marketing and newsletter messages per contact
    /// per [`CAP_WINDOW_DAYS`] days.
    pub weekly_cap: Option<u32>,
}

/// The window of the organisation-wide cap.
pub const CAP_WINDOW_DAYS: i64 = 7;

/// What is known about one recipient when deciding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    pub status: ContactStatus,
    /// The address for the campaign's channel (email or phone), if the contact has one.
    pub address: Option<String>,
    /// Consent for the campaign's message type (ignored for operational messages).
    pub consent: Consent,
    /// On the global suppression list or one of the campaign's.
    pub suppressed: bool,
    /// The recipient's offset from UTC now, for quiet periods. A deferred message is decided
    /// again when it wakes, so a daylight-saving change in between corrects itself.
    pub utc_offset: FixedOffset,
    /// When this campaign last sent to the contact (not counting this message).
    pub last_from_campaign: Option<DateTime<Utc>>,
    /// Marketing and newsletter messages sent to the contact in the last [`CAP_WINDOW_DAYS`].
    pub marketing_in_window: u32,
}

/// The answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Send,
    /// Not before this moment (a quiet period); decide again then.
    Defer(DateTime<Utc>),
    Skip(SkipReason),
}

/// The checks of [`decide`] that depend only on the contact and the campaign, not on the
/// moment or on earlier messages, in the order `decide` makes them. The builder's reach
/// breakdown counts them in SQL in this order (`crate::audience::reach`), so a contact left out
/// there is left out by the sender for the same reason; a test holds the two together.
pub const STANDING_CHECKS: [SkipReason; 5] = [
    SkipReason::Inactive,
    SkipReason::NoAddress,
    SkipReason::Suppressed,
    SkipReason::Unsubscribed,
    SkipReason::NoConsent,
];

/// The campaign facts reach depends on.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReachRule {
    pub message_type: MessageType,
    pub channel: Channel,
    /// The campaign's own suppression lists (the organisation's global one always applies).
    #[serde(default)]
    pub suppression_list_ids: Vec<i64>,
}

/// Who an audience reaches under a campaign's rules: the contacts who match its filters, how
/// many of them would get a message, and why the others would not (in [`STANDING_CHECKS`]
/// order, only reasons that apply).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reach {
    pub matched: u64,
    pub reachable: u64,
    pub left_out: Vec<(SkipReason, u64)>,
}

impl ReachRule {
    /// Why a contact is left out, in the builder's words ("no email address").
    pub fn left_out_because(&self, reason: SkipReason) -> String {
        let kind = match self.message_type {
            MessageType::Newsletter => "newsletters",
            _ => "marketing",
        };
        match reason {
            SkipReason::Inactive => "inactive".into(),
            SkipReason::NoAddress => match self.channel {
                Channel::Email => "no email address".into(),
                Channel::Sms => "no phone number".into(),
            },
            SkipReason::Suppressed => "address suppressed".into(),
            SkipReason::Unsubscribed => format!("unsubscribed from {kind}"),
            SkipReason::NoConsent => format!("never opted in to {kind}"),
            other => other.label().to_lowercase(),
        }
    }
}

impl Reach {
    /// From counts per reason (`None`: reached), in any order.
    pub fn from_counts(counts: impl IntoIterator<Item = (Option<SkipReason>, u64)>) -> Reach {
        let mut reach = Reach::default();
        let mut by_reason = std::collections::HashMap::new();
        for (reason, n) in counts {
            reach.matched += n;
            match reason {
                None => reach.reachable += n,
                Some(r) => *by_reason.entry(r).or_insert(0) += n,
            }
        }
        reach.left_out = STANDING_CHECKS
            .iter()
            .filter_map(|r| by_reason.get(r).map(|n| (*r, *n)))
            .filter(|(_, n)| *n > 0)
            .collect();
        reach
    }
}

/// Decides whether `to` gets a message under `policy` at `now`. The checks run from the most
/// permanent reason to the most passing one, so the reason recorded is the one that matters.
pub fn decide(policy: &Policy, to: &Recipient, now: DateTime<Utc>) -> Decision {
    use Decision::*;
    if policy.expires_at.is_some_and(|at| at <= now) {
        return Skip(SkipReason::Expired);
    }
    if to.status != ContactStatus::Active {
        return Skip(SkipReason::Inactive);
    }
    if to.address.as_deref().is_none_or(|a| a.trim().is_empty()) {
        return Skip(SkipReason::NoAddress);
    }
    if to.suppressed {
        return Skip(SkipReason::Suppressed);
    }
    let promotional = policy.message_type != MessageType::Operational;
    if promotional {
        match to.consent {
            Consent::Withdrawn => return Skip(SkipReason::Unsubscribed),
            Consent::Unknown if policy.require_opt_in => return Skip(SkipReason::NoConsent),
            _ => {}
        }
    }
    match (policy.frequency, to.last_from_campaign) {
        (Frequency::Once, Some(_)) => return Skip(SkipReason::AlreadyReceived),
        (Frequency::AtMostEvery { days }, Some(last))
            if now < last + Duration::days(i64::from(days)) =>
        {
            return Skip(SkipReason::FrequencyCap);
        }
        _ => {}
    }
    if promotional
        && policy
            .weekly_cap
            .is_some_and(|cap| to.marketing_in_window >= cap)
    {
        return Skip(SkipReason::OrganisationCap);
    }
    if let Some(until) = quiet_until(&policy.quiet_periods, to.utc_offset, now) {
        return if policy.expires_at.is_some_and(|at| at <= until) {
            Skip(SkipReason::QuietPeriod)
        } else {
            Defer(until)
        };
    }
    Send
}

/// When the quiet periods that hold at `now` (in a zone `offset` from UTC) end, if any does:
/// overlapping and back-to-back periods are followed to their common end.
pub fn quiet_until(
    periods: &[QuietPeriod],
    offset: FixedOffset,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let mut at = now;
    // Each step moves past the end of one period; more steps than periods means a cycle (the
    // periods cover the whole day): then nothing can ever be sent, and the first end is as good
    // as any, since the message will be decided again there.
    for _ in 0..=periods.len() {
        let local = at.with_timezone(&offset);
        let minute = (local.hour() * 60 + local.minute()) as u16;
        let Some(p) = periods
            .iter()
            .find(|p| p.start != p.end && p.contains(minute))
        else {
            return (at != now).then_some(at);
        };
        let ahead = (i64::from(p.end) - i64::from(minute)).rem_euclid(24 * 60);
        at = (at + Duration::minutes(ahead))
            .with_second(0)
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(at);
    }
    (at != now).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, h, m, 0).unwrap()
    }

    fn policy() -> Policy {
        Policy {
            message_type: MessageType::Marketing,
            channel: Channel::Email,
            frequency: Frequency::EveryTime,
            quiet_periods: vec![],
            expires_at: None,
            require_opt_in: false,
            weekly_cap: None,
        }
    }

    fn recipient() -> Recipient {
        Recipient {
            status: ContactStatus::Active,
            address: Some("ada@example.com".into()),
            consent: Consent::Unknown,
            suppressed: false,
            utc_offset: FixedOffset::east_opt(0).unwrap(),
            last_from_campaign: None,
            marketing_in_window: 0,
        }
    }

    fn quiet(start: u16, end: u16) -> QuietPeriod {
        QuietPeriod { start, end }
    }

    #[test]
    fn decides_who_receives_what_and_why_not() {
        let now = t(12, 0);
        type Case = (&'static str, fn(&mut Policy, &mut Recipient), Decision);
        let cases: Vec<Case> = vec![
            (
                "an active contact with an address",
                |_, _| {},
                Decision::Send,
            ),
            (
                "the campaign has expired",
                |p, _| p.expires_at = Some(t(11, 0)),
                Decision::Skip(SkipReason::Expired),
            ),
            (
                "expiry wins over every other reason",
                |p, r| {
                    p.expires_at = Some(t(12, 0));
                    r.suppressed = true;
                    r.status = ContactStatus::Inactive;
                },
                Decision::Skip(SkipReason::Expired),
            ),
            (
                "an inactive contact",
                |_, r| r.status = ContactStatus::Inactive,
                Decision::Skip(SkipReason::Inactive),
            ),
            (
                "no address for the channel",
                |_, r| r.address = None,
                Decision::Skip(SkipReason::NoAddress),
            ),
            (
                "a blank address",
                |_, r| r.address = Some("  ".into()),
                Decision::Skip(SkipReason::NoAddress),
            ),
            (
                "a suppressed address gets nothing, not even operational mail",
                |p, r| {
                    p.message_type = MessageType::Operational;
                    r.suppressed = true;
                },
                Decision::Skip(SkipReason::Suppressed),
            ),
            (
                "withdrawn consent stops marketing",
                |_, r| r.consent = Consent::Withdrawn,
                Decision::Skip(SkipReason::Unsubscribed),
            ),
            (
                "withdrawn consent stops newsletters",
                |p, r| {
                    p.message_type = MessageType::Newsletter;
                    r.consent = Consent::Withdrawn;
                },
                Decision::Skip(SkipReason::Unsubscribed),
            ),
            (
                "operational messages do not need consent",
                |p, r| {
                    p.message_type = MessageType::Operational;
                    p.require_opt_in = true;
                    r.consent = Consent::Withdrawn;
                },
                Decision::Send,
            ),
            (
                "consent never asked is enough without opt-in",
                |_, _| {},
                Decision::Send,
            ),
            (
                "opt-in needs consent given",
                |p, _| p.require_opt_in = true,
                Decision::Skip(SkipReason::NoConsent),
            ),
            (
                "opt-in with consent given",
                |p, r| {
                    p.require_opt_in = true;
                    r.consent = Consent::Given;
                },
                Decision::Send,
            ),
            (
                "once: a second time is skipped",
                |p, r| {
                    p.frequency = Frequency::Once;
                    r.last_from_campaign = Some(t(1, 0) - Duration::days(400));
                },
                Decision::Skip(SkipReason::AlreadyReceived),
            ),
            (
                "once: the first time goes",
                |p, _| p.frequency = Frequency::Once,
                Decision::Send,
            ),
            (
                "every 7 days: 6 days later is too soon",
                |p, r| {
                    p.frequency = Frequency::AtMostEvery { days: 7 };
                    r.last_from_campaign = Some(t(12, 0) - Duration::days(6));
                },
                Decision::Skip(SkipReason::FrequencyCap),
            ),
            (
                "every 7 days: exactly 7 days later goes",
                |p, r| {
                    p.frequency = Frequency::AtMostEvery { days: 7 };
                    r.last_from_campaign = Some(t(12, 0) - Duration::days(7));
                },
                Decision::Send,
            ),
            (
                "every time: again and again",
                |_, r| r.last_from_campaign = Some(t(11, 59)),
                Decision::Send,
            ),
            (
                "the organisation's cap is reached",
                |p, r| {
                    p.weekly_cap = Some(3);
                    r.marketing_in_window = 3;
                },
                Decision::Skip(SkipReason::OrganisationCap),
            ),
            (
                "under the organisation's cap",
                |p, r| {
                    p.weekly_cap = Some(3);
                    r.marketing_in_window = 2;
                },
                Decision::Send,
            ),
            (
                "the cap leaves operational messages alone",
                |p, r| {
                    p.message_type = MessageType::Operational;
                    p.weekly_cap = Some(0);
                    r.marketing_in_window = 9;
                },
                Decision::Send,
            ),
            (
                "a quiet period defers to its end",
                |p, _| p.quiet_periods = vec![quiet(11 * 60, 14 * 60)],
                Decision::Defer(t(14, 0)),
            ),
            (
                "quiet periods are in the recipient's time zone",
                |p, r| {
                    // 12:00 UTC is 13:00 at +01:00: inside 13:00–15:00 local, which ends at
                    // 14:00 UTC.
                    p.quiet_periods = vec![quiet(13 * 60, 15 * 60)];
                    r.utc_offset = FixedOffset::east_opt(3600).unwrap();
                },
                Decision::Defer(t(14, 0)),
            ),
            (
                "outside the quiet period",
                |p, _| p.quiet_periods = vec![quiet(22 * 60, 7 * 60)],
                Decision::Send,
            ),
            (
                "a quiet period that outlives the campaign skips",
                |p, _| {
                    p.quiet_periods = vec![quiet(11 * 60, 14 * 60)];
                    p.expires_at = Some(t(13, 0));
                },
                Decision::Skip(SkipReason::QuietPeriod),
            ),
            (
                "a quiet period ending as the campaign expires skips",
                |p, _| {
                    p.quiet_periods = vec![quiet(11 * 60, 14 * 60)];
                    p.expires_at = Some(t(14, 0));
                },
                Decision::Skip(SkipReason::QuietPeriod),
            ),
        ];
        for (name, change, expected) in cases {
            let (mut p, mut r) = (policy(), recipient());
            change(&mut p, &mut r);
            assert_eq!(decide(&p, &r, now), expected, "{name}");
        }
    }

    #[test]
    fn quiet_periods_end_where_they_end() {
        let utc = FixedOffset::east_opt(0).unwrap();
        let minus5 = FixedOffset::west_opt(5 * 3600).unwrap();
        for (name, periods, offset, now, expected) in [
            ("none", vec![], utc, t(3, 0), None),
            (
                "across midnight, before it",
                vec![quiet(22 * 60, 7 * 60)],
                utc,
                t(23, 30),
                Some(t(7, 0) + Duration::days(1)),
            ),
            (
                "across midnight, after it",
                vec![quiet(22 * 60, 7 * 60)],
                utc,
                t(3, 15),
                Some(t(7, 0)),
            ),
            (
                "the end itself is not quiet",
                vec![quiet(22 * 60, 7 * 60)],
                utc,
                t(7, 0),
                None,
            ),
            (
                "the start is quiet",
                vec![quiet(22 * 60, 7 * 60)],
                utc,
                t(22, 0),
                Some(t(7, 0) + Duration::days(1)),
            ),
            (
                "back-to-back periods are followed to the last end",
                vec![quiet(12 * 60, 13 * 60), quiet(13 * 60, 18 * 60)],
                utc,
                t(12, 30),
                Some(t(18, 0)),
            ),
            (
                "overlapping periods too",
                vec![quiet(13 * 60, 18 * 60), quiet(12 * 60, 14 * 60)],
                utc,
                t(12, 30),
                Some(t(18, 0)),
            ),
            (
                "in a zone west of UTC",
                // 03:00 UTC is 22:00 the day before at -05:00; quiet until 07:00 local, 12:00 UTC.
                vec![quiet(21 * 60, 7 * 60)],
                minus5,
                t(3, 0),
                Some(t(12, 0)),
            ),
            (
                "an empty period is ignored",
                vec![quiet(600, 600)],
                utc,
                t(10, 0),
                None,
            ),
            (
                "seconds are dropped from the end",
                vec![quiet(0, 60)],
                utc,
                t(0, 30) + Duration::seconds(17),
                Some(t(1, 0)),
            ),
        ] {
            assert_eq!(quiet_until(&periods, offset, now), expected, "{name}");
        }
    }

    #[test]
    fn periods_covering_the_whole_day_still_answer_a_time() {
        let utc = FixedOffset::east_opt(0).unwrap();
        let periods = [quiet(0, 12 * 60), quiet(12 * 60, 0)];
        let until = quiet_until(&periods, utc, t(6, 0)).expect("quiet");
        assert!(until > t(6, 0));
    }

    #[test]
    fn the_standing_checks_are_made_in_their_listed_order() {
        // A contact failing two standing checks is skipped for the one listed first: the SQL
        // breakdown relies on that order.
        fn fail(check: SkipReason, p: &mut Policy, r: &mut Recipient) {
            match check {
                SkipReason::Inactive => r.status = ContactStatus::Inactive,
                SkipReason::NoAddress => r.address = Some("  ".into()),
                SkipReason::Suppressed => r.suppressed = true,
                SkipReason::Unsubscribed => r.consent = Consent::Withdrawn,
                SkipReason::NoConsent => {
                    r.consent = Consent::Unknown;
                    p.require_opt_in = true;
                }
                other => unreachable!("{other:?} is not a standing check"),
            }
        }
        let now = t(12, 0);
        for (i, first) in STANDING_CHECKS.iter().enumerate() {
            let (mut p, mut r) = (policy(), recipient());
            r.consent = Consent::Given;
            fail(*first, &mut p, &mut r);
            assert_eq!(decide(&p, &r, now), Decision::Skip(*first));
            for later in &STANDING_CHECKS[i + 1..] {
                if (*first, *later) == (SkipReason::Unsubscribed, SkipReason::NoConsent) {
                    continue; // one consent value cannot be both
                }
                let (mut p, mut r) = (policy(), recipient());
                r.consent = Consent::Given;
                fail(*later, &mut p, &mut r);
                fail(*first, &mut p, &mut r);
                assert_eq!(
                    decide(&p, &r, now),
                    Decision::Skip(*first),
                    "{first:?} before {later:?}"
                );
            }
        }
    }

    #[test]
    fn reach_sums_the_counts_in_check_order() {
        let reach = Reach::from_counts([
            (Some(SkipReason::NoConsent), 2),
            (None, 10),
            (Some(SkipReason::Inactive), 3),
            (None, 5),
            (Some(SkipReason::Suppressed), 0),
        ]);
        assert_eq!(reach.matched, 20);
        assert_eq!(reach.reachable, 15);
        assert_eq!(
            reach.left_out,
            vec![(SkipReason::Inactive, 3), (SkipReason::NoConsent, 2)]
        );
    }

    #[test]
    fn consent_reads_from_the_flag_and_its_time() {
        assert_eq!(Consent::from_stored(true, None), Consent::Given);
        assert_eq!(Consent::from_stored(true, Some(t(1, 0))), Consent::Given);
        assert_eq!(
            Consent::from_stored(false, Some(t(1, 0))),
            Consent::Withdrawn
        );
        assert_eq!(Consent::from_stored(false, None), Consent::Unknown);
    }
}
