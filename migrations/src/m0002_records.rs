//! Contacts' records, events, groups and consent: what audiences filter on and triggers fire
//! from. Every record type is its own table with its own indexed dates, so that "expires within
//! 30 days" is an index range scan, not a JSON scan.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Contact {
    Table,
    Id,
    AssignedUserId,
    MarketingConsent,
    NewsletterConsent,
    Attributes,
}

#[derive(DeriveIden)]
enum Organisation {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ContactGroup {
    Table,
    Id,
    OrgId,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ContactGroupMember {
    Table,
    GroupId,
    ContactId,
}

/// The common columns of every record table: the organisation and the contact it belongs to.
fn record_table(table: impl IntoIden + Clone, extra: Vec<ColumnDef>) -> TableCreateStatement {
    let name = table.clone().into_iden().to_string();
    let mut t = Table::create();
    t.table(table.clone())
        .col(big_pk_auto(Alias::new("id")))
        .col(big_integer(Alias::new("org_id")))
        .col(big_integer(Alias::new("contact_id")));
    for mut col in extra {
        t.col(&mut col);
    }
    t.foreign_key(
        ForeignKey::create()
            .name(format!("fk_{name}_contact"))
            .from(table.clone(), Alias::new("contact_id"))
            .to(Contact::Table, Contact::Id)
            .on_delete(ForeignKeyAction::Cascade),
    )
    .foreign_key(
        ForeignKey::create()
            .name(format!("fk_{name}_org"))
            .from(table, Alias::new("org_id"))
            .to(Organisation::Table, Organisation::Id)
            .on_delete(ForeignKeyAction::Cascade),
    )
    .to_owned()
}

fn index(table: &str, cols: &[&str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(format!("idx_{table}_{}", cols.join("_")))
        .table(Alias::new(table));
    for c in cols {
        i.col(Alias::new(*c));
    }
    i.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Contact columns the audience engine filters on directly.
        for col in [
            big_integer_null(Contact::AssignedUserId),
            boolean(Contact::MarketingConsent).default(false).to_owned(),
            boolean(Contact::NewsletterConsent)
                .default(false)
                .to_owned(),
            text(Contact::Attributes).default("{}").to_owned(),
        ] {
            let mut col = col;
            m.alter_table(
                Table::alter()
                    .table(Contact::Table)
                    .add_column(&mut col)
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(index("contact", &["org_id", "assigned_user_id"]))
            .await?;
        // No foreign key to app_user: account managers come and go; the application checks.

        m.create_table(
            Table::create()
                .table(ContactGroup::Table)
                .col(big_pk_auto(ContactGroup::Id))
                .col(big_integer(ContactGroup::OrgId))
                .col(string(ContactGroup::Name))
                .col(timestamp_with_time_zone(ContactGroup::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_group_org")
                        .from(ContactGroup::Table, ContactGroup::OrgId)
                        .to(Organisation::Table, Organisation::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ContactGroupMember::Table)
                .col(big_integer(ContactGroupMember::GroupId))
                .col(big_integer(ContactGroupMember::ContactId))
                .primary_key(
                    Index::create()
                        .col(ContactGroupMember::GroupId)
                        .col(ContactGroupMember::ContactId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_member_group")
                        .from(ContactGroupMember::Table, ContactGroupMember::GroupId)
                        .to(ContactGroup::Table, ContactGroup::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_member_contact")
                        .from(ContactGroupMember::Table, ContactGroupMember::ContactId)
                        .to(Contact::Table, Contact::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index("contact_group_member", &["contact_id"]))
            .await?;

        let ts = |n: &str| timestamp_with_time_zone(Alias::new(n));
        let ts_null = |n: &str| timestamp_with_time_zone_null(Alias::new(n));
        let s = |n: &str| string(Alias::new(n));
        let records: Vec<(&str, Vec<ColumnDef>, Vec<Vec<&str>>)> = vec![
            (
                "credential",
                vec![
                    s("collection"),
                    s("name"),
                    ts("published_at"),
                    ts_null("renewed_at"),
                    ts_null("expires_at"),
                ],
                vec![
                    vec!["org_id", "expires_at"],
                    vec!["org_id", "published_at"],
                    vec!["org_id", "renewed_at"],
                    vec!["contact_id"],
                ],
            ),
            (
                "enrollment",
                vec![
                    s("course"),
                    s("category"),
                    s("trainer"),
                    boolean(Alias::new("online")),
                    boolean(Alias::new("remote")),
                    ts("starts_at"),
                    ts("ends_at"),
                ],
                vec![
                    vec!["org_id", "starts_at"],
                    vec!["org_id", "ends_at"],
                    vec!["contact_id"],
                ],
            ),
            (
                "booking",
                vec![ts("starts_at")],
                vec![vec!["org_id", "starts_at"], vec!["contact_id"]],
            ),
            (
                "pass",
                vec![ts("valid_from"), ts("valid_to")],
                vec![vec!["org_id", "valid_to"], vec!["contact_id"]],
            ),
            (
                "subscription",
                vec![s("status"), ts("period_start"), ts_null("period_end")],
                vec![vec!["org_id", "status"], vec!["contact_id"]],
            ),
            (
                "purchase",
                vec![ts("ordered_at"), big_integer(Alias::new("amount_cents"))],
                vec![vec!["org_id", "ordered_at"], vec!["contact_id"]],
            ),
            (
                "contact_event",
                vec![
                    s("name"),
                    ts("occurred_at"),
                    text(Alias::new("properties")).default("{}").to_owned(),
                ],
                vec![
                    vec!["org_id", "name", "occurred_at"],
                    vec!["contact_id", "name"],
                ],
            ),
        ];
        for (table, cols, indexes) in records {
            m.create_table(record_table(Alias::new(table), cols))
                .await?;
            for cols in indexes {
                m.create_index(index(table, &cols)).await?;
            }
        }
        // Engagement filters read the message history per contact and time.
        m.create_index(index("message", &["contact_id", "last_opened_at"]))
            .await?;
        m.create_index(index("message", &["contact_id", "last_clicked_at"]))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "contact_event",
            "purchase",
            "subscription",
            "pass",
            "booking",
            "enrollment",
            "credential",
            "contact_group_member",
            "contact_group",
        ] {
            m.drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
