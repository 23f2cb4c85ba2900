//! Who is acting: organisations, users and their passwords ([`accounts`]), browser sessions and
//! the sign-in limits, and REST API keys with their scopes ([`api_keys`]). What each of them may
//! do is decided in [`crate::domain::access`].

pub mod accounts;
pub mod api_keys;
pub mod sessions;
