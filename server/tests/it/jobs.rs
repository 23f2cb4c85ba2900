//! The job queue on the real database: at most one pending copy of the same work, jobs that
//! exist only if their transaction commits, exclusive claims between workers, leases that
//! expire and are taken over (and fence the old worker out), backoff, jobs kept as failed and
//! retried by an operator, schedules that fire once per period across workers and once after
//! downtime, and a graceful shutdown that gives back what it cannot finish. Time is a manual
//! clock: hours pass in milliseconds.

use crate::common::{self, spawn_app_with};
use chrono::{DateTime, Duration, Utc};
use herald_core::Herald;
use herald_core::domain::JobState;
use herald_core::domain::access::Actor;
use herald_core::entity::job;
use herald_core::jobs::{self, Job, JobContext, ManualClock, Period, Registry, Runner, Step};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

/// How often each test job ran, by its tag (tests run side by side in one process).
static RUNS: LazyLock<Mutex<HashMap<String, u32>>> = LazyLock::new(Default::default);

fn runs(tag: &str) -> u32 {
    RUNS.lock().unwrap().get(tag).copied().unwrap_or(0)
}

fn count_run(tag: &str) -> u32 {
    let mut runs = RUNS.lock().unwrap();
    let n = runs.entry(tag.to_owned()).or_default();
    *n += 1;
    *n
}

#[derive(Clone, Debug, Serialize, Deserialize)]
enum Behaviour {
    Succeed,
    /// Fails its first `n` runs.
    FailFirst(u32),
    Panic,
    /// Waits until the worker stops, then yields.
    StepsUntilStopped,
    /// Waits (as a worker that hangs), then tries to commit through the fence.
    HangThenCommit,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct TestJob {
    tag: String,
    key: Option<String>,
    behaviour: Behaviour,
}

impl TestJob {
    fn new(tag: &str, behaviour: Behaviour) -> Self {
        TestJob {
            tag: tag.into(),
            key: None,
            behaviour,
        }
    }
}

impl Job for TestJob {
    const KIND: &'static str = "test.job";
    const MAX_ATTEMPTS: i32 = 3;

    fn org_id(&self) -> Option<i64> {
        None
    }

    fn dedup_key(&self) -> Option<String> {
        self.key.clone()
    }

    async fn run(&self, ctx: &JobContext) -> herald_core::Result<Step> {
        match &self.behaviour {
            Behaviour::Succeed => {
                count_run(&self.tag);
                Ok(Step::Done)
            }
            Behaviour::FailFirst(n) => {
                if count_run(&self.tag) <= *n {
                    Err(herald_core::Error::Internal("the provider said no".into()))
                } else {
                    Ok(Step::Done)
                }
            }
            Behaviour::Panic => panic!("a bug in a job"),
            Behaviour::StepsUntilStopped => {
                count_run(&self.tag);
                while !ctx.stopping() {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
                Ok(Step::Yield)
            }
            Behaviour::HangThenCommit => {
                count_run(&format!("{}-started", self.tag));
                // Hang until the test lets go.
                while runs(&format!("{}-release", self.tag)) == 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
                let tx = ctx.db().begin().await?;
                ctx.fence(&tx).await?;
                count_run(&format!("{}-committed", self.tag));
                tx.commit().await?;
                Ok(Step::Done)
            }
        }
    }

    async fn gave_up(&self, _ctx: &JobContext, _error: &str) -> herald_core::Result<()> {
        count_run(&format!("{}-gave-up", self.tag));
        Ok(())
    }
}

/// A periodic job.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Tick {
    tag: String,
}

impl Job for Tick {
    const KIND: &'static str = "test.tick";

    fn org_id(&self) -> Option<i64> {
        None
    }

