//! The one durable job queue every piece of background work runs on: CSV imports and segment
//! refreshes today; send batches, scheduled runs, webhook processing and workflow steps later.
//!
//! - A job is a row of `job`: its kind, a typed payload (JSON), priority, the time it may run,
//!   attempts, last error, and the lease of the worker running it. A [`Job`] type gives the
//!   kind and how to run it.
//! - [`enqueue`] takes any connection, so work can be enqueued inside the caller's
//!   transaction: the job exists exactly when the change that needs it was committed. A job
//!   with a de-duplication key is not enqueued while another with the same kind and key is
//!   pending (a partial unique index), so the same work enqueued twice runs once.
//! - Workers ([`runner`]) claim due jobs with `FOR UPDATE SKIP LOCKED` on PostgreSQL (any
//!   number of instances) and a single conditional `UPDATE` on SQLite (one instance), and hold
//!   a lease they renew while the job runs. A worker that dies leaves a lease that expires;
//!   another instance takes the job over, and that counts as an attempt. A serving instance
//!   does not wait for the lease ([`liveness`]): on SQLite a starting instance owns every lease,
//!   on PostgreSQL a job is free once the advisory lock its worker held for its process's life
//!   is gone, so work resumes within seconds of a `kill -9` and a restart.
//! - A failed run is retried with exponential backoff and jitter ([`backoff`]). After its last
//!   attempt a job stays in the table as failed, with its error, until an operator retries it
//!   ([`queue::retry`]); it is never deleted silently.
//! - Periodic work ([`schedule`]) is enqueued by whichever instance first claims the period,
//!   with a conditional update on `job_schedule`: each period runs once across all instances,
//!   and a period missed while every instance was down runs once on start-up.
//! - Time comes from [`clock::Clock`], so tests move through hours in milliseconds.

pub mod clock;
mod liveness;
pub mod queue;
pub mod runner;
pub mod schedule;

pub use clock::{Clock, ManualClock, SystemClock};
pub use queue::{enqueue, enqueue_at};
pub use runner::{JobContext, Registry, Runner, RunnerHandle};
pub use schedule::Period;

use crate::Result;
use chrono::Duration;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;

/// What a run of a job came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The work is done; the job is removed.
    Done,
    /// Stopped between two steps because the worker is shutting down: the job goes back to the
    /// queue at once, and this run does not count as an attempt.
    Yield,
    /// Not possible now (a provider is down, a rate limit): run again after this long, without
    /// counting an attempt.
    Later(Duration),
}

/// A kind of background work.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stored in `job.kind`; never change it once jobs of the kind may be queued.
    const KIND: &'static str;
    /// Higher runs first.
    const PRIORITY: i32 = 0;
    const MAX_ATTEMPTS: i32 = 5;

    /// The organisation the job works for, if one (it shows on that organisation's System
    /// page, and goes with the organisation).
    fn org_id(&self) -> Option<i64>;

    /// This job's priority (higher runs first): the kind's, unless a job says otherwise.
    fn priority(&self) -> i32 {
        Self::PRIORITY
    }

    /// Jobs of one kind with the same key are never pending twice.
    fn dedup_key(&self) -> Option<String> {
        None
    }

    /// Runs the job. Long jobs work in steps, commit each step with [`JobContext::fence`], and
    /// return [`Step::Yield`] between steps when [`JobContext::stopping`] says so.
    fn run(&self, ctx: &JobContext) -> impl Future<Output = Result<Step>> + Send;

    /// Called once when the job has failed for the last time, to leave its subject in a state
    /// people understand ("the import stopped").
    fn gave_up(&self, _ctx: &JobContext, _error: &str) -> impl Future<Output = Result<()>> + Send {
        async { Ok(()) }
    }
}

/// How long to wait before attempt `attempt + 1` after attempt `attempt` (from 1) failed:
/// 10 s doubling per attempt, at most an hour, with `jitter` (from 0 to 1) spreading it by
/// ±25 % so that jobs that failed together do not retry together.
pub fn backoff(attempt: i32, jitter: f64) -> Duration {
    let base = 10i64.saturating_mul(1i64 << attempt.clamp(1, 20).saturating_sub(1));
    let seconds = base.min(3600) as f64;
    let spread = seconds * (0.75 + 0.5 * jitter.clamp(0.0, 1.0));
    Duration::milliseconds((spread * 1000.0) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_an_hour() {
        for (attempt, jitter, seconds) in [
            (1, 0.5, 10.0),
            (2, 0.5, 20.0),
            (3, 0.5, 40.0),
            (9, 0.5, 2560.0),
            (10, 0.5, 3600.0),
            (50, 0.5, 3600.0),
            (1, 0.0, 7.5),
            (1, 1.0, 12.5),
            (10, 0.0, 2700.0),
            (0, 0.5, 10.0),
        ] {
            assert_eq!(
                backoff(attempt, jitter).num_milliseconds() as f64 / 1000.0,
                seconds,
                "attempt {attempt}, jitter {jitter}"
            );
        }
    }
}
