//! Periodic jobs. Each schedule has a row in `job_schedule` saying when it is next due; every
//! worker checks its schedules, and the one whose conditional update moves `next_run_at` on
//! enqueues that period's job in the same transaction. So each period runs once whatever the
//! number of instances, and a period missed while every instance was down runs once when one
//! starts (the next time is counted from then, not from the missed ones).

use super::queue::{Raw, enqueue_raw};
use crate::Result;
use crate::entity::job_schedule;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

/// How often a schedule runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    /// Every so long, counted from the last run.
    Every(Duration),
    /// Once a day at this time (UTC).
    DailyAt(NaiveTime),
}

impl Period {
    /// The first time after `now` the schedule is due again.
    pub fn next_after(self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Period::Every(d) => now + d.max(Duration::seconds(1)),
            Period::DailyAt(at) => {
                let today = now.date_naive().and_time(at).and_utc();
                if today > now {
                    today
                } else {
                    today + Duration::days(1)
                }
            }
        }
    }

    /// When a schedule seen for the first time is first due.
    fn first(self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Period::Every(_) => now,
            Period::DailyAt(_) => self.next_after(now),
        }
    }
}

/// A periodic job: its name (the `job_schedule` key), period and the job it enqueues.
#[derive(Clone, Debug)]
pub(crate) struct Schedule {
    pub name: &'static str,
    pub period: Period,
    pub job: Raw,
}

/// Registers the schedule if new; answers when it is next due.
pub(crate) async fn next_due(
    db: &DatabaseConnection,
    s: &Schedule,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>> {
    job_schedule::Entity::insert(job_schedule::ActiveModel {
        name: Set(s.name.to_owned()),
        next_run_at: Set(s.period.first(now)),
        last_run_at: Set(None),
    })
    .on_conflict(
        OnConflict::column(job_schedule::Column::Name)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(job_schedule::Entity::find_by_id(s.name)
        .one(db)
        .await?
        .map_or(now, |r| r.next_run_at))
}

/// Enqueues the schedule's job if it is due and no other worker claimed this period first;
/// answers whether this worker did, and when the schedule is next due.
pub(crate) async fn fire_if_due(
    db: &DatabaseConnection,
    s: &Schedule,
    now: DateTime<Utc>,
) -> Result<(bool, DateTime<Utc>)> {
    let next = s.period.next_after(now);
    let _writer = crate::db::write_lock(db).await;
    let tx = crate::db::begin_write(db).await?;
    let claimed = job_schedule::Entity::update_many()
        .col_expr(job_schedule::Column::NextRunAt, Expr::value(next))
        .col_expr(job_schedule::Column::LastRunAt, Expr::value(now))
        .filter(job_schedule::Column::Name.eq(s.name))
        .filter(job_schedule::Column::NextRunAt.lte(now))
        .exec(&tx)
        .await?
        .rows_affected
        == 1;
    if claimed {
        enqueue_raw(&tx, s.job.clone(), now, now).await?;
    }
    let due = job_schedule::Entity::find_by_id(s.name)
        .one(&tx)
        .await?
        .map_or(next, |r| r.next_run_at);
    tx.commit().await?;
    Ok((claimed, due))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn next_times() {
        let at = |h, m| Period::DailyAt(NaiveTime::from_hms_opt(h, m, 0).unwrap());
        for (period, now, next) in [
            (
                Period::Every(Duration::minutes(1)),
                "2026-11-25T10:00:30Z",
                "2026-11-25T10:01:30Z",
            ),
            (at(16, 0), "2026-11-25T10:00:00Z", "2026-11-25T16:00:00Z"),
            (at(16, 0), "2026-11-25T16:00:00Z", "2026-11-26T16:00:00Z"),
            (at(16, 0), "2026-11-25T23:59:59Z", "2026-11-26T16:00:00Z"),
            (at(9, 0), "2026-12-31T09:00:01Z", "2027-01-01T09:00:00Z"),
        ] {
            assert_eq!(period.next_after(t(now)), t(next), "{period:?} after {now}");
        }
    }

    #[test]
    fn first_runs() {
        let now = t("2026-11-25T10:00:00Z");
        assert_eq!(Period::Every(Duration::minutes(1)).first(now), now);
        assert_eq!(
            Period::DailyAt(NaiveTime::from_hms_opt(9, 0, 0).unwrap()).first(now),
            t("2026-11-26T09:00:00Z")
        );
    }
}
