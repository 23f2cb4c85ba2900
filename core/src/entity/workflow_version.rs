use crate::domain::workflow::Workflow;
use sea_orm::entity::prelude::*;

/// A published workflow: immutable; runs name the version they are in.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "workflow_version")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub campaign_id: i64,
    /// 1, 2, … per campaign.
    pub version: i32,
    pub definition: Workflow,
    /// The template version each send step sends, by template id (JSON).
    pub template_versions: TemplateVersions,
    pub published_at: DateTimeUtc,
    pub published_by: Option<i64>,
}

/// Template id → the template version a workflow version's send steps send.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct TemplateVersions(pub std::collections::BTreeMap<i64, i64>);

impl ActiveModelBehavior for ActiveModel {}
