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

/// Opens and clicks over time as the chart draws them: one bar per period of `hours_per_bar`
/// hours (UTC), every period from the first with any activity to the last, the empty ones
/// included, so that the bars are evenly spaced in time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// 1, 3, 6, 12, 24 (a day) or 168 (a week, from Monday).
    pub hours_per_bar: u32,
    /// Each period's counts, `hour` its start; oldest first.
    pub bars: Vec<HourRow>,
}

/// Bars a chart shows at most.
pub const MAX_BARS: usize = 72;

/// Periods a chart's bars may cover, in hours: the shortest that fits the activity in
/// [`MAX_BARS`] bars is taken.
const PERIODS: [u32; 6] = [1, 3, 6, 12, 24, 168];

impl Activity {
    /// `hours` (a campaign's hours with opens or clicks, in any order) as bars. Beyond
    /// [`MAX_BARS`] weeks, the latest are shown.
    pub fn of(hours: &[HourRow]) -> Activity {
        let (Some(first), Some(last)) = (
            hours.iter().map(|h| h.hour).min(),
            hours.iter().map(|h| h.hour).max(),
        ) else {
            return Activity::default();
        };
        // Periods start on multiples of their length since a Monday at midnight, UTC.
        let monday = DateTime::<Utc>::from_timestamp(4 * 86_400, 0).expect("1970-01-05");
        let start_of = |t: DateTime<Utc>, hours: u32| {
            let step = chrono::Duration::hours(i64::from(hours));
            let n = (t - monday).num_seconds().div_euclid(step.num_seconds());
            monday + step * i32::try_from(n).unwrap_or(i32::MAX)
        };
        let bars_of = |hours: u32| {
            (start_of(last, hours) - start_of(first, hours)).num_hours() / i64::from(hours) + 1
        };
        let hours_per_bar = PERIODS
            .into_iter()
            .find(|p| bars_of(*p) <= MAX_BARS as i64)
            .unwrap_or(168);
        let step = chrono::Duration::hours(i64::from(hours_per_bar));
        let start_of = |t| start_of(t, hours_per_bar);
        let from = Ord::max(
            start_of(first),
            start_of(last) - step * (MAX_BARS as i32 - 1),
        );
        let count = ((start_of(last) - from).num_seconds() / step.num_seconds()) as usize + 1;
        let mut bars: Vec<HourRow> = (0..count)
            .map(|i| HourRow {
                hour: from + step * i as i32,
                opens: 0,
                human_opens: 0,
                clicks: 0,
                human_clicks: 0,
            })
            .collect();
        for h in hours {
            let at = start_of(h.hour);
            if at < from {
                continue;
            }
            let bar = &mut bars[((at - from).num_seconds() / step.num_seconds()) as usize];
            bar.opens += h.opens;
            bar.human_opens += h.human_opens;
            bar.clicks += h.clicks;
            bar.human_clicks += h.human_clicks;
        }
        Activity {
            hours_per_bar,
            bars,
        }
    }

    /// What one bar covers, in words: "hour", "3 hours", "day", "week".
    pub fn period(&self) -> String {
        match self.hours_per_bar {
            1 => "hour".into(),
            24 => "day".into(),
            168 => "week".into(),
            n => format!("{n} hours"),
        }
    }
}

/// What a campaign's report shows beside its cards and its recipients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignReport {
    pub links: Vec<LinkRow>,
    /// Opens and clicks over time.
    pub activity: Activity,
    /// The latest runs, newest first.
    pub runs: Vec<RunRow>,
}

/// Where a rate stands against a provider's limits, from best to worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Standing {
    Fine,
    /// Near the point where a provider reviews the account.
    Warning,
    /// Past it: sending may be paused.
    Over,
}

/// Amazon SES reviews an account at a 5 % bounce rate and may pause it at 10 %; Herald warns at
/// half the review point. Complaints have a line per provider ([`complaint_lines`]).
pub const BOUNCE_LIMITS: (f64, f64) = (2.5, 5.0);

/// Where `rate` stands against `(warn, over)` in percent (no data: fine).
pub fn standing(rate: Rate, (warn, over): (f64, f64)) -> Standing {
    match rate.percent() {
        Some(p) if p >= over => Standing::Over,
        Some(p) if p >= warn => Standing::Warning,
        _ => Standing::Fine,
    }
}

/// A mailbox provider's line for spam complaints, in percent of messages: keep under
/// `keep_under`; at `limit` it acts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComplaintLine {
    pub who: String,
    pub keep_under: f64,
    pub limit: f64,
    /// What happens at the limit.
    pub at_limit: String,
}

