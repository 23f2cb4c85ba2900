//! Contacts, groups, segments, suppression and seed lists, imports: thin server functions over
//! `herald_core`. Account managers see and change only their assigned contacts; lists,
//! segments and imports are for admins and marketers.

use crate::error::AppError;
use herald_core::domain::audience::Filter;
use herald_core::domain::ingest::ImportStatus;
use herald_core::domain::{
    AddReport, ContactDetail, ContactFilter, ContactPage, GroupSummary, ListEntry, ListSummary,
    MessageType, SegmentSummary,
};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// The list's filters from their form values (empty means "any").
pub fn contact_filter(
    search: Option<String>,
    group: Option<String>,
    status: Option<String>,
    consent: Option<String>,
) -> ContactFilter {
    ContactFilter {
        search: search.unwrap_or_default(),
        group_id: group.and_then(|g| g.parse().ok()),
        active: match status.as_deref() {
            Some("active") => Some(true),
            Some("inactive") => Some(false),
            _ => None,
        },
        consent: consent.and_then(|c| c.parse::<MessageType>().ok()),
    }
}

/// A page of the contacts the user may see, matching the filters.
#[server(endpoint = "list_contacts")]
pub async fn list_contacts(
    search: Option<String>,
    group: Option<String>,
    status: Option<String>,
    consent: Option<String>,
    page: Option<u64>,
) -> Result<ContactPage, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    let filter = contact_filter(search, group, status, consent);
    Ok(herald_core::contacts::list(&h.db, &actor, &filter, page.unwrap_or(1)).await?)
}

#[server(endpoint = "get_contact")]
pub async fn get_contact(id: i64) -> Result<ContactDetail, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::contacts::detail(&h.db, &actor, id).await?)
}

/// The audience for a selection on the contact list (the picked contacts, or all that match
/// the filters), with its size.
#[server(endpoint = "selection_audience", input = Json)]
pub async fn selection_audience(
    filter: ContactFilter,
    ids: Vec<i64>,
    all: bool,
) -> Result<(Filter, crate::api::audience::AudienceCount), AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    let audience = selection_filter(&h, &actor, filter, ids, all).await?;
    let count = crate::api::audience::count_for(&h, &actor, &audience).await?;
    Ok((audience, count))
}

#[cfg(feature = "ssr")]
pub async fn selection_filter(
    h: &herald_core::Herald,
    actor: &herald_core::domain::access::Actor,
    filter: ContactFilter,
    ids: Vec<i64>,
    all: bool,
) -> Result<Filter, AppError> {
    use herald_core::domain::audience::MAX_SELECTED_CONTACTS;
    if !all {
        if ids.is_empty() {
            return Err(herald_core::Error::Invalid("Select at least one contact.".into()).into());
        }
        return Ok(Filter::Contacts { ids });
    }
    if filter.search.trim().is_empty() {
        return Ok(filter.audience_without_search());
    }
    // A text search is not an audience condition: take the matching contacts themselves.
    let limit = MAX_SELECTED_CONTACTS as u64;
    let ids = herald_core::contacts::matching_ids(&h.db, actor, &filter, limit + 1).await?;
    if ids.len() as u64 > limit {
        return Err(herald_core::Error::Invalid(format!(
            "More than {MAX_SELECTED_CONTACTS} contacts match the search; narrow it or use the filters."
        ))
        .into());
    }
    Ok(Filter::Contacts { ids })
}

// ---------------------------------------------------------------------------------------------
// Groups

#[server(endpoint = "list_groups")]
pub async fn list_groups() -> Result<Vec<GroupSummary>, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::contacts::groups::list(&h.db, &actor).await?)
}

#[server(endpoint = "create_group")]
pub async fn create_group(name: String) -> Result<i64, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::contacts::groups::create(&h.db, &actor, &name).await?)
}

#[server(endpoint = "delete_group")]
pub async fn delete_group(id: i64) -> Result<(), AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::contacts::groups::delete(&h.db, &actor, id).await?)
}

/// Adds a contact to a group.
#[server(endpoint = "add_to_group")]
pub async fn add_to_group(group_id: i64, contact_id: i64) -> Result<u64, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::contacts::groups::add_contacts(&h.db, &actor, group_id, &[contact_id]).await?)
}

