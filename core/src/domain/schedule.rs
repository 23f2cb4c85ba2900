//! When triggers fire, as plain functions of time: the next run of a timed trigger (at a moment;
//! recurring at a local time in the organisation's time zone, across daylight-saving changes),
//! the daily run that evaluates record dates, and which record dates a run covers. The
//! scheduler (`delivery::scheduler`) stores and claims runs; these functions only compute.

use super::audience::Unit;
use super::trigger::{Cadence, Relation, Trigger};
use chrono::{
    DateTime, Datelike, Days, Duration, LocalResult, Months, NaiveDate, NaiveDateTime, NaiveTime,
    TimeZone, Utc,
};

/// The instant a local time of `tz` happens. A time skipped by a daylight-saving change
/// (02:30 on the night clocks go forward) happens at the first valid minute after it; a time
/// that happens twice (clocks go back) happens the first time.
pub fn resolve<Z: TimeZone>(tz: &Z, local: NaiveDateTime) -> DateTime<Utc> {
    let mut t = local;
    // Gaps are at most a few hours; a day of steps is a bound, not an expectation.
    for _ in 0..(24 * 4) {
        match tz.from_local_datetime(&t) {
            LocalResult::Single(at) => return at.with_timezone(&Utc),
            LocalResult::Ambiguous(first, _) => return first.with_timezone(&Utc),
            LocalResult::None => t += Duration::minutes(15),
        }
    }
    local.and_utc()
}

/// Whether a recurring cadence sends on local day `d`.
fn sends_on(cadence: Cadence, d: NaiveDate) -> bool {
    match cadence {
        Cadence::Daily => true,
        Cadence::Weekly { weekday } => d.weekday().num_days_from_monday() == u32::from(weekday),
        Cadence::Monthly { day } => d.day() == u32::from(day),
    }
}

/// The first run of a timed trigger strictly after `after`: an `At` trigger runs at its moment,
/// a recurring one at its local minute of the day in `tz`. `None` for triggers that are not
/// timed (immediate, record dates, events, segments) and once an `At` has passed.
pub fn next_run<Z: TimeZone>(
    trigger: &Trigger,
    after: DateTime<Utc>,
    tz: &Z,
) -> Option<DateTime<Utc>> {
    match trigger {
        Trigger::At { at } => (*at > after).then_some(*at),
        Trigger::Recurring { cadence, minute } => {
            let time = NaiveTime::from_num_seconds_from_midnight_opt(u32::from(*minute) * 60, 0)?;
            let today = after.with_timezone(tz).date_naive();
            // A monthly day comes within 31 days; start the day before, since a local day may
            // begin before `after` in UTC.
            (0..64)
                .filter_map(|i| {
                    today
                        .checked_sub_days(Days::new(1))?
                        .checked_add_days(Days::new(i))
                })
                .filter(|d| sends_on(*cadence, *d))
                .map(|d| resolve(tz, d.and_time(time)))
                .find(|t| *t > after)
        }
        _ => None,
    }
}

/// The daily run evaluating record dates: at `at` (UTC) every day, the first strictly after
/// `after`.
pub fn next_daily_run(at: NaiveTime, after: DateTime<Utc>) -> DateTime<Utc> {
    let today = after.date_naive().and_time(at).and_utc();
    if today > after {
        today
    } else {
        today + Duration::days(1)
    }
}

/// The daily run's hour for a deployment region: `us` at 16:00 UTC, `eu` at 09:00 UTC (when
/// people of the region are at work), as the credential platform does.
pub fn region_hour(region: &str) -> Option<NaiveTime> {
    match region.trim().to_ascii_lowercase().as_str() {
        "us" => NaiveTime::from_hms_opt(16, 0, 0),
        "eu" => NaiveTime::from_hms_opt(9, 0, 0),
        _ => None,
    }
}

/// The day a relative trigger sends for a record dated `date`, or `None` when the trigger is
/// not relative or the day is out of the calendar. Months are calendar months (a month
/// before 31 March is 28 or 29 February).
pub fn send_day(trigger: &Trigger, date: NaiveDate) -> Option<NaiveDate> {
    let Trigger::Relative {
        relation,
        amount,
        unit,
        ..
    } = trigger
    else {
        return None;
    };
    let n = u64::from(*amount);
    let (days, months) = match unit {
        Unit::Days => (n, 0),
        Unit::Weeks => (n * 7, 0),
        Unit::Months => (0, u32::try_from(n).ok()?),
    };
    match relation {
        Relation::On => Some(date),
        Relation::Before => date
            .checked_sub_days(Days::new(days))?
            .checked_sub_months(Months::new(months)),
        Relation::After => date
            .checked_add_days(Days::new(days))?
            .checked_add_months(Months::new(months)),
    }
}

