//! Test sends: a template, or a campaign as it would go out, sent now to the person asking or to
//! a seed list, through the organisation's real provider. A test is marked as one (a "[Test]"
//! subject and an `X-Herald-Test` header), personalised with one of the organisation's contacts
//! as a sample, and is no message of any campaign: it is left out of every statistic, and its
//! unsubscribe link (for marketing and newsletters) points at no one.

use super::compose::{self, Envelope, Sender};
use super::provider::Outgoing;
use crate::domain::access::{Action, Actor};
use crate::domain::{ContactStatus, MessageType};
use crate::entity::{campaign, contact};
use crate::{Error, Herald, Result};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};

/// What to test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TestOf {
    Template(i64),
    /// The campaign's template, sender and message type.
    Campaign(i64),
}

/// Who gets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TestTo {
    /// The person asking.
    Me,
    /// The addresses of one of the organisation's seed lists.
    Seeds(i64),
}

/// The most addresses one test goes to.
pub const MAX_TEST_RECIPIENTS: usize = 50;

/// What a test send did, per address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestReport {
    pub sent: Vec<String>,
    /// Address and the provider's answer, in its words.
    pub failed: Vec<(String, String)>,
}

impl TestReport {
    pub fn describe(&self) -> String {
        let mut out = Vec::new();
        if !self.sent.is_empty() {
            out.push(format!("Test sent to {}.", self.sent.join(", ")));
        }
        for (to, why) in &self.failed {
            out.push(format!("Not sent to {to}: {why}"));
        }
        out.join(" ")
    }
}

/// Sends a test of `what` to `to` now.
pub async fn send_test(h: &Herald, actor: &Actor, what: TestOf, to: TestTo) -> Result<TestReport> {
    actor.require(Action::EditTemplates)?;
    let org_id = actor.org_id();
    let db = &h.db;
    let now = h.now();
    let org = super::find_org(db, org_id).await?;
    let (template_id, settings, message_type) = match what {
        TestOf::Template(id) => (id, Default::default(), MessageType::Operational),
        TestOf::Campaign(id) => {
            let c = campaign::Entity::find_by_id(id)
                .filter(campaign::Column::OrgId.eq(org_id))
                .one(db)
                .await?
                .ok_or(Error::NotFound("campaign"))?;
            let t = c.template_id.ok_or_else(|| {
                Error::Invalid("Choose the campaign's template before sending a test.".into())
            })?;
            (t, c.settings, c.message_type)
        }
    };
    let (input, _) = crate::templates::get_in(db, org_id, template_id).await?;
    let addresses: Vec<String> =
        match to {
            TestTo::Me => vec![actor.user().map(|u| u.email.clone()).ok_or_else(|| {
                Error::Invalid("A test to “me” needs a person signed in.".into())
            })?],
            TestTo::Seeds(list) => {
                let seeds = crate::contacts::lists::seed_addresses(db, org_id, list).await?;
                if seeds.is_empty() {
                    return Err(Error::Invalid(
                        "That seed list has no addresses (or is not a seed list).".into(),
                    ));
                }
                seeds.into_iter().take(MAX_TEST_RECIPIENTS).collect()
            }
        };
    // A sample contact for the personal parts: the organisation's first active one.
    let sample = contact::Entity::find()
        .filter(contact::Column::OrgId.eq(org_id))
        .filter(contact::Column::Status.eq(ContactStatus::Active))
        .order_by_asc(contact::Column::Id)
        .one(db)
        .await?;
    let identity = super::sending::default_identity(db, org_id).await?;
    let sender = Sender::choose(
        &settings,
        identity.as_ref(),
        &org.name,
        &h.settings.default_from,
    );
    let routes = super::sending::routes(h, org_id).await?;
    let dkim = super::sending::dkim_for(h, org_id, &sender.address).await?;
    let host = compose::message_id_host(&h.settings.public_url);
    // The link is there to be seen; it unsubscribes no one.
    let unsubscribe = (message_type != MessageType::Operational)
        .then(|| format!("{}/u/test", h.settings.public_url));
    let feedback = compose::feedback_id("test", message_type, org_id);
    let mut report = TestReport::default();
    for (i, address) in addresses.into_iter().enumerate() {
        let vars = super::sender::context(
            sample.as_ref(),
            &address,
            &org.name,
            unsubscribe.as_deref(),
            "",
        );
        let mut body = match compose::render_body(&input.content, &vars, unsubscribe.as_deref()) {
            Ok(b) => b,
            Err(e) => {
                return Err(Error::Invalid(format!(
                    "The template could not be rendered: {e}"
                )));
            }
        };
        body.subject = format!("[Test] {}", body.subject);
        // No message row: a negative id makes the Message-ID unique and tells providers that
        // nothing is to be recorded against it.
        let id = -(now.timestamp_micros() * 100 + i as i64);
        let raw = compose::mime(
            &Envelope {
                message_id: id,
                sender: &sender,
                to: &address,
                unsubscribe_url: unsubscribe.as_deref(),
                host: &host,
                now,
                dkim: dkim.as_ref(),
                feedback_id: feedback.as_deref(),
            },
            &body,
        )
        .map(|raw| {
            let mut marked = b"X-Herald-Test: yes\r\n".to_vec();
            marked.extend(raw);
            marked
        });
        let raw = match raw {
            Ok(raw) => raw,
            Err(e) => {
                report.failed.push((address, e));
                continue;
            }
        };
        let out = Outgoing {
            message_id: id,
            org_id,
            from: sender.address.clone(),
            to: address.clone(),
            subject: body.subject.clone(),
            raw,
        };
        match routes.email.send(db, &out, now).await {
            Ok(_) => report.sent.push(address),
            Err(e) => report.failed.push((address, e.to_string())),
        }
    }
    Ok(report)
}

