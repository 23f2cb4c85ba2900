//! Workflows: a campaign that is a series of steps rather than one message. A workflow is data (a
//! graph of steps, stored as JSON with each published version of the campaign), checked here
//! before it is published ([`Workflow::problems`], every problem in words), and compared with
//! the version it replaces ([`changes`]: which steps are new, changed or gone, so that people
//! waiting at a removed step can be moved or let go).
//!
//! Steps have ids that stay the same across versions: a run remembers the id of the step it is
//! at, and a new version finds it there (or asks what to do with it). A step's `next` of `None`
//! ends the run there, completed; [`StepKind::Exit`] ends it on purpose.

use super::Channel;
use super::audience::Filter;
use super::trigger::WEEKDAYS;
use chrono::{NaiveTime, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub mod report;
pub mod run;

/// Where a step goes on: another step's id, or nowhere (the run completes).
pub type Next = Option<String>;

/// A workflow: the step that runs enter and every step, in the order the editor shows them,
/// with what ends a run early.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workflow {
    pub entry: String,
    pub steps: Vec<Step>,
    /// The event that ends a run as a conversion (the invoice is paid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal: Option<String>,
    /// An event property that keys the runs an event starts: one run per contact and key (an
    /// invoice id), so two invoices run side by side; the goal event must carry the same key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// A run ends when its contact no longer matches the campaign's audience.
    #[serde(default)]
    pub leave_when_unmatched: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Stable across versions; chosen by the editor, never reused within a workflow.
    pub id: String,
    #[serde(flatten)]
    pub kind: StepKind,
}

/// A length of time a run waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub amount: u32,
    pub unit: SpanUnit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanUnit {
    Minutes,
    Hours,
    Days,
    Weeks,
}

impl Span {
    /// The length, at most [`Span::LONGEST`] (a longer wait is refused before publishing).
    pub fn duration(self) -> chrono::Duration {
        let n = i64::from(self.amount);
        let d = match self.unit {
            SpanUnit::Minutes => chrono::Duration::minutes(n),
            SpanUnit::Hours => chrono::Duration::hours(n),
            SpanUnit::Days => chrono::Duration::days(n),
            SpanUnit::Weeks => chrono::Duration::weeks(n),
        };
        d.min(Span::LONGEST)
    }

    /// Ten years: the longest a run waits at one step.
    pub const LONGEST: chrono::Duration = chrono::Duration::days(3653);
}

/// What a branch asks of a run's contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "if", rename_all = "snake_case")]
pub enum Condition {
    /// They opened the message of an earlier send step (of this run).
    Opened { step: String },
    /// They clicked a link in the message of an earlier send step.
    Clicked { step: String },
    /// They are in the audience now.
    Matches { filter: Filter },
    /// The event arrived for them since the run entered.
    EventSince { event: String },
}

/// One way out of a branch: taken when its condition holds (the first that holds, in order).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Path {
    pub condition: Condition,
    pub next: Next,
}

/// One way out of a random split, taken by `percent` of the runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    pub percent: u8,
    pub next: Next,
}

/// A change to the contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum ContactChange {
    AddToGroup {
        group: String,
    },
    RemoveFromGroup {
        group: String,
    },
    /// Consent to marketing given (true) or withdrawn (false).
    Consent {
        marketing: bool,
    },
    SetAttribute {
        name: String,
        value: String,
    },
}

/// Who gets a to-do action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Assignee {
    /// The contact's account manager (the campaign's creator when they have none).
    AccountManager,
    CampaignCreator,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StepKind {
    /// Sends a message of the outbox (decided, counted and tracked as a campaign's).
    Send {
        channel: Channel,
        template_id: i64,
        next: Next,
    },
    Wait {
        span: Span,
        next: Next,
    },
    /// Waits until the time of day on one of the days, in the contact's time zone.
    WaitUntil {
        time: NaiveTime,
        days: Vec<Weekday>,
        next: Next,
    },
    /// Waits for the event; after `timeout` without it, goes to `on_timeout`.
    WaitForEvent {
        event: String,
        timeout: Span,
        next: Next,
        on_timeout: Next,
    },
    /// The first path whose condition holds, otherwise `otherwise` (a yes/no branch is one path).
    Branch {
        paths: Vec<Path>,
        otherwise: Next,
    },
    RandomSplit {
        shares: Vec<Share>,
    },
    UpdateContact {
        change: ContactChange,
        next: Next,
    },
    /// A to-do action: a call to make, a letter to post by hand.
    CreateAction {
        assignee: Assignee,
        title: String,
        next: Next,
    },
    Exit,
}

