//! Sending as people follow it: a message that cannot be sent (no address, an address the
//! provider refuses for good) becomes a manual **action** for the campaign's creator, to fix and
//! send or to ignore; and when a run is done its creator gets a **notification** with its outcome.

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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        m.create_table(
            Table::create()
                .table(a("action"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("org_id")))
                .col(big_integer(a("campaign_id")))
                // The message that could not be sent: one action each.
                .col(big_integer(a("message_id")))
                .col(big_integer(a("contact_id")))
                .col(string(a("channel")))
                // Why, in words (a skip reason's label or the provider's answer).
                .col(text(a("reason")))
                // Whose to-do it is: the campaign's creator (none: anyone's).
                .col(big_integer_null(a("owner_id")))
                // todo | sent | ignored
                .col(string(a("state")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone_null(a("resolved_at")))
                .col(big_integer_null(a("resolved_by")))
                .foreign_key(&mut fk(
                    "action",
                    "org_id",
                    "organisation",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "action",
                    "campaign_id",
                    "campaign",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "action",
                    "contact_id",
                    "contact",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        for sql in [
            "CREATE UNIQUE INDEX idx_action_message ON action (message_id)",
            "CREATE INDEX idx_action_list ON action (org_id, state, id)",
            "CREATE INDEX idx_action_campaign ON action (campaign_id, state)",
            "CREATE INDEX idx_action_contact ON action (contact_id)",
        ] {
            db.execute_unprepared(sql).await?;
        }
        m.create_table(
            Table::create()
                .table(a("notification"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("org_id")))
                .col(big_integer(a("user_id")))
                .col(big_integer_null(a("campaign_id")))
                // The run it reports (one notification per run).
                .col(big_integer_null(a("send_id")))
                // success | partial | failed
                .col(string(a("outcome")))
                .col(text(a("title")))
                .col(text(a("body")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone_null(a("read_at")))
                // When the notification email went out (none: not yet, or no email wanted).
                .col(timestamp_with_time_zone_null(a("emailed_at")))
                .foreign_key(&mut fk(
                    "notification",
                    "org_id",
                    "organisation",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "notification",
                    "user_id",
                    "app_user",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        for sql in [
            "CREATE UNIQUE INDEX idx_notification_send ON notification (send_id, user_id)",
            "CREATE INDEX idx_notification_user ON notification (user_id, id)",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["notification", "action"] {
            m.drop_table(Table::drop().table(a(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
