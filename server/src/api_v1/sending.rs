//! `/templates`, `/campaigns` and `/messages`: sending through the API. A campaign takes the
//! same audience and trigger JSON the builder and `/audience/count` use; activation starts it
//! exactly as the builder's does; `/messages` sends one template to one contact now.

use super::auth::ApiActor;
use super::error::{ApiError, ErrorBody, parse};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use herald_core::Herald;
use herald_core::campaigns::builder;
use herald_core::delivery::outbox;
use herald_core::domain::audience::Filter;
use herald_core::domain::campaign::{Draft, Settings};
use herald_core::domain::template::{Content, TemplateInput};
use herald_core::domain::trigger::Trigger;
use herald_core::domain::{
    CampaignKind, CampaignStatus, Channel, DeliveryState, MessageType, SkipReason,
};
use herald_core::entity::message;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

pub(super) fn path_id(id: Result<Path<i64>, PathRejection>, what: &str) -> Result<i64, ApiError> {
    id.map(|Path(id)| id).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_path",
            format!("The {what} id must be a number."),
        )
    })
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTemplate {
    pub name: String,
    pub subject: String,
    pub html: String,
    #[serde(default)]
    pub text: String,
    /// Language code of the content; `en` when left out.
    #[serde(default)]
    pub language: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedTemplate {
    pub id: i64,
    pub name: String,
}

/// Create an email template (subject, HTML and text, with `{{ contact.first_name }}` tags).
#[utoipa::path(
    post, path = "/templates", tag = "sending",
    request_body = NewTemplate,
    responses(
        (status = 201, body = CreatedTemplate),
        (status = 422, description = "A name is missing or the template does not parse", body = ErrorBody),
    )
)]
pub(super) async fn create_template(
    State(h): State<Herald>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<CreatedTemplate>), ApiError> {
    let new: NewTemplate = parse(&headers, &body)?;
    let input = TemplateInput {
        name: new.name.clone(),
        kind: String::new(),
        description: String::new(),
        language: new.language.unwrap_or_else(|| "en".into()),
        content: Content {
            subject: new.subject,
            html: new.html,
            text: new.text,
            preheader: String::new(),
        },
        variants: BTreeMap::new(),
    };
    let saved = herald_core::templates::save(&h.db, &actor, None, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedTemplate {
            id: saved.id,
            name: new.name,
        }),
    ))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCampaign {
    pub name: String,
    pub message_type: MessageType,
    /// `email` when left out.
    #[serde(default)]
    pub channel: Option<Channel>,
    pub template_id: i64,
    /// The same filter tree `/audience/count` takes.
    pub audience: Filter,
    pub trigger: Trigger,
    /// Follows from the trigger when left out.
    #[serde(default)]
    pub kind: Option<CampaignKind>,
    /// Sender, priority (1 to 5), quiet periods, expiry, frequency, seed and suppression
    /// lists, as the builder's general settings. The sender defaults to the instance's
    /// default address.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub settings: Option<Settings>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Campaign {
    pub id: i64,
    pub name: String,
    pub status: CampaignStatus,
    pub message_type: MessageType,
    pub channel: Channel,
    /// When it sends, in words.
    pub trigger: Option<String>,
    /// When the scheduler next runs it.
    pub next_run_at: Option<DateTime<Utc>>,
    pub activated_at: Option<DateTime<Utc>>,
    /// Messages per state (`queued`, `sending`, `sent`, `delivered`, `bounced`, `complained`,
    /// `failed`, `skipped`), seed copies left out.
    pub messages: BTreeMap<String, u64>,
}

async fn campaign_answer(
    h: &Herald,
    actor: &herald_core::domain::access::Actor,
    id: i64,
) -> Result<Campaign, ApiError> {
    let d = herald_core::campaigns::get(&h.db, actor, id, h.settings.daily_run_at, h.now()).await?;
    Ok(Campaign {
        id,
        name: d.summary.display_name().to_owned(),
        status: d.summary.status,
        message_type: d.summary.message_type,
        channel: d.summary.channel,
        trigger: d.trigger,
        next_run_at: d.next_run_at,
        activated_at: d.activated_at,
        messages: outbox::state_counts(&h.db, actor, id).await?,
    })
}

