//! Herald's core: the domain and its storage, grouped by area. Each area is a folder whose
//! module comment says what it owns.
//!
//! - [`domain`]: rules and value types with no I/O, compiled for the browser too. Who may do
//!   what is decided there, in one place ([`domain::access`]).
//! - Infrastructure: the database ([`db`], [`entity`]), the error type, the secret key
//!   ([`secret`]), and the job queue every piece of background work runs on ([`jobs`]).
//! - Areas: [`auth`] (organisations, users, sessions, API keys), [`contacts`] (contacts, groups,
//!   suppression and seed lists), [`ingest`] (validated writes from the REST API and CSV imports,
//!   idempotency keys), [`audience`] (the filter compiler and saved segments), [`templates`]
//!   (versioned templates and the rendering engine), [`campaigns`] (the list and reports, the
//!   builder's storage, activation), [`demo`] (the demo organisation).
//! - [`delivery`]: the outbox (one row per recipient), its fan-out and senders, providers.
//! - [`webhooks`]: providers' events (SNS-signed SES events, SMS receipts), verified and read.
//! - Areas still to come, each a folder of its own beside these: `scheduler` (triggers firing
//!   on time), `tracking` (opens, clicks,
//!   unsubscribes), `reports` and `workflows`.
//!
//! Every function that reads or changes tenant data takes the acting party
//! ([`domain::access::Actor`]): a user with their role, an API key with its scopes, or the
//! system acting for an organisation.

pub mod domain;

#[cfg(feature = "storage")]
pub mod audience;
#[cfg(feature = "storage")]
pub mod auth;
#[cfg(feature = "storage")]
pub mod campaigns;
#[cfg(feature = "storage")]
pub mod contacts;
#[cfg(feature = "storage")]
pub mod db;
#[cfg(feature = "storage")]
pub mod delivery;
#[cfg(feature = "storage")]
pub mod demo;
#[cfg(feature = "storage")]
pub mod entity;
#[cfg(feature = "storage")]
mod error;
#[cfg(feature = "storage")]
pub mod ingest;
#[cfg(feature = "storage")]
pub mod jobs;
#[cfg(feature = "storage")]
pub mod reports;
#[cfg(feature = "storage")]
pub mod secret;
#[cfg(feature = "storage")]
pub mod templates;
#[cfg(feature = "storage")]
pub mod tracking;
#[cfg(feature = "storage")]
pub mod webhooks;
#[cfg(feature = "storage")]
pub mod workflows;

#[cfg(feature = "storage")]
pub use error::{Error, Result};

/// Everything a request handler or a job needs: the database, the instance's settings, and
/// the clock background work reads the time from.
#[cfg(feature = "storage")]
#[derive(Clone, Debug)]
pub struct Herald {
    pub db: sea_orm::DatabaseConnection,
    pub settings: std::sync::Arc<Settings>,
    pub clock: std::sync::Arc<dyn jobs::Clock>,
}

#[cfg(feature = "storage")]
impl Herald {
    /// The clock's time.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}

#[cfg(feature = "storage")]
#[derive(Debug)]
pub struct Settings {
    /// The address recipients and users reach this instance at, without a trailing slash.
    pub public_url: String,
    /// Mark cookies `Secure` (the public URL is https).
    pub secure_cookies: bool,
    pub secret_key: secret::SecretKey,
    /// Keys that signed earlier tokens (`HERALD_PREVIOUS_SECRET_KEYS`): still accepted.
    pub previous_keys: Vec<secret::SecretKey>,
    /// Where messages go: the development mailbox unless a provider is configured.
    /// What organisations without sending settings of their own send through.
    pub providers: delivery::sending::InstanceProviders,
    /// Providers built from organisations' settings.
    pub provider_cache: delivery::sending::ProviderCache,
    /// The From address of campaigns that name none (`HERALD_DEFAULT_FROM`, or `noreply@` the
    /// public URL's host).
    pub default_from: String,
    /// When the daily run that evaluates record dates happens (UTC).
    pub daily_run_at: chrono::NaiveTime,
    /// Tells open report pages of this instance that a campaign's numbers moved.
    pub live: reports::Live,
    /// The DNS server sending domains' checks ask (`HERALD_DNS_RESOLVER`).
    pub resolver: delivery::dns::Resolver,
}

/// The client's address as the server saw it, put in each request's extensions by the HTTP
/// layer (used for rate limiting sign-ins).
#[cfg(feature = "storage")]
#[derive(Clone, Debug)]
pub struct ClientIp(pub String);
