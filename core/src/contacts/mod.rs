//! Contacts: the list (search, filters, pages), one contact with its timeline, groups
//! ([`groups`]), and suppression and seed lists ([`lists`]). Everything is read within the
//! acting party's scope: an account manager sees only the contacts assigned to them.

pub mod groups;
pub mod lists;

use crate::audience::Scope;
pub use crate::domain::ContactFilter as ListFilter;
use crate::domain::access::{Action, Actor};
use crate::domain::{Consent, ContactDetail, ContactPage, ContactSummary, TimelineItem};
use crate::domain::{ContactStatus, Role};
use crate::entity::{
    app_user, booking, campaign, contact, contact_event, contact_group, contact_group_member,
    credential, enrollment, message, pass, purchase, subscription,
};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func, LikeExpr};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, ExprTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

pub const PER_PAGE: u64 = 50;
/// The last page anyone may ask for: 50 million contacts, far beyond any list, and far from
/// an offset that overflows.
pub const MAX_PAGE: u64 = 1_000_000;

/// `%text%` with the LIKE wildcards in `text` taken literally.
pub(crate) fn contains_pattern(text: &str) -> String {
    let escaped: String = text
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

/// First name, last name or email contains `search` (case-insensitive).
fn search_condition(search: &str) -> Condition {
    let pattern = contains_pattern(search);
    let like = |col: contact::Column| {
        Expr::expr(Func::lower(Expr::col((contact::Entity, col))))
            .like(LikeExpr::new(pattern.clone()).escape('\\'))
    };
    Condition::any()
        .add(like(contact::Column::FirstName))
        .add(like(contact::Column::LastName))
        .add(like(contact::Column::Email))
}

/// Page `page` (from 1) of the contacts matching `search` (in first name, last name or email,
/// case-insensitive), sorted by last name.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &ListFilter,
    page: u64,
) -> Result<ContactPage> {
    actor.require(Action::ReadContacts)?;
    if page > MAX_PAGE {
        return Err(Error::Invalid(format!(
            "The page must be between 1 and {MAX_PAGE}."
        )));
    }
    let scope = Scope::of(actor);
    let mut query = contact::Entity::find().filter(crate::audience::scoped_condition(
        scope,
        &filter.audience_without_search(),
        chrono::Utc::now(),
    )?);
    let search = filter.search.trim();
    if !search.is_empty() {
        query = query.filter(search_condition(search));
    }
    let paginator = query
        .order_by_asc(contact::Column::LastName)
        .order_by_asc(contact::Column::FirstName)
        .order_by_asc(contact::Column::Id)
        .paginate(db, PER_PAGE);
    let total = paginator.num_items().await?;
    let page = Ord::max(page, 1);
    let rows = paginator.fetch_page(page - 1).await?;
    Ok(ContactPage {
        total,
        page,
        pages: Ord::max(total.div_ceil(PER_PAGE), 1),
        rows: rows
            .into_iter()
            .map(|c| ContactSummary {
                id: c.id,
                name: c.display_name(),
                email: c.email,
                language: c.language,
                active: c.status == ContactStatus::Active,
                marketing_consent: c.marketing_consent,
                newsletter_consent: c.newsletter_consent,
                created_at: c.created_at,
            })
            .collect(),
    })
}

