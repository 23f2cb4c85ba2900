//! Webhooks from providers: SNS-signed Amazon SES events and SMS delivery receipts. Everything
//! here reads hostile input: anyone can post to a webhook's address, so nothing is believed
//! before its signature is checked, sizes are capped, and every field is optional until proven
//! otherwise. The modules are pure (no database); the HTTP handlers and the jobs that record
//! events use them.
//!
//! - [`sns`]: Amazon SNS messages: parsing, the signing certificate's address, the signature
//!   (versions 1 and 2), freshness, and a cache of AWS's signing keys ([`sns::CertStore`]).
//! - [`ses`]: the SES events an SNS notification carries (bounces, complaints, deliveries, …),
//!   matched to Herald's messages by the tag the SES provider sends.
//! - [`twilio`]: Twilio-style SMS status callbacks (`X-Twilio-Signature`) and their statuses.

pub mod ses;
pub mod sns;
pub mod twilio;
