//! Saved segments: named audiences whose members are kept, so that the contacts *entering* a
//! segment can be told apart (segment triggers send to them). A refresh adds the contacts that
//! now match, stamped with the refresh time, and removes those that no longer do; one who
//! leaves and comes back enters again. Both steps are single set-based statements, safe to run
//! from several instances at once.

use crate::audience::{self, Scope};
pub use crate::domain::SegmentSummary;
use crate::domain::audience::Filter;
use crate::entity::{contact, segment, segment_member};
use crate::{Error, Result};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Alias, Expr, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

fn parse(model: &segment::Model) -> Result<Filter> {
    serde_json::from_str(&model.filter)
        .map_err(|e| Error::Internal(format!("segment {} has a corrupt filter: {e}", model.id)))
}

fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::Invalid(
            "A segment needs a name of 1 to 100 characters.".into(),
        ));
    }
    Ok(name.to_owned())
}

/// Saves a segment and takes its first members (who count as having entered now).
pub async fn create(
    db: &impl ConnectionTrait,
    org_id: i64,
    name: &str,
    filter: &Filter,
    created_by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<segment::Model> {
    let name = check_name(name)?;
    audience::check(filter)?;
    let taken = segment::Entity::find()
        .filter(segment::Column::OrgId.eq(org_id))
        .filter(segment::Column::Name.eq(name.clone()))
        .count(db)
        .await?;
    if taken > 0 {
        return Err(Error::Invalid(format!(
            "There is already a segment called “{name}”."
        )));
    }
    let model = segment::ActiveModel {
        org_id: Set(org_id),
        name: Set(name),
        filter: Set(serde_json::to_string(filter).map_err(|e| Error::Internal(e.to_string()))?),
        created_by: Set(created_by),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    refresh(db, &model, now).await?;
    Ok(model)
}

pub async fn get(db: &impl ConnectionTrait, org_id: i64, id: i64) -> Result<segment::Model> {
    segment::Entity::find_by_id(id)
        .filter(segment::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound("segment"))
}

pub async fn delete(db: &impl ConnectionTrait, org_id: i64, id: i64) -> Result<()> {
    let s = get(db, org_id, id).await?;
    segment::Entity::delete_by_id(s.id).exec(db).await?;
    Ok(())
}

pub async fn list(
    db: &impl ConnectionTrait,
    org_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<SegmentSummary>> {
    let segments = segment::Entity::find()
        .filter(segment::Column::OrgId.eq(org_id))
        .order_by_asc(segment::Column::Name)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(segments.len());
    for s in &segments {
        out.push(summary_of(db, s, now).await?);
    }
    Ok(out)
}

/// One segment with its member counts.
pub async fn summary(
    db: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
    now: DateTime<Utc>,
) -> Result<SegmentSummary> {
    summary_of(db, &get(db, org_id, id).await?, now).await
}

async fn summary_of(
    db: &impl ConnectionTrait,
    s: &segment::Model,
    now: DateTime<Utc>,
) -> Result<SegmentSummary> {
    let members = segment_member::Entity::find()
        .filter(segment_member::Column::SegmentId.eq(s.id))
        .count(db)
        .await?;
    let entered_recently = segment_member::Entity::find()
        .filter(segment_member::Column::SegmentId.eq(s.id))
        .filter(segment_member::Column::EnteredAt.gt(now - Duration::days(7)))
        .count(db)
        .await?;
    Ok(SegmentSummary {
        id: s.id,
        name: s.name.clone(),
        filter: parse(s)?,
        members,
        entered_recently,
        refreshed_at: s.refreshed_at,
    })
}

/// Brings the members of `segment` up to date at `now`; returns how many entered and left.
pub async fn refresh(
    db: &impl ConnectionTrait,
    segment: &segment::Model,
    now: DateTime<Utc>,
) -> Result<(u64, u64)> {
    let filter = parse(segment)?;
    let scope = Scope {
        org_id: segment.org_id,
        assigned_to: None,
    };
    let matches = audience::scoped_condition(scope, &filter, now)?;
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

/// Refreshes every segment of every organisation (the scheduler's periodic job).
pub async fn refresh_all(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64> {
    let mut entered = 0;
    for s in segment::Entity::find().all(db).await? {
        entered += refresh(db, &s, now).await?.0;
    }
    Ok(entered)
}

/// Contacts that entered the segment after `since` (what a segment trigger sends to).
pub async fn entered_since(
    db: &impl ConnectionTrait,
    org_id: i64,
    segment_id: i64,
    since: DateTime<Utc>,
) -> Result<Vec<i64>> {
    let s = get(db, org_id, segment_id).await?;
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
pub async fn members(db: &impl ConnectionTrait, org_id: i64, segment_id: i64) -> Result<Vec<i64>> {
    let s = get(db, org_id, segment_id).await?;
    Ok(segment_member::Entity::find()
        .select_only()
        .column(segment_member::Column::ContactId)
        .filter(segment_member::Column::SegmentId.eq(s.id))
        .order_by_asc(segment_member::Column::ContactId)
        .into_tuple()
        .all(db)
        .await?)
}
