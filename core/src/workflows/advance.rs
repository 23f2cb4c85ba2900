//! Moving runs on: the facts of a batch of runs are read in a few queries, each run is advanced
//! by [`crate::domain::workflow::run::advance`], and everything that answers (the new
//! positions, the log, the counters, the messages, the contact changes, the to-dos) is written
//! in the caller's transaction. A run's position is updated on the condition that it is still
//! where it was read, so a run moved meanwhile (a goal event, another worker) is left alone.

use super::{Counts, Entry, step_campaign, step_send};
use crate::delivery::{address, event, policy, recipients, utc_offset};
use crate::domain::delivery::{Decision, decide, quiet_until};
use crate::domain::workflow::run::{self, At, Effect, Facts, Outcome};
use crate::domain::workflow::{Assignee, Condition, ContactChange, StepKind, Workflow};
use crate::domain::{
    ActionState, Channel, ContactStatus, DeliveryState, ExitReason, MessageType, RunStatus,
};
use crate::entity::{
    action, campaign, campaign_send, contact, contact_event, contact_group, contact_group_member,
    message, organisation, workflow_log, workflow_run, workflow_version,
};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What a batch did, for the job's log and the tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Moved {
    pub runs: usize,
    pub messages: usize,
}

/// Advances `runs` (active runs of campaign `c`, all in `version`) at `now`, in the caller's
/// transaction.
pub(crate) async fn advance_runs(
    db: &impl ConnectionTrait,
    c: &campaign::Model,
    org: &organisation::Model,
    version: &workflow_version::Model,
    runs: Vec<workflow_run::Model>,
    now: DateTime<Utc>,
) -> Result<Moved> {
    if runs.is_empty() {
        return Ok(Moved::default());
    }
    let wf = &version.definition;
    let contacts: HashMap<i64, contact::Model> = contact::Entity::find()
        .filter(contact::Column::OrgId.eq(c.org_id))
        .filter(contact::Column::Id.is_in(runs.iter().map(|r| r.contact_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|k| (k.id, k))
        .collect();
    let facts = read_facts(db, c, org, wf, &runs, &contacts, now).await?;
    let mut counts = Counts::default();
    let mut log = Vec::new();
    let mut sends: BTreeMap<String, Vec<Due>> = BTreeMap::new();
    let mut changes = Vec::new();
    let mut todos = Vec::new();
    let mut moved = Moved::default();
    for r in runs {
        let Some(k) = contacts.get(&r.contact_id) else {
            continue;
        };
        let at = At {
            step: r.step_id.clone(),
            seq: r.seq,
            arrived_at: r.arrived_at,
            entered_at: r.entered_at,
        };
        let f = facts.get(&r.id).cloned().unwrap_or_default();
        let tz = super::zone_of(k, org);
        let a = run::advance(wf, r.id, &at, &f, now, &tz);
        // The new position, written first: if the run has moved since it was read, nothing
        // of this advance is written.
        let mut update = workflow_run::Entity::update_many()
            .col_expr(workflow_run::Column::Attempts, Expr::value(0))
            .col_expr(
                workflow_run::Column::Error,
                Expr::value(Option::<String>::None),
            )
            .col_expr(workflow_run::Column::SkipSends, Expr::value(false))
            .filter(workflow_run::Column::Id.eq(r.id))
            .filter(workflow_run::Column::Seq.eq(r.seq))
            .filter(workflow_run::Column::Status.eq(RunStatus::Active));
        update = match &a.outcome {
            Outcome::Waiting { at, until } => update
                .col_expr(workflow_run::Column::StepId, Expr::value(at.step.clone()))
                .col_expr(workflow_run::Column::Seq, Expr::value(at.seq))
                .col_expr(workflow_run::Column::ArrivedAt, Expr::value(at.arrived_at))
                .col_expr(workflow_run::Column::WakeAt, Expr::value(*until)),
            Outcome::Completed => {
                // It stays at the last step it went through.
                let last = a
                    .passed
                    .last()
                    .map_or((r.step_id.clone(), r.seq), |p| (p.step.clone(), p.seq));
                ended(update, RunStatus::Completed, None, now)
                    .col_expr(workflow_run::Column::StepId, Expr::value(last.0))
                    .col_expr(workflow_run::Column::Seq, Expr::value(last.1))
            }
            Outcome::Exited { step, seq, reason } => {
                ended(update, RunStatus::Exited, Some(*reason), now)
                    .col_expr(workflow_run::Column::StepId, Expr::value(step.clone()))
                    .col_expr(workflow_run::Column::Seq, Expr::value(*seq))
            }
        };
        if update.exec(db).await?.rows_affected != 1 {
            continue;
        }
        moved.runs += 1;
        let entry = Entry::of(&r);
        // Steps passed: the first is where the run was; each later one it arrived at now.
        let mut via: Option<i32> = None;
        for (i, p) in a.passed.iter().enumerate() {
            if i > 0 {
                counts.arrive(&p.step);
                log.push(entry.log(p.seq, &p.step, RunStatus::Active, None, now, via));
            }
            counts.add(&p.step, "here", -1);
            match p.exit {
                Some(e) => {
                    counts.add(&p.step, "proceeded", 1);
                    if wf.step(&p.step).is_some_and(|s| s.kind.exits().len() > 1) {
                        counts.add(&p.step, &format!("path:{e}"), 1);
                    }
                }
                None => counts.add(&p.step, "exited:exit_step", 1),
            }
            via = p.exit.map(|e| e as i32);
            match &p.effect {
                Some(Effect::Send { .. }) => sends.entry(p.step.clone()).or_default().push(Due {
                    run_id: r.id,
                    seq: p.seq,
                    contact_id: r.contact_id,
                    skip: r.skip_sends,
                }),
                Some(Effect::Update(change)) => changes.push((r.contact_id, change.clone())),
                Some(Effect::Action { assignee, title }) => {
                    todos.push((r.id, p.seq, k.clone(), *assignee, title.clone()))
                }
                None => {}
            }
        }
        let last_seq = a.passed.last().map_or(r.seq, |p| p.seq);
        match &a.outcome {
            Outcome::Waiting { at, .. } => {
                if at.seq != r.seq {
                    counts.arrive(&at.step);
                    log.push(entry.log(at.seq, &at.step, RunStatus::Active, None, now, via));
                }
            }
            Outcome::Completed => {
                counts.add("", "completed", 1);
                counts.add("", "active", -1);
                log.push(entry.log(last_seq, "", RunStatus::Completed, None, now, None));
            }
            Outcome::Exited { step, seq, reason } => {
                if *reason != ExitReason::ExitStep {
                    if *seq != last_seq || a.passed.is_empty() {
                        if *seq != r.seq {
                            counts.arrive(step);
                            log.push(entry.log(*seq, step, RunStatus::Active, None, now, via));
                        }
                        counts.add(step, "here", -1);
                    }
                    counts.add(step, &format!("exited:{}", reason.as_str()), 1);
                }
                counts.add("", &format!("exited:{}", reason.as_str()), 1);
                counts.add("", "active", -1);
                log.push(entry.log(*seq, step, RunStatus::Exited, Some(*reason), now, None));
            }
        }
    }
    for (step, runs) in sends {
        moved.messages +=
            enqueue_messages(db, c, org, version, &step, &runs, &contacts, now).await?;
    }
    apply_changes(db, c.org_id, &changes, now).await?;
    open_todos(db, c, &todos, now).await?;
    if !log.is_empty() {
        for chunk in log.chunks(500) {
            workflow_log::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(db)
                .await?;
        }
    }
    counts.write(db, c, version.id).await?;
    Ok(moved)
}

fn ended(
    update: sea_orm::UpdateMany<workflow_run::Entity>,
    status: RunStatus,
    reason: Option<ExitReason>,
    now: DateTime<Utc>,
) -> sea_orm::UpdateMany<workflow_run::Entity> {
    update
        .col_expr(workflow_run::Column::Status, Expr::value(status))
        .col_expr(workflow_run::Column::ExitReason, Expr::value(reason))
        .col_expr(workflow_run::Column::EndedAt, Expr::value(now))
        .col_expr(
            workflow_run::Column::WakeAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
}

/// What each run's contact has done and is, read for the whole batch.
async fn read_facts(
    db: &impl ConnectionTrait,
    c: &campaign::Model,
    org: &organisation::Model,
    wf: &Workflow,
    runs: &[workflow_run::Model],
    contacts: &HashMap<i64, contact::Model>,
    now: DateTime<Utc>,
) -> Result<HashMap<i64, Facts>> {
    let run_ids: Vec<i64> = runs.iter().map(|r| r.id).collect();
    let contact_ids: Vec<i64> = contacts.keys().copied().collect();
    let mut facts: HashMap<i64, Facts> = run_ids.iter().map(|id| (*id, Facts::default())).collect();

    // Opened and clicked: this run's messages, by the step whose send they are in.
    let asks_engagement = wf.steps.iter().any(|s| {
        matches!(&s.kind, StepKind::Branch { paths, .. }
            if paths.iter().any(|p| matches!(p.condition, Condition::Opened { .. } | Condition::Clicked { .. })))
    });
    if asks_engagement {
        // (run, send, first opened, first clicked)
        type Engagement = (
            Option<i64>,
            i64,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
        );
        let rows: Vec<Engagement> = message::Entity::find()
            .select_only()
            .column(message::Column::RunId)
            .column(message::Column::SendId)
            .column(message::Column::FirstOpenedAt)
            .column(message::Column::FirstClickedAt)
            .filter(message::Column::RunId.is_in(run_ids.clone()))
            .into_tuple()
            .all(db)
            .await?;
        let steps: HashMap<i64, String> = campaign_send::Entity::find()
            .filter(campaign_send::Column::CampaignId.eq(c.id))
            .filter(campaign_send::Column::StepId.is_not_null())
            .all(db)
            .await?
            .into_iter()
            .filter_map(|s| Some((s.id, s.step_id?)))
            .collect();
        for (run, send, opened, clicked) in rows {
            let (Some(run), Some(step)) = (run, steps.get(&send).cloned()) else {
                continue;
            };
            if let Some(f) = facts.get_mut(&run) {
                if opened.is_some() || clicked.is_some() {
                    // A click without a recorded open (images off) is an open too.
                    f.opened.insert(step.clone());
                }
                if clicked.is_some() {
                    f.clicked.insert(step);
                }
            }
        }
    }

    // Events since each run entered, for its key when it has one.
    let named: BTreeSet<&str> = wf
        .steps
        .iter()
        .filter_map(|s| match &s.kind {
            StepKind::WaitForEvent { event, .. } => Some(event.trim()),
            StepKind::Branch { paths, .. } => paths.iter().find_map(|p| match &p.condition {
                Condition::EventSince { event } => Some(event.trim()),
                _ => None,
            }),
            _ => None,
        })
        .collect();
    if !named.is_empty() {
        let since = runs.iter().map(|r| r.entered_at).min().unwrap_or(now);
        let events = contact_event::Entity::find()
            .filter(contact_event::Column::OrgId.eq(c.org_id))
            .filter(contact_event::Column::ContactId.is_in(contact_ids.clone()))
            .filter(contact_event::Column::Name.is_in(named.iter().copied()))
            .filter(contact_event::Column::OccurredAt.gte(since))
            .all(db)
            .await?;
        for r in runs {
            let f = facts.get_mut(&r.id).expect("every run has facts");
            f.events = events
                .iter()
                .filter(|e| e.contact_id == r.contact_id && e.occurred_at >= r.entered_at)
                .filter(|e| super::key_matches(wf, &e.properties, &r.run_key))
                .map(|e| (e.name.clone(), e.occurred_at))
                .collect();
        }
    }

    // Audience branches: who matches each path's filter now.
    let scope = crate::audience::Scope {
        org_id: c.org_id,
        assigned_to: None,
    };
    for s in &wf.steps {
        let StepKind::Branch { paths, .. } = &s.kind else {
            continue;
        };
        for (i, p) in paths.iter().enumerate() {
            let Condition::Matches { filter } = &p.condition else {
                continue;
            };
            let matching = crate::audience::ids_among(db, scope, filter, now, &contact_ids).await?;
            for r in runs.iter().filter(|r| matching.contains(&r.contact_id)) {
                if let Some(f) = facts.get_mut(&r.id) {
                    f.matching.insert((s.id.clone(), i));
                }
            }
        }
    }

    // Who must leave: the unreachable, the unsubscribed, and (if the workflow says so) those no
    // longer in the audience.
    let still_in: Option<BTreeSet<i64>> = if wf.leave_when_unmatched {
        Some(crate::audience::ids_among(db, scope, &c.audience, now, &contact_ids).await?)
    } else {
        None
    };
    let email_c = step_campaign(c, Channel::Email, None, None);
    let pol = policy(&email_c, org);
    let people: Vec<contact::Model> = contacts.values().cloned().collect();
    let reach: HashMap<i64, crate::domain::delivery::Recipient> = people
        .iter()
        .map(|k| k.id)
        .zip(recipients(db, &email_c, &pol, &people, -1, now).await?)
        .collect();
    for r in runs {
        let f = facts.get_mut(&r.id).expect("every run has facts");
        let Some(k) = contacts.get(&r.contact_id) else {
            continue;
        };
        let to = reach.get(&k.id);
        f.leave = if k.status != ContactStatus::Active || to.is_some_and(|t| t.suppressed) {
            Some(ExitReason::Unreachable)
        } else if c.message_type != MessageType::Operational
            && to.is_some_and(|t| t.consent == crate::domain::delivery::Consent::Withdrawn)
        {
            Some(ExitReason::Unsubscribed)
        } else if still_in.as_ref().is_some_and(|s| !s.contains(&k.id)) {
            Some(ExitReason::LeftAudience)
        } else {
            None
        };
        f.quiet_until = quiet_until(&pol.quiet_periods, utc_offset(k, now), now);
    }
    Ok(facts)
}

/// A message a run passing a send step is due.
struct Due {
    run_id: i64,
    seq: i32,
    contact_id: i64,
    /// Due while the workflow was paused, and the user chose to skip those.
    skip: bool,
}

/// The messages of send step `step` for `runs`, decided as a campaign's are; answers how many
/// were queued.
#[allow(clippy::too_many_arguments)]
async fn enqueue_messages(
    db: &impl ConnectionTrait,
    c: &campaign::Model,
    org: &organisation::Model,
    version: &workflow_version::Model,
    step: &str,
    runs: &[Due],
    contacts: &HashMap<i64, contact::Model>,
    now: DateTime<Utc>,
) -> Result<usize> {
    let send = step_send(db, c, version, step, now).await?;
    let sc = super::campaign_for_send(c, version, &send)?;
    let pol = policy(&sc, org);
    let people: Vec<contact::Model> = runs
        .iter()
        .filter_map(|d| contacts.get(&d.contact_id).map(|k| (k.id, k.clone())))
        .collect::<BTreeMap<i64, contact::Model>>()
        .into_values()
        .collect();
    // `-1`: no send's messages are left out of the organisation's weekly cap.
    let facts: HashMap<i64, _> = people
        .iter()
        .map(|k| k.id)
        .zip(recipients(db, &sc, &pol, &people, -1, now).await?)
        .collect();
    let mut rows = Vec::with_capacity(runs.len());
    for d in runs {
        let (Some(k), Some(to)) = (contacts.get(&d.contact_id), facts.get(&d.contact_id)) else {
            continue;
        };
        let mut m = message::ActiveModel {
            org_id: Set(c.org_id),
            campaign_id: Set(c.id),
            send_id: Set(send.id),
            contact_id: Set(Some(d.contact_id)),
            channel: Set(sc.channel),
            recipient: Set(address(k, sc.channel).unwrap_or_default()),
            state: Set(DeliveryState::Queued),
            attempts: Set(0),
            queued_at: Set(now),
            seed: Set(false),
            run_id: Set(Some(d.run_id)),
            run_seq: Set(Some(d.seq)),
            ..Default::default()
        };
        let decision = if d.skip {
            Decision::Skip(crate::domain::SkipReason::Paused)
        } else {
            decide(&pol, to, now)
        };
        match decision {
            Decision::Send => {}
            Decision::Defer(until) => m.not_before = Set(Some(until)),
            Decision::Skip(reason) => {
                m.state = Set(DeliveryState::Skipped);
                m.skip_reason = Set(Some(reason));
            }
        }
        rows.push(m);
    }
    let mut queued = 0;
    let mut no_address = Vec::new();
    for chunk in rows.chunks(500) {
        // No conflict is ignored: a run's position is one message, and a second would be an
        // error that undoes the whole advance.
        let inserted = message::Entity::insert_many(chunk.to_vec())
            .exec_with_returning(db)
            .await?;
        let events: Vec<_> = inserted
            .iter()
            .map(|m| {
                event(
                    m,
                    m.state,
                    now,
                    m.skip_reason.map(|r| r.as_str().to_owned()),
                )
            })
            .collect();
        crate::delivery::record(db, events).await?;
        queued += inserted
            .iter()
            .filter(|m| m.state == DeliveryState::Queued)
            .count();
        no_address.extend(
            inserted
                .into_iter()
                .filter(|m| m.skip_reason == Some(crate::domain::SkipReason::NoAddress)),
        );
    }
    if !no_address.is_empty() {
        crate::delivery::actions::open(db, &sc, &no_address, now).await?;
    }
    if queued > 0 {
        crate::delivery::deliver_send(db, &sc, &send, now).await?;
    }
    Ok(queued)
}

/// The contact changes of update steps.
async fn apply_changes(
    db: &impl ConnectionTrait,
    org_id: i64,
    changes: &[(i64, ContactChange)],
    now: DateTime<Utc>,
) -> Result<()> {
    for (contact_id, change) in changes {
        match change {
            ContactChange::AddToGroup { group } | ContactChange::RemoveFromGroup { group } => {
                let Some(g) = group_named(
                    db,
                    org_id,
                    group,
                    matches!(change, ContactChange::AddToGroup { .. }),
                    now,
                )
                .await?
                else {
                    continue;
                };
                if matches!(change, ContactChange::AddToGroup { .. }) {
                    contact_group_member::Entity::insert(contact_group_member::ActiveModel {
                        group_id: Set(g),
                        contact_id: Set(*contact_id),
                    })
                    .on_conflict(OnConflict::new().do_nothing().to_owned())
                    .exec_without_returning(db)
                    .await?;
                } else {
                    contact_group_member::Entity::delete_many()
                        .filter(contact_group_member::Column::GroupId.eq(g))
                        .filter(contact_group_member::Column::ContactId.eq(*contact_id))
                        .exec(db)
                        .await?;
                }
            }
            ContactChange::Consent { marketing } => {
                contact::Entity::update_many()
                    .col_expr(contact::Column::MarketingConsent, Expr::value(*marketing))
                    .col_expr(contact::Column::MarketingConsentAt, Expr::value(now))
                    .col_expr(
                        contact::Column::MarketingConsentSource,
                        Expr::value("workflow"),
                    )
                    .col_expr(contact::Column::UpdatedAt, Expr::value(now))
                    .filter(contact::Column::Id.eq(*contact_id))
                    .filter(contact::Column::OrgId.eq(org_id))
                    .exec(db)
                    .await?;
            }
            ContactChange::SetAttribute { name, value } => {
                let Some(k) = contact::Entity::find_by_id(*contact_id)
                    .filter(contact::Column::OrgId.eq(org_id))
                    .one(db)
                    .await?
                else {
                    continue;
                };
                let mut attributes = k.attributes.clone();
                attributes.0.insert(name.trim().to_owned(), value.clone());
                contact::Entity::update_many()
                    .col_expr(contact::Column::Attributes, Expr::value(attributes))
                    .col_expr(contact::Column::UpdatedAt, Expr::value(now))
                    .filter(contact::Column::Id.eq(k.id))
                    .exec(db)
                    .await?;
            }
        }
    }
    Ok(())
}

/// The organisation's group of that name; created when `create` and it does not exist.
async fn group_named(
    db: &impl ConnectionTrait,
    org_id: i64,
    name: &str,
    create: bool,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let find = || {
        contact_group::Entity::find()
            .filter(contact_group::Column::OrgId.eq(org_id))
            .filter(contact_group::Column::Name.eq(name.trim()))
    };
    if let Some(g) = find().one(db).await? {
        return Ok(Some(g.id));
    }
    if !create {
        return Ok(None);
    }
    let g = contact_group::Entity::insert(contact_group::ActiveModel {
        org_id: Set(org_id),
        name: Set(name.trim().to_owned()),
        created_at: Set(now),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(Some(g.last_insert_id))
}

/// The to-dos of action steps: one per run and position.
async fn open_todos(
    db: &impl ConnectionTrait,
    c: &campaign::Model,
    todos: &[(i64, i32, contact::Model, Assignee, String)],
    now: DateTime<Utc>,
) -> Result<()> {
    if todos.is_empty() {
        return Ok(());
    }
    let rows = todos.iter().map(|(run, seq, k, assignee, title)| {
        let owner = match assignee {
            Assignee::AccountManager => k.assigned_user_id.or(c.created_by),
            Assignee::CampaignCreator => c.created_by,
        };
        action::ActiveModel {
            org_id: Set(c.org_id),
            campaign_id: Set(c.id),
            message_id: Set(None),
            contact_id: Set(k.id),
            channel: Set(if k.email.is_some() || k.phone.is_none() {
                Channel::Email
            } else {
                Channel::Sms
            }),
            reason: Set(title.trim().to_owned()),
            owner_id: Set(owner),
            state: Set(ActionState::Todo),
            created_at: Set(now),
            run_id: Set(Some(*run)),
            run_seq: Set(Some(*seq)),
            ..Default::default()
        }
    });
    action::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Reads what `version` needs for a campaign; a run of a version that is gone is an error.
pub(crate) async fn version(db: &impl ConnectionTrait, id: i64) -> Result<workflow_version::Model> {
    workflow_version::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound("workflow version"))
}
