//! Herald's core.
//!
//! - [`domain`]: rules and value types with no I/O (compiled for the browser too).
//! - With the `storage` feature: the database ([`db`], [`entity`]), accounts and sessions
//!   ([`accounts`]), campaigns and their statistics ([`campaigns`]), demo data ([`demo`]).
//!   Every function that reads or writes tenant data takes the organisation it acts for.

pub mod domain;

#[cfg(feature = "storage")]
pub mod accounts;
#[cfg(feature = "storage")]
pub mod api_keys;
#[cfg(feature = "storage")]
pub mod audience;
#[cfg(feature = "storage")]
pub mod builder;
#[cfg(feature = "storage")]
pub mod campaigns;
#[cfg(feature = "storage")]
pub mod contacts;
#[cfg(feature = "storage")]
pub mod db;
#[cfg(feature = "storage")]
pub mod demo;
#[cfg(feature = "storage")]
pub mod entity;
#[cfg(feature = "storage")]
mod error;
#[cfg(feature = "storage")]
pub mod idempotency;
#[cfg(feature = "storage")]
pub mod imports;
#[cfg(feature = "storage")]
pub mod ingest;
#[cfg(feature = "storage")]
pub mod lists;
#[cfg(feature = "storage")]
pub mod render;
#[cfg(feature = "storage")]
pub mod secret;
#[cfg(feature = "storage")]
pub mod segments;
#[cfg(feature = "storage")]
pub mod templates;

#[cfg(feature = "storage")]
pub use error::{Error, Result};

/// Everything a request handler needs: the database and the instance's settings.
#[cfg(feature = "storage")]
#[derive(Clone, Debug)]
pub struct Herald {
    pub db: sea_orm::DatabaseConnection,
    pub settings: std::sync::Arc<Settings>,
}

#[cfg(feature = "storage")]
#[derive(Debug)]
pub struct Settings {
    /// The address recipients and users reach this instance at, without a trailing slash.
    pub public_url: String,
    /// Mark cookies `Secure` (the public URL is https).
    pub secure_cookies: bool,
    pub secret_key: secret::SecretKey,
}

/// The client's address as the server saw it, put in each request's extensions by the HTTP
/// layer (used for rate limiting sign-ins).
#[cfg(feature = "storage")]
#[derive(Clone, Debug)]
pub struct ClientIp(pub String);
