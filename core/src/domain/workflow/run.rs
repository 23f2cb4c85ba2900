//! Where a run goes next, as a plain function of the workflow, where the run is, what is known
//! about its contact, and the time ([`advance`]). The storage (`crate::workflows`) reads the
//! facts, calls this, and writes what it answers (the steps passed, the messages to enqueue,
//! the new position) in one transaction; nothing here touches the database.
//!
//! A run is always *at* a step: it has arrived there (at `arrived_at`, its `seq`-th step) and
//! not yet left. Advancing a run at a step that acts (send, update, to-do, branch, split) does
//! it and goes on; at a wait it goes on only once the wait is over, else it stays, with the time
//! to look again. Evaluating a wait depends only on when the run arrived and the time, so
//! advancing the same run twice at the same time answers the same.

use super::{Assignee, Condition, ContactChange, StepKind, Workflow};
use crate::domain::schedule::resolve;
use crate::domain::{Channel, ExitReason};
use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use std::collections::BTreeSet;

/// A run goes through at most this many steps in one advance; more means a loop that never
/// waits (which publishing refuses), and the run exits instead of spinning.
pub const MAX_STEPS_AT_ONCE: usize = 100;

/// Where a run is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct At {
    pub step: String,
    /// Its position in the run's history (1 for the entry step): a message is unique per run
    /// and `seq`, so a step visited twice in a loop sends twice, and advancing twice never does.
    pub seq: i32,
    pub arrived_at: DateTime<Utc>,
    pub entered_at: DateTime<Utc>,
}

/// What is known about a run's contact when it is advanced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// The send steps of this run whose message was opened.
    pub opened: BTreeSet<String>,
    /// The send steps of this run whose message had a link clicked.
    pub clicked: BTreeSet<String>,
    /// The contact's events since the run entered (name, when), for its key when it has one.
    pub events: Vec<(String, DateTime<Utc>)>,
    /// The branch paths (step id, path index) whose audience filter the contact matches now.
    pub matching: BTreeSet<(String, usize)>,
    /// Ends the run where it is (goal reached, unsubscribed, no longer in the audience).
    pub leave: Option<ExitReason>,
    /// A quiet period holds for the contact until then: a send step waits for its end.
    pub quiet_until: Option<DateTime<Utc>>,
}

impl Facts {
    fn event_since(&self, name: &str, since: DateTime<Utc>) -> bool {
        self.events
            .iter()
            .any(|(n, at)| n.trim() == name.trim() && *at >= since)
    }
}

/// What a step that acts does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Enqueue a message of the outbox for this run's `seq`.
    Send {
        channel: Channel,
        template_id: i64,
    },
    Update(ContactChange),
    Action {
        assignee: Assignee,
        title: String,
    },
}

/// A step the run left during the advance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Passed {
    pub step: String,
    pub seq: i32,
    pub arrived_at: DateTime<Utc>,
    /// Which way out it took (the index in [`StepKind::exits`]); `None` for an exit step.
    pub exit: Option<usize>,
    pub effect: Option<Effect>,
}

