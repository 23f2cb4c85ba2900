//! Workers: claim due jobs, run them with a lease, record how they ended, and fire periodic
//! schedules. One [`Runner`] per instance runs up to `concurrency` jobs at once.

use super::liveness::Liveness;
use super::queue::{self, Raw};
use super::schedule::{self, Period, Schedule};
use super::{Job, Step, backoff};
use crate::entity::job;
use crate::{Error, Herald, Result};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinSet;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// How a run ended, before the runner records it.
enum Outcome {
    Step(Step),
    Failed(String),
    /// The payload does not read as the job's type: retrying cannot help.
    Corrupt(String),
}

struct Kind {
    run: Arc<dyn Fn(JobContext, String) -> BoxFuture<Outcome> + Send + Sync>,
    gave_up: Arc<dyn Fn(JobContext, String, String) -> BoxFuture<()> + Send + Sync>,
}

/// The kinds of job a worker runs, and the periodic jobs it fires.
#[derive(Default)]
pub struct Registry {
    kinds: BTreeMap<&'static str, Kind>,
    schedules: Vec<Schedule>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything Herald runs in the background; the daily run of campaigns timed by record
    /// dates happens at `daily_at` (UTC).
    pub fn herald(daily_at: chrono::NaiveTime) -> Self {
        use crate::audience::segments::{RefreshSegment, RefreshSegments};
        use crate::delivery::scheduler::{DailyRun, Tick};
        use crate::delivery::{fanout::FanOut, sender::Deliver};
        use crate::ingest::imports::ImportJob;
        Registry::new()
            .add::<ImportJob>()
            .add::<FanOut>()
            .add::<Deliver>()
            .add::<RefreshSegment>()
            .add::<RefreshSegments>()
            .add::<Tick>()
            .add::<DailyRun>()
            .add::<crate::delivery::notify::EmailNotification>()
            .add::<crate::delivery::events::ConfirmSubscription>()
            .add::<crate::workflows::Enter>()
            .add::<crate::workflows::Tick>()
            .add::<crate::workflows::Advance>()
            // Runs whose wait is over go on within seconds.
            .every(
                "workflow.tick",
                Period::Every(Duration::seconds(5)),
                crate::workflows::Tick,
            )
            // Timed campaigns fire within seconds of their time.
            .every("delivery.tick", Period::Every(Duration::seconds(20)), Tick)
            .every("delivery.daily", Period::DailyAt(daily_at), DailyRun)
            // Contacts entering a segment are noticed within a minute.
            .every(
                "segments.refresh",
                Period::Every(Duration::minutes(1)),
                RefreshSegments,
            )
    }

    /// Runs jobs of type `J`.
    pub fn add<J: Job>(mut self) -> Self {
        let run = Arc::new(|ctx: JobContext, payload: String| -> BoxFuture<Outcome> {
            Box::pin(async move {
                let job: J = match serde_json::from_str(&payload) {
                    Ok(job) => job,
                    Err(e) => {
                        return Outcome::Corrupt(format!(
                            "The job's data does not read as a {} job: {e}.",
                            J::KIND
                        ));
                    }
                };
                match job.run(&ctx).await {
                    Ok(step) => Outcome::Step(step),
                    Err(e) => Outcome::Failed(e.to_string()),
                }
            })
        });
        let gave_up = Arc::new(
            |ctx: JobContext, payload: String, error: String| -> BoxFuture<()> {
                Box::pin(async move {
                    if let Ok(job) = serde_json::from_str::<J>(&payload)
                        && let Err(e) = job.gave_up(&ctx, &error).await
                    {
                        tracing::error!(kind = J::KIND, error = %e, "recording a failed job");
                    }
                })
            },
        );
        self.kinds.insert(J::KIND, Kind { run, gave_up });
        self
    }

