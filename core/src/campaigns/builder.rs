//! The campaign builder's storage: drafts saved in any state, duplicate warnings counted by the
//! audience engine, activation (checked, approved where the organisation requires it, with the
//! template version fixed) and deactivation. Status changes are conditional updates, so two
//! people (or two instances) activating at once change it once.

use crate::audience::{self, Scope};
use crate::domain::audience::Filter;
use crate::domain::campaign::{Draft, Settings};
use crate::domain::duplicates::{self, CampaignFacts, Candidate, Conflict};
use crate::domain::trigger::Trigger;
use crate::domain::{CampaignStatus, CurrentUser, Role};
use crate::entity::{campaign, organisation};
use crate::{Error, Result, templates};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Internal(e.to_string()))
}

fn corrupt(what: &str, e: serde_json::Error) -> Error {
    Error::Internal(format!("stored campaign {what} does not read: {e}"))
}

/// Saves the builder's state: a new draft (`id: None`) or changes to an existing campaign. An
/// active campaign edited keeps running and sends the template version current at this edit.
pub async fn save(
    db: &DatabaseConnection,
    user: &CurrentUser,
    id: Option<i64>,
    draft: &Draft,
) -> Result<i64> {
    audience::check(&draft.audience)?;
    let now = Utc::now();
    let mut model = match id {
        None => campaign::ActiveModel {
            org_id: Set(user.org_id),
            status: Set(CampaignStatus::Draft.as_str().into()),
            created_by: Set(Some(user.user_id)),
            created_at: Set(now),
            ..Default::default()
        },
        Some(id) => find(db, user.org_id, id).await?.into(),
    };
    // Refuses another organisation's templates and system templates alike.
    let chosen: Vec<i64> = draft
        .template_id
        .into_iter()
        .chain(
            draft
                .settings
                .splits
                .iter()
                .map(|s| s.template_id)
                .filter(|t| *t > 0),
        )
        .collect();
    for split in draft.settings.splits.iter().filter(|s| s.segment_id > 0) {
        crate::audience::segments::get(db, user.org_id, split.segment_id).await?;
    }
    if !chosen.is_empty() {
        let pickable = templates::list(db, user.org_id, true).await?;
        if chosen.iter().any(|t| !pickable.iter().any(|p| p.id == *t)) {
            return Err(Error::Invalid("Choose one of your own templates.".into()));
        }
    }
    model.name = Set(Some(draft.name.trim().to_string()).filter(|n| !n.is_empty()));
    model.description = Set(draft.description.clone());
    model.goal = Set(draft.goal.trim().to_string());
    model.kind = Set(draft.kind.as_str().into());
    model.message_type = Set(draft.message_type.as_str().into());
    model.channel = Set(draft.channel.as_str().into());
    model.audience = Set(json(&draft.audience)?);
    model.trigger = Set(draft.trigger.as_ref().map(json).transpose()?);
    model.settings = Set(json(&draft.settings)?);
    model.template_id = Set(draft.template_id);
    model.updated_at = Set(now);
    if user.role != Role::Admin {
        // An approval covers what the admin saw: a marketer's edit needs a new one.
        model.approved_by = Set(None);
        model.approved_at = Set(None);
    }
    let active = id.is_some() && model.status.as_ref() == CampaignStatus::Active.as_str();
    if active {
        model.template_version_id = Set(match draft.template_id {
            Some(t) => Some(templates::current_version(db, user.org_id, t).await?),
            None => None,
        });
    }
    let saved = match id {
        None => model.insert(db).await?,
        Some(_) => model.update(db).await?,
    };
    Ok(saved.id)
}

async fn find(db: &DatabaseConnection, org_id: i64, id: i64) -> Result<campaign::Model> {
    campaign::Entity::find_by_id(id)
        .filter(campaign::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound("campaign"))
}

/// A stored campaign as the builder edits it, with its status.
pub async fn load(
    db: &DatabaseConnection,
    org_id: i64,
    id: i64,
) -> Result<(Draft, CampaignStatus)> {
    let (draft, status, _) = load_full(db, org_id, id).await?;
    Ok((draft, status))
}

/// [`load`], and whether an admin has approved it.
pub async fn load_full(
    db: &DatabaseConnection,
    org_id: i64,
    id: i64,
) -> Result<(Draft, CampaignStatus, bool)> {
    let c = find(db, org_id, id).await?;
    Ok((draft_of(&c)?, c.status.parse()?, c.approved_at.is_some()))
}

