//! Senders: one job per shard of a send's rows claims due queued rows, decides again, and hands
//! each message to the provider, recording every step (see the module comment of `delivery`).

use super::compose::{self, Envelope, Sender};
use super::provider::{Handed, Outgoing, SendError};
use super::{event, find_org, policy, recipients, record};
use crate::domain::access::Actor;
use crate::domain::delivery::{Decision, decide};
use crate::domain::template::Content;
use crate::domain::{Channel, DeliveryState, MessageType};
use crate::entity::{campaign, campaign_send, contact, message};
use crate::jobs::{Job, JobContext, Step, backoff};
use crate::{Error, Herald, Result};
use chrono::Duration;
use futures::future::FusedFuture;
use futures::{FutureExt, StreamExt};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, ExprTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Rows claimed at once by one sender.
const BATCH: u64 = 50;

/// Delivers shard `shard` (row id modulo the send's shards) of send `send_id`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Deliver {
    pub org_id: i64,
    pub send_id: i64,
    pub shard: i64,
    /// The campaign's priority (1 … 5): higher-priority campaigns' senders are claimed first.
    #[serde(default)]
    pub priority: i32,
}

impl Job for Deliver {
    const KIND: &'static str = "delivery.send";
    const PRIORITY: i32 = 5;
    const MAX_ATTEMPTS: i32 = 10;

    fn org_id(&self) -> Option<i64> {
        Some(self.org_id)
    }

    fn priority(&self) -> i32 {
        Self::PRIORITY + self.priority
    }

    fn dedup_key(&self) -> Option<String> {
        Some(format!("{}:{}", self.send_id, self.shard))
    }

    async fn run(&self, ctx: &JobContext) -> Result<Step> {
        let db = ctx.db();
        reconcile(ctx, self.send_id, self.shard).await?;
        loop {
            if ctx.stopping() {
                return Ok(Step::Yield);
            }
            let Some(send) = campaign_send::Entity::find_by_id(self.send_id)
                .one(db)
                .await?
            else {
                return Ok(Step::Done);
            };
            let c = campaign::Entity::find_by_id(send.campaign_id)
                .one(db)
                .await?
                .ok_or(Error::NotFound("campaign"))?;
            let c = crate::workflows::sending_as(db, c, &send).await?;
            let org = find_org(db, c.org_id).await?;
            let claimed = claim(ctx, &c, &org, &send, self.shard).await?;
            if claimed.is_empty() {
                return idle(ctx, &send, self.shard).await;
            }
            let mut batch = Batch::load(&ctx.herald, &c, &org).await?;
            if send.targeted {
                batch.contexts = contexts(db, send.id, &claimed).await?;
            } else if send.step_id.is_some() {
                batch.contexts = crate::workflows::contexts(db, &claimed).await?;
            }
            batch.load_splits(db, &claimed).await?;
            let mut tally = Tally::default();
            let total = claimed.len();
            // Rendered one after the other (the batch caches templates and links), then handed
            // over as many at once as the provider takes (an SMTP pool's connections). The
            // answers are recorded a group at a time, in one transaction per group, while the
            // next messages are being handed over: each transaction takes what arrived during
            // the one before. One commit per message made the send's counters row (updated by
            // every transition) the bottleneck.
            let mut ready = Vec::with_capacity(total);
            for (m, k) in claimed {
                let out = compose_message(ctx, &mut batch, &m, k.as_ref()).await;
                ready.push((m, out));
            }
            {
                let batch = &batch;
                let at_once = batch
                    .routes
                    .for_channel(c.channel)
                    .map_or(1, |p| p.parallel());
                let mut answers = futures::stream::iter(ready)
                    .map(|(m, out)| hand_over(ctx, batch, m, out))
                    .buffer_unordered(at_once)
                    .fuse();
                let mut pending = Vec::new();
                let mut writing = std::pin::pin!(futures::future::Fuse::terminated());
                loop {
                    tokio::select! {
                        Some(answer) = answers.next() => pending.push(answer),
                        written = &mut writing, if !writing.is_terminated() => tally.add(written?),
                        else => break,
                    }
                    if writing.is_terminated() && !pending.is_empty() {
                        let answers = std::mem::take(&mut pending);
                        writing.set(record_answers(ctx, batch.c, answers).fuse());
                    }
                }
            }
            if tally.transient == total {
                // Everything failed for a passing reason: the provider is down or throttling.
                // Sending pauses (the campaign page says so) and resumes when it answers; the
                // rows are back in the queue with their backoff.
                tracing::warn!(
                    send = send.id,
                    "the provider refused a whole batch; waiting"
                );
                super::sending::record_provider_answer(
                    db,
                    c.org_id,
                    c.channel,
                    Some(&tally.last_error),
                    ctx.now(),
                )
                .await?;
                return Ok(Step::Later(Duration::seconds(15)));
            }
            if tally.taken > 0 && batch.routes_paused {
                super::sending::record_provider_answer(db, c.org_id, c.channel, None, ctx.now())
                    .await?;
                batch.routes_paused = false;
            }
        }
    }
}

