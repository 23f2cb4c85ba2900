//! Editing and publishing a campaign's workflow, and ending runs by hand.

use super::entry::end_run;
use super::{Counts, Entry};
use crate::domain::access::{Action, Actor};
use crate::domain::workflow::{Changes, Removal, StepKind, Workflow, changes, unresolved_removals};
use crate::domain::{ExitReason, RunStatus};
use crate::entity::workflow_version::TemplateVersions;
use crate::entity::{campaign, template, workflow_log, workflow_run, workflow_version};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, ExprTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use std::collections::{BTreeMap, BTreeSet};

/// A campaign's workflow, most steps and templates long: a bound on what one request stores.
pub const MAX_STEPS: usize = 200;

async fn campaign_of(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> Result<campaign::Model> {
    campaign::Entity::find_by_id(id)
        .filter(campaign::Column::OrgId.eq(actor.org_id()))
        .one(db)
        .await?
        .ok_or(Error::NotFound("campaign"))
}

/// A workflow campaign of the actor's organisation (a one-message campaign is not one).
pub async fn campaign(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> Result<campaign::Model> {
    actor.require(Action::ReadCampaigns)?;
    let c = campaign_of(db, actor, id).await?;
    if c.workflow.is_none() && c.workflow_version_id.is_none() {
        return Err(Error::NotFound("workflow"));
    }
    Ok(c)
}

/// The number of version `id` (1, 2, …).
pub async fn version_number(db: &impl ConnectionTrait, id: i64) -> Result<Option<i32>> {
    Ok(workflow_version::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|v| v.version))
}

/// The organisation's (non-system) template names, by id, for the templates `wf` sends.
pub(crate) async fn template_names(
    db: &impl ConnectionTrait,
    org_id: i64,
    wf: &Workflow,
) -> Result<BTreeMap<i64, String>> {
    let ids: BTreeSet<i64> = wf
        .steps
        .iter()
        .filter_map(|s| match s.kind {
            StepKind::Send { template_id, .. } => Some(template_id),
            _ => None,
        })
        .collect();
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    Ok(template::Entity::find()
        .select_only()
        .column(template::Column::Id)
        .column(template::Column::Name)
        .filter(template::Column::OrgId.eq(org_id))
        .filter(template::Column::IsSystem.eq(false))
        .filter(template::Column::Id.is_in(ids))
        .into_tuple::<(i64, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// Everything that keeps `wf` from being published, in words.
pub async fn problems(
    db: &impl ConnectionTrait,
    org_id: i64,
    wf: &Workflow,
) -> Result<Vec<String>> {
    let mut out: Vec<String> = wf.problems().iter().map(|p| p.message()).collect();
    if wf.steps.len() > MAX_STEPS {
        out.push(format!("A workflow has at most {MAX_STEPS} steps."));
    }
    let names = template_names(db, org_id, wf).await?;
    for s in &wf.steps {
        if let StepKind::Send { template_id, .. } = s.kind
            && !names.contains_key(&template_id)
        {
            out.push(format!(
                "Step “{}” sends template #{template_id}, which is not one of the organisation's templates.",
                s.id
            ));
        }
    }
    if wf.goal.as_deref().is_some_and(|g| g.trim().is_empty()) {
        out.push("Name the goal event, or remove the goal.".into());
    }
    Ok(out)
}

/// Stores `wf` as the campaign's workflow being edited (what runs enter changes only when it
/// is published). Answers what keeps it from being published.
pub async fn save(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    wf: Workflow,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    actor.require(Action::EditCampaigns)?;
    let c = campaign_of(db, actor, id).await?;
    if wf.steps.len() > MAX_STEPS {
        return Err(Error::Invalid(format!(
            "A workflow has at most {MAX_STEPS} steps."
        )));
    }
    let found = problems(db, c.org_id, &wf).await?;
    campaign::Entity::update_many()
        .col_expr(campaign::Column::Workflow, Expr::value(Some(wf)))
        .col_expr(campaign::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            campaign::Column::Revision,
            Expr::col(campaign::Column::Revision).add(1),
        )
        .filter(campaign::Column::Id.eq(c.id))
        .exec(db)
        .await?;
    Ok(found)
}

/// What publishing the workflow being edited would change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Preview {
    pub problems: Vec<String>,
    pub changes: Changes,
    /// Removed steps where runs are now, with how many: each needs a choice.
    pub waiting_at_removed: Vec<(String, u64)>,
    /// The version it would be.
    pub version: i32,
}

pub async fn preview(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> Result<Preview> {
    actor.require(Action::ReadCampaigns)?;
    let c = campaign_of(db, actor, id).await?;
    preview_of(db, &c).await
}

async fn preview_of(db: &impl ConnectionTrait, c: &campaign::Model) -> Result<Preview> {
    let Some(wf) = &c.workflow else {
        return Err(Error::Invalid("The campaign has no workflow.".into()));
    };
    let live = match c.workflow_version_id {
        Some(v) => workflow_version::Entity::find_by_id(v).one(db).await?,
        None => None,
    };
    let changes = match &live {
        Some(l) => changes(&l.definition, wf),
        None => Changes {
            added: wf.steps.iter().map(|s| s.id.clone()).collect(),
            ..Changes::default()
        },
    };
    let waiting_at_removed: Vec<(String, u64)> = if changes.removed.is_empty() {
        Vec::new()
    } else {
        workflow_run::Entity::find()
            .select_only()
            .column(workflow_run::Column::StepId)
            .column_as(Expr::col(workflow_run::Column::Id).count(), "n")
            .filter(workflow_run::Column::CampaignId.eq(c.id))
            .filter(workflow_run::Column::Status.eq(RunStatus::Active))
            .filter(workflow_run::Column::StepId.is_in(changes.removed.clone()))
            .group_by(workflow_run::Column::StepId)
            .into_tuple::<(String, i64)>()
            .all(db)
            .await?
            .into_iter()
            .map(|(s, n)| (s, Ord::max(n, 0) as u64))
            .collect()
    };
    Ok(Preview {
        problems: problems(db, c.org_id, wf).await?,
        changes,
        waiting_at_removed,
        version: next_version(db, c.id).await?,
    })
}

async fn next_version(db: &impl ConnectionTrait, campaign_id: i64) -> Result<i32> {
    let last = workflow_version::Entity::find()
        .filter(workflow_version::Column::CampaignId.eq(campaign_id))
        .order_by_desc(workflow_version::Column::Version)
        .one(db)
        .await?;
    Ok(last.map_or(1, |v| v.version + 1))
}

/// Publishes the workflow being edited as a new version: runs in progress go on by it, those at
/// removed steps as `choices` say. Answers the version's number.
pub async fn publish(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    choices: &BTreeMap<String, Removal>,
    now: DateTime<Utc>,
) -> Result<i32> {
    actor.require(Action::ActivateCampaigns)?;
    let txn = crate::db::begin_write(db).await?;
    let c = campaign_of(&txn, actor, id).await?;
    let v = publish_in(&txn, &c, actor.user_id(), choices, now).await?;
    txn.commit().await?;
    Ok(v)
}

/// [`publish`] in the caller's transaction (activation publishes the first version).
pub(crate) async fn publish_in(
    db: &impl ConnectionTrait,
    c: &campaign::Model,
    by: Option<i64>,
    choices: &BTreeMap<String, Removal>,
    now: DateTime<Utc>,
) -> Result<i32> {
    let p = preview_of(db, c).await?;
    if !p.problems.is_empty() {
        return Err(Error::Invalid(p.problems.join(" ")));
    }
    let wf = c.workflow.clone().expect("preview_of checked");
    let removed_with_runs: Vec<String> = p
        .waiting_at_removed
        .iter()
        .map(|(s, _)| s.clone())
        .collect();
    let open = unresolved_removals(&wf, &removed_with_runs, choices);
    if !open.is_empty() {
        return Err(Error::Invalid(format!(
            "Choose what happens to the people at {}: move them to a step of the new version, or let them exit.",
            open.iter()
                .map(|s| format!("“{s}”"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let mut versions = BTreeMap::new();
    for s in &wf.steps {
        if let StepKind::Send { template_id, .. } = s.kind
            && let std::collections::btree_map::Entry::Vacant(e) = versions.entry(template_id)
        {
            e.insert(crate::templates::current_version(db, c.org_id, template_id).await?);
        }
    }
    let inserted = workflow_version::Entity::insert(workflow_version::ActiveModel {
        org_id: Set(c.org_id),
        campaign_id: Set(c.id),
        version: Set(p.version),
        definition: Set(wf.clone()),
        template_versions: Set(TemplateVersions(versions)),
        published_at: Set(now),
        published_by: Set(by),
        ..Default::default()
    })
    .exec(db)
    .await?;
    let new_id = inserted.last_insert_id;
    campaign::Entity::update_many()
        .col_expr(
            campaign::Column::WorkflowVersionId,
            Expr::value(Some(new_id)),
        )
        .col_expr(campaign::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            campaign::Column::Revision,
            Expr::col(campaign::Column::Revision).add(1),
        )
        .filter(campaign::Column::Id.eq(c.id))
        .exec(db)
        .await?;
    move_runs(db, c, &wf, new_id, choices, now).await?;
    Ok(p.version)
}

/// The runs in progress go on by version `new_id`: those at a removed step move or exit as
/// chosen; the others stay where they are. Their "here" counts move with them.
async fn move_runs(
    db: &impl ConnectionTrait,
    c: &campaign::Model,
    wf: &Workflow,
    new_id: i64,
    choices: &BTreeMap<String, Removal>,
    now: DateTime<Utc>,
) -> Result<()> {
    let runs = workflow_run::Entity::find()
        .filter(workflow_run::Column::CampaignId.eq(c.id))
        .filter(workflow_run::Column::Status.eq(RunStatus::Active))
        .filter(workflow_run::Column::VersionId.ne(new_id))
        .all(db)
        .await?;
    let mut old: BTreeMap<i64, Counts> = BTreeMap::new();
    let mut new = Counts::default();
    let mut log = Vec::new();
    for r in runs {
        if wf.step(&r.step_id).is_none() {
            match choices.get(&r.step_id) {
                Some(Removal::MoveTo { step }) => {
                    let done = workflow_run::Entity::update_many()
                        .col_expr(workflow_run::Column::VersionId, Expr::value(new_id))
                        .col_expr(workflow_run::Column::StepId, Expr::value(step.clone()))
                        .col_expr(workflow_run::Column::Seq, Expr::value(r.seq + 1))
                        .col_expr(workflow_run::Column::ArrivedAt, Expr::value(now))
                        .col_expr(workflow_run::Column::WakeAt, Expr::value(now))
                        .filter(workflow_run::Column::Id.eq(r.id))
                        .filter(workflow_run::Column::Seq.eq(r.seq))
                        .filter(workflow_run::Column::Status.eq(RunStatus::Active))
                        .exec(db)
                        .await?;
                    if done.rows_affected == 1 {
                        let o = old.entry(r.version_id).or_default();
                        o.add(&r.step_id, "here", -1);
                        o.add(&r.step_id, "moved", 1);
                        o.add("", "active", -1);
                        new.arrive(step);
                        new.add("", "active", 1);
                        let mut moved = r.clone();
                        moved.version_id = new_id;
                        log.push(Entry::of(&moved).log(
                            r.seq + 1,
                            step,
                            RunStatus::Active,
                            None,
                            now,
                            None,
                        ));
                    }
                }
                _ => {
                    end_run(db, &r, ExitReason::StepRemoved, now).await?;
                }
            }
            continue;
        }
        let done = workflow_run::Entity::update_many()
            .col_expr(workflow_run::Column::VersionId, Expr::value(new_id))
            .filter(workflow_run::Column::Id.eq(r.id))
            .filter(workflow_run::Column::Seq.eq(r.seq))
            .filter(workflow_run::Column::Status.eq(RunStatus::Active))
            .exec(db)
            .await?;
        if done.rows_affected == 1 {
            let o = old.entry(r.version_id).or_default();
            o.add(&r.step_id, "here", -1);
            o.add("", "active", -1);
            new.add(&r.step_id, "here", 1);
            new.add("", "active", 1);
        }
    }
    for (v, counts) in old {
        counts.write(db, c, v).await?;
    }
    new.write(db, c, new_id).await?;
    for chunk in log.chunks(500) {
        workflow_log::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Ends the contact's run in the campaign (the one with `key`, "" when not keyed), by hand.
/// Answers whether there was one in progress.
pub async fn exit_run(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    contact_id: i64,
    key: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    actor.require(Action::ActivateCampaigns)?;
    let c = campaign_of(db, actor, id).await?;
    let txn = crate::db::begin_write(db).await?;
    let Some(r) = workflow_run::Entity::find()
        .filter(workflow_run::Column::CampaignId.eq(c.id))
        .filter(workflow_run::Column::ContactId.eq(contact_id))
        .filter(workflow_run::Column::RunKey.eq(key))
        .filter(workflow_run::Column::Status.eq(RunStatus::Active))
        .one(&txn)
        .await?
    else {
        return Ok(false);
    };
    if let Some(user) = actor.assigned_to() {
        // An account manager ends only their own contacts' runs.
        let k = crate::entity::contact::Entity::find_by_id(contact_id)
            .one(&txn)
            .await?;
        if k.and_then(|k| k.assigned_user_id) != Some(user) {
            return Err(Error::NotFound("contact"));
        }
    }
    let ended = end_run(&txn, &r, ExitReason::Stopped, now).await?;
    txn.commit().await?;
    Ok(ended)
}

/// What happens, on resuming a paused workflow, to the messages that fell due while it was
/// paused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overdue {
    /// They go now.
    Send,
    /// They are skipped (reason "paused"); the runs go on to their next steps.
    Skip,
}

/// Resumes a paused (deactivated) workflow campaign; runs frozen in place go on, the messages
/// due meanwhile sent or skipped as `overdue` says.
pub async fn resume(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    overdue: Overdue,
    now: DateTime<Utc>,
) -> Result<()> {
    actor.require(Action::ActivateCampaigns)?;
    let c = campaign_of(db, actor, id).await?;
    if c.workflow_version_id.is_none() {
        return Err(Error::Invalid(
            "The campaign has no published workflow.".into(),
        ));
    }
    if overdue == Overdue::Send {
        return crate::campaigns::builder::activate(db, actor, id, now).await;
    }
    // Marked first (a run that moves on the moment the campaign is active must already know),
    // and unmarked if the campaign does not resume.
    let txn = crate::db::begin_write(db).await?;
    workflow_run::Entity::update_many()
        .col_expr(workflow_run::Column::SkipSends, Expr::value(true))
        .filter(workflow_run::Column::CampaignId.eq(c.id))
        .filter(workflow_run::Column::Status.eq(RunStatus::Active))
        .filter(workflow_run::Column::WakeAt.lte(now))
        .exec(&txn)
        .await?;
    let waiting = crate::entity::message::Entity::find()
        .filter(crate::entity::message::Column::CampaignId.eq(c.id))
        .filter(crate::entity::message::Column::RunId.is_not_null())
        .filter(crate::entity::message::Column::State.eq(crate::domain::DeliveryState::Queued))
        .all(&txn)
        .await?;
    for chunk in waiting.chunks(500) {
        crate::entity::message::Entity::update_many()
            .col_expr(
                crate::entity::message::Column::State,
                Expr::value(crate::domain::DeliveryState::Skipped),
            )
            .col_expr(
                crate::entity::message::Column::SkipReason,
                Expr::value(Some(crate::domain::SkipReason::Paused)),
            )
            .filter(crate::entity::message::Column::Id.is_in(chunk.iter().map(|m| m.id)))
            .filter(crate::entity::message::Column::State.eq(crate::domain::DeliveryState::Queued))
            .exec(&txn)
            .await?;
        crate::delivery::record(
            &txn,
            chunk
                .iter()
                .map(|m| {
                    crate::delivery::event(
                        m,
                        crate::domain::DeliveryState::Skipped,
                        now,
                        Some(crate::domain::SkipReason::Paused.as_str().into()),
                    )
                })
                .collect(),
        )
        .await?;
    }
    txn.commit().await?;
    if let Err(e) = crate::campaigns::builder::activate(db, actor, id, now).await {
        workflow_run::Entity::update_many()
            .col_expr(workflow_run::Column::SkipSends, Expr::value(false))
            .filter(workflow_run::Column::CampaignId.eq(c.id))
            .exec(db)
            .await?;
        return Err(e);
    }
    Ok(())
}
