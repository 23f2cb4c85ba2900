//! The scheduler: what makes each trigger fire. Every kind ends in [`super::start_send`] with
//! an occurrence key, so a run enqueued twice (two instances, a retried job, a restart) is one
//! send.
//!
//! - **At a time, recurring**: a campaign's `next_run_at` is set on activation
//!   ([`first_run`], in the organisation's time zone) and moved on by the [`Tick`] (every
//!   20 seconds) with a conditional update in the same transaction as the send, keyed
//!   `run:<due time>`. A run missed while Herald was down fires once, late; the next one is
//!   counted from now. The tick also stops campaigns past their expiry.
//! - **Record dates**: the [`DailyRun`] at the deployment region's hour looks, per campaign,
//!   at the days since the last day it covered (at most a week back) and sends, keyed
//!   `day:<date>`, to the contacts whose record dates fall due on those days.
//! - **Events**: [`on_events`] runs in the transaction that stores them: each matching
//!   campaign gets a send for the event's contact, keyed `event:<event id>`, written at once.
//! - **Entering a segment**: [`on_segment_entered`] runs in the segment refresh's transaction
//!   (every minute), keyed `segment:<segment>:<refresh time>`.

use super::{Targets, find_org, start_send};
use crate::Result;
use crate::domain::CampaignStatus;
use crate::domain::schedule::{days_to_cover, next_run, record_dates_for, send_day};
use crate::domain::trigger::{RecordDate, Trigger};
use crate::entity::{
    booking, campaign, credential, enrollment, organisation, pass, purchase, segment,
    segment_member, subscription,
};
use crate::jobs::{Job, JobContext, Step};
use chrono::{DateTime, Days, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The organisation's time zone (UTC when its name is not one).
pub fn time_zone(org: &organisation::Model) -> chrono_tz::Tz {
    org.time_zone.parse().unwrap_or(chrono_tz::UTC)
}

/// When a campaign with `trigger` activated at `now` first runs (timed triggers only), in the
/// organisation's time zone.
pub async fn first_run(
    db: &impl ConnectionTrait,
    org_id: i64,
    trigger: Option<&Trigger>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>> {
    let Some(trigger @ (Trigger::At { .. } | Trigger::Recurring { .. })) = trigger else {
        return Ok(None);
    };
    let org = find_org(db, org_id).await?;
    Ok(match trigger {
        // Validated as future on activation; a time that passed meanwhile runs at once.
        Trigger::At { at } => Some(*at),
        _ => next_run(trigger, now, &time_zone(&org)),
    })
}

/// The organisation's active campaigns whose trigger is `wanted`.
async fn waiting_in(
    db: &impl ConnectionTrait,
    org_id: i64,
    wanted: impl Fn(&Trigger) -> bool,
) -> Result<Vec<campaign::Model>> {
    Ok(campaign::Entity::find()
        .filter(campaign::Column::OrgId.eq(org_id))
        .filter(campaign::Column::Status.eq(CampaignStatus::Active))
        .all(db)
        .await?
        .into_iter()
        .filter(|c| c.trigger.as_ref().is_some_and(&wanted))
        .collect())
}

async fn active(db: &impl ConnectionTrait) -> Result<Vec<campaign::Model>> {
    Ok(campaign::Entity::find()
        .filter(campaign::Column::Status.eq(CampaignStatus::Active))
        .all(db)
        .await?)
}

/// Fires the timed campaigns that are due and stops those past their expiry.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Tick;

impl Job for Tick {
    const KIND: &'static str = "delivery.tick";
    const PRIORITY: i32 = 20;

    fn org_id(&self) -> Option<i64> {
        None
    }

    fn dedup_key(&self) -> Option<String> {
        Some("tick".into())
    }

    async fn run(&self, ctx: &JobContext) -> Result<Step> {
        let db = ctx.db();
        let now = ctx.now();
        for c in active(db).await? {
            if c.settings.expires_at.is_some_and(|e| e <= now) {
                expire(ctx, &c).await?;
                continue;
            }
            let Some(trigger) = &c.trigger else {
                continue;
            };
            // The organisation's time zone is read only when a recurring time needs it.
            let zone = async || -> Result<chrono_tz::Tz> {
                Ok(match trigger {
                    Trigger::Recurring { .. } => time_zone(&find_org(db, c.org_id).await?),
                    _ => chrono_tz::UTC,
                })
            };
            let Some(due) = c.next_run_at else {
                // Active without a next run (activated before the scheduler kept them, or
                // loaded as data): its schedule starts now; an `At` that never ran runs.
                let first = match trigger {
                    Trigger::At { at } if c.last_sent_at.is_none() => Some(*at),
                    Trigger::Recurring { .. } => next_run(trigger, now, &zone().await?),
                    _ => None,
                };
                if first.is_some() {
                    campaign::Entity::update_many()
                        .col_expr(campaign::Column::NextRunAt, Expr::value(first))
                        .filter(campaign::Column::Id.eq(c.id))
                        .filter(campaign::Column::NextRunAt.is_null())
                        .exec(db)
                        .await?;
                }
                continue;
            };
            if due > now {
                continue;
            }
            let next = next_run(trigger, now, &zone().await?)
                .filter(|n| c.settings.expires_at.is_none_or(|e| *n < e));
            let _writer = crate::db::write_lock(db).await;
            let txn = crate::db::begin_write(db).await?;
            ctx.fence(&txn).await?;
            let claimed = campaign::Entity::update_many()
                .col_expr(campaign::Column::NextRunAt, Expr::value(next))
                .col_expr(campaign::Column::LastSentAt, Expr::value(now))
                .filter(campaign::Column::Id.eq(c.id))
                .filter(campaign::Column::Status.eq(CampaignStatus::Active))
                .filter(campaign::Column::NextRunAt.eq(due))
                .exec(&txn)
                .await?
                .rows_affected
                == 1;
            if claimed {
                let occurrence = format!("run:{}", due.to_rfc3339());
                start_send(&txn, &c, &occurrence, Targets::Audience, now).await?;
                if (now - due).num_minutes() > 5 {
                    tracing::warn!(campaign = c.id, %due, "a missed run fires late, once");
                } else {
                    tracing::info!(campaign = c.id, %due, "scheduled run");
                }
            }
            txn.commit().await?;
        }
        Ok(Step::Done)
    }
}

/// A campaign past its expiry date stops: it completes, and its queued messages are skipped
/// as expired when their sender reaches them.
async fn expire(ctx: &JobContext, c: &campaign::Model) -> Result<()> {
    let db = ctx.db();
    let now = ctx.now();
    let done = campaign::Entity::update_many()
        .col_expr(
            campaign::Column::Status,
            Expr::value(CampaignStatus::Completed),
        )
        .col_expr(
            campaign::Column::NextRunAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(campaign::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            campaign::Column::Revision,
            Expr::col(campaign::Column::Revision).add(1),
        )
        .filter(campaign::Column::Id.eq(c.id))
        .filter(campaign::Column::Status.eq(CampaignStatus::Active))
        .exec(db)
        .await?;
    if done.rows_affected == 1 {
        tracing::info!(campaign = c.id, "campaign expired");
    }
    Ok(())
}

/// Once a day at the deployment region's hour: the campaigns timed by record dates.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DailyRun;

impl Job for DailyRun {
    const KIND: &'static str = "delivery.daily";
    const PRIORITY: i32 = 20;
    const MAX_ATTEMPTS: i32 = 10;

    fn org_id(&self) -> Option<i64> {
        None
    }

    fn dedup_key(&self) -> Option<String> {
        Some("daily".into())
    }

    async fn run(&self, ctx: &JobContext) -> Result<Step> {
        let db = ctx.db();
        let now = ctx.now();
        let today = now.date_naive();
        for c in active(db).await? {
            if ctx.stopping() {
                return Ok(Step::Yield);
            }
            let Some(trigger @ Trigger::Relative { date, .. }) = &c.trigger else {
                continue;
            };
            let activated = c.activated_at.unwrap_or(now).date_naive();
            let Some((first, last)) = days_to_cover(today, activated, c.evaluated_through) else {
                continue;
            };
            let Some((from, to)) = record_dates_for(trigger, first, last) else {
                continue;
            };
            // One message per contact: the earliest of its records due.
            let mut due: BTreeMap<i64, (DateTime<Utc>, serde_json::Value)> = BTreeMap::new();
            for (contact, at, fields) in record_dates(db, c.org_id, *date, from, to).await? {
                if !send_day(trigger, at.date_naive()).is_some_and(|d| first <= d && d <= last) {
                    continue;
                }
                if due.get(&contact).is_none_or(|(earliest, _)| at < *earliest) {
                    due.insert(contact, (at, fields));
                }
            }
            let due: BTreeMap<i64, serde_json::Value> = due
                .into_iter()
                .map(|(k, (_, fields))| (k, fields))
                .collect();
            let _writer = crate::db::write_lock(db).await;
            let txn = crate::db::begin_write(db).await?;
            ctx.fence(&txn).await?;
            let mut claim = campaign::Entity::update_many()
                .col_expr(campaign::Column::EvaluatedThrough, Expr::value(last))
                .filter(campaign::Column::Id.eq(c.id))
                .filter(campaign::Column::Status.eq(CampaignStatus::Active));
            claim = match c.evaluated_through {
                Some(d) => claim.filter(campaign::Column::EvaluatedThrough.eq(d)),
                None => claim.filter(campaign::Column::EvaluatedThrough.is_null()),
            };
            let claimed = claim.exec(&txn).await?.rows_affected == 1;
            if claimed && !due.is_empty() {
                let n = due.len();
                let occurrence = format!("day:{today}");
                start_send(&txn, &c, &occurrence, Targets::Records(due), now).await?;
                tracing::info!(campaign = c.id, %first, %last, contacts = n, "daily run");
            }
            txn.commit().await?;
        }
        Ok(Step::Done)
    }
}

/// The organisation's records whose `date` falls in `from ..= to` (UTC days): each one's
/// contact, date and fields (what `record.*` renders, as the template preview shows them).
async fn record_dates(
    db: &impl ConnectionTrait,
    org_id: i64,
    date: RecordDate,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(i64, DateTime<Utc>, serde_json::Value)>> {
    use serde_json::json;
    let start = from.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    let end = to
        .checked_add_days(Days::new(1))
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc());
    let (Some(start), Some(end)) = (start, end) else {
        return Ok(Vec::new());
    };
    let day = |d: DateTime<Utc>| d.format("%Y-%m-%d").to_string();
    let maybe = |d: Option<DateTime<Utc>>| d.map(day).unwrap_or_default();
    macro_rules! dates {
        ($entity:ident, $column:ident, |$r:ident| $date:expr, $fields:expr) => {
            $entity::Entity::find()
                .filter($entity::Column::OrgId.eq(org_id))
                .filter($entity::Column::$column.gte(start))
                .filter($entity::Column::$column.lt(end))
                .all(db)
                .await?
                .into_iter()
                .filter_map(|$r| {
                    let at: Option<DateTime<Utc>> = $date;
                    Some(($r.contact_id, at?, $fields))
                })
                .collect()
        };
    }
    let credential = |r: &credential::Model| {
        json!({"name": r.name, "collection": r.collection, "published_at": day(r.published_at),
               "renewed_at": maybe(r.renewed_at), "expires_at": maybe(r.expires_at)})
    };
    let enrollment = |r: &enrollment::Model| {
        json!({"course": r.course, "category": r.category, "trainer": r.trainer,
               "starts_at": day(r.starts_at), "ends_at": day(r.ends_at)})
    };
    let pass =
        |r: &pass::Model| json!({"valid_from": day(r.valid_from), "valid_to": day(r.valid_to)});
    let subscription = |r: &subscription::Model| {
        json!({"status": r.status.as_str(), "period_start": day(r.period_start),
               "period_end": maybe(r.period_end)})
    };
    Ok(match date {
        RecordDate::CredentialPublished => {
            dates!(
                credential,
                PublishedAt,
                |r| Some(r.published_at),
                credential(&r)
            )
        }
        RecordDate::CredentialRenewed => {
            dates!(credential, RenewedAt, |r| r.renewed_at, credential(&r))
        }
        RecordDate::CredentialExpires => {
            dates!(credential, ExpiresAt, |r| r.expires_at, credential(&r))
        }
        RecordDate::EnrollmentStarts => {
            dates!(enrollment, StartsAt, |r| Some(r.starts_at), enrollment(&r))
        }
        RecordDate::EnrollmentEnds => {
            dates!(enrollment, EndsAt, |r| Some(r.ends_at), enrollment(&r))
        }
        RecordDate::Booking => dates!(
            booking,
            StartsAt,
            |r| Some(r.starts_at),
            json!({"starts_at": day(r.starts_at)})
        ),
        RecordDate::PassValidFrom => dates!(pass, ValidFrom, |r| Some(r.valid_from), pass(&r)),
        RecordDate::PassValidTo => dates!(pass, ValidTo, |r| Some(r.valid_to), pass(&r)),
        RecordDate::SubscriptionStarts => {
            dates!(
                subscription,
                PeriodStart,
                |r| Some(r.period_start),
                subscription(&r)
            )
        }
        RecordDate::SubscriptionEnds => {
            dates!(subscription, PeriodEnd, |r| r.period_end, subscription(&r))
        }
        RecordDate::Order => dates!(
            purchase,
            OrderedAt,
            |r| Some(r.ordered_at),
            json!({"ordered_at": day(r.ordered_at),
                   "amount": format!("{}.{:02}", r.amount_cents / 100, (r.amount_cents % 100).abs())})
        ),
    })
}

/// An event as stored, for the campaigns it triggers.
#[derive(Clone, Debug)]
pub struct StoredEvent {
    pub id: i64,
    pub contact_id: i64,
    pub name: String,
    /// What keys a workflow's runs (an invoice id).
    pub properties: crate::entity::values::Properties,
}

/// Starts the sends that stored events trigger, in the transaction that stored them: each
/// active campaign of the organisation waiting for an event of that name sends to the event's
/// contact (if in its audience), once per event.
pub async fn on_events(
    db: &impl ConnectionTrait,
    org_id: i64,
    events: &[StoredEvent],
    now: DateTime<Utc>,
) -> Result<usize> {
    if events.is_empty() {
        return Ok(0);
    }
    // Runs in workflows first: the goals an event reaches, the waits it ends.
    crate::workflows::entry::on_events(db, org_id, events, now).await?;
    let waiting = waiting_in(db, org_id, |t| matches!(t, Trigger::Event { .. })).await?;
    // Each keyed workflow's key property, read once per campaign rather than per event.
    let mut keys = Vec::with_capacity(waiting.len());
    for c in &waiting {
        keys.push(keyed_by(c, db).await?);
    }
    let mut started = 0;
    for e in events {
        for (c, key) in waiting.iter().zip(&keys) {
            let Some(Trigger::Event { name }) = &c.trigger else {
                continue;
            };
            if name.trim() != e.name.trim() {
                continue;
            }
            let occurrence = format!("event:{}", e.id);
            if let Some(key) = key {
                // A keyed workflow: one run per contact and key (an event without the key
                // starts none).
                let Some(value) = crate::workflows::key_of(&e.properties, key) else {
                    tracing::info!(
                        event = e.id,
                        campaign = c.id,
                        key,
                        "event without the workflow's key"
                    );
                    continue;
                };
                let entrant = crate::workflows::entry::Entrant {
                    contact_id: e.contact_id,
                    key: value,
                    context: None,
                };
                if crate::workflows::entry::enter_as(db, c, &occurrence, Some(vec![entrant]), now)
                    .await?
                    .is_some()
                {
                    started += 1;
                }
                continue;
            }
            if start_send(
                db,
                c,
                &occurrence,
                Targets::Contacts(vec![e.contact_id]),
                now,
            )
            .await?
            .is_some()
            {
                started += 1;
            }
        }
    }
    Ok(started)
}

/// The event property a workflow campaign's runs are keyed by, if it is one and keyed.
async fn keyed_by(c: &campaign::Model, db: &impl ConnectionTrait) -> Result<Option<String>> {
    let Some(v) = c.workflow_version_id else {
        return Ok(None);
    };
    let Some(version) = crate::entity::workflow_version::Entity::find_by_id(v)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(version
        .definition
        .key
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty()))
}

/// Starts the sends for the contacts who entered `segment` in the refresh at `now`, in the
/// refresh's transaction.
pub async fn on_segment_entered(
    db: &impl ConnectionTrait,
    segment: &segment::Model,
    now: DateTime<Utc>,
) -> Result<usize> {
    let waiting = waiting_in(
        db,
        segment.org_id,
        |t| matches!(t, Trigger::SegmentEntered { segment_id } if *segment_id == segment.id),
    )
    .await?;
    if waiting.is_empty() {
        return Ok(0);
    }
    let entered: Vec<i64> = segment_member::Entity::find()
        .select_only()
        .column(segment_member::Column::ContactId)
        .filter(segment_member::Column::SegmentId.eq(segment.id))
        .filter(segment_member::Column::EnteredAt.eq(now))
        .into_tuple()
        .all(db)
        .await?;
    if entered.is_empty() {
        return Ok(0);
    }
    let occurrence = format!("segment:{}:{}", segment.id, now.to_rfc3339());
    let mut started = 0;
    for c in &waiting {
        // Only contacts who entered after the campaign went live.
        if c.activated_at.is_some_and(|a| a > now) {
            continue;
        }
        if start_send(db, c, &occurrence, Targets::Contacts(entered.clone()), now)
            .await?
            .is_some()
        {
            started += 1;
        }
    }
    Ok(started)
}

/// The next run of a campaign, for its page: the stored one for timed campaigns, the next
/// daily run for those timed by record dates (`daily_at`, UTC), none otherwise.
pub fn next_run_of(
    c: &campaign::Model,
    daily_at: chrono::NaiveTime,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if c.status != CampaignStatus::Active {
        return None;
    }
    match c.trigger {
        Some(Trigger::At { .. } | Trigger::Recurring { .. }) => c.next_run_at,
        Some(Trigger::Relative { .. }) => {
            Some(crate::domain::schedule::next_daily_run(daily_at, now))
        }
        _ => None,
    }
}