/// The record dates whose send day may fall in `first ..= last`: a range a little wider than
/// exact (calendar months are uneven), to be narrowed with [`send_day`].
pub fn record_dates_for(
    trigger: &Trigger,
    first: NaiveDate,
    last: NaiveDate,
) -> Option<(NaiveDate, NaiveDate)> {
    let offset = trigger.offset_days()?;
    let slack = if matches!(
        trigger,
        Trigger::Relative {
            unit: Unit::Months,
            ..
        }
    ) {
        // 30 days a month against calendar months: at most a few days per year apart.
        4 + offset.abs() / 30 / 12 * 6
    } else {
        0
    };
    let from = first.checked_sub_signed(Duration::days(offset + slack))?;
    let to = last.checked_sub_signed(Duration::days(offset - slack))?;
    Some((from, to))
}

/// The days a daily run on `today` covers for a relative campaign: from the day after the one
/// it last covered (or the day it was activated, if later), at most a week back, to today. A
/// run missed while Herald was down is caught up once; nothing is covered twice.
pub fn days_to_cover(
    today: NaiveDate,
    activated: NaiveDate,
    covered_through: Option<NaiveDate>,
) -> Option<(NaiveDate, NaiveDate)> {
    let mut first = covered_through
        .map_or(activated, |d| d + Days::new(1))
        .max(activated);
    first = first.max(today - Days::new(6));
    (first <= today).then_some((first, today))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::trigger::RecordDate;
    use chrono_tz::Tz;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn recurring(cadence: Cadence, h: u16, m: u16) -> Trigger {
        Trigger::Recurring {
            cadence,
            minute: h * 60 + m,
        }
    }

    #[test]
    fn next_runs_in_the_organisation_time_zone() {
        let london: Tz = "Europe/London".parse().unwrap();
        let new_york: Tz = "America/New_York".parse().unwrap();
        let utc: Tz = "UTC".parse().unwrap();
        let daily9 = recurring(Cadence::Daily, 9, 0);
        for (trigger, tz, after, next) in [
            // Winter in London: 09:00 local is 09:00 UTC; summer: 08:00 UTC.
            (
                &daily9,
                london,
                "2026-01-10T08:59:00Z",
                Some("2026-01-10T09:00:00Z"),
            ),
            (
                &daily9,
                london,
                "2026-01-10T09:00:00Z",
                Some("2026-01-11T09:00:00Z"),
            ),
            (
                &daily9,
                london,
                "2026-07-10T07:00:00Z",
                Some("2026-07-10T08:00:00Z"),
            ),
            // Across the change (29 March 2026 in Europe): the same local hour each day.
            (
                &daily9,
                london,
                "2026-03-28T09:00:00Z",
                Some("2026-03-29T08:00:00Z"),
            ),
            (
                &daily9,
                london,
                "2026-10-24T08:00:00Z",
                Some("2026-10-25T09:00:00Z"),
            ),
            // New York, 8 March 2026: 09:00 EST is 14:00 UTC, 09:00 EDT is 13:00 UTC.
            (
                &daily9,
                new_york,
                "2026-03-07T14:00:00Z",
                Some("2026-03-08T13:00:00Z"),
            ),
            // A local day that begins the UTC day before: 23:30 in New York.
            (
                &recurring(Cadence::Daily, 23, 30),
                new_york,
                "2026-01-10T12:00:00Z",
                Some("2026-01-11T04:30:00Z"),
            ),
            // 02:30 does not exist on the night clocks go forward: 03:00 local (EDT) instead.
            (
                &recurring(Cadence::Daily, 2, 30),
                new_york,
                "2026-03-08T05:00:00Z",
                Some("2026-03-08T07:00:00Z"),
            ),
            // 01:30 happens twice when they go back: the first time (EDT).
            (
                &recurring(Cadence::Daily, 1, 30),
                new_york,
                "2026-11-01T04:00:00Z",
                Some("2026-11-01T05:30:00Z"),
            ),
            // Weekly on Monday (0); 2026-11-23 is a Monday.
            (
                &recurring(Cadence::Weekly { weekday: 0 }, 9, 0),
                utc,
                "2026-11-23T09:00:00Z",
                Some("2026-11-30T09:00:00Z"),
            ),
            (
                &recurring(Cadence::Weekly { weekday: 6 }, 18, 0),
                utc,
                "2026-11-25T10:00:00Z",
                Some("2026-11-29T18:00:00Z"),
            ),
            // Monthly on the 28th, across a year's end.
            (
                &recurring(Cadence::Monthly { day: 28 }, 7, 15),
                utc,
                "2026-12-28T07:15:00Z",
                Some("2027-01-28T07:15:00Z"),
            ),
            (
                &recurring(Cadence::Monthly { day: 1 }, 0, 0),
                london,
                "2026-06-15T00:00:00Z",
                Some("2026-06-30T23:00:00Z"),
            ),
            (
                &Trigger::At {
                    at: t("2026-12-01T10:00:00Z"),
                },
                utc,
                "2026-11-25T10:00:00Z",
                Some("2026-12-01T10:00:00Z"),
            ),
            (
                &Trigger::At {
                    at: t("2026-12-01T10:00:00Z"),
                },
                utc,
                "2026-12-01T10:00:00Z",
                None,
            ),
            (&Trigger::Immediately, utc, "2026-12-01T10:00:00Z", None),
            (
                &Trigger::Event { name: "x".into() },
                utc,
                "2026-12-01T10:00:00Z",
                None,
            ),
        ] {
            assert_eq!(
                next_run(trigger, t(after), &tz),
                next.map(t),
                "{trigger:?} in {tz} after {after}"
            );
        }
    }

    fn relative(relation: Relation, amount: u32, unit: Unit) -> Trigger {
        Trigger::Relative {
            date: RecordDate::CredentialExpires,
            relation,
            amount,
            unit,
        }
    }

    #[test]
    fn send_days_of_record_dates() {
        for (trigger, date, day) in [
            (
                relative(Relation::On, 0, Unit::Days),
                "2026-05-10",
                "2026-05-10",
            ),
            (
                relative(Relation::Before, 30, Unit::Days),
                "2026-05-10",
                "2026-04-10",
            ),
            (
                relative(Relation::After, 2, Unit::Weeks),
                "2026-05-10",
                "2026-05-24",
            ),
            (
                relative(Relation::Before, 1, Unit::Months),
                "2026-05-10",
                "2026-04-10",
            ),
            // Calendar months: a month before 31 March is the last day of February.
            (
                relative(Relation::Before, 1, Unit::Months),
                "2026-03-31",
                "2026-02-28",
            ),
            (
                relative(Relation::Before, 1, Unit::Months),
                "2028-03-31",
                "2028-02-29",
            ),
            (
                relative(Relation::After, 12, Unit::Months),
                "2026-01-15",
                "2027-01-15",
            ),
        ] {
            assert_eq!(
                send_day(&trigger, d(date)),
                Some(d(day)),
                "{trigger:?} {date}"
            );
            // The range a run looks up always holds the record date.
            let (from, to) = record_dates_for(&trigger, d(day), d(day)).unwrap();
            assert!(
                from <= d(date) && d(date) <= to,
                "{trigger:?}: {from}..{to} {date}"
            );
        }
        assert_eq!(send_day(&Trigger::Immediately, d("2026-05-10")), None);
    }

    #[test]
    fn daily_runs_cover_each_day_once() {
        for (today, activated, through, covered) in [
            // The first run after activation covers from the activation day.
            (
                "2026-11-25",
                "2026-11-25",
                None,
                Some(("2026-11-25", "2026-11-25")),
            ),
            (
                "2026-11-26",
                "2026-11-25",
                None,
                Some(("2026-11-25", "2026-11-26")),
            ),
            // Normal days: today only.
            (
                "2026-11-26",
                "2026-11-01",
                Some("2026-11-25"),
                Some(("2026-11-26", "2026-11-26")),
            ),
            // Already covered (a second run on the same day): nothing.
            ("2026-11-26", "2026-11-01", Some("2026-11-26"), None),
            // Three days down: caught up once.
            (
                "2026-11-26",
                "2026-11-01",
                Some("2026-11-22"),
                Some(("2026-11-23", "2026-11-26")),
            ),
            // A month down: at most a week back.
            (
                "2026-11-26",
                "2026-10-01",
                Some("2026-10-20"),
                Some(("2026-11-20", "2026-11-26")),
            ),
            // Reactivated after the last covered day: from the reactivation.
            (
                "2026-11-26",
                "2026-11-26",
                Some("2026-11-10"),
                Some(("2026-11-26", "2026-11-26")),
            ),
        ] {
            assert_eq!(
                days_to_cover(d(today), d(activated), through.map(d)),
                covered.map(|(a, b)| (d(a), d(b))),
                "{today} {activated} {through:?}"
            );
        }
    }

    #[test]
    fn daily_run_hours() {
        let h = |s: &str| NaiveTime::parse_from_str(s, "%H:%M").unwrap();
        assert_eq!(region_hour("us"), Some(h("16:00")));
        assert_eq!(region_hour(" EU "), Some(h("09:00")));
        assert_eq!(region_hour("ap"), None);
        assert_eq!(
            next_daily_run(h("16:00"), t("2026-11-25T15:59:59Z")),
            t("2026-11-25T16:00:00Z")
        );
        assert_eq!(
            next_daily_run(h("16:00"), t("2026-11-25T16:00:00Z")),
            t("2026-11-26T16:00:00Z")
        );
    }
}