/// The rows of shard `shard` of a send split `shards` ways.
fn shard_of(shard: i64, shards: i32) -> Expr {
    let shards = i64::from(Ord::max(shards, 1));
    Expr::cust(format!(
        "(message.id % {shards}) = {}",
        shard.rem_euclid(shards)
    ))
}

/// Nothing due in the shard now: wait for deferred rows or a fan-out still running, or finish.
async fn idle(ctx: &JobContext, send: &campaign_send::Model, shard: i64) -> Result<Step> {
    let db = ctx.db();
    let now = ctx.now();
    let open = message::Entity::find()
        .filter(message::Column::SendId.eq(send.id))
        .filter(shard_of(shard, send.shards))
        .filter(message::Column::State.is_in([DeliveryState::Queued, DeliveryState::Sending]))
        .order_by_asc(message::Column::NotBefore)
        .all(db)
        .await?;
    if open.iter().any(|m| m.state == DeliveryState::Sending) {
        // Rows another live run of this shard holds: look again soon.
        return Ok(Step::Later(Duration::seconds(5)));
    }
    if let Some(next) = open.iter().filter_map(|m| m.not_before).min() {
        return Ok(Step::Later((next - now).max(Duration::seconds(1))));
    }
    if send.fanned_out_at.is_none() {
        // The fan-out is still writing rows.
        return Ok(Step::Later(Duration::seconds(1)));
    }
    super::complete_if_done(db, send, now).await?;
    Ok(Step::Done)
}