    async fn run(&self, _ctx: &JobContext) -> herald_core::Result<Step> {
        count_run(&self.tag);
        Ok(Step::Done)
    }
}

fn start() -> DateTime<Utc> {
    "2026-03-28T23:59:00Z".parse().unwrap()
}

/// The app's database with a manual clock, and no worker of the server's own.
async fn setup() -> (common::TestApp, Herald, Arc<ManualClock>) {
    let app = spawn_app_with(|c| c.workers = 0).await;
    let clock = Arc::new(ManualClock::new(start()));
    let mut herald = app.herald.clone();
    herald.clock = clock.clone();
    (app, herald, clock)
}

fn runner(h: &Herald) -> Runner {
    Runner::new(h.clone(), Registry::new().add::<TestJob>().add::<Tick>())
}

async fn rows(h: &Herald) -> Vec<job::Model> {
    job::Entity::find().all(&h.db).await.unwrap()
}

#[tokio::test]
async fn work_enqueued_twice_runs_once() {
    let (_app, h, _clock) = setup().await;
    let tag = "dedup";
    let job = TestJob {
        key: Some("segment-7".into()),
        ..TestJob::new(tag, Behaviour::Succeed)
    };
    assert!(jobs::enqueue(&h.db, h.now(), &job).await.unwrap());
    assert!(
        !jobs::enqueue(&h.db, h.now(), &job).await.unwrap(),
        "a pending copy of the same work is not enqueued again"
    );
    // Other work of the same kind is.
    let other = TestJob {
        key: Some("segment-8".into()),
        ..job.clone()
    };
    assert!(jobs::enqueue(&h.db, h.now(), &other).await.unwrap());
    assert_eq!(runner(&h).run_due().await.unwrap(), 2);
    assert_eq!(runs(tag), 2);
    assert!(rows(&h).await.is_empty(), "done jobs are removed");
    // Once done, the same work can be enqueued again.
    assert!(jobs::enqueue(&h.db, h.now(), &job).await.unwrap());
}

#[tokio::test]
async fn a_job_exists_exactly_when_its_transaction_commits() {
    let (_app, h, _clock) = setup().await;
    let tx = h.db.begin().await.unwrap();
    jobs::enqueue(&tx, h.now(), &TestJob::new("tx", Behaviour::Succeed))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert!(rows(&h).await.is_empty());
    let tx = h.db.begin().await.unwrap();
    jobs::enqueue(&tx, h.now(), &TestJob::new("tx", Behaviour::Succeed))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(rows(&h).await.len(), 1);
}

#[tokio::test]
async fn failures_back_off_end_failed_and_an_operator_retries() {
    let (_app, h, clock) = setup().await;
    let tag = "backoff";
    jobs::enqueue(&h.db, h.now(), &TestJob::new(tag, Behaviour::FailFirst(3)))
        .await
        .unwrap();
    let worker = runner(&h);
    assert_eq!(worker.run_due().await.unwrap(), 1);
    let j = rows(&h).await.remove(0);
    assert_eq!((j.state, j.attempts), (JobState::Pending, 1));
    assert_eq!(j.last_error.as_deref(), Some("the provider said no"));
    let wait = j.run_at - h.now();
    assert!(
        wait >= Duration::milliseconds(7500) && wait <= Duration::milliseconds(12500),
        "first retry after 10 s ± 25 %: {wait}"
    );
    // Not before its time.
    clock.advance(Duration::seconds(5));
    assert_eq!(worker.run_due().await.unwrap(), 0);
    clock.advance(Duration::seconds(10));
    assert_eq!(worker.run_due().await.unwrap(), 1);
    let j = rows(&h).await.remove(0);
    let wait = j.run_at - h.now();
    assert!(
        wait >= Duration::seconds(15) && wait <= Duration::seconds(25),
        "second retry after 20 s ± 25 %: {wait}"
    );
    clock.advance(Duration::seconds(30));
    assert_eq!(worker.run_due().await.unwrap(), 1);
    // The last attempt failed: kept, failed, with its error, and the job was told.
    let j = rows(&h).await.remove(0);
    assert_eq!((j.state, j.attempts), (JobState::Failed, 3));
    assert_eq!(runs(&format!("{tag}-gave-up")), 1);
    clock.advance(Duration::days(7));
    assert_eq!(worker.run_due().await.unwrap(), 0, "never again on its own");
    assert_eq!(rows(&h).await.len(), 1, "never deleted silently");

    // Operators see it, and retry it; this time it works.
    let operator = Actor::system(0);
    let seen = jobs::queue::summary(&h.db, &operator, h.now())
        .await
        .unwrap();
    assert_eq!(seen.failed.len(), 1);
    assert_eq!(
        seen.failed[0].last_error.as_deref(),
        Some("the provider said no")
    );
    assert_eq!(seen.kinds[0].failed, 1);
    // An organisation's admin may not retry the instance's own jobs.
    let org = herald_core::auth::accounts::ensure_org(&h.db, "acme", "Acme")
        .await
        .unwrap();
    let org_admin = common::user_actor(org.id, 1, herald_core::domain::Role::Admin);
    assert!(matches!(
        jobs::queue::retry(&h.db, &org_admin, j.id, h.now()).await,
        Err(herald_core::Error::Forbidden(_))
    ));
    jobs::queue::retry(&h.db, &operator, j.id, h.now())
        .await
        .unwrap();
    assert_eq!(worker.run_due().await.unwrap(), 1);
    assert!(rows(&h).await.is_empty());
    assert_eq!(runs(tag), 4);
}

#[tokio::test]
async fn a_panicking_job_is_one_failed_attempt_and_a_corrupt_one_fails_at_once() {
    let (_app, h, _clock) = setup().await;
    jobs::enqueue(&h.db, h.now(), &TestJob::new("panic", Behaviour::Panic))
        .await
        .unwrap();
    runner(&h).run_due().await.unwrap();
    let j = rows(&h).await.remove(0);
    assert_eq!((j.state, j.attempts), (JobState::Pending, 1));
    assert!(
        j.last_error.as_deref().unwrap().contains("a bug in a job"),
        "{:?}",
        j.last_error
    );
    job::Entity::delete_many().exec(&h.db).await.unwrap();

    // Data that does not read as the job's type cannot get better by retrying.
    job::Entity::insert(job::ActiveModel {
        kind: Set("test.job".into()),
        payload: Set(r#"{"tag": 7}"#.into()),
        org_id: Set(None),
        priority: Set(0),
        state: Set(JobState::Pending),
        run_at: Set(h.now()),
        attempts: Set(0),
        max_attempts: Set(5),
        created_at: Set(h.now()),
        ..Default::default()
    })
    .exec(&h.db)
    .await
    .unwrap();
    runner(&h).run_due().await.unwrap();
    let j = rows(&h).await.remove(0);
    assert_eq!((j.state, j.attempts), (JobState::Failed, 1));
    assert!(
        j.last_error
            .unwrap()
            .contains("does not read as a test.job job")
    );
}

#[tokio::test]
async fn two_workers_share_the_queue_and_run_each_job_once() {
    let (_app, h, _clock) = setup().await;
    let n = 120;
    let tx = h.db.begin().await.unwrap();
    for i in 0..n {
        jobs::enqueue(
            &tx,
            h.now(),
            &TestJob::new(&format!("share-{i}"), Behaviour::Succeed),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let (a, b) = (runner(&h).concurrency(4), runner(&h).concurrency(4));
    let (ran_a, ran_b) = tokio::join!(a.run_due(), b.run_due());
    let (ran_a, ran_b) = (ran_a.unwrap(), ran_b.unwrap());
    assert_eq!(ran_a + ran_b, n);
    for i in 0..n {
        assert_eq!(runs(&format!("share-{i}")), 1, "job {i}");
    }
    assert!(rows(&h).await.is_empty());
}

#[tokio::test]
async fn a_dead_workers_job_is_taken_over_and_the_old_worker_cannot_commit() {
    let (_app, h, clock) = setup().await;
    let tag = "takeover";
    jobs::enqueue(
        &h.db,
        h.now(),
        &TestJob::new(tag, Behaviour::HangThenCommit),
    )
    .await
    .unwrap();
    // Worker A claims it and hangs.
    let a = runner(&h).lease(Duration::seconds(60));
    let hung = tokio::spawn(async move { a.run_due().await });
    while runs(&format!("{tag}-started")) < 1 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let j = rows(&h).await.remove(0);
    assert_eq!((j.state, j.attempts), (JobState::Running, 1));
    // Before the lease expires nobody else takes it.
    let b = runner(&h);
    clock.advance(Duration::seconds(59));
    assert_eq!(b.run_due().await.unwrap(), 0);
    // After, worker B takes it over (a second attempt); only then do both go on (A woken
    // before B claimed would still hold the job, and rightly commit).
    clock.advance(Duration::seconds(2));
    let taken = tokio::spawn(async move { b.run_due().await });
    while runs(&format!("{tag}-started")) < 2 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    count_run(&format!("{tag}-release"));
    assert_eq!(taken.await.unwrap().unwrap(), 1);
    // Worker A wakes up: its fence finds the job is no longer its own, and nothing commits.
    hung.await.unwrap().unwrap();
    assert_eq!(
        runs(&format!("{tag}-committed")),
        1,
        "the work committed once, by the worker holding the lease"
    );
    assert!(rows(&h).await.is_empty());
}

#[tokio::test]
async fn a_job_whose_worker_keeps_dying_ends_failed() {
    let (_app, h, clock) = setup().await;
    let tag = "keeps-dying";
    jobs::enqueue(
        &h.db,
        h.now(),
        &TestJob::new(tag, Behaviour::HangThenCommit),
    )
    .await
    .unwrap();
    for attempt in 1..=3 {
        let w = runner(&h);
        let hung = tokio::spawn(async move { w.run_due().await });
        while runs(&format!("{tag}-started")) < attempt {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        // The worker process dies.
        hung.abort();
        let _ = hung.await;
        clock.advance(Duration::seconds(61));
    }
    runner(&h).run_due().await.unwrap();
    let j = rows(&h).await.remove(0);
    assert_eq!(j.state, JobState::Failed);
    assert!(j.last_error.unwrap().contains("stopped 3 times"));
    assert_eq!(runs(&format!("{tag}-gave-up")), 1);
}

#[tokio::test]
async fn schedules_fire_once_per_period_and_once_after_downtime() {
    let (_app, h, clock) = setup().await;
    let tag = "tick";
    let worker = || {
        Runner::new(
            h.clone(),
            Registry::new().add::<Tick>().every(
                "test.tick",
                Period::Every(Duration::minutes(1)),
                Tick { tag: tag.into() },
            ),
        )
    };
    // Two instances start together: the first period runs once.
    let (a, b) = (worker(), worker());
    let (ra, rb) = tokio::join!(a.run_due(), b.run_due());
    assert_eq!(ra.unwrap() + rb.unwrap(), 1);
    assert_eq!(runs(tag), 1);
    clock.advance(Duration::seconds(30));
    assert_eq!(a.run_due().await.unwrap() + b.run_due().await.unwrap(), 0);
    clock.advance(Duration::seconds(31));
    let (ra, rb) = tokio::join!(a.run_due(), b.run_due());
    assert_eq!(ra.unwrap() + rb.unwrap(), 1);
    assert_eq!(runs(tag), 2);
    // Every instance was down for ten minutes: the missed period runs once, not ten times.
    clock.advance(Duration::minutes(10));
    let (c, d) = (worker(), worker());
    let (rc, rd) = tokio::join!(c.run_due(), d.run_due());
    assert_eq!(rc.unwrap() + rd.unwrap(), 1);
    assert_eq!(runs(tag), 3);
}

#[tokio::test]
async fn a_graceful_shutdown_gives_back_what_it_cannot_finish() {
    let (_app, h, _clock) = setup().await;
    let tag = "graceful";
    jobs::enqueue(
        &h.db,
        h.now(),
        &TestJob::new(tag, Behaviour::StepsUntilStopped),
    )
    .await
    .unwrap();
    let handle = runner(&h)
        .poll(std::time::Duration::from_millis(20))
        .spawn();
    while runs(tag) < 1 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    handle.stop().await;
    let j = rows(&h).await.remove(0);
    assert_eq!(
        (j.state, j.attempts, j.lease_owner),
        (JobState::Pending, 0, None),
        "back in the queue, and the interrupted run is not an attempt"
    );
}

#[tokio::test]
async fn segments_are_refreshed_through_the_queue_one_job_each() {
    let (app, h, clock) = setup().await;
    let org = herald_core::auth::accounts::ensure_org(&h.db, "acme", "Acme")
        .await
        .unwrap();
    let actor = Actor::system(org.id);
    let everyone = herald_core::domain::audience::Filter::everyone();
    let mut ids = Vec::new();
    for name in ["A", "B", "C"] {
        ids.push(
            herald_core::audience::segments::create(&h.db, &actor, name, &everyone, h.now())
                .await
                .unwrap()
                .id,
        );
    }
    app.contact("acme", "new@example.org", None).await;
    // Herald's segment jobs and their schedule, as `Registry::herald` registers them (without
    // the scheduler's, which would run beside them).
    use herald_core::audience::segments::{RefreshSegment, RefreshSegments};
    let registry = Registry::new()
        .add::<RefreshSegment>()
        .add::<RefreshSegments>()
        .every(
            "segments.refresh",
            Period::Every(Duration::minutes(1)),
            RefreshSegments,
        );
    let worker = Runner::new(h.clone(), registry);
    // The periodic job queues one refresh per segment; each runs once.
    assert_eq!(worker.run_due().await.unwrap(), 1 + 3);
    for id in &ids {
        let s = herald_core::audience::segments::summary(&h.db, &actor, *id, h.now())
            .await
            .unwrap();
        assert_eq!((s.members, s.refreshed_at), (1, Some(h.now())));
    }
    // Within the minute, nothing more.
    clock.advance(Duration::seconds(20));
    assert_eq!(worker.run_due().await.unwrap(), 0);
    clock.advance(Duration::seconds(41));
    assert_eq!(worker.run_due().await.unwrap(), 4);
    let pending = job::Entity::find()
        .filter(job::Column::State.eq(JobState::Pending))
        .all(&h.db)
        .await
        .unwrap();
    assert!(pending.is_empty());
}

/// Settings → System through HTTP: an admin sees their organisation's failed job with its
/// error and retries it; a marketer may not look.
#[tokio::test]
async fn an_admin_sees_and_retries_a_failed_job_on_the_system_page() {
    use herald_core::domain::Role;
    use reqwest::StatusCode;
    let (app, h, _clock) = setup().await;
    let admin = app.user("acme", "ada@acme.test", Role::Admin).await;
    app.user("acme", "mark@acme.test", Role::Marketer).await;
    let org = herald_core::auth::accounts::find_org(&h.db, "acme")
        .await
        .unwrap()
        .unwrap();
    let failed = job::Entity::insert(job::ActiveModel {
        kind: Set("contacts.import".into()),
        payload: Set(format!(r#"{{"import_id": 999, "org_id": {}}}"#, org.id)),
        org_id: Set(Some(org.id)),
        priority: Set(0),
        state: Set(JobState::Failed),
        run_at: Set(h.now()),
        attempts: Set(5),
        max_attempts: Set(5),
        last_error: Set(Some("disk full".into())),
        created_at: Set(h.now()),
        failed_at: Set(Some(h.now())),
        ..Default::default()
    })
    .exec(&h.db)
    .await
    .unwrap()
    .last_insert_id;
    let client = app.signed_in(&admin).await;
    let status = app.call(&client, "system_status", &[]).await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    let q = status.json();
    assert_eq!(q["failed"][0]["id"], failed);
    assert_eq!(q["failed"][0]["last_error"], "disk full");
    assert_eq!(q["failed"][0]["subject"], "import 999");
    assert_eq!(q["failed"][0]["retryable"], true);
    assert_eq!(q["kinds"][0]["kind"], "contacts.import");
    assert_eq!(q["kinds"][0]["failed"], 1);
    let r = app
        .call(&client, "retry_job", &[("id", &failed.to_string())])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let j = rows(&h).await.remove(0);
    assert_eq!((j.state, j.attempts), (JobState::Pending, 0));

    let marketer = app.signed_in("mark@acme.test").await;
    let r = app.call(&marketer, "system_status", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}
