//! Which instance holds a running job, beyond its lease: `job.lease_key` is the key of the
//! PostgreSQL advisory lock its worker holds for the life of its process. When the process
//! dies its connection closes and the lock goes with it, so another instance takes the job
//! over at once instead of waiting for the lease to expire (`herald_core::jobs`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("job"))
                .add_column(integer_null(Alias::new("lease_key")))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("job"))
                .drop_column(Alias::new("lease_key"))
                .to_owned(),
        )
        .await
    }
}
