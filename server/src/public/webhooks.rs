//! Provider webhooks: signed notices about messages already handed over.
//!
//! - `POST /webhooks/ses`: Amazon SES events through SNS. The SNS signature is verified
//!   (versions 1 and 2, the certificate from an `sns.<region>.amazonaws.com` URL or
//!   `HERALD_SNS_CERT_DIR`), the message must be fresh and for a topic Herald was told about
//!   (`HERALD_SES_TOPIC_ARNS`, or an organisation's SES settings): AWS signs any topic's
//!   messages, including an attacker's own. SNS posts JSON as `text/plain`; any content type is
//!   read. Subscription confirmations are confirmed by a job. Each notification is applied once.
//! - `POST /webhooks/sms`: Twilio-style delivery receipts, authenticated by
//!   `X-Twilio-Signature` with the token of the provider that sent the message.
//!
//! Anything unsigned, forged, stale or for an unknown topic gets a 4xx and changes nothing; a
//! certificate that cannot be fetched now gets a 503 (SNS tries again).

use crate::http::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use herald_core::delivery::events::{self, Applied, Notice, ProviderNotice};
use herald_core::entity::{message, sending_config};
use herald_core::webhooks::ses::{self, SesEventKind};
use herald_core::webhooks::sns::{self, CertStore, SnsKind};
use herald_core::webhooks::twilio::{self, SmsStatus};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

/// What `/webhooks/ses` verifies with.
#[derive(Debug)]
pub struct Sns {
    pub certs: CertStore,
    /// Topics accepted for the whole instance.
    pub topics: Vec<String>,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/ses", post(ses_events))
        .route("/webhooks/sms", post(sms_receipt))
        .layer(DefaultBodyLimit::max(sns::MAX_BODY))
}

fn refuse(status: StatusCode, why: &str) -> Response {
    (status, why.to_owned()).into_response()
}

/// Whether `arn` is a topic this instance or one of its organisations subscribed to.
async fn accepted_topic(state: &AppState, arn: &str) -> Result<bool, sea_orm::DbErr> {
    if state.sns.topics.iter().any(|t| t == arn) {
        return Ok(true);
    }
    Ok(sending_config::Entity::find()
        .filter(sending_config::Column::SesTopicArn.eq(arn))
        .count(&state.herald.db)
        .await?
        > 0)
}

async fn ses_events(State(state): State<AppState>, body: Bytes) -> Response {
    let h = &state.herald;
    let m = match sns::verify(&state.sns.certs, &body, h.now()).await {
        Ok(m) => m,
        Err(e) if e.is_retryable() => {
            tracing::warn!(error = %e, "SNS: certificate unavailable");
            return refuse(StatusCode::SERVICE_UNAVAILABLE, "Try again later.");
        }
        Err(e) => {
            tracing::warn!(error = %e, "SNS: refused a message");
            let status = match e {
                sns::SnsError::BadSignature | sns::SnsError::BadCert(_) => StatusCode::FORBIDDEN,
                _ => StatusCode::BAD_REQUEST,
            };
            return refuse(status, &e.to_string());
        }
    };
    match accepted_topic(&state, &m.topic_arn).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(topic = %m.topic_arn, "SNS: a message for a topic Herald does not know");
            return refuse(StatusCode::FORBIDDEN, "Unknown topic.");
        }
        Err(e) => {
            tracing::error!(error = %e, "SNS: reading the topics failed");
            return refuse(StatusCode::SERVICE_UNAVAILABLE, "Try again later.");
        }
    }
    match m.kind {
        SnsKind::SubscriptionConfirmation => {
            let job = events::ConfirmSubscription {
                topic: m.topic_arn.clone(),
                url: m.subscribe_url.clone().unwrap_or_default(),
            };
            match herald_core::jobs::enqueue(&h.db, h.now(), &job).await {
                Ok(_) => (StatusCode::OK, "Confirming.").into_response(),
                Err(e) => {
                    tracing::error!(error = %e, "SNS: queueing the confirmation failed");
                    refuse(StatusCode::SERVICE_UNAVAILABLE, "Try again later.")
                }
            }
        }
        SnsKind::UnsubscribeConfirmation => {
            tracing::warn!(topic = %m.topic_arn, "SNS: the subscription was removed");
            (StatusCode::OK, "Noted.").into_response()
        }
        SnsKind::Notification => {
            let event = match ses::parse(&m.message) {
                Ok(e) => e,
                Err(e) => {
                    // Signed by AWS for our topic but not an SES event: nothing to do, and
                    // nothing SNS should send again.
                    tracing::warn!(error = %e, "SNS: a notification that is not an SES event");
                    return (StatusCode::OK, "Ignored.").into_response();
                }
            };
            let notice = match event.kind {
                SesEventKind::Send => Notice::Sent,
                SesEventKind::Delivery => Notice::Delivered,
                SesEventKind::Bounce { permanent } => Notice::Bounced { permanent },
                SesEventKind::Complaint => Notice::Complained,
                SesEventKind::Reject | SesEventKind::RenderingFailure => Notice::Failed,
                SesEventKind::DeliveryDelay => Notice::Delayed,
                // Herald counts opens and clicks itself; SES's would count them twice.
                _ => return (StatusCode::OK, "Ignored.").into_response(),
            };
            let notice = ProviderNotice {
                message_id: event.herald_message_id,
                provider_message_id: Some(event.ses_message_id.clone()),
                notice,
                at: event.at.unwrap_or(m.timestamp),
                detail: event.detail.clone(),
            };
            match events::apply(h, "sns", &m.message_id, &notice).await {
                Ok(applied) => {
                    tracing::debug!(?applied, "SES event");
                    (StatusCode::OK, "OK").into_response()
                }
                Err(e) => {
                    tracing::error!(error = %e, "SES event: applying it failed");
                    refuse(StatusCode::SERVICE_UNAVAILABLE, "Try again later.")
                }
            }
        }
    }
}