/// Whether the organisation requires approvals.
pub async fn requires_approval(db: &DatabaseConnection, org_id: i64) -> Result<bool> {
    Ok(organisation::Entity::find_by_id(org_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound("organisation"))?
        .require_approval)
}

fn draft_of(c: &campaign::Model) -> Result<Draft> {
    Ok(Draft {
        name: c.name.clone().unwrap_or_default(),
        description: c.description.clone(),
        goal: c.goal.clone(),
        kind: c.kind.parse()?,
        message_type: c.message_type.parse()?,
        channel: c.channel.parse()?,
        audience: serde_json::from_str::<Filter>(&c.audience)
            .map_err(|e| corrupt("audience", e))?,
        trigger: c
            .trigger
            .as_deref()
            .map(serde_json::from_str::<Trigger>)
            .transpose()
            .map_err(|e| corrupt("trigger", e))?,
        template_id: c.template_id,
        settings: serde_json::from_str::<Settings>(&c.settings)
            .map_err(|e| corrupt("settings", e))?,
    })
}

/// Every conflict of a draft with the organisation's active campaigns, with the number of
/// contacts each shares with it (counted within what `scope` may see).
pub async fn conflicts(
    db: &DatabaseConnection,
    scope: Scope,
    id: Option<i64>,
    draft: &Draft,
    now: DateTime<Utc>,
) -> Result<Vec<Conflict>> {
    audience::check(&draft.audience)?;
    let active = campaign::Entity::find()
        .filter(campaign::Column::OrgId.eq(scope.org_id))
        .filter(campaign::Column::Status.eq(CampaignStatus::Active.as_str()))
        .all(db)
        .await?;
    let facts = CampaignFacts {
        id,
        name: draft.name.clone(),
        message_type: draft.message_type,
        channel: draft.channel,
        template_id: draft.template_id,
        trigger: draft.trigger.clone(),
        since: now,
    };
    let mut candidates = Vec::new();
    for c in active {
        if Some(c.id) == id {
            continue;
        }
        let other = draft_of(&c)?;
        let shape = CampaignFacts {
            id: Some(c.id),
            name: c.name.clone().unwrap_or_else(|| "Untitled".into()),
            message_type: other.message_type,
            channel: other.channel,
            template_id: other.template_id,
            trigger: other.trigger.clone(),
            since: c.activated_at.unwrap_or(c.created_at),
        };
        // Count only when the rule could fire on this pair: counting is the expensive part.
        let probe = Candidate {
            facts: shape.clone(),
            id: c.id,
            overlap: 1,
        };
        if duplicates::check(&facts, &probe).is_none() {
            continue;
        }
        let both = Filter::All {
            of: vec![draft.audience.clone(), other.audience],
        };
        candidates.push((
            Candidate {
                facts: shape,
                id: c.id,
                overlap: 0,
            },
            both,
        ));
    }
    // The overlap counts run a few at a time: one query each, independent of each other.
    let mut counted = Vec::with_capacity(candidates.len());
    let mut pending = candidates.into_iter();
    let mut running = tokio::task::JoinSet::new();
    loop {
        while running.len() < PARALLEL_COUNTS {
            let Some((mut candidate, both)) = pending.next() else {
                break;
            };
            let db = db.clone();
            running.spawn(async move {
                candidate.overlap = audience::count(&db, scope, &both, now).await?;
                Ok::<_, Error>(candidate)
            });
        }
        match running.join_next().await {
            Some(done) => counted.push(done.map_err(|e| Error::Internal(e.to_string()))??),
            None => break,
        }
    }
    Ok(duplicates::conflicts(&facts, &counted))
}

/// How many overlap counts of one duplicate check run at once.
const PARALLEL_COUNTS: usize = 4;

/// What stops the campaign from being activated by `user` now, in words.
pub async fn activation_problems(
    db: &DatabaseConnection,
    user: &CurrentUser,
    id: i64,
) -> Result<Vec<String>> {
    let c = find(db, user.org_id, id).await?;
    problems_of(db, user, &c).await
}