/// Claims up to [`BATCH`] due rows of the shard: each is decided again with fresh facts and
/// becomes `sending` (committed before any provider call), `skipped`, or waits longer.
async fn claim(
    ctx: &JobContext,
    c: &campaign::Model,
    org: &crate::entity::organisation::Model,
    send: &campaign_send::Model,
    shard: i64,
) -> Result<Vec<(message::Model, Option<contact::Model>)>> {
    let db = ctx.db();
    let now = ctx.now();
    let txn = db.begin().await?;
    ctx.fence(&txn).await?;
    let mut query = message::Entity::find()
        .filter(message::Column::SendId.eq(send.id))
        .filter(message::Column::State.eq(DeliveryState::Queued))
        .filter(shard_of(shard, send.shards))
        .filter(
            sea_orm::Condition::any()
                .add(message::Column::NotBefore.is_null())
                .add(message::Column::NotBefore.lte(now)),
        )
        .order_by_asc(message::Column::Id)
        .limit(BATCH);
    if txn.get_database_backend() == DbBackend::Postgres {
        query = query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let rows = query.all(&txn).await?;
    if rows.is_empty() {
        txn.commit().await?;
        return Ok(vec![]);
    }
    let ids: Vec<i64> = rows.iter().filter_map(|m| m.contact_id).collect();
    let contacts: HashMap<i64, contact::Model> = contact::Entity::find()
        .filter(contact::Column::Id.is_in(ids))
        .all(&txn)
        .await?
        .into_iter()
        .map(|k| (k.id, k))
        .collect();
    let policy = policy(c, org);
    let people: Vec<contact::Model> = rows
        .iter()
        .filter_map(|m| m.contact_id.and_then(|id| contacts.get(&id)).cloned())
        .collect();
    let facts: HashMap<i64, _> = people
        .iter()
        .map(|k| k.id)
        .zip(recipients(&txn, c, &policy, &people, send.id, now).await?)
        .collect();
    let mut claimed = Vec::new();
    let mut sending = Vec::new();
    let mut events = Vec::new();
    let mut no_address = Vec::new();
    for m in rows {
        let decision = if c.status != crate::domain::CampaignStatus::Active
            && c.status != crate::domain::CampaignStatus::Completed
        {
            // Deactivated: the rows wait (and go when it is activated again).
            Decision::Defer(now + Duration::minutes(1))
        } else if m.seed {
            Decision::Send
        } else {
            match m.contact_id.and_then(|id| facts.get(&id)) {
                Some(r) => decide(&policy, r, now),
                // The contact was deleted since the fan-out.
                None => Decision::Skip(crate::domain::SkipReason::NoAddress),
            }
        };
        let update = message::Entity::update_many()
            .filter(message::Column::Id.eq(m.id))
            .filter(message::Column::State.eq(DeliveryState::Queued));
        match decision {
            Decision::Send => {
                sending.push(m.id);
                events.push(event(&m, DeliveryState::Sending, now, None));
                let k = m.contact_id.and_then(|id| contacts.get(&id)).cloned();
                claimed.push((m, k));
            }
            Decision::Defer(until) => {
                update
                    .col_expr(message::Column::NotBefore, Expr::value(until))
                    .exec(&txn)
                    .await?;
            }
            Decision::Skip(reason) => {
                update
                    .col_expr(message::Column::State, Expr::value(DeliveryState::Skipped))
                    .col_expr(message::Column::SkipReason, Expr::value(reason))
                    .exec(&txn)
                    .await?;
                // The address went away since the fan-out: someone must find it (a contact
                // deleted since has nobody to write to).
                if reason == crate::domain::SkipReason::NoAddress
                    && m.contact_id.is_some_and(|id| contacts.contains_key(&id))
                {
                    no_address.push(m.id);
                }
                events.push(event(
                    &m,
                    DeliveryState::Skipped,
                    now,
                    Some(reason.as_str().to_owned()),
                ));
            }
        }
    }
    // The rows going out, in one statement (they are locked, or SQLite's writer is ours).
    if !sending.is_empty() {
        message::Entity::update_many()
            .filter(message::Column::Id.is_in(sending))
            .filter(message::Column::State.eq(DeliveryState::Queued))
            .col_expr(message::Column::State, Expr::value(DeliveryState::Sending))
            .col_expr(message::Column::SendingAt, Expr::value(now))
            .col_expr(message::Column::SendingBy, Expr::value(run_token(ctx)))
            .col_expr(
                message::Column::Attempts,
                Expr::col(message::Column::Attempts).add(1),
            )
            .exec(&txn)
            .await?;
    }
    record(&txn, events).await?;
    super::actions::open_for(&txn, c, no_address, now).await?;
    txn.commit().await?;
    Ok(claimed)
}

/// The extra variables of a targeted send's claimed rows (the record that fired each), by
/// contact.
async fn contexts(
    db: &impl ConnectionTrait,
    send_id: i64,
    claimed: &[(message::Model, Option<contact::Model>)],
) -> Result<HashMap<i64, serde_json::Value>> {
    use crate::entity::send_target;
    let ids: Vec<i64> = claimed.iter().filter_map(|(m, _)| m.contact_id).collect();
    let message_of: HashMap<i64, i64> = claimed
        .iter()
        .filter_map(|(m, _)| Some((m.contact_id?, m.id)))
        .collect();
    Ok(send_target::Entity::find()
        .filter(send_target::Column::SendId.eq(send_id))
        .filter(send_target::Column::ContactId.is_in(ids))
        .filter(send_target::Column::Context.is_not_null())
        .all(db)
        .await?
        .into_iter()
        .filter_map(|t| {
            Some((
                *message_of.get(&t.contact_id)?,
                serde_json::from_str(t.context.as_deref()?).ok()?,
            ))
        })
        .collect())
}

/// The variables a template renders with for one recipient (`view_url`: the message in the
/// browser).
pub(crate) fn context(
    k: Option<&contact::Model>,
    recipient: &str,
    organisation: &str,
    unsubscribe_url: Option<&str>,
    view_url: &str,
) -> serde_json::Value {
    use serde_json::json;
    let contact = match k {
        Some(c) => json!({
            "first_name": c.first_name,
            "last_name": c.last_name,
            "name": c.display_name(),
            "email": c.email.clone().unwrap_or_default(),
            "phone": c.phone.clone().unwrap_or_default(),
            "language": c.language,
            "time_zone": c.time_zone,
            "created_at": c.created_at.format("%Y-%m-%d").to_string(),
            "attributes": &c.attributes.0,
        }),
        // A seed copy: the seed address stands in for the contact.
        None => json!({"email": recipient, "first_name": "", "last_name": "", "name": ""}),
    };
    json!({
        "contact": contact,
        "organisation": {"name": organisation},
        "unsubscribe_url": unsubscribe_url.unwrap_or_default(),
        "view_url": view_url,
    })
}

/// What every message of one claimed batch shares: the campaign, its sender, where its
/// messages go, the host of Message-IDs, and the template's content per language (read once
/// per batch).
struct Batch<'a> {
    c: &'a campaign::Model,
    org: &'a crate::entity::organisation::Model,
    sender: Sender,
    routes: super::sending::Routes,
    /// Whether the provider was down when the batch began (a message it takes ends that).
    routes_paused: bool,
    dkim: Option<compose::Dkim>,
    host: String,
    /// Template content by version and language.
    contents: HashMap<(i64, String), Content>,
    /// What a targeted send's (or a workflow run's) messages render with beyond the contact, by
    /// message.
    contexts: HashMap<i64, serde_json::Value>,
    /// The split template version of the claimed contacts in a split's segment.
    split_version: HashMap<i64, i64>,
    /// The campaign's tracked links by URL (read or stored once per batch).
    links: HashMap<String, i64>,
}

