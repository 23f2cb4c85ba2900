//! Groundwork for the engine: the durable job queue and the schedules of periodic jobs; scopes
//! on API keys; a revision counter and a pending revision on campaigns. CSV imports move onto
//! the queue: their own claim columns go, and imports waiting or running get a job.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn a(name: &str) -> Alias {
    Alias::new(name)
}

async fn add(m: &SchemaManager<'_>, table: &str, mut col: ColumnDef) -> Result<(), DbErr> {
    // One column per statement: SQLite's ALTER TABLE adds one at a time.
    m.alter_table(
        Table::alter()
            .table(a(table))
            .add_column(&mut col)
            .to_owned(),
    )
    .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(a("job"))
                .col(big_pk_auto(a("id")))
                .col(string(a("kind")))
                .col(text(a("payload")))
                .col(big_integer_null(a("org_id")))
                .col(integer(a("priority")).default(0))
                .col(string(a("state")))
                .col(timestamp_with_time_zone(a("run_at")))
                .col(integer(a("attempts")).default(0))
                .col(integer(a("max_attempts")))
                .col(text_null(a("last_error")))
                .col(string_null(a("lease_owner")))
                .col(timestamp_with_time_zone_null(a("lease_expires_at")))
                .col(string_null(a("dedup_key")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone_null(a("started_at")))
                .col(timestamp_with_time_zone_null(a("failed_at")))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_job_org")
                        .from(a("job"), a("org_id"))
                        .to(a("organisation"), a("id"))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        // What workers look for: due pending jobs in priority order, and expired leases.
        db.execute_unprepared("CREATE INDEX idx_job_due ON job (state, priority DESC, run_at, id)")
            .await?;
        db.execute_unprepared("CREATE INDEX idx_job_lease ON job (state, lease_expires_at)")
            .await?;
        db.execute_unprepared("CREATE INDEX idx_job_org ON job (org_id, state)")
            .await?;
        // The same work enqueued twice runs once: one pending job per kind and key. A partial
        // index (both databases have them), so a running or failed job does not block the next.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_job_dedup ON job (kind, dedup_key) \
             WHERE state = 'pending' AND dedup_key IS NOT NULL",
        )
        .await?;

        m.create_table(
            Table::create()
                .table(a("job_schedule"))
                .col(string(a("name")).primary_key())
                .col(timestamp_with_time_zone(a("next_run_at")))
                .col(timestamp_with_time_zone_null(a("last_run_at")))
                .to_owned(),
        )
        .await?;

        // Keys made before scopes existed could do everything they can do now.
        add(
            m,
            "api_key",
            string(a("scopes")).default("read write send").to_owned(),
        )
        .await?;

        add(m, "campaign", integer(a("revision")).default(0).to_owned()).await?;
        add(m, "campaign", text_null(a("pending"))).await?;
        add(m, "campaign", big_integer_null(a("pending_by"))).await?;
        add(
            m,
            "campaign",
            timestamp_with_time_zone_null(a("pending_at")),
        )
        .await?;

        // Imports that were waiting or running go on the queue.
        db.execute_unprepared(
            "INSERT INTO job (kind, payload, org_id, priority, state, run_at, attempts, \
             max_attempts, dedup_key, created_at) \
             SELECT 'contacts.import', '{\"import_id\":' || id || '}', org_id, 0, 'pending', \
             created_at, 0, 5, CAST(id AS VARCHAR(20)), created_at \
             FROM import_job WHERE status IN ('queued', 'running')",
        )
        .await?;
        for col in ["claimed_by", "heartbeat_at"] {
            m.alter_table(
                Table::alter()
                    .table(a("import_job"))
                    .drop_column(a(col))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(a("job_schedule")).to_owned())
            .await?;
        m.drop_table(Table::drop().table(a("job")).to_owned())
            .await?;
        for (table, col) in [
            ("api_key", "scopes"),
            ("campaign", "revision"),
            ("campaign", "pending"),
            ("campaign", "pending_by"),
            ("campaign", "pending_at"),
        ] {
            m.alter_table(
                Table::alter()
                    .table(a(table))
                    .drop_column(a(col))
                    .to_owned(),
            )
            .await?;
        }
        add(m, "import_job", string_null(a("claimed_by"))).await?;
        add(
            m,
            "import_job",
            timestamp_with_time_zone_null(a("heartbeat_at")),
        )
        .await?;
        Ok(())
    }
}
