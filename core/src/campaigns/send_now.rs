//! Send now: a message to chosen contacts (picked on the contact list, or all that match its
//! filters), out within seconds. It is a campaign like any other (one immediate run, recorded
//! the moment it is sent, "Untitled" without a name, in the campaign list with its numbers),
//! so the outbox, the decision rule, reports and failed-send actions all apply unchanged.
//!
//! Account managers may send to the contacts assigned to them and only those: their audience
//! is resolved to those contacts before anything is stored. Campaign approval is for campaigns
//! built in the builder; sending to a selection is governed by the right to send messages (as
//! the transactional API's sends are).

use crate::audience;
use crate::delivery::{Targets, start_send};
use crate::domain::access::{Action, Actor};
use crate::domain::audience::{Filter, MAX_SELECTED_CONTACTS};
use crate::domain::campaign::Settings;
use crate::domain::template::{Content, TemplateInput};
use crate::domain::trigger::Trigger;
use crate::domain::{CampaignKind, CampaignStatus};
use crate::domain::{Channel, MessageType};
use crate::entity::campaign;
use crate::{Error, Result, templates};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use serde::{Deserialize, Serialize};

/// What to send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Message {
    /// One of the organisation's templates.
    Template { template_id: i64 },
    /// A message written on the spot: a subject (email) and a plain-text body, which may use
    /// the same tags as templates (`{{ contact.first_name }}`).
    Quick { subject: String, body: String },
}

/// A send-now request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendNow {
    /// The campaign's name; empty: "Untitled".
    pub name: String,
    pub channel: Channel,
    pub message_type: MessageType,
    pub audience: Filter,
    pub message: Message,
}

/// Longest quick message body.
const MAX_BODY: usize = 20_000;

