//! Workflows: a campaign that is a series of steps.
//!
//! - `campaign.workflow` is the workflow being edited (JSON); publishing it makes an immutable
//!   `workflow_version`, and `campaign.workflow_version_id` names the one runs enter.
//! - `workflow_run`: one contact's way through one version (per key, for keyed entries), at a
//!   step since `arrived_at`, to be advanced at `wake_at`. One active run per campaign, contact
//!   and key (a unique partial index), whatever the number of instances entering it.
//! - `workflow_log`: append-only, a row for each step a run arrives at and one when it ends.
//! - `workflow_counter`: the per-step and whole-workflow numbers, kept in the transaction that
//!   moves runs, so reports never count log rows.
//! - A send step's messages are outbox messages of a long-lived send per version and step
//!   (`campaign_send.step_id`); each names its run and position (`message.run_id`, `run_seq`),
//!   unique together, so no step of a run is ever sent twice. A campaign's own sends keep their
//!   rule of one message per send and contact.
//! - A to-do step makes an `action` that belongs to a run instead of a message, so
//!   `action.message_id` becomes optional (SQLite rebuilds the table to change it).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn a(name: &str) -> Alias {
    Alias::new(name)
}

fn fk(table: &str, col: &str, to: &str, on_delete: ForeignKeyAction) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{col}"))
        .from(a(table), a(col))
        .to(a(to), a("id"))
        .on_delete(on_delete)
        .to_owned()
}

async fn add(m: &SchemaManager<'_>, table: &str, col: ColumnDef) -> Result<(), DbErr> {
    m.alter_table(Table::alter().table(a(table)).add_column(col).to_owned())
        .await
}

/// The `action` table as m0009 made it, with an optional message and the run it may belong to.
fn action_table(name: &str) -> TableCreateStatement {
    Table::create()
        .table(a(name))
        .col(big_pk_auto(a("id")))
        .col(big_integer(a("org_id")))
        .col(big_integer(a("campaign_id")))
        // The message that could not be sent, if it is about one.
        .col(big_integer_null(a("message_id")))
        .col(big_integer(a("contact_id")))
        .col(string(a("channel")))
        .col(text(a("reason")))
        .col(big_integer_null(a("owner_id")))
        .col(string(a("state")))
        .col(timestamp_with_time_zone(a("created_at")))
        .col(timestamp_with_time_zone_null(a("resolved_at")))
        .col(big_integer_null(a("resolved_by")))
        // A workflow's to-do step: the run and its position (one action each).
        .col(big_integer_null(a("run_id")))
        .col(integer_null(a("run_seq")))
        .foreign_key(&mut fk(
            name,
            "org_id",
            "organisation",
            ForeignKeyAction::Cascade,
        ))
        .foreign_key(&mut fk(
            name,
            "campaign_id",
            "campaign",
            ForeignKeyAction::Cascade,
        ))
        .foreign_key(&mut fk(
            name,
            "contact_id",
            "contact",
            ForeignKeyAction::Cascade,
        ))
        .to_owned()
}

