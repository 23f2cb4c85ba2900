//! Audiences: this module compiles a filter tree into a query, [`segments`] keeps saved
//! audiences and notices the contacts who enter them.
//!
//! The audience engine: compiles a [`Filter`] into one query over `contact` with sea-query's
//! builder (values are always bound parameters, never spliced into SQL), scoped to an
//! organisation and, for account managers, to the contacts assigned to them.
//!
//! Each record condition becomes `EXISTS (SELECT 1 FROM <records> WHERE contact_id = contact.id
//! AND org_id = ? AND ...)`, a semi-join (anti-join under NOT) that uses the record table's
//! indexes. The
//! in-memory evaluator in [`crate::domain::audience`] defines what every filter means; a
//! property test holds this compiler to it on SQLite and PostgreSQL.

pub mod reach;
pub mod segments;

use crate::domain::MessageType;
use crate::domain::access::{Action, Actor};
use crate::domain::audience::{
    CredentialDate, Engagement, Filter, MAX_FILTER_DEPTH, MAX_FILTER_NODES, MAX_SELECTED_CONTACTS,
    MAX_WINDOW_DAYS, Window,
};
use crate::entity::contact;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, ExprTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

/// Whose contacts a query may see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scope {
    pub org_id: i64,
    /// Set for account managers: only contacts assigned to this user.
    pub assigned_to: Option<i64>,
}

impl Scope {
    /// What `actor` may see: their organisation, and for account managers their contacts.
    pub fn of(actor: &Actor) -> Self {
        Scope {
            org_id: actor.org_id(),
            assigned_to: actor.assigned_to(),
        }
    }
}

fn between(col: &'static str, window: Window, now: DateTime<Utc>) -> Condition {
    let (from, to) = window.bounds(now);
    Condition::all()
        .add(Expr::col(col).gte(from))
        .add(Expr::col(col).lte(to))
}

/// `EXISTS (SELECT 1 FROM table WHERE table.contact_id = contact.id AND table.org_id = ? AND cond)`.
///
/// A correlated EXISTS rather than `contact.id IN (SELECT ...)`: both databases plan it as a
/// semi-join, and its negation as an anti-join. `NOT (id IN (subquery))` cannot become an
/// anti-join (NULL semantics), and PostgreSQL runs it as a per-row subplan once the id list
/// outgrows `work_mem`: minutes instead of milliseconds at a million records.
fn has(table: &'static str, org_id: i64, cond: Condition) -> Condition {
    let sub: SelectStatement = Query::select()
        .expr(Expr::val(1))
        .from(table)
        .and_where(Expr::col((table, "contact_id")).equals((contact::Entity, contact::Column::Id)))
        .and_where(Expr::col((table, "org_id")).eq(org_id))
        .cond_where(cond)
        .to_owned();
    Condition::all().add(Expr::exists(sub))
}

fn always(yes: bool) -> Condition {
    // Constant SQL, no input: the portable spelling of TRUE and FALSE.
    Condition::all().add(Expr::cust(if yes { "1 = 1" } else { "1 = 0" }))
}

/// The condition on `contact` rows in `scope` that `filter` means at `now`.
pub fn scoped_condition(scope: Scope, filter: &Filter, now: DateTime<Utc>) -> Result<Condition> {
    check(filter)?;
    let mut cond = Condition::all()
        .add(Expr::col((contact::Entity, contact::Column::OrgId)).eq(scope.org_id))
        .add(condition(filter, scope.org_id, now));
    if let Some(user) = scope.assigned_to {
        cond = cond.add(Expr::col((contact::Entity, contact::Column::AssignedUserId)).eq(user));
    }
    Ok(cond)
}

