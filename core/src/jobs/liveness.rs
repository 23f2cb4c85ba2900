//! Telling that a running job's worker is gone before its lease runs out, so that a restart
//! after `kill -9` resumes the work within seconds instead of a lease later.
//!
//! - **SQLite** is worked by one instance (by design): a starting worker loop owns every
//!   lease. Whatever another process left running is due again at once ([`Liveness::start`]).
//! - **PostgreSQL** serves several instances. Each worker loop holds an advisory lock for the
//!   life of its process, on a connection of its own, and the jobs it claims record the lock's
//!   key (`job.lease_key`). A process that dies, however it dies, loses its connection and the
//!   lock with it; claims then treat its jobs as free ([`holder_gone`]) while their leases
//!   still run. A worker that lost its connection while alive is taken over too, and the
//!   fence (`JobContext::fence`) keeps it from committing twice, as for an expired lease.
//!
//! Claims by one-off runs (`herald jobs run`, tests' `run_due`) hold no lock and record no key:
//! for their jobs the lease alone tells.

use crate::Result;
use crate::domain::JobState;
use crate::entity::job;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::sqlx::postgres::PgConnection;
use sea_orm::{
    ColumnTrait, DatabaseBackend, DatabaseConnection, EntityTrait, ExprTrait, QueryFilter,
};

/// The first key of Herald's advisory locks ("HERA"); the second is the worker's own.
const NAMESPACE: i32 = 0x4845_5241;

/// The claim condition, on PostgreSQL, for a running job whose worker's lock is free.
pub(crate) fn holder_gone(backend: DatabaseBackend) -> Option<Expr> {
    (backend == DatabaseBackend::Postgres).then(|| {
        Expr::cust(format!(
            "(job.lease_key IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_locks l \
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 \
             AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             AND l.classid::bigint = {NAMESPACE} AND l.objid::bigint = job.lease_key))"
        ))
    })
}

/// A worker loop's claim to be alive.
pub(crate) struct Liveness {
    /// The connection holding the lock (PostgreSQL), or none.
    conn: Option<PgConnection>,
    key: i32,
}

impl Liveness {
    /// Starts a worker loop's life: on SQLite takes over every job another process left
    /// running; on PostgreSQL takes a lock of its own (when no connection can be had, the
    /// worker's jobs fall back to their leases).
    pub(crate) async fn start(db: &DatabaseConnection, owner: &str, now: DateTime<Utc>) -> Self {
        let mut me = Liveness { conn: None, key: 0 };
        match db.get_database_backend() {
            DatabaseBackend::Sqlite => match take_over_all(db, owner, now).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(jobs = n, "took over the jobs a stopped instance held"),
                Err(e) => tracing::warn!(error = %e, "could not take over unfinished jobs"),
            },
            DatabaseBackend::Postgres => me.ensure(db).await,
            _ => {}
        }
        me
    }

    /// The key claims record: the lock this worker holds, if it holds one.
    pub(crate) fn key(&self) -> Option<i32> {
        self.conn.as_ref().map(|_| self.key)
    }

    /// Checks that the lock is still held (its connection answers) and takes it again if not.
    pub(crate) async fn ensure(&mut self, db: &DatabaseConnection) {
        use sea_orm::sqlx::Connection;
        if db.get_database_backend() != DatabaseBackend::Postgres {
            return;
        }
        if let Some(conn) = self.conn.as_mut() {
            if conn.ping().await.is_ok() {
                return;
            }
            tracing::warn!("the connection holding this worker's lock was lost; taking it again");
            self.conn = None;
        }
        match lock(db, self.key).await {
            Ok((conn, key)) => {
                self.conn = Some(conn);
                self.key = key;
            }
            Err(e) => tracing::warn!(error = %e, "could not take this worker's lock"),
        }
    }
}

/// A connection of its own holding a lock of the namespace: `key` again if it is free (the same
/// worker after a lost connection), else a random one.
async fn lock(db: &DatabaseConnection, key: i32) -> Result<(PgConnection, i32)> {
    let pool = db.get_postgres_connection_pool();
    let mut conn = pool.acquire().await.map_err(sql_error)?.detach();
    let mut key = key;
    for _ in 0..16 {
        if key <= 0 {
            key = 1 + (rand::random::<u32>() >> 2) as i32;
        }
        let held: bool = sea_orm::sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
            .bind(NAMESPACE)
            .bind(key)
            .fetch_one(&mut conn)
            .await
            .map_err(sql_error)?;
        if held {
            return Ok((conn, key));
        }
        key = 0;
    }
    Err(crate::Error::Internal("no free worker lock".into()))
}

fn sql_error(e: sea_orm::sqlx::Error) -> crate::Error {
    crate::Error::Internal(format!("worker lock: {e}"))
}

/// SQLite: every job left running by another worker is due again now.
async fn take_over_all(db: &DatabaseConnection, owner: &str, now: DateTime<Utc>) -> Result<u64> {
    let _writer = crate::db::write_lock(db).await;
    Ok(job::Entity::update_many()
        .col_expr(
            job::Column::LeaseExpiresAt,
            Expr::value(now - chrono::Duration::milliseconds(1)),
        )
        .filter(job::Column::State.eq(JobState::Running))
        .filter(
            job::Column::LeaseOwner
                .ne(owner)
                .or(job::Column::LeaseOwner.is_null()),
        )
        .exec(db)
        .await?
        .rows_affected)
}