// ---------------------------------------------------------------------------------------------
// Segments

#[server(endpoint = "list_segments")]
pub async fn list_segments() -> Result<Vec<SegmentSummary>, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::audience::segments::list(&h.db, &actor, chrono::Utc::now()).await?)
}

/// Saves the contact list's filters (not a text search) as a segment.
#[server(endpoint = "create_segment")]
pub async fn create_segment(
    name: String,
    group: Option<String>,
    status: Option<String>,
    consent: Option<String>,
) -> Result<i64, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    let filter = contact_filter(None, group, status, consent).audience_without_search();
    let s =
        herald_core::audience::segments::create(&h.db, &actor, &name, &filter, chrono::Utc::now())
            .await?;
    Ok(s.id)
}

#[server(endpoint = "delete_segment")]
pub async fn delete_segment(id: i64) -> Result<(), AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::audience::segments::delete(&h.db, &actor, id).await?)
}

// ---------------------------------------------------------------------------------------------
// Suppression and seed lists

#[server(endpoint = "list_lists")]
pub async fn list_lists() -> Result<Vec<ListSummary>, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::contacts::lists::all(&h.db, &actor).await?)
}

#[cfg(feature = "ssr")]
fn parse_kind(kind: &str) -> Result<herald_core::domain::ListKind, AppError> {
    kind.parse()
        .map_err(|_| herald_core::Error::Invalid(format!("Unknown list kind “{kind}”.")).into())
}

#[server(endpoint = "create_list")]
pub async fn create_list(kind: String, name: String) -> Result<i64, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(
        herald_core::contacts::lists::create(&h.db, &actor, parse_kind(&kind)?, &name)
            .await?
            .id,
    )
}

#[server(endpoint = "delete_list")]
pub async fn delete_list(id: i64) -> Result<(), AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::contacts::lists::delete(&h.db, &actor, id).await?)
}

/// A list with its entries (the first 1,000 by address).
#[server(endpoint = "list_entries")]
pub async fn list_entries(id: i64) -> Result<(ListSummary, Vec<ListEntry>), AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    let entries = herald_core::contacts::lists::entries(&h.db, &actor, id).await?;
    let summary = herald_core::contacts::lists::summary(&h.db, &actor, id).await?;
    Ok((summary, entries))
}

/// Adds addresses, one per line (`address` or `address, name or reason`).
#[server(endpoint = "add_to_list")]
pub async fn add_to_list(id: i64, addresses: String) -> Result<AddReport, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::contacts::lists::add(&h.db, &actor, id, &addresses).await?)
}

#[server(endpoint = "remove_from_list")]
pub async fn remove_from_list(id: i64, email: String) -> Result<(), AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::contacts::lists::remove(&h.db, &actor, id, &email).await?)
}

// ---------------------------------------------------------------------------------------------
// Imports

#[server(endpoint = "get_import")]
pub async fn get_import(id: i64) -> Result<ImportStatus, AppError> {
    // Its progress changes while the page is rendered: one state per page (see `snapshot`).
    super::ssr::snapshot(format!("get_import/{id}"), || async move {
        let (h, actor) = super::ssr::require_actor().await?;
        Ok(herald_core::ingest::imports::status(&h.db, &actor, id).await?)
    })
    .await
}

#[server(endpoint = "recent_imports")]
pub async fn recent_imports() -> Result<Vec<ImportStatus>, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::ingest::imports::recent(&h.db, &actor).await?)
}

// ---------------------------------------------------------------------------------------------
// Account managers

/// The organisation's account managers (id, name, email), to assign contacts to.
#[server(endpoint = "list_account_managers")]
pub async fn list_account_managers() -> Result<Vec<(i64, String, String)>, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::contacts::account_managers(&h.db, &actor).await?)
}

/// Assigns contacts to an account manager (`manager` empty: nobody); answers how many changed.
#[server(endpoint = "assign_contacts")]
pub async fn assign_contacts(ids: Vec<i64>, manager: Option<String>) -> Result<u64, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    let manager = match manager.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(m) => Some(m.parse::<i64>().map_err(|_| {
            herald_core::Error::Invalid("Choose an account manager from the list.".into())
        })?),
    };
    Ok(herald_core::contacts::assign(&h.db, &actor, &ids, manager).await?)
}
