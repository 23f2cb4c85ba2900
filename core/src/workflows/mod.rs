//! Workflows: campaigns that are a series of steps (the workflow itself, its checks and the way
//! a run moves, are plain data and functions in [`crate::domain::workflow`]).
//!
//! - **Versions.** A campaign's `workflow` is the one being edited; [`publish`] checks it and
//!   makes an immutable `workflow_version` (the template version of each send step fixed), and
//!   moves the runs in progress onto it: where a step is gone, as the user chose (another step,
//!   or out with the reason "step removed"). Finished runs keep the version they ran.
//! - **Entry.** The campaign's trigger starts a *send* as for any campaign (the occurrence keeps
//!   an event or a run from entering twice); for a workflow it admits the contacts as runs
//!   ([`entry`]), each contact at most once per key and frequency (one active run per campaign,
//!   contact and key, by a unique index).
//! - **Advancing.** Due runs are advanced by jobs on the one queue ([`Advance`], a shard of the
//!   runs each, claimed with `FOR UPDATE SKIP LOCKED` on PostgreSQL), a batch per transaction:
//!   the new positions, the log, the counters and the messages commit together. A send step's
//!   message is a row of the outbox (the step's long-lived send), unique per run and position,
//!   delivered, decided and counted by the delivery engine as any campaign's.
//! - **Events** wake the runs waiting for them and end the runs whose goal they are, in the
//!   transaction that stores them.
//! - **Numbers** are counters per version and step (`workflow_counter`), kept in the same
//!   transactions; [`report`] reads them.

mod advance;
pub mod entry;
pub mod manage;
pub mod report;

pub use advance::Moved;
pub use entry::{Advance, Enter, Tick};

use crate::domain::campaign::Frequency;
use crate::domain::workflow::{StepKind, Workflow};
use crate::domain::{Channel, ExitReason, RunStatus};
use crate::entity::values::Properties;
use crate::entity::{
    campaign, campaign_send, contact, organisation, workflow_counter, workflow_log, workflow_run,
    workflow_version,
};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QuerySelect, Set,
};
use std::collections::BTreeMap;

/// Runs are advanced in this many shards (run id modulo), each by its own job.
pub const SHARDS: i64 = 4;

/// Runs advanced per transaction.
pub const BATCH: u64 = 500;

/// The campaign as one send step's messages are sent: its channel and template (the version
/// fixed when the workflow was published), every message of a run sent (how often a contact
/// enters is the entry's rule, not the message's), no segment splits.
pub(crate) fn step_campaign(
    c: &campaign::Model,
    channel: Channel,
    template_id: Option<i64>,
    template_version_id: Option<i64>,
) -> campaign::Model {
    let mut sc = c.clone();
    sc.channel = channel;
    sc.template_id = template_id;
    sc.template_version_id = template_version_id;
    sc.settings.frequency = Frequency::EveryTime;
    sc.settings.splits.clear();
    sc.settings.split_versions.clear();
    sc
}

/// The campaign as send `send` (a workflow's send step of `version`) sends.
pub(crate) fn campaign_for_send(
    c: &campaign::Model,
    version: &workflow_version::Model,
    send: &campaign_send::Model,
) -> Result<campaign::Model> {
    let step = send
        .step_id
        .as_deref()
        .and_then(|id| version.definition.step(id))
        .ok_or(Error::NotFound("workflow step"))?;
    let StepKind::Send {
        channel,
        template_id,
        ..
    } = &step.kind
    else {
        return Err(Error::Internal(format!(
            "step {} of workflow version {} sends nothing",
            step.id, version.id
        )));
    };
    Ok(step_campaign(
        c,
        *channel,
        Some(*template_id),
        version.template_versions.0.get(template_id).copied(),
    ))
}

/// What the sender of send `send` sends as: the campaign itself, or for a workflow's send step
/// the campaign as that step sends.
pub(crate) async fn sending_as(
    db: &impl ConnectionTrait,
    c: campaign::Model,
    send: &campaign_send::Model,
) -> Result<campaign::Model> {
    match send.version_id {
        Some(v) if send.step_id.is_some() => {
            let version = advance::version(db, v).await?;
            campaign_for_send(&c, &version, send)
        }
        _ => Ok(c),
    }
}

