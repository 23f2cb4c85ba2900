//! A workflow's numbers (from its counters, never by counting log rows), who is at a step now,
//! and the runs a contact is in.

use crate::domain::DeliveryStats;
use crate::domain::access::{Action, Actor};
use crate::domain::workflow::Workflow;
use crate::domain::workflow::report::{Counters, VersionInfo, WorkflowReport, build};
use crate::domain::{ExitReason, RunStatus};
use crate::entity::{
    campaign, campaign_send, contact, workflow_counter, workflow_run, workflow_version,
};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A workflow campaign of the actor's organisation (a one-message campaign is not found).
async fn campaign_of(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> Result<campaign::Model> {
    super::manage::campaign(db, actor, id).await
}

/// The workflow's numbers: of version `version` (its id), or of all versions together, shown
/// with the steps of the version reported (the live one for all).
pub async fn report(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    version: Option<i64>,
) -> Result<WorkflowReport> {
    let c = campaign_of(db, actor, id).await?;
    let versions = workflow_version::Entity::find()
        .filter(workflow_version::Column::CampaignId.eq(c.id))
        .order_by_desc(workflow_version::Column::Version)
        .all(db)
        .await?;
    let shown: Option<&workflow_version::Model> = match version {
        Some(v) => Some(
            versions
                .iter()
                .find(|x| x.id == v)
                .ok_or(Error::NotFound("workflow version"))?,
        ),
        None => versions
            .iter()
            .find(|x| Some(x.id) == c.workflow_version_id)
            .or(versions.first()),
    };
    let wf: Workflow = match (shown, &c.workflow) {
        (Some(v), _) => v.definition.clone(),
        (None, Some(draft)) => draft.clone(),
        (None, None) => return Err(Error::NotFound("workflow")),
    };
    let mut q =
        workflow_counter::Entity::find().filter(workflow_counter::Column::CampaignId.eq(c.id));
    if let Some(v) = version {
        q = q.filter(workflow_counter::Column::VersionId.eq(v));
    }
    let mut counters: BTreeMap<String, Counters> = BTreeMap::new();
    for row in q.all(db).await? {
        *counters
            .entry(row.step_id)
            .or_default()
            .entry(row.name)
            .or_default() += row.n;
    }
    let mut sends = campaign_send::Entity::find()
        .filter(campaign_send::Column::CampaignId.eq(c.id))
        .filter(campaign_send::Column::StepId.is_not_null());
    if let Some(v) = version {
        sends = sends.filter(campaign_send::Column::VersionId.eq(v));
    }
    let sends = sends.all(db).await?;
    let ids: Vec<i64> = sends.iter().map(|s| s.id).collect();
    let stats = crate::reports::send_stats_of(db, &ids).await?;
    let mut messages: BTreeMap<String, DeliveryStats> = BTreeMap::new();
    for s in &sends {
        let e = messages
            .entry(s.step_id.clone().unwrap_or_default())
            .or_default();
        *e = e.plus(stats.get(&s.id).copied().unwrap_or_default());
    }
    let names = super::manage::template_names(db, c.org_id, &wf).await?;
    let describe =
        |s: &crate::domain::workflow::Step| wf.describe(s, &|id| names.get(&id).cloned());
    let (whole, steps) = build(&wf, &counters, &messages, &describe);
    Ok(WorkflowReport {
        versions: versions
            .iter()
            .map(|v| VersionInfo {
                id: v.id,
                version: v.version,
                published_at: v.published_at,
            })
            .collect(),
        version,
        whole,
        steps,
    })
}

/// A run at a step now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingRun {
    pub run_id: i64,
    pub contact_id: i64,
    pub name: String,
    pub email: Option<String>,
    pub key: String,
    pub arrived_at: DateTime<Utc>,
    /// When it goes on (its wait ends), if it is waiting for a time.
    pub wake_at: Option<DateTime<Utc>>,
}

