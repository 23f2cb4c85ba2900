//! Background work: every instance runs a worker of the one job queue (`herald_core::jobs`),
//! with every kind of job Herald has and its periodic schedules. Jobs are claimed through the
//! database, so any number of instances share the work against one PostgreSQL.

use herald_core::Herald;
use herald_core::jobs::{Registry, Runner, RunnerHandle};

/// Starts the worker with `concurrency` jobs at once and leases of `lease_seconds`; `None` when
/// `concurrency` is 0 (an instance that only serves requests).
pub fn spawn(herald: Herald, concurrency: usize, lease_seconds: i64) -> Option<RunnerHandle> {
    (concurrency > 0).then(|| {
        let daily_at = herald.settings.daily_run_at;
        let runner = Runner::new(herald, Registry::herald(daily_at))
            .concurrency(concurrency)
            .lease(chrono::Duration::seconds(lease_seconds));
        tracing::info!(
            worker = runner.owner(),
            concurrency,
            "background worker started"
        );
        runner.spawn()
    })
}