impl StepKind {
    /// Every way on from the step.
    pub fn exits(&self) -> Vec<&Next> {
        match self {
            StepKind::Send { next, .. }
            | StepKind::Wait { next, .. }
            | StepKind::WaitUntil { next, .. }
            | StepKind::UpdateContact { next, .. }
            | StepKind::CreateAction { next, .. } => vec![next],
            StepKind::WaitForEvent {
                next, on_timeout, ..
            } => vec![next, on_timeout],
            StepKind::Branch { paths, otherwise } => {
                paths.iter().map(|p| &p.next).chain([otherwise]).collect()
            }
            StepKind::RandomSplit { shares } => shares.iter().map(|s| &s.next).collect(),
            StepKind::Exit => vec![],
        }
    }

    /// Whether a run stays at the step for a while (a loop must pass one, or it never ends).
    fn waits(&self) -> bool {
        matches!(
            self,
            StepKind::Wait { .. } | StepKind::WaitUntil { .. } | StepKind::WaitForEvent { .. }
        )
    }
}

fn span_words(span: Span) -> String {
    let unit = match span.unit {
        SpanUnit::Minutes => "minute",
        SpanUnit::Hours => "hour",
        SpanUnit::Days => "day",
        SpanUnit::Weeks => "week",
    };
    match span.amount {
        1 => format!("1 {unit}"),
        n => format!("{n} {unit}s"),
    }
}