/// Settings → Sending's "send a test": a short message through the organisation's provider for
/// `channel` now (email to the admin asking, a text message to `phone`), answered with what the
/// provider said, in words. Nothing is recorded but the provider's answer.
pub async fn check_provider(
    h: &Herald,
    actor: &Actor,
    channel: crate::domain::Channel,
    phone: Option<&str>,
) -> Result<String> {
    use crate::domain::Channel;
    actor.require(Action::ManageSettings)?;
    let org_id = actor.org_id();
    let now = h.now();
    let org = super::find_org(&h.db, org_id).await?;
    let routes = super::sending::routes(h, org_id).await?;
    let id = -(now.timestamp_micros() * 100);
    let (provider, out) = match channel {
        Channel::Email => {
            let to = actor
                .user()
                .map(|u| u.email.clone())
                .ok_or_else(|| Error::Invalid("A test needs a person signed in.".into()))?;
            let identity = super::sending::default_identity(&h.db, org_id).await?;
            let sender = Sender {
                // A check of the provider, not a campaign's message: no reply-to.
                reply_to: None,
                ..Sender::choose(
                    &Default::default(),
                    identity.as_ref(),
                    &org.name,
                    &h.settings.default_from,
                )
            };
            let dkim = super::sending::dkim_for(h, org_id, &sender.address).await?;
            let body = crate::templates::render::Rendered {
                subject: "[Test] Herald can send through this provider".into(),
                preheader: String::new(),
                html: "<html><body><p>This is a test from Herald's sending settings: the provider \
                       took this message.</p></body></html>"
                    .into(),
                text:
                    "This is a test from Herald's sending settings: the provider took this message."
                        .into(),
            };
            let host = compose::message_id_host(&h.settings.public_url);
            let raw = compose::mime(
                &Envelope {
                    message_id: id,
                    sender: &sender,
                    to: &to,
                    unsubscribe_url: None,
                    host: &host,
                    now,
                    dkim: dkim.as_ref(),
                    feedback_id: None,
                },
                &body,
            )
            .map_err(Error::Invalid)?;
            let mut marked = b"X-Herald-Test: yes\r\n".to_vec();
            marked.extend(raw);
            let out = Outgoing {
                message_id: id,
                org_id,
                from: sender.address.clone(),
                to,
                subject: body.subject,
                raw: marked,
            };
            (routes.email.clone(), out)
        }
        Channel::Sms => {
            let to = phone
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .ok_or_else(|| {
                    Error::Invalid("Give the phone number the test text message goes to.".into())
                })?;
            let provider = routes.sms.clone().ok_or_else(|| {
                Error::Invalid("No SMS provider is configured for this organisation.".into())
            })?;
            let out = Outgoing {
                message_id: id,
                org_id,
                from: routes.sms_from.clone(),
                to: to.to_owned(),
                subject: String::new(),
                raw: b"Herald test: this provider takes text messages.".to_vec(),
            };
            (provider, out)
        }
    };
    let answer = provider.send(&h.db, &out, now).await;
    if answer.is_ok() {
        // The provider answers: an outage it was in is over. (A refused test starts none: one
        // message says too little to pause every send.)
        super::sending::record_provider_answer(&h.db, org_id, channel, None, now).await?;
    }
    let mut words = match answer {
        Ok(id) => format!(
            "{} took the message to {} (its id: {id}).",
            provider.describe(),
            out.to
        ),
        Err(e) => format!(
            "{} refused the message to {}: {e}",
            provider.describe(),
            out.to
        ),
    };
    if let Some(first) = words.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    Ok(words)
}