const ACTION_COLUMNS: &str = "id, org_id, campaign_id, message_id, contact_id, channel, reason, \
                              owner_id, state, created_at, resolved_at, resolved_by";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let sqlite = db.get_database_backend() == sea_orm::DbBackend::Sqlite;

        add(m, "campaign", text_null(a("workflow"))).await?;
        add(m, "campaign", big_integer_null(a("workflow_version_id"))).await?;

        m.create_table(
            Table::create()
                .table(a("workflow_version"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("org_id")))
                .col(big_integer(a("campaign_id")))
                // 1, 2, … per campaign.
                .col(integer(a("version")))
                .col(text(a("definition")))
                // The template version each send step sends, by template id (JSON), fixed on
                // publishing as a campaign's template version is on activation.
                .col(text(a("template_versions")))
                .col(timestamp_with_time_zone(a("published_at")))
                .col(big_integer_null(a("published_by")))
                .foreign_key(&mut fk(
                    "workflow_version",
                    "org_id",
                    "organisation",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "workflow_version",
                    "campaign_id",
                    "campaign",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(a("workflow_run"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("org_id")))
                .col(big_integer(a("campaign_id")))
                .col(big_integer(a("version_id")))
                .col(big_integer(a("contact_id")))
                // The entry's key (an invoice id); empty when the workflow is not keyed.
                .col(string(a("run_key")).default(""))
                .col(string(a("step_id")))
                .col(integer(a("seq")))
                .col(timestamp_with_time_zone(a("arrived_at")))
                // When to advance it next (active runs only).
                .col(timestamp_with_time_zone_null(a("wake_at")))
                .col(string(a("status")))
                .col(string_null(a("exit_reason")))
                .col(timestamp_with_time_zone(a("entered_at")))
                .col(timestamp_with_time_zone_null(a("ended_at")))
                // Failed advances in a row, and the last one's error.
                .col(integer(a("attempts")).default(0))
                .col(text_null(a("error")))
                // What the entry's messages render with beyond the contact (an event's, a
                // record's fields), as JSON.
                .col(text_null(a("context")))
                // Resumed after a pause with "skip": the messages it was due to send while
                // paused are skipped when it next moves on.
                .col(boolean(a("skip_sends")).default(false))
                .foreign_key(&mut fk(
                    "workflow_run",
                    "org_id",
                    "organisation",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "workflow_run",
                    "campaign_id",
                    "campaign",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "workflow_run",
                    "version_id",
                    "workflow_version",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "workflow_run",
                    "contact_id",
                    "contact",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(a("workflow_log"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("org_id")))
                .col(big_integer(a("campaign_id")))
                .col(big_integer(a("run_id")))
                .col(big_integer(a("version_id")))
                .col(integer(a("seq")))
                .col(string(a("step_id")))
                // active: arrived at the step; completed / exited: the run ended there.
                .col(string(a("status")))
                .col(string_null(a("exit_reason")))
                .col(timestamp_with_time_zone(a("at")))
                // Which way out of the step before it the run took to get here.
                .col(integer_null(a("via")))
                .foreign_key(&mut fk(
                    "workflow_log",
                    "run_id",
                    "workflow_run",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(a("workflow_counter"))
                .col(big_integer(a("campaign_id")))
                .col(big_integer(a("version_id")))
                // Empty for the whole workflow's numbers.
                .col(string(a("step_id")))
                // entered, here, proceeded, failed, exited:<reason>, path:<n>, completed, goal.
                .col(string(a("name")))
                .col(big_integer(a("org_id")))
                .col(big_integer(a("n")).default(0))
                .primary_key(
                    Index::create()
                        .col(a("campaign_id"))
                        .col(a("version_id"))
                        .col(a("step_id"))
                        .col(a("name")),
                )
                .foreign_key(&mut fk(
                    "workflow_counter",
                    "campaign_id",
                    "campaign",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;

        add(m, "campaign_send", big_integer_null(a("version_id"))).await?;
        add(m, "campaign_send", string_null(a("step_id"))).await?;
        add(m, "message", big_integer_null(a("run_id"))).await?;
        add(m, "message", integer_null(a("run_seq"))).await?;

        if sqlite {
            // One batch, so that every statement runs on the same connection of the pool (a
            // second connection may still see the old table).
            let create = action_table("action_next").to_string(SqliteQueryBuilder);
            db.execute_unprepared(&format!(
                "{create}; \
                 INSERT INTO action_next ({ACTION_COLUMNS}) SELECT {ACTION_COLUMNS} FROM action; \
                 DROP TABLE action; \
                 ALTER TABLE action_next RENAME TO action; \
                 CREATE UNIQUE INDEX idx_action_message ON action (message_id); \
                 CREATE INDEX idx_action_list ON action (org_id, state, id); \
                 CREATE INDEX idx_action_campaign ON action (campaign_id, state); \
                 CREATE INDEX idx_action_contact ON action (contact_id)"
            ))
            .await?;
        } else {
            db.execute_unprepared("ALTER TABLE action ALTER COLUMN message_id DROP NOT NULL")
                .await?;
            add(m, "action", big_integer_null(a("run_id"))).await?;
            add(m, "action", integer_null(a("run_seq"))).await?;
        }

        for sql in [
            "CREATE UNIQUE INDEX idx_workflow_version ON workflow_version (campaign_id, version)",
            // One active run per campaign, contact and key.
            "CREATE UNIQUE INDEX idx_workflow_run_active ON workflow_run \
             (campaign_id, contact_id, run_key) WHERE status = 'active'",
            // What the advancing jobs claim: the due active runs.
            "CREATE INDEX idx_workflow_run_due ON workflow_run (wake_at) WHERE status = 'active'",
            // Who is at a step now, and a contact's runs (frequencies, the timeline).
            "CREATE INDEX idx_workflow_run_step ON workflow_run (campaign_id, step_id, status)",
            "CREATE INDEX idx_workflow_run_contact ON workflow_run (contact_id, campaign_id)",
            "CREATE UNIQUE INDEX idx_workflow_log_run ON workflow_log (run_id, seq, status)",
            // A step of a run is one message, ever.
            "CREATE UNIQUE INDEX idx_message_run ON message (run_id, run_seq)",
            "CREATE UNIQUE INDEX idx_action_run ON action (run_id, run_seq)",
            "CREATE UNIQUE INDEX idx_campaign_send_step ON campaign_send (version_id, step_id)",
        ] {
            db.execute_unprepared(sql).await?;
        }
        // A send reaches a contact at most once, except a workflow's step sends, where each
        // run's position is one message (idx_message_run) and a contact may have several runs.
        // (In one batch: on SQLite another connection of the pool may still see the old index.)
        db.execute_unprepared(
            "DROP INDEX idx_message_send_contact; \
             CREATE UNIQUE INDEX idx_message_send_contact ON message (send_id, contact_id) \
             WHERE run_id IS NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared(
            "DROP INDEX idx_message_send_contact; \
             CREATE UNIQUE INDEX idx_message_send_contact ON message (send_id, contact_id); \
             DROP INDEX idx_message_run; \
             DROP INDEX idx_campaign_send_step",
        )
        .await?;
        for (table, col) in [
            ("message", "run_seq"),
            ("message", "run_id"),
            ("campaign_send", "step_id"),
            ("campaign_send", "version_id"),
            ("campaign", "workflow_version_id"),
            ("campaign", "workflow"),
        ] {
            m.alter_table(
                Table::alter()
                    .table(a(table))
                    .drop_column(a(col))
                    .to_owned(),
            )
            .await?;
        }
        for table in [
            "workflow_counter",
            "workflow_log",
            "workflow_run",
            "workflow_version",
        ] {
            m.drop_table(Table::drop().table(a(table)).to_owned())
                .await?;
        }
        // The action table keeps its optional message: a to-do without one is not lost.
        Ok(())
    }
}
