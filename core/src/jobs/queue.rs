//! The `job` table's operations: enqueue, claim, finish, and what operators see and retry.

use super::Job;
use crate::domain::JobState;
use crate::domain::access::{Action, Actor};
use crate::domain::system::{JobRow, KindSummary, QueueSummary};
use crate::entity::job;
use crate::{Error, Result};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{
    CaseStatement, Expr, Func, LockBehavior, LockType, OnConflict, Order, Query,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, Set, StatementBuilder,
};
use std::collections::BTreeMap;

/// Woken when this process enqueues a job, so that an idle worker starts at once instead of at
/// its next poll.
pub(crate) static ENQUEUED: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Enqueues `job` to run as soon as a worker is free (`now` is the clock's time). Answers
/// `false` when a job of the same kind and de-duplication key is already pending.
pub async fn enqueue<J: Job>(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    job: &J,
) -> Result<bool> {
    enqueue_at(db, now, now, job).await
}

/// Enqueues `job` to run at `run_at` or later.
pub async fn enqueue_at<J: Job>(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    run_at: DateTime<Utc>,
    job: &J,
) -> Result<bool> {
    let payload = serde_json::to_string(job)
        .map_err(|e| Error::Internal(format!("job {} does not serialise: {e}", J::KIND)))?;
    enqueue_raw(
        db,
        Raw {
            kind: J::KIND,
            payload,
            org_id: job.org_id(),
            priority: job.priority(),
            max_attempts: J::MAX_ATTEMPTS,
            dedup_key: job.dedup_key(),
        },
        now,
        run_at,
    )
    .await
}

/// A job with its payload already serialised (what schedules enqueue).
#[derive(Clone, Debug)]
pub(crate) struct Raw {
    pub kind: &'static str,
    pub payload: String,
    pub org_id: Option<i64>,
    pub priority: i32,
    pub max_attempts: i32,
    pub dedup_key: Option<String>,
}

pub(crate) async fn enqueue_raw(
    db: &impl ConnectionTrait,
    raw: Raw,
    now: DateTime<Utc>,
    run_at: DateTime<Utc>,
) -> Result<bool> {
    let row = job::ActiveModel {
        kind: Set(raw.kind.to_owned()),
        payload: Set(raw.payload),
        org_id: Set(raw.org_id),
        priority: Set(raw.priority),
        state: Set(JobState::Pending),
        run_at: Set(run_at),
        attempts: Set(0),
        max_attempts: Set(raw.max_attempts),
        last_error: Set(None),
        lease_owner: Set(None),
        lease_expires_at: Set(None),
        lease_key: Set(None),
        dedup_key: Set(raw.dedup_key),
        created_at: Set(now),
        started_at: Set(None),
        failed_at: Set(None),
        ..Default::default()
    };
    // No conflict target: the only unique constraint a new job can meet is the partial index
    // on pending (kind, dedup_key), which both databases accept this way.
    let inserted = job::Entity::insert(row)
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    if inserted > 0 {
        ENQUEUED.notify_waiters();
    }
    Ok(inserted > 0)
}

/// Claims up to `limit` due jobs of `kinds` for `owner` until `now + lease`: pending jobs whose
/// time has come, and running jobs whose worker is gone: its lease expired, or (PostgreSQL) the
/// advisory lock it held for its process's life is free. Each claim counts an attempt. `key` is
/// the claiming worker's own lock ([`super::liveness`]), if it holds one.
pub(crate) async fn claim(
    db: &impl ConnectionTrait,
    owner: &str,
    kinds: &[&'static str],
    limit: u64,
    now: DateTime<Utc>,
    lease: Duration,
    key: Option<i32>,
) -> Result<Vec<job::Model>> {
    use job::Column as J;
    if limit == 0 || kinds.is_empty() {
        return Ok(Vec::new());
    }
    let due = Condition::any()
        .add(
            Condition::all()
                .add(Expr::col(J::State).eq(JobState::Pending))
                .add(Expr::col(J::RunAt).lte(now)),
        )
        .add(
            Condition::all()
                .add(Expr::col(J::State).eq(JobState::Running))
                .add(
                    Condition::any()
                        .add(Expr::col(J::LeaseExpiresAt).lt(now))
                        .add_option(super::liveness::holder_gone(db.get_database_backend())),
                ),
        );
    // SKIP LOCKED: instances claiming at the same moment take different jobs instead of
    // waiting for each other. SQLite has one writer and ignores the clause.
    let candidates = Query::select()
        .column(J::Id)
        .from(job::Entity)
        .cond_where(due)
        .and_where(Expr::col(J::Kind).is_in(kinds.iter().copied()))
        .order_by(J::Priority, Order::Desc)
        .order_by(J::RunAt, Order::Asc)
        .order_by(J::Id, Order::Asc)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .to_owned();
    let update = Query::update()
        .table(job::Entity)
        .value(J::State, JobState::Running)
        .value(J::LeaseOwner, owner)
        .value(J::LeaseExpiresAt, now + lease)
        .value(J::LeaseKey, key)
        .value(J::StartedAt, now)
        .value(J::Attempts, Expr::col(J::Attempts).add(1))
        .and_where(Expr::col(J::Id).in_subquery(candidates))
        .returning_all()
        .to_owned();
    let backend = db.get_database_backend();
    let mut claimed = job::Model::find_by_statement(StatementBuilder::build(&update, &backend))
        .all(db)
        .await?;
    claimed.sort_by_key(|j| (-j.priority, j.run_at, j.id));
    Ok(claimed)
}

/// Extends the leases of everything `owner` runs.
pub(crate) async fn renew(
    db: &impl ConnectionTrait,
    owner: &str,
    until: DateTime<Utc>,
) -> Result<u64> {
    Ok(job::Entity::update_many()
        .col_expr(job::Column::LeaseExpiresAt, Expr::value(until))
        .filter(job::Column::LeaseOwner.eq(owner))
        .filter(job::Column::State.eq(JobState::Running))
        .exec(db)
        .await?
        .rows_affected)
}

/// Renews one job's lease if `owner` still holds it; `false` if another worker took it over.
pub(crate) async fn still_held(
    db: &impl ConnectionTrait,
    id: i64,
    owner: &str,
    until: DateTime<Utc>,
) -> Result<bool> {
    Ok(job::Entity::update_many()
        .col_expr(job::Column::LeaseExpiresAt, Expr::value(until))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::LeaseOwner.eq(owner))
        .filter(job::Column::State.eq(JobState::Running))
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// The job is done: it goes.
pub(crate) async fn complete(db: &impl ConnectionTrait, id: i64, owner: &str) -> Result<()> {
    job::Entity::delete_many()
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::LeaseOwner.eq(owner))
        .exec(db)
        .await?;
    Ok(())
}

/// Puts a held job back in the queue to run at `run_at`. `count_attempt: false` gives back
/// the attempt its claim counted (a shutdown, a deferral). When the same work is already
/// pending again (enqueued while this one ran), that job stands for it and this one goes.
pub(crate) async fn requeue(
    db: &impl ConnectionTrait,
    id: i64,
    owner: &str,
    run_at: DateTime<Utc>,
    error: Option<&str>,
    count_attempt: bool,
) -> Result<()> {
    let mut update = job::Entity::update_many()
        .col_expr(job::Column::State, Expr::value(JobState::Pending))
        .col_expr(job::Column::RunAt, Expr::value(run_at))
        .col_expr(job::Column::LeaseOwner, Expr::value(Option::<String>::None))
        .col_expr(
            job::Column::LeaseExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::LeaseOwner.eq(owner));
    if let Some(error) = error {
        update = update.col_expr(job::Column::LastError, Expr::value(error));
    }
    if !count_attempt {
        update = update.col_expr(
            job::Column::Attempts,
            Expr::col(job::Column::Attempts).sub(1),
        );
    }
    match update.exec(db).await {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => complete(db, id, owner).await,
        Err(e) => Err(e.into()),
    }
}

fn is_unique_violation(e: &sea_orm::DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// The job failed for the last time: it stays, failed, with its error. An earlier failure of
/// the same work (same kind and key) is superseded by this one.
pub(crate) async fn fail(
    db: &impl ConnectionTrait,
    held: &job::Model,
    owner: &str,
    error: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    if let Some(key) = &held.dedup_key {
        job::Entity::delete_many()
            .filter(job::Column::Kind.eq(&held.kind))
            .filter(job::Column::DedupKey.eq(key))
            .filter(job::Column::State.eq(JobState::Failed))
            .filter(job::Column::Id.ne(held.id))
            .exec(db)
            .await?;
    }
    job::Entity::update_many()
        .col_expr(job::Column::State, Expr::value(JobState::Failed))
        .col_expr(job::Column::LastError, Expr::value(error))
        .col_expr(job::Column::FailedAt, Expr::value(now))
        .col_expr(job::Column::LeaseOwner, Expr::value(Option::<String>::None))
        .col_expr(
            job::Column::LeaseExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(job::Column::Id.eq(held.id))
        .filter(job::Column::LeaseOwner.eq(owner))
        .exec(db)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// What operators see

/// The jobs `actor` may see: their organisation's and the instance's own (no organisation);
/// the system (the command line) sees all.
fn visible(actor: &Actor) -> Condition {
    match actor {
        Actor::System { .. } => Condition::all(),
        _ => Condition::any()
            .add(job::Column::OrgId.eq(actor.org_id()))
            .add(job::Column::OrgId.is_null()),
    }
}

fn may_retry(actor: &Actor, j: &job::Model) -> bool {
    j.state == JobState::Failed
        && match actor {
            Actor::System { .. } => true,
            _ => j.org_id == Some(actor.org_id()),
        }
}

/// What the job works on, from its payload's ids (`import 12`, `segment 3`), for the lists.
fn subject(j: &job::Model) -> String {
    let payload: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&j.payload).unwrap_or_default();
    payload
        .iter()
        .filter(|(k, _)| *k != "org_id")
        .map(|(k, v)| format!("{} {v}", k.trim_end_matches("_id")))
        .collect::<Vec<_>>()
        .join(", ")
}

fn row(actor: &Actor, j: job::Model) -> JobRow {
    JobRow {
        id: j.id,
        subject: subject(&j),
        retryable: may_retry(actor, &j),
        kind: j.kind,
        state: j.state,
        attempts: j.attempts,
        max_attempts: j.max_attempts,
        last_error: j.last_error,
        run_at: j.run_at,
        started_at: j.started_at,
        failed_at: j.failed_at,
        lease_owner: j.lease_owner,
        lease_expires_at: j.lease_expires_at,
    }
}

#[derive(Debug, FromQueryResult)]
struct KindRow {
    kind: String,
    state: JobState,
    jobs: i64,
    due: i64,
    oldest: Option<DateTime<Utc>>,
}

/// The queue as `actor` may see it: per kind, how many jobs wait (and since when), run and
/// failed; the running jobs; the failed jobs with their errors.
pub async fn summary(
    db: &impl ConnectionTrait,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<QueueSummary> {
    actor.require(Action::ViewSystem)?;
    use job::Column as J;
    // COUNT(CASE WHEN run_at <= ? THEN 1 END): the pending jobs whose time has come.
    let due_case =
        Func::count(CaseStatement::new().case(Expr::col(J::RunAt).lte(now), Expr::val(1)));
    let rows = job::Entity::find()
        .select_only()
        .column(J::Kind)
        .column(J::State)
        .column_as(Expr::col(J::Id).count(), "jobs")
        .column_as(Expr::expr(due_case), "due")
        .column_as(Expr::col(J::CreatedAt).min(), "oldest")
        .filter(visible(actor))
        .group_by(J::Kind)
        .group_by(J::State)
        .into_model::<KindRow>()
        .all(db)
        .await?;
    let mut kinds: BTreeMap<String, KindSummary> = BTreeMap::new();
    for r in rows {
        let k = kinds.entry(r.kind.clone()).or_insert_with(|| KindSummary {
            kind: r.kind.clone(),
            pending: 0,
            due: 0,
            running: 0,
            failed: 0,
            oldest_pending_at: None,
        });
        let n = r.jobs as u64;
        match r.state {
            JobState::Pending => {
                k.pending = n;
                k.due = r.due as u64;
                k.oldest_pending_at = r.oldest;
            }
            JobState::Running => k.running = n,
            JobState::Failed => k.failed = n,
        }
    }
    let list = |state: JobState, order: J| {
        job::Entity::find()
            .filter(visible(actor))
            .filter(J::State.eq(state))
            .order_by_desc(order)
            .order_by_desc(J::Id)
            .limit(100)
    };
    let running = list(JobState::Running, J::StartedAt).all(db).await?;
    let failed = list(JobState::Failed, J::FailedAt).all(db).await?;
    Ok(QueueSummary {
        kinds: kinds.into_values().collect(),
        running: running.into_iter().map(|j| row(actor, j)).collect(),
        failed: failed.into_iter().map(|j| row(actor, j)).collect(),
        now: Some(now),
    })
}

/// An operator retries a failed job: it runs again at once with its attempts reset.
pub async fn retry(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    actor.require(Action::RetryJobs)?;
    let j = job::Entity::find_by_id(id)
        .filter(visible(actor))
        .one(db)
        .await?
        .ok_or(Error::NotFound("job"))?;
    if j.state != JobState::Failed {
        return Err(Error::Invalid(
            "Only failed jobs can be retried; this one is still queued or running.".into(),
        ));
    }
    if !may_retry(actor, &j) {
        return Err(Error::Forbidden(
            "This job belongs to the whole instance: retry it with `herald jobs retry`.".into(),
        ));
    }
    let updated = job::Entity::update_many()
        .col_expr(job::Column::State, Expr::value(JobState::Pending))
        .col_expr(job::Column::Attempts, Expr::value(0))
        .col_expr(job::Column::RunAt, Expr::value(now))
        .col_expr(
            job::Column::FailedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(job::Column::Id.eq(j.id))
        .filter(job::Column::State.eq(JobState::Failed))
        .exec(db)
        .await;
    match updated {
        Ok(_) => {
            ENQUEUED.notify_waiters();
            Ok(())
        }
        // The same work is pending already: it stands for this one.
        Err(e) if is_unique_violation(&e) => {
            job::Entity::delete_by_id(j.id).exec(db).await?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}
