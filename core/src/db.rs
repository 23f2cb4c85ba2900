//! Connecting to SQLite (the embedded default) or PostgreSQL, and running migrations.

use migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use std::time::Duration;

/// Connects to `url`: `sqlite://path/to/file.db` (created when missing) or `postgres://…`.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut url = url.to_owned();
    if let Some(path) = url.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap_or_default();
        let dir = std::path::Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = dir.filter(|_| path != ":memory:") {
            std::fs::create_dir_all(dir)
                .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
        }
        if !url.contains("mode=") {
            url.push_str(if url.contains('?') {
                "&mode=rwc"
            } else {
                "?mode=rwc"
            });
        }
    }
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(16)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        // For every connection of the pool: a page cache of 32 MiB instead of SQLite's 2 MiB
        // (tracking writes touch message pages all over the table; a miss is a read from the
        // file), and a checkpoint after 10,000 pages of log instead of 1,000, so that a large
        // write does not copy itself into the database file at every commit. Memory is taken
        // as pages are used.
        .map_sqlx_sqlite_opts(|o| {
            o.pragma("cache_size", "-32768")
                .pragma("wal_autocheckpoint", "10000")
        });
    let db = Database::connect(options).await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // Readers and one writer at a time without "database is locked" on every write.
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
        db.execute_unprepared("PRAGMA foreign_keys=ON").await?;
    }
    Ok(db)
}

/// SQLite runs one writer at a time, and a transaction that read before writing cannot wait
/// for another writer: it fails at once ("database is locked") instead of queueing. Write
/// transactions therefore take this lock on SQLite (one process serves an SQLite file). On
/// PostgreSQL it is not needed and not taken: row locks and unique constraints order writers.
static SQLITE_WRITER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Held for the length of a write transaction (on SQLite; `None` on PostgreSQL).
pub async fn write_lock(db: &DatabaseConnection) -> Option<tokio::sync::MutexGuard<'static, ()>> {
    match db.get_database_backend() {
        DbBackend::Sqlite => Some(SQLITE_WRITER.lock().await),
        _ => None,
    }
}

/// Begins a transaction that will write. On SQLite it takes the write lock at once (`BEGIN
/// IMMEDIATE`), waiting its turn behind another writer (the busy timeout) instead of failing
/// with "database is locked" when it reads before it writes while a job of the same or another
/// process writes; with [`write_lock`] held it waits for nobody of its own process.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            db.begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            })
            .await
        }
        _ => db.begin().await,
    }
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// `SELECT 1`, for health checks.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.ping().await
}
