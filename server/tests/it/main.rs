//! Server integration tests, black-box through HTTP (and the `herald` binary), in one test
//! binary: one link instead of one per file keeps build time and disk use down.

mod common;

mod api;
mod audience;
mod auth;
mod builder;
mod campaigns;
mod cli;
mod contacts;
mod crash;
mod delivery;
mod dns;
mod imports;
mod jobs;
mod providers;
mod reach;
mod scheduler;
mod sending_ui;
mod tenancy;
mod tracking;
mod users;
mod workflows;
