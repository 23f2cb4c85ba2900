//! The campaign builder's storage: drafts saved in any state, duplicate warnings counted by the
//! audience engine, activation (checked, approved where the organisation requires it, with the
//! template version fixed) and deactivation.
//!
//! Rules that keep a running campaign honest:
//! - Everything a campaign names (groups, segments, lists, templates) must be the
//!   organisation's own ([`super::references`]).
//! - Changes to an **active** campaign are saved as a *pending revision* and take effect only
//!   once they pass the same checks as an activation and, where the organisation requires
//!   approval, an admin has approved them. Until then the campaign keeps running as it was.
//! - Every save and status change bumps `revision`; activation checks a revision and changes
//!   the campaign only if it is still that revision, so an edit landing between the checks and
//!   the update makes the activation fail instead of activating what nobody checked.

use super::references;
use crate::audience::{self, Scope};
use crate::delivery::Targets;
use crate::domain::CampaignStatus;
use crate::domain::access::{Action, Actor};
use crate::domain::audience::Filter;
use crate::domain::campaign::{Draft, Saved};
use crate::domain::delivery::ReachRule;
use crate::domain::duplicates::{self, CampaignFacts, Candidate, Conflict};
use crate::domain::trigger::Trigger;
use crate::entity::{campaign, organisation};
use crate::{Error, Result, templates};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, ExprTrait,
    QueryFilter, Set, TransactionTrait,
};

async fn find(db: &impl ConnectionTrait, org_id: i64, id: i64) -> Result<campaign::Model> {
    campaign::Entity::find_by_id(id)
        .filter(campaign::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound("campaign"))
}

fn draft_of(c: &campaign::Model) -> Draft {
    Draft {
        name: c.name.clone().unwrap_or_default(),
        description: c.description.clone(),
        goal: c.goal.clone(),
        kind: c.kind,
        message_type: c.message_type,
        channel: c.channel,
        audience: c.audience.clone(),
        trigger: c.trigger.clone(),
        template_id: c.template_id,
        settings: c.settings.clone(),
    }
}

/// Copies a draft's fields onto a campaign row.
fn apply_draft(model: &mut campaign::ActiveModel, draft: &Draft) {
    model.name = Set(Some(draft.name.trim().to_string()).filter(|n| !n.is_empty()));
    model.description = Set(draft.description.clone());
    model.goal = Set(draft.goal.trim().to_string());
    model.kind = Set(draft.kind);
    model.message_type = Set(draft.message_type);
    model.channel = Set(draft.channel);
    model.audience = Set(draft.audience.clone());
    model.trigger = Set(draft.trigger.clone());
    model.settings = Set(draft.settings.clone());
    model.template_id = Set(draft.template_id);
}

/// Whether the organisation requires approvals.
async fn requires_approval_in(db: &impl ConnectionTrait, org_id: i64) -> Result<bool> {
    Ok(organisation::Entity::find_by_id(org_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound("organisation"))?
        .require_approval)
}

/// Whether marketers' campaigns need an admin's approval in the actor's organisation.
pub async fn requires_approval(db: &impl ConnectionTrait, actor: &Actor) -> Result<bool> {
    actor.require(Action::ReadCampaigns)?;
    requires_approval_in(db, actor.org_id()).await
}

/// Whether what `actor` saves or activates needs an admin's approval first.
async fn approval_needed(db: &impl ConnectionTrait, actor: &Actor) -> Result<bool> {
    if actor.may(Action::ApproveCampaigns) {
        return Ok(false);
    }
    requires_approval_in(db, actor.org_id()).await
}

