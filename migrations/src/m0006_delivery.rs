//! The delivery engine's outbox: each `message` row carries why it was skipped, whether it is a
//! seed copy, when it may go (a quiet period defers it) and when it was claimed; every state a
//! message passes through is a row of `message_event` (what reports chart over time); each send
//! of a campaign has an occurrence key (the run it belongs to: activation, a date, an event) that
//! is unique per campaign, and the cursor of its fan-out; the development mailbox keeps what was
//! sent when no provider is configured; organisations may require opt-in and cap marketing.

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

const ADDED: [(&str, &str); 10] = [
    ("message", "skip_reason"),
    ("message", "sending_by"),
    ("message", "seed"),
    ("message", "not_before"),
    ("message", "sending_at"),
    ("campaign_send", "occurrence"),
    ("campaign_send", "cursor"),
    ("campaign_send", "fanned_out_at"),
    ("organisation", "require_opt_in"),
    ("organisation", "weekly_cap"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        add(m, "message", string_null(a("skip_reason"))).await?;
        add(m, "message", boolean(a("seed")).default(false).to_owned()).await?;
        add(m, "message", timestamp_with_time_zone_null(a("not_before"))).await?;
        add(m, "message", timestamp_with_time_zone_null(a("sending_at"))).await?;
        // The sender run that claimed it (`job id:attempt`): after a crash, rows whose run is
        // no longer alive are reconciled, and no others.
        add(m, "message", string_null(a("sending_by"))).await?;
        // "Suppressed" becomes one of the reasons a message is skipped.
        db.execute_unprepared(
            "UPDATE message SET state = 'skipped', skip_reason = 'suppressed' \
             WHERE state = 'suppressed'",
        )
        .await?;
        // What a sender claims: the due queued messages of one send.
        db.execute_unprepared(
            "CREATE INDEX idx_message_send_state ON message (send_id, state, id)",
        )
        .await?;
        // Seed copies have no contact: one copy per address and send.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_message_send_seed ON message (send_id, recipient) \
             WHERE seed",
        )
        .await?;

        add(
            m,
            "campaign_send",
            string(a("occurrence")).default("").to_owned(),
        )
        .await?;
        add(
            m,
            "campaign_send",
            big_integer(a("cursor")).default(0).to_owned(),
        )
        .await?;
        add(
            m,
            "campaign_send",
            timestamp_with_time_zone_null(a("fanned_out_at")),
        )
        .await?;
        // Sends made before occurrences existed are done; each keeps a key of its own.
        db.execute_unprepared(
            "UPDATE campaign_send SET occurrence = 'before-engine:' || CAST(id AS VARCHAR(20)), \
             fanned_out_at = started_at",
        )
        .await?;
        // Enqueueing is idempotent: one send per campaign and occurrence.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_send_occurrence ON campaign_send (campaign_id, occurrence)",
        )
        .await?;

        m.create_table(
            Table::create()
                .table(a("message_event"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("org_id")))
                .col(big_integer(a("campaign_id")))
                .col(big_integer(a("message_id")))
                .col(string(a("state")))
                .col(timestamp_with_time_zone(a("at")))
                .col(text_null(a("detail")))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_message_event_message")
                        .from(a("message_event"), a("message_id"))
                        .to(a("message"), a("id"))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX idx_message_event_campaign ON message_event (campaign_id, at)",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX idx_message_event_message ON message_event (message_id, id)",
        )
        .await?;

        m.create_table(
            Table::create()
                .table(a("mailbox_message"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("org_id")))
                .col(big_integer_null(a("message_id")))
                .col(string(a("sender")))
                .col(string(a("recipient")))
                .col(string(a("subject")))
                .col(text(a("raw")))
                .col(timestamp_with_time_zone(a("created_at")))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_mailbox_org")
                        .from(a("mailbox_message"), a("org_id"))
                        .to(a("organisation"), a("id"))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_mailbox_message")
                        .from(a("mailbox_message"), a("message_id"))
                        .to(a("message"), a("id"))
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        db.execute_unprepared("CREATE INDEX idx_mailbox_org ON mailbox_message (org_id, id)")
            .await?;
        // One stored copy per message: what reconciling after a crash looks up.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_mailbox_message ON mailbox_message (message_id)",
        )
        .await?;

        add(
            m,
            "organisation",
            boolean(a("require_opt_in")).default(false).to_owned(),
        )
        .await?;
        add(m, "organisation", integer_null(a("weekly_cap"))).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for table in ["mailbox_message", "message_event"] {
            m.drop_table(Table::drop().table(a(table)).to_owned())
                .await?;
        }
        for index in [
            "idx_message_send_state",
            "idx_message_send_seed",
            "idx_send_occurrence",
        ] {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {index}"))
                .await?;
        }
        db.execute_unprepared("UPDATE message SET state = 'suppressed' WHERE state = 'skipped'")
            .await?;
        for (table, col) in ADDED {
            m.alter_table(
                Table::alter()
                    .table(a(table))
                    .drop_column(a(col))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
