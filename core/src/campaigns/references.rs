//! A campaign (or segment) may only name its own organisation's groups, segments, lists and
//! templates. Every reference is checked here, one query per kind, before anything is saved.

use crate::domain::ListKind;
use crate::domain::campaign::References;
use crate::entity::{address_list, contact_group, segment, template};
use crate::{Error, Result};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::BTreeSet;

/// The ids of `wanted` that the query finds.
async fn found<E, C>(
    db: &impl ConnectionTrait,
    wanted: &BTreeSet<i64>,
    id: C,
    query: sea_orm::Select<E>,
) -> Result<BTreeSet<i64>>
where
    E: EntityTrait,
    C: ColumnTrait,
{
    if wanted.is_empty() {
        return Ok(BTreeSet::new());
    }
    Ok(query
        .select_only()
        .column(id)
        .filter(id.is_in(wanted.iter().copied()))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

fn refuse(what: &str, missing: &BTreeSet<i64>) -> Error {
    let ids: Vec<String> = missing.iter().map(|i| format!("#{i}")).collect();
    Error::Invalid(format!(
        "Choose {what} of your own: {} does not exist or belongs to another organisation.",
        ids.join(", ")
    ))
}

/// Checks that everything in `r` belongs to the organisation: groups, segments, seed lists
/// (that are seed lists), suppression lists (that are suppression lists), and templates a
/// campaign may send (not Herald's system templates).
pub async fn check(db: &impl ConnectionTrait, org_id: i64, r: &References) -> Result<()> {
    let groups = found(
        db,
        &r.groups,
        contact_group::Column::Id,
        contact_group::Entity::find().filter(contact_group::Column::OrgId.eq(org_id)),
    )
    .await?;
    let segments = found(
        db,
        &r.segments,
        segment::Column::Id,
        segment::Entity::find().filter(segment::Column::OrgId.eq(org_id)),
    )
    .await?;
    let list = |kind: ListKind| {
        address_list::Entity::find()
            .filter(address_list::Column::OrgId.eq(org_id))
            .filter(address_list::Column::Kind.eq(kind))
    };
    let seeds = found(
        db,
        &r.seed_lists,
        address_list::Column::Id,
        list(ListKind::Seed),
    )
    .await?;
    let suppressions = found(
        db,
        &r.suppression_lists,
        address_list::Column::Id,
        list(ListKind::Suppression),
    )
    .await?;
    let templates = found(
        db,
        &r.templates,
        template::Column::Id,
        template::Entity::find()
            .filter(template::Column::OrgId.eq(org_id))
            .filter(template::Column::IsSystem.eq(false)),
    )
    .await?;
    for (what, wanted, found) in [
        ("a group", &r.groups, groups),
        ("a segment", &r.segments, segments),
        ("a seed list", &r.seed_lists, seeds),
        ("a suppression list", &r.suppression_lists, suppressions),
        ("a template", &r.templates, templates),
    ] {
        let missing: BTreeSet<i64> = wanted.difference(&found).copied().collect();
        if !missing.is_empty() {
            return Err(refuse(what, &missing));
        }
    }
    Ok(())
}