/// "Monday, Wednesday or Friday"; "any day" for all seven.
fn days_words(days: &[Weekday]) -> String {
    let mut days: Vec<Weekday> = days.to_vec();
    days.sort_by_key(|d| d.num_days_from_monday());
    days.dedup();
    let names: Vec<&str> = days
        .iter()
        .map(|d| WEEKDAYS[d.num_days_from_monday() as usize])
        .collect();
    match names.as_slice() {
        [] => "no day".into(),
        _ if names.len() == 7 => "any day".into(),
        [one] => (*one).into(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

impl Workflow {
    /// A step in words, for the editor and the review page: "Wait 3 days", "If they opened
    /// “Welcome”". `template` names a template by id (None: it is gone).
    pub fn describe(&self, step: &Step, template: &dyn Fn(i64) -> Option<String>) -> String {
        let template_words = |id: i64| match template(id) {
            Some(name) => format!("“{name}”"),
            None => format!("template #{id} (deleted)"),
        };
        // A send step by the message it sends, any other by its id.
        let message_of = |id: &str| match self.step(id).map(|s| &s.kind) {
            Some(StepKind::Send { template_id, .. }) => template_words(*template_id),
            _ => format!("step “{id}”"),
        };
        let condition = |c: &Condition| match c {
            Condition::Opened { step } => format!("they opened {}", message_of(step)),
            Condition::Clicked { step } => format!("they clicked a link in {}", message_of(step)),
            Condition::Matches { .. } => "they match the branch's audience".into(),
            Condition::EventSince { event } => format!("“{event}” arrived since they entered"),
        };
        match &step.kind {
            StepKind::Send {
                channel,
                template_id,
                ..
            } => format!(
                "Send the {} {}",
                match channel {
                    Channel::Email => "email",
                    Channel::Sms => "text message",
                },
                template_words(*template_id)
            ),
            StepKind::Wait { span, .. } => format!("Wait {}", span_words(*span)),
            StepKind::WaitUntil { time, days, .. } => format!(
                "Wait until {} on {}, in their time zone",
                time.format("%H:%M"),
                days_words(days)
            ),
            StepKind::WaitForEvent { event, timeout, .. } => {
                format!("Wait up to {} for “{event}”", span_words(*timeout))
            }
            StepKind::Branch { paths, .. } => match paths.as_slice() {
                [one] => format!("If {}", condition(&one.condition)),
                _ => format!(
                    "The first that holds: {}",
                    paths
                        .iter()
                        .map(|p| condition(&p.condition))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            },
            StepKind::RandomSplit { shares } => format!(
                "Split at random: {}",
                shares
                    .iter()
                    .map(|s| format!("{} %", s.percent))
                    .collect::<Vec<_>>()
                    .join(" / ")
            ),
            StepKind::UpdateContact { change, .. } => match change {
                ContactChange::AddToGroup { group } => format!("Add them to the group “{group}”"),
                ContactChange::RemoveFromGroup { group } => {
                    format!("Remove them from the group “{group}”")
                }
                ContactChange::Consent { marketing: true } => {
                    "Record their consent to marketing".into()
                }
                ContactChange::Consent { marketing: false } => {
                    "Record that they withdrew consent to marketing".into()
                }
                ContactChange::SetAttribute { name, value } => {
                    format!("Set “{name}” to “{value}”")
                }
            },
            StepKind::CreateAction {
                assignee, title, ..
            } => format!(
                "Create a to-do for {}: “{title}”",
                match assignee {
                    Assignee::AccountManager => "their account manager",
                    Assignee::CampaignCreator => "the campaign's creator",
                }
            ),
            StepKind::Exit => "Exit".into(),
        }
    }
}

/// What keeps a workflow from being published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    NoSteps,
    DuplicateId(String),
    EmptyId,
    UnknownEntry(String),
    /// A step goes on to a step that is not there.
    UnknownNext {
        step: String,
        to: String,
    },
    /// No way from the entry leads to the step.
    Unreachable(String),
    /// Steps that can follow one another for ever without waiting.
    LoopWithoutWait(Vec<String>),
    ZeroWait(String),
    /// A wait longer than [`Span::LONGEST`].
    TooLong(String),
    NoDays(String),
    EmptyEvent(String),
    NoPaths(String),
    SharesNotHundred {
        step: String,
        total: u32,
    },
    /// A branch on "opened" or "clicked" names a step that is not a send step before it.
    NotAnEarlierSend {
        step: String,
        names: String,
    },
    EmptyTitle(String),
}

impl Problem {
    /// In words, for the editor.
    pub fn message(&self) -> String {
        match self {
            Problem::NoSteps => "The workflow has no steps.".into(),
            Problem::DuplicateId(id) => format!("Two steps are called “{id}”."),
            Problem::EmptyId => "A step has no id.".into(),
            Problem::UnknownEntry(id) => {
                format!("The workflow starts at “{id}”, which is not a step.")
            }
            Problem::UnknownNext { step, to } => {
                format!("Step “{step}” goes on to “{to}”, which is not a step.")
            }
            Problem::Unreachable(id) => format!("No one can reach step “{id}”."),
            Problem::LoopWithoutWait(ids) => format!(
                "Steps {} go round in a loop without a wait: a run would never stop.",
                ids.iter()
                    .map(|i| format!("“{i}”"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Problem::ZeroWait(id) => format!("Step “{id}” waits for no time: give it a length."),
            Problem::TooLong(id) => format!("Step “{id}” waits longer than ten years."),
            Problem::NoDays(id) => format!("Step “{id}” waits for a day, but no day is allowed."),
            Problem::EmptyEvent(id) => format!("Step “{id}” names no event."),
            Problem::NoPaths(id) => format!("Step “{id}” has no way out."),
            Problem::SharesNotHundred { step, total } => {
                format!("The shares of step “{step}” add up to {total} %, not 100 %.")
            }
            Problem::NotAnEarlierSend { step, names } => format!(
                "Step “{step}” asks about the message of “{names}”, which is not a send step that comes before it."
            ),
            Problem::EmptyTitle(id) => format!("The action of step “{id}” has no title."),
        }
    }
}

impl Workflow {
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The steps each step can go on to (known ones only).
    fn successors(&self) -> BTreeMap<&str, Vec<&str>> {
        self.steps
            .iter()
            .map(|s| {
                let to = s
                    .kind
                    .exits()
                    .into_iter()
                    .filter_map(|n| n.as_deref())
                    .filter(|n| self.step(n).is_some())
                    .collect();
                (s.id.as_str(), to)
            })
            .collect()
    }

    /// The steps reachable from `from` by one or more moves.
    fn after(successors: &BTreeMap<&str, Vec<&str>>, from: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<&str> = successors.get(from).cloned().unwrap_or_default();
        while let Some(s) = todo.pop() {
            if seen.insert(s.to_owned()) {
                todo.extend(successors.get(s).into_iter().flatten().copied());
            }
        }
        seen
    }

    /// Every reason the workflow cannot be published; empty when it can.
    pub fn problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.steps.is_empty() {
            return vec![Problem::NoSteps];
        }
        let mut ids = BTreeSet::new();
        for s in &self.steps {
            if s.id.trim().is_empty() {
                problems.push(Problem::EmptyId);
            } else if !ids.insert(s.id.as_str()) {
                problems.push(Problem::DuplicateId(s.id.clone()));
            }
        }
        let entry_known = self.step(&self.entry).is_some();
        if !entry_known {
            problems.push(Problem::UnknownEntry(self.entry.clone()));
        }
        let successors = self.successors();
        for s in &self.steps {
            for next in s.kind.exits() {
                if let Some(to) = next
                    && self.step(to).is_none()
                {
                    problems.push(Problem::UnknownNext {
                        step: s.id.clone(),
                        to: to.clone(),
                    });
                }
            }
            problems.extend(self.step_problems(s, &successors));
        }
        if entry_known {
            let mut reached = Self::after(&successors, &self.entry);
            reached.insert(self.entry.clone());
            for s in &self.steps {
                if !reached.contains(&s.id) && !s.id.trim().is_empty() {
                    problems.push(Problem::Unreachable(s.id.clone()));
                }
            }
        }
        problems.extend(self.loops_without_wait(&successors));
        problems
    }

    fn step_problems(&self, s: &Step, successors: &BTreeMap<&str, Vec<&str>>) -> Vec<Problem> {
        let id = || s.id.clone();
        let mut problems = Vec::new();
        let too_long = |span: &Span| {
            let n = i64::from(span.amount);
            let minutes = match span.unit {
                SpanUnit::Minutes => n,
                SpanUnit::Hours => n * 60,
                SpanUnit::Days => n * 1440,
                SpanUnit::Weeks => n * 10080,
            };
            minutes > Span::LONGEST.num_minutes()
        };
        if let StepKind::Wait { span, .. } | StepKind::WaitForEvent { timeout: span, .. } = &s.kind
            && too_long(span)
        {
            problems.push(Problem::TooLong(id()));
        }
        match &s.kind {
            StepKind::Wait { span, .. } if span.amount == 0 => {
                problems.push(Problem::ZeroWait(id()))
            }
            StepKind::WaitUntil { days, .. } if days.is_empty() => {
                problems.push(Problem::NoDays(id()))
            }
            StepKind::WaitForEvent { event, timeout, .. } => {
                if event.trim().is_empty() {
                    problems.push(Problem::EmptyEvent(id()));
                }
                if timeout.amount == 0 {
                    problems.push(Problem::ZeroWait(id()));
                }
            }
            StepKind::Branch { paths, .. } => {
                if paths.is_empty() {
                    problems.push(Problem::NoPaths(id()));
                }
                for p in paths {
                    match &p.condition {
                        Condition::Opened { step } | Condition::Clicked { step } => {
                            let is_send = matches!(
                                self.step(step).map(|t| &t.kind),
                                Some(StepKind::Send { .. })
                            );
                            // "Earlier": the send step can lead to this branch.
                            if !is_send || !Self::after(successors, step).contains(&s.id) {
                                problems.push(Problem::NotAnEarlierSend {
                                    step: id(),
                                    names: step.clone(),
                                });
                            }
                        }
                        Condition::EventSince { event } if event.trim().is_empty() => {
                            problems.push(Problem::EmptyEvent(id()));
                        }
                        _ => {}
                    }
                }
            }
            StepKind::RandomSplit { shares } => {
                if shares.is_empty() {
                    problems.push(Problem::NoPaths(id()));
                } else {
                    let total: u32 = shares.iter().map(|s| u32::from(s.percent)).sum();
                    if total != 100 {
                        problems.push(Problem::SharesNotHundred { step: id(), total });
                    }
                }
            }
            StepKind::CreateAction { title, .. } if title.trim().is_empty() => {
                problems.push(Problem::EmptyTitle(id()));
            }
            _ => {}
        }
        problems
    }

    /// Cycles made only of steps that do not wait, each reported once (its steps in order).
    fn loops_without_wait(&self, successors: &BTreeMap<&str, Vec<&str>>) -> Vec<Problem> {
        let instant: BTreeMap<&str, Vec<&str>> = successors
            .iter()
            .filter(|(id, _)| self.step(id).is_some_and(|s| !s.kind.waits()))
            .map(|(id, to)| (*id, to.clone()))
            .collect();
        let mut found: Vec<BTreeSet<String>> = Vec::new();
        let mut problems = Vec::new();
        for start in instant.keys() {
            let after = Self::after(&instant, start);
            if !after.contains(*start) {
                continue;
            }
            // The loop through `start`: the instant steps it reaches that reach it back.
            let members: BTreeSet<String> = after
                .iter()
                .filter(|m| Self::after(&instant, m).contains(*start))
                .cloned()
                .collect();
            if !found.contains(&members) {
                let ordered = self
                    .steps
                    .iter()
                    .filter(|s| members.contains(&s.id))
                    .map(|s| s.id.clone())
                    .collect();
                problems.push(Problem::LoopWithoutWait(ordered));
                found.push(members);
            }
        }
        problems
    }
}

/// How a new version differs from the one it replaces, by step id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub added: Vec<String>,
    /// Steps whose settings or ways on changed; runs waiting there stay and go on by the new.
    pub changed: Vec<String>,
    /// Steps the new version no longer has: runs waiting there need to be moved or let go.
    pub removed: Vec<String>,
}

pub fn changes(old: &Workflow, new: &Workflow) -> Changes {
    let mut c = Changes::default();
    for s in &new.steps {
        match old.step(&s.id) {
            None => c.added.push(s.id.clone()),
            Some(before) if before.kind != s.kind => c.changed.push(s.id.clone()),
            Some(_) => {}
        }
    }
    c.removed = old
        .steps
        .iter()
        .filter(|s| new.step(&s.id).is_none())
        .map(|s| s.id.clone())
        .collect();
    c
}

/// What to do with runs waiting at a step a new version removes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum Removal {
    /// Move them to a step of the new version.
    MoveTo { step: String },
    /// They leave, with the reason "step removed".
    Exit,
}

/// Checks the choices made for removed steps where people wait: every such step has one, and
/// a move goes to a step of the new version. Returns the steps still without a valid choice.
pub fn unresolved_removals(
    new: &Workflow,
    removed_with_runs: &[String],
    choices: &BTreeMap<String, Removal>,
) -> Vec<String> {
    removed_with_runs
        .iter()
        .filter(|id| match choices.get(*id) {
            None => true,
            Some(Removal::MoveTo { step }) => new.step(step).is_none(),
            Some(Removal::Exit) => false,
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(id: &str, next: Option<&str>) -> Step {
        Step {
            id: id.into(),
            kind: StepKind::Send {
                channel: Channel::Email,
                template_id: 1,
                next: next.map(Into::into),
            },
        }
    }
    fn wait(id: &str, days: u32, next: Option<&str>) -> Step {
        Step {
            id: id.into(),
            kind: StepKind::Wait {
                span: Span {
                    amount: days,
                    unit: SpanUnit::Days,
                },
                next: next.map(Into::into),
            },
        }
    }
    fn branch(id: &str, cond: Condition, yes: Option<&str>, no: Option<&str>) -> Step {
        Step {
            id: id.into(),
            kind: StepKind::Branch {
                paths: vec![Path {
                    condition: cond,
                    next: yes.map(Into::into),
                }],
                otherwise: no.map(Into::into),
            },
        }
    }
    fn opened(step: &str) -> Condition {
        Condition::Opened { step: step.into() }
    }
    fn split(id: &str, shares: &[(u8, Option<&str>)]) -> Step {
        Step {
            id: id.into(),
            kind: StepKind::RandomSplit {
                shares: shares
                    .iter()
                    .map(|(p, n)| Share {
                        percent: *p,
                        next: n.map(Into::into),
                    })
                    .collect(),
            },
        }
    }
    fn update(id: &str, next: Option<&str>) -> Step {
        Step {
            id: id.into(),
            kind: StepKind::UpdateContact {
                change: ContactChange::AddToGroup {
                    group: "vip".into(),
                },
                next: next.map(Into::into),
            },
        }
    }
    fn flow(entry: &str, steps: Vec<Step>) -> Workflow {
        Workflow {
            entry: entry.into(),
            steps,
            ..Workflow::default()
        }
    }

    /// The welcome series: send, wait 3 days, if they opened it send a follow-up, else remind.
    fn welcome() -> Workflow {
        flow(
            "welcome",
            vec![
                send("welcome", Some("wait")),
                wait("wait", 3, Some("opened?")),
                branch(
                    "opened?",
                    opened("welcome"),
                    Some("follow-up"),
                    Some("reminder"),
                ),
                send("follow-up", None),
                send("reminder", None),
            ],
        )
    }

    #[test]
    fn problems_in_words() {
        let cases: Vec<(&str, Workflow, Vec<Problem>)> = vec![
            ("the welcome series", welcome(), vec![]),
            ("no steps", flow("a", vec![]), vec![Problem::NoSteps]),
            (
                "an entry that is not a step",
                flow("nope", vec![send("a", None)]),
                vec![Problem::UnknownEntry("nope".into())],
            ),
            (
                "two steps with one id",
                flow(
                    "a",
                    vec![send("a", Some("b")), send("b", None), wait("b", 1, None)],
                ),
                vec![Problem::DuplicateId("b".into())],
            ),
            (
                "a way on to a step that is not there",
                flow("a", vec![send("a", Some("gone"))]),
                vec![Problem::UnknownNext {
                    step: "a".into(),
                    to: "gone".into(),
                }],
            ),
            (
                "a step no one reaches",
                flow("a", vec![send("a", None), send("island", None)]),
                vec![Problem::Unreachable("island".into())],
            ),
            (
                "a loop without a wait",
                flow("a", vec![update("a", Some("b")), update("b", Some("a"))]),
                vec![Problem::LoopWithoutWait(vec!["a".into(), "b".into()])],
            ),
            (
                "a loop through a wait is fine (a monthly nudge until they act)",
                flow(
                    "a",
                    vec![
                        send("a", Some("w")),
                        wait("w", 30, Some("b")),
                        branch("b", opened("a"), None, Some("a")),
                    ],
                ),
                vec![],
            ),
            (
                "a wait of no time",
                flow("w", vec![wait("w", 0, None)]),
                vec![Problem::ZeroWait("w".into())],
            ),
            (
                "a wait of more than ten years",
                flow("w", vec![wait("w", 3654, None)]),
                vec![Problem::TooLong("w".into())],
            ),
            (
                "shares that do not add up",
                flow("s", vec![split("s", &[(50, None), (40, None)])]),
                vec![Problem::SharesNotHundred {
                    step: "s".into(),
                    total: 90,
                }],
            ),
            (
                "a split with no shares",
                flow("s", vec![split("s", &[])]),
                vec![Problem::NoPaths("s".into())],
            ),
            (
                "opened? of a later send",
                flow(
                    "b",
                    vec![
                        branch("b", opened("later"), Some("later"), None),
                        send("later", None),
                    ],
                ),
                vec![Problem::NotAnEarlierSend {
                    step: "b".into(),
                    names: "later".into(),
                }],
            ),
            (
                "opened? of a step that sends nothing",
                flow(
                    "w",
                    vec![
                        wait("w", 1, Some("b")),
                        branch("b", opened("w"), None, None),
                    ],
                ),
                vec![Problem::NotAnEarlierSend {
                    step: "b".into(),
                    names: "w".into(),
                }],
            ),
            (
                "a wait for an event with no event and no timeout",
                flow(
                    "e",
                    vec![Step {
                        id: "e".into(),
                        kind: StepKind::WaitForEvent {
                            event: " ".into(),
                            timeout: Span {
                                amount: 0,
                                unit: SpanUnit::Hours,
                            },
                            next: None,
                            on_timeout: None,
                        },
                    }],
                ),
                vec![
                    Problem::EmptyEvent("e".into()),
                    Problem::ZeroWait("e".into()),
                ],
            ),
            (
                "a wait for a day with no day allowed",
                flow(
                    "t",
                    vec![Step {
                        id: "t".into(),
                        kind: StepKind::WaitUntil {
                            time: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
                            days: vec![],
                            next: None,
                        },
                    }],
                ),
                vec![Problem::NoDays("t".into())],
            ),
        ];
        for (what, workflow, want) in cases {
            assert_eq!(workflow.problems(), want, "{what}");
            for p in &want {
                assert!(p.message().ends_with('.'), "{what}: {}", p.message());
            }
        }
    }

    #[test]
    fn stored_as_json_and_read_back() {
        let w = welcome();
        let json = serde_json::to_value(&w).unwrap();
        assert_eq!(json["steps"][0]["type"], "send");
        assert_eq!(json["steps"][2]["paths"][0]["condition"]["if"], "opened");
        let back: Workflow = serde_json::from_value(json).unwrap();
        assert_eq!(back, w);
        let bad = serde_json::json!({"entry": "a", "steps": [{"id": "a", "type": "teleport"}]});
        assert!(serde_json::from_value::<Workflow>(bad).is_err());
    }

    #[test]
    fn a_new_version_is_compared_step_by_step() {
        let old = welcome();
        let mut new = welcome();
        // The reminder goes, the wait is longer, a thank-you comes after the follow-up.
        new.steps.retain(|s| s.id != "reminder");
        new.steps[1] = wait("wait", 5, Some("opened?"));
        new.steps[2] = branch("opened?", opened("welcome"), Some("follow-up"), None);
        new.steps[3] = send("follow-up", Some("thanks"));
        new.steps.push(send("thanks", None));
        assert_eq!(new.problems(), vec![]);
        let c = changes(&old, &new);
        assert_eq!(c.added, vec!["thanks"]);
        assert_eq!(c.changed, vec!["wait", "opened?", "follow-up"]);
        assert_eq!(c.removed, vec!["reminder"]);
        assert_eq!(changes(&old, &old), Changes::default());

        let waiting = vec!["reminder".to_owned()];
        let choose = |r: Option<Removal>| {
            let choices: BTreeMap<_, _> =
                r.into_iter().map(|r| ("reminder".to_owned(), r)).collect();
            unresolved_removals(&new, &waiting, &choices)
        };
        assert_eq!(choose(None), waiting, "no choice made");
        assert_eq!(
            choose(Some(Removal::MoveTo {
                step: "reminder".into()
            })),
            waiting,
            "moved to a removed step"
        );
        assert_eq!(
            choose(Some(Removal::MoveTo {
                step: "thanks".into()
            })),
            Vec::<String>::new()
        );
        assert_eq!(choose(Some(Removal::Exit)), Vec::<String>::new());
    }

    #[test]
    fn each_step_in_words() {
        let template = |id: i64| (id == 1).then(|| "Welcome".to_owned());
        let at_nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        let step = |kind: StepKind| Step {
            id: "s".into(),
            kind,
        };
        let w = welcome();
        let cases = [
            (w.steps[0].clone(), "Send the email “Welcome”"),
            (w.steps[1].clone(), "Wait 3 days"),
            (w.steps[2].clone(), "If they opened “Welcome”"),
            (
                step(StepKind::Send {
                    channel: Channel::Sms,
                    template_id: 7,
                    next: None,
                }),
                "Send the text message template #7 (deleted)",
            ),
            (
                step(StepKind::Wait {
                    span: Span {
                        amount: 1,
                        unit: SpanUnit::Hours,
                    },
                    next: None,
                }),
                "Wait 1 hour",
            ),
            (
                step(StepKind::WaitUntil {
                    time: at_nine,
                    days: vec![Weekday::Fri, Weekday::Mon, Weekday::Wed, Weekday::Mon],
                    next: None,
                }),
                "Wait until 09:00 on Monday, Wednesday or Friday, in their time zone",
            ),
            (
                step(StepKind::WaitUntil {
                    time: at_nine,
                    days: vec![
                        Weekday::Mon,
                        Weekday::Tue,
                        Weekday::Wed,
                        Weekday::Thu,
                        Weekday::Fri,
                        Weekday::Sat,
                        Weekday::Sun,
                    ],
                    next: None,
                }),
                "Wait until 09:00 on any day, in their time zone",
            ),
            (
                step(StepKind::WaitForEvent {
                    event: "invoice.paid".into(),
                    timeout: Span {
                        amount: 2,
                        unit: SpanUnit::Weeks,
                    },
                    next: None,
                    on_timeout: None,
                }),
                "Wait up to 2 weeks for “invoice.paid”",
            ),
            (
                step(StepKind::Branch {
                    paths: vec![
                        Path {
                            condition: Condition::Clicked {
                                step: "welcome".into(),
                            },
                            next: None,
                        },
                        Path {
                            condition: Condition::EventSince {
                                event: "login".into(),
                            },
                            next: None,
                        },
                        Path {
                            condition: Condition::Opened {
                                step: "wait".into(),
                            },
                            next: None,
                        },
                    ],
                    otherwise: None,
                }),
                "The first that holds: they clicked a link in “Welcome”; “login” arrived since they entered; they opened step “wait”",
            ),
            (
                split("s", &[(50, None), (30, None), (20, None)]),
                "Split at random: 50 % / 30 % / 20 %",
            ),
            (update("s", None), "Add them to the group “vip”"),
            (
                step(StepKind::UpdateContact {
                    change: ContactChange::Consent { marketing: false },
                    next: None,
                }),
                "Record that they withdrew consent to marketing",
            ),
            (
                step(StepKind::CreateAction {
                    assignee: Assignee::AccountManager,
                    title: "Call about the renewal".into(),
                    next: None,
                }),
                "Create a to-do for their account manager: “Call about the renewal”",
            ),
            (step(StepKind::Exit), "Exit"),
        ];
        for (s, want) in cases {
            assert_eq!(w.describe(&s, &template), want);
        }
    }

    #[test]
    fn spans_are_lengths_of_time() {
        let cases = [
            (
                Span {
                    amount: 90,
                    unit: SpanUnit::Minutes,
                },
                chrono::Duration::minutes(90),
            ),
            (
                Span {
                    amount: 3,
                    unit: SpanUnit::Days,
                },
                chrono::Duration::hours(72),
            ),
            (
                Span {
                    amount: 2,
                    unit: SpanUnit::Weeks,
                },
                chrono::Duration::days(14),
            ),
        ];
        for (span, want) in cases {
            assert_eq!(span.duration(), want, "{span:?}");
        }
    }
}