/// What stops `draft` from sending, in words: what is missing, and a template that cannot be
/// sent as it is.
async fn draft_problems(
    db: &impl ConnectionTrait,
    org_id: i64,
    draft: &Draft,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    let mut out = draft.problems(now);
    if let Some(t) = draft.template_id {
        let (input, summary) = templates::get_in(db, org_id, t).await?;
        if summary.is_system {
            out.push("System templates cannot be sent by a campaign.".into());
        }
        let attributes = templates::attribute_keys(db, org_id).await?;
        // A message carries the fields of the record whose date fired it, and no others.
        let record = match &draft.trigger {
            Some(Trigger::Relative { date, .. }) => date.record(),
            _ => "",
        };
        let issues = templates::check_for(&input, &attributes, Some(record));
        let record_tags: Vec<&str> = issues
            .iter()
            .filter_map(|i| match i {
                crate::domain::template::Issue::UnknownTag { tag, .. }
                    if tag.starts_with("record.")
                        && templates::check(&input, &attributes).is_empty() =>
                {
                    Some(tag.as_str())
                }
                _ => None,
            })
            .collect();
        if !record_tags.is_empty() {
            out.push(if record.is_empty() {
                format!(
                    "The template uses a record's fields ({}), which only a campaign sent \
                     before, on or after a record date has.",
                    record_tags.join(", ")
                )
            } else {
                format!(
                    "The template uses fields ({}) that a {record} does not have.",
                    record_tags.join(", ")
                )
            });
        } else if !issues.is_empty() {
            let unknown: Vec<String> = issues.iter().map(|i| i.describe()).collect();
            out.push(format!("Fix the template first: {}.", unknown.join("; ")));
        }
    }
    Ok(out)
}

const APPROVAL_NEEDED: &str = "An admin must approve this campaign before it can be activated.";
const CHANGES_NEED_APPROVAL: &str = "An admin must approve these changes before they go live.";

/// Saves the builder's state: a new draft (`id: None`) or changes to an existing campaign.
/// Changes to an active campaign wait as a pending revision until they are ready (see the
/// module comment); the answer says whether they are live and, if not, what they wait for.
pub async fn save(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Option<i64>,
    draft: &Draft,
    now: DateTime<Utc>,
) -> Result<Saved> {
    actor.require(Action::EditCampaigns)?;
    audience::check(&draft.audience)?;
    references::check(db, actor.org_id(), &draft.references()).await?;
    let Some(id) = id else {
        let mut model = campaign::ActiveModel {
            org_id: Set(actor.org_id()),
            status: Set(CampaignStatus::Draft),
            created_by: Set(actor.user_id()),
            created_at: Set(now),
            updated_at: Set(now),
            revision: Set(0),
            ..Default::default()
        };
        apply_draft(&mut model, draft);
        let saved = model.insert(db).await?;
        return Ok(Saved {
            id: saved.id,
            pending: false,
            waiting_for: Vec::new(),
        });
    };
    let c = find(db, actor.org_id(), id).await?;
    if c.status != CampaignStatus::Active {
        let mut model: campaign::ActiveModel = c.clone().into();
        apply_draft(&mut model, draft);
        model.updated_at = Set(now);
        model.revision = Set(c.revision + 1);
        model.pending = Set(None);
        model.pending_by = Set(None);
        model.pending_at = Set(None);
        if approval_needed(db, actor).await? {
            // An approval covers what the admin saw: a marketer's edit needs a new one.
            model.approved_by = Set(None);
            model.approved_at = Set(None);
        }
        model.update(db).await?;
        return Ok(Saved {
            id,
            pending: false,
            waiting_for: Vec::new(),
        });
    }
    // An active campaign: the changes wait until they are ready.
    let done = campaign::Entity::update_many()
        .col_expr(campaign::Column::Pending, Expr::value(draft.clone()))
        .col_expr(campaign::Column::PendingBy, Expr::value(actor.user_id()))
        .col_expr(campaign::Column::PendingAt, Expr::value(now))
        .col_expr(campaign::Column::UpdatedAt, Expr::value(now))
        .col_expr(campaign::Column::Revision, Expr::value(c.revision + 1))
        .filter(campaign::Column::Id.eq(id))
        .filter(campaign::Column::Revision.eq(c.revision))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(changed_meanwhile());
    }
    let mut waiting_for = draft_problems(db, actor.org_id(), draft, now).await?;
    if approval_needed(db, actor).await? {
        waiting_for.push(CHANGES_NEED_APPROVAL.into());
    }
    if waiting_for.is_empty() {
        apply_pending(db, actor.org_id(), id, c.revision + 1, now).await?;
    }
    Ok(Saved {
        id,
        pending: !waiting_for.is_empty(),
        waiting_for,
    })
}

