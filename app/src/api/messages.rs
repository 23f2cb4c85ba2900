//! Sending to people by hand (send now from the contact list) and the development mailbox.

use crate::error::AppError;
use herald_core::domain::mailbox::{MailboxMessage, MailboxPage};
use leptos::prelude::*;

/// Sends now to a selection: `audience` is the selection's audience as JSON (what
/// `selection_audience` answered), `template` a template id or "quick" for the message written
/// in `subject` and `body`. Answers the campaign's id; without JavaScript the browser is sent to
/// the campaign's page.
#[allow(clippy::too_many_arguments)]
#[server(endpoint = "send_now")]
pub async fn send_now(
    name: String,
    channel: String,
    message_type: String,
    audience: String,
    template: String,
    subject: Option<String>,
    body: Option<String>,
) -> Result<i64, AppError> {
    use herald_core::campaigns::send_now::{Message, SendNow};
    use herald_core::{Error, domain::audience::Filter};
    let (h, actor) = super::ssr::require_actor().await?;
    let invalid = |what: &str| AppError::from(Error::Invalid(what.to_owned()));
    let audience: Filter = serde_json::from_str(&audience)
        .map_err(|_| invalid("The selection is not valid: choose the contacts again."))?;
    let message = match template.trim() {
        "quick" => Message::Quick {
            subject: subject.unwrap_or_default(),
            body: body.unwrap_or_default(),
        },
        id => Message::Template {
            template_id: id
                .parse()
                .map_err(|_| invalid("Choose a template or write a message."))?,
        },
    };
    let input = SendNow {
        name,
        channel: channel
            .parse()
            .map_err(|_| invalid("Choose email or SMS."))?,
        message_type: message_type
            .parse()
            .map_err(|_| invalid("Choose the type of message."))?,
        audience,
        message,
    };
    let id = herald_core::campaigns::send_now::send_now(&h.db, &actor, &input, h.now()).await?;
    leptos_axum::redirect(&format!("/campaigns/{id}"));
    Ok(id)
}

/// A page of the development mailbox, newest first, searched by recipient and subject.
#[server(endpoint = "mailbox_list")]
pub async fn mailbox_list(
    search: Option<String>,
    page: Option<u64>,
) -> Result<MailboxPage, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::delivery::mailbox::list(
        &h.db,
        &actor,
        search.as_deref().unwrap_or(""),
        page.unwrap_or(1),
    )
    .await?)
}

/// One message of the development mailbox, opened.
#[server(endpoint = "mailbox_message")]
pub async fn open_mailbox_message(id: i64) -> Result<MailboxMessage, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::delivery::mailbox::open(&h.db, &actor, id).await?)
}

/// What the send-now page starts from: the selection's audience and size, and the templates
/// that may be sent.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SendNowStart {
    pub audience: herald_core::domain::audience::Filter,
    pub count: crate::api::audience::AudienceCount,
    pub templates: Vec<herald_core::domain::template::TemplateSummary>,
}

/// The send-now page's data for a selection on the contact list (the picked contacts, or all
/// that match the filters).
#[server(endpoint = "open_send_now", input = leptos::server_fn::codec::Json)]
pub async fn open_send_now(
    filter: herald_core::domain::ContactFilter,
    ids: Vec<i64>,
    all: bool,
) -> Result<SendNowStart, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    actor
        .require(herald_core::domain::access::Action::SendMessages)
        .map_err(herald_core::Error::from)?;
    let audience = crate::api::contacts::selection_filter(&h, &actor, filter, ids, all).await?;
    start_for(&h, &actor, audience).await
}

/// What the app's shell shows around every page: unread notifications, and whether the Mailbox
/// is offered.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ShellInfo {
    pub unread: u64,
    pub mailbox: bool,
}

#[server(endpoint = "shell_status")]
pub async fn shell_status() -> Result<ShellInfo, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(ShellInfo {
        unread: herald_core::delivery::notify::list(&h.db, &actor, 1)
            .await?
            .unread,
        mailbox: herald_core::delivery::mailbox::in_use(&h, &actor).await?,
    })
}

/// Sends a test now: `of` "template" or "campaign" with its `id`, `to` "me" or a seed list's
/// id. Answers what happened, in words.
#[server(endpoint = "send_test")]
pub async fn send_test(of: String, id: i64, to: String) -> Result<String, AppError> {
    use herald_core::delivery::test_send::{TestOf, TestTo};
    let (h, actor) = super::ssr::require_actor().await?;
    let invalid = |what: &str| AppError::from(herald_core::Error::Invalid(what.to_owned()));
    let what = match of.as_str() {
        "template" => TestOf::Template(id),
        "campaign" => TestOf::Campaign(id),
        _ => return Err(invalid("Test a template or a campaign.")),
    };
    let to = match to.as_str() {
        "me" => TestTo::Me,
        list => TestTo::Seeds(
            list.parse()
                .map_err(|_| invalid("Choose who gets the test."))?,
        ),
    };
    Ok(
        herald_core::delivery::test_send::send_test(&h, &actor, what, to)
            .await?
            .describe(),
    )
}

/// The Messages page's data for a mailing list query: its audience and size, and the templates.
#[server(endpoint = "open_mailing", input = leptos::server_fn::codec::Json)]
pub async fn open_mailing(
    query: herald_core::domain::mailing::MailingQuery,
) -> Result<SendNowStart, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    actor
        .require(herald_core::domain::access::Action::SendMessages)
        .map_err(herald_core::Error::from)?;
    let audience = query
        .filter()
        .map_err(|e| AppError::from(herald_core::Error::Invalid(e)))?;
    start_for(&h, &actor, audience).await
}

/// The send-now form's data for `audience`: its size, who the defaults reach, the templates.
#[cfg(feature = "ssr")]
async fn start_for(
    h: &herald_core::Herald,
    actor: &herald_core::domain::access::Actor,
    audience: herald_core::domain::audience::Filter,
) -> Result<SendNowStart, AppError> {
    let count = with_default_reach(h, actor, &audience).await?;
    let templates = herald_core::templates::list(&h.db, actor, false)
        .await?
        .into_iter()
        .filter(|t| !t.is_system)
        .collect();
    Ok(SendNowStart {
        audience,
        count,
        templates,
    })
}

/// The audience's size and who an operational email (the send-now page's defaults) reaches.
#[cfg(feature = "ssr")]
async fn with_default_reach(
    h: &herald_core::Herald,
    actor: &herald_core::domain::access::Actor,
    audience: &herald_core::domain::audience::Filter,
) -> Result<crate::api::audience::AudienceCount, AppError> {
    use herald_core::domain::delivery::ReachRule;
    use herald_core::domain::{Channel, MessageType};
    let mut count = crate::api::audience::count_for(h, actor, audience).await?;
    let rule = ReachRule {
        message_type: MessageType::Operational,
        channel: Channel::Email,
        suppression_list_ids: Vec::new(),
    };
    count.reach = Some(
        herald_core::audience::reach::reach(&h.db, actor, audience, &rule, chrono::Utc::now())
            .await?,
    );
    Ok(count)
}
