//! Templates: saved with a check (syntax errors refuse the save, unknown tags come back as
//! warnings), versioned (each change of content appends an immutable `template_version`, which
//! activated campaigns keep sending), and rendered for a preview with a real contact.

use crate::domain::template::{Content, Issue, Saved, TemplateInput, TemplateSummary, tags};
use crate::entity::{contact, template, template_version};
pub mod render;

use crate::domain::access::{Action, Actor};
use crate::entity::values::{Attributes, Variants};
use crate::{Error, Result};
use chrono::Utc;
use render::{RenderError, Rendered};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use std::collections::BTreeSet;

/// How many recent contacts are read to learn the custom attribute keys in use.
const ATTRIBUTE_SAMPLE: u64 = 2_000;

/// The custom attribute keys of an organisation's recent contacts: what the tag inserter
/// offers and the checker accepts as `contact.attributes.*`.
pub(crate) async fn attribute_keys(db: &impl ConnectionTrait, org_id: i64) -> Result<Vec<String>> {
    let rows: Vec<Attributes> = contact::Entity::find()
        .select_only()
        .column(contact::Column::Attributes)
        .filter(contact::Column::OrgId.eq(org_id))
        .filter(contact::Column::Attributes.ne(Attributes::default()))
        .order_by_desc(contact::Column::Id)
        .limit(ATTRIBUTE_SAMPLE)
        .into_tuple()
        .all(db)
        .await?;
    let mut keys = BTreeSet::new();
    for attributes in rows {
        keys.extend(attributes.0.into_keys());
    }
    Ok(keys.into_iter().collect())
}

/// The tags the actor's templates may use: contact fields, the organisation's custom
/// attributes, record fields and links.
pub async fn known_attributes(db: &impl ConnectionTrait, actor: &Actor) -> Result<Vec<String>> {
    actor.require(Action::ReadTemplates)?;
    attribute_keys(db, actor.org_id()).await
}

/// Every issue of the content and its variants, against the tags the organisation has.
pub fn check(input: &TemplateInput, attributes: &[String]) -> Vec<Issue> {
    check_for(input, attributes, None)
}

/// [`check`] for a campaign whose messages carry the fields of `record` (a record kind, or
/// `Some("")` when its trigger is timed on no record); `None` accepts any kind's.
pub fn check_for(input: &TemplateInput, attributes: &[String], record: Option<&str>) -> Vec<Issue> {
    let known = tags(record, attributes);
    let mut issues = render::check(&input.content, &known);
    for content in input.variants.values() {
        for issue in render::check(content, &known) {
            if !issues.contains(&issue) {
                issues.push(issue);
            }
        }
    }
    issues
}

fn invalid_input(input: &TemplateInput) -> Option<String> {
    if input.name.trim().is_empty() {
        return Some("Give the template a name.".into());
    }
    if input.language.trim().is_empty() {
        return Some("Say which language the template is written in.".into());
    }
    if input.content.subject.trim().is_empty() {
        return Some("Write a subject.".into());
    }
    if input.content.html.trim().is_empty() && input.content.text.trim().is_empty() {
        return Some("Write an HTML or a text body.".into());
    }
    if input.variants.contains_key(input.language.trim()) {
        return Some(format!(
            "The variant “{}” repeats the template's own language.",
            input.language.trim()
        ));
    }
    None
}