fn changed_meanwhile() -> Error {
    Error::Invalid(
        "Someone changed this campaign a moment ago; reload it and check the changes again.".into(),
    )
}

/// The version each split's template sends from now on.
async fn split_versions(
    db: &impl ConnectionTrait,
    org_id: i64,
    settings: &crate::domain::campaign::Settings,
) -> Result<std::collections::BTreeMap<i64, i64>> {
    let mut out = std::collections::BTreeMap::new();
    for split in &settings.splits {
        if let std::collections::btree_map::Entry::Vacant(e) = out.entry(split.template_id) {
            e.insert(templates::current_version(db, org_id, split.template_id).await?);
        }
    }
    Ok(out)
}

/// Makes a checked pending revision live: its fields become the campaign's, with the template
/// version current now. Only if the campaign is still at `revision`.
async fn apply_pending(
    db: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
    revision: i32,
    now: DateTime<Utc>,
) -> Result<()> {
    let c = find(db, org_id, id).await?;
    let Some(draft) = c.pending.clone() else {
        return Ok(());
    };
    if c.revision != revision {
        return Err(changed_meanwhile());
    }
    let version = match draft.template_id {
        Some(t) => Some(templates::current_version(db, org_id, t).await?),
        None => None,
    };
    // A new trigger runs on its own schedule from now.
    let next_run = if draft.trigger != c.trigger {
        Some(crate::delivery::first_run(db, org_id, draft.trigger.as_ref(), now).await?)
    } else {
        None
    };
    let mut settings = draft.settings.clone();
    settings.split_versions = split_versions(db, org_id, &settings).await?;
    let mut model: campaign::ActiveModel = c.into();
    apply_draft(&mut model, &draft);
    model.settings = Set(settings);
    if let Some(next) = next_run {
        model.next_run_at = Set(next);
    }
    model.template_version_id = Set(version);
    model.pending = Set(None);
    model.pending_by = Set(None);
    model.pending_at = Set(None);
    model.updated_at = Set(now);
    model.revision = Set(revision + 1);
    let done = campaign::Entity::update_many()
        .set(model)
        .filter(campaign::Column::Id.eq(id))
        .filter(campaign::Column::Revision.eq(revision))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(changed_meanwhile());
    }
    Ok(())
}

