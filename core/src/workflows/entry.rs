//! Runs enter, wake and end: a trigger's occurrence admits contacts ([`enter`], or the
//! [`Enter`] job for a whole audience), [`Tick`] and [`Advance`] move the due runs on, and
//! [`on_events`] wakes the runs an event is for and ends those whose goal it is.

use super::advance::{advance_runs, version};
use super::{BATCH, Counts, Entry, SHARDS, key_matches};
use crate::audience::Scope;
use crate::delivery::{Targets, find_org};
use crate::domain::campaign::Frequency;
use crate::domain::workflow::StepKind;
use crate::domain::{CampaignStatus, ExitReason, RunStatus};
use crate::entity::{campaign, campaign_send, workflow_run, workflow_version};
use crate::jobs::{Job, JobContext, Step};
use crate::{Error, Result};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, LockBehavior, LockType, OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Targeted entries this small are admitted (and advanced) in the caller's transaction, so an
/// event's first message is queued the moment the event is stored.
const INLINE: usize = 20;

/// Someone a trigger admits: the contact, the entry's key ("" when not keyed) and what the
/// run's messages render with beyond the contact (JSON).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entrant {
    pub contact_id: i64,
    pub key: String,
    pub context: Option<String>,
}

/// Starts occurrence `occurrence` of workflow campaign `c` for `targets`, in the caller's
/// transaction: as [`crate::delivery::start_send`] for a one-message campaign, answers the
/// send (the occurrence) or `None` when it was already started.
pub(crate) async fn enter(
    db: &impl ConnectionTrait,
    c: &campaign::Model,
    occurrence: &str,
    targets: Targets,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let entrants = match targets {
        Targets::Audience => None,
        Targets::Contacts(ids) => Some(
            ids.into_iter()
                .map(|contact_id| Entrant {
                    contact_id,
                    key: String::new(),
                    context: None,
                })
                .collect(),
        ),
        Targets::Records(records) => Some(
            records
                .into_iter()
                .map(|(contact_id, r)| Entrant {
                    contact_id,
                    key: String::new(),
                    context: Some(serde_json::json!({ "record": r }).to_string()),
                })
                .collect(),
        ),
    };
    enter_as(db, c, occurrence, entrants, now).await
}

