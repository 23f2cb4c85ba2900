//! Herald's schema, as an ordered list of sea-orm migrations. Every migration must run on both
//! SQLite and PostgreSQL; the server runs them on start and `herald migrate` runs them alone.

/// The counters the message triggers keep per campaign and per run, and what each counts.
pub use m0010_tracking::{COUNTERS, TRACKED};
pub use sea_orm_migration::prelude::*;

mod m0001_foundation;
mod m0002_records;
mod m0003_ingest;
mod m0004_builder;
mod m0005_engine;
mod m0006_delivery;
mod m0007_schedule;
mod m0008_sending;
mod m0009_actions;
mod m0010_tracking;
mod m0011_liveness;
mod m0012_domain_check;
mod m0013_workflows;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_foundation::Migration),
            Box::new(m0002_records::Migration),
            Box::new(m0003_ingest::Migration),
            Box::new(m0004_builder::Migration),
            Box::new(m0005_engine::Migration),
            Box::new(m0006_delivery::Migration),
            Box::new(m0007_schedule::Migration),
            Box::new(m0008_sending::Migration),
            Box::new(m0009_actions::Migration),
            Box::new(m0010_tracking::Migration),
            Box::new(m0011_liveness::Migration),
            Box::new(m0012_domain_check::Migration),
            Box::new(m0013_workflows::Migration),
        ]
    }
}
