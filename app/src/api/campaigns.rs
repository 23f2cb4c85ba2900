use crate::error::AppError;
use herald_core::domain::{CampaignDetail, CampaignSummary};
use leptos::prelude::*;

/// The organisation's campaigns; `status` ("active", "draft", …), `goal`, `kind` (campaign
/// type) and `channel` narrow them. Empty values mean "any".
#[server(endpoint = "list_campaigns")]
pub async fn list_campaigns(
    status: Option<String>,
    goal: Option<String>,
    kind: Option<String>,
    channel: Option<String>,
) -> Result<Vec<CampaignSummary>, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    fn parse<T: std::str::FromStr>(v: Option<String>, what: &str) -> Result<Option<T>, AppError> {
        match v.as_deref().filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => s.parse().map(Some).map_err(|_| {
                AppError::from(herald_core::Error::Invalid(format!(
                    "Unknown {what} {s:?}."
                )))
            }),
        }
    }
    let filter = herald_core::campaigns::CampaignFilter {
        status: parse(status, "campaign status")?,
        goal: goal.filter(|g| !g.is_empty()),
        kind: parse(kind, "campaign type")?,
        channel: parse(channel, "channel")?,
    };
    Ok(herald_core::campaigns::list(&h.db, &actor, filter).await?)
}

#[server(endpoint = "get_campaign")]
pub async fn get_campaign(id: i64) -> Result<CampaignDetail, AppError> {
    // Its status and counts change while it sends: one state per page (see `snapshot`).
    super::ssr::snapshot(format!("get_campaign/{id}"), || async move {
        let (h, actor) = super::ssr::require_actor().await?;
        Ok(
            herald_core::campaigns::get(&h.db, &actor, id, h.settings.daily_run_at, h.now())
                .await?,
        )
    })
    .await
}

/// A campaign's links, opens and clicks over time, and runs.
#[server(endpoint = "campaign_report")]
pub async fn campaign_report(
    id: i64,
) -> Result<herald_core::domain::reports::CampaignReport, AppError> {
    super::ssr::snapshot(format!("campaign_report/{id}"), || async move {
        let (h, actor) = super::ssr::require_actor().await?;
        Ok(herald_core::reports::report(&h.db, &actor, id).await?)
    })
    .await
}

/// A page of a campaign's per-recipient table: `filter`, `sort` ("recipient", "sent",
/// "status", "opens", "clicks"), `desc`, `search` (address or name) and `page` (from 1).
#[server(endpoint = "campaign_recipients")]
pub async fn campaign_recipients(
    id: i64,
    query: herald_core::domain::reports::RecipientQuery,
) -> Result<herald_core::domain::reports::RecipientPage, AppError> {
    super::ssr::snapshot(
        format!("campaign_recipients/{id}/{query:?}"),
        || async move {
            let (h, actor) = super::ssr::require_actor().await?;
            Ok(herald_core::reports::recipients(&h.db, &actor, id, &query).await?)
        },
    )
    .await
}

/// The organisation's sending over the last 90 days.
#[server(endpoint = "reports_overview")]
pub async fn reports_overview() -> Result<herald_core::domain::reports::Overview, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    let now = h.now();
    let since = now - chrono::Duration::days(90);
    Ok(herald_core::reports::overview(&h.db, &actor, since, now).await?)
}