/// The complaint lines reports show: Gmail's (and Yahoo's, the same) for bulk senders since
/// 2024, under 0.1 % and never 0.3 %; Amazon SES's account review at 0.1 % and pause at 0.5 %.
pub fn complaint_lines() -> Vec<ComplaintLine> {
    vec![
        ComplaintLine {
            who: "Gmail and Yahoo".into(),
            keep_under: 0.1,
            limit: 0.3,
            at_limit:
                "mail goes to spam or is refused, and Gmail no longer helps with delivery problems"
                    .into(),
        },
        ComplaintLine {
            who: "Amazon SES".into(),
            keep_under: 0.1,
            limit: 0.5,
            at_limit: "SES may pause the account's sending (it reviews it from 0.1 %)".into(),
        },
    ]
}

impl ComplaintLine {
    /// Where `rate` stands: under the line, between it and the limit, or at the limit.
    pub fn standing(&self, rate: Rate) -> Standing {
        standing(rate, (self.keep_under, self.limit))
    }
}

/// How quickly unsubscribes took effect: Gmail and Yahoo require bulk senders to honour one
/// within two days.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// Consents withdrawn in the period (an unsubscribe link, the preference centre, a
    /// complaint, an import or the API), once per person and kind of message.
    pub unsubscribes: i64,
    /// The longest time, in seconds, from a withdrawal to the last message of that kind that
    /// still went to the person (0 when none did); `None` without withdrawals.
    pub longest_seconds: Option<i64>,
    /// Messages of the kind people left that went to them after they left. Herald decides
    /// again at the moment of sending, so this stays zero but for a message already handed
    /// over; it is counted, not assumed.
    pub sent_after: i64,
}

/// Measures [`Suppression`] from the period's withdrawn consents (contact, marketing or
/// newsletter, when) and the messages sent to those contacts (contact, message type, when).
pub fn suppression(
    withdrawn: &[(i64, MessageType, DateTime<Utc>)],
    sent: &[(i64, MessageType, DateTime<Utc>)],
) -> Suppression {
    let mut out = Suppression {
        unsubscribes: withdrawn.len() as i64,
        ..Suppression::default()
    };
    for (contact, kind, at) in withdrawn {
        let later: Vec<DateTime<Utc>> = sent
            .iter()
            .filter(|(c, t, s)| c == contact && t == kind && s > at)
            .map(|(_, _, s)| *s)
            .collect();
        out.sent_after += later.len() as i64;
        let delay = later
            .iter()
            .max()
            .map_or(0, |last| (*last - *at).num_seconds());
        out.longest_seconds = Some(out.longest_seconds.map_or(delay, |l| l.max(delay)));
    }
    out
}

/// Messages sent in one week, by type.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekVolume {
    /// Monday of the week.
    pub week: chrono::NaiveDate,
    pub operational: i64,
    pub marketing: i64,
    pub newsletter: i64,
}

impl WeekVolume {
    pub fn total(&self) -> i64 {
        self.operational + self.marketing + self.newsletter
    }
}

/// Monday of `day`'s week.
pub fn monday(day: chrono::NaiveDate) -> chrono::NaiveDate {
    day - chrono::Duration::days(i64::from(
        chrono::Datelike::weekday(&day).num_days_from_monday(),
    ))
}

