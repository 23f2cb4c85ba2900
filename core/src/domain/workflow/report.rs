//! A workflow's numbers as reports show them: per step and for the whole workflow, read from
//! the counters the storage keeps (`name` → count), with the words and shares worked out here.

use super::{StepKind, Workflow};
use crate::domain::ExitReason;
use crate::domain::stats::{DeliveryStats, Rate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The counters of one step (or, under the empty step id, of the whole workflow), by name:
/// `entered`, `here`, `proceeded`, `failed`, `exited:<reason>`, `path:<n>`, `completed`,
/// `active`.
pub type Counters = BTreeMap<String, i64>;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkflowReport {
    /// The versions published, newest first, and the one reported (`None`: all together).
    pub versions: Vec<VersionInfo>,
    pub version: Option<i64>,
    pub whole: Whole,
    pub steps: Vec<StepReport>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionInfo {
    pub id: i64,
    pub version: i32,
    pub published_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Whole {
    pub entered: i64,
    pub in_progress: i64,
    pub completed: i64,
    pub failed: i64,
    /// Exited early, by reason (the goal among them).
    pub exited: Vec<ExitCount>,
    pub goal: i64,
    /// Reached the goal, of those who entered.
    pub conversion: Rate,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepReport {
    pub id: String,
    pub words: String,
    pub entered: i64,
    /// At the step now (waiting there, or about to be moved on).
    pub here: i64,
    pub proceeded: i64,
    pub failed: i64,
    pub exited: Vec<ExitCount>,
    /// A step with several ways on: how many took each, and their share of those who went on.
    pub paths: Vec<PathCount>,
    /// A send step's messages.
    pub messages: Option<DeliveryStats>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PathCount {
    pub label: String,
    /// The step it leads to (`None`: the run completes).
    pub to: Option<String>,
    pub n: i64,
    pub share: Rate,
}

/// How many ended for one reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExitCount {
    pub reason: ExitReason,
    pub n: i64,
}

fn exits(c: &Counters) -> Vec<ExitCount> {
    ExitReason::ALL
        .iter()
        .filter_map(|r| {
            let n = c
                .get(&format!("exited:{}", r.as_str()))
                .copied()
                .unwrap_or(0);
            (n != 0).then_some(ExitCount { reason: *r, n })
        })
        .collect()
}

/// The labels of a step's ways on, in the order of [`StepKind::exits`].
pub fn path_labels(kind: &StepKind) -> Vec<String> {
    match kind {
        StepKind::WaitForEvent { event, .. } => {
            vec![format!("“{event}” arrived"), "Timed out".into()]
        }
        StepKind::Branch { paths, .. } => {
            let mut labels: Vec<String> = if paths.len() == 1 {
                vec!["Yes".into()]
            } else {
                (1..=paths.len()).map(|i| format!("Path {i}")).collect()
            };
            labels.push(if paths.len() == 1 { "No" } else { "Otherwise" }.into());
            labels
        }
        StepKind::RandomSplit { shares } => {
            shares.iter().map(|s| format!("{} %", s.percent)).collect()
        }
        other => other.exits().iter().map(|_| "Next".to_string()).collect(),
    }
}

/// The report of `wf` from its counters (`counters[""]` the whole workflow's) and each send
/// step's message numbers.
pub fn build(
    wf: &Workflow,
    counters: &BTreeMap<String, Counters>,
    messages: &BTreeMap<String, DeliveryStats>,
    describe: &dyn Fn(&super::Step) -> String,
) -> (Whole, Vec<StepReport>) {
    let empty = Counters::new();
    let get = |c: &Counters, name: &str| c.get(name).copied().unwrap_or(0);
    let all = counters.get("").unwrap_or(&empty);
    let goal = get(all, "exited:goal");
    let whole = Whole {
        entered: get(all, "entered"),
        in_progress: get(all, "active"),
        completed: get(all, "completed"),
        failed: get(all, "failed"),
        exited: exits(all),
        goal,
        conversion: Rate {
            part: goal,
            whole: get(all, "entered"),
        },
    };
    let steps = wf
        .steps
        .iter()
        .map(|s| {
            let c = counters.get(&s.id).unwrap_or(&empty);
            let ways = s.kind.exits();
            let paths = if ways.len() > 1 {
                let counts: Vec<i64> = (0..ways.len())
                    .map(|i| get(c, &format!("path:{i}")))
                    .collect();
                let total: i64 = counts.iter().sum();
                path_labels(&s.kind)
                    .into_iter()
                    .zip(ways)
                    .zip(counts)
                    .map(|((label, to), n)| PathCount {
                        label,
                        to: to.clone(),
                        n,
                        share: Rate {
                            part: n,
                            whole: total,
                        },
                    })
                    .collect()
            } else {
                Vec::new()
            };
            StepReport {
                id: s.id.clone(),
                words: describe(s),
                entered: get(c, "entered"),
                here: get(c, "here"),
                proceeded: get(c, "proceeded"),
                failed: get(c, "failed"),
                exited: exits(c),
                paths,
                messages: match s.kind {
                    StepKind::Send { .. } => Some(messages.get(&s.id).copied().unwrap_or_default()),
                    _ => None,
                },
            }
        })
        .collect();
    (whole, steps)
}

#[cfg(test)]
mod tests {
    use super::super::{Condition, Path, Step};
    use super::*;

    #[test]
    fn numbers_from_counters() {
        let wf = Workflow {
            entry: "b".into(),
            steps: vec![Step {
                id: "b".into(),
                kind: StepKind::Branch {
                    paths: vec![Path {
                        condition: Condition::EventSince {
                            event: "paid".into(),
                        },
                        next: Some("b".into()),
                    }],
                    otherwise: None,
                },
            }],
            ..Workflow::default()
        };
        let counters: BTreeMap<String, Counters> = [
            (
                "".to_string(),
                [
                    ("entered", 10),
                    ("active", 3),
                    ("completed", 4),
                    ("exited:goal", 2),
                    ("exited:stopped", 1),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            ),
            (
                "b".to_string(),
                [
                    ("entered", 10),
                    ("here", 3),
                    ("proceeded", 6),
                    ("path:0", 2),
                    ("path:1", 4),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            ),
        ]
        .into_iter()
        .collect();
        let (whole, steps) = build(&wf, &counters, &BTreeMap::new(), &|s| s.id.clone());
        assert_eq!(whole.entered, 10);
        assert_eq!(whole.in_progress, 3);
        assert_eq!(whole.goal, 2);
        assert_eq!(whole.conversion.display(), "20 %");
        assert_eq!(
            whole.exited,
            vec![
                ExitCount {
                    reason: ExitReason::Goal,
                    n: 2
                },
                ExitCount {
                    reason: ExitReason::Stopped,
                    n: 1
                }
            ]
        );
        let b = &steps[0];
        assert_eq!((b.entered, b.here, b.proceeded), (10, 3, 6));
        let paths: Vec<(String, i64, String)> = b
            .paths
            .iter()
            .map(|p| (p.label.clone(), p.n, p.share.display()))
            .collect();
        assert_eq!(
            paths,
            vec![
                ("Yes".to_string(), 2, "33.3 %".to_string()),
                ("No".to_string(), 4, "66.7 %".to_string())
            ]
        );
        assert_eq!(b.messages, None);
    }
}
