//! The scheduler: an organisation has a time zone (recurring campaigns send at a local time in
//! it); a timed campaign knows when it next runs, and a campaign timed by record dates how far
//! its daily runs have looked; a send may be for some contacts of the audience only (those an
//! event, a record date or a segment entry picked: `send_target`) and says how many sender
//! shards share it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn a(name: &str) -> Alias {
    Alias::new(name)
}

async fn add(m: &SchemaManager<'_>, table: &str, mut col: ColumnDef) -> Result<(), DbErr> {
    m.alter_table(
        Table::alter()
            .table(a(table))
            .add_column(&mut col)
            .to_owned(),
    )
    .await
}

const ADDED: [(&str, &str); 5] = [
    ("organisation", "time_zone"),
    ("campaign", "next_run_at"),
    ("campaign", "evaluated_through"),
    ("campaign_send", "shards"),
    ("campaign_send", "targeted"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        add(
            m,
            "organisation",
            string(a("time_zone")).default("UTC").to_owned(),
        )
        .await?;
        add(
            m,
            "campaign",
            timestamp_with_time_zone_null(a("next_run_at")),
        )
        .await?;
        // The last day (UTC) whose record dates a relative campaign's daily run has looked at.
        add(m, "campaign", date_null(a("evaluated_through"))).await?;
        add(
            m,
            "campaign_send",
            integer(a("shards")).default(4).to_owned(),
        )
        .await?;
        add(
            m,
            "campaign_send",
            boolean(a("targeted")).default(false).to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("send_target"))
                .col(big_integer(a("send_id")))
                .col(big_integer(a("contact_id")))
                // What the message renders with beyond the contact: the record whose date
                // fired a relative campaign (JSON).
                .col(text_null(a("context")))
                .primary_key(Index::create().col(a("send_id")).col(a("contact_id")))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_send_target_send")
                        .from(a("send_target"), a("send_id"))
                        .to(a("campaign_send"), a("id"))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // What the scheduler's tick looks up.
        db.execute_unprepared(
            "CREATE INDEX idx_campaign_next_run ON campaign (status, next_run_at)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS idx_campaign_next_run")
            .await?;
        m.drop_table(Table::drop().table(a("send_target")).to_owned())
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
