//! sea-orm entities, one per table (see the migrations crate for the schema and its indexes).
//! Closed vocabularies and structured values are columns of the domain's own types
//! ([`values`] says how they are stored).

pub mod action;
pub mod address_list;
pub mod address_list_entry;
pub mod api_key;
pub mod app_user;
pub mod booking;
pub mod campaign;
pub mod campaign_send;
pub mod contact;
pub mod contact_event;
pub mod contact_group;
pub mod contact_group_member;
pub mod credential;
pub mod enrollment;
pub mod idempotency_key;
pub mod import_error;
pub mod import_job;
pub mod job;
pub mod job_schedule;
pub mod login_attempt;
pub mod mailbox_message;
pub mod message;
pub mod message_event;
pub mod notification;
pub mod organisation;
pub mod pass;
pub mod provider_state;
pub mod purchase;
pub mod segment;
pub mod segment_member;
pub mod send_target;
pub mod sender_identity;
pub mod sending_config;
pub mod sending_domain;
pub mod session;
pub mod subscription;
pub mod template;
pub mod template_version;
pub mod values;