impl<'a> Batch<'a> {
    async fn load(
        h: &Herald,
        c: &'a campaign::Model,
        org: &'a crate::entity::organisation::Model,
    ) -> Result<Batch<'a>> {
        // The campaign's sender, else the organisation's default identity, else the instance's.
        let identity = super::sending::default_identity(&h.db, c.org_id).await?;
        let sender = Sender::choose(
            &c.settings,
            identity.as_ref(),
            &org.name,
            &h.settings.default_from,
        );
        let routes = super::sending::routes(h, c.org_id).await?;
        let routes_paused = super::sending::outage(&h.db, c.org_id, c.channel)
            .await?
            .is_some();
        let dkim = if c.channel == Channel::Email {
            super::sending::dkim_for(h, c.org_id, &sender.address).await?
        } else {
            None
        };
        let host = compose::message_id_host(&h.settings.public_url);
        Ok(Batch {
            c,
            org,
            sender,
            routes,
            routes_paused,
            dkim,
            host,
            contents: HashMap::new(),
            contexts: HashMap::new(),
            split_version: HashMap::new(),
            links: HashMap::new(),
        })
    }

    /// The version a contact gets: its split's (the first split whose segment it is in),
    /// else the campaign's, both fixed on activation.
    fn version_for(&self, contact_id: Option<i64>) -> Option<i64> {
        contact_id
            .and_then(|id| self.split_version.get(&id).copied())
            .or(self.c.template_version_id)
    }

    /// A template version's content in `language` (or its default language).
    async fn content(
        &mut self,
        ctx: &JobContext,
        version: Option<i64>,
        language: &str,
    ) -> std::result::Result<Content, String> {
        let version = version.ok_or("The campaign has no template version.")?;
        let key = (version, language.to_owned());
        if let Some(c) = self.contents.get(&key) {
            return Ok(c.clone());
        }
        let content = crate::templates::version_content(
            ctx.db(),
            &Actor::system(self.c.org_id),
            version,
            language,
        )
        .await
        .map_err(|e| e.to_string())?;
        self.contents.insert(key, content.clone());
        Ok(content)
    }

    /// Which claimed contacts are in a split's segment (the first split listed wins).
    async fn load_splits(
        &mut self,
        db: &impl ConnectionTrait,
        claimed: &[(message::Model, Option<contact::Model>)],
    ) -> Result<()> {
        use crate::entity::segment_member;
        let splits = &self.c.settings.splits;
        if splits.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = claimed.iter().filter_map(|(m, _)| m.contact_id).collect();
        let members: Vec<(i64, i64)> = segment_member::Entity::find()
            .select_only()
            .column(segment_member::Column::SegmentId)
            .column(segment_member::Column::ContactId)
            .filter(segment_member::Column::SegmentId.is_in(splits.iter().map(|s| s.segment_id)))
            .filter(segment_member::Column::ContactId.is_in(ids))
            .into_tuple()
            .all(db)
            .await?;
        for split in splits.iter().rev() {
            let Some(version) = self.c.settings.split_versions.get(&split.template_id) else {
                continue;
            };
            for (_, contact) in members.iter().filter(|(s, _)| *s == split.segment_id) {
                self.split_version.insert(*contact, *version);
            }
        }
        Ok(())
    }
}

