use crate::error::AppError;
use herald_core::domain::UserSummary;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
fn parse_role(role: &str) -> Result<herald_core::domain::Role, AppError> {
    role.parse()
        .map_err(|_| herald_core::Error::Invalid(format!("Unknown role {role:?}.")).into())
}

#[server(endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<UserSummary>, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::auth::accounts::list_users(&h.db, &actor).await?)
}

/// Adds a user; returns the generated password when none was given, to be shown once.
#[server(endpoint = "add_user")]
pub async fn add_user(
    email: String,
    name: String,
    role: String,
    password: String,
) -> Result<Option<String>, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    let role = parse_role(&role)?;
    let password = Some(password.as_str()).filter(|p| !p.is_empty());
    let (_, generated) =
        herald_core::auth::accounts::add_user(&h.db, &actor, &email, &name, role, password).await?;
    Ok(generated)
}

#[server(endpoint = "set_user_role")]
pub async fn set_user_role(user_id: i64, role: String) -> Result<(), AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    let role = parse_role(&role)?;
    Ok(herald_core::auth::accounts::set_role(&h.db, &actor, user_id, role).await?)
}

#[server(endpoint = "remove_user")]
pub async fn remove_user(user_id: i64) -> Result<(), AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::auth::accounts::remove_user(&h.db, &actor, user_id).await?)
}

/// The organisation's REST API keys.
#[server(endpoint = "list_api_keys")]
pub async fn list_api_keys() -> Result<Vec<herald_core::domain::ApiKeySummary>, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::auth::api_keys::list(&h.db, &actor).await?)
}

/// Creates an API key with the scopes ticked and returns it, to be shown once.
#[server(endpoint = "create_api_key")]
pub async fn create_api_key(
    name: String,
    read: Option<String>,
    write: Option<String>,
    send: Option<String>,
) -> Result<String, AppError> {
    use herald_core::domain::access::{KeyScope, KeyScopes};
    let (h, actor) = super::ssr::require_actor().await?;
    let ticked = [
        (read, KeyScope::Read),
        (write, KeyScope::Write),
        (send, KeyScope::Send),
    ];
    let scopes = KeyScopes(
        ticked
            .into_iter()
            .filter(|(on, _)| on.as_deref().is_some_and(|v| v == "on" || v == "true"))
            .map(|(_, scope)| scope)
            .collect(),
    );
    let (_, secret) = herald_core::auth::api_keys::create(&h.db, &actor, &name, scopes).await?;
    Ok(secret)
}

#[server(endpoint = "revoke_api_key")]
pub async fn revoke_api_key(id: i64) -> Result<(), AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::auth::api_keys::revoke(&h.db, &actor, id).await?)
}
