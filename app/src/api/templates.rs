//! Templates: list, load, check as you type, save (versioned), preview for a real contact.
//! For admins and marketers.

use crate::api::audience::ContactSample;
use crate::error::AppError;
use herald_core::domain::template::{Content, Issue, Saved, Tag, TemplateInput, TemplateSummary};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

/// What the editor loads: the template (none for a new one) and the tags it may use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateEditor {
    pub template: Option<(TemplateInput, TemplateSummary)>,
    pub tags: Vec<Tag>,
    /// Contacts to preview with.
    pub contacts: Vec<ContactSample>,
}

/// A rendered preview, or why it could not be rendered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preview {
    pub subject: String,
    pub preheader: String,
    pub html: String,
    pub text: String,
    pub error: Option<String>,
}

#[server(endpoint = "list_templates")]
pub async fn list_templates() -> Result<Vec<TemplateSummary>, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::templates::list(&h.db, &actor, false).await?)
}

/// The editor's data; `id: None` for a new template.
#[server(endpoint = "template_editor")]
pub async fn get_template_editor(id: Option<i64>) -> Result<TemplateEditor, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    let template = match id {
        Some(id) => Some(herald_core::templates::get(&h.db, &actor, id).await?),
        None => None,
    };
    let attributes = herald_core::templates::known_attributes(&h.db, &actor).await?;
    let contacts = herald_core::audience::sample(
        &h.db,
        &actor,
        &herald_core::domain::audience::Filter::everyone(),
        chrono::Utc::now(),
        20,
    )
    .await?
    .into_iter()
    .map(|c| ContactSample {
        id: c.id,
        name: c.display_name(),
        email: c.email,
    })
    .collect();
    Ok(TemplateEditor {
        template,
        tags: herald_core::domain::template::tags(None, &attributes),
        contacts,
    })
}

/// Syntax errors and unknown tags, as the editor types.
#[server(endpoint = "check_template", input = Json)]
pub async fn check_template(input: TemplateInput) -> Result<Vec<Issue>, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    let attributes = herald_core::templates::known_attributes(&h.db, &actor).await?;
    Ok(herald_core::templates::check(&input, &attributes))
}

/// Creates or updates a template; refused with the syntax errors when a part does not parse.
#[server(endpoint = "save_template", input = Json)]
pub async fn save_template(id: Option<i64>, input: TemplateInput) -> Result<Saved, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    Ok(herald_core::templates::save(&h.db, &actor, id, &input).await?)
}

/// The content rendered for one of the organisation's contacts (or an example contact), with an
/// example of the trigger's record (`record`: "credential", "enrollment", …).
#[server(endpoint = "preview_template", input = Json)]
pub async fn preview_template(
    content: Content,
    contact_id: Option<i64>,
    record: Option<String>,
) -> Result<Preview, AppError> {
    let (h, actor) = super::ssr::require_actor().await?;
    // Rendering a preview is part of editing a template.
    actor
        .require(herald_core::domain::access::Action::EditTemplates)
        .map_err(herald_core::Error::from)?;
    let contact = match contact_id {
        Some(id) => Some(herald_core::contacts::find(&h.db, &actor, id).await?),
        None => None,
    };
    let org_name = actor.user().map(|u| u.org_name.clone()).unwrap_or_default();
    let context =
        herald_core::templates::preview_context(contact.as_ref(), &org_name, record.as_deref());
    Ok(match herald_core::templates::preview(&content, &context) {
        Ok(r) => Preview {
            subject: r.subject,
            preheader: r.preheader,
            html: r.html,
            text: r.text,
            error: None,
        },
        Err(e) => Preview {
            error: Some(e.to_string()),
            ..Preview::default()
        },
    })
}