/// Drops the pending changes of an active campaign; it keeps running as it is.
pub async fn discard_pending(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<()> {
    actor.require(Action::EditCampaigns)?;
    let c = find(db, actor.org_id(), id).await?;
    campaign::Entity::update_many()
        .col_expr(
            campaign::Column::Pending,
            Expr::value(Option::<Draft>::None),
        )
        .col_expr(
            campaign::Column::PendingBy,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(
            campaign::Column::PendingAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(campaign::Column::Revision, Expr::value(c.revision + 1))
        .filter(campaign::Column::Id.eq(c.id))
        .exec(db)
        .await?;
    Ok(())
}

/// A stored campaign as the builder edits it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loaded {
    /// The pending revision when there is one (that is what the user is editing), else the
    /// campaign as it runs.
    pub draft: Draft,
    pub status: CampaignStatus,
    pub approved: bool,
    /// Changes to the active campaign that are not live yet.
    pub pending: bool,
}

pub async fn load(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<Loaded> {
    actor.require(Action::ReadCampaigns)?;
    let c = find(db, actor.org_id(), id).await?;
    Ok(Loaded {
        pending: c.pending.is_some(),
        draft: c.pending.clone().unwrap_or_else(|| draft_of(&c)),
        status: c.status,
        approved: c.approved_at.is_some(),
    })
}

/// Every conflict of a draft with the organisation's active campaigns, with the number of
/// contacts each shares with it (counted within what the actor may see).
pub async fn conflicts(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Option<i64>,
    draft: &Draft,
    now: DateTime<Utc>,
) -> Result<Vec<Conflict>> {
    actor.require(Action::EditCampaigns)?;
    audience::check(&draft.audience)?;
    let scope = Scope::of(actor);
    let active = campaign::Entity::find()
        .filter(campaign::Column::OrgId.eq(actor.org_id()))
        .filter(campaign::Column::Status.eq(CampaignStatus::Active))
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
        let shape = CampaignFacts {
            id: Some(c.id),
            name: c.name.clone().unwrap_or_else(|| "Untitled".into()),
            message_type: c.message_type,
            channel: c.channel,
            template_id: c.template_id,
            trigger: c.trigger.clone(),
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
            of: vec![draft.audience.clone(), c.audience],
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
    // Overlaps count the contacts the draft would reach, not every contact of both audiences.
    let rule = ReachRule {
        message_type: draft.message_type,
        channel: draft.channel,
        suppression_list_ids: draft.settings.suppression_list_ids.clone(),
    };
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
            let rule = rule.clone();
            running.spawn(async move {
                candidate.overlap =
                    audience::reach::count_reachable_in(&db, scope, &both, &rule, now).await?;
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

/// What stops the campaign from being activated by `actor` now, in words.
pub async fn activation_problems(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    actor.require(Action::ReadCampaigns)?;
    let c = find(db, actor.org_id(), id).await?;
    problems_of(db, actor, &c, now).await
}

async fn problems_of(
    db: &impl ConnectionTrait,
    actor: &Actor,
    c: &campaign::Model,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    let mut out = draft_problems(db, actor.org_id(), &draft_of(c), now).await?;
    if let Some(wf) = &c.workflow {
        // A workflow's send steps name their templates.
        out.retain(|p| p != crate::domain::campaign::NO_TEMPLATE);
        out.extend(crate::workflows::manage::problems(db, c.org_id, wf).await?);
    }
    if c.approved_at.is_none() && approval_needed(db, actor).await? {
        out.push(APPROVAL_NEEDED.into());
    }
    Ok(out)
}

/// Activates a complete campaign, fixing the template version it sends. Answers the problems
/// instead when there are any. The campaign changes only if it is still the revision that was
/// checked.
pub async fn activate(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    actor.require(Action::ActivateCampaigns)?;
    let c = find(db, actor.org_id(), id).await?;
    activate_checked(db, actor, c, now).await
}

/// Activates `c` as loaded: refused when the stored campaign has moved on since.
pub async fn activate_checked(
    db: &DatabaseConnection,
    actor: &Actor,
    c: campaign::Model,
    now: DateTime<Utc>,
) -> Result<()> {
    actor.require(Action::ActivateCampaigns)?;
    if c.org_id != actor.org_id() {
        return Err(Error::NotFound("campaign"));
    }
    let problems = problems_of(db, actor, &c, now).await?;
    if !problems.is_empty() {
        return Err(Error::Invalid(problems.join(" ")));
    }
    references::check(db, actor.org_id(), &draft_of(&c).references()).await?;
    let version = match c.template_id {
        Some(t) => Some(templates::current_version(db, actor.org_id(), t).await?),
        None => None,
    };
    let mut settings = c.settings.clone();
    settings.split_versions = split_versions(db, actor.org_id(), &settings).await?;
    let next_run = crate::delivery::first_run(db, actor.org_id(), c.trigger.as_ref(), now).await?;
    // The status change and the send it starts commit together.
    let txn = db.begin().await?;
    let done = campaign::Entity::update_many()
        .col_expr(
            campaign::Column::Status,
            Expr::value(CampaignStatus::Active),
        )
        .col_expr(campaign::Column::ActivatedAt, Expr::value(now))
        .col_expr(campaign::Column::UpdatedAt, Expr::value(now))
        .col_expr(campaign::Column::NextRunAt, Expr::value(next_run))
        .col_expr(campaign::Column::TemplateVersionId, Expr::value(version))
        .col_expr(campaign::Column::Settings, Expr::value(settings))
        .col_expr(
            campaign::Column::DeactivatedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            campaign::Column::Revision,
            Expr::col(campaign::Column::Revision).add(1),
        )
        .filter(campaign::Column::Id.eq(c.id))
        .filter(campaign::Column::OrgId.eq(actor.org_id()))
        .filter(campaign::Column::Revision.eq(c.revision))
        .filter(campaign::Column::Status.is_in([CampaignStatus::Draft, CampaignStatus::Inactive]))
        .exec(&txn)
        .await?;
    if done.rows_affected == 1 && c.workflow.is_some() {
        // The workflow as it is now is what runs enter (runs in progress go on by it).
        let live = match c.workflow_version_id {
            Some(v) => crate::entity::workflow_version::Entity::find_by_id(v)
                .one(&txn)
                .await?
                .map(|v| v.definition),
            None => None,
        };
        if live.as_ref() != c.workflow.as_ref() {
            crate::workflows::manage::publish_in(
                &txn,
                &c,
                actor.user_id(),
                &Default::default(),
                now,
            )
            .await?;
        }
    }
    if done.rows_affected == 1 && c.trigger == Some(Trigger::Immediately) {
        let active = find(&txn, actor.org_id(), c.id).await?;
        let occurrence = format!("activation:{}", now.to_rfc3339());
        crate::delivery::start_send(&txn, &active, &occurrence, Targets::Audience, now).await?;
    }
    txn.commit().await?;
    if done.rows_affected == 0 {
        let now_stored = find(db, actor.org_id(), c.id).await?;
        return Err(if now_stored.revision != c.revision {
            changed_meanwhile()
        } else {
            Error::Invalid("The campaign is already active or has completed.".into())
        });
    }
    Ok(())
}

/// Stops an active campaign; it sends nothing more until activated again.
pub async fn deactivate(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    actor.require(Action::ActivateCampaigns)?;
    let done = campaign::Entity::update_many()
        .col_expr(
            campaign::Column::Status,
            Expr::value(CampaignStatus::Inactive),
        )
        .col_expr(campaign::Column::DeactivatedAt, Expr::value(now))
        .col_expr(
            campaign::Column::NextRunAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(campaign::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            campaign::Column::Revision,
            Expr::col(campaign::Column::Revision).add(1),
        )
        .filter(campaign::Column::Id.eq(id))
        .filter(campaign::Column::OrgId.eq(actor.org_id()))
        .filter(campaign::Column::Status.eq(CampaignStatus::Active))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        find(db, actor.org_id(), id).await?;
        return Err(Error::Invalid("The campaign is not active.".into()));
    }
    Ok(())
}

/// An admin approves a campaign: a draft for activation, or the pending changes of an active
/// campaign, which go live now if they pass the checks.
pub async fn approve(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    actor.require(Action::ApproveCampaigns)?;
    let c = find(db, actor.org_id(), id).await?;
    if let Some(pending) = &c.pending {
        let problems = draft_problems(db, actor.org_id(), pending, now).await?;
        if !problems.is_empty() {
            return Err(Error::Invalid(format!(
                "These changes cannot go live yet: {}",
                problems.join(" ")
            )));
        }
        references::check(db, actor.org_id(), &pending.references()).await?;
        apply_pending(db, actor.org_id(), c.id, c.revision, now).await?;
    }
    campaign::Entity::update_many()
        .col_expr(campaign::Column::ApprovedBy, Expr::value(actor.user_id()))
        .col_expr(campaign::Column::ApprovedAt, Expr::value(now))
        .filter(campaign::Column::Id.eq(c.id))
        .exec(db)
        .await?;
    Ok(())
}

/// Whether marketers' campaigns need an admin's approval.
pub async fn set_require_approval(db: &DatabaseConnection, actor: &Actor, on: bool) -> Result<()> {
    actor.require(Action::ManageSettings)?;
    organisation::Entity::update_many()
        .col_expr(organisation::Column::RequireApproval, Expr::value(on))
        .filter(organisation::Column::Id.eq(actor.org_id()))
        .exec(db)
        .await?;
    Ok(())
}