/// The condition on `contact` rows that `filter` means at `now`.
pub fn condition(filter: &Filter, org_id: i64, now: DateTime<Utc>) -> Condition {
    let c = |col: contact::Column| Expr::col((contact::Entity, col));
    match filter {
        Filter::All { of } if of.is_empty() => always(true),
        Filter::Any { of } if of.is_empty() => always(false),
        Filter::All { of } => of.iter().fold(Condition::all(), |acc, f| {
            acc.add(condition(f, org_id, now))
        }),
        Filter::Any { of } => of.iter().fold(Condition::any(), |acc, f| {
            acc.add(condition(f, org_id, now))
        }),
        Filter::Not { not } => condition(not, org_id, now).not(),
        Filter::ActiveContact => Condition::all()
            .add(c(contact::Column::Status).eq(crate::domain::ContactStatus::Active)),
        Filter::Language { code } => {
            Condition::all().add(c(contact::Column::Language).eq(code.as_str()))
        }
        Filter::Created { within } => {
            let (from, to) = within.bounds(now);
            Condition::all()
                .add(c(contact::Column::CreatedAt).gte(from))
                .add(c(contact::Column::CreatedAt).lte(to))
        }
        Filter::InGroup { group_id } => {
            let sub = Query::select()
                .expr(Expr::val(1))
                .from("contact_group_member")
                .and_where(
                    Expr::col(("contact_group_member", "contact_id"))
                        .equals((contact::Entity, contact::Column::Id)),
                )
                .and_where(Expr::col("group_id").eq(*group_id))
                .to_owned();
            Condition::all().add(Expr::exists(sub))
        }
        Filter::Credential { collection, date } => {
            let mut cond = Condition::all();
            if let Some(collection) = collection {
                cond = cond.add(Expr::col("collection").eq(collection.as_str()));
            }
            if let Some((which, window)) = date {
                let col = match which {
                    CredentialDate::Published => "published_at",
                    CredentialDate::Renewed => "renewed_at",
                    CredentialDate::Expires => "expires_at",
                };
                cond = cond.add(between(col, *window, now));
            }
            has("credential", org_id, cond)
        }
        Filter::Enrollment(f) => {
            use crate::domain::audience::EnrollmentState as S;
            let mut cond = Condition::all();
            cond = match f.state {
                None => cond,
                Some(S::Ongoing) => cond.add(Expr::col("ends_at").gt(now)),
                Some(S::Upcoming) => cond.add(Expr::col("starts_at").gt(now)),
                Some(S::Current) => cond
                    .add(Expr::col("starts_at").lte(now))
                    .add(Expr::col("ends_at").gt(now)),
                Some(S::Ended) => cond.add(Expr::col("ends_at").lte(now)),
            };
            if let Some(online) = f.online {
                cond = cond.add(Expr::col("online").eq(online));
            }
            if f.exclude_remote {
                cond = cond.add(Expr::col("remote").eq(false));
            }
            if let Some(trainer) = &f.trainer {
                cond = cond.add(Expr::col("trainer").eq(trainer.as_str()));
            }
            if let Some(category) = &f.category {
                cond = cond.add(Expr::col("category").eq(category.as_str()));
            }
            has("enrollment", org_id, cond)
        }
        Filter::Booking { within } => has("booking", org_id, between("starts_at", *within, now)),
        Filter::ValidPass => has(
            "pass",
            org_id,
            Condition::all()
                .add(Expr::col("valid_from").lte(now))
                .add(Expr::col("valid_to").gt(now)),
        ),
        Filter::ActiveSubscription => has(
            "subscription",
            org_id,
            Condition::all()
                .add(Expr::col("status").eq(crate::domain::SubscriptionStatus::Active))
                .add(
                    Condition::any()
                        .add(Expr::col("period_end").is_null())
                        .add(Expr::col("period_end").gt(now)),
                ),
        ),
        Filter::Ordered { within } => has("purchase", org_id, between("ordered_at", *within, now)),
        Filter::Event { name, within } => {
            let mut cond = Condition::all().add(Expr::col("name").eq(name.as_str()));
            if let Some(window) = within {
                cond = cond.add(between("occurred_at", *window, now));
            }
            has("contact_event", org_id, cond)
        }
        Filter::Engagement { activity, within } => {
            let engaged = |col: &'static str| {
                has(
                    "message",
                    org_id,
                    Condition::all()
                        .add(Expr::col("contact_id").is_not_null())
                        .add(between(col, *within, now)),
                )
            };
            match activity {
                Engagement::Opened => engaged("last_opened_at"),
                Engagement::Clicked => engaged("last_clicked_at"),
                Engagement::NeverEngaged => Condition::any()
                    .add(engaged("last_opened_at"))
                    .add(engaged("last_clicked_at"))
                    .not(),
            }
        }
        Filter::Consent { message_type } => match message_type {
            MessageType::Operational => always(true),
            MessageType::Marketing => {
                Condition::all().add(c(contact::Column::MarketingConsent).eq(true))
            }
            MessageType::Newsletter => {
                Condition::all().add(c(contact::Column::NewsletterConsent).eq(true))
            }
        },
        Filter::Contacts { ids } if ids.is_empty() => always(false),
        Filter::Contacts { ids } => {
            Condition::all().add(c(contact::Column::Id).is_in(ids.iter().copied()))
        }
    }
}

