//! Recording opens and clicks off the request path. A tracking endpoint answers at once and puts
//! the hit on a bounded in-memory queue; one writer takes whatever is queued (up to
//! [`BATCH`]) and writes it in one transaction: the message rows (their triggers move the
//! campaign's counters), each message's clicks per link, the link's counts, the hourly chart and
//! an event per hit with what flagged it as a machine's. When the queue is full a hit is dropped
//! and counted ([`Counters::dropped`]): the endpoint still answers correctly. Stopping drains
//! the queue: nothing accepted is lost by a graceful shutdown.

use crate::domain::tracking::{Hit as Facts, classify};
use crate::domain::{HitKind, Machine};
use crate::entity::{campaign_hour, link, message, message_click, tracking_event};
use crate::{Herald, Result};
use chrono::{DateTime, DurationRound, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, ExprTrait, QueryFilter, QuerySelect, Set,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{Notify, mpsc};

/// Most hits written in one transaction.
pub const BATCH: usize = 2000;

/// One request to a tracking URL, as the endpoint saw it.
#[derive(Clone, Debug)]
pub struct Hit {
    pub kind: HitKind,
    pub message_id: i64,
    pub link_id: Option<i64>,
    pub at: DateTime<Utc>,
    pub head: bool,
    pub user_agent: Option<String>,
    pub ip: Option<std::net::IpAddr>,
}

/// What the recorder did, for the metrics endpoint.
#[derive(Debug, Default)]
pub struct Counters {
    /// Taken onto the queue.
    pub accepted: AtomicU64,
    /// Refused because the queue was full.
    pub dropped: AtomicU64,
    /// Written to the database.
    pub written: AtomicU64,
    /// For a message that no longer exists.
    pub ignored: AtomicU64,
    /// Given up after the database failed again and again during a shutdown.
    pub lost: AtomicU64,
}

/// The queue and its writer.
#[derive(Debug)]
pub struct Recorder {
    tx: mpsc::Sender<Hit>,
    pub counters: Arc<Counters>,
    stop: Arc<Notify>,
    writer: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Recorder {
    /// Starts the writer with a queue of `capacity` hits.
    pub fn start(h: Herald, capacity: usize) -> Arc<Recorder> {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let counters = Arc::new(Counters::default());
        let stop = Arc::new(Notify::new());
        let writer = tokio::spawn(write_loop(h, rx, counters.clone(), stop.clone()));
        Arc::new(Recorder {
            tx,
            counters,
            stop,
            writer: std::sync::Mutex::new(Some(writer)),
        })
    }

    /// Queues `hit`; `false` when the queue is full (the hit is dropped and counted).
    pub fn record(&self, hit: Hit) -> bool {
        match self.tx.try_send(hit) {
            Ok(()) => {
                self.counters.accepted.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(_) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Hits on the queue now.
    pub fn queued(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Writes what is queued and stops the writer.
    pub async fn stop(&self) {
        self.stop.notify_one();
        let writer = self.writer.lock().expect("not poisoned").take();
        if let Some(writer) = writer {
            let _ = writer.await;
        }
    }
}

async fn write_loop(
    h: Herald,
    mut rx: mpsc::Receiver<Hit>,
    counters: Arc<Counters>,
    stop: Arc<Notify>,
) {
    let mut stopping = false;
    loop {
        let first = if stopping {
            rx.try_recv().ok()
        } else {
            tokio::select! {
                hit = rx.recv() => hit,
                () = stop.notified() => {
                    stopping = true;
                    rx.try_recv().ok()
                }
            }
        };
        let Some(first) = first else {
            if stopping {
                return;
            }
            continue;
        };
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(hit) => batch.push(hit),
                Err(_) => break,
            }
        }
        let mut wait = std::time::Duration::from_millis(50);
        let mut attempts = 0;
        loop {
            attempts += 1;
            match apply(&h.db, &batch).await {
                Ok(outcome) => {
                    counters
                        .written
                        .fetch_add(outcome.written, Ordering::Relaxed);
                    counters
                        .ignored
                        .fetch_add(outcome.ignored, Ordering::Relaxed);
                    h.settings.live.changed(outcome.campaigns);
                    break;
                }
                Err(e) if stopping && attempts >= 5 => {
                    tracing::error!(error = %e, hits = batch.len(), "tracking hits lost at shutdown");
                    counters
                        .lost
                        .fetch_add(batch.len() as u64, Ordering::Relaxed);
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, hits = batch.len(), "writing tracking hits failed; trying again");
                    tokio::time::sleep(wait).await;
                    wait = Ord::min(wait * 2, std::time::Duration::from_secs(5));
                }
            }
        }
    }
}

/// What one batch did.
#[derive(Debug, Default)]
pub struct Applied {
    pub written: u64,
    pub ignored: u64,
    pub campaigns: BTreeSet<i64>,
}

/// A message's share of a batch.
#[derive(Default)]
struct Tally {
    opens: i32,
    clicks: i32,
    first_open: Option<DateTime<Utc>>,
    last_open: Option<DateTime<Utc>>,
    first_human_open: Option<DateTime<Utc>>,
    first_click: Option<DateTime<Utc>>,
    last_click: Option<DateTime<Utc>>,
    first_human_click: Option<DateTime<Utc>>,
}

fn earliest(a: Option<DateTime<Utc>>, b: DateTime<Utc>) -> Option<DateTime<Utc>> {
    Some(a.map_or(b, |a| Ord::min(a, b)))
}
fn latest(a: Option<DateTime<Utc>>, b: DateTime<Utc>) -> Option<DateTime<Utc>> {
    Some(a.map_or(b, |a| Ord::max(a, b)))
}

/// One message's clicks on one link in a batch: how many, whether any looked human, first and
/// last.
#[derive(Clone, Copy)]
struct PairTally {
    clicks: i32,
    human: bool,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
}

/// A link's share of a batch.
#[derive(Default)]
struct LinkTally {
    clicks: i64,
    unique: i64,
    human: i64,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
}

/// Writes `hits` in one transaction.
pub async fn apply(db: &DatabaseConnection, hits: &[Hit]) -> Result<Applied> {
    let mut out = Applied::default();
    let ids: BTreeSet<i64> = hits.iter().map(|h| h.message_id).collect();
    let _lock = crate::db::write_lock(db).await;
    let txn = crate::db::begin_write(db).await?;
    let messages: HashMap<i64, message::Model> = message::Entity::find()
        .filter(message::Column::Id.is_in(ids.iter().copied()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    // Links named by clicks, as far as they belong to the message's campaign.
    let link_ids: BTreeSet<i64> = hits.iter().filter_map(|h| h.link_id).collect();
    let links: HashMap<i64, i64> = if link_ids.is_empty() {
        HashMap::new()
    } else {
        link::Entity::find()
            .select_only()
            .column(link::Column::Id)
            .column(link::Column::CampaignId)
            .filter(link::Column::Id.is_in(link_ids.iter().copied()))
            .into_tuple::<(i64, i64)>()
            .all(&txn)
            .await?
            .into_iter()
            .collect()
    };
    let pairs: Vec<(i64, i64)> = hits
        .iter()
        .filter_map(|h| Some((h.message_id, h.link_id?)))
        .collect();
    let mut clicked: HashMap<(i64, i64), bool> = HashMap::new();
    for chunk in pairs.chunks(400) {
        let mut cond = sea_orm::Condition::any();
        for (m, l) in chunk {
            cond = cond.add(
                message_click::Column::MessageId
                    .eq(*m)
                    .and(message_click::Column::LinkId.eq(*l)),
            );
        }
        for c in message_click::Entity::find().filter(cond).all(&txn).await? {
            clicked.insert((c.message_id, c.link_id), c.human);
        }
    }

    let mut tallies: BTreeMap<(i64, i64, i64), Tally> = BTreeMap::new();
    let mut link_tallies: BTreeMap<i64, LinkTally> = BTreeMap::new();
    let mut pair_tallies: BTreeMap<(i64, i64), PairTally> = BTreeMap::new();
    let mut hours: BTreeMap<(i64, DateTime<Utc>), [i64; 5]> = BTreeMap::new();
    let mut events = Vec::with_capacity(hits.len());
    for hit in hits {
        let Some(m) = messages.get(&hit.message_id) else {
            out.ignored += 1;
            continue;
        };
        if let Some(l) = hit.link_id
            && links.get(&l) != Some(&m.campaign_id)
        {
            out.ignored += 1;
            continue;
        }
        let machine: Option<Machine> = classify(
            hit.kind,
            &Facts {
                head: hit.head,
                user_agent: hit.user_agent.as_deref().unwrap_or(""),
                ip: hit.ip,
                since_sent: m.sent_at.map(|s| (hit.at - s).num_seconds()),
            },
        );
        let human = machine.is_none();
        let t = tallies.entry((m.campaign_id, m.send_id, m.id)).or_default();
        let hour = hit
            .at
            .duration_trunc(chrono::Duration::hours(1))
            .unwrap_or(hit.at);
        // A seed copy's hits are kept on its row and as events, and counted nowhere else.
        let mut unseeded = [m.org_id, 0, 0, 0, 0];
        let slot = if m.seed {
            &mut unseeded
        } else {
            hours
                .entry((m.campaign_id, hour))
                .or_insert([m.org_id, 0, 0, 0, 0])
        };
        match hit.kind {
            HitKind::Open | HitKind::View => {
                t.opens += 1;
                t.first_open = earliest(t.first_open, hit.at);
                t.last_open = latest(t.last_open, hit.at);
                slot[1] += 1;
                if human {
                    t.first_human_open = earliest(t.first_human_open, hit.at);
                    slot[2] += 1;
                }
            }
            HitKind::Click => {
                t.clicks += 1;
                t.first_click = earliest(t.first_click, hit.at);
                t.last_click = latest(t.last_click, hit.at);
                slot[3] += 1;
                if human {
                    t.first_human_click = earliest(t.first_human_click, hit.at);
                    // A person who clicked saw the message: an open, though no image loaded.
                    t.first_human_open = earliest(t.first_human_open, hit.at);
                    slot[4] += 1;
                }
                let l = hit.link_id.expect("a click names its link");
                if m.seed {
                    // (Its clicks are on its row.)
                    events.push(event_of(m, hit, machine));
                    out.campaigns.insert(m.campaign_id);
                    out.written += 1;
                    continue;
                }
                let lt = link_tallies.entry(l).or_default();
                lt.clicks += 1;
                lt.first = earliest(lt.first, hit.at);
                lt.last = latest(lt.last, hit.at);
                let p = pair_tallies.entry((m.id, l)).or_insert(PairTally {
                    clicks: 0,
                    human: false,
                    first: hit.at,
                    last: hit.at,
                });
                p.clicks += 1;
                p.human |= human;
                p.first = Ord::min(p.first, hit.at);
                p.last = Ord::max(p.last, hit.at);
            }
        }
        events.push(event_of(m, hit, machine));
        out.campaigns.insert(m.campaign_id);
        out.written += 1;
    }

    // Messages in (campaign, send, id) order: the counters' rows are locked in one order.
    use message::Column as M;
    for ((_, _, id), t) in &tallies {
        let mut update = message::Entity::update_many().filter(M::Id.eq(*id));
        if t.opens > 0 {
            update = update
                .col_expr(M::Opens, Expr::col(M::Opens).add(t.opens))
                .col_expr(M::FirstOpenedAt, coalesce(M::FirstOpenedAt, t.first_open))
                .col_expr(M::LastOpenedAt, greatest(M::LastOpenedAt, t.last_open));
        }
        if t.first_human_open.is_some() {
            update = update.col_expr(
                M::HumanOpenedAt,
                coalesce(M::HumanOpenedAt, t.first_human_open),
            );
        }
        if t.clicks > 0 {
            update = update
                .col_expr(M::Clicks, Expr::col(M::Clicks).add(t.clicks))
                .col_expr(
                    M::FirstClickedAt,
                    coalesce(M::FirstClickedAt, t.first_click),
                )
                .col_expr(M::LastClickedAt, greatest(M::LastClickedAt, t.last_click));
        }
        if t.first_human_click.is_some() {
            update = update.col_expr(
                M::HumanClickedAt,
                coalesce(M::HumanClickedAt, t.first_human_click),
            );
        }
        update.exec(&txn).await?;
    }
    for ((message_id, link_id), p) in &pair_tallies {
        let PairTally {
            clicks,
            human,
            first,
            last,
        } = p;
        let before = clicked.get(&(*message_id, *link_id)).copied();
        let lt = link_tallies
            .get_mut(link_id)
            .expect("tallied with its pair");
        match before {
            None => {
                lt.unique += 1;
                if *human {
                    lt.human += 1;
                }
                message_click::Entity::insert(message_click::ActiveModel {
                    message_id: Set(*message_id),
                    link_id: Set(*link_id),
                    clicks: Set(*clicks),
                    human: Set(*human),
                    first_at: Set(*first),
                    last_at: Set(*last),
                })
                .exec_without_returning(&txn)
                .await?;
            }
            Some(was_human) => {
                if *human && !was_human {
                    lt.human += 1;
                }
                message_click::Entity::update_many()
                    .col_expr(
                        message_click::Column::Clicks,
                        Expr::col(message_click::Column::Clicks).add(*clicks),
                    )
                    .col_expr(
                        message_click::Column::Human,
                        Expr::value(*human || was_human),
                    )
                    .col_expr(
                        message_click::Column::LastAt,
                        greatest(message_click::Column::LastAt, Some(*last)),
                    )
                    .filter(message_click::Column::MessageId.eq(*message_id))
                    .filter(message_click::Column::LinkId.eq(*link_id))
                    .exec(&txn)
                    .await?;
            }
        }
    }
    for (id, lt) in &link_tallies {
        use link::Column as L;
        link::Entity::update_many()
            .col_expr(L::Clicks, Expr::col(L::Clicks).add(lt.clicks))
            .col_expr(L::UniqueClicks, Expr::col(L::UniqueClicks).add(lt.unique))
            .col_expr(L::HumanClicks, Expr::col(L::HumanClicks).add(lt.human))
            .col_expr(L::FirstClickedAt, coalesce(L::FirstClickedAt, lt.first))
            .col_expr(L::LastClickedAt, greatest(L::LastClickedAt, lt.last))
            .filter(L::Id.eq(*id))
            .exec(&txn)
            .await?;
    }
    for ((campaign_id, hour), [org_id, opens, human_opens, clicks, human_clicks]) in hours {
        use campaign_hour::Column as H;
        campaign_hour::Entity::insert(campaign_hour::ActiveModel {
            campaign_id: Set(campaign_id),
            hour: Set(hour),
            org_id: Set(org_id),
            opens: Set(opens),
            human_opens: Set(human_opens),
            clicks: Set(clicks),
            human_clicks: Set(human_clicks),
        })
        .on_conflict(
            OnConflict::columns([H::CampaignId, H::Hour])
                .value(
                    H::Opens,
                    Expr::col((campaign_hour::Entity, H::Opens)).add(opens),
                )
                .value(
                    H::HumanOpens,
                    Expr::col((campaign_hour::Entity, H::HumanOpens)).add(human_opens),
                )
                .value(
                    H::Clicks,
                    Expr::col((campaign_hour::Entity, H::Clicks)).add(clicks),
                )
                .value(
                    H::HumanClicks,
                    Expr::col((campaign_hour::Entity, H::HumanClicks)).add(human_clicks),
                )
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    for chunk in events.chunks(500) {
        tracking_event::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(out)
}

/// The event row of one hit.
fn event_of(
    m: &message::Model,
    hit: &Hit,
    machine: Option<Machine>,
) -> tracking_event::ActiveModel {
    tracking_event::ActiveModel {
        org_id: Set(m.org_id),
        campaign_id: Set(m.campaign_id),
        message_id: Set(m.id),
        contact_id: Set(m.contact_id),
        kind: Set(hit.kind),
        link_id: Set(hit.link_id),
        at: Set(hit.at),
        machine: Set(machine),
        user_agent: Set(hit
            .user_agent
            .as_ref()
            .map(|ua| ua.chars().take(300).collect())),
        ip: Set(hit.ip.map(|ip| ip.to_string())),
        ..Default::default()
    }
}

/// `column`, or `value` when it is still empty.
fn coalesce<C>(column: C, value: Option<DateTime<Utc>>) -> Expr
where
    C: sea_orm::sea_query::IntoColumnRef,
{
    sea_orm::sea_query::Func::coalesce([Expr::col(column), Expr::value(value)]).into()
}

/// The later of `column` and `value`.
fn greatest<C>(column: C, value: Option<DateTime<Utc>>) -> Expr
where
    C: sea_orm::sea_query::IntoColumnRef + Copy,
{
    // `CASE` rather than GREATEST/MAX: SQLite's scalar MAX and PostgreSQL's GREATEST differ.
    sea_orm::sea_query::CaseStatement::new()
        .case(
            Expr::col(column)
                .is_null()
                .or(Expr::col(column).lt(Expr::value(value))),
            Expr::value(value),
        )
        .finally(Expr::col(column))
        .into()
}