/// The form fields of a receipt, in order, at most 64 (a receipt has about 20).
fn form_fields(body: &[u8]) -> Option<Vec<(String, String)>> {
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    (fields.len() <= 64).then_some(fields)
}

async fn sms_receipt(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let h = &state.herald;
    let Some(fields) = form_fields(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "Not a form.");
    };
    let field = |k: &str| {
        fields
            .iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.as_str())
    };
    let Some(signature) = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty())
    else {
        return refuse(StatusCode::FORBIDDEN, "Unsigned.");
    };
    let Some(sid) = field("MessageSid")
        .or(field("SmsSid"))
        .filter(|s| !s.is_empty())
    else {
        return refuse(StatusCode::BAD_REQUEST, "No message id.");
    };
    // The message names the provider whose token signed the receipt.
    let m = match message::Entity::find()
        .filter(message::Column::ProviderMessageId.eq(sid))
        .one(&h.db)
        .await
    {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(error = %e, "SMS receipt: reading the message failed");
            return refuse(StatusCode::SERVICE_UNAVAILABLE, "Try again later.");
        }
    };
    let Some(m) = m else {
        return refuse(StatusCode::FORBIDDEN, "Unknown message.");
    };
    let token = match herald_core::delivery::sending::routes(h, m.org_id).await {
        Ok(routes) => routes
            .sms
            .as_ref()
            .and_then(|p| p.sms_token().map(str::to_owned)),
        Err(e) => {
            tracing::error!(error = %e, "SMS receipt: reading the provider failed");
            return refuse(StatusCode::SERVICE_UNAVAILABLE, "Try again later.");
        }
    };
    let url = format!(
        "{}{}",
        h.settings.public_url,
        uri.path_and_query().map_or("/webhooks/sms", |p| p.as_str())
    );
    if !token.is_some_and(|t| twilio::verify(&t, &url, &fields, signature)) {
        tracing::warn!("SMS receipt: the signature does not verify");
        return refuse(StatusCode::FORBIDDEN, "The signature does not verify.");
    }
    let status = twilio::parse_status(field("MessageStatus").or(field("SmsStatus")).unwrap_or(""));
    let notice = match status {
        SmsStatus::Delivered => Notice::Delivered,
        SmsStatus::Undelivered | SmsStatus::Failed => Notice::Failed,
        SmsStatus::Sent => Notice::Sent,
        _ => return (StatusCode::OK, "Noted.").into_response(),
    };
    let detail = match (field("ErrorCode"), field("ErrorMessage")) {
        (Some(code), Some(text)) => format!("SMS error {code}: {text}"),
        (Some(code), None) => format!("SMS error {code}"),
        (None, Some(text)) => text.to_owned(),
        (None, None) => String::new(),
    };
    let notice = ProviderNotice {
        message_id: Some(m.id),
        provider_message_id: Some(sid.to_owned()),
        notice,
        at: h.now(),
        detail,
    };
    // A receipt has no id of its own: the message and its status stand for it.
    let receipt = format!(
        "{sid}:{}",
        field("MessageStatus").unwrap_or("").to_lowercase()
    );
    match events::apply(h, "sms", &receipt, &notice).await {
        Ok(Applied::Changed { .. } | Applied::Ignored | Applied::Repeat | Applied::Unknown) => {
            (StatusCode::OK, "OK").into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "SMS receipt: applying it failed");
            refuse(StatusCode::SERVICE_UNAVAILABLE, "Try again later.")
        }
    }
}
