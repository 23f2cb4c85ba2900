//! Contact groups: named sets of contacts, kept by hand, from imports and from the REST API.

use crate::audience::Scope;
use crate::domain::GroupSummary;
use crate::domain::access::{Action, Actor};
use crate::entity::{contact, contact_group, contact_group_member};
use crate::{Error, Result};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, ExprTrait, JoinType, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use std::collections::HashMap;

/// The organisation's groups with how many of the contacts the actor may see are in each: one
/// query for the groups, one for all their counts.
pub async fn list(db: &DatabaseConnection, actor: &Actor) -> Result<Vec<GroupSummary>> {
    actor.require(Action::ReadContacts)?;
    let scope = Scope::of(actor);
    let groups = contact_group::Entity::find()
        .filter(contact_group::Column::OrgId.eq(scope.org_id))
        .order_by_asc(contact_group::Column::Name)
        .all(db)
        .await?;
    let mut counts = contact_group_member::Entity::find()
        .select_only()
        .column(contact_group_member::Column::GroupId)
        .column_as(
            Expr::col((
                contact_group_member::Entity,
                contact_group_member::Column::ContactId,
            ))
            .count(),
            "members",
        )
        .join(
            JoinType::InnerJoin,
            contact_group_member::Entity::belongs_to(contact_group::Entity)
                .from(contact_group_member::Column::GroupId)
                .to(contact_group::Column::Id)
                .into(),
        )
        .filter(contact_group::Column::OrgId.eq(scope.org_id))
        .group_by(contact_group_member::Column::GroupId);
    if let Some(user) = scope.assigned_to {
        counts = counts
            .join(
                JoinType::InnerJoin,
                contact_group_member::Entity::belongs_to(contact::Entity)
                    .from(contact_group_member::Column::ContactId)
                    .to(contact::Column::Id)
                    .into(),
            )
            .filter(contact::Column::AssignedUserId.eq(user));
    }
    let counts: HashMap<i64, i64> = counts
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(groups
        .into_iter()
        .map(|g| GroupSummary {
            members: counts.get(&g.id).copied().unwrap_or(0) as u64,
            id: g.id,
            name: g.name,
        })
        .collect())
}

pub async fn create(db: &DatabaseConnection, actor: &Actor, name: &str) -> Result<i64> {
    actor.require(Action::ManageGroups)?;
    let org_id = actor.org_id();
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::Invalid(
            "A group needs a name of 1 to 100 characters.".into(),
        ));
    }
    let exists = contact_group::Entity::find()
        .filter(contact_group::Column::OrgId.eq(org_id))
        .filter(contact_group::Column::Name.eq(name))
        .count(db)
        .await?;
    if exists > 0 {
        return Err(Error::Invalid(format!(
            "There is already a group called “{name}”."
        )));
    }
    let ids =
        crate::ingest::ensure_groups(db, org_id, [name.to_owned()], chrono::Utc::now()).await?;
    Ok(ids[name])
}

pub async fn delete(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<()> {
    actor.require(Action::ManageGroups)?;
    let res = contact_group::Entity::delete_many()
        .filter(contact_group::Column::Id.eq(id))
        .filter(contact_group::Column::OrgId.eq(actor.org_id()))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::NotFound("group"));
    }
    Ok(())
}

/// Adds contacts (those of `ids` the actor may see) to a group; returns how many joined.
pub async fn add_contacts(
    db: &DatabaseConnection,
    actor: &Actor,
    group_id: i64,
    ids: &[i64],
) -> Result<u64> {
    actor.require(Action::WriteContacts)?;
    let scope = Scope::of(actor);
    let group = contact_group::Entity::find_by_id(group_id)
        .filter(contact_group::Column::OrgId.eq(scope.org_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound("group"))?;
    let mut allowed = Vec::new();
    for chunk in ids.chunks(500) {
        let mut q = contact::Entity::find()
            .select_only()
            .column(contact::Column::Id)
            .filter(contact::Column::OrgId.eq(scope.org_id))
            .filter(contact::Column::Id.is_in(chunk.to_vec()));
        if let Some(user) = scope.assigned_to {
            q = q.filter(contact::Column::AssignedUserId.eq(user));
        }
        allowed.extend(q.into_tuple::<i64>().all(db).await?);
    }
    let pairs: Vec<(i64, i64)> = allowed.into_iter().map(|c| (group.id, c)).collect();
    Ok(crate::ingest::add_memberships(db, &pairs).await?.len() as u64)
}