/// What became of a batch's messages so far.
#[derive(Default)]
struct Tally {
    /// Taken by the provider.
    taken: usize,
    /// Refused for a passing reason: back in the queue.
    transient: usize,
    /// The last passing reason.
    last_error: String,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.taken += other.taken;
        self.transient += other.transient;
        if other.transient > 0 {
            self.last_error = other.last_error;
        }
    }
}

/// Hands over one claimed message, or passes on why it could not be made; records nothing.
async fn hand_over(
    ctx: &JobContext,
    batch: &Batch<'_>,
    m: message::Model,
    composed: std::result::Result<Outgoing, SendError>,
) -> (message::Model, std::result::Result<String, SendError>) {
    let outcome = match composed {
        Ok(out) => match batch.routes.for_channel(m.channel) {
            Some(provider) => {
                if let Some(limiter) = &batch.routes.limiter {
                    limiter.wait().await;
                }
                provider.send(ctx.db(), &out, ctx.now()).await
            }
            None => Err(SendError::Permanent(
                "No SMS provider is configured for this organisation.".into(),
            )),
        },
        Err(e) => Err(e),
    };
    (m, outcome)
}

/// Records the providers' answers for claimed rows in one transaction: `sent` with the
/// provider's id, back to the queue with a backoff, or `failed` (with an action to fix it). A
/// row no longer `sending` (reconciled by another run meanwhile) is left as it is.
async fn record_answers(
    ctx: &JobContext,
    c: &campaign::Model,
    answers: Vec<(message::Model, std::result::Result<String, SendError>)>,
) -> Result<Tally> {
    let now = ctx.now();
    let txn = ctx.db().begin().await?;
    let mut events = Vec::with_capacity(answers.len());
    let mut failed = Vec::new();
    let mut tally = Tally::default();
    for (m, outcome) in answers {
        let update = message::Entity::update_many()
            .filter(message::Column::Id.eq(m.id))
            .filter(message::Column::State.eq(DeliveryState::Sending));
        match outcome {
            Ok(provider_id) => {
                update
                    .col_expr(message::Column::State, Expr::value(DeliveryState::Sent))
                    .col_expr(message::Column::SentAt, Expr::value(now))
                    .col_expr(
                        message::Column::ProviderMessageId,
                        Expr::value(provider_id.clone()),
                    )
                    .col_expr(message::Column::Error, Expr::value(Option::<String>::None))
                    .exec(&txn)
                    .await?;
                events.push(event(&m, DeliveryState::Sent, now, Some(provider_id)));
                tally.taken += 1;
            }
            Err(SendError::Transient(e)) => {
                let wait = backoff(m.attempts + 1, rand::random());
                update
                    .col_expr(message::Column::State, Expr::value(DeliveryState::Queued))
                    .col_expr(message::Column::NotBefore, Expr::value(now + wait))
                    .col_expr(message::Column::Error, Expr::value(e.clone()))
                    .exec(&txn)
                    .await?;
                events.push(event(&m, DeliveryState::Queued, now, Some(e.clone())));
                tally.transient += 1;
                tally.last_error = e;
            }
            Err(SendError::Permanent(e)) => {
                update
                    .col_expr(message::Column::State, Expr::value(DeliveryState::Failed))
                    .col_expr(message::Column::FailedAt, Expr::value(now))
                    .col_expr(message::Column::Error, Expr::value(e.clone()))
                    .exec(&txn)
                    .await?;
                events.push(event(&m, DeliveryState::Failed, now, Some(e)));
                // Someone must fix the address and send it, or ignore it.
                failed.push(m.id);
            }
        }
    }
    record(&txn, events).await?;
    super::actions::open_for(&txn, c, failed, now).await?;
    txn.commit().await?;
    Ok(tally)
}