/// Sends `input` now on `actor`'s behalf; answers the campaign's id.
pub async fn send_now(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &SendNow,
    now: DateTime<Utc>,
) -> Result<i64> {
    actor.require(Action::SendMessages)?;
    audience::check(&input.audience)?;
    let org_id = actor.org_id();
    let audience = match actor.assigned_to() {
        None => input.audience.clone(),
        Some(_) => {
            // Only the account manager's own contacts, fixed now: the campaign's audience is
            // evaluated later without the manager's scope.
            let ids = audience::contact_ids(db, actor, &input.audience, now).await?;
            if ids.len() > MAX_SELECTED_CONTACTS {
                return Err(Error::Invalid(format!(
                    "Send to at most {MAX_SELECTED_CONTACTS} contacts at once."
                )));
            }
            Filter::Contacts { ids }
        }
    };
    if audience::count(db, actor, &audience, now).await? == 0 {
        return Err(Error::Invalid(match actor.assigned_to() {
            Some(_) => {
                "None of these contacts is assigned to you: there is no one to send to.".into()
            }
            None => "No contacts match: there is no one to send to.".into(),
        }));
    }
    // Templates are written by the system on the sender's behalf: account managers may send
    // messages but not edit templates.
    let system = Actor::system(org_id);
    let template_id = match &input.message {
        Message::Template { template_id } => *template_id,
        Message::Quick { subject, body } => {
            quick_template(db, &system, input, subject, body).await?
        }
    };
    crate::delivery::outbox::check_standalone(db, org_id, template_id).await?;
    let version = templates::current_version(db, org_id, template_id).await?;
    // The organisation's default sender identity; without one the sender uses the instance's
    // address, as for every campaign that names no sender.
    let from = crate::delivery::sending::default_identity(db, org_id).await?;
    let settings = Settings {
        from_name: from.as_ref().map(|f| f.name.clone()).unwrap_or_default(),
        from_email: from.as_ref().map(|f| f.email.clone()).unwrap_or_default(),
        reply_to: from
            .as_ref()
            .map(|f| f.reply_to.clone())
            .unwrap_or_default(),
        ..Settings::default()
    };
    let name = input.name.trim();
    if name.chars().count() > 200 {
        return Err(Error::Invalid(
            "The name is too long: at most 200 characters.".into(),
        ));
    }
    let _writer = crate::db::write_lock(db).await;
    // The campaign, active, and its one run commit together: a campaign is recorded the moment
    // it is sent, and never without its run.
    let txn = crate::db::begin_write(db).await?;
    let c = campaign::ActiveModel {
        org_id: Set(org_id),
        name: Set((!name.is_empty()).then(|| name.to_owned())),
        description: Set(match actor.user() {
            Some(u) => format!("Sent now by {} to a selection of contacts.", u.email),
            None => "Sent now to a selection of contacts.".into(),
        }),
        goal: Set(String::new()),
        kind: Set(CampaignKind::OneTime),
        message_type: Set(input.message_type),
        channel: Set(input.channel),
        status: Set(CampaignStatus::Active),
        template_id: Set(Some(template_id)),
        template_version_id: Set(Some(version)),
        created_by: Set(actor.user_id()),
        created_at: Set(now),
        updated_at: Set(now),
        activated_at: Set(Some(now)),
        audience: Set(audience),
        trigger: Set(Some(Trigger::Immediately)),
        settings: Set(settings),
        revision: Set(0),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let occurrence = format!("activation:{}", now.to_rfc3339());
    start_send(&txn, &c, &occurrence, Targets::Audience, now).await?;
    txn.commit().await?;
    Ok(c.id)
}

/// The template behind a quick message: kind "message", the body as text and as escaped HTML
/// paragraphs.
async fn quick_template(
    db: &DatabaseConnection,
    system: &Actor,
    input: &SendNow,
    subject: &str,
    body: &str,
) -> Result<i64> {
    let (subject, body) = (subject.trim(), body.trim());
    if body.is_empty() {
        return Err(Error::Invalid("Write the message first.".into()));
    }
    if body.len() > MAX_BODY {
        return Err(Error::Invalid(format!(
            "The message is too long: at most {MAX_BODY} characters."
        )));
    }
    if input.channel == Channel::Email && subject.is_empty() {
        return Err(Error::Invalid("An email needs a subject.".into()));
    }
    let title = match (input.name.trim(), subject) {
        ("", "") => "Quick message".to_owned(),
        ("", s) => s.to_owned(),
        (n, _) => n.to_owned(),
    };
    let saved = templates::save(
        db,
        system,
        None,
        &TemplateInput {
            name: format!("Message: {}", title.chars().take(80).collect::<String>()),
            kind: QUICK_KIND.into(),
            description: "Written in Send now.".into(),
            language: "en".into(),
            content: Content {
                subject: subject.to_owned(),
                html: paragraphs(body),
                text: body.to_owned(),
                preheader: String::new(),
            },
            variants: Default::default(),
        },
    )
    .await?;
    Ok(saved.id)
}

/// The kind of the templates quick messages are kept in.
pub const QUICK_KIND: &str = "message";

/// Plain text as HTML: escaped, blank lines between paragraphs, single line breaks kept.
pub fn paragraphs(text: &str) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let body: String = text
        .replace("\r\n", "\n")
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>", escape(p).replace('\n', "<br>")))
        .collect();
    format!("<html><body>{body}</body></html>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_becomes_escaped_paragraphs() {
        for (text, html) in [
            ("Hi", "<p>Hi</p>"),
            (
                "Hi {{ contact.first_name }},\n\nSee you",
                "<p>Hi {{ contact.first_name }},</p><p>See you</p>",
            ),
            ("a\r\nb", "<p>a<br>b</p>"),
            (
                "<script>x</script> & \"q\"",
                "<p>&lt;script&gt;x&lt;/script&gt; &amp; &quot;q&quot;</p>",
            ),
            ("\n\n\n", ""),
        ] {
            assert_eq!(
                paragraphs(text),
                format!("<html><body>{html}</body></html>"),
                "{text:?}"
            );
        }
    }
}