/// The largest hand-picked selection in a tree.
fn largest_selection(filter: &Filter) -> usize {
    match filter {
        Filter::All { of } | Filter::Any { of } => {
            of.iter().map(largest_selection).max().unwrap_or(0)
        }
        Filter::Not { not } => largest_selection(not),
        Filter::Contacts { ids } => ids.len(),
        _ => 0,
    }
}

/// Refuses trees too deep or too large to be a person's audience.
pub fn check(filter: &Filter) -> Result<()> {
    if filter.depth() > MAX_FILTER_DEPTH {
        return Err(Error::Invalid(format!(
            "The audience is nested too deeply (at most {MAX_FILTER_DEPTH} levels)."
        )));
    }
    if filter.size() > MAX_FILTER_NODES {
        return Err(Error::Invalid(format!(
            "The audience has too many conditions (at most {MAX_FILTER_NODES})."
        )));
    }
    if filter.longest_window_days() > MAX_WINDOW_DAYS {
        return Err(Error::Invalid(
            "A time window can be at most 100 years long.".into(),
        ));
    }
    if largest_selection(filter) > MAX_SELECTED_CONTACTS {
        return Err(Error::Invalid(format!(
            "Select at most {MAX_SELECTED_CONTACTS} contacts by hand; use a filter for more."
        )));
    }
    Ok(())
}

fn select(
    scope: Scope,
    filter: &Filter,
    now: DateTime<Utc>,
) -> Result<sea_orm::Select<contact::Entity>> {
    check(filter)?;
    let mut query = contact::Entity::find()
        .filter(contact::Column::OrgId.eq(scope.org_id))
        .filter(condition(filter, scope.org_id, now));
    if let Some(user) = scope.assigned_to {
        query = query.filter(contact::Column::AssignedUserId.eq(user));
    }
    Ok(query)
}

/// How many contacts the audience reaches, of those `actor` may see.
pub async fn count(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &Filter,
    now: DateTime<Utc>,
) -> Result<u64> {
    actor.require(Action::ReadContacts)?;
    count_in(db, Scope::of(actor), filter, now).await
}

/// [`count`] within a scope already allowed.
pub(crate) async fn count_in(
    db: &DatabaseConnection,
    scope: Scope,
    filter: &Filter,
    now: DateTime<Utc>,
) -> Result<u64> {
    let ids = select(scope, filter, now)?
        .select_only()
        .column(contact::Column::Id);
    Ok(ids.count(db).await?)
}

/// The ids of the contacts the audience reaches, ascending.
pub async fn contact_ids(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &Filter,
    now: DateTime<Utc>,
) -> Result<Vec<i64>> {
    actor.require(Action::ReadContacts)?;
    Ok(select(Scope::of(actor), filter, now)?
        .select_only()
        .column(contact::Column::Id)
        .order_by_asc(contact::Column::Id)
        .into_tuple()
        .all(db)
        .await?)
}

/// Which of contacts `ids` the audience reaches at `now` (a workflow's branch or its exit rule
/// asks for a batch of runs at once).
pub(crate) async fn ids_among(
    db: &impl sea_orm::ConnectionTrait,
    scope: Scope,
    filter: &Filter,
    now: DateTime<Utc>,
    ids: &[i64],
) -> Result<std::collections::BTreeSet<i64>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let mut out = std::collections::BTreeSet::new();
    for chunk in ids.chunks(1000) {
        let found: Vec<i64> = select(scope, filter, now)?
            .select_only()
            .column(contact::Column::Id)
            .filter(contact::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(found);
    }
    Ok(out)
}

