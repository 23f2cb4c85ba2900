//! Saved segments: named audiences whose members are kept, so that the contacts *entering* a
//! segment can be told apart (segment triggers send to them). A refresh adds the contacts that
//! now match, stamped with the refresh time, and removes those that no longer do; one who
//! leaves and comes back enters again. Both steps are single set-based statements. Refreshes run
//! on the job queue: a periodic job queues one [`RefreshSegment`] per segment, and each is
//! claimed by one worker, so a segment is refreshed by one instance at a time while many
//! segments refresh in parallel.

use crate::audience::{self, Scope};
pub use crate::domain::SegmentSummary;
use crate::domain::access::{Action, Actor};
use crate::domain::audience::Filter;
use crate::entity::{contact, segment, segment_member};
use crate::jobs::{self, Job, JobContext, Step};
use crate::{Error, Result};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Alias, CaseStatement, Expr, Func, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, FromQueryResult,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::Invalid(
            "A segment needs a name of 1 to 100 characters.".into(),
        ));
    }
    Ok(name.to_owned())
}

/// Saves a segment and takes its first members (who count as having entered now); answers it
/// with its member counts.
pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    name: &str,
    filter: &Filter,
    now: DateTime<Utc>,
) -> Result<SegmentSummary> {
    actor.require(Action::ManageSegments)?;
    let name = check_name(name)?;
    audience::check(filter)?;
    let references = filter.references();
    crate::campaigns::references::check(db, actor.org_id(), &references).await?;
    let taken = segment::Entity::find()
        .filter(segment::Column::OrgId.eq(actor.org_id()))
        .filter(segment::Column::Name.eq(name.clone()))
        .count(db)
        .await?;
    if taken > 0 {
        return Err(Error::Invalid(format!(
            "There is already a segment called “{name}”."
        )));
    }
    let model = segment::ActiveModel {
        org_id: Set(actor.org_id()),
        name: Set(name),
        filter: Set(filter.clone()),
        created_by: Set(actor.user_id()),
        created_at: Set(now),
        updated_at: Set(now),
        refreshed_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    refresh(db, &model, now).await?;
    summaries(db, model.org_id, Some(model.id), now)
        .await?
        .pop()
        .ok_or(Error::NotFound("segment"))
}

/// One segment of the organisation.
pub(crate) async fn find(
    db: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
) -> Result<segment::Model> {
    segment::Entity::find_by_id(id)
        .filter(segment::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound("segment"))
}

pub async fn delete(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> Result<()> {
    actor.require(Action::ManageSegments)?;
    let s = find(db, actor.org_id(), id).await?;
    segment::Entity::delete_by_id(s.id).exec(db).await?;
    Ok(())
}

#[derive(Debug, FromQueryResult)]
struct Counts {
    segment_id: i64,
    members: i64,
    entered_recently: i64,
}

/// The organisation's segments (or the one with `only`) with their member counts: one query
/// for the segments and one for every segment's counts.
async fn summaries(
    db: &impl ConnectionTrait,
    org_id: i64,
    only: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Vec<SegmentSummary>> {
    let mut query = segment::Entity::find().filter(segment::Column::OrgId.eq(org_id));
    if let Some(id) = only {
        query = query.filter(segment::Column::Id.eq(id));
    }
    let segments = query.order_by_asc(segment::Column::Name).all(db).await?;
    let ids: Vec<i64> = segments.iter().map(|s| s.id).collect();
    // COUNT(CASE WHEN entered_at > ? THEN 1 END): the members who entered in the last week.
    let recent = Func::count(CaseStatement::new().case(
        Expr::col(segment_member::Column::EnteredAt).gt(now - Duration::days(7)),
        Expr::val(1),
    ));
    let counts: HashMap<i64, Counts> = if ids.is_empty() {
        HashMap::new()
    } else {
        segment_member::Entity::find()
            .select_only()
            .column(segment_member::Column::SegmentId)
            .column_as(
                Expr::col(segment_member::Column::ContactId).count(),
                "members",
            )
            .column_as(Expr::expr(recent), "entered_recently")
            .filter(segment_member::Column::SegmentId.is_in(ids))
            .group_by(segment_member::Column::SegmentId)
            .into_model::<Counts>()
            .all(db)
            .await?
            .into_iter()
            .map(|c| (c.segment_id, c))
            .collect()
    };
    Ok(segments
        .into_iter()
        .map(|s| {
            let c = counts.get(&s.id);
            SegmentSummary {
                id: s.id,
                name: s.name,
                filter: s.filter,
                members: c.map_or(0, |c| c.members as u64),
                entered_recently: c.map_or(0, |c| c.entered_recently as u64),
                refreshed_at: s.refreshed_at,
            }
        })
        .collect())
}

pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<SegmentSummary>> {
    actor.require(Action::ReadSegments)?;
    summaries(db, actor.org_id(), None, now).await
}

/// The organisation's segments by name, for pickers (no counts).
pub async fn names(db: &impl ConnectionTrait, actor: &Actor) -> Result<Vec<(i64, String)>> {
    actor.require(Action::ReadSegments)?;
    Ok(segment::Entity::find()
        .select_only()
        .column(segment::Column::Id)
        .column(segment::Column::Name)
        .filter(segment::Column::OrgId.eq(actor.org_id()))
        .order_by_asc(segment::Column::Name)
        .into_tuple()
        .all(db)
        .await?)
}

/// One segment with its member counts.
pub async fn summary(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<SegmentSummary> {
    actor.require(Action::ReadSegments)?;
    summaries(db, actor.org_id(), Some(id), now)
        .await?
        .pop()
        .ok_or(Error::NotFound("segment"))
}

/// Brings the members of `segment` up to date at `now`; returns how many entered and left.
pub async fn refresh(
    db: &impl ConnectionTrait,
    segment: &segment::Model,
    now: DateTime<Utc>,
) -> Result<(u64, u64)> {
    let scope = Scope {
        org_id: segment.org_id,
        assigned_to: None,
    };
    let matches = audience::scoped_condition(scope, &segment.filter, now)?;
    let member = Alias::new("m");
    let already = Query::select()
        .expr(Expr::val(1))
        .from_as(segment_member::Entity, member.clone())
        .and_where(Expr::col((member.clone(), segment_member::Column::SegmentId)).eq(segment.id))
        .and_where(
            Expr::col((member.clone(), segment_member::Column::ContactId))
                .equals((contact::Entity, contact::Column::Id)),
        )
        .to_owned();
    let newcomers = Query::select()
        .expr(Expr::val(segment.id))
        .column((contact::Entity, contact::Column::Id))
        .expr(Expr::val(now))
        .from(contact::Entity)
        .cond_where(matches.clone())
        .and_where(Expr::exists(already).not())
        .to_owned();
    let insert = Query::insert()
        .into_table(segment_member::Entity)
        .columns([
            segment_member::Column::SegmentId,
            segment_member::Column::ContactId,
            segment_member::Column::EnteredAt,
        ])
        .select_from(newcomers)
        .map_err(|e| Error::Internal(e.to_string()))?
        .on_conflict(
            OnConflict::columns([
                segment_member::Column::SegmentId,
                segment_member::Column::ContactId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .to_owned();
    let entered = db.execute(&insert).await?.rows_affected();

    let still = Query::select()
        .expr(Expr::val(1))
        .from(contact::Entity)
        .and_where(
            Expr::col((contact::Entity, contact::Column::Id))
                .equals((segment_member::Entity, segment_member::Column::ContactId)),
        )
        .cond_where(matches)
        .to_owned();
    let delete = Query::delete()
        .from_table(segment_member::Entity)
        .and_where(
            Expr::col((segment_member::Entity, segment_member::Column::SegmentId)).eq(segment.id),
        )
        .and_where(Expr::exists(still).not())
        .to_owned();
    let left = db.execute(&delete).await?.rows_affected();

    segment::Entity::update_many()
        .col_expr(segment::Column::RefreshedAt, Expr::val(now))
        .filter(segment::Column::Id.eq(segment.id))
        .exec(db)
        .await?;
    Ok((entered, left))
}

/// Refreshes every segment of the actor's organisation now, one after the other in this
/// process (the operator's `herald segments refresh`; the periodic refresh runs on the queue).
/// Answers how many segments were refreshed and how many contacts entered and left.
pub async fn refresh_now(
    db: &impl ConnectionTrait,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(u64, u64, u64)> {
    actor.require(Action::ManageSegments)?;
    let (mut n, mut entered, mut left) = (0, 0, 0);
    for s in segment::Entity::find()
        .filter(segment::Column::OrgId.eq(actor.org_id()))
        .order_by_asc(segment::Column::Id)
        .all(db)
        .await?
    {
        let (e, l) = refresh(db, &s, now).await?;
        n += 1;
        entered += e;
        left += l;
    }
    Ok((n, entered, left))
}

/// Refreshes one segment: one instance at a time (its job is claimed by one worker), any
/// number of segments at once across workers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RefreshSegment {
    pub segment_id: i64,
    pub org_id: i64,
}

impl Job for RefreshSegment {
    const KIND: &'static str = "segments.refresh_one";

    fn org_id(&self) -> Option<i64> {
        Some(self.org_id)
    }

    fn dedup_key(&self) -> Option<String> {
        Some(self.segment_id.to_string())
    }

    async fn run(&self, ctx: &JobContext) -> Result<Step> {
        let db = ctx.db();
        let Some(segment) = segment::Entity::find_by_id(self.segment_id).one(db).await? else {
            return Ok(Step::Done);
        };
        let _writer = crate::db::write_lock(db).await;
        let tx = crate::db::begin_write(db).await?;
        ctx.fence(&tx).await?;
        let (entered, left) = refresh(&tx, &segment, ctx.now()).await?;
        if entered > 0 {
            crate::delivery::scheduler::on_segment_entered(&tx, &segment, ctx.now()).await?;
        }
        tx.commit().await?;
        if entered + left > 0 {
            tracing::info!(segment = segment.id, entered, left, "segment refreshed");
        }
        Ok(Step::Done)
    }
}

/// Queues a refresh of every segment (the periodic job): one statement, one job per segment.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RefreshSegments;

impl Job for RefreshSegments {
    const KIND: &'static str = "segments.refresh";
    const PRIORITY: i32 = 1;

    fn org_id(&self) -> Option<i64> {
        None
    }

    async fn run(&self, ctx: &JobContext) -> Result<Step> {
        let db = ctx.db();
        let now = ctx.now();
        let _writer = crate::db::write_lock(db).await;
        let tx = crate::db::begin_write(db).await?;
        ctx.fence(&tx).await?;
        let mut queued = 0;
        for (segment_id, org_id) in segment::Entity::find()
            .select_only()
            .column(segment::Column::Id)
            .column(segment::Column::OrgId)
            .into_tuple::<(i64, i64)>()
            .all(&tx)
            .await?
        {
            if jobs::enqueue(&tx, now, &RefreshSegment { segment_id, org_id }).await? {
                queued += 1;
            }
        }
        tx.commit().await?;
        tracing::debug!(queued, "segment refreshes queued");
        Ok(Step::Done)
    }
}

/// Contacts that entered the segment after `since` (what a segment trigger sends to).
pub async fn entered_since(
    db: &impl ConnectionTrait,
    actor: &Actor,
    segment_id: i64,
    since: DateTime<Utc>,
) -> Result<Vec<i64>> {
    actor.require(Action::ReadContacts)?;
    let s = find(db, actor.org_id(), segment_id).await?;
    Ok(segment_member::Entity::find()
        .select_only()
        .column(segment_member::Column::ContactId)
        .filter(segment_member::Column::SegmentId.eq(s.id))
        .filter(segment_member::Column::EnteredAt.gt(since))
        .order_by_asc(segment_member::Column::ContactId)
        .into_tuple()
        .all(db)
        .await?)
}

/// The current members of a segment, as of its last refresh.
pub async fn members(
    db: &impl ConnectionTrait,
    actor: &Actor,
    segment_id: i64,
) -> Result<Vec<i64>> {
    actor.require(Action::ReadContacts)?;
    let s = find(db, actor.org_id(), segment_id).await?;
    Ok(segment_member::Entity::find()
        .select_only()
        .column(segment_member::Column::ContactId)
        .filter(segment_member::Column::SegmentId.eq(s.id))
        .order_by_asc(segment_member::Column::ContactId)
        .into_tuple()
        .all(db)
        .await?)
}