    /// Enqueues `job` every `period`, once across all instances (see [`super::schedule`]).
    pub fn every<J: Job>(mut self, name: &'static str, period: Period, job: J) -> Self {
        let payload = serde_json::to_string(&job).expect("a job serialises");
        self.schedules.push(Schedule {
            name,
            period,
            job: Raw {
                kind: J::KIND,
                payload,
                org_id: job.org_id(),
                priority: job.priority(),
                max_attempts: J::MAX_ATTEMPTS,
                dedup_key: job.dedup_key(),
            },
        });
        self
    }

    fn names(&self) -> Vec<&'static str> {
        self.kinds.keys().copied().collect()
    }
}

/// What a running job knows about its run.
#[derive(Clone)]
pub struct JobContext {
    pub herald: Herald,
    pub job_id: i64,
    /// This run's attempt, from 1.
    pub attempt: i32,
    pub max_attempts: i32,
    owner: Arc<str>,
    lease: Duration,
    stopping: watch::Receiver<bool>,
}

impl JobContext {
    pub fn db(&self) -> &DatabaseConnection {
        &self.herald.db
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.herald.clock.now()
    }

    /// The worker is shutting down: finish the current step, then return [`Step::Yield`].
    pub fn stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Checks, inside the transaction that commits a step, that this worker still holds the
    /// job (and renews the lease). If another worker took it over after this one's lease
    /// expired, the step fails and its transaction rolls back instead of committing twice.
    pub async fn fence(&self, db: &impl ConnectionTrait) -> Result<()> {
        if queue::still_held(db, self.job_id, &self.owner, self.now() + self.lease).await? {
            Ok(())
        } else {
            Err(Error::Internal(format!(
                "job {} was taken over by another worker",
                self.job_id
            )))
        }
    }
}

/// Runs jobs; see the module comment.
pub struct Runner {
    herald: Herald,
    registry: Arc<Registry>,
    owner: Arc<str>,
    concurrency: usize,
    lease: Duration,
    poll: std::time::Duration,
    grace: std::time::Duration,
}

/// A name that tells operators which instance holds a lease.
fn worker_name() -> String {
    format!(
        "{}-{}-{:06x}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "herald".into()),
        std::process::id(),
        rand::random::<u32>() & 0xff_ffff
    )
}

impl Runner {
    pub fn new(herald: Herald, registry: Registry) -> Self {
        Runner {
            herald,
            registry: Arc::new(registry),
            owner: worker_name().into(),
            concurrency: 4,
            lease: Duration::seconds(60),
            poll: std::time::Duration::from_millis(500),
            grace: std::time::Duration::from_secs(20),
        }
    }

