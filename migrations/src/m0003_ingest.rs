//! Getting data in and keeping it straight: API keys, idempotency keys, CSV import jobs and their
//! per-row errors, saved segments with their members (to see who enters), suppression and seed
//! lists, consent provenance, and external ids that make re-sent records change nothing.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn a(name: &str) -> Alias {
    Alias::new(name)
}

fn fk(table: &str, col: &str, to: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{col}"))
        .from(a(table), a(col))
        .to(a(to), a("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn index(table: &str, cols: &[&str], unique: bool) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(format!("idx_{table}_{}", cols.join("_")))
        .table(a(table));
    for c in cols {
        i.col(a(c));
    }
    if unique {
        i.unique();
    }
    i.to_owned()
}

/// Record tables that take an `external_id`: the sender's own id, so sending a record again
/// updates it instead of adding a second one.
const RECORD_TABLES: [&str; 7] = [
    "credential",
    "enrollment",
    "booking",
    "pass",
    "subscription",
    "purchase",
    "contact_event",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let ts = |n: &str| timestamp_with_time_zone(a(n));
        let ts_null = |n: &str| timestamp_with_time_zone_null(a(n));

        // Consent provenance: when and how each consent was given or withdrawn.
        for col in [
            "marketing_consent_at",
            "newsletter_consent_at",
            "marketing_consent_source",
            "newsletter_consent_source",
        ] {
            let mut def = if col.ends_with("_at") {
                ts_null(col)
            } else {
                string_null(a(col))
            };
            m.alter_table(
                Table::alter()
                    .table(a("contact"))
                    .add_column(&mut def)
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(index("contact_group", &["org_id", "name"], true))
            .await?;
        for table in RECORD_TABLES {
            m.alter_table(
                Table::alter()
                    .table(a(table))
                    .add_column(string_null(a("external_id")))
                    .to_owned(),
            )
            .await?;
            m.create_index(index(table, &["org_id", "external_id"], true))
                .await?;
        }

        m.create_table(
            Table::create()
                .table(a("api_key"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("org_id")))
                .col(string(a("name")))
                .col(string(a("prefix")))
                .col(string(a("token_hash")))
                .col(big_integer_null(a("created_by")))
                .col(ts("created_at"))
                .col(ts_null("last_used_at"))
                .col(ts_null("revoked_at"))
                .foreign_key(&mut fk("api_key", "org_id", "organisation"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("api_key", &["token_hash"], true))
            .await?;
        m.create_index(index("api_key", &["org_id"], false)).await?;

        // A request's idempotency key, written in the same transaction as its effects: a retry
        // finds it and gets the first answer back.
        m.create_table(
            Table::create()
                .table(a("idempotency_key"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("org_id")))
                .col(string(a("key")))
                .col(string(a("endpoint")))
                .col(string(a("request_hash")))
                .col(integer(a("status_code")))
                .col(text(a("response_body")))
                .col(ts("created_at"))
                .foreign_key(&mut fk("idempotency_key", "org_id", "organisation"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idempotency_key", &["org_id", "key"], true))
            .await?;

        m.create_table(
            Table::create()
                .table(a("segment"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("org_id")))
                .col(string(a("name")))
                .col(text(a("filter")))
                .col(big_integer_null(a("created_by")))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .col(ts_null("refreshed_at"))
                .foreign_key(&mut fk("segment", "org_id", "organisation"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("segment", &["org_id", "name"], true))
            .await?;
        m.create_table(
            Table::create()
                .table(a("segment_member"))
                .col(big_integer(a("segment_id")))
                .col(big_integer(a("contact_id")))
                .col(ts("entered_at"))
                .primary_key(Index::create().col(a("segment_id")).col(a("contact_id")))
                .foreign_key(&mut fk("segment_member", "segment_id", "segment"))
                .foreign_key(&mut fk("segment_member", "contact_id", "contact"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "segment_member",
            &["segment_id", "entered_at"],
            false,
        ))
        .await?;
        m.create_index(index("segment_member", &["contact_id"], false))
            .await?;

        // Suppression lists (never send to these addresses) and seed lists (send each campaign's
        // copy to these). `global`: the organisation's own suppression list, applied always.
        m.create_table(
            Table::create()
                .table(a("address_list"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("org_id")))
                .col(string(a("kind")))
                .col(string(a("name")))
                .col(boolean(a("global")).default(false))
                .col(ts("created_at"))
                .foreign_key(&mut fk("address_list", "org_id", "organisation"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("address_list", &["org_id", "kind", "name"], true))
            .await?;
        m.create_table(
            Table::create()
                .table(a("address_list_entry"))
                .col(big_integer(a("list_id")))
                .col(string(a("email")))
                .col(string(a("name")).default(""))
                .col(string(a("reason")).default(""))
                .col(ts("created_at"))
                .primary_key(Index::create().col(a("list_id")).col(a("email")))
                .foreign_key(&mut fk("address_list_entry", "list_id", "address_list"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("address_list_entry", &["email"], false))
            .await?;

        // CSV imports: the file, its column mapping, progress (advanced in the same transaction
        // as each chunk's rows, so a crash resumes where it stopped) and the rows it refused.
        m.create_table(
            Table::create()
                .table(a("import_job"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("org_id")))
                .col(big_integer_null(a("created_by")))
                .col(string(a("filename")))
                .col(string(a("status")))
                .col(text(a("content")))
                .col(text(a("mapping")).default("{}"))
                .col(big_integer(a("total_rows")).default(0))
                .col(big_integer(a("processed_rows")).default(0))
                .col(big_integer(a("created_rows")).default(0))
                .col(big_integer(a("updated_rows")).default(0))
                .col(big_integer(a("unchanged_rows")).default(0))
                .col(big_integer(a("error_rows")).default(0))
                .col(text_null(a("failure")))
                .col(string_null(a("claimed_by")))
                .col(ts_null("heartbeat_at"))
                .col(ts("created_at"))
                .col(ts_null("started_at"))
                .col(ts_null("finished_at"))
                .foreign_key(&mut fk("import_job", "org_id", "organisation"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("import_job", &["org_id", "created_at"], false))
            .await?;
        m.create_index(index("import_job", &["status"], false))
            .await?;
        m.create_table(
            Table::create()
                .table(a("import_error"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("job_id")))
                .col(big_integer(a("line")))
                .col(string(a("column_name")))
                .col(string(a("value")))
                .col(string(a("reason")))
                .foreign_key(&mut fk("import_error", "job_id", "import_job"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("import_error", &["job_id", "line"], false))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "import_error",
            "import_job",
            "address_list_entry",
            "address_list",
            "segment_member",
            "segment",
            "idempotency_key",
            "api_key",
        ] {
            m.drop_table(Table::drop().table(a(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
