//! Server functions: thin wrappers that find the signed-in user and call `herald_core`.
//! Each has a stable endpoint under `/api/` so scripts and tests can call it.

pub mod actions;
pub mod audience;
pub mod auth;
pub mod builder;
pub mod campaigns;
pub mod contacts;
pub mod messages;
pub mod system;
pub mod templates;
pub mod users;

#[cfg(feature = "ssr")]
pub mod ssr;