/// [`enter`] with each entrant's key: `None` admits the campaign's whole audience (by a job).
pub(crate) async fn enter_as(
    db: &impl ConnectionTrait,
    c: &campaign::Model,
    occurrence: &str,
    entrants: Option<Vec<Entrant>>,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let version_id = c
        .workflow_version_id
        .ok_or_else(|| Error::Internal(format!("campaign {} has no workflow", c.id)))?;
    let inline = entrants.as_ref().is_some_and(|e| e.len() <= INLINE);
    let inserted = campaign_send::Entity::insert(campaign_send::ActiveModel {
        org_id: Set(c.org_id),
        campaign_id: Set(c.id),
        started_at: Set(now),
        occurrence: Set(occurrence.to_owned()),
        cursor: Set(0),
        shards: Set(1),
        targeted: Set(entrants.is_some()),
        version_id: Set(Some(version_id)),
        fanned_out_at: Set(inline.then_some(now)),
        completed_at: Set(inline.then_some(now)),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([
        campaign_send::Column::CampaignId,
        campaign_send::Column::Occurrence,
    ])
    .exec(db)
    .await?;
    let sea_orm::TryInsertResult::Inserted(done) = inserted else {
        return Ok(None);
    };
    let send_id = done.last_insert_id;
    match entrants {
        Some(list) if inline => {
            let v = version(db, version_id).await?;
            admit(db, c, &v, list, now).await?;
        }
        Some(list) => {
            // Many at once (a segment's entrants, a day's record dates): kept as the send's
            // targets, admitted a page at a time by the job.
            for chunk in list.chunks(1000) {
                crate::entity::send_target::Entity::insert_many(chunk.iter().map(|e| {
                    crate::entity::send_target::ActiveModel {
                        send_id: Set(send_id),
                        contact_id: Set(e.contact_id),
                        context: Set(e.context.clone()),
                    }
                }))
                .on_conflict(OnConflict::new().do_nothing().to_owned())
                .exec_without_returning(db)
                .await?;
            }
            enqueue_enter(db, c, send_id, now).await?;
        }
        None => enqueue_enter(db, c, send_id, now).await?,
    }
    Ok(Some(send_id))
}

async fn enqueue_enter(
    db: &impl ConnectionTrait,
    c: &campaign::Model,
    send_id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    crate::jobs::enqueue(
        db,
        now,
        &Enter {
            org_id: c.org_id,
            send_id,
        },
    )
    .await?;
    Ok(())
}

/// Admits `entrants` into `version` of `c` (those in its audience, as its frequency allows)
/// and advances them at once. Answers how many entered.
pub(crate) async fn admit(
    db: &impl ConnectionTrait,
    c: &campaign::Model,
    version: &workflow_version::Model,
    entrants: Vec<Entrant>,
    now: DateTime<Utc>,
) -> Result<usize> {
    if entrants.is_empty() {
        return Ok(0);
    }
    let scope = Scope {
        org_id: c.org_id,
        assigned_to: None,
    };
    let ids: Vec<i64> = entrants.iter().map(|e| e.contact_id).collect();
    let audience = crate::audience::ids_among(db, scope, &c.audience, now, &ids).await?;
    // Earlier runs of these contacts, for the frequency.
    let earlier: Vec<(i64, String, RunStatus, DateTime<Utc>)> = workflow_run::Entity::find()
        .select_only()
        .column(workflow_run::Column::ContactId)
        .column(workflow_run::Column::RunKey)
        .column(workflow_run::Column::Status)
        .column(workflow_run::Column::EnteredAt)
        .filter(workflow_run::Column::CampaignId.eq(c.id))
        .filter(workflow_run::Column::ContactId.is_in(audience.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    let mut last: HashMap<(i64, &str), (bool, DateTime<Utc>)> = HashMap::new();
    for (contact, key, status, at) in &earlier {
        let e = last.entry((*contact, key.as_str())).or_insert((false, *at));
        e.0 |= *status == RunStatus::Active;
        e.1 = e.1.max(*at);
    }
    let mut seen = HashSet::new();
    let admitted: Vec<&Entrant> = entrants
        .iter()
        .filter(|e| audience.contains(&e.contact_id))
        .filter(|e| seen.insert((e.contact_id, e.key.clone())))
        .filter(|e| match last.get(&(e.contact_id, e.key.as_str())) {
            None => true,
            // One run at a time per contact and key.
            Some((true, _)) => false,
            Some((false, at)) => match c.settings.frequency {
                Frequency::Once => false,
                Frequency::EveryTime => true,
                Frequency::AtMostEvery { days } => *at + Duration::days(i64::from(days)) <= now,
            },
        })
        .collect();
    if admitted.is_empty() {
        return Ok(0);
    }
    let entry = version.definition.entry.clone();
    let mut runs = Vec::with_capacity(admitted.len());
    for chunk in admitted.chunks(500) {
        let rows = chunk.iter().map(|e| workflow_run::ActiveModel {
            org_id: Set(c.org_id),
            campaign_id: Set(c.id),
            version_id: Set(version.id),
            contact_id: Set(e.contact_id),
            run_key: Set(e.key.clone()),
            step_id: Set(entry.clone()),
            seq: Set(1),
            arrived_at: Set(now),
            wake_at: Set(Some(now)),
            status: Set(RunStatus::Active),
            entered_at: Set(now),
            attempts: Set(0),
            context: Set(e.context.clone()),
            ..Default::default()
        });
        runs.extend(
            workflow_run::Entity::insert_many(rows)
                .exec_with_returning(db)
                .await?,
        );
    }
    let mut counts = Counts::default();
    counts.add("", "entered", runs.len() as i64);
    counts.add("", "active", runs.len() as i64);
    for _ in &runs {
        counts.arrive(&entry);
    }
    let log: Vec<_> = runs
        .iter()
        .map(|r| Entry::of(r).log(1, &entry, RunStatus::Active, None, now, None))
        .collect();
    for chunk in log.chunks(500) {
        crate::entity::workflow_log::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    counts.write(db, c, version.id).await?;
    let n = runs.len();
    if c.status == CampaignStatus::Active {
        let org = find_org(db, c.org_id).await?;
        advance_runs(db, c, &org, version, runs, now).await?;
    }
    Ok(n)
}

/// Admits a whole audience (or a large targeted entry), a page per transaction.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Enter {
    pub org_id: i64,
    pub send_id: i64,
}

impl Job for Enter {
    const KIND: &'static str = "workflow.enter";
    const PRIORITY: i32 = 10;
    const MAX_ATTEMPTS: i32 = 10;

    fn org_id(&self) -> Option<i64> {
        Some(self.org_id)
    }

    fn dedup_key(&self) -> Option<String> {
        Some(self.send_id.to_string())
    }

    async fn run(&self, ctx: &JobContext) -> Result<Step> {
        loop {
            if ctx.stopping() {
                return Ok(Step::Yield);
            }
            if !enter_page(ctx, self.send_id).await? {
                return Ok(Step::Done);
            }
        }
    }
}

/// Admits the next page of the occurrence's contacts; `false` when all are in.
async fn enter_page(ctx: &JobContext, send_id: i64) -> Result<bool> {
    let db = ctx.db();
    let now = ctx.now();
    let Some(send) = campaign_send::Entity::find_by_id(send_id).one(db).await? else {
        return Ok(false);
    };
    if send.fanned_out_at.is_some() {
        return Ok(false);
    }
    let c = campaign::Entity::find_by_id(send.campaign_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound("campaign"))?;
    let v = version(db, send.version_id.unwrap_or_default()).await?;
    let scope = Scope {
        org_id: c.org_id,
        assigned_to: None,
    };
    let targets = send.targeted.then_some(send.id);
    let page = BATCH;
    let contacts =
        crate::audience::page(db, scope, &c.audience, now, send.cursor, page, targets).await?;
    let contexts: HashMap<i64, Option<String>> = if send.targeted && !contacts.is_empty() {
        crate::entity::send_target::Entity::find()
            .filter(crate::entity::send_target::Column::SendId.eq(send.id))
            .filter(
                crate::entity::send_target::Column::ContactId.is_in(contacts.iter().map(|k| k.id)),
            )
            .all(db)
            .await?
            .into_iter()
            .map(|t| (t.contact_id, t.context))
            .collect()
    } else {
        HashMap::new()
    };
    let txn = crate::db::begin_write(db).await?;
    ctx.fence(&txn).await?;
    let Some(last) = contacts.last().map(|k| k.id) else {
        campaign_send::Entity::update_many()
            .col_expr(campaign_send::Column::FannedOutAt, Expr::value(now))
            .col_expr(campaign_send::Column::CompletedAt, Expr::value(now))
            .filter(campaign_send::Column::Id.eq(send.id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        return Ok(false);
    };
    let entrants = contacts
        .iter()
        .map(|k| Entrant {
            contact_id: k.id,
            key: String::new(),
            context: contexts.get(&k.id).cloned().flatten(),
        })
        .collect();
    admit(&txn, &c, &v, entrants, now).await?;
    campaign_send::Entity::update_many()
        .col_expr(campaign_send::Column::Cursor, Expr::value(last))
        .filter(campaign_send::Column::Id.eq(send.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(true)
}

/// Looks for due runs every few seconds and has [`Advance`] move them on.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Tick;

impl Job for Tick {
    const KIND: &'static str = "workflow.tick";
    const PRIORITY: i32 = 8;

    fn org_id(&self) -> Option<i64> {
        None
    }

    fn dedup_key(&self) -> Option<String> {
        Some("tick".into())
    }

    async fn run(&self, ctx: &JobContext) -> Result<Step> {
        let db = ctx.db();
        let now = ctx.now();
        let due: Vec<i64> = due_runs(now)
            .select_only()
            .column(workflow_run::Column::Id)
            .limit(1)
            .into_tuple()
            .all(db)
            .await?;
        if !due.is_empty() {
            for shard in 0..SHARDS {
                crate::jobs::enqueue(db, now, &Advance { shard }).await?;
            }
        }
        Ok(Step::Done)
    }
}

/// The active runs due at `now` of active campaigns.
fn due_runs(now: DateTime<Utc>) -> sea_orm::Select<workflow_run::Entity> {
    workflow_run::Entity::find()
        .filter(workflow_run::Column::Status.eq(RunStatus::Active))
        .filter(workflow_run::Column::WakeAt.lte(now))
        .filter(
            workflow_run::Column::CampaignId.in_subquery(
                Query::select()
                    .column(campaign::Column::Id)
                    .from(campaign::Entity)
                    .and_where(campaign::Column::Status.eq(CampaignStatus::Active))
                    .to_owned(),
            ),
        )
}

/// Advances the due runs of one shard, a batch per transaction, until none is due.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Advance {
    pub shard: i64,
}

/// An advance that fails this many times in a row leaves its run failed, for someone to retry.
const RUN_ATTEMPTS: i32 = 5;

impl Job for Advance {
    const KIND: &'static str = "workflow.advance";
    const PRIORITY: i32 = 9;
    const MAX_ATTEMPTS: i32 = 10;

    fn org_id(&self) -> Option<i64> {
        None
    }

    fn dedup_key(&self) -> Option<String> {
        Some(self.shard.to_string())
    }

    async fn run(&self, ctx: &JobContext) -> Result<Step> {
        loop {
            if ctx.stopping() {
                return Ok(Step::Yield);
            }
            match advance_batch(ctx, self.shard).await {
                Ok(0) => return Ok(Step::Done),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, shard = self.shard, "advancing a batch of runs failed; one at a time");
                    if one_at_a_time(ctx, self.shard).await? == 0 {
                        return Ok(Step::Done);
                    }
                }
            }
        }
    }
}

/// Claims up to `limit` due runs of `shard` in `txn`, locked on PostgreSQL.
async fn claim(
    txn: &impl ConnectionTrait,
    shard: i64,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<workflow_run::Model>> {
    let mut q = due_runs(now)
        .filter(Expr::cust(format!(
            "(workflow_run.id % {SHARDS}) = {}",
            shard.rem_euclid(SHARDS)
        )))
        .order_by_asc(workflow_run::Column::WakeAt)
        .order_by_asc(workflow_run::Column::Id)
        .limit(limit);
    if txn.get_database_backend() == DbBackend::Postgres {
        q = q.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    Ok(q.all(txn).await?)
}

/// Advances one batch of the shard in one transaction; answers how many runs it claimed.
async fn advance_batch(ctx: &JobContext, shard: i64) -> Result<usize> {
    let db = ctx.db();
    let now = ctx.now();
    let txn = crate::db::begin_write(db).await?;
    ctx.fence(&txn).await?;
    let runs = claim(&txn, shard, now, BATCH).await?;
    let n = runs.len();
    advance_claimed(&txn, runs, now).await?;
    txn.commit().await?;
    Ok(n)
}

/// Advances claimed runs, grouped by campaign and version.
async fn advance_claimed(
    txn: &impl ConnectionTrait,
    runs: Vec<workflow_run::Model>,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut groups: BTreeMap<(i64, i64), Vec<workflow_run::Model>> = BTreeMap::new();
    for r in runs {
        groups
            .entry((r.campaign_id, r.version_id))
            .or_default()
            .push(r);
    }
    for ((campaign_id, version_id), runs) in groups {
        let Some(c) = campaign::Entity::find_by_id(campaign_id).one(txn).await? else {
            continue;
        };
        let org = find_org(txn, c.org_id).await?;
        let v = version(txn, version_id).await?;
        advance_runs(txn, &c, &org, &v, runs, now).await?;
    }
    Ok(())
}

/// After a batch failed: the shard's due runs one per transaction, so one run that cannot be
/// advanced (its error recorded, retried later, failed after [`RUN_ATTEMPTS`]) holds up no
/// other. Answers how many it looked at.
async fn one_at_a_time(ctx: &JobContext, shard: i64) -> Result<usize> {
    let db = ctx.db();
    let now = ctx.now();
    let mut looked = 0;
    for _ in 0..BATCH {
        if ctx.stopping() {
            break;
        }
        let txn = crate::db::begin_write(db).await?;
        ctx.fence(&txn).await?;
        let Some(r) = claim(&txn, shard, now, 1).await?.pop() else {
            txn.commit().await?;
            break;
        };
        looked += 1;
        match advance_claimed(&txn, vec![r.clone()], now).await {
            Ok(()) => txn.commit().await?,
            Err(e) => {
                txn.rollback().await?;
                record_failure(ctx, &r, &e.to_string(), now).await?;
            }
        }
    }
    Ok(looked)
}

async fn record_failure(
    ctx: &JobContext,
    r: &workflow_run::Model,
    error: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let db = ctx.db();
    let txn = crate::db::begin_write(db).await?;
    let attempts = r.attempts + 1;
    let failed = attempts >= RUN_ATTEMPTS;
    let mut update = workflow_run::Entity::update_many()
        .col_expr(workflow_run::Column::Attempts, Expr::value(attempts))
        .col_expr(workflow_run::Column::Error, Expr::value(error.to_owned()))
        .filter(workflow_run::Column::Id.eq(r.id))
        .filter(workflow_run::Column::Seq.eq(r.seq))
        .filter(workflow_run::Column::Status.eq(RunStatus::Active));
    update = if failed {
        update
            .col_expr(workflow_run::Column::Status, Expr::value(RunStatus::Failed))
            .col_expr(
                workflow_run::Column::WakeAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
    } else {
        update.col_expr(
            workflow_run::Column::WakeAt,
            Expr::value(now + crate::jobs::backoff(attempts, rand::random::<f64>())),
        )
    };
    if update.exec(&txn).await?.rows_affected == 1 && failed {
        let mut counts = Counts::default();
        counts.add(&r.step_id, "here", -1);
        counts.add(&r.step_id, "failed", 1);
        counts.add("", "failed", 1);
        counts.add("", "active", -1);
        if let Some(c) = campaign::Entity::find_by_id(r.campaign_id)
            .one(&txn)
            .await?
        {
            counts.write(&txn, &c, r.version_id).await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

/// Stored events, for the runs they are for (in the transaction that stored them): a run whose
/// goal the event is ends there, converted; a run waiting for it goes on at once.
pub(crate) async fn on_events(
    db: &impl ConnectionTrait,
    org_id: i64,
    events: &[crate::delivery::scheduler::StoredEvent],
    now: DateTime<Utc>,
) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let runs = workflow_run::Entity::find()
        .filter(workflow_run::Column::OrgId.eq(org_id))
        .filter(workflow_run::Column::Status.eq(RunStatus::Active))
        .filter(workflow_run::Column::ContactId.is_in(events.iter().map(|e| e.contact_id)))
        .all(db)
        .await?;
    if runs.is_empty() {
        return Ok(());
    }
    let mut versions: HashMap<i64, workflow_version::Model> = HashMap::new();
    let mut goals = Vec::new();
    let mut woken: BTreeMap<(i64, i64), Vec<workflow_run::Model>> = BTreeMap::new();
    for r in runs {
        if let std::collections::hash_map::Entry::Vacant(v) = versions.entry(r.version_id) {
            v.insert(version(db, r.version_id).await?);
        }
        let wf = &versions[&r.version_id].definition;
        let mine = events
            .iter()
            .filter(|e| e.contact_id == r.contact_id && key_matches(wf, &e.properties, &r.run_key));
        let mut goal = false;
        let mut wake = false;
        for e in mine {
            if wf
                .goal
                .as_deref()
                .is_some_and(|g| g.trim() == e.name.trim())
            {
                goal = true;
            }
            if let Some(StepKind::WaitForEvent { event, .. }) = wf.step(&r.step_id).map(|s| &s.kind)
                && event.trim() == e.name.trim()
            {
                wake = true;
            }
        }
        if goal {
            goals.push(r);
        } else if wake {
            woken
                .entry((r.campaign_id, r.version_id))
                .or_default()
                .push(r);
        }
    }
    for r in goals {
        end_run(db, &r, ExitReason::Goal, now).await?;
    }
    for ((campaign_id, version_id), runs) in woken {
        let Some(c) = campaign::Entity::find_by_id(campaign_id).one(db).await? else {
            continue;
        };
        if c.status != CampaignStatus::Active {
            // Paused: they go on when it resumes (their wait is over then).
            continue;
        }
        let org = find_org(db, c.org_id).await?;
        advance_runs(db, &c, &org, &versions[&version_id], runs, now).await?;
    }
    Ok(())
}

/// Ends active run `r` where it is, for `reason`; answers whether it was still there.
pub(crate) async fn end_run(
    db: &impl ConnectionTrait,
    r: &workflow_run::Model,
    reason: ExitReason,
    now: DateTime<Utc>,
) -> Result<bool> {
    let done = workflow_run::Entity::update_many()
        .col_expr(workflow_run::Column::Status, Expr::value(RunStatus::Exited))
        .col_expr(workflow_run::Column::ExitReason, Expr::value(Some(reason)))
        .col_expr(workflow_run::Column::EndedAt, Expr::value(now))
        .col_expr(
            workflow_run::Column::WakeAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(workflow_run::Column::Id.eq(r.id))
        .filter(workflow_run::Column::Seq.eq(r.seq))
        .filter(workflow_run::Column::Status.eq(RunStatus::Active))
        .exec(db)
        .await?;
    if done.rows_affected != 1 {
        return Ok(false);
    }
    let mut counts = Counts::default();
    counts.add(&r.step_id, "here", -1);
    counts.add(&r.step_id, &format!("exited:{}", reason.as_str()), 1);
    counts.add("", &format!("exited:{}", reason.as_str()), 1);
    counts.add("", "active", -1);
    let Some(c) = campaign::Entity::find_by_id(r.campaign_id).one(db).await? else {
        return Ok(true);
    };
    counts.write(db, &c, r.version_id).await?;
    crate::entity::workflow_log::Entity::insert(Entry::of(r).log(
        r.seq,
        &r.step_id,
        RunStatus::Exited,
        Some(reason),
        now,
        None,
    ))
    .exec_without_returning(db)
    .await?;
    Ok(true)
}