/// Create a campaign (a draft: activate it to send).
#[utoipa::path(
    post, path = "/campaigns", tag = "sending",
    request_body = NewCampaign,
    responses(
        (status = 201, body = Campaign),
        (status = 404, description = "The template, a group or a segment is not the organisation's", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub(super) async fn create_campaign(
    State(h): State<Herald>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Campaign>), ApiError> {
    let new: NewCampaign = parse(&headers, &body)?;
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
        channel: new.channel.unwrap_or(Channel::Email),
        audience: new.audience,
        trigger: Some(new.trigger),
        template_id: Some(new.template_id),
        settings,
        ..Draft::default()
    };
    let saved = builder::save(&h.db, &actor, None, &draft, h.now()).await?;
    Ok((
        StatusCode::CREATED,
        Json(campaign_answer(&h, &actor, saved.id).await?),
    ))
}

/// A campaign with its numbers per state.
#[utoipa::path(
    get, path = "/campaigns/{id}", tag = "sending",
    params(("id" = i64, Path, description = "The campaign's id")),
    responses((status = 200, body = Campaign), (status = 404, body = ErrorBody))
)]
pub(super) async fn get_campaign(
    State(h): State<Herald>,
    ApiActor(actor): ApiActor,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<Campaign>, ApiError> {
    let id = path_id(id, "campaign")?;
    Ok(Json(campaign_answer(&h, &actor, id).await?))
}

/// Activate a campaign: an immediate one starts sending, the others wait for their trigger.
#[utoipa::path(
    post, path = "/campaigns/{id}/activate", tag = "sending",
    params(("id" = i64, Path, description = "The campaign's id")),
    responses(
        (status = 200, body = Campaign),
        (status = 404, body = ErrorBody),
        (status = 422, description = "The campaign is incomplete, already active or needs approval", body = ErrorBody),
    )
)]
pub(super) async fn activate_campaign(
    State(h): State<Herald>,
    ApiActor(actor): ApiActor,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<Campaign>, ApiError> {
    let id = path_id(id, "campaign")?;
    builder::activate(&h.db, &actor, id, h.now()).await?;
    Ok(Json(campaign_answer(&h, &actor, id).await?))
}

/// Deactivate a campaign: it sends nothing more until activated again.
#[utoipa::path(
    post, path = "/campaigns/{id}/deactivate", tag = "sending",
    params(("id" = i64, Path, description = "The campaign's id")),
    responses(
        (status = 200, body = Campaign),
        (status = 404, body = ErrorBody),
        (status = 422, description = "The campaign is not active", body = ErrorBody),
    )
)]
pub(super) async fn deactivate_campaign(
    State(h): State<Herald>,
    ApiActor(actor): ApiActor,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<Campaign>, ApiError> {
    let id = path_id(id, "campaign")?;
    builder::deactivate(&h.db, &actor, id, h.now()).await?;
    Ok(Json(campaign_answer(&h, &actor, id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageParams {
    /// Only messages in this state.
    pub state: Option<DeliveryState>,
    /// Messages after this id (the previous page's `next_after`).
    pub after: Option<i64>,
    /// At most this many (1 to 1,000; 100 when left out).
    pub limit: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub id: i64,
    pub contact_id: Option<i64>,
    pub recipient: String,
    pub state: DeliveryState,
    pub skip_reason: Option<SkipReason>,
    /// A seed copy (left out of the numbers).
    pub seed: bool,
    pub error: Option<String>,
    pub attempts: i32,
    pub queued_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub provider_message_id: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub bounced_at: Option<DateTime<Utc>>,
    /// `permanent` or `transient` (a soft bounce).
    pub bounce_type: Option<herald_core::domain::BounceType>,
    pub complained_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    pub unsubscribed_at: Option<DateTime<Utc>>,
    /// Every open (machines' included) and when the first and last were.
    pub opens: i32,
    pub first_opened_at: Option<DateTime<Utc>>,
    pub last_opened_at: Option<DateTime<Utc>>,
    /// The first open that did not look like a privacy proxy's or a scanner's.
    pub human_opened_at: Option<DateTime<Utc>>,
    pub clicks: i32,
    pub first_clicked_at: Option<DateTime<Utc>>,
    pub last_clicked_at: Option<DateTime<Utc>>,
    pub human_clicked_at: Option<DateTime<Utc>>,
}

impl From<message::Model> for Message {
    fn from(m: message::Model) -> Self {
        Message {
            id: m.id,
            contact_id: m.contact_id,
            recipient: m.recipient,
            state: m.state,
            skip_reason: m.skip_reason,
            seed: m.seed,
            error: m.error,
            attempts: m.attempts,
            queued_at: m.queued_at,
            sent_at: m.sent_at,
            provider_message_id: m.provider_message_id,
            delivered_at: m.delivered_at,
            bounced_at: m.bounced_at,
            bounce_type: m.bounce_type,
            complained_at: m.complained_at,
            failed_at: m.failed_at,
            unsubscribed_at: m.unsubscribed_at,
            opens: m.opens,
            first_opened_at: m.first_opened_at,
            last_opened_at: m.last_opened_at,
            human_opened_at: m.human_opened_at,
            clicks: m.clicks,
            first_clicked_at: m.first_clicked_at,
            last_clicked_at: m.last_clicked_at,
            human_clicked_at: m.human_clicked_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MessagePage {
    pub messages: Vec<Message>,
    /// Pass as `after` for the next page; absent on the last one.
    pub next_after: Option<i64>,
}

/// One run of a campaign and its numbers.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RunStats {
    pub send_id: i64,
    pub started_at: DateTime<Utc>,
    pub stats: herald_core::domain::DeliveryStats,
}

/// A campaign's delivery and engagement numbers, and those of its latest runs.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CampaignStats {
    pub campaign_id: i64,
    pub stats: herald_core::domain::DeliveryStats,
    /// The latest 50 runs, newest first.
    pub runs: Vec<RunStats>,
}

/// A campaign's numbers: recipients, sent, delivered, bounced (soft among them), complained,
/// failed, unsubscribed, opened and clicked (unique, with the estimate of those by people, and
/// the totals); the same for each of its latest runs. Kept up to date as messages change.
#[utoipa::path(
    get, path = "/campaigns/{id}/stats", tag = "sending",
    params(("id" = i64, Path, description = "The campaign's id")),
    responses((status = 200, body = CampaignStats), (status = 404, body = ErrorBody))
)]
pub(super) async fn campaign_stats(
    State(h): State<Herald>,
    ApiActor(actor): ApiActor,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<CampaignStats>, ApiError> {
    let id = path_id(id, "campaign")?;
    let stats = herald_core::reports::live(&h.db, &actor, id).await?;
    let runs = herald_core::reports::runs(&h.db, &actor, id, 50).await?;
    Ok(Json(CampaignStats {
        campaign_id: id,
        stats,
        runs: runs
            .into_iter()
            .map(|r| RunStats {
                send_id: r.send_id,
                started_at: r.started_at,
                stats: r.stats,
            })
            .collect(),
    }))
}

/// A campaign's tracked links with their clicks (all, unique per message, and unique by
/// people), most clicked first.
#[utoipa::path(
    get, path = "/campaigns/{id}/links", tag = "sending",
    params(("id" = i64, Path, description = "The campaign's id")),
    responses((status = 200, body = Vec<herald_core::domain::reports::LinkRow>), (status = 404, body = ErrorBody))
)]
pub(super) async fn campaign_links(
    State(h): State<Herald>,
    ApiActor(actor): ApiActor,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<Vec<herald_core::domain::reports::LinkRow>>, ApiError> {
    let id = path_id(id, "campaign")?;
    Ok(Json(herald_core::reports::links(&h.db, &actor, id).await?))
}

/// A campaign's messages with their results (delivery, bounces, opens, clicks), a page at a
/// time, oldest first.
#[utoipa::path(
    get, path = "/campaigns/{id}/messages", tag = "sending",
    params(("id" = i64, Path, description = "The campaign's id"), MessageParams),
    responses((status = 200, body = MessagePage), (status = 404, body = ErrorBody))
)]
pub(super) async fn list_messages(
    State(h): State<Herald>,
    ApiActor(actor): ApiActor,
    id: Result<Path<i64>, PathRejection>,
    params: Result<Query<MessageParams>, QueryRejection>,
) -> Result<Json<MessagePage>, ApiError> {
    let id = path_id(id, "campaign")?;
    let Query(p) = params
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_query", e.body_text()))?;
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_query",
            "limit must be from 1 to 1000.",
        ));
    }
    let rows = outbox::messages(&h.db, &actor, id, p.state, p.after.unwrap_or(0), limit).await?;
    let next_after = (rows.len() as u64 == limit)
        .then(|| rows.last().map(|m| m.id))
        .flatten();
    Ok(Json(MessagePage {
        messages: rows.into_iter().map(Into::into).collect(),
        next_after,
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    pub template_id: i64,
    /// The contact, by id or by address (one of the two).
    #[serde(default)]
    pub contact_id: Option<i64>,
    #[serde(default)]
    pub email: Option<String>,
    /// `operational` (receipts, password resets: sent whatever the marketing consent) when
    /// left out.
    #[serde(default)]
    pub message_type: Option<MessageType>,
}

/// Send one template to one contact now (transactional). With an `Idempotency-Key`, a repeated
/// request answers the same message and sends nothing twice. Suppressed addresses are never
/// sent to; the answer says when a message was skipped and why.
#[utoipa::path(
    post, path = "/messages", tag = "sending",
    request_body = NewMessage,
    params(("Idempotency-Key" = Option<String>, Header, description = "The same key answers the same message.")),
    responses(
        (status = 202, description = "Queued (or skipped, with the reason)", body = Message),
        (status = 404, description = "No such template or contact", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub(super) async fn send_message(
    State(h): State<Herald>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let new: NewMessage = parse(&headers, &body)?;
    let contact_id = match (new.contact_id, new.email.as_deref()) {
        (Some(id), None) => id,
        (None, Some(email)) => outbox::contact_id_by_email(&h.db, &actor, email).await?,
        _ => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "Name the contact by contact_id or by email (one of the two).",
            ));
        }
    };
    let key = match headers.get("idempotency-key") {
        Some(v) => match v.to_str() {
            Ok(k) if !k.trim().is_empty() && k.len() <= 200 => k.trim().to_owned(),
            _ => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid",
                    "Idempotency-Key must be 1 to 200 visible ASCII characters.",
                ));
            }
        },
        None => format!(
            "auto:{:016x}{:016x}",
            rand::random::<u64>(),
            rand::random::<u64>()
        ),
    };
    let m = outbox::send_one(
        &h.db,
        &actor,
        new.template_id,
        contact_id,
        new.message_type.unwrap_or(MessageType::Operational),
        &key,
        &h.settings.default_from,
        h.now(),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(m.into())))
}
