use crate::error::AppError;
use herald_core::domain::ContactPage;
use leptos::prelude::*;

/// A page of the contacts the user may see, matching `search`.
#[server(endpoint = "list_contacts")]
pub async fn list_contacts(
    search: Option<String>,
    page: Option<u64>,
) -> Result<ContactPage, AppError> {
    let (h, user) = super::ssr::require_user().await?;
    let scope = herald_core::audience::Scope::for_user(&user);
    let search = search.unwrap_or_default();
    Ok(herald_core::contacts::list(&h.db, scope, &search, page.unwrap_or(1)).await?)
}
