//! Reports: a campaign's numbers read from the counters the message triggers keep (one row,
//! however many recipients), its per-recipient table, links and chart, the organisation's
//! sending and deliverability, and [`Live`], which tells open report pages that numbers moved.
//!
//! Account managers read the per-recipient table of their own contacts only.

use crate::domain::access::{Action, Actor};
use crate::domain::reports::{
    Activity, BOUNCE_LIMITS, CampaignEngagement, HourRow, LinkRow, Overview, PER_PAGE,
    RecipientPage, RecipientQuery, RecipientRow, Suppression, complaint_lines, standing,
    suppression, weekly,
};
use crate::domain::{Channel, DeliveryState, DeliveryStats, Rate, RecipientFilter, RecipientSort};
use crate::entity::{
    campaign, campaign_hour, campaign_send, campaign_stats, contact, link, message, send_stats,
};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use std::collections::HashMap;

/// Tells this instance's open report pages which campaigns' numbers moved. Pages also read the
/// counters every few seconds, so what another instance records reaches them too.
#[derive(Clone, Debug)]
pub struct Live(tokio::sync::broadcast::Sender<i64>);

impl Default for Live {
    fn default() -> Self {
        Live(tokio::sync::broadcast::channel(1024).0)
    }
}

impl Live {
    pub fn changed(&self, campaigns: impl IntoIterator<Item = i64>) {
        for id in campaigns {
            // No page open: nobody to tell.
            let _ = self.0.send(id);
        }
    }

    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<i64> {
        self.0.subscribe()
    }
}

macro_rules! stats_from {
    ($row:expr) => {{
        let r = $row;
        DeliveryStats {
            recipients: r.recipients,
            waiting: r.waiting,
            skipped: r.skipped,
            sent: r.sent,
            pending: r.pending,
            delivered: r.delivered,
            bounced: r.bounced,
            soft_bounced: r.soft_bounced,
            complained: r.complained,
            failed: r.failed,
            unsubscribed: r.unsubscribed,
            opened: r.opened,
            human_opened: r.human_opened,
            clicked: r.clicked,
            human_clicked: r.human_clicked,
            opens: r.opens,
            clicks: r.clicks,
        }
    }};
}

/// The counters of the organisation's campaigns `ids`.
pub async fn campaign_stats(
    db: &impl ConnectionTrait,
    org_id: i64,
    ids: &[i64],
) -> Result<HashMap<i64, DeliveryStats>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        for r in campaign_stats::Entity::find()
            .filter(campaign_stats::Column::OrgId.eq(org_id))
            .filter(campaign_stats::Column::CampaignId.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            out.insert(r.campaign_id, stats_from!(&r));
        }
    }
    Ok(out)
}

/// The counters of sends `ids` (a workflow's send steps), by send.
pub(crate) async fn send_stats_of(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<HashMap<i64, DeliveryStats>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(send_stats::Entity::find()
        .filter(send_stats::Column::SendId.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.send_id, stats_from!(&r)))
        .collect())
}