    /// How many jobs run at once (at least one).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// How long a claim holds before another worker may take the job over; renewed every
    /// third of it while the job runs.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How often an idle worker looks for due jobs (it also wakes when this process enqueues).
    pub fn poll(mut self, poll: std::time::Duration) -> Self {
        self.poll = poll;
        self
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    fn context(&self, j: &job::Model, stopping: &watch::Receiver<bool>) -> JobContext {
        JobContext {
            herald: self.herald.clone(),
            job_id: j.id,
            attempt: j.attempts,
            max_attempts: j.max_attempts,
            owner: self.owner.clone(),
            lease: self.lease,
            stopping: stopping.clone(),
        }
    }

    async fn claim(&self, limit: usize, key: Option<i32>) -> Result<Vec<job::Model>> {
        let db = &self.herald.db;
        let _writer = crate::db::write_lock(db).await;
        queue::claim(
            db,
            &self.owner,
            &self.registry.names(),
            limit as u64,
            self.herald.clock.now(),
            self.lease,
            key,
        )
        .await
    }

    /// Fires every schedule due now; answers when each is next due.
    async fn fire_schedules(&self, due: &mut [Option<DateTime<Utc>>]) {
        let now = self.herald.clock.now();
        for (s, next) in self.registry.schedules.iter().zip(due.iter_mut()) {
            let result = match *next {
                None => {
                    let _writer = crate::db::write_lock(&self.herald.db).await;
                    schedule::next_due(&self.herald.db, s, now).await
                }
                Some(at) if at > now => continue,
                Some(_) => Ok(now),
            };
            let result = match result {
                Ok(at) if at <= now => schedule::fire_if_due(&self.herald.db, s, now)
                    .await
                    .map(|(_, next)| next),
                other => other,
            };
            match result {
                Ok(at) => *next = Some(at),
                Err(e) => {
                    tracing::warn!(schedule = s.name, error = %e, "a periodic job could not be enqueued")
                }
            }
        }
    }

    /// Claims and runs every job due now, and the jobs those enqueue, until none is due;
    /// answers how many ran. For tests (with a manual clock) and one-off command-line runs.
    pub async fn run_due(&self) -> Result<usize> {
        let (_stop, stopping) = watch::channel(false);
        let mut due = vec![None; self.registry.schedules.len()];
        self.fire_schedules(&mut due).await;
        let mut total = 0;
        loop {
            let jobs = self.claim(self.concurrency, None).await?;
            if jobs.is_empty() {
                return Ok(total);
            }
            total += jobs.len();
            let mut running = JoinSet::new();
            for j in jobs {
                running.spawn(self.run_one(j, stopping.clone()));
            }
            while running.join_next().await.is_some() {}
        }
    }

    /// Runs one claimed job to its end and records how it ended.
    fn run_one(
        &self,
        j: job::Model,
        stopping: watch::Receiver<bool>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let ctx = self.context(&j, &stopping);
        let registry = self.registry.clone();
        async move {
            let Some(kind) = registry.kinds.get(j.kind.as_str()) else {
                return;
            };
            let outcome = if j.attempts > j.max_attempts {
                // Taken over after expired leases, more often than it may run.
                Outcome::Failed(format!(
                    "The worker running it stopped {} times without finishing.",
                    j.max_attempts
                ))
            } else {
                // Its own task, so that a panic in a job is one failed run, not a dead worker.
                match tokio::spawn((kind.run)(ctx.clone(), j.payload.clone())).await {
                    Ok(outcome) => outcome,
                    Err(e) => Outcome::Failed(panic_message(e)),
                }
            };
            if let Err(e) = record(&ctx, &j, kind, outcome).await {
                // The lease expires and another worker (or this one) takes the job over.
                tracing::error!(job = j.id, kind = j.kind, error = %e, "recording a job's end failed");
            }
        }
    }

    /// Starts the worker loop in the background.
    pub fn spawn(self) -> RunnerHandle {
        let (stop, stopping) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut alive =
                Liveness::start(&self.herald.db, &self.owner, self.herald.clock.now()).await;
            let mut running = JoinSet::new();
            let mut due = vec![None; self.registry.schedules.len()];
            let mut renewed = std::time::Instant::now();
            let renew_every = (self.lease / 3).to_std().unwrap_or_default();
            let mut stopped = stopping.clone();
            loop {
                if *stopping.borrow() {
                    break;
                }
                self.fire_schedules(&mut due).await;
                let free = self.concurrency.saturating_sub(running.len());
                if free > 0 {
                    match self.claim(free, alive.key()).await {
                        Ok(jobs) => {
                            for j in jobs {
                                tracing::debug!(job = j.id, kind = j.kind, "running a job");
                                running.spawn(self.run_one(j, stopping.clone()));
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "could not look for jobs"),
                    }
                }
                if renewed.elapsed() >= renew_every {
                    alive.ensure(&self.herald.db).await;
                    if !running.is_empty() {
                        let _writer = crate::db::write_lock(&self.herald.db).await;
                        let until = self.herald.clock.now() + self.lease;
                        if let Err(e) = queue::renew(&self.herald.db, &self.owner, until).await {
                            tracing::warn!(error = %e, "could not renew job leases");
                        }
                    }
                    renewed = std::time::Instant::now();
                }
                // Busy: look again as soon as a job ends. Idle: at the next poll, or when this
                // process enqueues something.
                tokio::select! {
                    _ = queue::ENQUEUED.notified() => {}
                    _ = tokio::time::sleep(self.poll.min(renew_every)) => {}
                    Some(_) = running.join_next(), if !running.is_empty() => {}
                    _ = stopped.changed() => {}
                }
            }
            // Shutting down: jobs see `stopping()` and end at their next step. Whatever still
            // runs after the grace period is stopped and its lease released.
            let grace = tokio::time::sleep(self.grace);
            tokio::pin!(grace);
            loop {
                tokio::select! {
                    next = running.join_next() => if next.is_none() { break },
                    _ = &mut grace => {
                        running.abort_all();
                        while running.join_next().await.is_some() {}
                        break;
                    }
                }
            }
            self.release_all().await;
        });
        RunnerHandle { stop, task }
    }