/// The next `limit` contacts of the audience after contact id `after`, ascending: how the
/// delivery engine streams an audience of any size, one page at a time. `targets_of`: only the
/// contacts a targeted send is for.
pub(crate) async fn page(
    db: &impl sea_orm::ConnectionTrait,
    scope: Scope,
    filter: &Filter,
    now: DateTime<Utc>,
    after: i64,
    limit: u64,
    targets_of: Option<i64>,
) -> Result<Vec<contact::Model>> {
    let mut q = select(scope, filter, now)?;
    if let Some(send_id) = targets_of {
        // A targeted send: the audience's contacts among the send's targets.
        q = q.filter(
            contact::Column::Id.in_subquery(
                Query::select()
                    .column(crate::entity::send_target::Column::ContactId)
                    .from(crate::entity::send_target::Entity)
                    .and_where(crate::entity::send_target::Column::SendId.eq(send_id))
                    .to_owned(),
            ),
        );
    }
    Ok(q.filter(contact::Column::Id.gt(after))
        .order_by_asc(contact::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// A few contacts of the audience, to show who it reaches.
pub async fn sample(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &Filter,
    now: DateTime<Utc>,
    n: u64,
) -> Result<Vec<contact::Model>> {
    actor.require(Action::ReadContacts)?;
    Ok(select(Scope::of(actor), filter, now)?
        .order_by_asc(contact::Column::Id)
        .limit(n)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::audience::Unit;
    use sea_orm::sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};

    fn sql(filter: &Filter) -> (String, String) {
        let now = DateTime::parse_from_rfc3339("2026-06-01T00:00:00Z")
            .unwrap()
            .to_utc();
        let q = Query::select()
            .column("id")
            .from("contact")
            .cond_where(condition(filter, 7, now))
            .to_owned();
        (
            q.to_string(PostgresQueryBuilder),
            q.build(SqliteQueryBuilder).0,
        )
    }

    #[test]
    fn user_input_is_bound_never_spliced() {
        let evil = "x'); DROP TABLE contact; --".to_owned();
        for filter in [
            Filter::Language { code: evil.clone() },
            Filter::Event {
                name: evil.clone(),
                within: None,
            },
            Filter::Credential {
                collection: Some(evil.clone()),
                date: None,
            },
        ] {
            let (_, prepared) = sql(&filter);
            assert!(!prepared.contains("DROP"), "{prepared}");
            assert!(prepared.contains('?'), "a placeholder: {prepared}");
        }
    }

    #[test]
    fn record_filters_are_org_scoped_semi_joins() {
        let (pg, _) = sql(&Filter::Ordered {
            within: Window::Last {
                amount: 6,
                unit: Unit::Months,
            },
        });
        let expected = r#"EXISTS(SELECT 1 FROM "purchase" WHERE "purchase"."contact_id" = "contact"."id" AND "purchase"."org_id" = 7 AND "#;
        assert!(pg.contains(expected), "{pg}");
        assert!(pg.contains(r#""ordered_at" >= '2025-12-01"#), "{pg}");
        let (pg, _) = sql(&Filter::Not {
            not: Box::new(Filter::ValidPass),
        });
        assert!(
            pg.contains(r#"NOT EXISTS(SELECT 1 FROM "pass""#),
            "negation is an anti-join: {pg}"
        );
    }

    #[test]
    fn limits() {
        let mut deep = Filter::ActiveContact;
        for _ in 0..MAX_FILTER_DEPTH {
            deep = Filter::Not {
                not: Box::new(deep),
            };
        }
        assert!(check(&deep).is_err());
        let wide = Filter::Any {
            of: vec![Filter::ActiveContact; MAX_FILTER_NODES],
        };
        assert!(check(&wide).is_err());
        assert!(
            check(&Filter::Any {
                of: vec![Filter::ActiveContact; 10]
            })
            .is_ok()
        );
    }
}
