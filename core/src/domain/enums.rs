//! The closed vocabularies of Herald. Stored as short strings, shown with labels.

use serde::{Deserialize, Serialize};

/// A stored string that names no known value (a corrupt row or a bad request).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?}")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $s:literal, $label:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $s)] $variant,)+
        }

        // Written out rather than derived: the derive does not see the `rename` of a macro's
        // literal and would document the variants' names instead of the stored strings.
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($s),+]))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored form.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }

            /// The form shown to people.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($s => Ok($name::$variant),)+
                    _ => Err(UnknownValue { kind: stringify!($name), value: s.to_owned() }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum! {
    /// What a user may do inside their organisation.
    Role {
        /// Everything, including managing users and approving campaigns.
        Admin = "admin", "Admin";
        /// Builds and runs campaigns and templates.
        Marketer = "marketer", "Marketer";
        /// An account manager: sees and reaches only the contacts assigned to them.
        Member = "member", "Account manager";
    }
}

string_enum! {
    /// Where a contact's subscription stands.
    SubscriptionStatus {
        Active = "active", "Active";
        Paused = "paused", "Paused";
        Cancelled = "cancelled", "Cancelled";
        Expired = "expired", "Expired";
    }
}

string_enum! {
    CampaignStatus {
        Draft = "draft", "Draft";
        Active = "active", "Active";
        Inactive = "inactive", "Inactive";
        Completed = "completed", "Completed";
    }
}

string_enum! {
    CampaignKind {
        OneTime = "one_time", "One-time";
        Recurring = "recurring", "Recurring";
        EventTriggered = "event_triggered", "Event-triggered";
        Subscription = "subscription", "Subscribe/unsubscribe";
    }
}

string_enum! {
    /// Why a message is sent; marketing and newsletter messages carry unsubscribe links.
    MessageType {
        Operational = "operational", "Operational";
        Marketing = "marketing", "Marketing";
        Newsletter = "newsletter", "Newsletter";
    }
}

impl MessageType {
    /// Whether the message must offer an unsubscribe link and RFC 8058 one-click unsubscribe.
    pub fn requires_unsubscribe(self) -> bool {
        !matches!(self, MessageType::Operational)
    }
}

string_enum! {
    Channel {
        Email = "email", "Email";
        Sms = "sms", "SMS";
    }
}

string_enum! {
    ContactStatus {
        Active = "active", "Active";
        Inactive = "inactive", "Inactive";
    }
}

string_enum! {
    /// Where one message (one recipient of one send) stands.
    DeliveryState {
        /// Created with its send, waiting for a worker.
        Queued = "queued", "Queued";
        /// Claimed by a worker; the provider has not answered yet.
        Sending = "sending", "Sending";
        /// Accepted by the provider.
        Sent = "sent", "Sent";
        /// The provider confirmed delivery to the recipient's server.
        Delivered = "delivered", "Delivered";
        Bounced = "bounced", "Bounced";
        Complained = "complained", "Complained";
        /// Could not be sent; becomes a manual action for the campaign's creator.
        Failed = "failed", "Failed";
        /// Never sent, for a reason ([`SkipReason`]) recorded with it.
        Skipped = "skipped", "Skipped";
    }
}

string_enum! {
    /// Why a message was not sent ([`crate::domain::delivery::decide`] decides).
    SkipReason {
        /// The campaign expired before the message could go.
        Expired = "expired", "The campaign had expired";
        Inactive = "inactive", "The contact is inactive";
        NoAddress = "no_address", "No address for the channel";
        /// On the global suppression list or one of the campaign's.
        Suppressed = "suppressed", "The address is suppressed";
        /// Withdrew consent for the message type.
        Unsubscribed = "unsubscribed", "Unsubscribed";
        /// The organisation requires opt-in and the contact never gave it.
        NoConsent = "no_consent", "No consent given";
        /// A once-only campaign already reached the contact.
        AlreadyReceived = "already_received", "Already received this campaign";
        /// Too soon after the campaign's last message to the contact.
        FrequencyCap = "frequency_cap", "Too soon after the last one";
        /// The organisation's cap on marketing messages per contact per week.
        OrganisationCap = "organisation_cap", "The weekly cap was reached";
        /// A quiet period lasted past the campaign's expiry.
        QuietPeriod = "quiet_period", "A quiet period outlasted the campaign";
        /// Due while the workflow was paused; on resuming, the user chose to skip it.
        Paused = "paused", "Skipped after a pause";
    }
}

string_enum! {
    /// Where a manual action (a message that could not be sent) stands.
    ActionState {
        /// Waiting for someone to fix the address and send, or to ignore it.
        Todo = "todo", "To do";
        /// Sent again after a fix.
        Sent = "sent", "Sent";
        Ignored = "ignored", "Ignored";
    }
}

string_enum! {
    /// How a campaign's run went, as its creator is told.
    RunOutcome {
        /// Everyone it could reach got the message; nothing failed.
        Success = "success", "Campaign fully successful";
        /// Some messages went out, some could not be sent (they are actions now).
        Partial = "partial", "Campaign partially successful";
        /// Nothing went out.
        Failed = "failed", "Campaign failed";
    }
}

string_enum! {
    /// What a list of addresses is for.
    ListKind {
        /// Addresses never sent to.
        Suppression = "suppression", "Suppression";
        /// People who get a copy of each send, to check it.
        Seed = "seed", "Seed";
    }
}

string_enum! {
    /// Where a CSV import stands.
    ImportState {
        /// Stored, waiting for its column mapping.
        Uploaded = "uploaded", "Waiting for a column mapping";
        /// Mapped, waiting for a worker.
        Queued = "queued", "Queued";
        Running = "running", "Importing";
        Done = "done", "Done";
        Failed = "failed", "Failed";
    }
}

impl ImportState {
    pub fn is_finished(self) -> bool {
        matches!(self, ImportState::Done | ImportState::Failed)
    }
}

string_enum! {
    /// Where a background job stands. A job that succeeds is removed; one that fails for the
    /// last time stays, failed, until an operator retries it.
    JobState {
        /// Waiting for its time (`run_at`) and a worker.
        Pending = "pending", "Pending";
        /// Leased by a worker until its lease expires.
        Running = "running", "Running";
        /// Gave up after its last attempt.
        Failed = "failed", "Failed";
    }
}

string_enum! {
    /// Why a message bounced.
    BounceType {
        /// The address does not exist or refuses mail for good: it is suppressed.
        Permanent = "permanent", "Permanent";
        /// A full mailbox or a server that is down: a soft bounce.
        Transient = "transient", "Soft";
    }
}

string_enum! {
    /// What a recipient did through a tracking URL.
    HitKind {
        Open = "open", "Opened";
        Click = "click", "Clicked";
        /// Opened the message in the browser (`/v/…`).
        View = "view", "Viewed in the browser";
    }
}

string_enum! {
    /// Why an open or a click looks like a machine's rather than the recipient's
    /// ([`crate::domain::tracking::classify`]). Flagged, never dropped.
    Machine {
        /// Apple Mail Privacy Protection fetches every image through its proxy.
        AppleProxy = "apple_proxy", "Apple Mail Privacy Protection";
        /// A mail provider's image proxy fetching as the message arrives.
        ImageProxy = "image_proxy", "Image proxy prefetch";
        /// A security scanner or a program, by its user agent.
        Scanner = "scanner", "Link scanner";
        /// A click within seconds of the message being handed over.
        TooFast = "too_fast", "Clicked within seconds of delivery";
        /// A HEAD request: a program checking the link.
        Head = "head", "HEAD request";
    }
}

string_enum! {
    /// Narrows the per-recipient table.
    RecipientFilter {
        Delivered = "delivered", "Delivered";
        Pending = "pending", "Awaiting a delivery notice";
        Bounced = "bounced", "Bounced";
        Failed = "failed", "Failed or complained";
        Opened = "opened", "Opened";
        NotOpened = "not_opened", "Sent, not opened";
        Clicked = "clicked", "Clicked";
        Skipped = "skipped", "Not sent";
    }
}

string_enum! {
    /// What the per-recipient table is sorted by.
    RecipientSort {
        Recipient = "recipient", "Recipient";
        Sent = "sent", "Sent";
        Status = "status", "Status";
        Opens = "opens", "Opens";
        Clicks = "clicks", "Clicks";
    }
}

string_enum! {
    /// Where a workflow run stands.
    RunStatus {
        /// At a step: about to do it, or waiting there.
        Active = "active", "In progress";
        /// Went through its last step.
        Completed = "completed", "Completed";
        /// Ended early; the run's exit reason says why.
        Exited = "exited", "Exited";
        /// A step kept failing; the run waits for someone to retry it.
        Failed = "failed", "Failed";
    }
}

string_enum! {
    /// Why a workflow run ended before its last step.
    ExitReason {
        ExitStep = "exit_step", "Reached an exit step";
        Goal = "goal", "Reached the goal";
        LeftAudience = "left_audience", "No longer in the audience";
        Unsubscribed = "unsubscribed", "Unsubscribed";
        /// Bounced, complained or suppressed.
        Unreachable = "unreachable", "No longer reachable";
        StepRemoved = "step_removed", "Step removed in a new version";
        /// By a user or through the API.
        Stopped = "stopped", "Stopped by hand";
        /// A workflow with a loop that never waits: the run stops instead of spinning.
        TooManySteps = "too_many_steps", "Too many steps without a wait";
        /// The campaign was ended (deactivated) while the run was in it.
        CampaignEnded = "campaign_ended", "The campaign ended";
    }
}

impl DeliveryState {
    /// The transitions delivery workers and provider webhooks may make. Anything else is a
    /// late or duplicate notification and is ignored.
    pub fn can_become(self, next: DeliveryState) -> bool {
        use DeliveryState::*;
        matches!(
            (self, next),
            (Queued, Sending | Skipped | Failed)
                | (Sending, Sent | Failed | Queued)
                | (Sent, Delivered | Bounced | Complained | Failed)
                | (Delivered, Complained | Bounced)
        )
    }

    pub fn is_final(self) -> bool {
        DeliveryState::ALL
            .iter()
            .all(|next| !self.can_become(*next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn every_value_round_trips_through_its_stored_form() {
        fn check<T: Copy + PartialEq + std::fmt::Debug + FromStr<Err = UnknownValue>>(
            all: &[T],
            as_str: fn(T) -> &'static str,
        ) {
            for v in all {
                assert_eq!(T::from_str(as_str(*v)).unwrap(), *v);
            }
        }
        check(Role::ALL, Role::as_str);
        check(CampaignStatus::ALL, CampaignStatus::as_str);
        check(CampaignKind::ALL, CampaignKind::as_str);
        check(MessageType::ALL, MessageType::as_str);
        check(Channel::ALL, Channel::as_str);
        check(ContactStatus::ALL, ContactStatus::as_str);
        check(DeliveryState::ALL, DeliveryState::as_str);
        check(SkipReason::ALL, SkipReason::as_str);
        check(ListKind::ALL, ListKind::as_str);
        check(ImportState::ALL, ImportState::as_str);
        check(JobState::ALL, JobState::as_str);
        check(RunStatus::ALL, RunStatus::as_str);
        check(ExitReason::ALL, ExitReason::as_str);
        check(BounceType::ALL, BounceType::as_str);
        check(HitKind::ALL, HitKind::as_str);
        check(RecipientFilter::ALL, RecipientFilter::as_str);
        check(RecipientSort::ALL, RecipientSort::as_str);
        check(Machine::ALL, Machine::as_str);
        check(SubscriptionStatus::ALL, SubscriptionStatus::as_str);
    }

    #[test]
    fn unknown_values_are_errors_that_name_the_kind() {
        let err = Role::from_str("root").unwrap_err();
        assert_eq!(err.to_string(), "unknown Role \"root\"");
        assert!(
            MessageType::from_str("Marketing").is_err(),
            "stored forms are exact"
        );
    }

    #[test]
    fn serde_uses_the_stored_form() {
        assert_eq!(
            serde_json::to_string(&CampaignKind::OneTime).unwrap(),
            "\"one_time\""
        );
        let back: DeliveryState = serde_json::from_str("\"complained\"").unwrap();
        assert_eq!(back, DeliveryState::Complained);
    }

    #[test]
    fn delivery_state_transitions() {
        use DeliveryState::*;
        let table = [
            (Queued, Sending, true),
            (Queued, Skipped, true),
            (Queued, Sent, false),
            (Queued, Delivered, false),
            (Sending, Sent, true),
            (Sending, Queued, true), // a retry after a transient failure
            (Sending, Delivered, false),
            (Sent, Delivered, true),
            (Sent, Bounced, true),
            (Sent, Complained, true),
            (Sent, Queued, false), // never send twice
            (Sent, Sending, false),
            (Delivered, Complained, true),
            (Delivered, Sent, false), // a late "sent" after the delivery notice
            (Bounced, Delivered, false),
            (Failed, Sent, false),
            (Skipped, Sending, false),
            (Skipped, Queued, false),
        ];
        for (from, to, allowed) in table {
            assert_eq!(from.can_become(to), allowed, "{from} -> {to}");
        }
    }

    #[test]
    fn final_states() {
        use DeliveryState::*;
        let finals: Vec<_> = DeliveryState::ALL
            .iter()
            .copied()
            .filter(|s| s.is_final())
            .collect();
        assert_eq!(finals, vec![Bounced, Complained, Failed, Skipped]);
    }

    #[test]
    fn only_operational_messages_skip_unsubscribe() {
        assert!(!MessageType::Operational.requires_unsubscribe());
        assert!(MessageType::Marketing.requires_unsubscribe());
        assert!(MessageType::Newsletter.requires_unsubscribe());
    }
}
