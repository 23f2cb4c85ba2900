//! Background work of every instance: CSV imports and segment refreshes. Work is claimed
//! through the database (a conditional update that only one instance wins), so any number of
//! instances can run against one PostgreSQL.

use chrono::Utc;
use herald_core::Herald;
use herald_core::audience::segments;
use herald_core::ingest::imports;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often idle workers look for queued imports.
const IMPORT_POLL: Duration = Duration::from_millis(500);
/// How often segments are brought up to date (contacts entering them are noticed this late).
const SEGMENT_REFRESH: Duration = Duration::from_secs(60);

pub struct Worker {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Worker {
    /// Asks the loops to stop and waits for the chunk in progress to commit.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

fn worker_name() -> String {
    format!(
        "{}-{}-{:08x}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "herald".into()),
        std::process::id(),
        rand::random::<u32>()
    )
}

pub fn spawn(herald: Herald) -> Worker {
    let (stop, stopped) = watch::channel(false);
    let name = worker_name();
    let imports_task = {
        let herald = herald.clone();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            loop {
                match imports::claim(&herald.db, &name, Utc::now()).await {
                    Ok(Some(job)) => {
                        let id = job.id;
                        tracing::info!(job = id, file = %job.filename, "importing contacts");
                        if let Err(e) = imports::run(&herald.db, job, &name).await {
                            tracing::error!(job = id, error = %e, "import failed");
                            let _ = imports::fail(
                                &herald.db,
                                id,
                                "The import stopped because of an error on our side; the rows imported so far are kept.",
                            )
                            .await;
                        }
                        continue;
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "could not look for imports"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(IMPORT_POLL) => {}
                    _ = stopped.changed() => return,
                }
                if *stopped.borrow() {
                    return;
                }
            }
        })
    };
    let segments_task = {
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            loop {
                match segments::refresh_all(&herald.db, Utc::now()).await {
                    Ok(n) if n > 0 => tracing::info!(entered = n, "segments refreshed"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "segment refresh failed"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(SEGMENT_REFRESH) => {}
                    _ = stopped.changed() => return,
                }
            }
        })
    };
    Worker {
        stop,
        tasks: vec![imports_task, segments_task],
    }
}