async fn problems_of(
    db: &DatabaseConnection,
    user: &CurrentUser,
    c: &campaign::Model,
) -> Result<Vec<String>> {
    let draft = draft_of(c)?;
    let mut out = draft.problems(Utc::now());
    if let Some(t) = draft.template_id {
        let (input, summary) = templates::get(db, user.org_id, t).await?;
        if summary.is_system {
            out.push("System templates cannot be sent by a campaign.".into());
        }
        let attributes = templates::attribute_keys(db, user.org_id).await?;
        let unknown: Vec<String> = templates::check(&input, &attributes)
            .iter()
            .map(|i| i.describe())
            .collect();
        if !unknown.is_empty() {
            out.push(format!("Fix the template first: {}.", unknown.join("; ")));
        }
    }
    if needs_approval(db, user, c).await? {
        out.push("An admin must approve this campaign before it can be activated.".into());
    }
    Ok(out)
}

async fn needs_approval(
    db: &DatabaseConnection,
    user: &CurrentUser,
    c: &campaign::Model,
) -> Result<bool> {
    if user.role == Role::Admin || c.approved_at.is_some() {
        return Ok(false);
    }
    requires_approval(db, user.org_id).await
}

/// Activates a complete campaign, fixing the template version it sends. Answers the problems
/// instead when there are any.
pub async fn activate(db: &DatabaseConnection, user: &CurrentUser, id: i64) -> Result<()> {
    if user.role == Role::Member {
        return Err(Error::Forbidden);
    }
    let c = find(db, user.org_id, id).await?;
    let problems = problems_of(db, user, &c).await?;
    if !problems.is_empty() {
        return Err(Error::Invalid(problems.join(" ")));
    }
    let version = match c.template_id {
        Some(t) => Some(templates::current_version(db, user.org_id, t).await?),
        None => None,
    };
    let now = Utc::now();
    let done = campaign::Entity::update_many()
        .col_expr(
            campaign::Column::Status,
            Expr::value(CampaignStatus::Active.as_str()),
        )
        .col_expr(campaign::Column::ActivatedAt, Expr::value(now))
        .col_expr(campaign::Column::UpdatedAt, Expr::value(now))
        .col_expr(campaign::Column::TemplateVersionId, Expr::value(version))
        .col_expr(
            campaign::Column::DeactivatedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(campaign::Column::Id.eq(id))
        .filter(campaign::Column::OrgId.eq(user.org_id))
        .filter(campaign::Column::Status.is_in([
            CampaignStatus::Draft.as_str(),
            CampaignStatus::Inactive.as_str(),
        ]))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(Error::Invalid(
            "The campaign is already active or has completed.".into(),
        ));
    }
    Ok(())
}

/// Stops an active campaign; it sends nothing more until activated again.
pub async fn deactivate(db: &DatabaseConnection, user: &CurrentUser, id: i64) -> Result<()> {
    if user.role == Role::Member {
        return Err(Error::Forbidden);
    }
    let now = Utc::now();
    let done = campaign::Entity::update_many()
        .col_expr(
            campaign::Column::Status,
            Expr::value(CampaignStatus::Inactive.as_str()),
        )
        .col_expr(campaign::Column::DeactivatedAt, Expr::value(now))
        .col_expr(campaign::Column::UpdatedAt, Expr::value(now))
        .filter(campaign::Column::Id.eq(id))
        .filter(campaign::Column::OrgId.eq(user.org_id))
        .filter(campaign::Column::Status.eq(CampaignStatus::Active.as_str()))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        find(db, user.org_id, id).await?;
        return Err(Error::Invalid("The campaign is not active.".into()));
    }
    Ok(())
}

/// An admin approves a campaign for activation (when the organisation requires approval).
pub async fn approve(db: &DatabaseConnection, user: &CurrentUser, id: i64) -> Result<()> {
    if user.role != Role::Admin {
        return Err(Error::Forbidden);
    }
    let mut c: campaign::ActiveModel = find(db, user.org_id, id).await?.into();
    c.approved_by = Set(Some(user.user_id));
    c.approved_at = Set(Some(Utc::now()));
    c.update(db).await?;
    Ok(())
}

/// Whether marketers' campaigns need an admin's approval.
pub async fn set_require_approval(
    db: &DatabaseConnection,
    user: &CurrentUser,
    on: bool,
) -> Result<()> {
    if user.role != Role::Admin {
        return Err(Error::Forbidden);
    }
    organisation::Entity::update_many()
        .col_expr(organisation::Column::RequireApproval, Expr::value(on))
        .filter(organisation::Column::Id.eq(user.org_id))
        .exec(db)
        .await?;
    Ok(())
}
