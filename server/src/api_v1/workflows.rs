//! `/workflows`: campaigns that are a series of steps. Create one with its audience, trigger
//! and workflow; change the workflow (a draft until published); publish it (choosing, for the
//! people at steps the new version removes, a step to move them to or their exit); start,
//! pause and resume it; read its per-step numbers and who is at a step; end a contact's run.

use super::auth::ApiActor;
use super::error::{ApiError, ErrorBody, parse};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use herald_core::Herald;
use herald_core::campaigns::builder;
use herald_core::domain::CampaignKind;
use herald_core::domain::CampaignStatus;
use herald_core::domain::MessageType;
use herald_core::domain::audience::Filter;
use herald_core::domain::campaign::{Draft, Settings};
use herald_core::domain::trigger::Trigger;
use herald_core::domain::workflow::report::WorkflowReport;
use herald_core::domain::workflow::{Removal, Workflow};
use herald_core::workflows::manage::{self, Overdue};
use herald_core::workflows::report::{self, WaitingRun};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

fn path_id(id: Result<Path<i64>, PathRejection>) -> Result<i64, ApiError> {
    super::sending::path_id(id, "workflow")
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWorkflow {
    pub name: String,
    pub message_type: MessageType,
    /// The same filter tree `/audience/count` takes: who may enter.
    pub audience: Filter,
    /// What starts runs: `immediately`, `at`, `recurring`, `relative` (a record date), `event`,
    /// `segment_entered`.
    pub trigger: Trigger,
    /// `entry`, `steps` (each an `id` and a `type`: `send`, `wait`, `wait_until`,
    /// `wait_for_event`, `branch`, `random_split`, `update_contact`, `create_action`, `exit`,
    /// with its settings and `next`), and optionally `goal` (an event name), `key` (an event
    /// property that keys runs) and `leave_when_unmatched`.
    #[schema(value_type = Object)]
    pub workflow: Workflow,
    /// Follows from the trigger when left out.
    #[serde(default)]
    pub kind: Option<CampaignKind>,
    /// The sender, quiet periods, expiry and entry frequency (`once`, `every_time`,
    /// `at_most_every`), as a campaign's settings.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub settings: Option<Settings>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WorkflowCampaign {
    pub id: i64,
    pub name: String,
    pub status: CampaignStatus,
    /// The published version runs enter (none before the first is published).
    pub version: Option<i32>,
    /// The workflow being edited.
    #[schema(value_type = Object)]
    pub workflow: Option<Workflow>,
    /// What keeps the workflow being edited from being published, in words.
    pub problems: Vec<String>,
}

async fn answer(
    h: &Herald,
    actor: &herald_core::domain::access::Actor,
    id: i64,
) -> Result<WorkflowCampaign, ApiError> {
    let c = herald_core::workflows::manage::campaign(&h.db, actor, id).await?;
    let version = match c.workflow_version_id {
        Some(v) => herald_core::workflows::manage::version_number(&h.db, v).await?,
        None => None,
    };
    let problems = match &c.workflow {
        Some(wf) => manage::problems(&h.db, c.org_id, wf).await?,
        None => vec!["The campaign has no workflow.".into()],
    };
    Ok(WorkflowCampaign {
        id: c.id,
        name: c.name.unwrap_or_default(),
        status: c.status,
        version,
        workflow: c.workflow,
        problems,
    })
}

/// Create a workflow campaign (a draft: start it to let people in).
#[utoipa::path(
    post, path = "/workflows", tag = "workflows",
    request_body = NewWorkflow,
    responses(
        (status = 201, body = WorkflowCampaign),
        (status = 404, description = "A group or a segment is not the organisation's", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub(super) async fn create_workflow(
    State(h): State<Herald>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<WorkflowCampaign>), ApiError> {
    let new: NewWorkflow = parse(&headers, &body)?;
    let mut settings = new.settings.unwrap_or_default();
    if settings.from_email.trim().is_empty() {
        settings.from_email = h.settings.default_from.clone();
    }
    let kind = new.kind.unwrap_or(match new.trigger {
        Trigger::Immediately | Trigger::At { .. } => CampaignKind::OneTime,
        Trigger::Recurring { .. } => CampaignKind::Recurring,
        _ => CampaignKind::EventTriggered,
    });
    let draft = Draft {
        name: new.name,
        kind,
        message_type: new.message_type,
        audience: new.audience,
        trigger: Some(new.trigger),
        template_id: None,
        settings,
        ..Draft::default()
    };
    let saved = builder::save(&h.db, &actor, None, &draft, h.now()).await?;
    manage::save(&h.db, &actor, saved.id, new.workflow, h.now()).await?;
    Ok((
        StatusCode::CREATED,
        Json(answer(&h, &actor, saved.id).await?),
    ))
}

/// A workflow campaign: its status, published version, the workflow being edited and what
/// keeps it from being published.
#[utoipa::path(
    get, path = "/workflows/{id}", tag = "workflows",
    params(("id" = i64, Path, description = "The campaign's id")),
    responses((status = 200, body = WorkflowCampaign), (status = 404, body = ErrorBody))
)]
pub(super) async fn get_workflow(
    State(h): State<Herald>,
    ApiActor(actor): ApiActor,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<WorkflowCampaign>, ApiError> {
    let id = path_id(id)?;
    Ok(Json(answer(&h, &actor, id).await?))
}

/// Replace the workflow being edited. Runs go on by the published version until this one is
/// published.
#[utoipa::path(
    put, path = "/workflows/{id}", tag = "workflows",
    params(("id" = i64, Path, description = "The campaign's id")),
    request_body(content = Object, description = "The workflow, as in `POST /workflows`"),
    responses(
        (status = 200, body = WorkflowCampaign),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub(super) async fn edit_workflow(
    State(h): State<Herald>,
    ApiActor(actor): ApiActor,
    id: Result<Path<i64>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WorkflowCampaign>, ApiError> {
    let id = path_id(id)?;
    let wf: Workflow = parse(&headers, &body)?;
    manage::save(&h.db, &actor, id, wf, h.now()).await?;
    Ok(Json(answer(&h, &actor, id).await?))
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// For each removed step where people are now: `{"do": "move_to", "step": "…"}` or
    /// `{"do": "exit"}`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub removed: BTreeMap<String, Removal>,
}

/// Publish the workflow being edited as a new version; the people at removed steps move or
/// exit as `removed` says (422 names the steps without a choice).
#[utoipa::path(
    post, path = "/workflows/{id}/publish", tag = "workflows",
    params(("id" = i64, Path, description = "The campaign's id")),
    request_body = PublishRequest,
    responses(
        (status = 200, body = WorkflowCampaign),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub(super) async fn publish_workflow(
    State(h): State<Herald>,
    ApiActor(actor): ApiActor,
    id: Result<Path<i64>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WorkflowCampaign>, ApiError> {
    let id = path_id(id)?;
    let req: PublishRequest = if body.is_empty() {
        PublishRequest::default()
    } else {
        parse(&headers, &body)?
    };
    manage::publish(&h.db, &actor, id, &req.removed, h.now()).await?;
    Ok(Json(answer(&h, &actor, id).await?))
}

/// Start a workflow campaign (publishing the workflow first if it changed): its trigger lets
/// people in.
#[utoipa::path(
    post, path = "/workflows/{id}/start", tag = "workflows",
    params(("id" = i64, Path, description = "The campaign's id")),
    responses(
        (status = 200, body = WorkflowCampaign),
        (status = 404, body = ErrorBody),
        (status = 422, description = "Incomplete, already running, or needs approval", body = ErrorBody),
    )
)]
pub(super) async fn start_workflow(
    State(h): State<Herald>,
    ApiActor(actor): ApiActor,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<WorkflowCampaign>, ApiError> {
    let id = path_id(id)?;
    manage::campaign(&h.db, &actor, id).await?;
    builder::activate(&h.db, &actor, id, h.now()).await?;
    Ok(Json(answer(&h, &actor, id).await?))
}

/// Pause a workflow campaign: nobody enters, and every run stays where it is.
#[utoipa::path(
    post, path = "/workflows/{id}/pause", tag = "workflows",
    params(("id" = i64, Path, description = "The campaign's id")),
    responses(
        (status = 200, body = WorkflowCampaign),
        (status = 404, body = ErrorBody),
        (status = 422, description = "It is not running", body = ErrorBody),
    )
)]
pub(super) async fn pause_workflow(
    State(h): State<Herald>,
    ApiActor(actor): ApiActor,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<WorkflowCampaign>, ApiError> {
    let id = path_id(id)?;
    manage::campaign(&h.db, &actor, id).await?;
    builder::deactivate(&h.db, &actor, id, h.now()).await?;
    Ok(Json(answer(&h, &actor, id).await?))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResumeRequest {
    /// `send`: the messages that fell due while it was paused go now; `skip`: they are skipped
    /// and the runs go on.
    #[schema(value_type = String)]
    pub overdue: Overdue,
}

/// Resume a paused workflow campaign.
#[utoipa::path(
    post, path = "/workflows/{id}/resume", tag = "workflows",
    params(("id" = i64, Path, description = "The campaign's id")),
    request_body = ResumeRequest,
    responses(
        (status = 200, body = WorkflowCampaign),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub(super) async fn resume_workflow(
    State(h): State<Herald>,
    ApiActor(actor): ApiActor,
    id: Result<Path<i64>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WorkflowCampaign>, ApiError> {
    let id = path_id(id)?;
    let req: ResumeRequest = parse(&headers, &body)?;
    manage::resume(&h.db, &actor, id, req.overdue, h.now()).await?;
    Ok(Json(answer(&h, &actor, id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct StatsQuery {
    /// A version's id (from `versions`): its numbers only. All versions together when left out.
    pub version: Option<i64>,
}

/// The workflow's numbers, per step (entered, there now, went on, exited by reason, failed, the
/// share of each way out, a send step's messages) and for the whole workflow (entered, in
/// progress, completed, exited by reason, the goal and the conversion rate). Read from counters.
#[utoipa::path(
    get, path = "/workflows/{id}/stats", tag = "workflows",
    params(("id" = i64, Path, description = "The campaign's id"), StatsQuery),
    responses((status = 200, body = WorkflowReport), (status = 404, body = ErrorBody))
)]
pub(super) async fn workflow_stats(
    State(h): State<Herald>,
    ApiActor(actor): ApiActor,
    id: Result<Path<i64>, PathRejection>,
    q: Result<Query<StatsQuery>, QueryRejection>,
) -> Result<Json<WorkflowReport>, ApiError> {
    let id = path_id(id)?;
    let Query(q) =
        q.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_query", e.body_text()))?;
    Ok(Json(report::report(&h.db, &actor, id, q.version).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RunsQuery {
    /// At most this many (100 when left out, 500 at most).
    pub limit: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StepRuns {
    /// How many are at the step now.
    pub total: u64,
    /// The first of them, longest there first.
    #[schema(value_type = Vec<Object>)]
    pub runs: Vec<WaitingRun>,
}

/// Who is at a step now.
#[utoipa::path(
    get, path = "/workflows/{id}/steps/{step}/runs", tag = "workflows",
    params(
        ("id" = i64, Path, description = "The campaign's id"),
        ("step" = String, Path, description = "The step's id"),
        RunsQuery,
    ),
    responses((status = 200, body = StepRuns), (status = 404, body = ErrorBody))
)]
pub(super) async fn step_runs(
    State(h): State<Herald>,
    ApiActor(actor): ApiActor,
    path: Result<Path<(i64, String)>, PathRejection>,
    q: Result<Query<RunsQuery>, QueryRejection>,
) -> Result<Json<StepRuns>, ApiError> {
    let Path((id, step)) = path.map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_path",
            "The workflow id must be a number.",
        )
    })?;
    let Query(q) =
        q.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_query", e.body_text()))?;
    let (total, runs) = report::runs_at(&h.db, &actor, id, &step, q.limit.unwrap_or(100)).await?;
    Ok(Json(StepRuns { total, runs }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExitRequest {
    pub contact_id: i64,
    /// The run's key, for a keyed workflow (an invoice id).
    #[serde(default)]
    pub key: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Exited {
    /// Whether a run was in progress (and is now ended, reason `stopped`).
    pub exited: bool,
}

/// End a contact's run (by contact and key), wherever it is.
#[utoipa::path(
    post, path = "/workflows/{id}/exit", tag = "workflows",
    params(("id" = i64, Path, description = "The campaign's id")),
    request_body = ExitRequest,
    responses((status = 200, body = Exited), (status = 404, body = ErrorBody))
)]
pub(super) async fn exit_run(
    State(h): State<Herald>,
    ApiActor(actor): ApiActor,
    id: Result<Path<i64>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Exited>, ApiError> {
    let id = path_id(id)?;
    let req: ExitRequest = parse(&headers, &body)?;
    let exited =
        manage::exit_run(&h.db, &actor, id, req.contact_id, req.key.trim(), h.now()).await?;
    Ok(Json(Exited { exited }))
}
