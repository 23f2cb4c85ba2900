//! Templates and the campaign builder: template versions and per-language variants; a campaign's
//! audience, trigger, settings and the template version it sends; approvals.

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
        add(
            m,
            "template",
            string(a("description")).default("").to_owned(),
        )
        .await?;
        // The default language of the subject and bodies in the template row itself.
        add(
            m,
            "template",
            string(a("language")).default("en").to_owned(),
        )
        .await?;
        // Other languages: JSON {"fr": {"subject": …, "preheader": …, "html": …, "text": …}}.
        add(m, "template", text(a("variants")).default("{}").to_owned()).await?;
        add(m, "template", integer(a("version")).default(1).to_owned()).await?;

        // Every saved state of a template, so a campaign keeps sending what it was activated
        // with while the template is edited.
        m.create_table(
            Table::create()
                .table(a("template_version"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("org_id")))
                .col(big_integer(a("template_id")))
                .col(integer(a("number")))
                .col(string(a("language")))
                .col(text(a("content")))
                .col(text(a("variants")))
                .col(big_integer_null(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_template_version_template")
                        .from(a("template_version"), a("template_id"))
                        .to(a("template"), a("id"))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_template_version_template_number")
                .table(a("template_version"))
                .col(a("template_id"))
                .col(a("number"))
                .unique()
                .to_owned(),
        )
        .await?;

        // The builder's parts. `audience` and `trigger` are the domain's JSON; `settings` holds
        // the general information (sender, quiet periods, frequency, lists, …).
        add(
            m,
            "campaign",
            text(a("audience"))
                .default(r#"{"filter":"all","of":[]}"#)
                .to_owned(),
        )
        .await?;
        add(m, "campaign", text_null(a("trigger"))).await?;
        add(m, "campaign", text(a("settings")).default("{}").to_owned()).await?;
        add(m, "campaign", big_integer_null(a("template_version_id"))).await?;
        add(
            m,
            "campaign",
            timestamp_with_time_zone_null(a("approval_requested_at")),
        )
        .await?;
        add(m, "campaign", big_integer_null(a("approved_by"))).await?;
        add(
            m,
            "campaign",
            timestamp_with_time_zone_null(a("approved_at")),
        )
        .await?;
        add(
            m,
            "campaign",
            timestamp_with_time_zone_null(a("deactivated_at")),
        )
        .await?;

        add(
            m,
            "organisation",
            boolean(a("require_approval")).default(false).to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(a("template_version")).to_owned())
            .await?;
        let columns: [(&str, &[&str]); 3] = [
            (
                "template",
                &["description", "language", "variants", "version"],
            ),
            (
                "campaign",
                &[
                    "audience",
                    "trigger",
                    "settings",
                    "template_version_id",
                    "approval_requested_at",
                    "approved_by",
                    "approved_at",
                    "deactivated_at",
                ],
            ),
            ("organisation", &["require_approval"]),
        ];
        for (table, cols) in columns {
            for col in cols {
                m.alter_table(
                    Table::alter()
                        .table(a(table))
                        .drop_column(a(col))
                        .to_owned(),
                )
                .await?;
            }
        }
        Ok(())
    }
}