/// The long-lived send of step `step` of `version`, made the first time a run reaches it.
pub(crate) async fn step_send(
    db: &impl ConnectionTrait,
    c: &campaign::Model,
    version: &workflow_version::Model,
    step: &str,
    now: DateTime<Utc>,
) -> Result<campaign_send::Model> {
    let find = || {
        campaign_send::Entity::find()
            .filter(campaign_send::Column::VersionId.eq(version.id))
            .filter(campaign_send::Column::StepId.eq(step))
    };
    if let Some(s) = find().one(db).await? {
        return Ok(s);
    }
    campaign_send::Entity::insert(campaign_send::ActiveModel {
        org_id: Set(c.org_id),
        campaign_id: Set(c.id),
        started_at: Set(now),
        occurrence: Set(format!("step:{}:{step}", version.id)),
        cursor: Set(0),
        // Its rows are written as runs pass the step, never by a fan-out.
        fanned_out_at: Set(Some(now)),
        shards: Set(crate::delivery::SHARDS as i32),
        targeted: Set(false),
        version_id: Set(Some(version.id)),
        step_id: Set(Some(step.to_owned())),
        ..Default::default()
    })
    .on_conflict(OnConflict::new().do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    find().one(db).await?.ok_or(Error::NotFound("send"))
}

/// Whether an event with `properties` is for the run with key `key` (any event is, when the
/// workflow is not keyed).
pub(crate) fn key_matches(wf: &Workflow, properties: &Properties, key: &str) -> bool {
    match wf.key.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        None => true,
        Some(property) => key_of(properties, property).as_deref() == Some(key),
    }
}

/// An event's key: the property's value as text (a number's digits, a string as it is).
pub(crate) fn key_of(properties: &Properties, property: &str) -> Option<String> {
    match properties.0.get(property)? {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The contact's time zone, else the organisation's.
pub(crate) fn zone_of(k: &contact::Model, org: &organisation::Model) -> chrono_tz::Tz {
    k.time_zone
        .parse()
        .unwrap_or_else(|_| crate::delivery::scheduler::time_zone(org))
}

/// A run's identity, for the log rows it writes.
pub(crate) struct Entry {
    org_id: i64,
    campaign_id: i64,
    run_id: i64,
    version_id: i64,
}

impl Entry {
    pub(crate) fn of(r: &workflow_run::Model) -> Entry {
        Entry {
            org_id: r.org_id,
            campaign_id: r.campaign_id,
            run_id: r.id,
            version_id: r.version_id,
        }
    }

    pub(crate) fn log(
        &self,
        seq: i32,
        step: &str,
        status: RunStatus,
        reason: Option<ExitReason>,
        at: DateTime<Utc>,
        via: Option<i32>,
    ) -> workflow_log::ActiveModel {
        workflow_log::ActiveModel {
            org_id: Set(self.org_id),
            campaign_id: Set(self.campaign_id),
            run_id: Set(self.run_id),
            version_id: Set(self.version_id),
            seq: Set(seq),
            step_id: Set(step.to_owned()),
            status: Set(status),
            exit_reason: Set(reason),
            at: Set(at),
            via: Set(via),
            ..Default::default()
        }
    }
}

/// Changes to a version's counters, added up in memory and written at once (in key order, so
/// that two transactions never wait for each other's rows the other way round).
#[derive(Default)]
pub(crate) struct Counts(BTreeMap<(String, String), i64>);

impl Counts {
    pub(crate) fn add(&mut self, step: &str, name: &str, n: i64) {
        *self
            .0
            .entry((step.to_owned(), name.to_owned()))
            .or_default() += n;
    }

    /// A run arrived at `step`.
    pub(crate) fn arrive(&mut self, step: &str) {
        self.add(step, "entered", 1);
        self.add(step, "here", 1);
    }

    pub(crate) async fn write(
        self,
        db: &impl ConnectionTrait,
        c: &campaign::Model,
        version_id: i64,
    ) -> Result<()> {
        use workflow_counter::Column as W;
        for ((step, name), n) in self.0 {
            if n == 0 {
                continue;
            }
            workflow_counter::Entity::insert(workflow_counter::ActiveModel {
                campaign_id: Set(c.id),
                version_id: Set(version_id),
                step_id: Set(step),
                name: Set(name),
                org_id: Set(c.org_id),
                n: Set(n),
            })
            .on_conflict(
                OnConflict::columns([W::CampaignId, W::VersionId, W::StepId, W::Name])
                    .value(W::N, Expr::col((workflow_counter::Entity, W::N)).add(n))
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        }
        Ok(())
    }
}

/// What claimed messages of a workflow's send step render with beyond the contact: their
/// runs' contexts (an event's, a record's fields), by message.
pub(crate) async fn contexts(
    db: &impl ConnectionTrait,
    claimed: &[(crate::entity::message::Model, Option<contact::Model>)],
) -> Result<std::collections::HashMap<i64, serde_json::Value>> {
    let runs: std::collections::HashMap<i64, i64> = claimed
        .iter()
        .filter_map(|(m, _)| Some((m.run_id?, m.id)))
        .collect();
    if runs.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(i64, Option<String>)> = workflow_run::Entity::find()
        .select_only()
        .column(workflow_run::Column::Id)
        .column(workflow_run::Column::Context)
        .filter(workflow_run::Column::Id.is_in(runs.keys().copied()))
        .filter(workflow_run::Column::Context.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(run, context)| {
            Some((
                *runs.get(&run)?,
                serde_json::from_str(context.as_deref()?).ok()?,
            ))
        })
        .collect())
}
