//! Suppression lists (addresses never to be sent to) and seed lists (people who get a copy of
//! each send to check it). Each organisation has one global suppression list, always applied;
//! campaigns pick further named lists.

use crate::domain::ListKind;
use crate::domain::access::{Action, Actor};
pub use crate::domain::{AddReport, ListEntry as Entry, ListSummary};
use crate::entity::{address_list, address_list_entry};
use crate::ingest::normalise_email;
use crate::{Error, Result};
use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

pub const GLOBAL_NAME: &str = "Global suppression";
/// Addresses a single paste or upload may add.
pub const MAX_ADD: usize = 50_000;

/// The organisation's global suppression list, created on first use.
pub(crate) async fn global_suppression(db: &impl ConnectionTrait, org_id: i64) -> Result<i64> {
    if let Some(l) = address_list::Entity::find()
        .filter(address_list::Column::OrgId.eq(org_id))
        .filter(address_list::Column::Global.eq(true))
        .one(db)
        .await?
    {
        return Ok(l.id);
    }
    address_list::Entity::insert(address_list::ActiveModel {
        org_id: Set(org_id),
        kind: Set(ListKind::Suppression),
        name: Set(GLOBAL_NAME.into()),
        global: Set(true),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            address_list::Column::OrgId,
            address_list::Column::Kind,
            address_list::Column::Name,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(address_list::Entity::find()
        .filter(address_list::Column::OrgId.eq(org_id))
        .filter(address_list::Column::Global.eq(true))
        .one(db)
        .await?
        .ok_or(Error::NotFound("list"))?
        .id)
}

pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    kind: ListKind,
    name: &str,
) -> Result<address_list::Model> {
    actor.require(Action::ManageLists)?;
    let org_id = actor.org_id();
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::Invalid(
            "A list needs a name of 1 to 100 characters.".into(),
        ));
    }
    let taken = address_list::Entity::find()
        .filter(address_list::Column::OrgId.eq(org_id))
        .filter(address_list::Column::Kind.eq(kind))
        .filter(address_list::Column::Name.eq(name))
        .count(db)
        .await?;
    if taken > 0 {
        return Err(Error::Invalid(format!(
            "There is already a list called “{name}”."
        )));
    }
    Ok(address_list::ActiveModel {
        org_id: Set(org_id),
        kind: Set(kind),
        name: Set(name.into()),
        global: Set(false),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub(crate) async fn get(
    db: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
) -> Result<address_list::Model> {
    address_list::Entity::find_by_id(id)
        .filter(address_list::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound("list"))
}

/// Puts `email` on the organisation's global suppression list (a hard bounce, a complaint),
/// with the reason; `false` when it was there already.
pub(crate) async fn suppress(
    db: &impl ConnectionTrait,
    org_id: i64,
    email: &str,
    reason: &str,
    now: chrono::DateTime<Utc>,
) -> Result<bool> {
    let list = global_suppression(db, org_id).await?;
    let n = address_list_entry::Entity::insert(address_list_entry::ActiveModel {
        list_id: Set(list),
        email: Set(email.trim().to_lowercase()),
        name: Set(String::new()),
        reason: Set(reason.chars().take(500).collect()),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            address_list_entry::Column::ListId,
            address_list_entry::Column::Email,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(n > 0)
}

/// All lists of the organisation (the global suppression list first, created if missing).
pub async fn all(db: &impl ConnectionTrait, actor: &Actor) -> Result<Vec<ListSummary>> {
    actor.require(Action::ManageLists)?;
    let org_id = actor.org_id();
    global_suppression(db, org_id).await?;
    let lists = address_list::Entity::find()
        .filter(address_list::Column::OrgId.eq(org_id))
        .order_by_desc(address_list::Column::Global)
        .order_by_asc(address_list::Column::Kind)
        .order_by_asc(address_list::Column::Name)
        .all(db)
        .await?;
    summaries(db, lists).await
}

/// One list of the organisation with its number of addresses.
pub async fn summary(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> Result<ListSummary> {
    actor.require(Action::ManageLists)?;
    let list = get(db, actor.org_id(), id).await?;
    Ok(summaries(db, vec![list]).await?.remove(0))
}

/// The lists with their numbers of addresses, counted in one query.
async fn summaries(
    db: &impl ConnectionTrait,
    lists: Vec<address_list::Model>,
) -> Result<Vec<ListSummary>> {
    use sea_orm::ExprTrait;
    let ids: Vec<i64> = lists.iter().map(|l| l.id).collect();
    let counts: std::collections::HashMap<i64, i64> = if ids.is_empty() {
        Default::default()
    } else {
        address_list_entry::Entity::find()
            .select_only()
            .column(address_list_entry::Column::ListId)
            .column_as(
                sea_orm::sea_query::Expr::col(address_list_entry::Column::Email).count(),
                "entries",
            )
            .filter(address_list_entry::Column::ListId.is_in(ids))
            .group_by(address_list_entry::Column::ListId)
            .into_tuple::<(i64, i64)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    Ok(lists
        .into_iter()
        .map(|l| ListSummary {
            entries: counts.get(&l.id).copied().unwrap_or(0) as u64,
            id: l.id,
            kind: l.kind,
            name: l.name,
            global: l.global,
        })
        .collect())
}

pub async fn delete(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> Result<()> {
    actor.require(Action::ManageLists)?;
    let l = get(db, actor.org_id(), id).await?;
    if l.global {
        return Err(Error::Invalid(
            "The global suppression list cannot be deleted.".into(),
        ));
    }
    address_list::Entity::delete_by_id(l.id).exec(db).await?;
    Ok(())
}

/// Parses one line: `address` or `address, name` (a seed's name or a suppression's reason).
fn parse_line(line: &str) -> Result<(String, String), String> {
    let (email, note) = match line.split_once([',', ';', '\t']) {
        Some((e, n)) => (e, n.trim().trim_matches('"').trim()),
        None => (line, ""),
    };
    let email = normalise_email(email.trim().trim_matches('"'))?;
    if note.chars().count() > 200 {
        return Err("the text after the address is longer than 200 characters".into());
    }
    Ok((email, note.to_owned()))
}

/// Adds the addresses in `text`, one per line (blank lines and a header line are skipped).
/// Invalid lines are reported; valid ones are added even so.
pub async fn add(
    db: &impl ConnectionTrait,
    actor: &Actor,
    list_id: i64,
    text: &str,
) -> Result<AddReport> {
    actor.require(Action::ManageLists)?;
    let list = get(db, actor.org_id(), list_id).await?;
    let mut report = AddReport::default();
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(i, l)| !(l.is_empty() || *i == 1 && l.to_lowercase().starts_with("email")))
        .collect();
    if lines.len() > MAX_ADD {
        return Err(Error::Invalid(format!(
            "Add at most {MAX_ADD} addresses at a time."
        )));
    }
    let now = Utc::now();
    for (number, line) in lines {
        match parse_line(line) {
            Err(reason) => report.invalid.push((number, line.to_owned(), reason)),
            Ok((email, note)) => {
                let (name, reason) = if list.kind == ListKind::Seed {
                    (note, String::new())
                } else {
                    (String::new(), note)
                };
                let n = address_list_entry::Entity::insert(address_list_entry::ActiveModel {
                    list_id: Set(list.id),
                    email: Set(email),
                    name: Set(name),
                    reason: Set(reason),
                    created_at: Set(now),
                })
                .on_conflict(
                    OnConflict::columns([
                        address_list_entry::Column::ListId,
                        address_list_entry::Column::Email,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(db)
                .await?;
                if n > 0 {
                    report.added += 1;
                } else {
                    report.already += 1;
                }
            }
        }
    }
    Ok(report)
}

pub async fn remove(
    db: &impl ConnectionTrait,
    actor: &Actor,
    list_id: i64,
    email: &str,
) -> Result<()> {
    actor.require(Action::ManageLists)?;
    let list = get(db, actor.org_id(), list_id).await?;
    address_list_entry::Entity::delete_many()
        .filter(address_list_entry::Column::ListId.eq(list.id))
        .filter(address_list_entry::Column::Email.eq(email.trim().to_lowercase()))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn entries(db: &impl ConnectionTrait, actor: &Actor, list_id: i64) -> Result<Vec<Entry>> {
    actor.require(Action::ManageLists)?;
    let list = get(db, actor.org_id(), list_id).await?;
    Ok(address_list_entry::Entity::find()
        .filter(address_list_entry::Column::ListId.eq(list.id))
        .order_by_asc(address_list_entry::Column::Email)
        .limit(1000)
        .all(db)
        .await?
        .into_iter()
        .map(|e| Entry {
            email: e.email,
            name: e.name,
            reason: e.reason,
            created_at: e.created_at,
        })
        .collect())
}

/// Whether the address is on the global suppression list or one of `lists` (the delivery
/// engine asks this before every send).
pub async fn is_suppressed(
    db: &impl ConnectionTrait,
    actor: &Actor,
    email: &str,
    lists: &[i64],
) -> Result<bool> {
    actor.require(Action::ReadContacts)?;
    let org_id = actor.org_id();
    let global = global_suppression(db, org_id).await?;
    let mut ids = vec![global];
    for id in lists {
        let l = get(db, org_id, *id).await?;
        if l.kind == ListKind::Suppression {
            ids.push(l.id);
        }
    }
    Ok(address_list_entry::Entity::find()
        .filter(address_list_entry::Column::ListId.is_in(ids))
        .filter(address_list_entry::Column::Email.eq(email.trim().to_lowercase()))
        .count(db)
        .await?
        > 0)
}

/// Which of `emails` (lower-case) are on the organisation's global suppression list or one of
/// its suppression `lists`: one query for a page of recipients.
pub(crate) async fn suppressed_among(
    db: &impl ConnectionTrait,
    org_id: i64,
    lists: &[i64],
    emails: &[String],
) -> Result<std::collections::HashSet<String>> {
    if emails.is_empty() {
        return Ok(Default::default());
    }
    let mut ids = vec![global_suppression(db, org_id).await?];
    ids.extend(
        address_list::Entity::find()
            .filter(address_list::Column::OrgId.eq(org_id))
            .filter(address_list::Column::Kind.eq(ListKind::Suppression))
            .filter(address_list::Column::Id.is_in(lists.iter().copied()))
            .all(db)
            .await?
            .into_iter()
            .map(|l| l.id),
    );
    Ok(address_list_entry::Entity::find()
        .filter(address_list_entry::Column::ListId.is_in(ids))
        .filter(address_list_entry::Column::Email.is_in(emails.iter().cloned()))
        .all(db)
        .await?
        .into_iter()
        .map(|e| e.email)
        .collect())
}

/// The addresses on one of the organisation's seed lists (none when it is not a seed list).
pub(crate) async fn seed_addresses(
    db: &impl ConnectionTrait,
    org_id: i64,
    list_id: i64,
) -> Result<Vec<String>> {
    let Some(list) = address_list::Entity::find_by_id(list_id)
        .filter(address_list::Column::OrgId.eq(org_id))
        .filter(address_list::Column::Kind.eq(ListKind::Seed))
        .one(db)
        .await?
    else {
        return Ok(vec![]);
    };
    Ok(address_list_entry::Entity::find()
        .filter(address_list_entry::Column::ListId.eq(list.id))
        .order_by_asc(address_list_entry::Column::Email)
        .all(db)
        .await?
        .into_iter()
        .map(|e| e.email)
        .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn lines() {
        for (line, expected) in [
            ("Ada@Example.org", Some(("ada@example.org", ""))),
            (
                "ada@example.org, Ada Lovelace",
                Some(("ada@example.org", "Ada Lovelace")),
            ),
            (
                "\"ada@example.org\";\"bounced\"",
                Some(("ada@example.org", "bounced")),
            ),
            (
                "ada@example.org\tcomplained",
                Some(("ada@example.org", "complained")),
            ),
            ("not an address", None),
        ] {
            let got = super::parse_line(line).ok();
            assert_eq!(
                got.as_ref().map(|(e, n)| (e.as_str(), n.as_str())),
                expected,
                "{line}"
            );
        }
    }
}