/// One campaign of the actor's organisation, or `NotFound`.
async fn campaign_of(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> Result<campaign::Model> {
    actor.require(Action::ReadCampaigns)?;
    campaign::Entity::find_by_id(id)
        .filter(campaign::Column::OrgId.eq(actor.org_id()))
        .one(db)
        .await?
        .ok_or(Error::NotFound("campaign"))
}

/// A campaign's numbers now.
pub async fn live(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> Result<DeliveryStats> {
    let c = campaign_of(db, actor, id).await?;
    Ok(campaign_stats(db, c.org_id, &[c.id])
        .await?
        .remove(&c.id)
        .unwrap_or_default())
}

/// Everything a campaign's report shows beside its cards and its recipients.
pub async fn report(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> Result<crate::domain::reports::CampaignReport> {
    Ok(crate::domain::reports::CampaignReport {
        links: links(db, actor, id).await?,
        activity: activity(db, actor, id).await?,
        runs: runs(db, actor, id, 20).await?,
    })
}

/// Each run of a campaign with its numbers, newest first (at most `limit`).
pub async fn runs(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    limit: u64,
) -> Result<Vec<crate::domain::reports::RunRow>> {
    let c = campaign_of(db, actor, id).await?;
    let sends = campaign_send::Entity::find()
        .filter(campaign_send::Column::CampaignId.eq(c.id))
        // A workflow's entries (each event that let someone in) send nothing themselves: its
        // runs are its send steps.
        .filter(
            sea_orm::Condition::any()
                .add(campaign_send::Column::VersionId.is_null())
                .add(campaign_send::Column::StepId.is_not_null()),
        )
        .order_by_desc(campaign_send::Column::StartedAt)
        .order_by_desc(campaign_send::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let stats: HashMap<i64, DeliveryStats> = send_stats::Entity::find()
        .filter(send_stats::Column::SendId.is_in(sends.iter().map(|s| s.id)))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.send_id, stats_from!(&r)))
        .collect();
    Ok(sends
        .into_iter()
        .map(|s| crate::domain::reports::RunRow {
            send_id: s.id,
            started_at: s.started_at,
            stats: stats.get(&s.id).copied().unwrap_or_default(),
        })
        .collect())
}

/// The messages the per-recipient table lists for `q` (its filter and search, not its page).
fn recipients_query(
    c: &campaign::Model,
    actor: &Actor,
    q: &RecipientQuery,
) -> Select<message::Entity> {
    use message::Column as M;
    let mut s = message::Entity::find()
        .filter(M::CampaignId.eq(c.id))
        .filter(M::Seed.eq(false));
    if let Some(user) = actor.assigned_to() {
        s = s.filter(
            M::ContactId.in_subquery(
                Query::select()
                    .column(contact::Column::Id)
                    .from(contact::Entity)
                    .and_where(contact::Column::OrgId.eq(c.org_id))
                    .and_where(contact::Column::AssignedUserId.eq(user))
                    .to_owned(),
            ),
        );
    }
    s = match q.filter {
        None => s,
        Some(RecipientFilter::Delivered) => s.filter(M::DeliveredAt.is_not_null()),
        Some(RecipientFilter::Pending) => s.filter(M::State.eq(DeliveryState::Sent)),
        Some(RecipientFilter::Bounced) => s.filter(M::BouncedAt.is_not_null()),
        Some(RecipientFilter::Failed) => {
            s.filter(M::State.is_in([DeliveryState::Failed, DeliveryState::Complained]))
        }
        Some(RecipientFilter::Opened) => s.filter(M::FirstOpenedAt.is_not_null()),
        Some(RecipientFilter::NotOpened) => s
            .filter(M::SentAt.is_not_null())
            .filter(M::FirstOpenedAt.is_null()),
        Some(RecipientFilter::Clicked) => s.filter(M::FirstClickedAt.is_not_null()),
        Some(RecipientFilter::Skipped) => s.filter(M::State.eq(DeliveryState::Skipped)),
    };
    let search = q.search.trim();
    if !search.is_empty() {
        let pattern = crate::contacts::contains_pattern(search);
        let names = Query::select()
            .column(contact::Column::Id)
            .from(contact::Entity)
            .and_where(contact::Column::OrgId.eq(c.org_id))
            .and_where(
                Expr::expr(sea_orm::sea_query::Func::lower(Expr::col(
                    contact::Column::FirstName,
                )))
                .like(sea_orm::sea_query::LikeExpr::new(&pattern).escape('\\'))
                .or(Expr::expr(sea_orm::sea_query::Func::lower(Expr::col(
                    contact::Column::LastName,
                )))
                .like(sea_orm::sea_query::LikeExpr::new(&pattern).escape('\\'))),
            )
            .to_owned();
        s = s.filter(
            sea_orm::Condition::any()
                .add(
                    Expr::expr(sea_orm::sea_query::Func::lower(Expr::col(M::Recipient)))
                        .like(sea_orm::sea_query::LikeExpr::new(&pattern).escape('\\')),
                )
                .add(M::ContactId.in_subquery(names)),
        );
    }
    let order = if q.desc {
        sea_orm::Order::Desc
    } else {
        sea_orm::Order::Asc
    };
    s = match q.sort {
        None => s,
        Some(RecipientSort::Recipient) => s.order_by(M::Recipient, order.clone()),
        Some(RecipientSort::Sent) => s.order_by(M::SentAt, order.clone()),
        Some(RecipientSort::Status) => s.order_by(M::State, order.clone()),
        Some(RecipientSort::Opens) => s.order_by(M::Opens, order.clone()),
        Some(RecipientSort::Clicks) => s.order_by(M::Clicks, order.clone()),
    };
    s.order_by(M::Id, order)
}

async fn rows_of(
    db: &impl ConnectionTrait,
    messages: Vec<message::Model>,
) -> Result<Vec<RecipientRow>> {
    let ids: Vec<i64> = messages.iter().filter_map(|m| m.contact_id).collect();
    let names: HashMap<i64, String> = if ids.is_empty() {
        HashMap::new()
    } else {
        contact::Entity::find()
            .filter(contact::Column::Id.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|k| (k.id, k.display_name()))
            .collect()
    };
    Ok(messages
        .into_iter()
        .map(|m| RecipientRow {
            message_id: m.id,
            contact_id: m.contact_id,
            name: m
                .contact_id
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_default(),
            detail: match (m.state, m.skip_reason) {
                (DeliveryState::Skipped, Some(r)) => Some(r.label().to_owned()),
                _ => m.error.clone(),
            },
            soft_bounce: m.bounce_type == Some(crate::domain::BounceType::Transient),
            machine_only: (m.opens > 0 || m.clicks > 0)
                && m.human_opened_at.is_none()
                && m.human_clicked_at.is_none(),
            recipient: m.recipient,
            state: m.state,
            sent_at: m.sent_at,
            delivered_at: m.delivered_at,
            bounced_at: m.bounced_at,
            complained_at: m.complained_at,
            failed_at: m.failed_at,
            opens: m.opens,
            first_opened_at: m.first_opened_at,
            last_opened_at: m.last_opened_at,
            clicks: m.clicks,
            first_clicked_at: m.first_clicked_at,
            last_clicked_at: m.last_clicked_at,
        })
        .collect())
}

/// A page of a campaign's per-recipient table.
pub async fn recipients(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    q: &RecipientQuery,
) -> Result<RecipientPage> {
    let c = campaign_of(db, actor, id).await?;
    let query = recipients_query(&c, actor, q);
    // The counters know how many rows most views have (counting a million rows takes a
    // quarter of a second); a search, an account manager's share and the other filters count.
    let counted = if q.search.trim().is_empty() && actor.assigned_to().is_none() {
        let s = campaign_stats(db, c.org_id, &[c.id])
            .await?
            .remove(&c.id)
            .unwrap_or_default();
        match q.filter {
            None => Some(s.recipients),
            Some(RecipientFilter::Delivered) => Some(s.delivered),
            Some(RecipientFilter::Pending) => Some(s.pending),
            Some(RecipientFilter::Bounced) => Some(s.bounced),
            Some(RecipientFilter::Opened) => Some(s.opened),
            Some(RecipientFilter::Clicked) => Some(s.clicked),
            Some(RecipientFilter::Skipped) => Some(s.skipped),
            Some(RecipientFilter::Failed | RecipientFilter::NotOpened) => None,
        }
    } else {
        None
    };
    let total = match counted {
        Some(n) => u64::try_from(n).unwrap_or(0),
        None => query.clone().count(db).await?,
    };
    let pages = Ord::max(total.div_ceil(PER_PAGE), 1);
    let page = q.page.clamp(1, pages);
    let messages = query
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
        .all(db)
        .await?;
    Ok(RecipientPage {
        rows: rows_of(db, messages).await?,
        total,
        page,
        pages,
    })
}

/// A cell as a spreadsheet reads it: text that would start a formula is quoted.
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

/// The whole per-recipient table for `q` (every page) as CSV.
pub async fn recipients_csv(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    q: &RecipientQuery,
) -> Result<String> {
    let c = campaign_of(db, actor, id).await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let write_err = |e: csv::Error| Error::Internal(e.to_string());
    w.write_record([
        "name",
        "recipient",
        "contact_id",
        "status",
        "sent_at",
        "delivered_at",
        "bounced_at",
        "bounce",
        "complained_at",
        "failed_at",
        "detail",
        "opens",
        "first_opened_at",
        "last_opened_at",
        "clicks",
        "first_clicked_at",
        "last_clicked_at",
        "machine_only",
    ])
    .map_err(write_err)?;
    let query = recipients_query(&c, actor, q);
    let mut offset = 0;
    loop {
        let messages = query.clone().offset(offset).limit(5000).all(db).await?;
        let n = messages.len() as u64;
        for r in rows_of(db, messages).await? {
            w.write_record([
                cell(&r.name),
                cell(&r.recipient),
                r.contact_id.map(|i| i.to_string()).unwrap_or_default(),
                r.state.as_str().to_owned(),
                time(r.sent_at),
                time(r.delivered_at),
                time(r.bounced_at),
                match (r.bounced_at, r.soft_bounce) {
                    (None, _) => String::new(),
                    (Some(_), true) => "soft".into(),
                    (Some(_), false) => "permanent".into(),
                },
                time(r.complained_at),
                time(r.failed_at),
                cell(r.detail.as_deref().unwrap_or_default()),
                r.opens.to_string(),
                time(r.first_opened_at),
                time(r.last_opened_at),
                r.clicks.to_string(),
                time(r.first_clicked_at),
                time(r.last_clicked_at),
                r.machine_only.to_string(),
            ])
            .map_err(write_err)?;
        }
        if n < 5000 {
            break;
        }
        offset += n;
    }
    String::from_utf8(w.into_inner().map_err(|e| Error::Internal(e.to_string()))?)
        .map_err(|e| Error::Internal(e.to_string()))
}

/// A campaign's links, most clicked first.
pub async fn links(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> Result<Vec<LinkRow>> {
    let c = campaign_of(db, actor, id).await?;
    Ok(link::Entity::find()
        .filter(link::Column::CampaignId.eq(c.id))
        .order_by_desc(link::Column::UniqueClicks)
        .order_by_desc(link::Column::Clicks)
        .order_by_asc(link::Column::Id)
        .limit(200)
        .all(db)
        .await?
        .into_iter()
        .map(|l| LinkRow {
            url: l.url,
            clicks: l.clicks,
            unique_clicks: l.unique_clicks,
            human_clicks: l.human_clicks,
            last_clicked_at: l.last_clicked_at,
        })
        .collect())
}

/// A campaign's opens and clicks over time, in as many bars as a chart shows (its hours with
/// any, read from the hourly counts: at most 8,760 a year).
pub async fn activity(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> Result<Activity> {
    let c = campaign_of(db, actor, id).await?;
    let rows: Vec<HourRow> = campaign_hour::Entity::find()
        .filter(campaign_hour::Column::CampaignId.eq(c.id))
        .all(db)
        .await?
        .into_iter()
        .map(|h| HourRow {
            hour: h.hour,
            opens: h.opens,
            human_opens: h.human_opens,
            clicks: h.clicks,
            human_clicks: h.human_clicks,
        })
        .collect();
    Ok(Activity::of(&rows))
}

/// The organisation's sending from `since` to `until`: messages sent per week and type,
/// engagement of its campaigns, and email deliverability against providers' limits.
pub async fn overview(
    db: &impl ConnectionTrait,
    actor: &Actor,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Overview> {
    actor.require(Action::ReadCampaigns)?;
    let org_id = actor.org_id();
    let campaigns: HashMap<i64, campaign::Model> = campaign::Entity::find()
        .filter(campaign::Column::OrgId.eq(org_id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    // Runs in the period with what they sent.
    let runs: Vec<(i64, i64, DateTime<Utc>)> = campaign_send::Entity::find()
        .select_only()
        .column(campaign_send::Column::Id)
        .column(campaign_send::Column::CampaignId)
        .column(campaign_send::Column::StartedAt)
        .filter(campaign_send::Column::OrgId.eq(org_id))
        .filter(campaign_send::Column::StartedAt.gte(since))
        .into_tuple()
        .all(db)
        .await?;
    let mut run_stats: HashMap<i64, DeliveryStats> = HashMap::new();
    let run_ids: Vec<i64> = runs.iter().map(|r| r.0).collect();
    for chunk in run_ids.chunks(500) {
        for r in send_stats::Entity::find()
            .filter(send_stats::Column::SendId.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            run_stats.insert(r.send_id, stats_from!(&r));
        }
    }
    let mut sent = Vec::with_capacity(runs.len());
    let mut email = DeliveryStats::default();
    let mut per_campaign: HashMap<i64, DeliveryStats> = HashMap::new();
    for (send, campaign_id, at) in &runs {
        let (Some(c), Some(s)) = (campaigns.get(campaign_id), run_stats.get(send)) else {
            continue;
        };
        sent.push((at.date_naive(), c.message_type, s.sent));
        let e = per_campaign.entry(*campaign_id).or_default();
        add(e, s);
        if c.channel == Channel::Email {
            add(&mut email, s);
        }
    }
    let mut engagement: Vec<CampaignEngagement> = per_campaign
        .into_iter()
        .filter_map(|(id, stats)| {
            let c = campaigns.get(&id)?;
            Some(CampaignEngagement {
                id,
                name: c
                    .name
                    .clone()
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| "Untitled".into()),
                message_type: c.message_type,
                stats,
            })
        })
        .collect();
    engagement.sort_by(|a, b| b.stats.sent.cmp(&a.stats.sent).then(a.id.cmp(&b.id)));
    engagement.truncate(25);
    let hard = Rate {
        part: email.bounced - email.soft_bounced,
        whole: email.sent,
    };
    Ok(Overview {
        since,
        weeks: weekly(since.date_naive(), until.date_naive(), sent),
        campaigns: engagement,
        bounce: standing(hard, BOUNCE_LIMITS),
        complaint: complaint_lines()
            .into_iter()
            .map(|l| {
                let s = l.standing(email.complaint_rate());
                (l, s)
            })
            .collect(),
        email,
        suppression: unsubscribes(db, org_id, &campaigns, since).await?,
    })
}

/// How quickly the period's unsubscribes took effect, measured from the contacts' withdrawn
/// consents and the messages sent to them since (see [`suppression`]).
async fn unsubscribes(
    db: &impl ConnectionTrait,
    org_id: i64,
    campaigns: &HashMap<i64, campaign::Model>,
    since: DateTime<Utc>,
) -> Result<Suppression> {
    use crate::domain::MessageType;
    use sea_orm::Condition;
    let left = contact::Entity::find()
        .filter(contact::Column::OrgId.eq(org_id))
        .filter(
            Condition::any()
                .add(
                    contact::Column::MarketingConsent
                        .eq(false)
                        .and(contact::Column::MarketingConsentAt.gte(since)),
                )
                .add(
                    contact::Column::NewsletterConsent
                        .eq(false)
                        .and(contact::Column::NewsletterConsentAt.gte(since)),
                ),
        )
        .all(db)
        .await?;
    let mut withdrawn = Vec::new();
    for c in &left {
        for (given, at, kind) in [
            (
                c.marketing_consent,
                c.marketing_consent_at,
                MessageType::Marketing,
            ),
            (
                c.newsletter_consent,
                c.newsletter_consent_at,
                MessageType::Newsletter,
            ),
        ] {
            if let Some(at) = at.filter(|at| !given && *at >= since) {
                withdrawn.push((c.id, kind, at));
            }
        }
    }
    let first = withdrawn.iter().map(|w| w.2).min().unwrap_or(since);
    let ids: Vec<i64> = left.iter().map(|c| c.id).collect();
    let mut sent = Vec::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(Option<i64>, i64, Option<DateTime<Utc>>)> = message::Entity::find()
            .select_only()
            .column(message::Column::ContactId)
            .column(message::Column::CampaignId)
            .column(message::Column::SentAt)
            .filter(message::Column::ContactId.is_in(chunk.iter().copied()))
            .filter(message::Column::SentAt.gt(first))
            .filter(message::Column::Seed.eq(false))
            .into_tuple()
            .all(db)
            .await?;
        sent.extend(rows.into_iter().filter_map(|(contact, campaign, at)| {
            Some((contact?, campaigns.get(&campaign)?.message_type, at?))
        }));
    }
    Ok(suppression(&withdrawn, &sent))
}

fn add(to: &mut DeliveryStats, s: &DeliveryStats) {
    to.recipients += s.recipients;
    to.waiting += s.waiting;
    to.skipped += s.skipped;
    to.sent += s.sent;
    to.pending += s.pending;
    to.delivered += s.delivered;
    to.bounced += s.bounced;
    to.soft_bounced += s.soft_bounced;
    to.complained += s.complained;
    to.failed += s.failed;
    to.unsubscribed += s.unsubscribed;
    to.opened += s.opened;
    to.human_opened += s.human_opened;
    to.clicked += s.clicked;
    to.human_clicked += s.human_clicked;
    to.opens += s.opens;
    to.clicks += s.clicks;
}

/// The counters recounted from the message rows with `COUNT`/`SUM`: what the triggers must
/// always equal (tests), and the baseline the report benchmark compares with.
pub async fn recount(db: &impl ConnectionTrait, campaign_id: i64) -> Result<DeliveryStats> {
    use sea_orm::{FromQueryResult, Statement};
    let sums: Vec<String> = migrations::COUNTERS
        .iter()
        .map(|(name, e)| {
            format!(
                "COALESCE(SUM({}), 0) AS {name}",
                e.replace("R.", "message.")
            )
        })
        .collect();
    let sql = format!(
        "SELECT {} FROM message WHERE campaign_id = {campaign_id} AND NOT seed",
        sums.join(", ")
    );
    #[derive(FromQueryResult)]
    struct Row {
        recipients: i64,
        waiting: i64,
        skipped: i64,
        sent: i64,
        pending: i64,
        delivered: i64,
        bounced: i64,
        soft_bounced: i64,
        complained: i64,
        failed: i64,
        unsubscribed: i64,
        opened: i64,
        human_opened: i64,
        clicked: i64,
        human_clicked: i64,
        opens: i64,
        clicks: i64,
    }
    let row = Row::find_by_statement(Statement::from_string(db.get_database_backend(), sql))
        .one(db)
        .await?
        .ok_or(Error::NotFound("campaign"))?;
    Ok(stats_from!(&row))
}