/// What was `sent` (day, type, count) summed per week, for every week from `from`'s to `to`'s:
/// a week that sent nothing is a row of zeros, so that the rows keep time (a quiet month shows
/// as one, not as two busy weeks side by side). Counts of days outside the range are left out.
pub fn weekly(
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    sent: impl IntoIterator<Item = (chrono::NaiveDate, MessageType, i64)>,
) -> Vec<WeekVolume> {
    let first = monday(from);
    let mut weeks: Vec<WeekVolume> = std::iter::successors(Some(first), |w| {
        Some(*w + chrono::Duration::weeks(1)).filter(|next| *next <= to)
    })
    .map(|week| WeekVolume {
        week,
        ..WeekVolume::default()
    })
    .collect();
    for (day, message_type, count) in sent
        .into_iter()
        .filter(|(day, ..)| (from..=to).contains(day))
    {
        // A day of the period falls in one of its weeks: from `first` to `monday(to)`.
        let w = &mut weeks[(monday(day) - first).num_weeks() as usize];
        *match message_type {
            MessageType::Operational => &mut w.operational,
            MessageType::Marketing => &mut w.marketing,
            MessageType::Newsletter => &mut w.newsletter,
        } += count;
    }
    weeks
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
    /// Every week of the period, the quiet ones too.
    pub weeks: Vec<WeekVolume>,
    pub campaigns: Vec<CampaignEngagement>,
    /// Email in the period: sent, bounced (permanent), complained.
    pub email: DeliveryStats,
    pub bounce: Standing,
    /// The complaint rate against each provider's line.
    pub complaint: Vec<(ComplaintLine, Standing)>,
    pub suppression: Suppression,
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
    fn activity_is_drawn_in_evenly_spaced_periods_that_fit_the_chart() {
        use chrono::TimeZone;
        let at = |d: u32, h: u32| Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap();
        let row = |hour, opens, clicks| HourRow {
            hour,
            opens,
            human_opens: opens / 2,
            clicks,
            human_clicks: clicks,
        };
        let april15 = Utc.with_ymd_and_hms(2026, 4, 15, 5, 0, 0).unwrap();
        // (hours with activity, hours per bar, bars, the first bar's start, its opens, the
        // last bar's start, its clicks)
        type Case = (
            Vec<HourRow>,
            u32,
            usize,
            DateTime<Utc>,
            i64,
            DateTime<Utc>,
            i64,
        );
        let table: Vec<Case> = vec![
            // One hour: one bar.
            (vec![row(at(2, 9), 5, 1)], 1, 1, at(2, 9), 5, at(2, 9), 1),
            // A gap stays a gap: hours 9 to 14 are six bars, four of them empty.
            (
                vec![row(at(2, 14), 1, 2), row(at(2, 9), 3, 0)],
                1,
                6,
                at(2, 9),
                3,
                at(2, 14),
                2,
            ),
            // 72 hours still fit hour by hour.
            (
                vec![row(at(2, 0), 1, 0), row(at(4, 23), 0, 1)],
                1,
                72,
                at(2, 0),
                1,
                at(4, 23),
                1,
            ),
            // 73 hours take periods of 3 hours, on multiples of 3 since midnight.
            (
                vec![
                    row(at(2, 1), 1, 0),
                    row(at(2, 2), 2, 0),
                    row(at(5, 1), 0, 4),
                ],
                3,
                25,
                at(2, 0),
                3,
                at(5, 0),
                4,
            ),
            // Ten days take periods of 6 hours (in periods of 3 they would be 80 bars).
            (
                vec![row(at(1, 0), 1, 0), row(at(10, 23), 0, 1)],
                6,
                40,
                at(1, 0),
                1,
                at(10, 18),
                1,
            ),
            // A month takes half days, from midnight and noon.
            (
                vec![
                    row(at(1, 10), 2, 0),
                    row(at(1, 20), 3, 0),
                    row(at(31, 5), 0, 7),
                ],
                12,
                61,
                at(1, 0),
                2,
                at(31, 0),
                7,
            ),
            // Six weeks take days.
            (
                vec![
                    row(at(1, 10), 2, 0),
                    row(at(1, 20), 3, 0),
                    row(april15, 0, 7),
                ],
                24,
                46,
                at(1, 0),
                5,
                Utc.with_ymd_and_hms(2026, 4, 15, 0, 0, 0).unwrap(),
                7,
            ),
        ];
        for (hours, per, n, first, opens, last, clicks) in table {
            let a = Activity::of(&hours);
            assert_eq!(a.hours_per_bar, per, "{hours:?}");
            assert_eq!(a.bars.len(), n, "{hours:?}");
            assert!(a.bars.len() <= MAX_BARS);
            let (f, l) = (a.bars.first().unwrap(), a.bars.last().unwrap());
            assert_eq!((f.hour, f.opens), (first, opens), "{hours:?}");
            assert_eq!((l.hour, l.clicks), (last, clicks), "{hours:?}");
            // Evenly spaced, and nothing lost.
            for w in a.bars.windows(2) {
                assert_eq!(w[1].hour - w[0].hour, chrono::Duration::hours(per.into()));
            }
            let sum = |f: fn(&HourRow) -> i64, rows: &[HourRow]| rows.iter().map(f).sum::<i64>();
            assert_eq!(sum(|h| h.opens, &a.bars), sum(|h| h.opens, &hours));
            assert_eq!(
                sum(|h| h.human_opens, &a.bars),
                sum(|h| h.human_opens, &hours)
            );
            assert_eq!(sum(|h| h.clicks, &a.bars), sum(|h| h.clicks, &hours));
        }
        assert_eq!(Activity::of(&[]), Activity::default());
        // Two years of a recurring campaign: weeks from Monday, the latest 72 of them.
        let old = Utc.with_ymd_and_hms(2025, 1, 1, 8, 0, 0).unwrap();
        let recent = Utc.with_ymd_and_hms(2026, 12, 3, 8, 0, 0).unwrap();
        let a = Activity::of(&[row(old, 9, 0), row(recent, 1, 1)]);
        assert_eq!((a.hours_per_bar, a.bars.len()), (168, MAX_BARS));
        let monday = Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap();
        assert_eq!(a.bars.last().unwrap().hour, monday);
        assert_eq!(
            a.bars.iter().map(|b| b.opens).sum::<i64>(),
            1,
            "the oldest left out"
        );
        assert_eq!(a.period(), "week");
    }

    #[test]
    fn standings() {
        let r = |part, whole| Rate { part, whole };
        for (rate, limits, want) in [
            (r(0, 0), BOUNCE_LIMITS, Standing::Fine),
            (r(2, 100), BOUNCE_LIMITS, Standing::Fine),
            (r(3, 100), BOUNCE_LIMITS, Standing::Warning),
            (r(5, 100), BOUNCE_LIMITS, Standing::Over),
        ] {
            assert_eq!(standing(rate, limits), want, "{rate:?}");
        }
        let [gmail, ses] = <[ComplaintLine; 2]>::try_from(complaint_lines()).unwrap();
        for (rate, at_gmail, at_ses) in [
            (r(0, 0), Standing::Fine, Standing::Fine),
            (r(9, 10_000), Standing::Fine, Standing::Fine),
            (r(1, 1000), Standing::Warning, Standing::Warning),
            (r(3, 1000), Standing::Over, Standing::Warning),
            (r(5, 1000), Standing::Over, Standing::Over),
        ] {
            assert_eq!(
                (gmail.standing(rate), ses.standing(rate)),
                (at_gmail, at_ses),
                "{rate:?}"
            );
        }
    }

    #[test]
    fn suppression_is_measured_from_what_happened() {
        use MessageType::{Marketing, Newsletter, Operational};
        let t = |s: i64| DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap();
        // 1 left marketing at 0 and got only an operational message since; 2 left newsletters
        // at 10 and got one newsletter at 20 (already handed over, say) and marketing at 30
        // (which it never left); 3 left marketing at 0 after a marketing message at -5.
        let withdrawn = [
            (1, Marketing, t(0)),
            (2, Newsletter, t(10)),
            (3, Marketing, t(0)),
        ];
        let sent = [
            (1, Operational, t(5)),
            (2, Newsletter, t(20)),
            (2, Marketing, t(30)),
            (3, Marketing, t(-5)),
            (3, Marketing, t(0)),
        ];
        assert_eq!(
            suppression(&withdrawn, &sent),
            Suppression {
                unsubscribes: 3,
                longest_seconds: Some(10),
                sent_after: 1
            }
        );
        assert_eq!(
            suppression(&withdrawn[..1], &sent),
            Suppression {
                unsubscribes: 1,
                longest_seconds: Some(0),
                sent_after: 0
            }
        );
        assert_eq!(suppression(&[], &sent), Suppression::default());
    }

    #[test]
    fn every_week_of_the_period_is_a_row_the_quiet_ones_too() {
        use MessageType::{Marketing, Newsletter, Operational};
        let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
        let w = |week: &str, operational, marketing, newsletter| WeekVolume {
            week: d(week),
            operational,
            marketing,
            newsletter,
        };
        for (name, from, to, sent, want) in [
            (
                "nothing sent: every week, empty",
                "2026-11-11",
                "2026-11-25",
                vec![],
                vec![
                    w("2026-11-09", 0, 0, 0),
                    w("2026-11-16", 0, 0, 0),
                    w("2026-11-23", 0, 0, 0),
                ],
            ),
            (
                "a quiet week between two busy ones stays between them",
                "2026-11-02",
                "2026-11-22",
                vec![
                    (d("2026-11-02"), Marketing, 10),
                    (d("2026-11-08"), Marketing, 5),
                    (d("2026-11-08"), Operational, 1),
                    (d("2026-11-22"), Newsletter, 7),
                ],
                vec![
                    w("2026-11-02", 1, 15, 0),
                    w("2026-11-09", 0, 0, 0),
                    w("2026-11-16", 0, 0, 7),
                ],
            ),
            (
                "days outside the period are left out",
                "2026-11-04",
                "2026-11-10",
                vec![
                    (d("2026-11-03"), Marketing, 100),
                    (d("2026-11-04"), Marketing, 1),
                    (d("2026-11-10"), Newsletter, 2),
                    (d("2026-11-11"), Newsletter, 100),
                ],
                vec![w("2026-11-02", 0, 1, 0), w("2026-11-09", 0, 0, 2)],
            ),
            (
                "a year's end",
                "2026-12-28",
                "2027-01-04",
                vec![(d("2027-01-01"), Operational, 3)],
                vec![w("2026-12-28", 3, 0, 0), w("2027-01-04", 0, 0, 0)],
            ),
        ] {
            assert_eq!(weekly(d(from), d(to), sent), want, "{name}");
        }
        assert_eq!(w("2026-11-02", 1, 15, 4).total(), 20);
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
