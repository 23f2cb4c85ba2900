//! Recording opens and clicks off the request path. A tracking endpoint answers at once and puts
//! the hit on a bounded in-memory queue; one writer takes whatever is queued (up to
//! [`BATCH`]) and writes it in one transaction: the message rows, the campaign's and run's
//! counters of opens and clicks (once per batch: the triggers on `message` leave those to the
//! recorder), each message's clicks per link, the link's counts, the hourly chart and an event
//! per hit with what flagged it as a machine's. When the queue is full a hit is dropped and
//! counted ([`Counters::dropped`]): the endpoint still answers correctly. Stopping drains the
//! queue: nothing accepted is lost by a graceful shutdown.
//!
//! Under load the batches grow, and a hit costs less the more share its batch: the writer
//! spends its time on the pages a batch touches, not on the hits.

use crate::domain::tracking::{Hit as Facts, classify};
use crate::domain::{HitKind, Machine};
use crate::entity::{
    campaign_hour, campaign_stats, link, message, message_click, send_stats, tracking_event,
};
use crate::{Herald, Result};
use chrono::{DateTime, DurationRound, Utc};
use sea_orm::sea_query::{
    Alias, Expr, IntoIden, OnConflict, Query, TableRef, UpdateStatement, ValueTuple,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, ExprTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{Notify, mpsc};

/// Most hits written in one transaction. A batch is whatever waits, so it is this large only
/// under load, when a hit costs least in a large batch (on SQLite about 25 µs in a batch of
/// 2,000, 14 µs in one of 10,000): such a transaction holds SQLite's write lock for about a
/// quarter of a second.
pub const BATCH: usize = 20_000;

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

/// What a batch reads of a message: whose it is, when it was sent and which of its tracking
/// columns are still empty (what makes a hit the first open or click of it).
#[derive(Debug, FromQueryResult)]
struct Row {
    id: i64,
    org_id: i64,
    campaign_id: i64,
    send_id: i64,
    contact_id: Option<i64>,
    seed: bool,
    sent_at: Option<DateTime<Utc>>,
    first_opened_at: Option<DateTime<Utc>>,
    human_opened_at: Option<DateTime<Utc>>,
    first_clicked_at: Option<DateTime<Utc>>,
    human_clicked_at: Option<DateTime<Utc>>,
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

/// What a batch adds to the tracking counters of a campaign or a run (the counters the
/// triggers on `message` leave to the recorder: `migrations::TRACKED`).
#[derive(Clone, Copy, Default)]
struct Moved {
    opened: i64,
    human_opened: i64,
    clicked: i64,
    human_clicked: i64,
    opens: i64,
    clicks: i64,
}

impl Moved {
    /// What message `r`'s tally `t` moves: its hits, and each column it fills for the first
    /// time.
    fn of(r: &Row, t: &Tally) -> Moved {
        let first = |was: Option<DateTime<Utc>>, now: Option<DateTime<Utc>>| {
            i64::from(was.is_none() && now.is_some())
        };
        Moved {
            opened: first(r.first_opened_at, t.first_open),
            human_opened: first(r.human_opened_at, t.first_human_open),
            clicked: first(r.first_clicked_at, t.first_click),
            human_clicked: first(r.human_clicked_at, t.first_human_click),
            opens: i64::from(t.opens),
            clicks: i64::from(t.clicks),
        }
    }

    fn add(&mut self, o: Moved) {
        self.opened += o.opened;
        self.human_opened += o.human_opened;
        self.clicked += o.clicked;
        self.human_clicked += o.human_clicked;
        self.opens += o.opens;
        self.clicks += o.clicks;
    }
}

/// Messages updated, clicks upserted and events inserted per statement.
const ROWS_PER_STATEMENT: usize = 500;

/// Writes `hits` in one transaction, with a handful of statements whatever their number:
/// the messages' rows in one `UPDATE … FROM (VALUES …)` per 500, their clicks per link in one
/// upsert per 500, a statement per link, per campaign and hour and per counter row touched, and
/// the events in multi-row inserts. The messages are read first (locked on PostgreSQL, in id
/// order): what they held decides which hits are a first open or click.
pub async fn apply(db: &DatabaseConnection, hits: &[Hit]) -> Result<Applied> {
    let mut out = Applied::default();
    let ids: BTreeSet<i64> = hits.iter().map(|h| h.message_id).collect();
    let _lock = crate::db::write_lock(db).await;
    let txn = crate::db::begin_write(db).await?;
    let mut messages: HashMap<i64, Row> = HashMap::with_capacity(ids.len());
    let ids: Vec<i64> = ids.into_iter().collect();
    for chunk in ids.chunks(ROWS_PER_STATEMENT * 2) {
        use message::Column as M;
        let rows = message::Entity::find()
            .select_only()
            .columns([
                M::Id,
                M::OrgId,
                M::CampaignId,
                M::SendId,
                M::ContactId,
                M::Seed,
                M::SentAt,
                M::FirstOpenedAt,
                M::HumanOpenedAt,
                M::FirstClickedAt,
                M::HumanClickedAt,
            ])
            .filter(M::Id.is_in(chunk.iter().copied()))
            .order_by_asc(M::Id)
            // Another instance's recorder may write the same messages: who comes second
            // waits, then reads what the first wrote.
            .lock_exclusive()
            .into_model::<Row>()
            .all(&txn)
            .await?;
        messages.extend(rows.into_iter().map(|r| (r.id, r)));
    }
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
    // The links each clicked message was clicked on before, and whether by a person.
    let clicking: BTreeSet<i64> = hits
        .iter()
        .filter(|h| h.link_id.is_some())
        .map(|h| h.message_id)
        .collect();
    let mut clicked: HashMap<(i64, i64), bool> = HashMap::new();
    let clicking: Vec<i64> = clicking.into_iter().collect();
    for chunk in clicking.chunks(ROWS_PER_STATEMENT * 2) {
        let rows: Vec<(i64, i64, bool)> = message_click::Entity::find()
            .select_only()
            .column(message_click::Column::MessageId)
            .column(message_click::Column::LinkId)
            .column(message_click::Column::Human)
            .filter(message_click::Column::MessageId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(&txn)
            .await?;
        clicked.extend(rows.into_iter().map(|(m, l, human)| ((m, l), human)));
    }

    let mut tallies: BTreeMap<i64, Tally> = BTreeMap::new();
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
        let t = tallies.entry(m.id).or_default();
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
                if !m.seed {
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
                // (A seed copy's clicks are on its row.)
            }
        }
        events.push(event_of(m, hit, machine));
        out.campaigns.insert(m.campaign_id);
        out.written += 1;
    }

    // The counters the rows' changes move, per campaign and per run (seed copies count
    // nowhere).
    let mut by_campaign: BTreeMap<i64, Moved> = BTreeMap::new();
    let mut by_send: BTreeMap<i64, Moved> = BTreeMap::new();
    for (id, t) in &tallies {
        let m = &messages[id];
        if !m.seed {
            let moved = Moved::of(m, t);
            by_campaign.entry(m.campaign_id).or_default().add(moved);
            by_send.entry(m.send_id).or_default().add(moved);
        }
    }
    let tallies: Vec<(&i64, &Tally)> = tallies.iter().collect();
    for chunk in tallies.chunks(ROWS_PER_STATEMENT) {
        txn.execute(&update_messages(chunk)).await?;
    }

    let mut upserts = Vec::with_capacity(pair_tallies.len());
    for ((message_id, link_id), p) in &pair_tallies {
        let lt = link_tallies
            .get_mut(link_id)
            .expect("tallied with its pair");
        match clicked.get(&(*message_id, *link_id)) {
            None => {
                lt.unique += 1;
                lt.human += i64::from(p.human);
            }
            Some(was_human) => lt.human += i64::from(p.human && !was_human),
        }
        upserts.push(message_click::ActiveModel {
            message_id: Set(*message_id),
            link_id: Set(*link_id),
            clicks: Set(p.clicks),
            human: Set(p.human),
            first_at: Set(p.first),
            last_at: Set(p.last),
        });
    }
    for chunk in upserts.chunks(ROWS_PER_STATEMENT) {
        use message_click::Column as C;
        message_click::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([C::MessageId, C::LinkId])
                    .value(
                        C::Clicks,
                        Expr::col((message_click::Entity, C::Clicks)).add(excluded(C::Clicks)),
                    )
                    .value(
                        C::Human,
                        Expr::col((message_click::Entity, C::Human)).or(excluded(C::Human)),
                    )
                    .value(
                        C::LastAt,
                        later((message_click::Entity, C::LastAt), excluded(C::LastAt)),
                    )
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
    }
    for (id, lt) in &link_tallies {
        use link::Column as L;
        link::Entity::update_many()
            .col_expr(L::Clicks, Expr::col(L::Clicks).add(lt.clicks))
            .col_expr(L::UniqueClicks, Expr::col(L::UniqueClicks).add(lt.unique))
            .col_expr(L::HumanClicks, Expr::col(L::HumanClicks).add(lt.human))
            .col_expr(
                L::FirstClickedAt,
                coalesce(Expr::col(L::FirstClickedAt), Expr::value(lt.first)),
            )
            .col_expr(
                L::LastClickedAt,
                later(L::LastClickedAt, Expr::value(lt.last)),
            )
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
    // The counters last, each row once, in id order.
    for (id, moved) in by_campaign {
        use campaign_stats::Column as S;
        txn.execute(&count(campaign_stats::Entity, (S::CampaignId, id), moved))
            .await?;
    }
    for (id, moved) in by_send {
        use send_stats::Column as S;
        txn.execute(&count(send_stats::Entity, (S::SendId, id), moved))
            .await?;
    }
    for chunk in events.chunks(ROWS_PER_STATEMENT) {
        tracking_event::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(out)
}

/// One `UPDATE message … FROM (VALUES …)` adding `tallies` to their messages' rows.
fn update_messages(tallies: &[(&i64, &Tally)]) -> UpdateStatement {
    use message::Column as M;
    let rows = tallies
        .iter()
        .map(|(id, t)| {
            ValueTuple::Many(vec![
                (**id).into(),
                t.opens.into(),
                t.first_open.into(),
                t.last_open.into(),
                t.first_human_open.into(),
                t.clicks.into(),
                t.first_click.into(),
                t.last_click.into(),
                t.first_human_click.into(),
            ])
        })
        .collect();
    // The columns of a `VALUES` list are `column1`, `column2`… on both databases.
    let v = |n: usize| Expr::col((Alias::new("v"), Alias::new(format!("column{n}"))));
    let own = |c: M| Expr::col((message::Entity, c));
    Query::update()
        .table(message::Entity)
        .value(M::Opens, own(M::Opens).add(v(2)))
        .value(M::FirstOpenedAt, coalesce(own(M::FirstOpenedAt), v(3)))
        .value(
            M::LastOpenedAt,
            later((message::Entity, M::LastOpenedAt), v(4)),
        )
        .value(M::HumanOpenedAt, coalesce(own(M::HumanOpenedAt), v(5)))
        .value(M::Clicks, own(M::Clicks).add(v(6)))
        .value(M::FirstClickedAt, coalesce(own(M::FirstClickedAt), v(7)))
        .value(
            M::LastClickedAt,
            later((message::Entity, M::LastClickedAt), v(8)),
        )
        .value(M::HumanClickedAt, coalesce(own(M::HumanClickedAt), v(9)))
        .from(TableRef::ValuesList(rows, Alias::new("v").into_iden()))
        .and_where(own(M::Id).eq(v(1)))
        .to_owned()
}

/// An update adding `moved` to the counter row `key` of `table`.
fn count<T, C>(table: T, key: (C, i64), moved: Moved) -> UpdateStatement
where
    T: sea_orm::sea_query::IntoIden + Copy + 'static,
    C: sea_orm::sea_query::IntoIden + Copy + 'static,
{
    let add = |name: &'static str, n: i64| {
        (
            Alias::new(name),
            Expr::col((table, Alias::new(name))).add(n),
        )
    };
    let Moved {
        opened,
        human_opened,
        clicked,
        human_clicked,
        opens,
        clicks,
    } = moved;
    let mut u = Query::update();
    u.table(table);
    for (col, expr) in [
        add("opened", opened),
        add("human_opened", human_opened),
        add("clicked", clicked),
        add("human_clicked", human_clicked),
        add("opens", opens),
        add("clicks", clicks),
    ] {
        u.value(col, expr);
    }
    u.and_where(Expr::col(key.0).eq(key.1)).to_owned()
}

/// The event row of one hit.
fn event_of(m: &Row, hit: &Hit, machine: Option<Machine>) -> tracking_event::ActiveModel {
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

/// `a`, or `b` when `a` is empty.
fn coalesce(a: Expr, b: Expr) -> Expr {
    sea_orm::sea_query::Func::coalesce([a, b]).into()
}

/// The value of the row being inserted in an upsert (`excluded.column`).
fn excluded(c: impl sea_orm::sea_query::IntoIden) -> Expr {
    Expr::col((Alias::new("excluded"), c))
}

/// The later of `column` and `value` (`column` when `value` is empty).
fn later(column: impl sea_orm::sea_query::IntoColumnRef + Clone, value: Expr) -> Expr {
    // `CASE` rather than GREATEST/MAX: SQLite's scalar MAX and PostgreSQL's GREATEST differ.
    sea_orm::sea_query::CaseStatement::new()
        .case(
            Expr::col(column.clone())
                .is_null()
                .or(Expr::col(column.clone()).lt(value.clone())),
            value,
        )
        .finally(Expr::col(column))
        .into()
}
