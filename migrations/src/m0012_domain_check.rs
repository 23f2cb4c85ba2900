//! A sending domain keeps its last SPF, DKIM and DMARC check (`sending_domain.dns_check`, the
//! findings as JSON), so that Settings → Sending shows where the domain stood when it was last
//! asked, without asking the DNS on every page view.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("sending_domain"))
                .add_column(text_null(Alias::new("dns_check")))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("sending_domain"))
                .drop_column(Alias::new("dns_check"))
                .to_owned(),
        )
        .await
    }
}