/// How many runs are at step `step` now, and the first `limit` of them (longest there first):
/// the contacts an account manager may see only, for one.
pub async fn runs_at(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    step: &str,
    limit: u64,
) -> Result<(u64, Vec<WaitingRun>)> {
    let c = campaign_of(db, actor, id).await?;
    let mut q = workflow_run::Entity::find()
        .filter(workflow_run::Column::CampaignId.eq(c.id))
        .filter(workflow_run::Column::StepId.eq(step))
        .filter(workflow_run::Column::Status.eq(RunStatus::Active));
    if let Some(user) = actor.assigned_to() {
        q = q.filter(
            workflow_run::Column::ContactId.in_subquery(
                Query::select()
                    .column(contact::Column::Id)
                    .from(contact::Entity)
                    .and_where(contact::Column::OrgId.eq(c.org_id))
                    .and_where(contact::Column::AssignedUserId.eq(user))
                    .to_owned(),
            ),
        );
    }
    let total = q.clone().count(db).await?;
    let runs = q
        .order_by_asc(workflow_run::Column::ArrivedAt)
        .order_by_asc(workflow_run::Column::Id)
        .limit(limit.min(500))
        .all(db)
        .await?;
    let contacts: BTreeMap<i64, contact::Model> = contact::Entity::find()
        .filter(contact::Column::OrgId.eq(c.org_id))
        .filter(contact::Column::Id.is_in(runs.iter().map(|r| r.contact_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|k| (k.id, k))
        .collect();
    Ok((
        total,
        runs.into_iter()
            .map(|r| {
                let k = contacts.get(&r.contact_id);
                WaitingRun {
                    run_id: r.id,
                    contact_id: r.contact_id,
                    name: k.map(|k| k.display_name()).unwrap_or_default(),
                    email: k.and_then(|k| k.email.clone()),
                    key: r.run_key,
                    arrived_at: r.arrived_at,
                    wake_at: r.wake_at,
                }
            })
            .collect(),
    ))
}

/// A run a contact is (or was) in, for their timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRun {
    pub run_id: i64,
    pub campaign_id: i64,
    pub campaign_name: String,
    pub key: String,
    pub status: RunStatus,
    pub exit_reason: Option<ExitReason>,
    /// Where it is (or ended), in words.
    pub step: String,
    pub entered_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub wake_at: Option<DateTime<Utc>>,
}

/// The runs contact `contact_id` is or was in, newest first (at most 50).
pub async fn of_contact(
    db: &impl ConnectionTrait,
    actor: &Actor,
    contact_id: i64,
) -> Result<Vec<ContactRun>> {
    actor.require(Action::ReadCampaigns)?;
    let runs = workflow_run::Entity::find()
        .filter(workflow_run::Column::OrgId.eq(actor.org_id()))
        .filter(workflow_run::Column::ContactId.eq(contact_id))
        .order_by_desc(workflow_run::Column::EnteredAt)
        .order_by_desc(workflow_run::Column::Id)
        .limit(50)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(runs.len());
    let mut versions: BTreeMap<i64, workflow_version::Model> = BTreeMap::new();
    let mut campaigns: BTreeMap<i64, String> = BTreeMap::new();
    for r in runs {
        if let std::collections::btree_map::Entry::Vacant(e) = versions.entry(r.version_id) {
            e.insert(super::advance::version(db, r.version_id).await?);
        }
        if let std::collections::btree_map::Entry::Vacant(e) = campaigns.entry(r.campaign_id) {
            let name = campaign::Entity::find_by_id(r.campaign_id)
                .one(db)
                .await?
                .and_then(|c| c.name)
                .unwrap_or_else(|| "Untitled".into());
            e.insert(name);
        }
        let wf = &versions[&r.version_id].definition;
        let names = super::manage::template_names(db, actor.org_id(), wf).await?;
        let step = wf
            .step(&r.step_id)
            .map(|s| wf.describe(s, &|id| names.get(&id).cloned()))
            .unwrap_or_else(|| format!("step “{}”", r.step_id));
        out.push(ContactRun {
            run_id: r.id,
            campaign_id: r.campaign_id,
            campaign_name: campaigns[&r.campaign_id].clone(),
            key: r.run_key,
            status: r.status,
            exit_reason: r.exit_reason,
            step,
            entered_at: r.entered_at,
            ended_at: r.ended_at,
            wake_at: r.wake_at,
        });
    }
    Ok(out)
}