    /// Gives back every job this worker still holds (after a shutdown that could not wait).
    async fn release_all(&self) {
        use sea_orm::sea_query::Expr;
        use sea_orm::{ColumnTrait, EntityTrait, ExprTrait, QueryFilter};
        let _writer = crate::db::write_lock(&self.herald.db).await;
        let now = self.herald.clock.now();
        let released = job::Entity::update_many()
            .col_expr(
                job::Column::State,
                Expr::value(crate::domain::JobState::Pending),
            )
            .col_expr(job::Column::RunAt, Expr::value(now))
            .col_expr(job::Column::LeaseOwner, Expr::value(Option::<String>::None))
            .col_expr(
                job::Column::LeaseExpiresAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                job::Column::Attempts,
                Expr::col(job::Column::Attempts).sub(1),
            )
            .filter(job::Column::LeaseOwner.eq(&*self.owner))
            .filter(job::Column::State.eq(crate::domain::JobState::Running))
            .exec(&self.herald.db)
            .await;
        match released {
            Ok(r) if r.rows_affected > 0 => {
                tracing::info!(jobs = r.rows_affected, "released unfinished jobs")
            }
            Ok(_) => {}
            // A pending copy blocks one; its lease expires and it is taken over.
            Err(e) => tracing::warn!(error = %e, "could not release jobs"),
        }
    }
}

fn panic_message(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(payload) => {
            let text = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            format!("The job panicked: {text}")
        }
        Err(e) => format!("The job was cancelled: {e}"),
    }
}

/// Records how a run ended: done, back in the queue, retried later, or failed for good.
async fn record(ctx: &JobContext, j: &job::Model, kind: &Kind, outcome: Outcome) -> Result<()> {
    let db = ctx.db();
    let now = ctx.now();
    let owner = &*ctx.owner;
    let final_error = {
        let _writer = crate::db::write_lock(db).await;
        match outcome {
            Outcome::Step(Step::Done) => {
                queue::complete(db, j.id, owner).await?;
                None
            }
            Outcome::Step(Step::Yield) => {
                queue::requeue(db, j.id, owner, now, None, false).await?;
                None
            }
            Outcome::Step(Step::Later(after)) => {
                queue::requeue(db, j.id, owner, now + after, None, false).await?;
                None
            }
            Outcome::Corrupt(error) => {
                queue::fail(db, j, owner, &error, now).await?;
                tracing::error!(job = j.id, kind = j.kind, error, "job failed: corrupt data");
                None
            }
            Outcome::Failed(error) if j.attempts >= j.max_attempts => {
                queue::fail(db, j, owner, &error, now).await?;
                tracing::error!(
                    job = j.id,
                    kind = j.kind,
                    attempts = j.attempts,
                    error,
                    "job failed for good"
                );
                Some(error)
            }
            Outcome::Failed(error) => {
                let wait = backoff(j.attempts, rand::random::<f64>());
                tracing::warn!(
                    job = j.id,
                    kind = j.kind,
                    attempt = j.attempts,
                    error,
                    "job failed; retrying"
                );
                queue::requeue(db, j.id, owner, now + wait, Some(&error), true).await?;
                None
            }
        }
    };
    if let Some(error) = final_error {
        (kind.gave_up)(ctx.clone(), j.payload.clone(), error).await;
    }
    Ok(())
}

/// A running worker loop.
pub struct RunnerHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunnerHandle {
    /// Stops taking jobs, lets the running ones finish their current step, releases what is
    /// left, and returns when the loop has ended.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}