/// One contact in `scope`, with groups and timeline.
pub async fn detail(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<ContactDetail> {
    actor.require(Action::ReadContacts)?;
    let scope = Scope::of(actor);
    let mut query = contact::Entity::find_by_id(id).filter(contact::Column::OrgId.eq(scope.org_id));
    if let Some(user) = scope.assigned_to {
        query = query.filter(contact::Column::AssignedUserId.eq(user));
    }
    let c = query.one(db).await?.ok_or(Error::NotFound("contact"))?;
    let member_of: Vec<i64> = contact_group_member::Entity::find()
        .filter(contact_group_member::Column::ContactId.eq(c.id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.group_id)
        .collect();
    let groups = contact_group::Entity::find()
        .filter(contact_group::Column::OrgId.eq(scope.org_id))
        .filter(contact_group::Column::Id.is_in(member_of))
        .order_by_asc(contact_group::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|g| g.name)
        .collect();
    let mut timeline = Vec::new();
    let mut item = |at: DateTime<Utc>, kind: &str, title: String, detail: String| {
        timeline.push(TimelineItem {
            at,
            kind: kind.into(),
            title,
            detail,
        })
    };
    let day = |t: DateTime<Utc>| t.format("%Y-%m-%d").to_string();
    for r in credential::Entity::find()
        .filter(credential::Column::ContactId.eq(c.id))
        .all(db)
        .await?
    {
        let mut detail = r.collection.clone();
        if let Some(t) = r.renewed_at {
            detail += &format!(" · renewed {}", day(t));
        }
        if let Some(t) = r.expires_at {
            detail += &format!(" · expires {}", day(t));
        }
        item(
            r.published_at,
            "credential",
            format!("Credential “{}” published", r.name),
            detail,
        );
    }
    for r in enrollment::Entity::find()
        .filter(enrollment::Column::ContactId.eq(c.id))
        .all(db)
        .await?
    {
        let mut detail = format!("until {}", day(r.ends_at));
        for part in [&r.category, &r.trainer] {
            if !part.is_empty() {
                detail += &format!(" · {part}");
            }
        }
        if r.online {
            detail += " · online";
        }
        if r.remote {
            detail += " · remote";
        }
        item(
            r.starts_at,
            "enrollment",
            format!("Enrolled in “{}”", r.course),
            detail,
        );
    }
    for r in booking::Entity::find()
        .filter(booking::Column::ContactId.eq(c.id))
        .all(db)
        .await?
    {
        item(r.starts_at, "booking", "Booking".into(), String::new());
    }
    for r in pass::Entity::find()
        .filter(pass::Column::ContactId.eq(c.id))
        .all(db)
        .await?
    {
        item(
            r.valid_from,
            "pass",
            "Pass".into(),
            format!("valid until {}", day(r.valid_to)),
        );
    }
    for r in subscription::Entity::find()
        .filter(subscription::Column::ContactId.eq(c.id))
        .all(db)
        .await?
    {
        let until = r
            .period_end
            .map(|t| format!(" until {}", day(t)))
            .unwrap_or_default();
        item(
            r.period_start,
            "subscription",
            "Subscription".into(),
            format!("{}{until}", r.status),
        );
    }
    for r in purchase::Entity::find()
        .filter(purchase::Column::ContactId.eq(c.id))
        .all(db)
        .await?
    {
        item(
            r.ordered_at,
            "order",
            "Order".into(),
            format!("{}.{:02}", r.amount_cents / 100, r.amount_cents % 100),
        );
    }
    for r in contact_event::Entity::find()
        .filter(contact_event::Column::ContactId.eq(c.id))
        .order_by_desc(contact_event::Column::OccurredAt)
        .limit(200)
        .all(db)
        .await?
    {
        let detail = if r.properties.0.is_empty() {
            String::new()
        } else {
            serde_json::Value::Object(r.properties.0).to_string()
        };
        item(r.occurred_at, "event", r.name, detail);
    }
    let messages = message::Entity::find()
        .filter(message::Column::ContactId.eq(c.id))
        .filter(message::Column::OrgId.eq(scope.org_id))
        .order_by_desc(message::Column::QueuedAt)
        .limit(200)
        .all(db)
        .await?;
    let campaign_ids: Vec<i64> = messages.iter().map(|m| m.campaign_id).collect();
    let names: std::collections::HashMap<i64, Option<String>> = campaign::Entity::find()
        .filter(campaign::Column::Id.is_in(campaign_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|k| (k.id, k.name))
        .collect();
    for m in messages {
        let name = names
            .get(&m.campaign_id)
            .cloned()
            .flatten()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "Untitled".into());
        let detail = match &m.error {
            Some(e) => format!("{} · {e}", m.state.label()),
            None => m.state.label().to_owned(),
        };
        item(
            m.sent_at.unwrap_or(m.queued_at),
            "message",
            format!("Sent “{name}”"),
            detail,
        );
        if let Some(t) = m.bounced_at {
            let how = match m.bounce_type {
                Some(crate::domain::BounceType::Transient) => "Soft bounce",
                _ => "Bounced for good: the address is suppressed",
            };
            let detail = match &m.error {
                Some(e) => format!("{how} · {e}"),
                None => how.to_owned(),
            };
            item(t, "bounce", format!("“{name}” bounced"), detail);
        }
        if let Some(t) = m.complained_at {
            item(
                t,
                "complaint",
                format!("Marked “{name}” as spam"),
                "Suppressed and unsubscribed".into(),
            );
        }
        if let Some(t) = m.unsubscribed_at {
            item(
                t,
                "unsubscribe",
                format!("Unsubscribed through “{name}”"),
                String::new(),
            );
        }
        if let Some(t) = m.first_opened_at {
            let who = if m.human_opened_at.is_none() {
                " (by a machine: a privacy proxy or scanner)"
            } else {
                ""
            };
            item(
                t,
                "open",
                format!("Opened “{name}”"),
                format!("{} opens{who}", m.opens),
            );
        }
        if let Some(t) = m.first_clicked_at {
            item(
                t,
                "click",
                format!("Clicked in “{name}”"),
                format!("{} clicks", m.clicks),
            );
        }
    }
    for a in crate::delivery::actions::of_contact(db, scope.org_id, c.id).await? {
        let detail = match a.resolved_at {
            Some(_) => format!("{} · {}", a.reason, a.state.label()),
            None => format!("{} · to do in Actions", a.reason),
        };
        let title = match a.run_id {
            // A workflow's to-do step.
            Some(_) => "To do for a workflow".to_owned(),
            None => format!("Could not be sent ({})", a.channel.label()),
        };
        item(a.created_at, "action", title, detail);
    }
    if actor.may(Action::ReadCampaigns) {
        // The workflows the contact is in, and where.
        for r in crate::workflows::report::of_contact(db, actor, c.id).await? {
            let key = if r.key.is_empty() {
                String::new()
            } else {
                format!(" ({})", r.key)
            };
            let detail = match (r.status, r.exit_reason) {
                (crate::domain::RunStatus::Active, _) => format!("Now at: {}", r.step),
                (crate::domain::RunStatus::Exited, Some(reason)) => {
                    format!("Left at: {} · {}", r.step, reason.label())
                }
                (status, _) => format!("{} at: {}", status.label(), r.step),
            };
            item(
                r.entered_at,
                "workflow",
                format!("Entered the workflow “{}”{key}", r.campaign_name),
                detail,
            );
        }
    }
    timeline.sort_by_key(|t| std::cmp::Reverse(t.at));
    timeline.truncate(200);
    let account_manager = match c.assigned_user_id {
        Some(user) => app_user::Entity::find_by_id(user)
            .filter(app_user::Column::OrgId.eq(scope.org_id))
            .one(db)
            .await?
            .map(|u| u.email),
        None => None,
    };
    Ok(ContactDetail {
        id: c.id,
        email: c.email,
        phone: c.phone,
        first_name: c.first_name,
        last_name: c.last_name,
        language: c.language,
        time_zone: c.time_zone,
        active: c.status == ContactStatus::Active,
        account_manager,
        created_at: c.created_at,
        updated_at: c.updated_at,
        marketing_consent: Consent {
            given: c.marketing_consent,
            changed_at: c.marketing_consent_at,
            source: c.marketing_consent_source,
        },
        newsletter_consent: Consent {
            given: c.newsletter_consent,
            changed_at: c.newsletter_consent_at,
            source: c.newsletter_consent_source,
        },
        attributes: c.attributes.0,
        groups,
        timeline,
    })
}

/// The ids of the contacts matching `filter` (text search included), at most `limit`.
pub async fn matching_ids(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &ListFilter,
    limit: u64,
) -> Result<Vec<i64>> {
    actor.require(Action::ReadContacts)?;
    let scope = Scope::of(actor);
    let mut query = contact::Entity::find()
        .select_only()
        .column(contact::Column::Id)
        .filter(crate::audience::scoped_condition(
            scope,
            &filter.audience_without_search(),
            chrono::Utc::now(),
        )?);
    let search = filter.search.trim();
    if !search.is_empty() {
        query = query.filter(search_condition(search));
    }
    Ok(query
        .order_by_asc(contact::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?)
}

/// One contact the actor may see.
pub async fn find(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<contact::Model> {
    actor.require(Action::ReadContacts)?;
    let mut query =
        contact::Entity::find_by_id(id).filter(contact::Column::OrgId.eq(actor.org_id()));
    if let Some(user) = actor.assigned_to() {
        query = query.filter(contact::Column::AssignedUserId.eq(user));
    }
    query.one(db).await?.ok_or(Error::NotFound("contact"))
}

/// The organisation's account managers (id, name, email), for assigning contacts to them.
pub async fn account_managers(
    db: &DatabaseConnection,
    actor: &Actor,
) -> Result<Vec<(i64, String, String)>> {
    actor.require(Action::AssignContacts)?;
    Ok(app_user::Entity::find()
        .filter(app_user::Column::OrgId.eq(actor.org_id()))
        .filter(app_user::Column::Role.eq(Role::Member))
        .order_by_asc(app_user::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name, u.email))
        .collect())
}

/// Assigns contacts (of the organisation) to an account manager, or removes their assignment
/// (`None`); answers how many changed.
pub async fn assign(
    db: &DatabaseConnection,
    actor: &Actor,
    ids: &[i64],
    manager: Option<i64>,
) -> Result<u64> {
    actor.require(Action::AssignContacts)?;
    if let Some(user) = manager {
        app_user::Entity::find_by_id(user)
            .filter(app_user::Column::OrgId.eq(actor.org_id()))
            .filter(app_user::Column::Role.eq(Role::Member))
            .one(db)
            .await?
            .ok_or_else(|| {
                Error::Invalid("Choose one of your organisation's account managers.".into())
            })?;
    }
    let mut changed = 0;
    for chunk in ids.chunks(500) {
        changed += contact::Entity::update_many()
            .col_expr(
                contact::Column::AssignedUserId,
                sea_orm::sea_query::Expr::value(manager),
            )
            .col_expr(
                contact::Column::UpdatedAt,
                sea_orm::sea_query::Expr::value(chrono::Utc::now()),
            )
            .filter(contact::Column::OrgId.eq(actor.org_id()))
            .filter(contact::Column::Id.is_in(chunk.to_vec()))
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    #[test]
    fn wildcards_are_literal() {
        for (input, pattern) in [
            ("Olsen", "%olsen%"),
            ("50%", "%50\\%%"),
            ("a_b", "%a\\_b%"),
            ("x\\y", "%x\\\\y%"),
        ] {
            assert_eq!(super::contains_pattern(input), pattern, "{input}");
        }
    }
}