/// Where the run is after the advance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// At `at` (where it was, or further on), to be advanced again at `until`.
    Waiting { at: At, until: DateTime<Utc> },
    /// Went on from its last step to nowhere.
    Completed,
    /// Ended at step `step` (its `seq`), before the end of the workflow.
    Exited {
        step: String,
        seq: i32,
        reason: ExitReason,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advance {
    /// In order, starting with the step the run was at when it left it.
    pub passed: Vec<Passed>,
    pub outcome: Outcome,
}

/// A number from 0 to 99, the same every time for the same run and position: which share of a
/// random split the run takes (so a retried advance takes the same path).
pub fn roll(run_id: i64, seq: i32) -> u8 {
    // splitmix64: well spread for consecutive ids.
    let mut z = (run_id as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(seq as u64)
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z % 100) as u8
}

/// The first moment at or after `after` that is `time` on one of `days`, in `tz`.
pub fn next_allowed<Z: TimeZone>(
    after: DateTime<Utc>,
    time: chrono::NaiveTime,
    days: &[chrono::Weekday],
    tz: &Z,
) -> Option<DateTime<Utc>> {
    let local = after.with_timezone(tz).date_naive();
    (0..8)
        .filter_map(|d| local.checked_add_signed(Duration::days(d)))
        .filter(|d| days.contains(&d.weekday()))
        .map(|d| resolve(tz, d.and_time(time)))
        .find(|at| *at >= after)
}

/// Advances the run `run_id` at `at` through `wf` at `now`, with what is known of its contact
/// and its time zone.
pub fn advance<Z: TimeZone>(
    wf: &Workflow,
    run_id: i64,
    at: &At,
    facts: &Facts,
    now: DateTime<Utc>,
    tz: &Z,
) -> Advance {
    let mut passed = Vec::new();
    if let Some(reason) = facts.leave {
        return Advance {
            passed,
            outcome: Outcome::Exited {
                step: at.step.clone(),
                seq: at.seq,
                reason,
            },
        };
    }
    let mut here = at.clone();
    loop {
        if passed.len() >= MAX_STEPS_AT_ONCE {
            return exited(passed, here, ExitReason::TooManySteps);
        }
        let Some(step) = wf.step(&here.step) else {
            // Not in this version (publishing moves or exits everyone at a removed step first).
            return exited(passed, here, ExitReason::StepRemoved);
        };
        let waiting = |until: DateTime<Utc>, here: At, passed: Vec<Passed>| Advance {
            passed,
            outcome: Outcome::Waiting { at: here, until },
        };
        let (exit, effect): (usize, Option<Effect>) = match &step.kind {
            StepKind::Send { .. } if facts.quiet_until.is_some_and(|q| q > now) => {
                let until = facts.quiet_until.expect("checked");
                return waiting(until, here, passed);
            }
            StepKind::Send {
                channel,
                template_id,
                ..
            } => (
                0,
                Some(Effect::Send {
                    channel: *channel,
                    template_id: *template_id,
                }),
            ),
            StepKind::UpdateContact { change, .. } => (0, Some(Effect::Update(change.clone()))),
            StepKind::CreateAction {
                assignee, title, ..
            } => (
                0,
                Some(Effect::Action {
                    assignee: *assignee,
                    title: title.clone(),
                }),
            ),
            StepKind::Wait { span, .. } => {
                let until = here.arrived_at + span.duration();
                if until > now {
                    return waiting(until, here, passed);
                }
                (0, None)
            }
            StepKind::WaitUntil { time, days, .. } => {
                match next_allowed(here.arrived_at, *time, days, tz) {
                    Some(until) if until > now => return waiting(until, here, passed),
                    Some(_) => (0, None),
                    // No day allowed (publishing refuses it): waiting would never end.
                    None => (0, None),
                }
            }
            StepKind::WaitForEvent { event, timeout, .. } => {
                if facts.event_since(event, here.arrived_at) {
                    (0, None)
                } else {
                    let until = here.arrived_at + timeout.duration();
                    if until > now {
                        return waiting(until, here, passed);
                    }
                    (1, None)
                }
            }
            StepKind::Branch { paths, .. } => {
                let holds = |i: usize, c: &Condition| match c {
                    Condition::Opened { step } => facts.opened.contains(step),
                    Condition::Clicked { step } => facts.clicked.contains(step),
                    Condition::Matches { .. } => facts.matching.contains(&(here.step.clone(), i)),
                    Condition::EventSince { event } => facts.event_since(event, here.entered_at),
                };
                let taken = paths
                    .iter()
                    .enumerate()
                    .position(|(i, p)| holds(i, &p.condition))
                    .unwrap_or(paths.len());
                (taken, None)
            }
            StepKind::RandomSplit { shares } => {
                let r = u32::from(roll(run_id, here.seq));
                let mut upto = 0u32;
                let taken = shares
                    .iter()
                    .position(|s| {
                        upto += u32::from(s.percent);
                        r < upto
                    })
                    // Shares short of 100 % (publishing refuses them): the last takes the rest.
                    .unwrap_or(shares.len().saturating_sub(1));
                (taken, None)
            }
            StepKind::Exit => {
                passed.push(Passed {
                    step: here.step.clone(),
                    seq: here.seq,
                    arrived_at: here.arrived_at,
                    exit: None,
                    effect: None,
                });
                return Advance {
                    passed,
                    outcome: Outcome::Exited {
                        step: here.step,
                        seq: here.seq,
                        reason: ExitReason::ExitStep,
                    },
                };
            }
        };
        let next = step.kind.exits().get(exit).and_then(|n| (*n).clone());
        passed.push(Passed {
            step: here.step.clone(),
            seq: here.seq,
            arrived_at: here.arrived_at,
            exit: Some(exit),
            effect,
        });
        match next {
            None => {
                return Advance {
                    passed,
                    outcome: Outcome::Completed,
                };
            }
            Some(next) => {
                here = At {
                    step: next,
                    seq: here.seq + 1,
                    arrived_at: now,
                    entered_at: here.entered_at,
                };
            }
        }
    }
}

fn exited(passed: Vec<Passed>, here: At, reason: ExitReason) -> Advance {
    Advance {
        passed,
        outcome: Outcome::Exited {
            step: here.step,
            seq: here.seq,
            reason,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Path, Share, Span, SpanUnit, Step};
    use super::*;
    use chrono::{NaiveTime, Weekday};

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }
    fn step(id: &str, kind: StepKind) -> Step {
        Step {
            id: id.into(),
            kind,
        }
    }
    fn n(s: &str) -> Option<String> {
        Some(s.into())
    }
    fn days(amount: u32) -> Span {
        Span {
            amount,
            unit: SpanUnit::Days,
        }
    }

    /// Send “welcome”, wait 3 days, branch on opened: “thanks” or wait for “paid” 2 days then
    /// an SMS nudge or exit; a random split at the end.
    fn series() -> Workflow {
        Workflow {
            entry: "welcome".into(),
            steps: vec![
                step(
                    "welcome",
                    StepKind::Send {
                        channel: Channel::Email,
                        template_id: 1,
                        next: n("wait"),
                    },
                ),
                step(
                    "wait",
                    StepKind::Wait {
                        span: days(3),
                        next: n("opened?"),
                    },
                ),
                step(
                    "opened?",
                    StepKind::Branch {
                        paths: vec![Path {
                            condition: Condition::Opened {
                                step: "welcome".into(),
                            },
                            next: n("thanks"),
                        }],
                        otherwise: n("paid?"),
                    },
                ),
                step(
                    "thanks",
                    StepKind::UpdateContact {
                        change: ContactChange::AddToGroup {
                            group: "engaged".into(),
                        },
                        next: None,
                    },
                ),
                step(
                    "paid?",
                    StepKind::WaitForEvent {
                        event: "paid".into(),
                        timeout: days(2),
                        next: n("done"),
                        on_timeout: n("nudge"),
                    },
                ),
                step(
                    "nudge",
                    StepKind::Send {
                        channel: Channel::Sms,
                        template_id: 2,
                        next: n("split"),
                    },
                ),
                step(
                    "split",
                    StepKind::RandomSplit {
                        shares: vec![
                            Share {
                                percent: 50,
                                next: n("call"),
                            },
                            Share {
                                percent: 50,
                                next: None,
                            },
                        ],
                    },
                ),
                step(
                    "call",
                    StepKind::CreateAction {
                        assignee: Assignee::AccountManager,
                        title: "Call them".into(),
                        next: None,
                    },
                ),
                step("done", StepKind::Exit),
            ],
            ..Workflow::default()
        }
    }

    fn at(step: &str, seq: i32, arrived: &str) -> At {
        At {
            step: step.into(),
            seq,
            arrived_at: t(arrived),
            entered_at: t("2026-03-02T09:00:00Z"),
        }
    }

    /// The steps passed (id and exit taken) and where the run ends up.
    fn walk(a: &Advance) -> (Vec<(String, Option<usize>)>, String) {
        let passed = a.passed.iter().map(|p| (p.step.clone(), p.exit)).collect();
        let outcome = match &a.outcome {
            Outcome::Waiting { at, until } => {
                format!(
                    "waiting at {} (#{}) until {}",
                    at.step,
                    at.seq,
                    until.to_rfc3339()
                )
            }
            Outcome::Completed => "completed".into(),
            Outcome::Exited { step, seq, reason } => format!("exited at {step} (#{seq}): {reason}"),
        };
        (passed, outcome)
    }

    #[test]
    fn runs_go_through_steps_until_a_wait() {
        let wf = series();
        let opened = Facts {
            opened: ["welcome".to_string()].into(),
            ..Facts::default()
        };
        let paid = Facts {
            events: vec![("paid".into(), t("2026-03-06T10:00:00Z"))],
            ..Facts::default()
        };
        let paid_before = Facts {
            // Before the run reached the wait: it does not count.
            events: vec![("paid".into(), t("2026-03-03T10:00:00Z"))],
            ..Facts::default()
        };
        let gone = Facts {
            leave: Some(ExitReason::Goal),
            ..Facts::default()
        };
        let p = |s: &str, e: usize| (s.to_string(), Some(e));
        assert!(roll(7, 6) < 50);
        #[rustfmt::skip]
        // (case, where the run is, facts, now, the steps passed, where it ends up)
        type Case<'a> = (&'a str, At, Facts, &'a str, Vec<(String, Option<usize>)>, &'a str);
        let cases: Vec<Case> = vec![
            (
                "entering sends and waits",
                at("welcome", 1, "2026-03-02T09:00:00Z"),
                Facts::default(),
                "2026-03-02T09:00:00Z",
                vec![p("welcome", 0)],
                "waiting at wait (#2) until 2026-03-05T09:00:00+00:00",
            ),
            (
                "a quiet period: the send step waits for its end",
                at("welcome", 1, "2026-03-02T09:00:00Z"),
                Facts {
                    quiet_until: Some(t("2026-03-02T12:00:00Z")),
                    ..Facts::default()
                },
                "2026-03-02T09:00:00Z",
                vec![],
                "waiting at welcome (#1) until 2026-03-02T12:00:00+00:00",
            ),
            (
                "and sends when it is over",
                at("welcome", 1, "2026-03-02T09:00:00Z"),
                Facts {
                    quiet_until: Some(t("2026-03-02T12:00:00Z")),
                    ..Facts::default()
                },
                "2026-03-02T12:00:00Z",
                vec![p("welcome", 0)],
                "waiting at wait (#2) until 2026-03-05T12:00:00+00:00",
            ),
            (
                "too early to go on",
                at("wait", 2, "2026-03-02T09:00:00Z"),
                Facts::default(),
                "2026-03-05T08:59:59Z",
                vec![],
                "waiting at wait (#2) until 2026-03-05T09:00:00+00:00",
            ),
            (
                "opened: thanks, and the run completes",
                at("wait", 2, "2026-03-02T09:00:00Z"),
                opened,
                "2026-03-05T09:00:00Z",
                vec![p("wait", 0), p("opened?", 0), p("thanks", 0)],
                "completed",
            ),
            (
                "not opened: waits for the payment",
                at("wait", 2, "2026-03-02T09:00:00Z"),
                Facts::default(),
                "2026-03-05T09:00:00Z",
                vec![p("wait", 0), p("opened?", 1)],
                "waiting at paid? (#4) until 2026-03-07T09:00:00+00:00",
            ),
            (
                "paid while waiting: the exit step",
                at("paid?", 4, "2026-03-05T09:00:00Z"),
                paid,
                "2026-03-06T10:00:00Z",
                vec![p("paid?", 0), ("done".into(), None)],
                "exited at done (#5): exit_step",
            ),
            (
                "an event before the wait began does not count",
                at("paid?", 4, "2026-03-05T09:00:00Z"),
                paid_before.clone(),
                "2026-03-06T10:00:00Z",
                vec![],
                "waiting at paid? (#4) until 2026-03-07T09:00:00+00:00",
            ),
            // Run 7's roll at its 6th step is under 50: the first share (the call).
            (
                "timed out: the nudge, the split, the call",
                at("paid?", 4, "2026-03-05T09:00:00Z"),
                paid_before,
                "2026-03-07T09:00:00Z",
                vec![p("paid?", 1), p("nudge", 0), p("split", 0), p("call", 0)],
                "completed",
            ),
            (
                "the goal ends it where it is",
                at("paid?", 4, "2026-03-05T09:00:00Z"),
                gone,
                "2026-03-06T10:00:00Z",
                vec![],
                "exited at paid? (#4): goal",
            ),
            (
                "a step the version no longer has",
                at("gone", 3, "2026-03-05T09:00:00Z"),
                Facts::default(),
                "2026-03-06T10:00:00Z",
                vec![],
                "exited at gone (#3): step_removed",
            ),
        ];
        for (name, at, facts, now, passed, outcome) in cases {
            let a = advance(&wf, 7, &at, &facts, t(now), &Utc);
            assert_eq!(walk(&a), (passed, outcome.to_string()), "{name}");
            // The same advance again answers the same.
            assert_eq!(
                advance(&wf, 7, &at, &facts, t(now), &Utc),
                a,
                "{name}: repeatable"
            );
        }
    }

    #[test]
    fn effects_and_positions_of_the_steps_passed() {
        let wf = series();
        let a = advance(
            &wf,
            7,
            &at("paid?", 4, "2026-03-05T09:00:00Z"),
            &Facts::default(),
            t("2026-03-08T00:00:00Z"),
            &Utc,
        );
        let seqs: Vec<(i32, &str)> = a.passed.iter().map(|p| (p.seq, p.step.as_str())).collect();
        assert_eq!(seqs[..2], [(4, "paid?"), (5, "nudge")]);
        assert_eq!(a.passed[1].arrived_at, t("2026-03-08T00:00:00Z"));
        assert_eq!(
            a.passed[1].effect,
            Some(Effect::Send {
                channel: Channel::Sms,
                template_id: 2
            })
        );
        assert_eq!(a.passed[0].effect, None);
    }

    #[test]
    fn random_splits_follow_their_shares() {
        let wf = series();
        let mut called = 0;
        let runs = 10_000;
        for run in 0..runs {
            let a = advance(
                &wf,
                run,
                &at("split", 6, "2026-03-08T00:00:00Z"),
                &Facts::default(),
                t("2026-03-08T00:00:00Z"),
                &Utc,
            );
            if a.passed[0].exit == Some(0) {
                called += 1;
                assert_eq!(a.passed.len(), 2, "the call step follows");
            }
        }
        // 50 % ± 2 % of 10,000 (the roll is a fixed function: this is exact every run).
        assert!((4_800..=5_200).contains(&called), "{called} of {runs}");
        assert_eq!(roll(7, 6), roll(7, 6));
        assert!((0..1000).all(|i| roll(i, 1) < 100));
    }

    #[test]
    fn waiting_until_a_time_on_allowed_days() {
        let tz = chrono::FixedOffset::east_opt(2 * 3600).unwrap();
        let time = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        let mon_wed = [Weekday::Mon, Weekday::Wed];
        #[rustfmt::skip]
        let cases = [
            // 2026-03-02 is a Monday. Local time is UTC+2.
            ("before 09:00 local on a Monday", "2026-03-02T06:00:00Z", Some("2026-03-02T07:00:00+00:00")),
            ("exactly then", "2026-03-02T07:00:00Z", Some("2026-03-02T07:00:00+00:00")),
            ("just after: Wednesday", "2026-03-02T07:00:01Z", Some("2026-03-04T07:00:00+00:00")),
            ("Thursday: next Monday", "2026-03-05T12:00:00Z", Some("2026-03-09T07:00:00+00:00")),
            ("Sunday 23:30 UTC is Monday 01:30 local", "2026-03-01T23:30:00Z", Some("2026-03-02T07:00:00+00:00")),
        ];
        for (name, after, want) in cases {
            let got = next_allowed(t(after), time, &mon_wed, &tz).map(|a| a.to_rfc3339());
            assert_eq!(got.as_deref(), want, "{name}");
        }
        assert_eq!(
            next_allowed(t("2026-03-02T06:00:00Z"), time, &[], &tz),
            None
        );
        // In a workflow: arrives Thursday, waits until Monday, then goes on.
        let wf = Workflow {
            entry: "w".into(),
            steps: vec![step(
                "w",
                StepKind::WaitUntil {
                    time,
                    days: mon_wed.to_vec(),
                    next: None,
                },
            )],
            ..Workflow::default()
        };
        let here = at("w", 1, "2026-03-05T12:00:00Z");
        let a = advance(
            &wf,
            1,
            &here,
            &Facts::default(),
            t("2026-03-05T12:00:00Z"),
            &tz,
        );
        assert_eq!(
            walk(&a).1,
            "waiting at w (#1) until 2026-03-09T07:00:00+00:00"
        );
        let a = advance(
            &wf,
            1,
            &here,
            &Facts::default(),
            t("2026-03-09T07:00:00Z"),
            &tz,
        );
        assert_eq!(walk(&a).1, "completed");
    }

    #[test]
    fn a_loop_that_never_waits_stops() {
        let wf = Workflow {
            entry: "a".into(),
            steps: vec![
                step(
                    "a",
                    StepKind::UpdateContact {
                        change: ContactChange::Consent { marketing: true },
                        next: n("b"),
                    },
                ),
                step(
                    "b",
                    StepKind::Branch {
                        paths: vec![],
                        otherwise: n("a"),
                    },
                ),
            ],
            ..Workflow::default()
        };
        let a = advance(
            &wf,
            1,
            &at("a", 1, "2026-03-02T09:00:00Z"),
            &Facts::default(),
            t("2026-03-02T09:00:00Z"),
            &Utc,
        );
        assert_eq!(a.passed.len(), MAX_STEPS_AT_ONCE);
        assert!(matches!(
            a.outcome,
            Outcome::Exited {
                reason: ExitReason::TooManySteps,
                ..
            }
        ));
    }
}
