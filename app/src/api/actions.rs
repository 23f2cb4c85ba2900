//! Actions (messages that could not be sent, as to-dos) and run notifications.

use crate::error::AppError;
use herald_core::domain::actions::{ActionPage, Notifications};
use leptos::prelude::*;

/// A page of actions. Filters as the Actions page's query string has them: `campaign` an id,
/// `channel` email or sms, `state` todo, sent, ignored or "all" (empty: to do), `mine` "1".
#[server(endpoint = "list_actions")]
pub async fn list_actions(
    campaign: Option<String>,
    channel: Option<String>,
    state: Option<String>,
    mine: Option<String>,
    page: Option<u64>,
) -> Result<ActionPage, AppError> {
    use herald_core::domain::ActionState;
    use herald_core::domain::actions::ActionFilter;
    let (h, actor) = super::ssr::require_actor().await?;
    let filter = ActionFilter {
        campaign_id: campaign.and_then(|c| c.parse().ok()),
        channel: channel.and_then(|c| c.parse().ok()),
        state: match state.as_deref() {
            Some("all") => None,
            Some(s) => s.parse().ok().or(Some(ActionState::Todo)),
            None => Some(ActionState::Todo),
        },
        mine: mine.as_deref() == Some("1"),
    };
    Ok(herald_core::delivery::actions::list(&h.db, &actor, &filter, page.unwrap_or(1)).await?)
}

/// Sends again (`how` "send") or ignores ("ignore") the selected actions; answers what was done,
/// in words.
#[server(endpoint = "resolve_actions")]
pub async fn resolve_actions(ids: Option<Vec<i64>>, how: String) -> Result<String, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    let ids = ids.unwrap_or_default();
    let done = match how.as_str() {
        "send" => herald_core::delivery::actions::send(&h.db, &actor, &ids, h.now()).await?,
        "ignore" => herald_core::delivery::actions::ignore(&h.db, &actor, &ids, h.now()).await?,
        _ => {
            return Err(herald_core::Error::Invalid("Choose to send or to ignore.".into()).into());
        }
    };
    Ok(done.describe())
}

/// Gives the action's contact `address` (email or phone, by the action's channel) and sends.
#[server(endpoint = "fix_action")]
pub async fn fix_action(id: i64, address: String) -> Result<String, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(
        herald_core::delivery::actions::fix_and_send(&h.db, &actor, id, &address, h.now())
            .await?
            .describe(),
    )
}

/// The signed-in user's notifications: unread count and the latest.
#[server(endpoint = "notifications")]
pub async fn my_notifications() -> Result<Notifications, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::delivery::notify::list(&h.db, &actor, 30).await?)
}

/// Marks all of the signed-in user's notifications read.
#[server(endpoint = "mark_notifications_read")]
pub async fn mark_notifications_read() -> Result<u64, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::delivery::notify::mark_read(&h.db, &actor, h.now()).await?)
}