/// The message for one row, or why it cannot be made: a permanent failure (a template that does
/// not render, an address that does not parse) or a passing one (the link store unreachable).
async fn compose_message(
    ctx: &JobContext,
    batch: &mut Batch<'_>,
    m: &message::Model,
    k: Option<&contact::Model>,
) -> std::result::Result<Outgoing, SendError> {
    let h = &ctx.herald;
    let c = batch.c;
    let language = k.map_or(c.settings.language.as_str(), |k| k.language.as_str());
    let version = batch.version_for(m.contact_id);
    let content = batch
        .content(ctx, version, language)
        .await
        .map_err(SendError::Permanent)?;
    let unsubscribe_url = (c.message_type != MessageType::Operational).then(|| {
        format!(
            "{}/u/{}",
            h.settings.public_url,
            compose::unsubscribe_token(&h.settings.secret_key, m.id)
        )
    });
    let urls = crate::tracking::Urls {
        public_url: &h.settings.public_url,
        key: &h.settings.secret_key,
    };
    let mut vars = context(
        k,
        &m.recipient,
        &batch.org.name,
        unsubscribe_url.as_deref(),
        &urls.view(m.id),
    );
    if let Some(serde_json::Value::Object(extra)) = batch.contexts.get(&m.id)
        && let Some(vars) = vars.as_object_mut()
    {
        vars.extend(extra.clone());
    }
    if m.channel == Channel::Sms {
        // Text only: the template's text part, with the unsubscribe link when required.
        let body =
            compose::render_body(&content, &vars, unsubscribe_url.as_deref()).map_err(|e| {
                SendError::Permanent(format!("The template could not be rendered: {e}"))
            })?;
        return Ok(Outgoing {
            message_id: m.id,
            org_id: m.org_id,
            from: batch.routes.sms_from.clone(),
            to: m.recipient.clone(),
            subject: String::new(),
            raw: body.text.trim().as_bytes().to_vec(),
        });
    }
    let mut body = compose::render_body(&content, &vars, unsubscribe_url.as_deref())
        .map_err(|e| SendError::Permanent(format!("The template could not be rendered: {e}")))?;
    // Links through click URLs and the open pixel: seed copies too (their hits are recorded
    // against the seed row, which no statistic counts).
    body.html = crate::tracking::track_html(
        ctx.db(),
        &urls,
        m.org_id,
        m.campaign_id,
        m.id,
        &mut batch.links,
        &body.html,
    )
    .await
    .map_err(|e| SendError::Transient(format!("The links could not be stored: {e}")))?;
    let feedback_id =
        compose::feedback_id(&format!("c{}", m.campaign_id), c.message_type, m.org_id);
    let raw = compose::mime(
        &Envelope {
            message_id: m.id,
            sender: &batch.sender,
            to: &m.recipient,
            unsubscribe_url: unsubscribe_url.as_deref(),
            host: &batch.host,
            now: ctx.now(),
            dkim: batch.dkim.as_ref(),
            feedback_id: feedback_id.as_deref(),
        },
        &body,
    )
    .map_err(SendError::Permanent)?;
    Ok(Outgoing {
        message_id: m.id,
        org_id: m.org_id,
        from: batch.sender.address.clone(),
        to: m.recipient.clone(),
        subject: body.subject,
        raw,
    })
}

