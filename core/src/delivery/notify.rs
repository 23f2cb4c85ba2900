//! Run notifications: when a run of a campaign is done (every message sent, skipped or failed),
//! the person who created the campaign is told in the app, with the numbers sent and not sent
//! and the run's outcome (fully successful, partially successful, failed), linking to the
//! campaign and its actions. Written in the transaction that marks the run complete, once per
//! run, with a job that emails it ([`EmailNotification`], through the organisation's provider,
//! rendered from Herald's system template "Campaign run report", which admins can read but not
//! change or send to contacts). Runs for one contact at a time (an event, a record date, an
//! action sent again) are not reported one by one: they would bury the rest.

use crate::domain::access::{Action, Actor};
use crate::domain::actions::{NotificationRow, Notifications, outcome};
use crate::domain::{DeliveryState, SkipReason};
use crate::entity::{campaign, campaign_send, message, notification};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

/// Tells the creator of `send`'s campaign that it is done.
pub(crate) async fn run_done(
    db: &impl ConnectionTrait,
    send: &campaign_send::Model,
    now: DateTime<Utc>,
) -> Result<()> {
    if send.targeted {
        return Ok(());
    }
    let Some(c) = campaign::Entity::find_by_id(send.campaign_id)
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let Some(user_id) = c.created_by else {
        return Ok(());
    };
    let rows: Vec<(DeliveryState, Option<SkipReason>, i64)> = message::Entity::find()
        .select_only()
        .column(message::Column::State)
        .column(message::Column::SkipReason)
        .column_as(Expr::col(message::Column::Id).count(), "n")
        .filter(message::Column::SendId.eq(send.id))
        .filter(message::Column::Seed.eq(false))
        .group_by(message::Column::State)
        .group_by(message::Column::SkipReason)
        .into_tuple()
        .all(db)
        .await?;
    let (mut sent, mut to_act, mut skipped) = (0u64, 0u64, 0u64);
    for (state, reason, n) in rows {
        let n = u64::try_from(n).unwrap_or(0);
        match (state, reason) {
            (DeliveryState::Failed, _) | (DeliveryState::Skipped, Some(SkipReason::NoAddress)) => {
                to_act += n
            }
            (DeliveryState::Skipped, _) => skipped += n,
            _ => sent += n,
        }
    }
    let result = outcome(sent, to_act, skipped);
    let name = c.name.clone().unwrap_or_else(|| "Untitled".into());
    let mut body = format!("“{name}”: {sent} sent, {} not sent.", to_act + skipped);
    if to_act > 0 {
        body += &format!(" {to_act} could not be sent and wait in Actions.");
    }
    if skipped > 0 {
        body += &format!(" {skipped} left out by the sending rules (consent, suppression, caps).");
    }
    let inserted = notification::Entity::insert(notification::ActiveModel {
        org_id: Set(c.org_id),
        user_id: Set(user_id),
        campaign_id: Set(Some(c.id)),
        send_id: Set(Some(send.id)),
        outcome: Set(result),
        title: Set(result.label().to_owned()),
        body: Set(body),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([notification::Column::SendId, notification::Column::UserId])
    .exec(db)
    .await?;
    if let sea_orm::TryInsertResult::Inserted(done) = inserted {
        crate::jobs::enqueue(
            db,
            now,
            &EmailNotification {
                org_id: c.org_id,
                notification_id: done.last_insert_id,
            },
        )
        .await?;
    }
    Ok(())
}

/// Emails notification `notification_id` to its user.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct EmailNotification {
    pub org_id: i64,
    pub notification_id: i64,
}

impl crate::jobs::Job for EmailNotification {
    const KIND: &'static str = "notify.email";
    const PRIORITY: i32 = 5;
    const MAX_ATTEMPTS: i32 = 8;

    fn org_id(&self) -> Option<i64> {
        Some(self.org_id)
    }

    fn dedup_key(&self) -> Option<String> {
        Some(self.notification_id.to_string())
    }

    async fn run(&self, ctx: &crate::jobs::JobContext) -> Result<crate::jobs::Step> {
        email(ctx, self.notification_id).await?;
        Ok(crate::jobs::Step::Done)
    }
}

/// The system template the notification emails are rendered from.
pub const RUN_REPORT: &str = "Campaign run report";

/// The organisation's run report template, made on first use.
async fn run_report_template(
    db: &impl ConnectionTrait,
    org_id: i64,
    now: DateTime<Utc>,
) -> Result<crate::domain::template::Content> {
    use crate::entity::template;
    if let Some(t) = template::Entity::find()
        .filter(template::Column::OrgId.eq(org_id))
        .filter(template::Column::IsSystem.eq(true))
        .filter(template::Column::Name.eq(RUN_REPORT))
        .one(db)
        .await?
    {
        return Ok(crate::domain::template::Content {
            subject: t.subject,
            preheader: t.preheader,
            html: t.html_body,
            text: t.text_body,
        });
    }
    let content = crate::domain::template::Content {
        subject: "{{ notification.title }}: “{{ campaign.name }}”".into(),
        preheader: "{{ notification.body }}".into(),
        html: "<html><body><p>Hello {{ user.name }},</p>\
               <p><strong>{{ notification.title }}.</strong> {{ notification.body }}</p>\
               <p><a href=\"{{ campaign.url }}\">Open the campaign</a> · \
               <a href=\"{{ campaign.actions_url }}\">Its actions</a></p>\
               <p style=\"color:#666;font-size:12px\">Herald tells you when a campaign you \
               created has finished a run.</p></body></html>"
            .into(),
        text: "Hello {{ user.name }},\n\n{{ notification.title }}. {{ notification.body }}\n\n\
               The campaign: {{ campaign.url }}\nIts actions: {{ campaign.actions_url }}\n"
            .into(),
    };
    template::ActiveModel {
        org_id: Set(org_id),
        name: Set(RUN_REPORT.into()),
        kind: Set("system".into()),
        subject: Set(content.subject.clone()),
        preheader: Set(content.preheader.clone()),
        html_body: Set(content.html.clone()),
        text_body: Set(content.text.clone()),
        is_system: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        description: Set("Herald's email to a campaign's creator when a run is done.".into()),
        language: Set("en".into()),
        variants: Set(Default::default()),
        version: Set(1),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(content)
}

async fn email(ctx: &crate::jobs::JobContext, notification_id: i64) -> Result<()> {
    use super::compose::{self, Envelope, Sender};
    use super::provider::{Outgoing, SendError};
    use crate::entity::app_user;
    let h = &ctx.herald;
    let db = ctx.db();
    let now = ctx.now();
    let Some(n) = notification::Entity::find_by_id(notification_id)
        .one(db)
        .await?
    else {
        return Ok(());
    };
    if n.emailed_at.is_some() {
        return Ok(());
    }
    let Some(user) = app_user::Entity::find_by_id(n.user_id).one(db).await? else {
        return Ok(());
    };
    let org = super::find_org(db, n.org_id).await?;
    let name = match n.campaign_id {
        Some(id) => campaign::Entity::find_by_id(id)
            .one(db)
            .await?
            .and_then(|c| c.name)
            .unwrap_or_else(|| "Untitled".into()),
        None => String::new(),
    };
    let base = h.settings.public_url.trim_end_matches('/');
    let campaign_id = n.campaign_id.unwrap_or_default();
    let vars = serde_json::json!({
        "user": {"name": if user.name.is_empty() { user.email.clone() } else { user.name.clone() }, "email": user.email},
        "organisation": {"name": org.name},
        "notification": {"title": n.title, "body": n.body, "outcome": n.outcome.as_str()},
        "campaign": {
            "name": name,
            "url": format!("{base}/campaigns/{campaign_id}"),
            "actions_url": format!("{base}/actions?campaign={campaign_id}"),
        },
    });
    let content = run_report_template(db, n.org_id, now).await?;
    let body = compose::render_body(&content, &vars, None)
        .map_err(|e| Error::Internal(format!("the run report template: {e}")))?;
    let identity = super::sending::default_identity(db, n.org_id).await?;
    let sender = Sender {
        name: "Herald".into(),
        reply_to: None,
        ..Sender::choose(
            &Default::default(),
            identity.as_ref(),
            &org.name,
            &h.settings.default_from,
        )
    };
    let host = compose::message_id_host(&h.settings.public_url);
    // Not a message of any campaign: a negative id keeps it out of the outbox's records.
    let id = -(n.id * 1000 + 1);
    let raw = compose::mime(
        &Envelope {
            message_id: id,
            sender: &sender,
            to: &user.email,
            unsubscribe_url: None,
            host: &host,
            now,
            feedback_id: None,
            dkim: super::sending::dkim_for(h, n.org_id, &sender.address)
                .await?
                .as_ref(),
        },
        &body,
    )
    .map_err(Error::Internal)?;
    let routes = super::sending::routes(h, n.org_id).await?;
    let out = Outgoing {
        message_id: id,
        org_id: n.org_id,
        from: sender.address.clone(),
        to: user.email.clone(),
        subject: body.subject,
        raw,
    };
    match routes.email.send(db, &out, now).await {
        Ok(_) => {}
        // Tried again later, with the job's backoff.
        Err(SendError::Transient(e)) => return Err(Error::Internal(e)),
        Err(SendError::Permanent(e)) => {
            tracing::warn!(notification = n.id, error = %e, "the notification email was refused");
        }
    }
    notification::Entity::update_many()
        .col_expr(notification::Column::EmailedAt, Expr::value(now))
        .filter(notification::Column::Id.eq(n.id))
        .exec(db)
        .await?;
    Ok(())
}

fn user_of(actor: &Actor) -> Result<i64> {
    actor
        .user_id()
        .ok_or_else(|| Error::Invalid("Notifications are for people signed in.".into()))
}

/// The signed-in user's unread count and latest notifications.
pub async fn list(db: &impl ConnectionTrait, actor: &Actor, limit: u64) -> Result<Notifications> {
    actor.require(Action::ReadCampaigns)?;
    let user = user_of(actor)?;
    let mine = || {
        notification::Entity::find()
            .filter(notification::Column::OrgId.eq(actor.org_id()))
            .filter(notification::Column::UserId.eq(user))
    };
    let unread = mine()
        .filter(notification::Column::ReadAt.is_null())
        .count(db)
        .await?;
    let latest = mine()
        .order_by_desc(notification::Column::Id)
        .limit(limit.clamp(1, 100))
        .all(db)
        .await?
        .into_iter()
        .map(|n| NotificationRow {
            id: n.id,
            campaign_id: n.campaign_id,
            outcome: n.outcome,
            title: n.title,
            body: n.body,
            created_at: n.created_at,
            read: n.read_at.is_some(),
        })
        .collect();
    Ok(Notifications { unread, latest })
}

/// Marks the signed-in user's notifications read (all of them).
pub async fn mark_read(
    db: &impl ConnectionTrait,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<u64> {
    actor.require(Action::ReadCampaigns)?;
    let user = user_of(actor)?;
    Ok(notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(now))
        .filter(notification::Column::OrgId.eq(actor.org_id()))
        .filter(notification::Column::UserId.eq(user))
        .filter(notification::Column::ReadAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}