/// Creates (`id: None`) or updates a template. Refused with every syntax error, in words, when
/// any part does not parse; saved with warnings for unknown tags. A new version is written only
/// when the content changed.
pub async fn save(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Option<i64>,
    input: &TemplateInput,
) -> Result<Saved> {
    actor.require(Action::EditTemplates)?;
    let (org_id, user_id) = (actor.org_id(), actor.user_id());
    if let Some(msg) = invalid_input(input) {
        return Err(Error::Invalid(msg));
    }
    let attributes = attribute_keys(db, org_id).await?;
    let issues = check(input, &attributes);
    let syntax: Vec<String> = issues
        .iter()
        .filter(|i| i.blocks_saving())
        .map(Issue::describe)
        .collect();
    if !syntax.is_empty() {
        return Err(Error::Invalid(format!(
            "The template was not saved: {}",
            syntax.join("; ")
        )));
    }
    let variants = Variants(input.variants.clone());
    let content = input.content.clone();
    let now = Utc::now();
    let input = input.clone();
    let _writer = crate::db::write_lock(db).await;
    let txn = crate::db::begin_write(db).await?;
    let (head, changed) = match id {
        None => {
            let head = template::ActiveModel {
                org_id: Set(org_id),
                name: Set(input.name.trim().to_string()),
                kind: Set(input.kind.trim().to_string()),
                description: Set(input.description.clone()),
                language: Set(input.language.trim().to_string()),
                subject: Set(input.content.subject.clone()),
                preheader: Set(input.content.preheader.clone()),
                html_body: Set(input.content.html.clone()),
                text_body: Set(input.content.text.clone()),
                variants: Set(variants.clone()),
                version: Set(1),
                is_system: Set(false),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            (head, true)
        }
        Some(id) => {
            let old = find(&txn, org_id, id).await?;
            if old.is_system {
                return Err(Error::Forbidden(
                    "System templates are Herald's own and cannot be changed.".into(),
                ));
            }
            let changed = content_of(&old) != input.content
                || old.variants != variants
                || old.language != input.language.trim();
            let mut head: template::ActiveModel = old.clone().into();
            head.name = Set(input.name.trim().to_string());
            head.kind = Set(input.kind.trim().to_string());
            head.description = Set(input.description.clone());
            head.language = Set(input.language.trim().to_string());
            head.subject = Set(input.content.subject.clone());
            head.preheader = Set(input.content.preheader.clone());
            head.html_body = Set(input.content.html.clone());
            head.text_body = Set(input.content.text.clone());
            head.variants = Set(variants.clone());
            head.updated_at = Set(now);
            if changed {
                head.version = Set(old.version + 1);
            }
            (head.update(&txn).await?, changed)
        }
    };
    if changed {
        template_version::ActiveModel {
            org_id: Set(org_id),
            template_id: Set(head.id),
            number: Set(head.version),
            language: Set(head.language.clone()),
            content: Set(content),
            variants: Set(variants),
            created_by: Set(user_id),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(Saved {
        id: head.id,
        version: head.version,
        warnings: issues,
    })
}

async fn find(db: &impl ConnectionTrait, org_id: i64, id: i64) -> Result<template::Model> {
    template::Entity::find_by_id(id)
        .filter(template::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound("template"))
}

fn content_of(t: &template::Model) -> Content {
    Content {
        subject: t.subject.clone(),
        preheader: t.preheader.clone(),
        html: t.html_body.clone(),
        text: t.text_body.clone(),
    }
}

/// A template as its editor loads it.
pub async fn get(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> Result<(TemplateInput, TemplateSummary)> {
    actor.require(Action::ReadTemplates)?;
    get_in(db, actor.org_id(), id).await
}

/// [`get`] for an organisation already allowed.
pub(crate) async fn get_in(
    db: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
) -> Result<(TemplateInput, TemplateSummary)> {
    let t = find(db, org_id, id).await?;
    Ok((
        TemplateInput {
            name: t.name.clone(),
            kind: t.kind.clone(),
            description: t.description.clone(),
            language: t.language.clone(),
            content: content_of(&t),
            variants: t.variants.0.clone(),
        },
        summary(t),
    ))
}

fn summary(t: template::Model) -> TemplateSummary {
    let mut languages = vec![t.language.clone()];
    languages.extend(t.variants.0.keys().cloned());
    TemplateSummary {
        id: t.id,
        name: t.name,
        kind: t.kind,
        is_system: t.is_system,
        version: t.version,
        languages,
        updated_at: t.updated_at,
    }
}

/// The organisation's templates by name; `pickable` leaves out system templates.
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    pickable: bool,
) -> Result<Vec<TemplateSummary>> {
    actor.require(Action::ReadTemplates)?;
    let org_id = actor.org_id();
    let mut q = template::Entity::find()
        .filter(template::Column::OrgId.eq(org_id))
        .order_by_asc(template::Column::Name)
        .order_by_asc(template::Column::Id);
    if pickable {
        q = q.filter(template::Column::IsSystem.eq(false));
    }
    Ok(q.all(db).await?.into_iter().map(summary).collect())
}

/// The version a campaign sends: the row for the template's current version, written now if an
/// older row (made before versions existed, or by the demo) has none. Refuses system templates.
pub(crate) async fn current_version(
    db: &impl ConnectionTrait,
    org_id: i64,
    template_id: i64,
) -> Result<i64> {
    let t = find(db, org_id, template_id).await?;
    if t.is_system {
        return Err(Error::Invalid(
            "System templates are Herald's own mails and cannot be sent by a campaign.".into(),
        ));
    }
    let existing = template_version::Entity::find()
        .filter(template_version::Column::TemplateId.eq(t.id))
        .filter(template_version::Column::Number.eq(t.version))
        .one(db)
        .await?;
    if let Some(v) = existing {
        return Ok(v.id);
    }
    let content = content_of(&t);
    let v = template_version::ActiveModel {
        org_id: Set(org_id),
        template_id: Set(t.id),
        number: Set(t.version),
        language: Set(t.language.clone()),
        content: Set(content),
        variants: Set(t.variants.clone()),
        created_by: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(v.id)
}

/// The content of a stored version, in `language` when it has that variant.
pub async fn version_content(
    db: &impl ConnectionTrait,
    actor: &Actor,
    version_id: i64,
    language: &str,
) -> Result<Content> {
    actor.require(Action::ReadTemplates)?;
    let v = template_version::Entity::find_by_id(version_id)
        .filter(template_version::Column::OrgId.eq(actor.org_id()))
        .one(db)
        .await?
        .ok_or(Error::NotFound("template version"))?;
    if v.language != language
        && let Some(c) = v.variants.0.get(language)
    {
        return Ok(c.clone());
    }
    Ok(v.content)
}

/// The variables a preview renders with: a real contact (or an example one) and an example of
/// the record the trigger fires on.
pub fn preview_context(
    contact: Option<&contact::Model>,
    organisation: &str,
    record: Option<&str>,
) -> serde_json::Value {
    use serde_json::json;
    let contact = match contact {
        Some(c) => {
            let attributes = &c.attributes.0;
            json!({
                "first_name": c.first_name,
                "last_name": c.last_name,
                "name": format!("{} {}", c.first_name, c.last_name).trim().to_string(),
                "email": c.email.clone().unwrap_or_default(),
                "phone": c.phone.clone().unwrap_or_default(),
                "language": c.language,
                "time_zone": c.time_zone,
                "created_at": c.created_at.format("%Y-%m-%d").to_string(),
                "attributes": attributes,
            })
        }
        None => json!({
            "first_name": "Ada", "last_name": "Lovelace", "name": "Ada Lovelace",
            "email": "ada@example.org", "phone": "+441234567890", "language": "en",
            "time_zone": "Europe/London", "created_at": "2026-01-15", "attributes": {},
        }),
    };
    let today = Utc::now().date_naive();
    let day = |d: i64| {
        (today + chrono::Duration::days(d))
            .format("%Y-%m-%d")
            .to_string()
    };
    let record = match record.unwrap_or("credential") {
        "enrollment" => {
            json!({"course": "Workplace Safety", "category": "Safety", "trainer": "J. Doe",
            "starts_at": day(14), "ends_at": day(44)})
        }
        "booking" => json!({"starts_at": day(7)}),
        "pass" => json!({"valid_from": day(-30), "valid_to": day(335)}),
        "subscription" => {
            json!({"status": "active", "period_start": day(-10), "period_end": day(20)})
        }
        "order" => json!({"ordered_at": day(-1), "amount": "49.00"}),
        _ => json!({"name": "Certified Data Steward", "collection": "Data Stewardship",
            "published_at": day(-335), "renewed_at": day(-335), "expires_at": day(30)}),
    };
    json!({
        "contact": contact,
        "record": record,
        "organisation": {"name": organisation},
        "unsubscribe_url": "https://herald.invalid/preview/unsubscribe",
        "view_in_browser_url": "https://herald.invalid/preview/view",
    })
}

/// Renders content for the preview pane.
pub fn preview(content: &Content, context: &serde_json::Value) -> Result<Rendered, RenderError> {
    render::render(content, context)
}
