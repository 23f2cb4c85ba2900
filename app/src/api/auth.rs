use crate::error::AppError;
use herald_core::domain::CurrentUser;
use leptos::prelude::*;

/// Signs in and redirects to the campaigns.
#[server(endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<(), AppError> {
    use super::ssr;
    let h = ssr::herald()?;
    let signed_in =
        herald_core::auth::sessions::sign_in(&h.db, &email, &password, &ssr::client_ip()).await?;
    ssr::set_session_cookie(&h, &signed_in.token);
    leptos_axum::redirect("/campaigns");
    Ok(())
}

#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use super::ssr;
    let h = ssr::herald()?;
    if let Some(token) = ssr::session_token() {
        herald_core::auth::sessions::sign_out(&h.db, &token).await?;
    }
    ssr::clear_session_cookie(&h);
    leptos_axum::redirect("/login");
    Ok(())
}

/// Who is signed in, if anyone.
#[server(endpoint = "me")]
pub async fn me() -> Result<Option<CurrentUser>, AppError> {
    let h = super::ssr::herald()?;
    super::ssr::current_user(&h).await
}

/// Changes the password, signs out every other session, and keeps this one signed in.
#[server(endpoint = "change_password")]
pub async fn change_password(
    current: String,
    new: String,
    confirm: String,
) -> Result<String, AppError> {
    use super::ssr;
    let (h, actor) = ssr::require_actor().await?;
    if new != confirm {
        return Err(herald_core::Error::Invalid(
            "The new password and its confirmation differ.".into(),
        )
        .into());
    }
    let token = herald_core::auth::accounts::change_password(&h.db, &actor, &current, &new).await?;
    ssr::set_session_cookie(&h, &token);
    Ok("Password changed. Other sessions have been signed out.".into())
}
