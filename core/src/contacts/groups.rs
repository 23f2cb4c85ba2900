//! Contact groups: named sets of contacts, kept by hand, from imports and from the REST API.

use crate::audience::Scope;
use crate::domain::GroupSummary;
use crate::entity::{contact, contact_group, contact_group_member};
use crate::{Error, Result};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

/// The organisation's groups with their member counts.
pub async fn list(db: &DatabaseConnection, org_id: i64) -> Result<Vec<GroupSummary>> {
    let groups = contact_group::Entity::find()
        .filter(contact_group::Column::OrgId.eq(org_id))
        .order_by_asc(contact_group::Column::Name)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(groups.len());
    for g in groups {
        let members = contact_group_member::Entity::find()
            .filter(contact_group_member::Column::GroupId.eq(g.id))
            .count(db)
            .await?;
        out.push(GroupSummary {
            id: g.id,
            name: g.name,
            members,
        });
    }
    Ok(out)
}

pub async fn create(db: &DatabaseConnection, org_id: i64, name: &str) -> Result<i64> {
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

pub async fn delete(db: &DatabaseConnection, org_id: i64, id: i64) -> Result<()> {
    let res = contact_group::Entity::delete_many()
        .filter(contact_group::Column::Id.eq(id))
        .filter(contact_group::Column::OrgId.eq(org_id))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::NotFound("group"));
    }
    Ok(())
}

/// Adds contacts (those of `ids` within `scope`) to a group; returns how many joined.
pub async fn add_contacts(
    db: &DatabaseConnection,
    scope: Scope,
    group_id: i64,
    ids: &[i64],
) -> Result<u64> {
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
