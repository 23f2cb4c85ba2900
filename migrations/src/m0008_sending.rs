//! Sending per organisation: the providers it sends through (the instance's by default), with
//! secrets sealed by the secret key; its sender identities; its sending domains with their DKIM
//! keys; and each provider's state as the engine last saw it (an outage pauses sending).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn a(name: &str) -> Alias {
    Alias::new(name)
}

fn org_fk(table: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_org"))
        .from(a(table), a("org_id"))
        .to(a("organisation"), a("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        m.create_table(
            Table::create()
                .table(a("sending_config"))
                .col(big_integer(a("org_id")).primary_key())
                // instance | mailbox | smtp | ses
                .col(string(a("email_provider")).default("instance"))
                // Sealed: it may carry a password.
                .col(text_null(a("smtp_url")))
                .col(string_null(a("ses_region")))
                .col(string_null(a("ses_configuration_set")))
                // instance | http | none
                .col(string(a("sms_provider")).default("instance"))
                // Sealed: base URL with the account and token.
                .col(text_null(a("sms_url")))
                .col(string_null(a("sms_from")))
                // Messages per second at most (per instance); none: the provider's pace.
                .col(integer_null(a("rate_per_second")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .foreign_key(&mut org_fk("sending_config"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("provider_state"))
                .col(big_integer(a("org_id")))
                .col(string(a("channel")))
                // Since when the provider refuses everything for a passing reason.
                .col(timestamp_with_time_zone_null(a("outage_since")))
                .col(text_null(a("last_error")))
                .col(timestamp_with_time_zone_null(a("last_ok_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .primary_key(Index::create().col(a("org_id")).col(a("channel")))
                .foreign_key(&mut org_fk("provider_state"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("sender_identity"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("org_id")))
                .col(string(a("name")))
                .col(string(a("email")))
                .col(string(a("reply_to")).default(""))
                .col(boolean(a("is_default")).default(false))
                .col(timestamp_with_time_zone(a("created_at")))
                .foreign_key(&mut org_fk("sender_identity"))
                .to_owned(),
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_sender_identity ON sender_identity (org_id, email)",
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("sending_domain"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("org_id")))
                .col(string(a("domain")))
                .col(string(a("selector")))
                // Sealed PKCS#1 PEM.
                .col(text(a("private_key")))
                // What to publish: the DKIM TXT record's p= value.
                .col(text(a("public_key")))
                .col(timestamp_with_time_zone(a("created_at")))
                .foreign_key(&mut org_fk("sending_domain"))
                .to_owned(),
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_sending_domain ON sending_domain (org_id, domain)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "sending_domain",
            "sender_identity",
            "provider_state",
            "sending_config",
        ] {
            m.drop_table(Table::drop().table(a(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
