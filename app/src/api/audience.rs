use crate::error::AppError;
use herald_core::domain::audience::Filter;
use herald_core::domain::delivery::Reach;
use herald_core::domain::delivery::ReachRule;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

/// How many contacts an audience reaches now, with a few of them to show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudienceCount {
    /// Contacts who match the filters.
    pub count: u64,
    pub sample: Vec<ContactSample>,
    /// Who of them a campaign under the asked rule would reach, and why not the others.
    pub reach: Option<Reach>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactSample {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
}

/// The live count behind the campaign builder: with a `rule` (the campaign's message type,
/// channel and suppression lists), who it reaches and why not the others. Account managers
/// only ever count the contacts assigned to them. Takes the filter tree as JSON.
#[server(endpoint = "count_audience", input = Json)]
pub async fn count_audience(
    filter: Filter,
    rule: Option<ReachRule>,
) -> Result<AudienceCount, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    let mut answer = count_for(&h, &actor, &filter).await?;
    if let Some(rule) = rule {
        let reach =
            herald_core::audience::reach::reach(&h.db, &actor, &filter, &rule, chrono::Utc::now())
                .await?;
        answer.reach = Some(reach);
    }
    Ok(answer)
}

/// The size of an audience among the contacts `actor` may see, with a few of them.
#[cfg(feature = "ssr")]
pub async fn count_for(
    h: &herald_core::Herald,
    actor: &herald_core::domain::access::Actor,
    filter: &Filter,
) -> Result<AudienceCount, AppError> {
    use herald_core::audience;
    let now = chrono::Utc::now();
    let count = audience::count(&h.db, actor, filter, now).await?;
    let sample = audience::sample(&h.db, actor, filter, now, 5)
        .await?
        .into_iter()
        .map(|c| ContactSample {
            id: c.id,
            name: c.display_name(),
            email: c.email,
        })
        .collect();
    Ok(AudienceCount {
        count,
        sample,
        reach: None,
    })
}