/// Whether the sender run `token` (`job id:attempt`) still holds its job.
async fn run_alive(
    db: &impl ConnectionTrait,
    token: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool> {
    let Some((id, attempt)) = token
        .split_once(':')
        .and_then(|(id, a)| Some((id.parse::<i64>().ok()?, a.parse::<i32>().ok()?)))
    else {
        return Ok(false);
    };
    Ok(crate::entity::job::Entity::find_by_id(id)
        .filter(crate::entity::job::Column::State.eq(crate::domain::JobState::Running))
        .filter(crate::entity::job::Column::Attempts.eq(attempt))
        .filter(crate::entity::job::Column::LeaseExpiresAt.gt(now))
        .one(db)
        .await?
        .is_some())
}

/// This run of a sender, as rows it claims record it.
fn run_token(ctx: &JobContext) -> String {
    format!("{}:{}", ctx.job_id, ctx.attempt)
}

/// Rows of the shard left in `sending` by a sender run that is no longer alive (its process
/// died; its job was taken over): asks the provider whether it has each; where it cannot tell,
/// the row goes back to the queue (the documented policy: at least once, so a duplicate is
/// possible only for what was in flight at the crash). Rows of a run that is alive are left.
async fn reconcile(ctx: &JobContext, send_id: i64, shard: i64) -> Result<()> {
    let db = ctx.db();
    let now = ctx.now();
    let Some(send) = campaign_send::Entity::find_by_id(send_id).one(db).await? else {
        return Ok(());
    };
    let sending: Vec<message::Model> = message::Entity::find()
        .filter(message::Column::SendId.eq(send_id))
        .filter(shard_of(shard, send.shards))
        .filter(message::Column::State.eq(DeliveryState::Sending))
        .all(db)
        .await?;
    let mine = run_token(ctx);
    let mut alive: HashMap<String, bool> = HashMap::new();
    let mut stale = Vec::new();
    for m in sending {
        let token = m.sending_by.clone().unwrap_or_default();
        if token == mine {
            continue;
        }
        let live = match alive.get(&token) {
            Some(live) => *live,
            None => {
                let live = run_alive(db, &token, now).await?;
                alive.insert(token, live);
                live
            }
        };
        if !live {
            stale.push(m);
        }
    }
    let routes = if stale.is_empty() {
        None
    } else {
        Some(super::sending::routes(&ctx.herald, send.org_id).await?)
    };
    for m in stale {
        let handed = match routes.as_ref().and_then(|r| r.for_channel(m.channel)) {
            Some(provider) => provider.handed(db, &m).await?,
            None => Handed::No,
        };
        let update = message::Entity::update_many()
            .filter(message::Column::Id.eq(m.id))
            .filter(message::Column::State.eq(DeliveryState::Sending));
        let txn = db.begin().await?;
        ctx.fence(&txn).await?;
        match &handed {
            Handed::Yes(id) => {
                update
                    .col_expr(message::Column::State, Expr::value(DeliveryState::Sent))
                    .col_expr(message::Column::SentAt, Expr::value(now))
                    .col_expr(message::Column::ProviderMessageId, Expr::value(id.clone()))
                    .exec(&txn)
                    .await?;
                let detail = format!("reconciled after a crash: the provider has it ({id})");
                record(
                    &txn,
                    vec![event(&m, DeliveryState::Sent, now, Some(detail))],
                )
                .await?;
            }
            Handed::No | Handed::Unknown => {
                update
                    .col_expr(message::Column::State, Expr::value(DeliveryState::Queued))
                    .exec(&txn)
                    .await?;
                let detail = if handed == Handed::No {
                    "reconciled after a crash: the provider does not have it"
                } else {
                    "reconciled after a crash: the provider cannot tell, so it is sent again"
                };
                record(
                    &txn,
                    vec![event(&m, DeliveryState::Queued, now, Some(detail.into()))],
                )
                .await?;
            }
        }
        txn.commit().await?;
        tracing::warn!(message = m.id, ?handed, "reconciled a message left sending");
    }
    Ok(())
}
